"""Flask extensions, created unbound here and wired to the app in create_app()."""

from __future__ import annotations

from flask import current_app, has_app_context, has_request_context, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[], strategy="moving-window")

_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _wants_write_lock() -> bool:
    """Write requests take SQLite's write lock up front; reads never do (PITFALLS.md)."""
    if has_request_context():
        return request.method not in _READ_ONLY_METHODS
    # CLI commands and background work write. The test thread only sets up and inspects
    # data, and must not hold the lock while the live server thread answers the browser.
    if has_app_context():
        return current_app.config.get("SQLITE_IMMEDIATE_OUTSIDE_REQUESTS", True)
    return True


def configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, busy timeout and BEGIN IMMEDIATE for writes on SQLite."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - driver hook
        # Take over transaction control from pysqlite so that BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # pragma: no cover - driver hook
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock() else "BEGIN")
