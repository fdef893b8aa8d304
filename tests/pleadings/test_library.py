"""The library pages: list, search, filters, detail, confidentiality, track record, endorse,
links to cases, edit, delete, audit entries."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.pleadings.conftest import add_pleading
from tracker.audit.models import AuditEntry
from tracker.documents.models import Document
from tracker.pleadings.models import ModelPleading, PleadingUse


def audit_actions(db, pleading_id=None):
    stmt = select(AuditEntry.action).where(AuditEntry.entity_type == "model_pleadings")
    if pleading_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == str(pleading_id))
    return list(db.session.scalars(stmt.order_by(AuditEntry.id)))


def test_empty_library_says_so(client, login, factory):
    login(factory.user("viewer"))
    body = client.get("/pleadings/").get_data(as_text=True)
    assert "The library is empty" in body


def test_list_shows_visible_pleadings_only(client, login, library):
    login(library.user)
    body = client.get("/pleadings/").get_data(as_text=True)
    for p in (library.best, library.crosswalk, library.unrelated):
        assert p.title in body
    assert library.foreign_org.title not in body
    assert "3 pleadings" in body


def test_the_other_organisation_sees_its_own_pleading(client, login, library):
    login(library.other_user)
    body = client.get("/pleadings/").get_data(as_text=True)
    assert library.foreign_org.title in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=enrolment", ["School enrolment brief"]),  # in the summary
        ("q=zanzibar", ["Detention and refoulement application"]),  # only in the file's text
        ("right=liberty", ["Detention and refoulement application", "Article 5 complaint"]),
        ("provision=ECHR:5", ["Article 5 complaint"]),
        ("forum=FR-CE", ["School enrolment brief"]),
        ("system=COE", []),
        ("language=de", ["School enrolment brief"]),
        ("kind=brief", None),  # all three
        ("endorsed=yes", []),
    ],
)
def test_search_and_filters(client, login, library, db, query, expected):
    # Give `best` a new version whose text mentions a word found nowhere else.
    import io

    from werkzeug.datastructures import FileStorage

    from tracker.pleadings.services import add_version

    add_version(
        user=library.user,
        pleading=library.best,
        file=FileStorage(io.BytesIO(b"Transfer to Zanzibar is unsafe.\n"), filename="v2.txt"),
    )
    db.session.commit()
    login(library.user)
    response = client.get(f"/pleadings/?{query}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    all_titles = [library.best.title, library.crosswalk.title, library.unrelated.title]
    wanted = all_titles if expected is None else expected
    for title in all_titles:
        assert (title in body) == (title in wanted), (query, title)
    assert library.foreign_org.title not in body


def test_search_never_finds_an_invisible_pleading_by_its_text(client, login, library):
    login(library.user)
    body = client.get("/pleadings/?q=internal+strategy").get_data(as_text=True)
    assert library.foreign_org.title not in body
    assert "No pleading matches these filters" in body


def test_unknown_filter_values_answer_400_with_messages(client, login, library):
    login(library.user)
    response = client.get("/pleadings/?right=nope&language=xx&endorsed=maybe")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Unknown right: nope." in body
    assert "Unknown language: xx." in body


def test_pagination(client, login, factory):
    user = factory.user("litigator")
    for n in range(23):
        add_pleading(user, title=f"Pleading number {n:02d}")
    login(user)
    first = client.get("/pleadings/").get_data(as_text=True)
    second = client.get("/pleadings/?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and "23 pleadings" in first
    assert first.count("Pleading number") == 20
    assert second.count("Pleading number") == 3


def test_detail_shows_metadata_versions_and_visible_track_record(client, login, library):
    login(library.user)
    response = client.get(f"/pleadings/{library.best.id}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Challenging immigration detention" in body
    assert "model.txt" in body
    assert f"/pleadings/{library.best.id}/versions/" in body
    assert "Used in 3 cases you can see, 2 won." in body
    assert "Secret restricted win" not in body
    assert "Conseil d&#39;État" not in body  # the restricted case's forum is not revealed


def test_the_case_team_sees_the_restricted_use(client, login, library):
    login(library.teammate)
    body = client.get(f"/pleadings/{library.best.id}").get_data(as_text=True)
    assert "Used in 4 cases you can see, 3 won." in body
    assert "Secret restricted win" in body


def test_list_counts_only_visible_uses(client, login, library):
    login(library.user)
    body = client.get("/pleadings/").get_data(as_text=True)
    assert "Used in 3 cases you can see, 2 won." in body
    assert "Used in 4 cases" not in body


@pytest.mark.parametrize("path", ["", "/edit", "/delete"])
def test_an_invisible_pleading_answers_404(client, login, library, path):
    login(library.user)
    assert client.get(f"/pleadings/{library.foreign_org.id}{path}").status_code == 404
    document = library.foreign_org.versions[0]
    url = f"/pleadings/{library.foreign_org.id}/versions/{document.id}"
    assert client.get(url).status_code == 404
    # nor through a visible pleading's URL
    assert client.get(f"/pleadings/{library.best.id}/versions/{document.id}").status_code == 404


def test_restricted_pleading_is_seen_by_its_uploader_only(client, login, factory):
    org = factory.organisation()
    owner = factory.user("litigator", organisation=org)
    colleague = factory.user("coordinator", organisation=org)
    pleading = add_pleading(owner, title="Private draft", confidentiality="restricted")
    login(colleague)
    assert client.get(f"/pleadings/{pleading.id}").status_code == 404
    assert "Private draft" not in client.get("/pleadings/?q=private").get_data(as_text=True)
    client.post("/logout")
    login(owner)
    assert client.get(f"/pleadings/{pleading.id}").status_code == 200


def test_download_a_version(client, login, library):
    login(library.user)
    document = library.best.versions[0]
    with client.get(f"/pleadings/{library.best.id}/versions/{document.id}") as response:
        assert response.status_code == 200
        assert response.data == b"Model text.\n"
        assert "attachment" in response.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("role", "status"), [("viewer", 403), ("litigator", 403), ("coordinator", 302)]
)
def test_only_coordinators_endorse(client, login, library, factory, db, role, status):
    login(factory.user(role, organisation=library.org))
    response = client.post(f"/pleadings/{library.best.id}/endorse", data={"endorse": "yes"})
    assert response.status_code == status
    db.session.expire_all()
    pleading = db.session.get(ModelPleading, library.best.id)
    assert (pleading.endorsed_at is not None) == (status == 302)
    assert ("pleading.endorse" in audit_actions(db, pleading.id)) == (status == 302)


def test_endorsed_pleadings_are_marked_and_filterable(client, login, library, factory):
    coordinator = factory.user("coordinator", organisation=library.org)
    login(coordinator)
    client.post(f"/pleadings/{library.crosswalk.id}/endorse", data={"endorse": "yes"})
    body = client.get("/pleadings/?endorsed=yes").get_data(as_text=True)
    assert library.crosswalk.title in body and "Endorsed by the network" in body
    assert library.best.title not in body
    client.post(f"/pleadings/{library.crosswalk.id}/endorse", data={"endorse": "no"})
    assert library.crosswalk.title not in client.get("/pleadings/?endorsed=yes").get_data(
        as_text=True
    )


def test_link_to_a_visible_case_and_unlink(client, login, library, factory, db):
    case = factory.case(organisation=library.org, title="Fresh case", outcome="win")
    login(library.user)
    response = client.post(f"/pleadings/{library.crosswalk.id}/uses", data={"case_id": case.id})
    assert response.status_code == 302
    body = client.get(f"/pleadings/{library.crosswalk.id}").get_data(as_text=True)
    assert "Fresh case" in body and "Used in 1 case you can see, 1 won." in body
    again = client.post(f"/pleadings/{library.crosswalk.id}/uses", data={"case_id": case.id})
    assert again.status_code == 400
    assert "already linked" in again.get_data(as_text=True)
    use = db.session.scalar(select(PleadingUse).where(PleadingUse.case_id == case.id))
    assert client.post(f"/pleadings/{library.crosswalk.id}/uses/{use.id}/delete").status_code == 302
    assert db.session.scalar(select(PleadingUse).where(PleadingUse.case_id == case.id)) is None
    actions = audit_actions(db, library.crosswalk.id)
    assert "pleading.link" in actions and "pleading.unlink" in actions


def test_cannot_link_a_case_the_user_cannot_see(client, login, library, factory, db):
    outsider = factory.user("litigator")
    login(outsider)
    response = client.post(
        f"/pleadings/{library.crosswalk.id}/uses", data={"case_id": library.restricted_case.id}
    )
    assert response.status_code == 400
    assert "No case with this number that you can see." in response.get_data(as_text=True)
    assert (
        db.session.scalar(
            select(PleadingUse).where(PleadingUse.pleading_id == library.crosswalk.id)
        )
        is None
    )


def test_linking_from_the_suggestions_returns_to_the_case(client, login, library):
    login(library.user)
    response = client.post(
        f"/pleadings/{library.crosswalk.id}/uses",
        data={"case_id": library.case.id, "next": f"/pleadings/suggest?case={library.case.id}"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/pleadings/suggest?case={library.case.id}")
    body = client.get(f"/pleadings/suggest?case={library.case.id}").get_data(as_text=True)
    assert "Used in this case" in body


def test_edit_metadata_is_audited_and_versions_follow_confidentiality(client, login, library, db):
    login(library.user)
    response = client.post(
        f"/pleadings/{library.best.id}/edit",
        data={
            "title": "Renamed application",
            "kind": "complaint",
            "language": "fr",
            "summary": "New summary.",
            "confidentiality": "organisation",
            "rights": ["liberty"],
            "provisions": "ECHR:5",
            "forums": ["ECTHR"],
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    pleading = db.session.get(ModelPleading, library.best.id)
    assert pleading.title == "Renamed application"
    assert [p.code for p in pleading.provisions] == ["ECHR:5"]
    assert {d.confidentiality.value for d in pleading.versions} == {"organisation"}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "pleading.update"))
    assert entry.before["title"] == "Detention and refoulement application"
    assert entry.after["title"] == "Renamed application"


def test_edit_with_unknown_codes_is_400_and_changes_nothing(client, login, library, db):
    login(library.user)
    response = client.post(
        f"/pleadings/{library.best.id}/edit",
        data={
            "title": "Changed",
            "kind": "brief",
            "language": "fr",
            "summary": "x",
            "confidentiality": "network",
            "provisions": "ECHR:999",
        },
    )
    assert response.status_code == 400
    assert "Unknown provision: ECHR:999." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ModelPleading, library.best.id).title != "Changed"


def test_only_the_organisation_edits(client, login, library):
    login(library.other_user)  # sees `best` (network) but belongs to another organisation
    assert client.get(f"/pleadings/{library.best.id}/edit").status_code == 403
    assert client.post(f"/pleadings/{library.best.id}/delete").status_code == 403


def test_delete_asks_for_confirmation_then_deletes_everything(client, login, library, db):
    login(library.user)
    page = client.get(f"/pleadings/{library.best.id}/delete")
    assert page.status_code == 200
    assert "This cannot be undone." in page.get_data(as_text=True)
    assert db.session.get(ModelPleading, library.best.id) is not None  # GET changes nothing
    response = client.post(f"/pleadings/{library.best.id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ModelPleading, library.best.id) is None
    assert not db.session.scalars(
        select(Document).where(Document.pleading_id == library.best.id)
    ).all()
    assert not db.session.scalars(
        select(PleadingUse).where(PleadingUse.pleading_id == library.best.id)
    ).all()
    assert "pleading.delete" in audit_actions(db, library.best.id)


def test_create_is_audited(library, db):
    assert audit_actions(db, library.best.id)[0] == "pleading.create"


# --- Who may change a pleading's track record ------------------------------------------------
# Recording (or removing) that a pleading was used in a case takes a user who may edit that
# case or who manages the pleading; seeing both is not enough. Visible but not allowed: 403.


@pytest.fixture()
def who(library, factory):
    third = factory.organisation("Third NGO")
    return {
        "third organisation": factory.user("litigator", organisation=third),
        "the case's organisation": library.user,
        "the pleading's organisation": library.other_user,
    }


@pytest.fixture()
def fresh_case(library, factory):
    """A network case of library.org: visible to all, editable by library.org's members."""
    return factory.case(organisation=library.org, title="Fresh case", outcome="win")


