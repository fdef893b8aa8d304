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

from tests.factories import Factory
from tracker import create_app
from tracker.extensions import db as _db

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
            "SQLITE_IMMEDIATE_OUTSIDE_REQUESTS": False,
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


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate limits (login throttling) start from zero in every test, like the tables."""
    from tracker.extensions import limiter

    yield
    # Only once an app has initialised the limiter (tests/migrations, for one, builds none):
    # before that Flask-Limiter has no storage and its reset() fails an assertion.
    if limiter.initialized:
        limiter.reset()


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
        data = {"email": user.email, "password": password}
        if user.totp_enabled_at is not None:  # admins always: send the current TOTP code
            data["otp"] = fresh_totp_code(user)
        return client.post("/login", data=data, follow_redirects=follow)

    return _login


def fresh_totp_code(user) -> str:
    """The user's current TOTP code, usable even if this test already signed in with it."""
    import time

    import pyotp

    from tracker.auth.throttle import forget_totp_step

    step = int(time.time() // 30)
    forget_totp_step(user.id, step)
    return pyotp.TOTP(user.totp_secret).at(step * 30)


@pytest.fixture()
def csrf_enabled(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


# --- Browser tests -------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture()
def live_server(app, db):
    """The app served by werkzeug in a thread on a free 127.0.0.1 port, for the browser."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(".ci/run must install Debian's chromium; browser tests never skip in CI")
        pytest.skip(
            f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, live_server):
    """A fresh browser context (no cookies) with the live server as base URL."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture()
def browser_login(page, factory):
    def _login(user, password: str = Factory.PASSWORD):
        page.goto("/login")
        page.get_by_label("E-mail").fill(user.email)
        page.get_by_label("Password").fill(password)
        if user.totp_enabled_at is not None:
            page.get_by_label("Authentication code").fill(fresh_totp_code(user))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")

    return _login


SCREENSHOT_DIR = os.environ.get("TRACKER_SCREENSHOT_DIR", "screenshots")


@pytest.fixture()
def screenshot(page):
    """screenshot(name) saves a full-page PNG under screenshots/ for people to look at."""

    def _shot(name: str):
        os.makedirs(SCREENSHOT_DIR, exist_ok=True)
        path = os.path.join(SCREENSHOT_DIR, f"{name}.png")
        page.screenshot(path=path, full_page=True)
        return path

    return _shot
