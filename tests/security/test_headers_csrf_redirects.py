"""Security headers on every response, CSRF on state changes, hostile `next` values."""

from __future__ import annotations

import pytest

from tests.factories import Factory

HOSTILE_NEXT = [
    "//evil.example",
    "/\\evil.example",
    "https:evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "/%5Cevil",
    " //evil",
    "\t/evil",
    "///evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "http://localhost/",
    "/%2F/evil.example",
    "/%09/evil.example",
]


def _check_common_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/login", "/no-such-page", "/healthz", "/static/css/app.css"])
def test_headers_on_anonymous_responses(client, path):
    with client.get(path) as response:  # closes the static file
        _check_common_headers(response)
        if not path.startswith("/static/"):
            assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/account", "/account/sessions", "/nope-404"])
def test_headers_and_no_store_on_authenticated_pages(client, factory, login, path):
    login(factory.user())
    response = client.get(path)
    _check_common_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_headers_on_admin_pages(client, factory, login):
    from tracker.types import Role

    login(factory.user(role=Role.ADMIN))
    for path in ("/admin/users", "/admin/audit", "/admin/organisations"):
        response = client.get(path)
        assert response.status_code == 200
        _check_common_headers(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(client, factory, login):
    response = login(factory.user())
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- CSRF ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("csrf_enabled")
def test_login_without_csrf_token_is_400(client, factory):
    user = factory.user()
    response = client.post("/login", data={"email": user.email, "password": Factory.PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # not signed in


@pytest.mark.usefixtures("csrf_enabled")
def test_logout_without_csrf_token_is_400_and_keeps_the_session(client, factory):
    user = factory.user()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert (
        client.post(
            "/login", data={"email": user.email, "password": Factory.PASSWORD, "csrf_token": token}
        ).status_code
        == 302
    )
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # a forged logout did nothing


@pytest.mark.usefixtures("csrf_enabled")
@pytest.mark.parametrize(
    "path",
    ["/account/password", "/account/sessions/end-others", "/account/two-factor"],
)
def test_account_changes_need_a_csrf_token(client, factory, login, app, path):
    user = factory.user()
    app.config["WTF_CSRF_ENABLED"] = False
    login(user)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(path, data={"current_password": Factory.PASSWORD, "code": "123456"})
    assert response.status_code == 400


@pytest.mark.usefixtures("csrf_enabled")
def test_admin_changes_need_a_csrf_token(client, factory, login, app, db):
    from tracker.auth.models import User
    from tracker.types import Role

    admin = factory.user(role=Role.ADMIN)
    victim = factory.user()
    app.config["WTF_CSRF_ENABLED"] = False
    login(admin)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/admin/users/{victim.id}/disable").status_code == 400
    assert (
        client.post("/admin/users/new", data={"name": "x", "email": "x@example.org"}).status_code
        == 400
    )
    db.session.rollback()
    assert db.session.get(User, victim.id).disabled_at is None


# --- Open redirects --------------------------------------------------------------------------


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_next_lands_on_home(client, factory, target):
    user = factory.user()
    response = client.post(
        "/login", data={"email": user.email, "password": Factory.PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_next_in_the_query_string_is_dropped_from_the_form(client, target):
    from urllib.parse import quote

    html = client.get(f"/login?next={quote(target)}").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/"' in html


def test_good_next_is_kept(client, factory):
    user = factory.user()
    response = client.post(
        "/login", data={"email": user.email, "password": Factory.PASSWORD, "next": "/cases/?q=x"}
    )
    assert response.headers["Location"] == "/cases/?q=x"


def test_gate_sends_anonymous_users_to_login_with_a_safe_next(client):
    response = client.get("/account/sessions?x=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account/sessions?x%3D1"


def test_safe_next_unit():
    from tracker.security import safe_next

    for target in HOSTILE_NEXT:
        assert safe_next(target) == "/", target
    assert safe_next("/cases/?q=x") == "/cases/?q=x"
    assert safe_next(None) == "/"
