"""Litigation tracker: a shared record of strategic litigation for a network of organisations."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent


def _asset_dir(name: str) -> Path:
    """templates/, static/ or migrations/: inside the package in an installed wheel (see
    pyproject.toml), else beside it, at the top of a checkout or an editable install."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PROJECT_ROOT / name


TEMPLATES_DIR = _asset_dir("templates")
STATIC_DIR = _asset_dir("static")
MIGRATIONS_DIR = _asset_dir("migrations")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The only place blueprints and extensions are wired."""
    from tracker.config import build_config

    app = Flask(
        __name__,
        template_folder=str(TEMPLATES_DIR),
        static_folder=str(STATIC_DIR),
        instance_path=os.environ.get("TRACKER_INSTANCE_PATH") or None,
        instance_relative_config=True,
    )
    app.config.update(build_config(Path(app.instance_path), config))
    logging.basicConfig(level=app.config["LOG_LEVEL"])

    from tracker.security import BoundedIntConverter

    # Before any blueprint adds its rules: every `<int:...>` in the app is bounded.
    app.url_map.converters["int"] = BoundedIntConverter

    _private_instance(app)
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


def _sqlite_file(app: Flask) -> Path | None:
    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:"):
        return None  # a URI filename: SQLite's own business
    return Path(url.database).resolve()


def _private_instance(app: Flask) -> None:
    """The instance folder holds the deployment's private data (the SQLite file, uploaded
    documents, the development secret key): when the app creates it, it is 0700, and a new
    SQLite file is 0600 (SQLite gives its -wal and -shm files the same mode)."""
    instance = Path(app.instance_path).resolve()
    db_file = _sqlite_file(app)
    uploads = Path(app.config["UPLOAD_DIR"]).resolve()
    if not instance.exists() and (
        (db_file is not None and instance in db_file.parents) or instance in uploads.parents
    ):
        instance.mkdir(mode=0o700, parents=True)
    if db_file is not None and not db_file.exists() and db_file.parent.is_dir():
        with contextlib.suppress(FileExistsError):  # another worker was first
            os.close(os.open(db_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


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
