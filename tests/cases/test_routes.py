"""The cases pages through the test client: forms, errors, conflicts, permissions."""

from __future__ import annotations

import re
from datetime import date

import lxml.html
import pytest
from sqlalchemy import func, select

from tests.cases import test_services
from tests.cases.conftest import case_form, proceeding_form
from tracker.audit.models import AuditEntry
from tracker.cases import services as svc
from tracker.cases.models import Case, CaseLink, Event, Party, Proceeding
from tracker.types import Role

# Fixtures shared with the services tests: France's ratifications, a fixed "today".
procedures = test_services.procedures
on_day = test_services.on_day


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


def _form_values(html: str) -> dict[str, object]:
    """What the browser would post from the page's main form (lists for multiple selects)."""
    forms = [f for f in lxml.html.fromstring(html).forms if f.method.upper() == "POST"]
    form = max(forms, key=lambda f: len(f.inputs))  # not the header's sign-out form
    values: dict[str, object] = {}
    for name, value in form.form_values():
        if name in values:
            existing = values[name]
            values[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            values[name] = value
    for element in form.inputs:
        if element.tag == "textarea" and isinstance(values.get(element.name), str):
            # A browser drops the newline that starts a textarea's content.
            values[element.name] = values[element.name].removeprefix("\r").removeprefix("\n")
    for name in ("partner_ids", "team_ids"):
        if name in values and not isinstance(values[name], list):
            values[name] = [values[name]]
    return values


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


def test_decision_proposes_deadline_then_confirm(client, db, ref, signed_in, procedures, on_day):
    on_day(date(2025, 4, 1))
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


def test_dismiss_proposal(client, db, ref, signed_in, procedures, on_day):
    on_day(date(2025, 4, 1))
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
    assert (
        client.post(f"/cases/{b.id}/links/{link.id}/delete", data={"confirm": "y"}).status_code
        == 302
    )
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


# --- Stale edits: proceedings, implementation, the case form ------------------------------------
def _conflict(html: str) -> str:
    return html.split('class="conflict"')[1].split("</section>")[0]


def test_a_stale_proceeding_form_is_refused_and_keeps_the_colleagues_decision(
    client, db, ref, signed_in, factory, login
):
    case = _make_case(db, signed_in)
    proc = svc.add_proceeding(actor=signed_in, case=case, data=proceeding_form())
    db.session.commit()
    url = f"/cases/{case.id}/proceedings/{proc.id}/edit"
    mine = _form_values(client.get(url).get_data(as_text=True))  # opened before the colleague
    colleague = factory.user(organisation=signed_in.organisation, name="Carla Colleague")
    login(colleague)
    theirs = _form_values(client.get(url).get_data(as_text=True))
    theirs.update(status="decided", outcome="win", decided_on="2025-03-10")
    theirs["treatment:right:liberty"] = "upheld"
    assert client.post(url, data=theirs).status_code == 302

    login(signed_in)
    stale = client.post(url, data={**mine, "notes": "Hearing went well", "reference": "No 7"})
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    conflict = _conflict(html)
    assert "This record was changed by someone else while you were editing" in conflict
    for label in ("Decided on", "Status", "Outcome", "Liberty and security"):
        assert label in conflict
    assert "Carla Colleague" in conflict
    db.session.expire_all()
    saved = db.session.get(Proceeding, proc.id)
    assert (saved.status.value, saved.outcome.value, saved.notes) == ("decided", "win", None)
    assert [t.treatment.value for t in saved.treatments] == ["upheld"]
    # The form now holds the colleague's decision (untouched by me) and my own changes.
    again = _form_values(html)
    assert (again["status"], again["outcome"], again["decided_on"]) == (
        "decided",
        "win",
        "2025-03-10",
    )
    assert again["treatment:right:liberty"] == "upheld"
    assert (again["notes"], again["reference"]) == ("Hearing went well", "No 7")
    assert client.post(url, data=again).status_code == 302
    db.session.expire_all()
    saved = db.session.get(Proceeding, proc.id)
    assert (saved.status.value, saved.outcome.value, saved.notes, saved.reference) == (
        "decided",
        "win",
        "Hearing went well",
        "No 7",
    )
    assert [t.treatment.value for t in saved.treatments] == ["upheld"]


def test_a_proceeding_form_without_what_it_loaded_is_a_conflict(client, db, ref, signed_in):
    case = _make_case(db, signed_in)
    proc = svc.add_proceeding(actor=signed_in, case=case, data=proceeding_form())
    db.session.commit()
    response = client.post(
        f"/cases/{case.id}/proceedings/{proc.id}/edit",
        data=proceeding_form(status="closed", outcome="withdrawn"),
    )
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Proceeding, proc.id).status.value == "pending"


