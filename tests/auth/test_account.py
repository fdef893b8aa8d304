"""One's own account: change password, two-factor set-up and removal, invitation links."""

from __future__ import annotations

import time

import pyotp
import pytest
from itsdangerous.timed import TimestampSigner
from sqlalchemy import select

from tests.factories import Factory
from tests.security.helpers import totp_code
from tracker.audit.models import AuditEntry
from tracker.auth.models import User
from tracker.auth.services import invitation_token
from tracker.types import Role, utcnow

NEW = "a brand new passphrase for me"


def _audit(db, action):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_account_page_shows_the_profile_and_links(client, factory, login):
    user = factory.user(name="Kofi Mensah")
    login(user)
    html = client.get("/account").get_data(as_text=True)
    assert "Kofi Mensah" in html and user.email in html
    for link in (
        "/account/password",
        "/account/sessions",
        "/account/two-factor",
        "/api/v1/tokens/",
    ):
        assert f'href="{link}"' in html
    assert 'href="/account"' in client.get("/").get_data(as_text=True)  # user menu link


# --- Change password -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"current_password": "wrong password!!", "new_password": NEW, "confirm": NEW},
            "Your current password is not right.",
        ),
        (
            {"current_password": Factory.PASSWORD, "new_password": "short", "confirm": "short"},
            "Field must be between 12 and 128 characters long.",
        ),
        (
            {"current_password": Factory.PASSWORD, "new_password": NEW, "confirm": NEW + "x"},
            "The passwords differ.",
        ),
        (
            {
                "current_password": Factory.PASSWORD,
                "new_password": "passwordpassword",
                "confirm": "passwordpassword",
            },
            "too",
        ),
        (
            {
                "current_password": Factory.PASSWORD,
                "new_password": Factory.PASSWORD,
                "confirm": Factory.PASSWORD,
            },
            "different from the current one",
        ),
    ],
)
def test_change_password_refuses_bad_input(client, db, factory, login, data, message):
    user = factory.user()
    login(user)
    old_hash = user.password_hash
    response = client.post("/account/password", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(User, user.id).password_hash == old_hash
    assert not _audit(db, "change_password")


def test_change_password_is_audited_without_the_hash(client, db, factory, login):
    user = factory.user()
    login(user)
    response = client.post(
        "/account/password",
        data={"current_password": Factory.PASSWORD, "new_password": NEW, "confirm": NEW},
        follow_redirects=True,
    )
    assert "Your password is changed." in response.get_data(as_text=True)
    (entry,) = _audit(db, "change_password")
    assert entry.user_id == user.id and entry.entity_id == str(user.id)
    stored = db.session.get(User, user.id).password_hash
    dumped = repr((entry.before, entry.after, entry.summary))
    assert "password_hash" not in dumped and stored not in dumped and NEW not in dumped


def test_changing_the_password_revokes_the_api_tokens(app, client, db, factory, login):
    from tracker.api.auth import create_token
    from tracker.auth.models import TokenScope

    user = factory.user()
    other = factory.user()
    _row, mine = create_token(user=user, name="laptop", scope=TokenScope.READ)
    _row, theirs = create_token(user=other, name="laptop", scope=TokenScope.READ)
    db.session.commit()
    api = app.test_client()
    assert api.get("/api/v1/cases", headers={"Authorization": f"Bearer {mine}"}).status_code == 200
    login(user)
    form = client.get("/account/password").get_data(as_text=True)
    assert "your API tokens will be revoked" in form
    response = client.post(
        "/account/password",
        data={"current_password": Factory.PASSWORD, "new_password": NEW, "confirm": NEW},
        follow_redirects=True,
    )
    assert "API tokens revoked: 1." in response.get_data(as_text=True)
    refused = api.get("/api/v1/cases", headers={"Authorization": f"Bearer {mine}"})
    assert refused.status_code == 401
    kept = api.get("/api/v1/cases", headers={"Authorization": f"Bearer {theirs}"})
    assert kept.status_code == 200  # only the user's own tokens


# --- Two-factor ------------------------------------------------------------------------------


def _secret(db, user) -> str:
    db.session.rollback()
    return db.session.get(User, user.id).totp_secret


def test_totp_setup_shows_secret_and_uri_then_confirms(client, db, factory, login):
    user = factory.user(email="setup@example.org")
    login(user)
    page = client.get("/account/two-factor")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    secret = _secret(db, user)
    assert secret and secret in html
    assert "otpauth://totp/" in html and "setup%40example.org" in html
    assert 'src="data:image/svg+xml' in html  # the QR code, allowed by img-src data:
    # Reloading keeps the same pending secret (the app may already have scanned it).
    client.get("/account/two-factor")
    assert _secret(db, user) == secret

    wrong = client.post("/account/two-factor", data={"code": "000000"})
    assert wrong.status_code == 400
    assert "That code is not right." in wrong.get_data(as_text=True)
    ok = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert ok.status_code == 302
    db.session.rollback()
    assert db.session.get(User, user.id).totp_enabled_at is not None
    assert _audit(db, "enable_totp")
    # From now on signing in needs the code.
    client.post("/logout")
    assert (
        client.post("/login", data={"email": user.email, "password": Factory.PASSWORD}).status_code
        == 401
    )


def test_totp_confirm_rejects_non_digits(client, factory, login):
    login(factory.user())
    response = client.post("/account/two-factor", data={"code": "abcdef"})
    assert response.status_code == 400
    assert "Six digits." in response.get_data(as_text=True)


def test_totp_disable_needs_password_and_code(client, db, factory, login):
    user = factory.user(totp_secret=pyotp.random_base32(), totp_enabled_at=utcnow())
    login(user)
    no_pw = client.post(
        "/account/two-factor/disable",
        data={"password": "wrong password!!", "code": totp_code(user, 1)},
    )
    assert no_pw.status_code == 400
    assert "Your password is not right." in no_pw.get_data(as_text=True)
    bad_code = client.post(
        "/account/two-factor/disable", data={"password": Factory.PASSWORD, "code": "000000"}
    )
    assert bad_code.status_code == 400
    db.session.rollback()
    assert db.session.get(User, user.id).totp_enabled_at is not None
    ok = client.post(
        "/account/two-factor/disable",
        data={"password": Factory.PASSWORD, "code": totp_code(user, 1)},
    )
    assert ok.status_code == 302
    db.session.rollback()
    fresh = db.session.get(User, user.id)
    assert fresh.totp_enabled_at is None and fresh.totp_secret is None
    assert _audit(db, "disable_totp")


# --- Admins must use a second factor ---------------------------------------------------------


def test_admin_without_totp_can_reach_only_the_setup_page(client, db, factory, login):
    admin = factory.user(role=Role.ADMIN, totp_secret=None)
    assert login(admin).status_code == 302
    for path in ("/", "/admin/", "/admin/users", "/account", "/account/sessions", "/nowhere"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/account/two-factor", path
    page = client.get("/account/two-factor")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Administrators must use two-factor authentication" in html
    assert 'href="/admin/"' not in html and 'href="/account"' not in html  # no dead-end links
    secret = _secret(db, admin)
    assert (
        client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()}).status_code
        == 302
    )
    assert client.get("/admin/users").status_code == 200
    # Logout stays reachable for an admin who has not finished.


