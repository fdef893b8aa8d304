"""Litigation tracker: a shared record of strategic litigation for a network of organisations."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The only place blueprints and extensions are wired."""
    from tracker.config import build_config

    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=os.environ.get("TRACKER_INSTANCE_PATH") or None,
        instance_relative_config=True,
    )
    app.config.update(build_config(Path(app.instance_path), config))
    logging.basicConfig(level=app.config["LOG_LEVEL"])

    from tracker.security import BoundedIntConverter

    # Before any blueprint adds its rules: every `<int:...>` in the app is bounded.
    app.url_map.converters["int"] = BoundedIntConverter

    _trust_proxies(app)
    _warn_about_memory_counters(app)
    _init_extensions(app)
    _register_blueprints(app)

    from tracker import security, templating

    security.init_app(app)
    templating.init_app(app)

    from tracker.cli import register_commands

    register_commands(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind TRACKER_PROXY_COUNT reverse proxies, take the client's address, scheme and host
    from their X-Forwarded-* headers, so rate limits, sessions and the audit trail see the
    client and not the proxy. Without proxies those headers are ignored: anyone can send them.
    """
    count = app.config["PROXY_COUNT"]
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def _warn_about_memory_counters(app: Flask) -> None:
    # Production allows memory:// only with TRACKER_SINGLE_PROCESS (tracker.config refuses it
    # otherwise): say so loudly at every start, so nobody adds workers without noticing.
    if app.config["TRACKER_ENV"] == "production" and app.config["RATELIMIT_STORAGE_URI"].startswith(
        "memory://"
    ):
        app.logger.warning(
            "Rate limits and the TOTP replay guard are kept in this process's memory "
            "(TRACKER_RATELIMIT_STORAGE_URI=memory://): run exactly one worker."
        )


def _init_extensions(app: Flask) -> None:
    from tracker import models  # noqa: F401  (every table on the metadata)
    from tracker.extensions import (
        babel,
        configure_sqlite,
        csrf,
        db,
        limiter,
        login_manager,
        migrate,
    )
    from tracker.i18n import select_locale

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)


BLUEPRINTS = (
    ("main", None),
    ("auth", None),
    ("admin", "/admin"),
    ("taxonomy", "/taxonomy"),
    ("cases", "/cases"),
    ("documents", "/documents"),
    ("search", "/search"),
    ("pleadings", "/pleadings"),
    ("patterns", "/patterns"),
    ("reports", "/reports"),
    ("api", "/api/v1"),
)


def _register_blueprints(app: Flask) -> None:
    import importlib

    for area, prefix in BLUEPRINTS:
        module = importlib.import_module(f"tracker.{area}")
        app.register_blueprint(module.bp, url_prefix=prefix)
