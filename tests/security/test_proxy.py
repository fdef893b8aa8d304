"""Behind a reverse proxy (TRACKER_PROXY_COUNT): rate limits, sessions and the audit trail see
the client's address from X-Forwarded-For; without it that header is ignored (anyone can send
it), so it cannot be used to dodge the login throttle."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import Factory
from tracker import create_app
from tracker.audit.models import AuditEntry
from tracker.auth.models import UserSession
from tracker.extensions import db as _db

PROXY = {"REMOTE_ADDR": "10.0.0.1"}  # every request arrives from the proxy


@pytest.fixture()
def proxied_app(app, db, database_url, tmp_path):
    """A second app on the same database, configured for one reverse proxy."""
    proxied = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": database_url,
            "UPLOAD_DIR": str(tmp_path),
            "RATELIMIT_STORAGE_URI": "memory://",
            "WTF_CSRF_ENABLED": False,
            "PROXY_COUNT": 1,
        }
    )
    yield proxied
    with proxied.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _spray(client, forwarded_for: str) -> list[int]:
    return [
        client.post(
            "/login",
            data={"email": f"spray{i}@example.org", "password": "wrong password!!"},
            headers={"X-Forwarded-For": forwarded_for},
            environ_base=PROXY,
        ).status_code
        for i in range(11)
    ]


def _sign_in(client, user, forwarded_for: str):
    return client.post(
        "/login",
        data={"email": user.email, "password": Factory.PASSWORD},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base=PROXY,
    )


def test_with_a_proxy_each_forwarded_address_has_its_own_limit(proxied_app, factory):
    user = factory.user()
    assert _spray(proxied_app.test_client(), "203.0.113.5") == [401] * 10 + [429]
    response = _sign_in(proxied_app.test_client(), user, "198.51.100.9")
    assert response.status_code == 302  # another client behind the same proxy signs in
    with proxied_app.app_context():
        addresses = _db.session.scalars(
            select(UserSession.ip_address).where(UserSession.user_id == user.id)
        ).all()
    assert addresses == ["198.51.100.9"]  # the session records the client, not the proxy


def test_with_a_proxy_the_audit_trail_and_links_see_the_client(proxied_app, factory):
    user = factory.user()
    factory.case(), factory.case()
    client = proxied_app.test_client()
    forwarded = {
        "X-Forwarded-For": "198.51.100.9",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "tracker.example.org",
    }
    assert _sign_in(client, user, "198.51.100.9").status_code == 302
    created = client.post(
        "/api/v1/tokens/",
        data={"name": "laptop", "scope": "read", "expires": "90"},
        headers=forwarded,
        environ_base=PROXY,
    )
    assert created.status_code == 201
    listed = client.get("/api/v1/cases?per_page=1", headers=forwarded, environ_base=PROXY)
    # Links the app builds use the scheme and host the client used, not the proxy's.
    assert listed.get_json()["next"].startswith("https://tracker.example.org/api/v1/cases?")
    with proxied_app.app_context():
        entry = _db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "api_token.create")
        )
    assert entry.ip_address == "198.51.100.9"


def test_without_a_proxy_x_forwarded_for_is_ignored(app, factory):
    user = factory.user()
    assert _spray(app.test_client(), "203.0.113.5") == [401] * 10 + [429]
    # A made-up header does not buy a fresh limit: both requests come from 10.0.0.1.
    assert _sign_in(app.test_client(), user, "198.51.100.9").status_code == 429