ALLOWED = [
    ("third organisation", 403),
    ("the case's organisation", 302),
    ("the pleading's organisation", 302),
]


@pytest.mark.parametrize(("person", "status"), ALLOWED)
def test_who_may_record_a_use(client, login, library, fresh_case, who, db, person, status):
    login(who[person])
    response = client.post(
        f"/pleadings/{library.crosswalk.id}/uses", data={"case_id": fresh_case.id}
    )
    assert response.status_code == status
    linked = db.session.scalar(select(PleadingUse).where(PleadingUse.case_id == fresh_case.id))
    assert (linked is not None) == (status == 302)
    assert ("pleading.link" in audit_actions(db, library.crosswalk.id)) == (status == 302)
    if status == 403:
        assert "may record uses only" in response.get_data(as_text=True)


@pytest.mark.parametrize(("person", "status"), ALLOWED)
def test_who_may_remove_a_use(client, login, library, fresh_case, who, db, person, status):
    db.session.add(PleadingUse(pleading_id=library.crosswalk.id, case_id=fresh_case.id))
    db.session.commit()
    use = db.session.scalar(select(PleadingUse).where(PleadingUse.case_id == fresh_case.id))
    login(who[person])
    page = client.get(f"/pleadings/{library.crosswalk.id}").get_data(as_text=True)
    assert ("Remove the link to Fresh case" in page) == (status == 302)
    response = client.post(f"/pleadings/{library.crosswalk.id}/uses/{use.id}/delete")
    assert response.status_code == status
    db.session.expire_all()
    still = db.session.scalar(select(PleadingUse).where(PleadingUse.case_id == fresh_case.id))
    assert (still is None) == (status == 302)