def test_a_stale_implementation_form_is_refused(client, db, ref, signed_in):
    case = _make_case(db, signed_in)
    proc = svc.add_proceeding(
        actor=signed_in,
        case=case,
        data=proceeding_form(
            forum="ECTHR", status="decided", outcome="win", decided_on="2025-01-01"
        ),
    )
    impl = svc.add_implementation(
        actor=signed_in, proceeding=proc, data={"measures_ordered": "Release"}
    )
    db.session.commit()
    url = f"/cases/{case.id}/proceedings/{proc.id}/implementation/{impl.id}"
    mine = _form_values(client.get(url).get_data(as_text=True))
    theirs = {**mine, "compliance": "full"}
    assert client.post(url, data=theirs).status_code == 302
    stale = client.post(url, data={**mine, "follow_up_notes": "Report due"})
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "Compliance" in _conflict(html)
    again = _form_values(html)
    assert (again["compliance"], again["follow_up_notes"]) == ("full", "Report due")
    assert client.post(url, data=again).status_code == 302
    db.session.expire_all()
    assert db.session.get(type(impl), impl.id).compliance.value == "full"


def test_case_conflict_takes_the_saved_values_of_fields_left_untouched(
    client, db, ref, signed_in, factory, login
):
    case = _make_case(db, signed_in)
    url = f"/cases/{case.id}/edit"
    mine = _form_values(client.get(url).get_data(as_text=True))
    colleague = factory.user(organisation=signed_in.organisation, name="Carla Colleague")
    login(colleague)
    theirs = _form_values(client.get(url).get_data(as_text=True))
    theirs.update(summary="Summary by Carla", status="decided", rights="liberty")
    assert client.post(url, data=theirs).status_code == 302

    login(signed_in)
    stale = client.post(url, data={**mine, "title": "A.B. v. France (amended)"})
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    conflict = _conflict(html)
    assert "Summary by Carla" in conflict and "Carla Colleague" in conflict
    assert "their value" in conflict and "your value — check it" not in conflict
    again = _form_values(html)
    assert again["title"] == "A.B. v. France (amended)"  # mine, kept
    assert again["summary"] == "Summary by Carla"  # theirs, I never touched it
    assert again["status"] == "decided"
    assert again["rights"] == "liberty"
    # Saving the form as it is now keeps both people's changes.
    assert client.post(url, data=again).status_code == 302
    db.session.expire_all()
    saved = db.session.get(Case, case.id)
    assert (saved.title, saved.summary, saved.status.value) == (
        "A.B. v. France (amended)",
        "Summary by Carla",
        "decided",
    )
    assert [r.code for r in saved.rights] == ["liberty"]


def test_case_conflict_on_a_field_both_changed_keeps_mine_and_says_so(
    client, db, ref, signed_in, factory, login
):
    case = _make_case(db, signed_in)
    url = f"/cases/{case.id}/edit"
    mine = _form_values(client.get(url).get_data(as_text=True))
    assert client.post(url, data={**mine, "summary": "Theirs"}).status_code == 302
    stale = client.post(url, data={**mine, "summary": "Mine"})
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "your value — check it" in _conflict(html)
    assert _form_values(html)["summary"] == "Mine"


