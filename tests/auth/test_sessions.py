"""Server-side sessions: logout, disabling, password changes and timeouts really end them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.factories import Factory
from tracker.auth.models import UserSession
from tracker.auth.services import disable_user
from tracker.types import utcnow

COOKIE = "tracker_session"


def _cookie(client) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def _signed_in(client) -> bool:
    response = client.get("/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    return False


def _new_client(app, user):
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": Factory.PASSWORD})
    assert response.status_code == 302
    return client


def test_cookie_copied_before_logout_is_dead_after_it(client, factory, login):
    user = factory.user()
    login(user)
    stolen = _cookie(client)
    assert _signed_in(client)
    client.post("/logout")
    assert not _signed_in(client)
    client.set_cookie(COOKIE, stolen)  # replay the pre-logout cookie
    assert not _signed_in(client)
    row = client.application.extensions["sqlalchemy"].session.scalar(select(UserSession))
    assert row.ended_reason == "logout"


def test_login_issues_a_new_cookie_each_time(app, factory):
    user = factory.user()
    a = _new_client(app, user)
    b = _new_client(app, user)
    assert _cookie(a) != _cookie(b)


def test_disabling_a_user_ends_all_their_sessions(app, db, factory):
    user = factory.user()
    browsers = [_new_client(app, user) for _ in range(2)]
    assert all(_signed_in(c) for c in browsers)
    ended = disable_user(user=user)
    db.session.commit()
    assert ended == 2
    assert not any(_signed_in(c) for c in browsers)
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert {r.ended_reason for r in rows} == {"disabled"}


def test_disabled_user_is_refused_even_with_a_live_session_row(app, db, factory):
    """Belt and braces: the user loader refuses an inactive user whatever the row says."""
    user = factory.user()
    browser = _new_client(app, user)
    user.disabled_at = utcnow()
    db.session.commit()
    assert not _signed_in(browser)


def test_password_change_ends_the_other_sessions_only(app, db, factory):
    user = factory.user()
    mine, other = _new_client(app, user), _new_client(app, user)
    new_password = "a brand new passphrase for me"
    response = mine.post(
        "/account/password",
        data={
            "current_password": Factory.PASSWORD,
            "new_password": new_password,
            "confirm": new_password,
        },
    )
    assert response.status_code == 302
    assert _signed_in(mine)
    assert not _signed_in(other)
    assert (
        app.test_client()
        .post("/login", data={"email": user.email, "password": Factory.PASSWORD})
        .status_code
        == 401
    )
    assert (
        app.test_client()
        .post("/login", data={"email": user.email, "password": new_password})
        .status_code
        == 302
    )


def _age_session(db, user, **changes):
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    for name, value in changes.items():
        setattr(row, name, value)
    db.session.commit()
    return row.id


def test_idle_timeout_ends_the_session(app, db, factory, client, login):
    user = factory.user()
    login(user)
    assert _signed_in(client)
    idle = app.config["SESSION_IDLE_MINUTES"]
    row_id = _age_session(db, user, last_seen_at=utcnow() - timedelta(minutes=idle + 1))
    assert not _signed_in(client)
    db.session.rollback()  # end the read transaction: see what other connections wrote
    row = db.session.get(UserSession, row_id)
    assert row.ended_reason == "idle timeout"


def test_activity_within_the_idle_limit_keeps_the_session(app, db, factory, client, login):
    user = factory.user()
    login(user)
    idle = app.config["SESSION_IDLE_MINUTES"]
    _age_session(db, user, last_seen_at=utcnow() - timedelta(minutes=idle - 1))
    assert _signed_in(client)


def test_absolute_timeout_ends_even_an_active_session(app, db, factory, client, login):
    user = factory.user()
    login(user)
    hours = app.config["SESSION_ABSOLUTE_HOURS"]
    row_id = _age_session(
        db, user, created_at=utcnow() - timedelta(hours=hours, minutes=1), last_seen_at=utcnow()
    )
    assert not _signed_in(client)
    db.session.rollback()  # end the read transaction: see what other connections wrote
    assert db.session.get(UserSession, row_id).ended_reason == "absolute timeout"


def test_sessions_page_lists_and_ends_sessions(app, db, factory):
    user = factory.user()
    mine = _new_client(app, user)
    other = app.test_client()
    other.post(
        "/login",
        data={"email": user.email, "password": Factory.PASSWORD},
        headers={"User-Agent": "OtherBrowser/1.0"},
    )
    page = mine.get("/account/sessions")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "OtherBrowser/1.0" in html
    assert html.count("this session") == 1
    assert "End all other sessions" in html

    other_row = db.session.scalar(
        select(UserSession).where(UserSession.user_agent == "OtherBrowser/1.0")
    )
    response = mine.post(f"/account/sessions/{other_row.id}/end")
    assert response.status_code == 302
    assert not _signed_in(other)
    assert _signed_in(mine)
    assert "OtherBrowser/1.0" not in mine.get("/account/sessions").get_data(as_text=True)


def test_end_all_other_sessions(app, factory):
    user = factory.user()
    mine = _new_client(app, user)
    others = [_new_client(app, user) for _ in range(2)]
    response = mine.post("/account/sessions/end-others", follow_redirects=True)
    assert "Other sessions ended: 2." in response.get_data(as_text=True)
    assert _signed_in(mine)
    assert not any(_signed_in(c) for c in others)


def test_cannot_end_someone_elses_session(app, db, factory):
    alice, bob = factory.user(), factory.user()
    a = _new_client(app, alice)
    b = _new_client(app, bob)
    bob_row = db.session.scalar(select(UserSession).where(UserSession.user_id == bob.id))
    assert a.post(f"/account/sessions/{bob_row.id}/end").status_code == 404
    assert _signed_in(b)


def test_ending_ones_own_current_session_signs_out(app, db, factory):
    user = factory.user()
    mine = _new_client(app, user)
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    response = mine.post(f"/account/sessions/{row.id}/end")
    assert response.headers["Location"].startswith("/login")
    assert not _signed_in(mine)


def test_activity_is_recorded_so_the_idle_clock_restarts(app, db, factory, client, login):
    user = factory.user()
    login(user)
    _age_session(db, user, last_seen_at=utcnow() - timedelta(minutes=5))
    assert _signed_in(client)
    db.session.rollback()
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)