def test_the_third_organisation_is_not_offered_to_record_a_use(client, login, library, who):
    login(who["third organisation"])
    body = client.get(f"/pleadings/suggest?case={library.case.id}").get_data(as_text=True)
    assert library.best.title in body  # suggestions are still shown ...
    assert "Mark as used in this case" not in body  # ... but not the button
    found = client.get(f"/pleadings/{library.best.id}?case_q=M.K.").get_data(as_text=True)
    assert "M.K. v. France" in found
    assert "Used in this case</button>" not in found


def test_the_edit_form_shows_the_saved_tags_and_saving_it_unchanged_keeps_them(
    client, login, library, db, factory
):
    factory.provision("ECHR", "5")
    login(library.user)
    client.post(
        f"/pleadings/{library.best.id}/edit",
        data={
            "title": library.best.title,
            "kind": "brief",
            "language": "fr",
            "summary": "Summary.",
            "confidentiality": "network",
            "rights": "liberty; non-refoulement",
            "provisions": "ECHR:5",
            "forums": "ECTHR",
        },
    )
    body = client.get(f"/pleadings/{library.best.id}/edit").get_data(as_text=True)
    assert 'name="provisions" type="text" value="ECHR:5"' in body
    assert 'value="liberty; non-refoulement"' in body
    assert 'name="forums" type="text" value="ECTHR"' in body
    assert "Provision " not in body  # no "[<Provision ECHR:5>]"
