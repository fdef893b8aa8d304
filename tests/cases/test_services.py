"""Services of the cases area: validation, permissions, audit entries, filing limits."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.cases.conftest import case_form, proceeding_form
from tracker.audit.models import AuditEntry
from tracker.cases import services as svc
from tracker.cases.models import Case, CaseMember, Event, Proceeding, TeamRole
from tracker.types import Role


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _audit(db, action):
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_create_case_tags_team_and_audit(db, ref, litigator):
    case = svc.create_case(actor=litigator, data=case_form())
    db.session.commit()
    assert case.lead_organisation_id == litigator.organisation_id
    assert {r.code for r in case.rights} == {"liberty", "non-refoulement"}
    assert [p.code for p in case.provisions] == ["ECHR:5"]
    assert [(m.user_id, m.role) for m in case.team] == [(litigator.id, TeamRole.LEAD)]
    (entry,) = _audit(db, "case.create")
    assert entry.entity_id == str(case.id)
    assert entry.after["rights"] == ["liberty", "non-refoulement"]
    assert entry.after["provisions"] == ["ECHR:5"]
    assert entry.after["title"] == "A.B. v. France"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"case_type": ""}, "case_type"),
        ({"case_type": "nonsense"}, "case_type"),
        ({"jurisdiction": ""}, "jurisdiction"),
        ({"jurisdiction": "ZZ"}, "jurisdiction"),
        ({"rights": "liberty; no-such-right"}, "rights"),
        ({"provisions": "ECHR:999"}, "provisions"),
        ({"opened_on": "10/01/2024"}, "opened_on"),
        ({"confidentiality": "secret"}, "confidentiality"),
        ({"title": "x" * 301}, "title"),
    ],
)
def test_create_case_rejects_bad_input(db, ref, litigator, overrides, field):
    with pytest.raises(svc.ValidationFailed) as info:
        svc.create_case(actor=litigator, data=case_form(**overrides))
    db.session.rollback()
    assert field in info.value.errors
    assert _count(db, Case) == 0


def test_duplicate_reference_in_same_organisation(db, ref, litigator, factory):
    svc.create_case(actor=litigator, data=case_form(reference="R-7"))
    db.session.commit()
    with pytest.raises(svc.DuplicateReference) as info:
        svc.create_case(actor=litigator, data=case_form(reference="R-7", title="Other"))
    db.session.rollback()
    assert "already has a case with this reference" in info.value.errors["reference"]
    # Another organisation may use the same reference.
    other = factory.user(role=Role.LITIGATOR)
    svc.create_case(actor=other, data=case_form(reference="R-7"))
    db.session.commit()
    assert _count(db, Case) == 2


def test_litigator_cannot_lead_for_another_organisation(db, ref, litigator, factory):
    other_org = factory.organisation()
    with pytest.raises(svc.ValidationFailed) as info:
        svc.create_case(actor=litigator, data=case_form(lead_organisation_id=other_org.id))
    assert "lead_organisation_id" in info.value.errors
    coordinator = factory.user(role=Role.COORDINATOR)
    case = svc.create_case(actor=coordinator, data=case_form(lead_organisation_id=other_org.id))
    assert case.lead_organisation_id == other_org.id


def test_team_only_from_lead_and_partner_organisations(db, ref, litigator, factory):
    stranger = factory.user()
    with pytest.raises(svc.ValidationFailed) as info:
        svc.create_case(actor=litigator, data=case_form(team_ids=[stranger.id]))
    assert "team_ids" in info.value.errors
    db.session.rollback()
    case = svc.create_case(
        actor=litigator,
        data=case_form(team_ids=[stranger.id], partner_ids=[stranger.organisation_id]),
    )
    assert {m.user_id for m in case.team} == {litigator.id, stranger.id}


def test_viewer_cannot_create(db, ref, factory):
    viewer = factory.user(role=Role.VIEWER)
    with pytest.raises(svc.NotPermitted):
        svc.create_case(actor=viewer, data=case_form())


def test_update_case_audits_diff_and_bumps_version(db, ref, litigator):
    case = svc.create_case(actor=litigator, data=case_form())
    db.session.commit()
    version = case.version
    data = case_form(title="A.B. v. France (amended)", rights="liberty", team_ids=[litigator.id])
    svc.update_case(actor=litigator, case=case, data=data, base_version=version)
    db.session.commit()
    assert case.version == version + 1
    (entry,) = _audit(db, "case.update")
    assert entry.before["title"] == "A.B. v. France"
    assert entry.after["title"] == "A.B. v. France (amended)"
    assert entry.before["rights"] == ["liberty", "non-refoulement"]
    assert entry.after["rights"] == ["liberty"]
    assert "summary" not in entry.after  # only what changed


def test_tag_only_change_still_moves_the_version(db, ref, litigator):
    case = svc.create_case(actor=litigator, data=case_form())
    db.session.commit()
    v = case.version
    svc.update_case(
        actor=litigator,
        case=case,
        data=case_form(provisions="ECHR:5; ICCPR:9", team_ids=[litigator.id]),
        base_version=v,
    )
    db.session.commit()
    assert case.version == v + 1


def test_stale_update_is_refused_and_names_the_changes(db, ref, litigator):
    case = svc.create_case(actor=litigator, data=case_form())
    db.session.commit()
    base = case.version
    svc.update_case(
        actor=litigator,
        case=case,
        data=case_form(summary="First editor's summary", team_ids=[litigator.id]),
        base_version=base,
    )
    db.session.commit()
    with pytest.raises(svc.StaleCase) as info:
        svc.update_case(
            actor=litigator,
            case=case,
            data=case_form(title="Second editor", team_ids=[litigator.id]),
            base_version=base,
        )
    db.session.rollback()
    assert info.value.status == 409
    assert info.value.changed == ["summary"]
    assert db.session.get(Case, case.id).title == "A.B. v. France"


def test_restricted_case_keeps_its_editor_on_the_team(db, ref, litigator):
    case = svc.create_case(actor=litigator, data=case_form(confidentiality="restricted"))
    db.session.commit()
    with pytest.raises(svc.ValidationFailed) as info:
        svc.update_case(
            actor=litigator,
            case=case,
            data=case_form(confidentiality="restricted", team_ids=[]),
            base_version=case.version,
        )
    assert "team_ids" in info.value.errors


def test_delete_case_audited(db, ref, litigator):
    case = svc.create_case(actor=litigator, data=case_form())
    svc.add_proceeding(actor=litigator, case=case, data=proceeding_form())
    db.session.commit()
    case_id = case.id
    svc.delete_case(actor=litigator, case=case)
    db.session.commit()
    assert db.session.get(Case, case_id) is None
    assert _count(db, Proceeding) == 0
    assert _count(db, CaseMember) == 0
    (entry,) = _audit(db, "case.delete")
    assert entry.entity_id == str(case_id)
    assert entry.before["title"] == "A.B. v. France"
    assert entry.after is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"forum": ""}, "forum"),
        ({"forum": "NOPE"}, "forum"),
        ({"filed_on": "2024-05-01", "decided_on": "2024-04-30", "status": "decided"}, "decided_on"),
        ({"outcome": "win", "status": "pending"}, "outcome"),
        ({"status": "stuck"}, "status"),
        ({"filed_on": "yesterday"}, "filed_on"),
    ],
)
def test_proceeding_validation(db, ref, litigator, overrides, field):
    case = svc.create_case(actor=litigator, data=case_form())
    db.session.commit()
    with pytest.raises(svc.ValidationFailed) as info:
        svc.add_proceeding(actor=litigator, case=case, data=proceeding_form(**overrides))
    db.session.rollback()
    assert field in info.value.errors
    assert _count(db, Proceeding) == 0


@pytest.mark.parametrize("status", ["decided", "closed", "on_appeal"])
def test_outcome_allowed_once_decided(db, ref, litigator, status):
    case = svc.create_case(actor=litigator, data=case_form())
    proc = svc.add_proceeding(
        actor=litigator,
        case=case,
        data=proceeding_form(status=status, outcome="win", decided_on="2024-06-01"),
    )
    assert proc.outcome.value == "win"


def test_domestic_decision_proposes_ecthr_deadline(db, ref, litigator):
    case = svc.create_case(actor=litigator, data=case_form())
    proc = svc.add_proceeding(actor=litigator, case=case, data=proceeding_form())
    db.session.commit()
    assert _count(db, Event) == 0  # no decision, no proposal
    svc.update_proceeding(
        actor=litigator,
        proceeding=proc,
        data=proceeding_form(status="decided", outcome="loss", decided_on="2025-03-10"),
    )
    db.session.commit()
    (event,) = db.session.scalars(select(Event))
    assert event.occurred_on == date(2025, 7, 10)
    assert event.is_deadline and not event.confirmed
    assert event.title == "File with European Court of Human Rights by 2025-07-10"
    assert event.computed_basis.startswith(
        "four months from the final domestic decision of 2025-03-10"
    )
    assert "Art. 35(1) ECHR" in event.computed_basis
    # IACHR has a limit too, but France is not in the Inter-American system.
    svc.confirm_deadline(actor=litigator, event=event)
    db.session.commit()
    assert event.confirmed
    assert _audit(db, "event.confirm")


def test_corrected_decision_date_replaces_the_proposal(db, ref, litigator):
    case = svc.create_case(actor=litigator, data=case_form())
    proc = svc.add_proceeding(
        actor=litigator,
        case=case,
        data=proceeding_form(status="decided", outcome="loss", decided_on="2025-03-10"),
    )
    svc.update_proceeding(
        actor=litigator,
        proceeding=proc,
        data=proceeding_form(status="decided", outcome="loss", decided_on="2025-10-31"),
    )
    db.session.commit()
    (event,) = db.session.scalars(select(Event))
    assert event.occurred_on == date(2026, 2, 28)  # clamped to the month's end


def test_regional_decision_proposes_nothing(db, ref, litigator):
    case = svc.create_case(actor=litigator, data=case_form())
    svc.add_proceeding(
        actor=litigator,
        case=case,
        data=proceeding_form(
            forum="ECTHR", status="decided", outcome="win", decided_on="2025-03-10"
        ),
    )
    db.session.commit()
    assert _count(db, Event) == 0


def test_dismiss_only_proposals(db, ref, litigator):
    case = svc.create_case(actor=litigator, data=case_form())
    event = svc.add_event(
        actor=litigator,
        case=case,
        data={"kind": "hearing", "occurred_on": "2025-01-01", "title": "Hearing"},
    )
    with pytest.raises(svc.ValidationFailed):
        svc.dismiss_deadline(actor=litigator, event=event)


def test_treatments_only_for_the_cases_tags(db, ref, litigator):
    case = svc.create_case(actor=litigator, data=case_form())
    proc = svc.add_proceeding(actor=litigator, case=case, data=proceeding_form())
    svc.set_treatments(
        actor=litigator,
        proceeding=proc,
        treatments={"right:liberty": "upheld", "provision:ECHR:5": "rejected"},
    )
    db.session.commit()
    assert sorted(t.treatment.value for t in proc.treatments) == ["rejected", "upheld"]
    with pytest.raises(svc.ValidationFailed):
        svc.set_treatments(
            actor=litigator, proceeding=proc, treatments={"provision:ICCPR:9": "upheld"}
        )
    with pytest.raises(svc.ValidationFailed):
        svc.set_treatments(actor=litigator, proceeding=proc, treatments={"right:liberty": "won"})
    # Clearing one leaves the other.
    svc.set_treatments(
        actor=litigator,
        proceeding=proc,
        treatments={"right:liberty": "", "provision:ECHR:5": "rejected"},
    )
    db.session.commit()
    assert [t.treatment.value for t in proc.treatments] == ["rejected"]
    assert _audit(db, "proceeding.treatments")


def test_party_identity_needs_the_team(db, ref, litigator, factory):
    case = svc.create_case(actor=litigator, data=case_form())
    db.session.commit()
    colleague = factory.user(organisation=litigator.organisation)  # same org, not on team
    with pytest.raises(svc.ValidationFailed) as info:
        svc.add_party(
            actor=colleague,
            case=case,
            data={"role": "claimant", "pseudonym": "A.B.", "full_name": "Real Name"},
        )
    assert "full_name" in info.value.errors
    party = svc.add_party(
        actor=litigator,
        case=case,
        data={"role": "claimant", "pseudonym": "A.B.", "full_name": "Real Name"},
    )
    db.session.commit()
    (entry,) = _audit(db, "party.create")
    assert entry.after["full_name"] == "[recorded]"  # identities stay out of the trail
    assert party.full_name == "Real Name"


def test_links_only_to_visible_cases(db, ref, litigator, factory):
    mine = svc.create_case(actor=litigator, data=case_form())
    hidden = factory.case(confidentiality="restricted")
    visible = factory.case(confidentiality="network")
    db.session.commit()
    with pytest.raises(svc.ValidationFailed) as info:
        svc.add_link(actor=litigator, case=mine, target_id=hidden.id, kind="cites")
    assert "target" in info.value.errors
    with pytest.raises(svc.ValidationFailed):
        svc.add_link(actor=litigator, case=mine, target_id=mine.id, kind="cites")
    with pytest.raises(svc.ValidationFailed):
        svc.add_link(actor=litigator, case=mine, target_id=visible.id, kind="loves")
    link = svc.add_link(actor=litigator, case=mine, target_id=visible.id, kind="cites")
    db.session.commit()
    assert link.target_case_id == visible.id
    with pytest.raises(svc.ValidationFailed):
        svc.add_link(actor=litigator, case=mine, target_id=visible.id, kind="cites")


def test_implementation_after_decision_only(db, ref, litigator):
    case = svc.create_case(actor=litigator, data=case_form())
    pending = svc.add_proceeding(actor=litigator, case=case, data=proceeding_form())
    with pytest.raises(svc.ValidationFailed):
        svc.add_implementation(
            actor=litigator, proceeding=pending, data={"measures_ordered": "Release"}
        )
    decided = svc.add_proceeding(
        actor=litigator,
        case=case,
        data=proceeding_form(
            forum="ECTHR", status="decided", outcome="win", decided_on="2025-01-01"
        ),
    )
    with pytest.raises(svc.ValidationFailed) as info:
        svc.add_implementation(actor=litigator, proceeding=decided, data={"measures_ordered": ""})
    assert "measures_ordered" in info.value.errors
    impl = svc.add_implementation(
        actor=litigator,
        proceeding=decided,
        data={"measures_ordered": "Release and compensation", "compliance": "partial"},
    )
    svc.update_implementation(
        actor=litigator,
        implementation=impl,
        data={"measures_ordered": "Release and compensation", "compliance": "full"},
    )
    db.session.commit()
    assert impl.compliance.value == "full"
    (entry,) = _audit(db, "implementation.update")
    assert (entry.before["compliance"], entry.after["compliance"]) == ("partial", "full")


def test_add_months():
    assert svc.add_months(date(2025, 3, 10), 4) == date(2025, 7, 10)
    assert svc.add_months(date(2024, 10, 31), 4) == date(2025, 2, 28)
    assert svc.add_months(date(2023, 10, 31), 4) == date(2024, 2, 29)
    assert svc.add_months(date(2025, 9, 15), 6) == date(2026, 3, 15)
