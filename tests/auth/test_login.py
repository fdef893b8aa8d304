"""Signing in: one generic failure, throttling per address and per account, TOTP codes."""

from __future__ import annotations

import pyotp
import pytest

from tests.factories import Factory
from tests.security.helpers import totp_code
from tracker.types import Role, utcnow

GENERIC = "The e-mail or password is not right."
THROTTLED = "Too many sign-in attempts. Wait a few minutes and try again."


def _post(client, email, password, otp=None, environ_base=None):
    data = {"email": email, "password": password}
    if otp is not None:
        data["otp"] = otp
    return client.post("/login", data=data, environ_base=environ_base or {})


def test_good_password_signs_in_and_lands_on_home(client, factory, login):
    user = factory.user(name="Ana Souza")
    response = login(user)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Welcome, Ana Souza" in client.get("/").get_data(as_text=True)


def test_unknown_user_and_wrong_password_look_the_same(client, factory):
    factory.user(email="known@example.org")
    wrong = client.post("/login", data={"email": "known@example.org", "password": "x" * 14})
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "x" * 14})
    assert wrong.status_code == unknown.status_code == 401
    assert GENERIC in wrong.get_data(as_text=True)
    body_wrong = wrong.get_data(as_text=True).replace("known@example.org", "E")
    body_unknown = unknown.get_data(as_text=True).replace("nobody@example.org", "E")
    assert body_wrong == body_unknown
    assert client.get("/").status_code == 302


def test_disabled_user_gets_the_same_generic_failure(client, factory):
    user = factory.user(disabled_at=utcnow())
    response = client.post("/login", data={"email": user.email, "password": Factory.PASSWORD})
    assert response.status_code == 401
    assert GENERIC in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_invited_user_without_password_cannot_sign_in(client, factory):
    user = factory.user()
    user.password_hash = None
    factory.commit(user)
    response = client.post("/login", data={"email": user.email, "password": Factory.PASSWORD})
    assert response.status_code == 401


def test_email_is_case_insensitive(client, factory):
    user = factory.user(email="mixed@example.org")
    response = client.post(
        "/login", data={"email": "  MIXED@Example.org ", "password": Factory.PASSWORD}
    )
    assert response.status_code == 302, user


def test_missing_fields_are_form_errors(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)


# --- Throttling ----------------------------------------------------------------------------


def test_per_account_throttle_counts_failures_and_hides_existence(client, factory):
    user = factory.user(email="target@example.org")
    for _ in range(5):
        assert _post(client, user.email, "wrong password!!").status_code == 401
        assert _post(client, "ghost@example.org", "wrong password!!").status_code == 401
    # The sixth attempt is refused before the password is even checked, right or wrong.
    blocked = _post(client, user.email, Factory.PASSWORD)
    ghost = _post(client, "ghost@example.org", Factory.PASSWORD)
    assert blocked.status_code == ghost.status_code == 429
    assert THROTTLED in blocked.get_data(as_text=True)
    assert blocked.get_data(as_text=True).replace(user.email, "E") == ghost.get_data(
        as_text=True
    ).replace("ghost@example.org", "E")
    assert client.get("/").status_code == 302  # not signed in


def test_per_account_throttle_keys_on_the_normalised_email(client, factory):
    factory.user(email="norm@example.org")
    for variant in (
        "norm@example.org",
        "NORM@example.org",
        " Norm@Example.org",
        "norm@EXAMPLE.org",
        "nORM@example.org",
    ):
        assert _post(client, variant, "wrong password!!").status_code == 401
    assert _post(client, "norm@example.org", Factory.PASSWORD).status_code == 429


