"""The app factory, configuration and health check."""

from __future__ import annotations

import os
import stat

import pytest

from tracker import create_app
from tracker.config import ConfigError


def test_production_without_secret_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY"):
        create_app({"ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_production_with_short_secret_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="32 characters"):
        create_app(
            {"ENV": "production", "SECRET_KEY": "short", "DATABASE_URL": f"sqlite:///{tmp_path}/x"}
        )


def test_unknown_environment_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="TRACKER_ENV"):
        create_app({"ENV": "staging", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_development_generates_a_private_secret_once(monkeypatch, tmp_path):
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    from tracker import config as config_module

    first = config_module.build_config(tmp_path, {"ENV": "development"})
    path = tmp_path / "secret_key"
    assert path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    second = config_module.build_config(tmp_path, {"ENV": "development"})
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert len(first["SECRET_KEY"]) >= 32


def test_environment_variables_configure_the_app(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_MAX_UPLOAD_MB", "3")
    monkeypatch.setenv("TRACKER_SESSION_IDLE_MINUTES", "5")
    app = create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["MAX_CONTENT_LENGTH"] == 3 * 1024 * 1024
    assert app.config["SESSION_IDLE_MINUTES"] == 5


def test_postgresql_urls_use_psycopg3(tmp_path):
    from tracker.config import build_config

    cfg = build_config(tmp_path, {"ENV": "testing", "DATABASE_URL": "postgresql://u@h/db"})
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_home_requires_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_home_shows_the_signed_in_user(client, factory, login):
    user = factory.user(name="Amina Diallo")
    login(user)
    page = client.get("/")
    assert page.status_code == 200
    assert "Welcome, Amina Diallo" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("accept", "lang", "direction"),
    [("ar", "ar", "rtl"), ("es-ES,es;q=0.9", "es", "ltr"), ("de", "en", "ltr")],
)
def test_language_and_direction_follow_the_browser(client, accept, lang, direction):
    page = client.get("/login", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'<html lang="{lang}" dir="{direction}">' in page


def test_unknown_url_is_a_plain_404_page(client, factory, login):
    login(factory.user())
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "There is nothing here." in response.get_data(as_text=True)


SECRET = "s" * 48


def test_production_refuses_in_memory_rate_limits(monkeypatch, tmp_path):
    monkeypatch.delenv("TRACKER_RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("TRACKER_SINGLE_PROCESS", raising=False)
    with pytest.raises(ConfigError, match="TRACKER_RATELIMIT_STORAGE_URI is memory://") as exc:
        create_app(
            {"ENV": "production", "SECRET_KEY": SECRET, "DATABASE_URL": f"sqlite:///{tmp_path}/x"}
        )
    assert "redis://" in str(exc.value) and "TRACKER_SINGLE_PROCESS" in str(exc.value)


def test_a_single_process_production_may_keep_counters_in_memory_with_a_warning(
    monkeypatch, tmp_path, caplog
):
    monkeypatch.delenv("TRACKER_RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.setenv("TRACKER_SINGLE_PROCESS", "true")
    app = create_app(
        {"ENV": "production", "SECRET_KEY": SECRET, "DATABASE_URL": f"sqlite:///{tmp_path}/x"}
    )
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert "run exactly one worker" in caplog.text


def test_production_with_redis_counters_starts_without_the_warning(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("TRACKER_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379")
    app = create_app(
        {"ENV": "production", "SECRET_KEY": SECRET, "DATABASE_URL": f"sqlite:///{tmp_path}/x"}
    )
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379"
    assert "run exactly one worker" not in caplog.text


@pytest.mark.parametrize("value", ["-1", "6", "two"])
def test_a_bad_proxy_count_is_refused(monkeypatch, tmp_path, value):
    monkeypatch.setenv("TRACKER_PROXY_COUNT", value)
    with pytest.raises(ConfigError, match="TRACKER_PROXY_COUNT"):
        create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_the_proxy_count_wraps_the_app_in_proxy_fix(monkeypatch, tmp_path):
    from werkzeug.middleware.proxy_fix import ProxyFix

    monkeypatch.setenv("TRACKER_PROXY_COUNT", "2")
    app = create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert isinstance(app.wsgi_app, ProxyFix)
    assert (app.wsgi_app.x_for, app.wsgi_app.x_proto, app.wsgi_app.x_host) == (2, 2, 2)
    monkeypatch.delenv("TRACKER_PROXY_COUNT")
    plain = create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/y.db"})
    assert not isinstance(plain.wsgi_app, ProxyFix)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_app_creates_a_private_instance_folder_and_database(monkeypatch, tmp_path):
    instance = tmp_path / "new" / "instance"
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    monkeypatch.delenv("TRACKER_UPLOAD_DIR", raising=False)
    monkeypatch.setenv("TRACKER_SECRET_KEY", SECRET)
    app = create_app({"ENV": "development"})
    assert _mode(instance) == 0o700
    database = instance / "tracker.sqlite3"
    assert _mode(database) == 0o600
    from tracker.extensions import db

    with app.app_context():
        db.create_all()  # SQLite writes into the file it was given, keeping its mode
        db.engine.dispose()
    assert database.stat().st_size > 0 and _mode(database) == 0o600
    assert all(_mode(p) & 0o077 == 0 for p in instance.iterdir())


def test_the_instance_folder_is_left_alone_when_nothing_lives_there(monkeypatch, tmp_path):
    instance = tmp_path / "unused"
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(instance))
    create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": f"sqlite:///{tmp_path}/elsewhere.db",
            "UPLOAD_DIR": str(tmp_path / "files"),
        }
    )
    assert not instance.exists()
    assert _mode(tmp_path / "elsewhere.db") == 0o600


def test_json_errors_outside_the_api_blueprint_have_the_api_shape(client, factory, login):
    login(factory.user())
    # Routing fails before the API blueprint sees the request (an id no column can hold).
    routed = client.get(f"/api/v1/cases/{2**40}")
    assert routed.status_code == 404
    assert routed.get_json() == {"error": "not_found", "reason": "There is nothing here."}
    # A JSON client of an HTML page gets the same shape.
    page = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert page.status_code == 404 and page.get_json()["error"] == "not_found"