# --- Filing-limit proposals on the deadlines page -----------------------------------------------
def test_confirm_and_dismiss_proposals_from_my_deadlines(
    client, db, ref, signed_in, procedures, on_day
):
    on_day(date(2025, 4, 1))
    procedures.icerd_fr.complaints_accepted_on = date(1982, 8, 16)
    db.session.commit()
    case = _make_case(db, signed_in)
    client.post(
        f"/cases/{case.id}/proceedings/new",
        data=proceeding_form(status="decided", outcome="loss", decided_on="2025-03-10"),
    )
    html = client.get("/cases/deadlines").get_data(as_text=True)
    ecthr, cerd = db.session.scalars(select(Event).order_by(Event.occurred_on)).all()
    assert "File with European Court of Human Rights by 2025-07-10" in html
    assert "Rule: four months from the final domestic decision (Art. 35(1) ECHR)." in html
    for event in (ecthr, cerd):
        for verb in ("confirm", "dismiss"):
            assert f'action="/cases/{case.id}/events/{event.id}/{verb}"' in html
    done = client.post(f"/cases/{case.id}/events/{ecthr.id}/confirm", data={"back": "deadlines"})
    assert done.headers["Location"].endswith("/cases/deadlines")
    client.post(f"/cases/{case.id}/events/{cerd.id}/dismiss", data={"back": "deadlines"})
    page = client.get("/cases/deadlines").get_data(as_text=True)
    assert "Deadline confirmed." in page or "Proposed deadline dismissed." in page
    assert "Committee on the Elimination" not in page
    assert f"/events/{ecthr.id}/confirm" not in page and "Confirmed" in page
    # A proposal replaced or removed meanwhile: a message, not an error page.
    gone = client.post(
        f"/cases/{case.id}/events/{cerd.id}/confirm",
        data={"back": "deadlines"},
        follow_redirects=True,
    )
    assert "no longer on the timeline" in gone.get_data(as_text=True)


def test_viewers_see_proposals_without_buttons(
    client, db, ref, signed_in, procedures, on_day, factory, login
):
    on_day(date(2025, 4, 1))
    case = _make_case(db, signed_in)
    client.post(
        f"/cases/{case.id}/proceedings/new",
        data=proceeding_form(status="decided", outcome="loss", decided_on="2025-03-10"),
    )
    login(factory.user(organisation=signed_in.organisation, role=Role.VIEWER))
    html = client.get("/cases/deadlines").get_data(as_text=True)
    assert "File with European Court of Human Rights by 2025-07-10" in html
    assert "/confirm" not in html and "/dismiss" not in html


