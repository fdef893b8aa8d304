"""The cases pages through the test client: forms, errors, conflicts, permissions."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.cases.conftest import case_form, proceeding_form
from tracker.audit.models import AuditEntry
from tracker.cases import services as svc
from tracker.cases.models import Case, CaseLink, Event, Party, Proceeding
from tracker.types import Role


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _error_for(html: str, field_id: str) -> str:
    match = re.search(
        rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S
    )
    assert match, f"no error shown for {field_id}"
    return match.group(1)


@pytest.fixture()
def signed_in(login, litigator):
    login(litigator)
    return litigator


def _make_case(db, user, **overrides) -> Case:
    case = svc.create_case(actor=user, data=case_form(**overrides))
    db.session.commit()
    return case


# --- create ---------------------------------------------------------------------------------
def test_new_case_form_renders(client, ref, signed_in):
    response = client.get("/cases/new")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="title"' in html and 'data-picker="/taxonomy/rights"' in html
    assert "js/picker.js" in html


def test_create_case_redirects_to_page(client, db, ref, signed_in):
    response = client.post("/cases/new", data=case_form())
    assert response.status_code == 302
    case = db.session.scalar(select(Case))
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "A.B. v. France" in page and "Case created." in page
    assert "Liberty and security" in page and "ECHR 5" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "Give the case a title"),
        ({"jurisdiction": ""}, "jurisdiction", "Choose the jurisdiction"),
        ({"jurisdiction": "XX"}, "jurisdiction", "Unknown code: XX"),
        ({"rights": "liberty; flying"}, "rights", "Unknown code: flying"),
        ({"provisions": "ECHR:77"}, "provisions", "Unknown code: ECHR:77"),
        ({"case_type": "magic"}, "case_type", "Not a valid choice"),
        ({"opened_on": "31/12/2024"}, "opened_on", "Not a valid date"),
        ({"team_ids": "999999"}, "team_ids", "not a valid choice"),
    ],
)
def test_create_case_bad_input(client, db, ref, signed_in, overrides, field, message):
    response = client.post("/cases/new", data=case_form(**overrides))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in _error_for(html, field)
    assert "Please correct the highlighted fields." in html
    assert _count(db, Case) == 0
    assert _count(db, AuditEntry) == 0


def test_create_duplicate_reference(client, db, ref, signed_in):
    _make_case(db, signed_in, reference="OURS-1")
    response = client.post("/cases/new", data=case_form(reference="OURS-1", title="Other"))
    assert response.status_code == 400
    assert "already has a case with this reference" in _error_for(
        response.get_data(as_text=True), "reference"
    )
    assert _count(db, Case) == 1


def test_tampered_lead_organisation_and_team(client, db, ref, signed_in, factory):
    other = factory.user()
    response = client.post(
        "/cases/new", data=case_form(lead_organisation_id=str(other.organisation_id))
    )
    assert response.status_code == 400
    assert "Not a valid choice" in _error_for(
        response.get_data(as_text=True), "lead_organisation_id"
    )
    response = client.post("/cases/new", data=case_form(team_ids=str(other.id)))
    assert response.status_code == 400
    assert _count(db, Case) == 0


def test_viewer_cannot_open_the_form(client, factory, login, ref):
    login(factory.user(role=Role.VIEWER))
    assert client.get("/cases/new").status_code == 403
    assert client.post("/cases/new", data=case_form()).status_code == 403


# --- edit and conflicts -----------------------------------------------------------------------
def _edit_data(case: Case, **overrides):
    data = case_form(team_ids=[m.user_id for m in case.team], version=str(case.version))
    data.update(overrides)
    return data


def test_edit_case(client, db, ref, signed_in):
    case = _make_case(db, signed_in)
    form = client.get(f"/cases/{case.id}/edit").get_data(as_text=True)
    assert f'name="version" type="hidden" value="{case.version}"' in form
    response = client.post(f"/cases/{case.id}/edit", data=_edit_data(case, title="New title"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).title == "New title"
    assert _count(db, AuditEntry) == 2  # create + update


def test_stale_edit_is_refused_with_what_changed(client, db, ref, signed_in):
    case = _make_case(db, signed_in)
    loaded = _edit_data(case)  # both people loaded the form at this version
    first = client.post(
        f"/cases/{case.id}/edit", data={**loaded, "summary": "Summary by the first person"}
    )
    assert first.status_code == 302
    second = client.post(
        f"/cases/{case.id}/edit",
        data={**loaded, "summary": "Summary by the second person", "title": "Second title"},
    )
    assert second.status_code == 409
    html = second.get_data(as_text=True)
    assert "changed by someone else" in html
    # What changed since the form was loaded: the saved value and the person's own.
    conflict = html.split('class="conflict"')[1].split("</section>")[0]
    assert "Summary" in conflict
    assert "Summary by the first person" in conflict and "Summary by the second person" in conflict
    # The person's input is kept in the form, with the current version for a deliberate retry.
    assert 'value="Second title"' in html
    db.session.expire_all()
    saved = db.session.get(Case, case.id)
    assert saved.summary == "Summary by the first person"
    assert saved.title == "A.B. v. France"
    assert f'name="version" type="hidden" value="{saved.version}"' in html


def test_edit_without_version_is_a_conflict(client, db, ref, signed_in):
    case = _make_case(db, signed_in)
    data = _edit_data(case, title="Blind write")
    data.pop("version")
    assert client.post(f"/cases/{case.id}/edit", data=data).status_code == 409
    db.session.expire_all()
    assert db.session.get(Case, case.id).title == "A.B. v. France"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.LITIGATOR])
def test_edit_refused_for_other_organisation(client, db, ref, factory, login, litigator, role):
    case = _make_case(db, litigator)
    login(factory.user(role=role))
    assert client.get(f"/cases/{case.id}").status_code == 200  # network case: visible
    assert client.get(f"/cases/{case.id}/edit").status_code == 403
    assert client.post(f"/cases/{case.id}/edit", data=_edit_data(case)).status_code == 403
    assert "Edit case" not in client.get(f"/cases/{case.id}").get_data(as_text=True)


def test_unknown_case_is_404(client, ref, signed_in):
    for url in ("/cases/999", "/cases/999/edit", "/cases/999/delete"):
        assert client.get(url).status_code == 404


# --- delete ------------------------------------------------------------------------------------
def test_delete_needs_confirmation(client, db, ref, signed_in):
    case = _make_case(db, signed_in)
    page = client.get(f"/cases/{case.id}/delete")
    assert page.status_code == 200 and "Delete this case?" in page.get_data(as_text=True)
    unconfirmed = client.post(f"/cases/{case.id}/delete", data={})
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm." in unconfirmed.get_data(as_text=True)
    assert _count(db, Case) == 1
    done = client.post(f"/cases/{case.id}/delete", data={"confirm": "y"})
    assert done.status_code == 302
    assert _count(db, Case) == 0
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "case.delete"))
    assert client.get(f"/cases/{case.id}").status_code == 404


def test_delete_is_post_only(client, db, ref, signed_in):
    case = _make_case(db, signed_in)
    assert client.get(f"/cases/{case.id}/delete?confirm=y").status_code == 200
    assert _count(db, Case) == 1


# --- proceedings --------------------------------------------------------------------------------
def test_add_proceeding_with_treatments(client, db, ref, signed_in):
    case = _make_case(db, signed_in)
    form = client.get(f"/cases/{case.id}/proceedings/new").get_data(as_text=True)
    assert 'name="treatment:right:liberty"' in form
    assert 'name="treatment:provision:ECHR:5"' in form
    response = client.post(
        f"/cases/{case.id}/proceedings/new",
        data={**proceeding_form(), "treatment:right:liberty": "upheld"},
    )
    assert response.status_code == 302
    proc = db.session.scalar(select(Proceeding))
    assert [t.treatment.value for t in proc.treatments] == ["upheld"]
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Conseil d&#39;État" in page and "Upheld" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"forum": ""}, "forum", "Choose the forum"),
        ({"forum": "MOON"}, "forum", "Unknown code: MOON"),
        (
            {"filed_on": "2024-05-01", "decided_on": "2024-04-01", "status": "decided"},
            "decided_on",
            "cannot come before the filing",
        ),
        ({"outcome": "win", "status": "pending"}, "outcome", "An outcome needs a decision"),
    ],
)
def test_proceeding_bad_input(client, db, ref, signed_in, overrides, field, message):
    case = _make_case(db, signed_in)
    response = client.post(f"/cases/{case.id}/proceedings/new", data=proceeding_form(**overrides))
    assert response.status_code == 400
    assert message in _error_for(response.get_data(as_text=True), field)
    assert _count(db, Proceeding) == 0


def test_treatment_of_untagged_provision_refused(client, db, ref, signed_in):
    case = _make_case(db, signed_in)
    response = client.post(
        f"/cases/{case.id}/proceedings/new",
        data={**proceeding_form(), "treatment:provision:ICCPR:9": "upheld"},
    )
    assert response.status_code == 400
    assert "Only the rights and provisions of this case" in response.get_data(as_text=True)
    assert _count(db, Proceeding) == 0


def test_proceeding_of_another_case_is_404(client, db, ref, signed_in):
    a = _make_case(db, signed_in)
    b = _make_case(db, signed_in, reference="B")
    proc = svc.add_proceeding(actor=signed_in, case=b, data=proceeding_form())
    db.session.commit()
    assert client.get(f"/cases/{a.id}/proceedings/{proc.id}/edit").status_code == 404
    assert (
        client.post(
            f"/cases/{a.id}/proceedings/{proc.id}/delete", data={"confirm": "1"}
        ).status_code
        == 404
    )
    assert _count(db, Proceeding) == 1


def test_decision_proposes_deadline_then_confirm(client, db, ref, signed_in):
    case = _make_case(db, signed_in)
    response = client.post(
        f"/cases/{case.id}/proceedings/new",
        data=proceeding_form(status="decided", outcome="loss", decided_on="2025-03-10"),
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Proposed deadline: File with European Court of Human Rights by 2025-07-10" in html
    assert "needs confirmation" in html
    event = db.session.scalar(select(Event))
    assert not event.confirmed
    response = client.post(f"/cases/{case.id}/events/{event.id}/confirm")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).confirmed


def test_dismiss_proposal(client, db, ref, signed_in):
    case = _make_case(db, signed_in)
    client.post(
        f"/cases/{case.id}/proceedings/new",
        data=proceeding_form(status="decided", outcome="loss", decided_on="2025-03-10"),
    )
    event = db.session.scalar(select(Event))
    assert client.post(f"/cases/{case.id}/events/{event.id}/dismiss").status_code == 302
    assert _count(db, Event) == 0


def test_delete_proceeding_needs_the_box(client, db, ref, signed_in):
    case = _make_case(db, signed_in)
    proc = svc.add_proceeding(actor=signed_in, case=case, data=proceeding_form())
    db.session.commit()
    client.post(f"/cases/{case.id}/proceedings/{proc.id}/delete", data={})
    assert _count(db, Proceeding) == 1
    client.post(f"/cases/{case.id}/proceedings/{proc.id}/delete", data={"confirm": "1"})
    assert _count(db, Proceeding) == 0


# --- timeline, parties, links, implementation ---------------------------------------------------
def test_add_event_and_bad_event(client, db, ref, signed_in, factory):
    case = _make_case(db, signed_in)
    bad = client.post(
        f"/cases/{case.id}/events",
        data={"event-kind": "hearing", "event-occurred_on": "", "event-title": "Hearing"},
    )
    assert bad.status_code == 400
    assert "Give the date." in _error_for(bad.get_data(as_text=True), "event-occurred_on")
    # A proceeding id from another case is refused.
    other = _make_case(db, signed_in, reference="O")
    proc = svc.add_proceeding(actor=signed_in, case=other, data=proceeding_form())
    db.session.commit()
    tampered = client.post(
        f"/cases/{case.id}/events",
        data={
            "event-kind": "hearing",
            "event-occurred_on": "2025-01-01",
            "event-title": "Hearing",
            "event-proceeding_id": str(proc.id),
        },
    )
    assert tampered.status_code == 400
    assert _count(db, Event) == 0
    ok = client.post(
        f"/cases/{case.id}/events",
        data={"event-kind": "hearing", "event-occurred_on": "2025-01-01", "event-title": "Hearing"},
    )
    assert ok.status_code == 302
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Hearing" in page


def test_timeline_sorted_by_date(client, db, ref, signed_in):
    case = _make_case(db, signed_in)
    for day, title in (("2026-01-01", "Later hearing"), ("2024-01-01", "Earlier filing")):
        svc.add_event(
            actor=signed_in, case=case, data={"kind": "other", "occurred_on": day, "title": title}
        )
    db.session.commit()
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert html.index("Earlier filing") < html.index("Later hearing")


def test_parties_identity_only_for_team(client, db, ref, signed_in, factory, login):
    case = _make_case(db, signed_in)
    response = client.post(
        f"/cases/{case.id}/parties",
        data={
            "party-role": "claimant",
            "party-pseudonym": "A.B.",
            "party-full_name": "Amina Bakr",
            "party-details": "Born 1990",
        },
    )
    assert response.status_code == 302
    assert "Amina Bakr" in client.get(f"/cases/{case.id}").get_data(as_text=True)
    bad = client.post(f"/cases/{case.id}/parties", data={"party-role": "claimant"})
    assert bad.status_code == 400
    assert _count(db, Party) == 1
    # A network member from another organisation sees the pseudonym, never the identity.
    login(factory.user(role=Role.COORDINATOR))
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "A.B." in html
    assert "Amina Bakr" not in html and "Born 1990" not in html
    # Same organisation, not on the team: may edit, still no identity.
    login(factory.user(organisation=signed_in.organisation))
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Amina Bakr" not in html and 'name="party-full_name"' not in html


def test_links_both_ways_and_removal(client, db, ref, signed_in, factory):
    a = _make_case(db, signed_in, title="Appeal case", reference="A")
    b = _make_case(db, signed_in, title="First instance case", reference="B")
    response = client.post(
        f"/cases/{a.id}/links", data={"link-kind": "appeal_of", "link-target": str(b.id)}
    )
    assert response.status_code == 302
    assert "First instance case" in client.get(f"/cases/{a.id}").get_data(as_text=True)
    incoming = client.get(f"/cases/{b.id}").get_data(as_text=True)
    assert "is appealed in" in incoming and "Appeal case" in incoming
    link = db.session.scalar(select(CaseLink))
    assert client.post(f"/cases/{b.id}/links/{link.id}/delete").status_code == 302
    assert _count(db, CaseLink) == 0


def test_link_to_invisible_or_unknown_case(client, db, ref, signed_in, factory):
    a = _make_case(db, signed_in)
    secret = factory.case(confidentiality="restricted", title="Secret matter")
    for target in (str(secret.id), "99999", "abc"):
        response = client.post(
            f"/cases/{a.id}/links", data={"link-kind": "cites", "link-target": target}
        )
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "Secret matter" not in html
    assert _count(db, CaseLink) == 0


def test_implementation_pages(client, db, ref, signed_in):
    case = _make_case(db, signed_in)
    proc = svc.add_proceeding(
        actor=signed_in,
        case=case,
        data=proceeding_form(
            forum="ECTHR", status="decided", outcome="win", decided_on="2025-01-01"
        ),
    )
    db.session.commit()
    url = f"/cases/{case.id}/proceedings/{proc.id}/implementation/new"
    assert client.get(url).status_code == 200
    assert (
        client.post(url, data={"measures_ordered": "", "compliance": "partial"}).status_code == 400
    )
    ok = client.post(
        url, data={"measures_ordered": "Release the applicant", "compliance": "partial"}
    )
    assert ok.status_code == 302
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Release the applicant" in html and "Partial compliance" in html


# --- list ---------------------------------------------------------------------------------------
def test_list_empty_state(client, ref, signed_in):
    html = client.get("/cases/").get_data(as_text=True)
    assert "No cases yet" in html


def test_list_filters_sort_and_no_match(client, db, ref, signed_in):
    a = _make_case(db, signed_in, title="Alpha v. France", reference="1", rights="liberty")
    b = _make_case(
        db,
        signed_in,
        title="Beta v. France",
        reference="2",
        rights="non-refoulement",
        provisions="",
    )
    svc.add_proceeding(actor=signed_in, case=a, data=proceeding_form(filed_on="2023-05-05"))
    svc.add_proceeding(actor=signed_in, case=b, data=proceeding_form(filed_on="2024-05-05"))
    db.session.commit()
    html = client.get("/cases/?sort=title").get_data(as_text=True)
    assert html.index("Alpha v. France") < html.index("Beta v. France")
    html = client.get("/cases/?sort=-title").get_data(as_text=True)
    assert html.index("Beta v. France") < html.index("Alpha v. France")
    html = client.get("/cases/?right=liberty").get_data(as_text=True)
    assert "Alpha v. France" in html and "Beta v. France" not in html
    html = client.get("/cases/?filed_from=2024-01-01").get_data(as_text=True)
    assert "Beta v. France" in html and "Alpha v. France" not in html
    html = client.get("/cases/?q=nothing-like-this").get_data(as_text=True)
    assert "No case matches these filters" in html and "Clear the filters" in html


@pytest.mark.parametrize(
    "query",
    [
        "right=no-such-right",
        "status=lost",
        "filed_from=yesterday",
        "organisation=abc",
        "sort=colour",
        "filed_from=2025-01-01&filed_to=2024-01-01",
    ],
)
def test_bad_filters_are_400_with_a_message(client, ref, signed_in, query):
    response = client.get(f"/cases/?{query}")
    assert response.status_code == 400
    assert "Some filters could not be used" in response.get_data(as_text=True)


def test_facets_link_and_pagination_keeps_filters(client, db, ref, signed_in):
    for n in range(27):
        _make_case(db, signed_in, title=f"Case {n:02d}", reference=f"R{n}", rights="liberty")
    html = client.get("/cases/?right=liberty&sort=title").get_data(as_text=True)
    assert "27 cases" in html
    assert "Page 1 of 2" in html
    assert "right=liberty" in re.search(r'href="([^"]*page=2[^"]*)"', html).group(1)
    # Facet link adds a filter to the current ones.
    assert re.search(r'href="/cases/\?right=liberty&amp;sort=title&amp;jurisdiction=FR"', html)
    page2 = client.get("/cases/?right=liberty&sort=title&page=2").get_data(as_text=True)
    assert "Case 26" in page2 and "Case 00" not in page2


def test_deadlines_page(client, db, ref, signed_in):
    from datetime import date, timedelta

    case = _make_case(db, signed_in)
    soon = (date.today() + timedelta(days=10)).isoformat()
    late = (date.today() + timedelta(days=200)).isoformat()
    past = (date.today() - timedelta(days=3)).isoformat()
    for day, title in ((soon, "Soon deadline"), (late, "Far deadline"), (past, "Missed deadline")):
        svc.add_event(
            actor=signed_in,
            case=case,
            data={"kind": "deadline", "occurred_on": day, "title": title, "is_deadline": True},
        )
    db.session.commit()
    html = client.get("/cases/deadlines").get_data(as_text=True)
    assert "Soon deadline" in html and "Missed deadline" in html and "overdue" in html
    assert "Far deadline" not in html
    assert f'href="/cases/{case.id}#timeline"' in html


def test_csrf_required_on_state_changes(client, db, ref, signed_in, csrf_enabled):
    case = _make_case(db, signed_in)
    response = client.post(f"/cases/{case.id}/delete", data={"confirm": "y"})
    assert response.status_code == 400
    assert _count(db, Case) == 1