def test_admin_without_totp_can_still_sign_out(client, factory, login):
    admin = factory.user(role=Role.ADMIN, totp_secret=None)
    login(admin)
    response = client.post("/logout")
    assert response.headers["Location"] == "/login"
    assert client.get("/").headers["Location"].startswith("/login")


# --- Invitation (set-password) links ---------------------------------------------------------


@pytest.fixture()
def invited(factory, db):
    user = factory.user(email="invitee@example.org")
    user.password_hash = None
    db.session.commit()
    return user


def test_set_password_link_works_once(app, db, invited):
    token = invitation_token(invited)
    client = app.test_client()
    page = client.get(f"/set-password/{token}")
    assert page.status_code == 200
    assert "invitee@example.org" in page.get_data(as_text=True)
    response = client.post(f"/set-password/{token}", data={"new_password": NEW, "confirm": NEW})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert _audit(db, "set_password")
    assert client.post("/login", data={"email": invited.email, "password": NEW}).status_code == 302
    # The same link again: the password hash it was salted with has changed.
    again = app.test_client().get(f"/set-password/{token}")
    assert again.status_code == 404
    assert "This link is not valid" in again.get_data(as_text=True)
    assert (
        app.test_client()
        .post(f"/set-password/{token}", data={"new_password": "x" * 20, "confirm": "x" * 20})
        .status_code
        == 404
    )


def test_a_new_password_from_a_link_revokes_the_api_tokens(app, db, factory):
    """An admin's new link for an existing account (a lost password): old tokens stop."""
    from tracker.api.auth import create_token
    from tracker.auth.models import TokenScope

    user = factory.user()
    _row, secret = create_token(user=user, name="old", scope=TokenScope.READ)
    db.session.commit()
    token = invitation_token(user)
    response = app.test_client().post(
        f"/set-password/{token}", data={"new_password": NEW, "confirm": NEW}
    )
    assert response.status_code == 302
    api = app.test_client().get("/api/v1/cases", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401


def test_set_password_refuses_a_weak_password(app, db, invited):
    token = invitation_token(invited)
    response = app.test_client().post(
        f"/set-password/{token}", data={"new_password": "password1234", "confirm": "password1234"}
    )
    assert response.status_code == 400
    assert "too common" in response.get_data(as_text=True) or "too easy" in response.get_data(
        as_text=True
    )
    db.session.rollback()
    assert db.session.get(User, invited.id).password_hash is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # tampered signature
        lambda t: "x",  # garbage
        lambda t: "a" * 600,  # too long
        lambda t: t.split(".")[0],  # payload only
    ],
)
def test_forged_links_are_refused(app, invited, mangle):
    token = mangle(invitation_token(invited))
    response = app.test_client().get(f"/set-password/{token}")
    assert response.status_code == 404


def test_expired_link_is_refused(app, invited, monkeypatch):
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 73 * 3600)
    token = invitation_token(invited)
    monkeypatch.undo()
    assert app.test_client().get(f"/set-password/{token}").status_code == 404


def test_link_for_a_disabled_user_is_refused(app, db, invited):
    token = invitation_token(invited)
    invited.disabled_at = utcnow()
    db.session.commit()
    assert app.test_client().get(f"/set-password/{token}").status_code == 404


def test_link_signed_with_another_key_is_refused(app, invited):
    from itsdangerous import URLSafeTimedSerializer

    forged = URLSafeTimedSerializer("not-our-secret").dumps({"u": invited.id}, salt="set-password:")
    assert app.test_client().get(f"/set-password/{forged}").status_code == 404
