"""The audit trail: written in the caller's transaction, append-only, browsed by admins only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select

from tracker.audit.models import AuditEntry
from tracker.audit.services import AuditTrailImmutable, record_audit
from tracker.auth.models import Organisation, User
from tracker.auth.services import (
    create_user,
    disable_user,
    save_organisation,
    update_user,
)
from tracker.types import Confidentiality, Role, utcnow


def _entries(db):
    db.session.rollback()
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def test_services_write_audit_rows_that_commit_with_the_change(db, factory):
    org = save_organisation(organisation=None, name="Audit Org")
    user = create_user(email="a@example.org", name="A", organisation=org, role=Role.VIEWER)
    update_user(user=user, name="A renamed", organisation=org, role=Role.LITIGATOR)
    save_organisation(organisation=org, name="Audit Org renamed")
    other_admin = factory.user(role=Role.ADMIN)  # keeps an admin around
    disable_user(user=user, actor=other_admin)
    db.session.commit()
    got = [(e.action, e.entity_type) for e in _entries(db)]
    assert got == [
        ("create", "organisations"),
        ("create", "users"),
        ("update", "users"),
        ("rename", "organisations"),
        ("disable", "users"),
    ]
    update = _entries(db)[2]
    assert update.before == {"name": "A", "role": "viewer"}
    assert update.after == {"name": "A renamed", "role": "litigator"}


@pytest.mark.parametrize(
    "service",
    ["create_user", "update_user", "disable_user", "create_organisation", "rename_organisation"],
)
def test_audit_rows_roll_back_with_their_transaction(db, factory, service):
    org = factory.organisation(name="Before")
    user = factory.user(organisation=org, name="Before")
    db.session.execute(delete(AuditEntry))
    db.session.commit()
    if service == "create_user":
        create_user(email="new@example.org", name="N", organisation=org, role=Role.VIEWER)
    elif service == "update_user":
        update_user(user=user, name="After", organisation=org, role=Role.COORDINATOR)
    elif service == "disable_user":
        disable_user(user=user)
    elif service == "create_organisation":
        save_organisation(organisation=None, name="New org")
    else:
        save_organisation(organisation=org, name="After")
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1  # written...
    db.session.rollback()  # ...then the unit of work fails
    assert _entries(db) == []
    assert db.session.get(User, user.id).name == "Before"
    assert db.session.get(Organisation, org.id).name == "Before"
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_a_failing_request_leaves_no_audit_row(app, db, factory, client, login, monkeypatch):
    admin = factory.user(role=Role.ADMIN)
    target = factory.user(role=Role.VIEWER)
    login(admin)
    db.session.execute(delete(AuditEntry))
    db.session.commit()

    import tracker.admin.routes as admin_routes

    def update_then_fail(**kwargs):
        update_user(**kwargs)  # writes the change and its audit row...
        raise RuntimeError("boom")  # ...then something goes wrong before the commit

    monkeypatch.setattr(admin_routes, "update_user", update_then_fail)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = client.post(
            f"/admin/users/{target.id}",
            data={"name": "Changed", "organisation": target.organisation_id, "role": "litigator"},
        )
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    assert _entries(db) == []
    assert db.session.get(User, target.id).role == Role.VIEWER


def test_audit_entries_cannot_be_changed_or_deleted_through_the_orm(db, factory):
    entry = record_audit(action="create", entity_type="things", entity_id=1, after={"a": 1})
    db.session.commit()
    entry.summary = "tampered"
    with pytest.raises(AuditTrailImmutable):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(AuditTrailImmutable):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).summary is None


def test_the_guard_is_registered_on_every_session(app, db):
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from tracker.audit.services import guard_audit_trail

    assert event.contains(Session, "before_flush", guard_audit_trail)


def test_secrets_never_reach_the_trail(db, factory):
    org = factory.organisation()
    create_user(
        email="s@example.org",
        name="S",
        organisation=org,
        role=Role.VIEWER,
        password="a long and secret passphrase",
    )
    db.session.commit()
    (entry,) = [e for e in _entries(db) if e.entity_type == "users"]
    assert "password_hash" not in entry.after and "totp_secret" not in entry.after
    assert "passphrase" not in repr(entry.after)


# --- The audit page --------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VIEWER, Role.LITIGATOR, Role.COORDINATOR])
def test_audit_page_is_404_for_non_admins(client, factory, login, role):
    login(factory.user(role=role))
    assert client.get("/admin/audit").status_code == 404


def test_audit_area_has_no_mutation_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin.audit"):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    # Nothing anywhere deletes or edits audit entries.
    assert not [r for r in app.url_map.iter_rules() if "audit" in r.rule and "POST" in r.methods]


@pytest.fixture()
def admin_client(client, factory, login):
    admin = factory.user(role=Role.ADMIN, name="Audit Admin", email="auditor@example.org")
    login(admin)
    return client


def test_audit_page_lists_newest_first_with_diffs(admin_client, db, factory):
    org = factory.organisation()
    user = create_user(email="d@example.org", name="Diff", organisation=org, role=Role.VIEWER)
    db.session.commit()
    update_user(user=user, name="Diff", organisation=org, role=Role.COORDINATOR)
    db.session.commit()
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    badges = '<span class="badge">update</span>', '<span class="badge">create</span>'
    assert html.index(badges[0]) < html.index(badges[1])  # newest first
    assert "<del>viewer</del>" in html and "<ins>coordinator</ins>" in html


def test_audit_filters(admin_client, db, factory):
    org = factory.organisation()
    a = create_user(email="fa@example.org", name="FA", organisation=org, role=Role.VIEWER)
    save_organisation(organisation=None, name="Filtered Org")
    db.session.commit()
    by_type = admin_client.get("/admin/audit?entity_type=organisations").get_data(as_text=True)
    assert "Filtered Org" in by_type and "fa@example.org" not in by_type
    by_id = admin_client.get(f"/admin/audit?entity_type=users&entity_id={a.id}").get_data(
        as_text=True
    )
    assert "fa@example.org" in by_id
    by_action = admin_client.get("/admin/audit?action=create&entity_id=99999")
    assert "No entries match" in by_action.get_data(as_text=True)
    today = utcnow().date()
    in_range = admin_client.get(f"/admin/audit?date_from={today}&date_to={today}")
    assert "fa@example.org" in in_range.get_data(as_text=True)
    tomorrow = today + timedelta(days=1)
    assert "No entries match" in admin_client.get(f"/admin/audit?date_from={tomorrow}").get_data(
        as_text=True
    )


def test_audit_filter_by_user(admin_client, db, factory, client):
    # The admin's own actions are attributed to them.
    org = factory.organisation()
    response = admin_client.post(
        "/admin/users/new",
        data={
            "name": "By Admin",
            "email": "byadmin@example.org",
            "organisation": org.id,
            "role": "viewer",
        },
    )
    assert response.status_code == 200
    html = admin_client.get("/admin/audit?user=auditor@example.org").get_data(as_text=True)
    assert "byadmin@example.org" in html
    assert "Audit Admin" in html


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("date_from=not-a-date", "Not a valid date value."),
        ("date_from=2026-02-10&date_to=2026-02-01", "The end date is before the start date."),
        ("user=ghost@example.org", "No user has this e-mail."),
        ("entity_type=nonsense", "Not a valid choice"),
        ("action=drop-table", "Not a valid choice"),
    ],
)
def test_bad_filters_are_400_with_field_errors(admin_client, query, error):
    response = admin_client.get(f"/admin/audit?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert error.lower() in html.lower()
    assert 'aria-invalid="true"' in html


def test_audit_page_paginates(admin_client, db):
    for i in range(60):
        record_audit(action="create", entity_type="things", entity_id=i, after={"n": i})
    db.session.commit()
    first = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "Page 1 of 2" in first and "things #59" in first and "things #0<" not in first
    second = admin_client.get("/admin/audit?page=2").get_data(as_text=True)
    assert "things #0" in second
    assert admin_client.get("/admin/audit?page=-3").status_code == 400  # test_input.py


def test_entries_about_cases_the_admin_may_not_see_are_withheld(admin_client, db, factory):
    restricted = factory.case(confidentiality=Confidentiality.RESTRICTED, title="Secret strategy")
    network = factory.case(confidentiality=Confidentiality.NETWORK, title="Open matter")
    record_audit(
        action="update",
        entity=restricted,
        before={"title": "Old secret"},
        after={"title": "Secret strategy"},
        summary="Secret strategy edited",
    )
    record_audit(
        action="create",
        entity_type="proceedings",
        entity_id=7,
        after={"case_id": restricted.id, "reference": "SECRET-REF"},
    )
    record_audit(
        action="update",
        entity=network,
        before={"title": "Old open"},
        after={"title": "Open matter"},
    )
    db.session.commit()
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "Secret strategy" not in html and "SECRET-REF" not in html and "Old secret" not in html
    assert html.count("Details withheld") == 2
    assert "Open matter" in html


def _audit_world(factory):
    """Records of every audited type, one on a restricted case the admin is not on and one on
    a network case, plus library pleadings and documents at both ends of the rule."""
    from tracker.cases.models import (
        CaseLink,
        Compliance,
        Event,
        EventKind,
        Implementation,
        LinkKind,
        Party,
        PartyRole,
        ProceedingTreatment,
        Treatment,
    )
    from tracker.documents.models import DocumentKind
    from tracker.patterns.models import Opportunity
    from tracker.pleadings.models import ModelPleading

    author = factory.user(role=Role.LITIGATOR)
    rights = {"secret": factory.right("liberty"), "open": factory.right("asylum")}
    target = factory.jurisdiction("DE")
    cases = {
        "secret": factory.case(confidentiality=Confidentiality.RESTRICTED, team=[author]),
        "open": factory.case(confidentiality=Confidentiality.NETWORK),
    }
    other_open = factory.case(confidentiality=Confidentiality.NETWORK)
    records: dict[str, list] = {}
    for side, case in cases.items():
        right = rights[side]
        proceeding = factory.proceeding(case)
        pleading_level = Confidentiality.RESTRICTED if side == "secret" else Confidentiality.NETWORK
        pleading = factory.commit(
            ModelPleading(
                title=f"Pleading {side}",
                kind=DocumentKind.COMPLAINT,
                language="en",
                organisation=author.organisation,
                confidentiality=pleading_level,
                created_by_id=author.id,
            )
        )
        records[side] = [
            case,
            proceeding,
            factory.commit(
                ProceedingTreatment(proceeding=proceeding, right=right, treatment=Treatment.UPHELD)
            ),
            factory.commit(
                Implementation(
                    proceeding=proceeding, measures_ordered="x", compliance=Compliance.UNKNOWN
                )
            ),
            factory.commit(Party(case=case, role=PartyRole.CLAIMANT, pseudonym="A.B.")),
            factory.commit(
                Event(case=case, kind=EventKind.HEARING, occurred_on=date(2025, 1, 1), title="H")
            ),
            # A link is withheld when either end is: the restricted case is its target here.
            factory.commit(
                CaseLink(source_case=other_open, target_case=case, kind=LinkKind.RELATED_TO)
            ),
            factory.document(case),  # a network document: its case decides
            pleading,
            factory.document(None, pleading_id=pleading.id),  # a library document
            # Derived facts as the refresh would set them: the restricted win counts in no
            # open total, so only its team could see that row.
            factory.commit(
                Opportunity(
                    source_case_id=case.id,
                    source_proceeding_id=proceeding.id,
                    right_id=right.id,
                    target_jurisdiction_id=target.id,
                    open_wins=0 if side == "secret" else 1,
                    basis="{}",
                )
            ),
        ]
    return records


def test_entries_are_withheld_per_record_type(admin_client, db, factory):
    """Entries that carry no case_id are decided by their record: its case (through the
    proceeding for treatments and implementations, either end for links), document_filter,
    pleading_filter. Unknown types are withheld; the deployment's own records are shown."""
    records = _audit_world(factory)
    db.session.execute(delete(AuditEntry))
    expected: dict[str, bool] = {}  # marker -> shown
    for side, items in records.items():
        for record in items:
            marker = f"{side.upper()}-{type(record).__tablename__}-{record.id}"
            record_audit(action="update", entity=record, after={"note": marker}, summary=marker)
            expected[marker] = side == "open"
    record_audit(action="create", entity_type="mystery", entity_id=1, after={"note": "MYSTERY"})
    expected["MYSTERY"] = False
    user = factory.user(role=Role.VIEWER)
    record_audit(action="update", entity=user, after={"note": "USER-ENTRY"})
    expected["USER-ENTRY"] = True
    # Records that no longer exist: their own values decide, and only an open level shows.
    for level in ("restricted", "organisation", "network"):
        marker = f"DELETED-{level}"
        record_audit(
            action="case.delete",
            entity_type="cases",
            entity_id=900000,
            before={"confidentiality": level, "title": marker},
        )
        expected[marker] = level == "network"
    record_audit(
        action="event.delete",
        entity_type="events",
        entity_id=900001,
        before={"case_id": records["secret"][0].id, "title": "DELETED-event-secret"},
    )
    expected["DELETED-event-secret"] = False
    record_audit(
        action="event.delete",
        entity_type="events",
        entity_id=900002,
        before={"case_id": records["open"][0].id, "title": "DELETED-event-open"},
    )
    expected["DELETED-event-open"] = True
    db.session.commit()

    html = admin_client.get("/admin/audit").get_data(as_text=True)
    wrong = {marker: shown for marker, shown in expected.items() if (marker in html) != shown}
    assert not wrong, wrong
    assert html.count("Details withheld") == sum(not shown for shown in expected.values())
    types = {type(r).__tablename__ for r in records["secret"]}
    assert types >= {
        "cases",
        "proceedings",
        "proceeding_treatments",
        "implementations",
        "parties",
        "events",
        "case_links",
        "documents",
        "model_pleadings",
        "opportunities",
    }
