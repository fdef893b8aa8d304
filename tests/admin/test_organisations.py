"""Admin pages for organisations: list with user counts and presence, create, rename."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tracker.audit.models import AuditEntry
from tracker.auth.models import Organisation
from tracker.types import utcnow


def _audit(db, action):
    db.session.rollback()
    return db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == action, AuditEntry.entity_type == "organisations"
        )
    ).all()


def test_list_shows_user_counts_and_presence(admin_client, factory, admin):
    fr, sn = factory.jurisdiction("FR", "France"), factory.jurisdiction("SN", "Senegal")
    org = factory.organisation(name="Migrant Rights Centre")
    org.present_in = [fr, sn]
    factory.commit(org)
    factory.user(organisation=org)
    factory.user(organisation=org, disabled_at=utcnow())
    html = admin_client.get("/admin/organisations").get_data(as_text=True)
    assert "Migrant Rights Centre" in html
    row = html.split("Migrant Rights Centre", 1)[1].split("</tr>", 1)[0]
    assert "1 / 2" in row
    assert "France" in row and "Senegal" in row


def test_empty_state(admin_client, db):
    # Only the admin's own organisation exists; a brand-new deployment still renders.
    assert admin_client.get("/admin/organisations").status_code == 200


def test_create_and_rename_are_audited(admin_client, db, factory):
    fr = factory.jurisdiction("FR", "France")
    response = admin_client.post(
        "/admin/organisations/new",
        data={
            "name": "New Org",
            "short_name": "NO",
            "website": "https://new.example.org",
            "present_in": [str(fr.id)],
        },
    )
    assert response.status_code == 302
    org = db.session.scalar(select(Organisation).where(Organisation.name == "New Org"))
    assert [j.code for j in org.present_in] == ["FR"]
    (created,) = _audit(db, "create")
    assert created.after["name"] == "New Org" and created.after["present_in"] == ["FR"]

    response = admin_client.post(
        f"/admin/organisations/{org.id}",
        data={
            "name": "Renamed Org",
            "short_name": "NO",
            "website": "https://new.example.org",
            "present_in": [str(fr.id)],
        },
    )
    assert response.status_code == 302
    (renamed,) = _audit(db, "rename")
    assert renamed.before == {"name": "New Org"} and renamed.after == {"name": "Renamed Org"}
    assert "Renamed Org" in admin_client.get("/admin/organisations").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "Taken Org"}, "An organisation with this name already exists."),
        ({"name": "taken org"}, "An organisation with this name already exists."),
        ({"name": "X", "website": "not a url"}, "Enter a full web address."),
        ({"name": "X", "present_in": ["99999"]}, "not a valid choice"),
        ({"name": "X" * 201}, "Field cannot be longer than 200 characters."),
    ],
)
def test_bad_input_is_refused(admin_client, db, factory, data, error):
    factory.organisation(name="Taken Org")
    factory.jurisdiction("FR", "France")
    before = db.session.scalar(select(func.count()).select_from(Organisation))
    response = admin_client.post("/admin/organisations/new", data=data)
    assert response.status_code == 400
    assert error.lower() in response.get_data(as_text=True).lower()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == before
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_rename_to_an_existing_name_is_refused(admin_client, db, factory):
    factory.organisation(name="First")
    second = factory.organisation(name="Second")
    response = admin_client.post(f"/admin/organisations/{second.id}", data={"name": "FIRST"})
    assert response.status_code == 400
    db.session.rollback()
    assert db.session.get(Organisation, second.id).name == "Second"
