"""Shared fixtures: the app on SQLite or PostgreSQL, a clean database per test, factories.

The database is chosen by TRACKER_TEST_DATABASE_URL (PostgreSQL in CI's second run); without
it, a SQLite file in a temporary folder. The schema is created once per session; every test
starts from empty tables (rows are deleted after each test), so tests are isolated.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from tracker import create_app
from tracker.extensions import db as _db
from tests.factories import Factory

TEST_DATABASE_URL = os.environ.get("TRACKER_TEST_DATABASE_URL")
IN_CI = os.environ.get("CI") == "true"


def pytest_report_header(config):
    return f"database: {TEST_DATABASE_URL or 'SQLite (temporary file)'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": database_url,
            "UPLOAD_DIR": str(tmp_path_factory.mktemp("files")),
            "RATELIMIT_STORAGE_URI": "memory://",
            "WTF_CSRF_ENABLED": False,  # the CSRF tests switch it back on
            "SERVER_NAME": None,
        }
    )
    with app.app_context():
        _reset_schema()
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _reset_schema()
        _db.engine.dispose()


def _reset_schema() -> None:
    if _db.engine.dialect.name == "postgresql":
        with _db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        _db.drop_all()


def _empty_tables() -> None:
    _db.session.remove()
    tables = _db.metadata.sorted_tables
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())


@pytest.fixture()
def db(app) -> Iterator:
    with app.app_context():
        yield _db
        _empty_tables()


@pytest.fixture()
def client(app, db):
    return app.test_client()


@pytest.fixture()
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture()
def factory(db) -> Factory:
    return Factory(db)


@pytest.fixture()
def login(client, factory):
    """login(user) signs the test client in through the real form and returns the response."""

    def _login(user, password: str = Factory.PASSWORD, *, follow: bool = False):
        return client.post(
            "/login",
            data={"email": user.email, "password": password},
            follow_redirects=follow,
        )

    return _login


@pytest.fixture()
def csrf_enabled(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False