def test_a_limit_already_passed_is_said_not_proposed(
    client, db, ref, signed_in, procedures, on_day
):
    on_day(date(2025, 4, 1))
    case = _make_case(db, signed_in, opened_on="2023-01-01")
    response = client.post(
        f"/cases/{case.id}/proceedings/new",
        data=proceeding_form(
            filed_on="2023-02-01", status="decided", outcome="loss", decided_on="2024-01-15"
        ),
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "The time limit to file with European Court of Human Rights ran out on" in html
    assert "Proposed deadline" not in html
    assert _count(db, Event) == 0


# --- The case page: suggestions, similar cases, the watch button --------------------------------
def test_the_case_page_shows_suggestions_similar_cases_and_the_watch_button(
    app, client, db, ref, signed_in, factory
):
    from tests.pleadings.conftest import add_pleading

    case = _make_case(db, signed_in, rights="liberty", provisions="")
    with app.test_request_context():
        pleading = add_pleading(
            signed_in,
            title="Detention application model",
            rights=["liberty"],
            summary="Immigration detention pending removal.",
        )
        unrelated = add_pleading(signed_in, title="School fees brief", summary="Enrolment fees.")
    germany = factory.jurisdiction("DE", name="Germany")
    similar = factory.case(title="C.D. v. Germany", jurisdiction=germany)
    similar.rights = [ref.liberty]
    db.session.commit()
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    suggestions = html.split('id="pleading-suggestions"')[1].split("</section>")[0]
    assert pleading.title in suggestions and "same right: Liberty and security" in suggestions
    assert unrelated.title not in suggestions
    similar_cases = html.split('id="similar-h"')[1].split("</section>")[0]
    assert "C.D. v. Germany" in similar_cases and "Germany" in similar_cases
    assert "Alert me about this case" in html
    assert 'name="kind" value="case"' in html and f'name="target" value="{case.id}"' in html
    # Watching it turns the button round.
    client.post(
        "/patterns/watch",
        data={
            "kind": "case",
            "target": str(case.id),
            "action": "watch",
            "next": f"/cases/{case.id}",
        },
    )
    assert "Stop alerts for this case" in client.get(f"/cases/{case.id}").get_data(as_text=True)


# --- Alerts from proceeding edits ---------------------------------------------------------------
def _notifications(client) -> str:
    """The notification list of the page (not the list of what the user watches above it)."""
    html = client.get("/patterns/notifications").get_data(as_text=True)
    start = html.find('<ul class="notification-list">')
    return html[start : html.index("</ul>", start)] if start >= 0 else ""


def test_a_new_decision_and_a_new_win_alert_the_watchers(
    client, db, ref, signed_in, factory, login
):
    case = _make_case(db, signed_in)
    proc = svc.add_proceeding(actor=signed_in, case=case, data=proceeding_form())
    secret = _make_case(db, signed_in, reference="S", confidentiality="restricted", title="Secret")
    secret_proc = svc.add_proceeding(actor=signed_in, case=secret, data=proceeding_form())
    db.session.commit()
    case_watcher = factory.user(role=Role.COORDINATOR, name="Case watcher")
    right_watcher = factory.user(role=Role.COORDINATOR, name="Right watcher")
    login(case_watcher)
    client.post("/patterns/watch", data={"kind": "case", "target": str(case.id), "action": "watch"})
    login(right_watcher)
    client.post("/patterns/watch", data={"kind": "right", "target": "liberty", "action": "watch"})

    login(signed_in)
    url = f"/cases/{case.id}/proceedings/{proc.id}/edit"
    form = _form_values(client.get(url).get_data(as_text=True))
    decided = {**form, "status": "decided", "outcome": "loss", "decided_on": "2025-03-10"}
    assert client.post(url, data=decided).status_code == 302
    form = _form_values(client.get(url).get_data(as_text=True))
    assert client.post(url, data={**form, "notes": "Only a note"}).status_code == 302
    form = _form_values(client.get(url).get_data(as_text=True))
    assert client.post(url, data={**form, "outcome": "partial_win"}).status_code == 302
    # A decision on a restricted case reaches no one outside its team.
    secret_url = f"/cases/{secret.id}/proceedings/{secret_proc.id}/edit"
    form = _form_values(client.get(secret_url).get_data(as_text=True))
    client.post(secret_url, data={**form, "status": "decided", "outcome": "win"})

    for watcher in (case_watcher, right_watcher):
        login(watcher)
        html = _notifications(client)
        assert html.count("A.B. v. France") == 2
        assert "New decision in “A.B. v. France”: Conseil d&#39;État, Loss (2025-03-10)." in html
        assert "New win in “A.B. v. France”: Conseil d&#39;État, Partial win (2025-03-10)." in html
        assert "Secret" not in html


# --- Removing a case, an event, a party, a link -------------------------------------------------
def test_deleting_a_case_erases_its_uploaded_files(app, client, db, ref, signed_in, factory):
    import io

    from tests.documents.files import pdf_bytes
    from tracker.documents.models import Document
    from tracker.documents.services import file_path

    case = _make_case(db, signed_in)
    other = _make_case(db, signed_in, reference="OTHER")

    def upload(target, data, name, title):
        form = {
            "document-file": (io.BytesIO(data), name),
            "document-title": title,
            "document-kind": "judgment",
            "document-language": "en",
            "document-confidentiality": "network",
        }
        response = client.post(
            f"/documents/cases/{target.id}/upload", data=form, content_type="multipart/form-data"
        )
        assert response.status_code == 302

    confidential, shared = pdf_bytes("confidential statement"), pdf_bytes("shared judgment")
    upload(case, confidential, "statement.pdf", "Witness statement")
    upload(case, shared, "judgment.pdf", "Judgment of the Council")
    upload(other, shared, "judgment.pdf", "Same judgment, other case")
    docs = {d.title: d for d in db.session.scalars(select(Document))}
    client.get(f"/cases/{case.id}")  # (shows the flashed messages)
    page = client.get(f"/cases/{case.id}/delete").get_data(as_text=True)
    assert "Witness statement" in page and "Judgment of the Council" in page
    assert "Same judgment, other case" not in page
    assert client.post(f"/cases/{case.id}/delete", data={"confirm": "y"}).status_code == 302
    assert not file_path(docs["Witness statement"].sha256).exists()
    assert file_path(docs["Same judgment, other case"].sha256).exists()  # still used
    assert [d.title for d in db.session.scalars(select(Document))] == ["Same judgment, other case"]


@pytest.mark.parametrize("what", ["event", "party", "link"])
def test_removals_need_a_confirmation_step(client, db, ref, signed_in, what):
    case = _make_case(db, signed_in)
    other = _make_case(db, signed_in, reference="O", title="Other matter")
    if what == "event":
        item = svc.add_event(
            actor=signed_in,
            case=case,
            data={"kind": "hearing", "occurred_on": "2025-01-01", "title": "Hearing in Paris"},
        )
        url, model, shown = f"/cases/{case.id}/events/{item.id}/delete", Event, "Hearing in Paris"
    elif what == "party":
        item = svc.add_party(
            actor=signed_in, case=case, data={"role": "claimant", "pseudonym": "A.B."}
        )
        url, model, shown = f"/cases/{case.id}/parties/{item.id}/delete", Party, "A.B."
    else:
        item = svc.add_link(actor=signed_in, case=case, target_id=other.id, kind="cites")
        url, model, shown = f"/cases/{case.id}/links/{item.id}/delete", CaseLink, "Other matter"
    db.session.commit()
    # The case page links to the confirmation page (no one-click form).
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f'href="{url}"' in page and f'action="{url}"' not in page
    confirm = client.get(url)
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert shown in html and 'name="confirm"' in html
    unticked = client.post(url, data={})
    assert unticked.status_code == 400
    assert "Tick the box to confirm." in unticked.get_data(as_text=True)
    assert _count(db, model) == 1
    assert client.post(url, data={"confirm": "y"}).status_code == 302
    assert _count(db, model) == 0


def test_a_link_to_an_invisible_case_cannot_be_removed_or_shown(
    client, db, ref, signed_in, factory
):
    case = _make_case(db, signed_in)
    secret = factory.case(confidentiality="restricted", title="Secret matter")
    link = CaseLink(source_case_id=secret.id, target_case_id=case.id, kind="cites")
    db.session.add(link)
    db.session.commit()
    url = f"/cases/{case.id}/links/{link.id}/delete"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"confirm": "y"}).status_code == 404
    assert _count(db, CaseLink) == 1