def test_other_accounts_are_not_throttled_by_one_accounts_failures(app, factory):
    other = factory.user()
    attacker = app.test_client()
    for _ in range(5):
        _post(
            attacker,
            "victim@example.org",
            "wrong password!!",
            environ_base={"REMOTE_ADDR": "10.0.0.1"},
        )
    response = app.test_client().post(
        "/login",
        data={"email": other.email, "password": Factory.PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert response.status_code == 302


def test_success_resets_the_failure_count(client, factory, app):
    user = factory.user()
    for _ in range(4):
        assert _post(client, user.email, "wrong password!!").status_code == 401
    assert _post(client, user.email, Factory.PASSWORD).status_code == 302
    fresh = app.test_client()
    for _ in range(4):
        assert _post(fresh, user.email, "wrong password!!").status_code == 401
    assert _post(fresh, user.email, Factory.PASSWORD).status_code == 302


def test_per_address_throttle(app, factory):
    client = app.test_client()
    env = {"REMOTE_ADDR": "192.0.2.7"}
    statuses = [
        client.post(
            "/login",
            data={"email": f"spray{i}@example.org", "password": "wrong password!!"},
            environ_base=env,
        ).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    page = client.post(
        "/login", data={"email": "spray@example.org", "password": "x"}, environ_base=env
    )
    assert page.status_code == 429
    assert THROTTLED in page.get_data(as_text=True)
    # Another address is not affected.
    user = factory.user()
    other = app.test_client().post(
        "/login",
        data={"email": user.email, "password": Factory.PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.8"},
    )
    assert other.status_code == 302


def test_get_login_is_not_throttled(app):
    client = app.test_client()
    for _ in range(15):
        assert client.get("/login").status_code == 200


# --- Second factor ---------------------------------------------------------------------------


@pytest.fixture()
def totp_user(factory):
    return factory.user(
        role=Role.LITIGATOR, totp_secret=pyotp.random_base32(), totp_enabled_at=utcnow()
    )


def test_totp_user_needs_the_code(client, totp_user):
    missing = _post(client, totp_user.email, Factory.PASSWORD)
    wrong = _post(client, totp_user.email, Factory.PASSWORD, otp="000000")
    for response in (missing, wrong):
        assert response.status_code == 401
        assert GENERIC in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    ok = _post(client, totp_user.email, Factory.PASSWORD, otp=totp_code(totp_user))
    assert ok.status_code == 302
    assert client.get("/").status_code == 200


def test_totp_code_cannot_be_reused(app, totp_user):
    code = totp_code(totp_user)
    first = _post(app.test_client(), totp_user.email, Factory.PASSWORD, otp=code)
    assert first.status_code == 302
    replay = _post(app.test_client(), totp_user.email, Factory.PASSWORD, otp=code)
    assert replay.status_code == 401
    assert GENERIC in replay.get_data(as_text=True)
    # The next step's code (clock drift window) still works once.
    nxt = _post(app.test_client(), totp_user.email, Factory.PASSWORD, otp=totp_code(totp_user, 1))
    assert nxt.status_code == 302


def test_old_totp_code_is_refused(client, totp_user):
    stale = totp_code(totp_user, -3)
    assert _post(client, totp_user.email, Factory.PASSWORD, otp=stale).status_code == 401


def test_right_code_with_wrong_password_fails_and_does_not_burn_the_code(app, totp_user):
    code = totp_code(totp_user)
    assert (
        _post(app.test_client(), totp_user.email, "wrong password!!", otp=code).status_code == 401
    )
    assert _post(app.test_client(), totp_user.email, Factory.PASSWORD, otp=code).status_code == 302


def test_wrong_codes_count_towards_the_account_throttle(client, totp_user):
    for _ in range(5):
        assert _post(client, totp_user.email, Factory.PASSWORD, otp="123456").status_code == 401
    good = _post(client, totp_user.email, Factory.PASSWORD, otp=totp_code(totp_user))
    assert good.status_code == 429


def test_real_deployments_hash_with_strong_argon2id_parameters():
    """Tests use a cheap hasher (TESTING only); outside it the library's defaults apply."""
    from argon2 import PasswordHasher
    from argon2.profiles import RFC_9106_LOW_MEMORY

    from tracker.auth.services import hash_password

    stored = hash_password("a long and secret passphrase")  # no app context: production path
    assert stored.startswith("$argon2id$")
    params = PasswordHasher().check_needs_rehash(stored)
    assert params is False
    assert f"m={RFC_9106_LOW_MEMORY.memory_cost}" in stored


@pytest.mark.parametrize("testing", [True, False])
def test_an_unknown_account_costs_one_verification_like_a_wrong_password(
    app, factory, monkeypatch, testing
):
    """No user enumeration by timing: the hash checked for an unknown e-mail is made on
    first use (not at start-up), with the same hasher and parameters as real ones."""
    from argon2 import PasswordHasher

    from tracker.auth import services

    checked = []
    real_verify = PasswordHasher.verify

    def verify(self, stored, password):
        checked.append((self, stored.rsplit("$", 2)[0]))
        return real_verify(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    monkeypatch.setattr(app, "testing", testing)
    user = factory.user()
    user.password_hash = services.hash_password("the right passphrase")
    assert services.verify_password(user, "a wrong passphrase") is False
    assert services.verify_password(None, "a wrong passphrase") is False
    assert len(checked) == 2
    (hasher_known, params_known), (hasher_unknown, params_unknown) = checked
    assert hasher_unknown is hasher_known and params_unknown == params_known
