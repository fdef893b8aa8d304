"""Admin pages for users: invite, edit role, disable/enable; admins only; bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import Factory
from tracker.audit.models import AuditEntry
from tracker.auth.models import User, UserSession
from tracker.types import Role

NON_ADMIN_ROLES = [Role.VIEWER, Role.LITIGATOR, Role.COORDINATOR]


def _count(db, model, *where):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _audit(db, action, entity_type="users"):
    db.session.rollback()
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action, AuditEntry.entity_type == entity_type)
    ).all()


ADMIN_PAGES = [
    ("GET", "/admin/"),
    ("GET", "/admin/users"),
    ("GET", "/admin/users/new"),
    ("POST", "/admin/users/new"),
    ("GET", "/admin/users/{uid}"),
    ("POST", "/admin/users/{uid}"),
    ("GET", "/admin/users/{uid}/disable"),
    ("POST", "/admin/users/{uid}/disable"),
    ("POST", "/admin/users/{uid}/enable"),
    ("POST", "/admin/users/{uid}/invitation"),
    ("GET", "/admin/organisations"),
    ("GET", "/admin/organisations/new"),
    ("POST", "/admin/organisations/new"),
    ("GET", "/admin/organisations/{oid}"),
    ("POST", "/admin/organisations/{oid}"),
    ("GET", "/admin/audit"),
]


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_admin_pages_are_404_for_other_roles(client, db, factory, login, role):
    user = factory.user(role=role)
    target = factory.user(role=Role.VIEWER)
    login(user)
    before_users = _count(db, User)
    for method, path in ADMIN_PAGES:
        url = path.format(uid=target.id, oid=target.organisation_id)
        data = {
            "name": "Hijack",
            "email": "x@example.org",
            "role": "admin",
            "organisation": str(user.organisation_id),
        }
        response = client.open(url, method=method, data=data if method == "POST" else None)
        assert response.status_code == 404, (method, url)
        assert "Hijack" not in response.get_data(as_text=True)
    assert _count(db, User) == before_users
    db.session.rollback()
    assert db.session.get(User, target.id).disabled_at is None
    assert db.session.get(User, user.id).role == role
    assert _count(db, AuditEntry) == 0
    # And the navigation does not offer the admin area.
    assert 'href="/admin/"' not in client.get("/").get_data(as_text=True)


def test_admin_sees_the_user_list(admin_client, factory, admin):
    org = factory.organisation(name="Refugee Law Clinic", short_name="RLC")
    factory.user(name="Zoe Viewer", role=Role.VIEWER, organisation=org)
    html = admin_client.get("/admin/users").get_data(as_text=True)
    assert "Zoe Viewer" in html and "RLC" in html and "Ada Admin" in html
    assert 'href="/admin/users/new"' in html
    admin_row = f'href="/admin/users/{admin.id}"'
    filtered = admin_client.get("/admin/users?q=zoe").get_data(as_text=True)
    assert "Zoe Viewer" in filtered and admin_row not in filtered
    by_role = admin_client.get("/admin/users?role=admin").get_data(as_text=True)
    assert admin_row in by_role and "Zoe Viewer" not in by_role
    none = admin_client.get("/admin/users?q=nobody-like-this").get_data(as_text=True)
    assert "No users match" in none


def test_user_list_paginates(admin_client, factory):
    org = factory.organisation()
    for i in range(55):
        factory.db.session.add(
            User(email=f"bulk{i:02d}@example.org", name=f"Bulk {i:02d}", organisation=org)
        )
    factory.db.session.commit()
    first = admin_client.get("/admin/users").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Bulk 00" in first
    second = admin_client.get("/admin/users?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and "Bulk 00" not in second
    assert admin_client.get("/admin/users?page=abc").status_code == 400  # tests/security
    assert admin_client.get("/admin/users?page=999").status_code == 200


def test_invite_a_user_shows_a_one_time_link(admin_client, app, db, factory):
    org = factory.organisation(name="Asylum Aid")
    response = admin_client.post(
        "/admin/users/new",
        data={
            "name": "Nadia Karim",
            "email": " Nadia@Example.org",
            "organisation": org.id,
            "role": "litigator",
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Set-password link for Nadia Karim" in html
    user = db.session.scalar(select(User).where(User.email == "nadia@example.org"))
    assert user.role == Role.LITIGATOR and user.organisation_id == org.id
    assert user.password_hash is None
    link = html.split('id="invitation-link"')[1].split(">", 1)[1].split("<", 1)[0].strip()
    assert link.startswith(app.config["TRACKER_BASE_URL"] + "/set-password/")
    (created,) = _audit(db, "create")
    assert created.after["email"] == "nadia@example.org"
    assert "password_hash" not in created.after
    assert _audit(db, "invite")
    # The invited person uses it.
    path = link[len(app.config["TRACKER_BASE_URL"]) :]
    new = "nadia's own long passphrase"
    invitee = app.test_client()
    assert invitee.post(path, data={"new_password": new, "confirm": new}).status_code == 302
    assert (
        invitee.post("/login", data={"email": "nadia@example.org", "password": new}).status_code
        == 302
    )


def test_invitation_is_mailed_when_smtp_is_configured(admin_client, app, db, factory, monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append({"host": host, "port": port})

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def ehlo(self):
            pass

        def has_extn(self, name):
            return False

        def send_message(self, msg):
            sent[-1]["msg"] = msg

    monkeypatch.setattr("smtplib.SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    org = factory.organisation()
    response = admin_client.post(
        "/admin/users/new",
        data={
            "name": "Mailed",
            "email": "mailed@example.org",
            "organisation": org.id,
            "role": "viewer",
        },
    )
    assert "The link was sent by e-mail to mailed@example.org." in response.get_data(as_text=True)
    (message,) = sent
    assert message["host"] == "smtp.example.org"
    assert message["msg"]["To"] == "mailed@example.org"
    assert "/set-password/" in message["msg"].get_content()
    (entry,) = _audit(db, "invite")
    assert "mailed" in entry.summary


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"name": "", "email": "a@example.org", "role": "viewer"}, "This field is required."),
        (
            {"name": "Dup", "email": "ada@example.org", "role": "viewer"},
            "A user with this e-mail already exists.",
        ),
        (
            {"name": "Dup", "email": "ADA@example.org", "role": "viewer"},
            "A user with this e-mail already exists.",
        ),
        ({"name": "Bad role", "email": "b@example.org", "role": "superuser"}, "Not a valid choice"),
        ({"name": "Bad mail", "email": "not-an-email", "role": "viewer"}, "Invalid email address."),
        (
            {
                "name": "Bad org",
                "email": "c@example.org",
                "role": "viewer",
                "organisation": "99999",
            },
            "Not a valid choice",
        ),
        (
            {"name": "Bad org", "email": "c@example.org", "role": "viewer", "organisation": "x"},
            'id="organisation-error"',
        ),
    ],
)
def test_invite_refuses_bad_input(admin_client, db, factory, data, field_error):
    org = factory.organisation()
    data = {"organisation": str(org.id), **data}
    before = _count(db, User)
    response = admin_client.post("/admin/users/new", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error in html
    assert 'aria-invalid="true"' in html
    assert _count(db, User) == before
    assert _count(db, AuditEntry) == 0


def test_change_role_is_audited_with_before_and_after(admin_client, db, factory):
    user = factory.user(role=Role.VIEWER, name="Role Change")
    response = admin_client.post(
        f"/admin/users/{user.id}",
        data={"name": "Role Change", "organisation": user.organisation_id, "role": "coordinator"},
    )
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(User, user.id).role == Role.COORDINATOR
    (entry,) = _audit(db, "update")
    assert entry.before == {"role": "viewer"} and entry.after == {"role": "coordinator"}
    page = admin_client.get(f"/admin/audit?entity_type=users&entity_id={user.id}")
    html = page.get_data(as_text=True)
    assert "viewer" in html and "coordinator" in html and "Ada Admin" in html


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": "", "role": "viewer"}, "This field is required."),
        ({"name": "X", "role": "root"}, "Not a valid choice"),
    ],
)
def test_edit_refuses_bad_input(admin_client, db, factory, data, error):
    user = factory.user(role=Role.VIEWER, name="Unchanged")
    data = {"organisation": user.organisation_id, **data}
    response = admin_client.post(f"/admin/users/{user.id}", data=data)
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    db.session.rollback()
    fresh = db.session.get(User, user.id)
    assert (fresh.name, fresh.role) == ("Unchanged", Role.VIEWER)
    assert _count(db, AuditEntry) == 0


def test_the_last_admin_cannot_demote_themselves(admin_client, db, admin):
    response = admin_client.post(
        f"/admin/users/{admin.id}",
        data={"name": admin.name, "organisation": admin.organisation_id, "role": "viewer"},
    )
    assert response.status_code == 400
    assert "At least one active administrator must remain." in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(User, admin.id).role == Role.ADMIN


def test_unknown_user_is_404(admin_client):
    assert admin_client.get("/admin/users/99999").status_code == 404
    assert admin_client.post("/admin/users/99999/disable").status_code == 404


def test_disable_asks_for_confirmation_then_ends_sessions(admin_client, app, db, factory):
    user = factory.user(name="To Disable")
    other = app.test_client()
    assert (
        other.post("/login", data={"email": user.email, "password": Factory.PASSWORD}).status_code
        == 302
    )
    confirm = admin_client.get(f"/admin/users/{user.id}/disable")
    assert confirm.status_code == 200
    assert "Disable the account of To Disable?" in confirm.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(User, user.id).disabled_at is None  # GET changed nothing
    response = admin_client.post(f"/admin/users/{user.id}/disable", follow_redirects=True)
    assert "sessions ended: 1" in response.get_data(as_text=True)
    assert other.get("/").status_code == 302
    assert (
        _count(db, UserSession, UserSession.user_id == user.id, UserSession.ended_at.is_(None)) == 0
    )
    (entry,) = _audit(db, "disable")
    assert entry.before == {"disabled_at": None} and entry.after["disabled_at"]
    # Enable again.
    admin_client.post(f"/admin/users/{user.id}/enable")
    db.session.rollback()
    assert db.session.get(User, user.id).disabled_at is None
    assert _audit(db, "enable")
    assert (
        other.post("/login", data={"email": user.email, "password": Factory.PASSWORD}).status_code
        == 302
    )


def test_admin_cannot_disable_themselves(admin_client, db, admin):
    response = admin_client.post(f"/admin/users/{admin.id}/disable", follow_redirects=True)
    assert "You cannot disable your own account." in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(User, admin.id).disabled_at is None


def test_reset_two_factor(admin_client, db, factory):
    other_admin = factory.user(role=Role.ADMIN)
    response = admin_client.post(f"/admin/users/{other_admin.id}/reset-two-factor")
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(User, other_admin.id).totp_secret is None
    assert _audit(db, "reset_totp")


def test_new_link_for_an_existing_user(admin_client, db, factory):
    user = factory.user()
    response = admin_client.post(f"/admin/users/{user.id}/invitation")
    assert response.status_code == 200
    assert "/set-password/" in response.get_data(as_text=True)
    assert _audit(db, "invite")