def test_partner_organisations_cannot_delete_the_lead_organisations_case(
    client, db, ref, signed_in, factory, login
):
    partner_org = factory.organisation()
    partner = factory.user(organisation=partner_org)
    case = _make_case(db, signed_in, partner_ids=[partner_org.id])
    login(partner)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Edit case" in page and "Delete…" not in page
    assert client.get(f"/cases/{case.id}/delete").status_code == 403
    assert client.post(f"/cases/{case.id}/delete", data={"confirm": "y"}).status_code == 403
    assert _count(db, Case) == 1
    # A colleague of the lead organisation, not on the team, may.
    login(factory.user(organisation=signed_in.organisation))
    assert "Delete…" in client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert client.post(f"/cases/{case.id}/delete", data={"confirm": "y"}).status_code == 302
    assert _count(db, Case) == 0


# --- Dates out of order -------------------------------------------------------------------------
def test_a_proceeding_filed_before_the_case_was_opened(client, db, ref, signed_in):
    case = _make_case(db, signed_in, opened_on="2024-01-10")
    response = client.post(
        f"/cases/{case.id}/proceedings/new", data=proceeding_form(filed_on="2023-12-31")
    )
    assert response.status_code == 400
    assert "before the case was opened (Jan 10, 2024)" in _error_for(
        response.get_data(as_text=True), "filed_on"
    )
    assert _count(db, Proceeding) == 0


def test_the_case_cannot_open_after_its_first_filing(client, db, ref, signed_in):
    case = _make_case(db, signed_in, opened_on="2024-01-10")
    svc.add_proceeding(actor=signed_in, case=case, data=proceeding_form(filed_on="2024-02-01"))
    db.session.commit()
    data = _form_values(client.get(f"/cases/{case.id}/edit").get_data(as_text=True))
    response = client.post(f"/cases/{case.id}/edit", data={**data, "opened_on": "2024-03-01"})
    assert response.status_code == 400
    assert "was filed on Feb 1, 2024" in _error_for(response.get_data(as_text=True), "opened_on")


def test_far_future_dates_and_late_reminders_are_field_errors(client, db, ref, signed_in):
    case = _make_case(db, signed_in)
    year = date.today().year
    response = client.post(
        f"/cases/{case.id}/proceedings/new",
        data=proceeding_form(status="decided", outcome="win", decided_on=f"{year + 2}-01-01"),
    )
    assert response.status_code == 400
    assert "more than a year from now" in _error_for(response.get_data(as_text=True), "decided_on")
    response = client.post(
        f"/cases/{case.id}/events",
        data={
            "event-kind": "deadline",
            "event-occurred_on": "2025-07-10",
            "event-title": "File",
            "event-is_deadline": "y",
            "event-remind_on": "2025-08-01",
        },
    )
    assert response.status_code == 400
    assert "on or before the date itself" in _error_for(
        response.get_data(as_text=True), "event-remind_on"
    )
    assert _count(db, Event) == 0
