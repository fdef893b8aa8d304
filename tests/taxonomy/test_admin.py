"""Reference-data admin pages: completing placeholders, provisions and the crosswalk, rights,
instruments' titles; audit entries; validation; deletes refused when in use; and the
reference loader keeping what an administrator edited.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tracker.audit.models import AuditEntry
from tracker.cases.models import Treatment
from tracker.taxonomy import services
from tracker.taxonomy.models import Instrument, Provision, Right, provision_rights
from tracker.taxonomy.reference import DATA_DIR, ReferenceDataError, load_reference
from tracker.types import Role

ADMIN = "/taxonomy/admin"


# --- helpers ---------------------------------------------------------------------------------
def provision(db, code: str) -> Provision:
    return db.session.scalars(select(Provision).where(Provision.code == code)).one()


def right(db, code: str) -> Right:
    return db.session.scalars(select(Right).where(Right.code == code)).one()


def instrument(db, code: str) -> Instrument:
    return db.session.scalars(select(Instrument).where(Instrument.code == code)).one()


def audit_entries(db, action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def text_of(response) -> str:
    """The page's text without tags, whitespace collapsed (what a reader sees)."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def file_pairs(instrument_code: str, number: str) -> set[str]:
    with (DATA_DIR / "crosswalk.csv").open(newline="", encoding="utf-8") as handle:
        return {
            r["right_code"]
            for r in csv.DictReader(handle)
            if (r["instrument_code"], r["provision_number"]) == (instrument_code, number)
        }


@pytest.fixture()
def admin(factory):
    return factory.user(role=Role.ADMIN, name="Reference Admin")


@pytest.fixture()
def admin_client(client, login, admin, reference_data):
    response = login(admin)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def provision_form(p: Provision, **changes) -> dict:
    data = {
        "number": p.number,
        "title": p.title,
        "text": p.text or "",
        "rights": [r.id for r in p.rights],
        "version": services.version_of(p),
    }
    if p.placeholder:
        data["placeholder"] = "y"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# --- who may use the pages -------------------------------------------------------------------
ADMIN_URLS = [
    "/",
    "/instruments",
    "/instruments/1",
    "/provisions",
    "/provisions/new",
    "/provisions/1",
    "/provisions/1/delete",
    "/rights",
    "/rights/new",
    "/rights/1",
    "/rights/1/delete",
]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.LITIGATOR, Role.COORDINATOR])
def test_pages_are_404_for_other_roles(db, client, login, factory, reference_data, role):
    login(factory.user(role=role))
    for url in ADMIN_URLS:
        assert client.get(ADMIN + url).status_code == 404, url
    # And nothing is written by a POST either.
    before = provision(db, "ECHR:5").title
    assert client.post(f"{ADMIN}/provisions/1", data={"title": "x"}).status_code == 404
    assert client.post(f"{ADMIN}/rights/1/delete").status_code == 404
    db.session.expire_all()
    assert provision(db, "ECHR:5").title == before


def test_every_page_answers_an_admin(db, admin_client):
    for url in ADMIN_URLS:
        assert admin_client.get(ADMIN + url).status_code == 200, url


def test_admin_index_links_to_the_reference_pages(db, admin_client):
    page = admin_client.get("/admin/")
    assert f'href="{ADMIN}/"' in page.get_data(as_text=True)
    overview = text_of(admin_client.get(ADMIN + "/"))
    assert "8 provisions are placeholders" in overview
    iachr = instrument(db, "IACHR-PRINCIPLES-2019")
    assert f"{iachr.title} has no provisions yet." in overview


# --- completing a placeholder (the reason these pages exist) ---------------------------------
def test_admin_completes_a_placeholder_principle(db, admin_client, admin):
    p7 = provision(db, "PRINCIPLES-14:7")
    assert p7.placeholder
    listing = text_of(admin_client.get(f"{ADMIN}/provisions?status=placeholder"))
    assert "8 provisions" in listing and "Principle 7: heading to be completed" in listing

    health = right(db, "health")
    response = admin_client.post(
        f"{ADMIN}/provisions/{p7.id}",
        data=provision_form(
            p7,
            title="Immigration enforcement",
            text="A summary entered by the administrator.",
            placeholder=None,
            rights=[health.id],
        ),
    )
    assert response.status_code == 302
    page = text_of(admin_client.get(response.headers["Location"]))
    assert "Saved 14 Principles 7." in page

    db.session.expire_all()
    p7 = provision(db, "PRINCIPLES-14:7")
    assert (p7.title, p7.text, p7.placeholder) == (
        "Immigration enforcement",
        "A summary entered by the administrator.",
        False,
    )
    assert [r.code for r in p7.rights] == ["health"]
    assert p7.edited_at is not None
    (entry,) = audit_entries(db, "provision.update")
    assert entry.user_id == admin.id
    assert entry.entity_type == "provisions" and entry.entity_id == str(p7.id)
    assert entry.before["title"].startswith("Principle 7: heading to be completed")
    assert entry.after["title"] == "Immigration enforcement"
    assert (entry.before["placeholder"], entry.after["placeholder"]) == (True, False)
    assert (entry.before["rights"], entry.after["rights"]) == ([], ["health"])
    # The picker used by case forms shows the new title at once.
    items = admin_client.get("/taxonomy/provisions?instrument=PRINCIPLES-14&q=7").get_json()
    assert items["items"][0]["label"] == "Immigration enforcement"


def test_admin_enters_the_iachr_principles(db, admin_client):
    iachr = instrument(db, "IACHR-PRINCIPLES-2019")
    liberty = right(db, "liberty")
    response = admin_client.post(
        f"{ADMIN}/provisions/new",
        data={
            "instrument": iachr.id,
            "number": "1",
            "title": "Principle 1 as published",
            "text": "",
            "rights": [liberty.id],
        },
    )
    assert response.status_code == 302
    created = provision(db, "IACHR-PRINCIPLES-2019:1")
    assert created.title == "Principle 1 as published"
    assert [r.code for r in created.rights] == ["liberty"]
    (entry,) = audit_entries(db, "provision.create")
    assert entry.before is None and entry.after["code"] == "IACHR-PRINCIPLES-2019:1"
    assert entry.after["rights"] == ["liberty"]
    listing = text_of(admin_client.get(f"{ADMIN}/provisions?instrument=IACHR-PRINCIPLES-2019"))
    assert "Principle 1 as published" in listing


def test_search_and_filters_of_the_provision_list(db, admin_client):
    by_word = text_of(admin_client.get(f"{ADMIN}/provisions?q=liberty+security"))
    assert "Right to liberty and security" in by_word
    assert "Prohibition of torture" not in by_word
    unmapped = text_of(admin_client.get(f"{ADMIN}/provisions?status=unmapped"))
    assert "Principle 7: heading to be completed" in unmapped
    assert "Right to liberty and security" not in unmapped
    by_right = text_of(admin_client.get(f"{ADMIN}/provisions?right=liberty"))
    assert "Right to liberty and security" in by_right
    assert "Prohibition of torture" not in by_right
    assert admin_client.get(f"{ADMIN}/provisions?instrument=NOPE").status_code == 404


# --- validation ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"title": "x" * 301}, "title", "Field cannot be longer than 300 characters."),
        ({"number": "5 bis!"}, "number", "Use letters, digits, dots, hyphens and brackets"),
        ({"number": "3"}, "number", "ECHR already has a provision numbered 3."),
        ({"rights": ["999999"]}, "rights", "not a valid choice"),
    ],
    ids=["empty-title", "long-title", "bad-number", "taken-number", "unknown-right"],
)
def test_invalid_provision_edits_are_field_errors(db, admin_client, changes, field, message):
    # A provision added in the app (shipped ones keep their numbers).
    echr = instrument(db, "ECHR")
    added = services.create_provision(instrument=echr, number="99", title="Added")
    db.session.commit()
    response = admin_client.post(
        f"{ADMIN}/provisions/{added.id}", data=provision_form(added, **changes)
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    error = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', html, re.S)
    assert error, html
    assert message in error.group(1)
    assert f'href="#{field}"' in html  # the summary links to the field
    db.session.expire_all()
    assert provision(db, "ECHR:99").title == "Added"
    assert audit_entries(db, "provision.update") == []


def test_a_shipped_provision_keeps_its_number(db, admin_client):
    echr5 = provision(db, "ECHR:5")
    response = admin_client.post(
        f"{ADMIN}/provisions/{echr5.id}", data=provision_form(echr5, number="5A")
    )
    assert response.status_code == 400
    assert "its number cannot change" in text_of(response)
    db.session.expire_all()
    assert provision(db, "ECHR:5").number == "5"


def test_an_added_provision_can_be_renumbered(db, admin_client):
    added = services.create_provision(instrument=instrument(db, "ECHR"), number="99", title="X")
    db.session.commit()
    response = admin_client.post(
        f"{ADMIN}/provisions/{added.id}", data=provision_form(added, number="98")
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert provision(db, "ECHR:98").title == "X"
    (entry,) = audit_entries(db, "provision.update")
    assert (entry.before["code"], entry.after["code"]) == ("ECHR:99", "ECHR:98")


def test_a_stale_form_is_refused_and_says_why(db, admin_client):
    p8 = provision(db, "PRINCIPLES-14:8")
    opened = provision_form(p8)  # the form as the first admin opened it
    services.update_provision(
        provision=p8,
        number="8",
        title="Saved by someone else",
        text=None,
        placeholder=True,
        rights=[],
    )
    db.session.commit()
    response = admin_client.post(f"{ADMIN}/provisions/{p8.id}", data={**opened, "title": "Mine"})
    assert response.status_code == 409
    page = text_of(response)
    assert "Someone else saved this record after you opened it" in page
    assert "Open the current version" in page
    assert 'value="Mine"' in response.get_data(as_text=True)  # what they typed is kept
    db.session.expire_all()
    assert provision(db, "PRINCIPLES-14:8").title == "Saved by someone else"


def test_saving_without_changes_writes_nothing(db, admin_client):
    echr5 = provision(db, "ECHR:5")
    response = admin_client.post(f"{ADMIN}/provisions/{echr5.id}", data=provision_form(echr5))
    assert response.status_code == 302
    assert "No changes to save." in text_of(admin_client.get(response.headers["Location"]))
    db.session.expire_all()
    assert provision(db, "ECHR:5").edited_at is None
    assert audit_entries(db, "provision.update") == []


# --- instruments -----------------------------------------------------------------------------
def test_admin_edits_an_instruments_titles(db, admin_client):
    gcm = instrument(db, "GCM")
    response = admin_client.post(
        f"{ADMIN}/instruments/{gcm.id}",
        data={"short_title": "GCM", "title": gcm.title, "version": ""},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert instrument(db, "GCM").short_title == "GCM"
    (entry,) = audit_entries(db, "instrument.update")
    assert entry.before["short_title"] == "Global Compact for Migration"
    assert entry.after["short_title"] == "GCM"
    # Provision labels everywhere follow the instrument's short title.
    items = admin_client.get("/taxonomy/provisions?instrument=GCM&q=13").get_json()["items"]
    assert items[0]["detail"].startswith("GCM no. 13 — ")

    empty = admin_client.post(
        f"{ADMIN}/instruments/{gcm.id}", data={"short_title": " ", "title": gcm.title}
    )
    assert empty.status_code == 400
    assert "This field is required." in text_of(empty)


# --- rights ----------------------------------------------------------------------------------
def test_admin_adds_and_edits_a_right(db, admin_client, admin):
    group = right(db, "economic-social")
    response = admin_client.post(
        f"{ADMIN}/rights/new",
        data={
            "code": "water",
            "name": "Water and sanitation",
            "description": "",
            "parent": group.id,
        },
    )
    assert response.status_code == 302
    water = right(db, "water")
    assert water.parent_id == group.id and water.edited_at is not None
    (created,) = audit_entries(db, "right.create")
    assert created.after["parent"] == "economic-social" and created.user_id == admin.id
    assert "Water and sanitation" in text_of(admin_client.get(f"{ADMIN}/rights"))

    liberty = right(db, "liberty")
    response = admin_client.post(
        f"{ADMIN}/rights/{liberty.id}",
        data={
            "name": "Liberty",
            "description": "Shorter.",
            "parent": liberty.parent_id,
            "version": "",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    (updated,) = audit_entries(db, "right.update")
    assert updated.before["name"] == "Liberty and freedom from arbitrary detention"
    assert updated.after["name"] == "Liberty"
    assert right(db, "liberty").description == "Shorter."


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"code": "Water!", "name": "W"}, "code", "Use lower-case letters and digits"),
        ({"code": "liberty", "name": "Dup"}, "code", "A right with the code liberty exists."),
        ({"code": "water", "name": ""}, "name", "This field is required."),
        # The choices are the groups only; the service says why for other callers (below).
        ({"code": "water", "name": "W", "parent": "liberty"}, "parent", "Not a valid choice"),
        ({"code": "water", "name": "W", "parent": "424242"}, "parent", "Not a valid choice"),
    ],
    ids=["bad-code", "duplicate-code", "no-name", "three-levels", "unknown-parent"],
)
def test_invalid_new_rights_are_field_errors(db, admin_client, data, field, message):
    data = {"description": "", "parent": "0", **data}
    if data["parent"] == "liberty":
        data["parent"] = str(right(db, "liberty").id)
    before = db.session.scalar(select(func.count()).select_from(Right))
    response = admin_client.post(f"{ADMIN}/rights/new", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    error = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', html, re.S)
    assert error and message in error.group(1), html
    assert db.session.scalar(select(func.count()).select_from(Right)) == before


def test_the_taxonomy_keeps_two_levels(db, reference_data):
    with pytest.raises(services.ReferenceEditError, match="itself under a group") as info:
        services.create_right(code="water", name="W", parent=right(db, "liberty"))
    assert info.value.field == "parent"
    group = right(db, "protection")
    with pytest.raises(services.ReferenceEditError, match="cannot be its own parent"):
        services.update_right(right=group, name=group.name, description=None, parent=group)


def test_a_group_with_rights_cannot_move_under_another(db, admin_client):
    protection, equality = right(db, "protection"), right(db, "equality")
    response = admin_client.post(
        f"{ADMIN}/rights/{protection.id}",
        data={"name": protection.name, "description": "", "parent": equality.id, "version": ""},
    )
    assert response.status_code == 400
    assert "is a group with rights under it" in text_of(response)


# --- deleting --------------------------------------------------------------------------------
def test_deleting_a_right_in_use_is_refused(db, admin_client, factory):
    water = services.create_right(code="water", name="Water", parent=right(db, "economic-social"))
    db.session.commit()
    factory.case(rights=[water], confidentiality="restricted")
    page = admin_client.get(f"{ADMIN}/rights/{water.id}/delete")
    assert page.status_code == 200
    assert "it is in use by cases" in text_of(page)
    assert "<button" not in page.get_data(as_text=True).split("<main", 1)[1].split("</form>")[-1]
    refused = admin_client.post(f"{ADMIN}/rights/{water.id}/delete")
    assert refused.status_code == 409
    assert "This right is in use (by cases), so it cannot be deleted." in text_of(refused)
    assert db.session.get(Right, water.id) is not None
    assert audit_entries(db, "right.delete") == []


def test_deleting_a_provision_used_by_a_proceeding_is_refused(db, admin_client, factory):
    added = services.create_provision(instrument=instrument(db, "ECHR"), number="99", title="X")
    db.session.commit()
    case = factory.case()
    proceeding = factory.proceeding(case)
    from tracker.cases.models import ProceedingTreatment

    factory.commit(
        ProceedingTreatment(proceeding=proceeding, provision=added, treatment=Treatment.UPHELD)
    )
    refused = admin_client.post(f"{ADMIN}/provisions/{added.id}/delete")
    assert refused.status_code == 409
    assert "proceedings (how a forum treated it)" in text_of(refused)
    assert db.session.get(Provision, added.id) is not None


def test_shipped_rows_cannot_be_deleted(db, admin_client):
    for url, what in (
        (f"{ADMIN}/rights/{right(db, 'health').id}/delete", "right"),
        (f"{ADMIN}/provisions/{provision(db, 'ECHR:5').id}/delete", "provision"),
    ):
        page = text_of(admin_client.get(url))
        assert "comes from the reference data shipped with the application" in page, what
        assert admin_client.post(url).status_code == 409
    assert right(db, "health") and provision(db, "ECHR:5")


def test_a_group_with_rights_cannot_be_deleted(db, admin_client):
    group = services.create_right(code="new-group", name="New group")
    services.create_right(code="member", name="Member right", parent=group)
    db.session.commit()
    page = text_of(admin_client.get(f"{ADMIN}/rights/{group.id}/delete"))
    assert "it is a group with rights under it (Member right)" in page
    assert admin_client.post(f"{ADMIN}/rights/{group.id}/delete").status_code == 409


def test_deleting_an_unused_right_explains_the_crosswalk_and_audits(db, admin_client, admin):
    water = services.create_right(code="water", name="Water", parent=right(db, "economic-social"))
    added = services.create_provision(
        instrument=instrument(db, "ICESCR"), number="11A", title="Water", rights=[water]
    )
    db.session.commit()
    page = text_of(admin_client.get(f"{ADMIN}/rights/{water.id}/delete"))
    assert "It is removed from the crosswalk of these provisions: ICESCR:11A" in page
    response = admin_client.post(f"{ADMIN}/rights/{water.id}/delete")
    assert response.status_code == 302
    assert "Deleted the right Water." in text_of(admin_client.get(response.headers["Location"]))
    db.session.expire_all()
    assert db.session.scalar(select(Right).where(Right.code == "water")) is None
    assert provision(db, "ICESCR:11A").rights == []
    (entry,) = audit_entries(db, "right.delete")
    assert entry.user_id == admin.id and entry.entity_id == str(water.id)
    assert entry.before["code"] == "water" and entry.before["crosswalk"] == ["ICESCR:11A"]
    assert entry.after is None
    assert added.id  # the provision itself stays


def test_deleting_an_added_provision(db, admin_client):
    added = services.create_provision(
        instrument=instrument(db, "ECHR"), number="99", title="X", rights=[right(db, "life")]
    )
    db.session.commit()
    page = text_of(admin_client.get(f"{ADMIN}/provisions/{added.id}/delete"))
    assert "Its crosswalk to these rights is removed with it: Right to life" in page
    assert admin_client.post(f"{ADMIN}/provisions/{added.id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(Provision, added.id) is None
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(provision_rights)
            .where(provision_rights.c.provision_id == added.id)
        )
        == 0
    )
    (entry,) = audit_entries(db, "provision.delete")
    assert entry.before["code"] == "ECHR:99" and entry.before["rights"] == ["life"]


def test_csrf_protects_the_admin_forms(db, admin_client, csrf_enabled):
    echr5 = provision(db, "ECHR:5")
    assert (
        admin_client.post(f"{ADMIN}/provisions/{echr5.id}", data=provision_form(echr5)).status_code
        == 400
    )
    added = services.create_provision(instrument=instrument(db, "ECHR"), number="99", title="X")
    db.session.commit()
    assert admin_client.post(f"{ADMIN}/provisions/{added.id}/delete").status_code == 400
    assert db.session.get(Provision, added.id) is not None


# --- audit entries belong to the edit's transaction -----------------------------------------
def test_a_rolled_back_edit_leaves_no_audit_entry(db, reference_data):
    p9 = provision(db, "PRINCIPLES-14:9")
    services.update_provision(
        provision=p9, number="9", title="Changed", text=None, placeholder=False, rights=[]
    )
    assert audit_entries(db, "provision.update")  # written in the same unit of work
    db.session.rollback()
    assert audit_entries(db, "provision.update") == []
    assert provision(db, "PRINCIPLES-14:9").title.startswith("Principle 9: heading")


def test_crosswalk_changes_call_the_derived_data_hook(db, reference_data, monkeypatch):
    calls = []
    monkeypatch.setattr(services, "_derived_data_changed", lambda: calls.append(1))
    echr5 = provision(db, "ECHR:5")
    services.update_provision(
        provision=echr5,
        number="5",
        title="Right to liberty and security (edited)",
        text=None,
        placeholder=False,
        rights=list(echr5.rights),
    )
    assert calls == []  # the title alone changes no number
    services.update_provision(
        provision=echr5,
        number="5",
        title=echr5.title,
        text=None,
        placeholder=False,
        rights=[right(db, "life")],
    )
    assert calls == [1]


# --- the loader keeps what an administrator edited ------------------------------------------
def _edit_some_rows(db):
    p7 = provision(db, "PRINCIPLES-14:7")
    services.update_provision(
        provision=p7,
        number="7",
        title="Completed by an admin",
        text="Its text.",
        placeholder=False,
        rights=[right(db, "liberty")],
    )
    echr5 = provision(db, "ECHR:5")
    services.update_provision(
        provision=echr5, number="5", title=echr5.title, text=None, placeholder=False, rights=[]
    )
    liberty = right(db, "liberty")
    services.update_right(
        right=liberty, name="Liberty (admin)", description=None, parent=liberty.parent
    )
    services.update_instrument(
        instrument=instrument(db, "ICCPR"), short_title="CCPR", title="Covenant (admin)"
    )
    db.session.commit()


def test_reload_keeps_rows_an_administrator_edited(db, reference_data):
    _edit_some_rows(db)
    counts = load_reference()
    db.session.commit()
    assert counts["provisions"] == (0, 0)
    assert counts["rights"] == (0, 0)
    assert counts["instruments"] == (0, 0)
    assert counts["crosswalk"] == (0, 0)  # ECHR art. 5's mappings were removed on purpose
    assert counts.kept == {"instruments": 1, "provisions": 2, "rights": 1}
    assert counts.kept_summary() == (
        "kept 4 rows edited by an administrator (instruments 1, provisions 2, rights 1)"
    )
    db.session.expire_all()
    p7 = provision(db, "PRINCIPLES-14:7")
    assert (p7.title, p7.text, p7.placeholder) == ("Completed by an admin", "Its text.", False)
    assert [r.code for r in p7.rights] == ["liberty"]
    assert provision(db, "ECHR:5").rights == []
    assert right(db, "liberty").name == "Liberty (admin)"
    assert (instrument(db, "ICCPR").short_title, instrument(db, "ICCPR").title) == (
        "CCPR",
        "Covenant (admin)",
    )
    # No "reset from the files" entry: nothing the admin did was undone.
    resets = db.session.scalars(
        select(AuditEntry).where(AuditEntry.summary.like("Reset from the reference data%"))
    ).all()
    assert resets == []
    # Unedited rows still follow the files (the crosswalk of ECHR art. 3 is complete).
    assert {r.code for r in provision(db, "ECHR:3").rights} == file_pairs("ECHR", "3")
    # And a second run is as quiet.
    again = load_reference()
    assert dict(again) == dict.fromkeys(again, (0, 0))


def test_cli_reports_the_rows_it_kept(db, runner, reference_data):
    _edit_some_rows(db)
    result = runner.invoke(args=["reference", "load"])
    assert result.exit_code == 0, result.output
    assert (
        "kept 4 rows edited by an administrator (instruments 1, provisions 2, rights 1)"
        in result.output
    )
    assert "provisions: 0 added, 0 updated" in result.output


@pytest.fixture()
def data_copy(tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def test_rows_the_files_add_still_arrive_beside_edited_ones(db, reference_data, data_copy):
    _edit_some_rows(db)
    with (data_copy / "provisions.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(
            [["IACHR-PRINCIPLES-2019", "1", "Shipped in a later release", "0"]]
        )
    with (data_copy / "crosswalk.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(
            [["IACHR-PRINCIPLES-2019", "1", "asylum"], ["PRINCIPLES-14", "7", "health"]]
        )
    counts = load_reference(data_dir=data_copy)
    db.session.commit()
    assert counts["provisions"] == (1, 0)
    assert counts["crosswalk"] == (1, 0)  # the new row's; not the one for edited principle 7
    new = provision(db, "IACHR-PRINCIPLES-2019:1")
    assert new.title == "Shipped in a later release" and new.edited_at is None
    assert [r.code for r in new.rights] == ["asylum"]
    assert [r.code for r in provision(db, "PRINCIPLES-14:7").rights] == ["liberty"]


def test_a_row_added_in_the_app_is_kept_when_the_files_define_it_later(
    db, reference_data, data_copy
):
    iachr = instrument(db, "IACHR-PRINCIPLES-2019")
    services.create_provision(instrument=iachr, number="1", title="Entered by the admin")
    db.session.commit()
    with (data_copy / "provisions.csv").open("a", encoding="utf-8", newline="") as handle:
        handle.write("IACHR-PRINCIPLES-2019,1,From the files,0\n")
    counts = load_reference(data_dir=data_copy)
    db.session.commit()
    assert counts["provisions"] == (0, 0) and counts.kept["provisions"] == 1
    assert provision(db, "IACHR-PRINCIPLES-2019:1").title == "Entered by the admin"


def test_a_malformed_file_still_writes_nothing_after_admin_edits(db, reference_data, data_copy):
    _edit_some_rows(db)
    (data_copy / "rights.csv").write_text("code,name\nx,y\n", encoding="utf-8")
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(ReferenceDataError, match=r"rights\.csv line 1: missing column"):
        load_reference(data_dir=data_copy)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before
    assert provision(db, "PRINCIPLES-14:7").title == "Completed by an admin"
