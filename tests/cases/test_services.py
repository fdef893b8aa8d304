"""Services of the cases area: validation, permissions, audit entries, filing limits."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests.cases.conftest import case_form, proceeding_form
from tracker.audit.models import AuditEntry
from tracker.cases import services as svc
from tracker.cases.models import Case, CaseMember, Event, Proceeding, TeamRole
from tracker.taxonomy.models import (
    ForumLevel,
    InstrumentKind,
    JurisdictionKind,
    Ratification,
    SystemMembership,
)
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


# --- Filing limits -------------------------------------------------------------------------
ECTHR_RULE = "four months from the final domestic decision (Art. 35(1) ECHR)"


@pytest.fixture()
def procedures(factory, db, ref):
    """The ratification data of France, for the forum finder's rule.

    ECHR ratified (the Court is open on ratification: 4 months); ACHR not ratified (IACHR,
    6 months, closed); ICERD ratified without the art. 14 declaration (CERD, 6 months,
    closed until it is made); ICESCR ratified but not its Optional Protocol (CESCR, 12 months,
    closed). France is in the Council of Europe and the UN systems: membership alone must not
    open anything.
    """
    un = factory.jurisdiction("UN", name="United Nations", kind=JurisdictionKind.SYSTEM)
    db.session.add(SystemMembership(system=un, state=ref.fr))
    echr = factory.instrument("ECHR")
    echr.complaint_via_id = echr.id  # complaints under the treaty itself
    achr = factory.instrument("ACHR")
    achr.complaint_via_id = achr.id  # complaints under the treaty itself
    icerd = factory.instrument(
        "ICERD", note="Individual communications need the art. 14 declaration"
    )
    icerd.complaint_via_id = icerd.id  # complaints under the treaty itself
    op = factory.instrument("ICESCR-OP", kind=InstrumentKind.PROTOCOL)
    icescr = factory.instrument("ICESCR")
    icescr.complaint_via = op
    ref.ecthr.instrument = echr
    ref.ecthr.filing_limit_basis = ECTHR_RULE
    ref.iachr.instrument = achr
    cerd = factory.forum(
        "CERD",
        jurisdiction=un,
        name="Committee on the Elimination of Racial Discrimination",
        level=ForumLevel.TREATY_BODY,
        filing_limit_months=6,
        instrument=icerd,
    )
    cescr = factory.forum(
        "CESCR",
        jurisdiction=un,
        name="Committee on Economic, Social and Cultural Rights",
        level=ForumLevel.TREATY_BODY,
        filing_limit_months=12,
        instrument=icescr,
    )
    icerd_fr = Ratification(instrument=icerd, jurisdiction=ref.fr, ratified_on=date(1971, 7, 28))
    db.session.add_all(
        [
            Ratification(instrument=echr, jurisdiction=ref.fr, ratified_on=date(1974, 5, 3)),
            icerd_fr,
            Ratification(instrument=icescr, jurisdiction=ref.fr, ratified_on=date(1980, 11, 4)),
        ]
    )
    tribunal = factory.forum(
        "FR-TA", jurisdiction=ref.fr, name="Tribunal administratif", level=ForumLevel.FIRST_INSTANCE
    )
    db.session.commit()
    return SimpleNamespace(cerd=cerd, cescr=cescr, icerd_fr=icerd_fr, tribunal=tribunal)


@pytest.fixture()
def on_day(monkeypatch):
    """Fix 'today' for the date checks and the filing limits."""

    def _set(day: date) -> None:
        monkeypatch.setattr(svc, "today", lambda: day)

    return _set


def _proposals(db) -> list[tuple[date, str]]:
    return [
        (e.occurred_on, e.title)
        for e in db.session.scalars(
            select(Event).where(Event.confirmed.is_(False)).order_by(Event.occurred_on)
        )
    ]


def test_domestic_decision_proposes_ecthr_deadline(db, ref, litigator, procedures, on_day):
    on_day(date(2025, 4, 1))
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
    # 10 March + 4 months = 10 July. Only the ECtHR: France made no ICERD art. 14
    # declaration, is not a party to the ICESCR's Optional Protocol nor to the ACHR.
    (event,) = db.session.scalars(select(Event))
    assert event.occurred_on == date(2025, 7, 10)
    assert event.is_deadline and not event.confirmed
    assert event.proceeding_id == proc.id
    assert event.title == "File with European Court of Human Rights by 2025-07-10"
    assert event.computed_basis == (
        "2025-03-10 (decision of Conseil d'État, the last domestic decision recorded) "
        "+ four months. Rule: four months from the final domestic decision (Art. 35(1) ECHR)."
    )
    assert event.computed_basis.count("from the final domestic decision") == 1
    svc.confirm_deadline(actor=litigator, event=event)
    db.session.commit()
    assert event.confirmed
    assert _audit(db, "event.confirm")


def test_a_declaration_opens_the_committee_and_its_limit(db, ref, litigator, procedures, on_day):
    on_day(date(2025, 4, 1))
    procedures.icerd_fr.complaints_accepted_on = date(1982, 8, 16)  # the art. 14 declaration
    db.session.commit()
    case = svc.create_case(actor=litigator, data=case_form())
    svc.add_proceeding(
        actor=litigator,
        case=case,
        data=proceeding_form(status="decided", outcome="loss", decided_on="2025-03-10"),
    )
    db.session.commit()
    assert _proposals(db) == [
        (date(2025, 7, 10), "File with European Court of Human Rights by 2025-07-10"),
        (
            date(2025, 9, 10),  # 10 March + 6 months
            "File with Committee on the Elimination of Racial Discrimination by 2025-09-10",
        ),
    ]


def test_only_the_final_domestic_decision_counts(db, ref, litigator, procedures, on_day):
    on_day(date(2025, 2, 1))
    case = svc.create_case(actor=litigator, data=case_form())
    first = svc.add_proceeding(
        actor=litigator,
        case=case,
        data=proceeding_form(
            forum="FR-TA",
            filed_on="2024-06-03",
            status="decided",
            outcome="loss",
            decided_on="2025-01-20",
        ),
    )
    db.session.commit()
    assert _proposals(db) == [
        (date(2025, 5, 20), "File with European Court of Human Rights by 2025-05-20")
    ]
    # The decision is appealed: it is not final, and nothing is proposed from it.
    on_day(date(2025, 2, 12))
    svc.update_proceeding(
        actor=litigator,
        proceeding=first,
        data=proceeding_form(
            forum="FR-TA",
            filed_on="2024-06-03",
            status="on_appeal",
            outcome="loss",
            decided_on="2025-01-20",
        ),
    )
    appeal = svc.add_proceeding(
        actor=litigator,
        case=case,
        data=proceeding_form(forum="FR-CE", filed_on="2025-02-10", status="pending"),
    )
    db.session.commit()
    assert _proposals(db) == []
    # The appeal is decided on 31 October: + 4 months = 28 February (no 31st).
    on_day(date(2025, 11, 5))
    svc.update_proceeding(
        actor=litigator,
        proceeding=appeal,
        data=proceeding_form(
            forum="FR-CE",
            filed_on="2025-02-10",
            status="decided",
            outcome="loss",
            decided_on="2025-10-31",
        ),
    )
    db.session.commit()
    assert _proposals(db) == [
        (date(2026, 2, 28), "File with European Court of Human Rights by 2026-02-28")
    ]
    assert db.session.scalar(select(Event)).proceeding_id == appeal.id


def test_corrected_decision_date_replaces_the_proposal(db, ref, litigator, procedures, on_day):
    on_day(date(2025, 4, 1))
    case = svc.create_case(actor=litigator, data=case_form())
    proc = svc.add_proceeding(
        actor=litigator,
        case=case,
        data=proceeding_form(status="decided", outcome="loss", decided_on="2025-03-10"),
    )
    svc.update_proceeding(
        actor=litigator,
        proceeding=proc,
        data=proceeding_form(status="decided", outcome="loss", decided_on="2025-03-31"),
    )
    db.session.commit()
    (event,) = db.session.scalars(select(Event))
    assert event.occurred_on == date(2025, 7, 31)


def test_past_limits_are_not_proposed_but_told(db, ref, litigator, procedures, on_day):
    on_day(date(2025, 4, 1))
    case = svc.create_case(actor=litigator, data=case_form(opened_on="2023-01-01"))
    svc.add_proceeding(
        actor=litigator,
        case=case,
        data=proceeding_form(
            filed_on="2023-02-01", status="decided", outcome="loss", decided_on="2024-01-15"
        ),
    )
    db.session.commit()
    assert _count(db, Event) == 0
    (passed,) = svc.passed_filing_limits(case)
    assert (passed.forum.code, passed.due) == ("ECTHR", date(2024, 5, 15))


def test_a_confirmed_deadline_is_not_proposed_again(db, ref, litigator, procedures, on_day):
    on_day(date(2025, 4, 1))
    case = svc.create_case(actor=litigator, data=case_form())
    proc = svc.add_proceeding(
        actor=litigator,
        case=case,
        data=proceeding_form(status="decided", outcome="loss", decided_on="2025-03-10"),
    )
    (event,) = db.session.scalars(select(Event))
    svc.confirm_deadline(actor=litigator, event=event)
    svc.update_proceeding(
        actor=litigator,
        proceeding=proc,
        data=proceeding_form(status="closed", outcome="loss", decided_on="2025-03-10"),
    )
    db.session.commit()
    assert [(e.occurred_on, e.confirmed) for e in db.session.scalars(select(Event))] == [
        (date(2025, 7, 10), True)
    ]


def test_regional_decision_proposes_nothing(db, ref, litigator, procedures, on_day):
    on_day(date(2025, 4, 1))
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


# --- Optimistic locking of proceedings and implementation ------------------------------------
def test_a_stale_proceeding_is_refused_with_what_changed(db, ref, litigator, factory):
    case = svc.create_case(actor=litigator, data=case_form())
    proc = svc.add_proceeding(actor=litigator, case=case, data=proceeding_form())
    db.session.commit()
    loaded = svc.state_digests(svc.proceeding_state(proc))  # both opened the form now
    colleague = factory.user(organisation=litigator.organisation)
    decided = proceeding_form(status="decided", outcome="win", decided_on="2025-03-10")
    svc.update_proceeding(actor=colleague, proceeding=proc, data=decided, base=loaded)
    svc.set_treatments(actor=colleague, proceeding=proc, treatments={"right:liberty": "upheld"})
    db.session.commit()
    with pytest.raises(svc.StaleProceeding) as info:
        svc.update_proceeding(
            actor=litigator, proceeding=proc, data=proceeding_form(notes="Mine"), base=loaded
        )
    db.session.rollback()
    assert info.value.status == 409
    assert info.value.changed == ["decided_on", "status", "outcome", "treatment:right:liberty"]
    db.session.expire_all()
    saved = db.session.get(Proceeding, proc.id)
    assert (saved.status.value, saved.outcome.value, saved.notes) == ("decided", "win", None)
    # Loaded afresh, the same change goes through.
    fresh = svc.state_digests(svc.proceeding_state(saved))
    svc.update_proceeding(
        actor=litigator,
        proceeding=saved,
        data={**decided, "notes": "Mine"},
        base=fresh,
    )
    db.session.commit()
    assert saved.notes == "Mine"


def test_a_proceeding_changed_by_the_import_is_stale_too(db, ref, litigator):
    """The CSV import updates proceedings in bulk, touching no version: the digests see it."""
    from sqlalchemy import update

    case = svc.create_case(actor=litigator, data=case_form())
    proc = svc.add_proceeding(actor=litigator, case=case, data=proceeding_form())
    db.session.commit()
    loaded = svc.state_digests(svc.proceeding_state(proc))
    db.session.execute(
        update(Proceeding).where(Proceeding.id == proc.id).values(reference="No 999")
    )
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(svc.StaleProceeding) as info:
        svc.update_proceeding(
            actor=litigator,
            proceeding=db.session.get(Proceeding, proc.id),
            data=proceeding_form(),
            base=loaded,
        )
    assert info.value.changed == ["reference"]


def test_a_stale_implementation_is_refused(db, ref, litigator):
    case = svc.create_case(actor=litigator, data=case_form())
    proc = svc.add_proceeding(
        actor=litigator,
        case=case,
        data=proceeding_form(
            forum="ECTHR", status="decided", outcome="win", decided_on="2025-01-01"
        ),
    )
    impl = svc.add_implementation(
        actor=litigator, proceeding=proc, data={"measures_ordered": "Release"}
    )
    db.session.commit()
    loaded = svc.state_digests(svc.implementation_state(impl))
    svc.update_implementation(
        actor=litigator,
        implementation=impl,
        data={"measures_ordered": "Release", "compliance": "full"},
        base=loaded,
    )
    db.session.commit()
    with pytest.raises(svc.StaleImplementation) as info:
        svc.update_implementation(
            actor=litigator,
            implementation=impl,
            data={"measures_ordered": "Release", "compliance": "partial"},
            base=loaded,
        )
    assert info.value.changed == ["compliance"]


# --- Dates out of order -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"status": "decided", "outcome": "win", "decided_on": "2026-06-02"},
            "decided_on",
            "2026-06-02 is more than a year from now",
        ),
        ({"status": "planned", "filed_on": "2026-06-02"}, "filed_on", "more than a year"),
        ({"status": "pending", "filed_on": "2025-04-02"}, "filed_on", "is in the future"),
    ],
)
def test_proceeding_dates_in_the_future(db, ref, litigator, on_day, overrides, field, message):
    on_day(date(2025, 4, 1))
    case = svc.create_case(actor=litigator, data=case_form())
    with pytest.raises(svc.ValidationFailed) as info:
        svc.add_proceeding(actor=litigator, case=case, data=proceeding_form(**overrides))
    assert message in info.value.errors[field]


def test_planned_filing_and_a_decision_announced_are_accepted(db, ref, litigator, on_day):
    on_day(date(2025, 4, 1))
    case = svc.create_case(actor=litigator, data=case_form())
    svc.add_proceeding(
        actor=litigator, case=case, data=proceeding_form(status="planned", filed_on="2025-09-01")
    )
    svc.add_proceeding(
        actor=litigator,
        case=case,
        data=proceeding_form(status="decided", outcome="loss", decided_on="2025-04-15"),
    )
    assert _count(db, Proceeding) == 2


def test_a_reminder_after_its_deadline_is_refused(db, ref, litigator):
    case = svc.create_case(actor=litigator, data=case_form())
    data = {"kind": "deadline", "occurred_on": "2025-07-10", "title": "File", "is_deadline": True}
    with pytest.raises(svc.ValidationFailed) as info:
        svc.add_event(actor=litigator, case=case, data={**data, "remind_on": "2025-07-11"})
    assert "on or before the date itself (2025-07-10)" in info.value.errors["remind_on"]
    event = svc.add_event(actor=litigator, case=case, data={**data, "remind_on": "2025-07-10"})
    assert event.remind_on == date(2025, 7, 10)


def test_implementation_reported_before_the_decision_is_refused(db, ref, litigator, on_day):
    on_day(date(2025, 4, 1))
    case = svc.create_case(actor=litigator, data=case_form())
    proc = svc.add_proceeding(
        actor=litigator,
        case=case,
        data=proceeding_form(
            forum="ECTHR", status="decided", outcome="win", decided_on="2025-01-01"
        ),
    )
    for day, message in (
        ("2024-12-31", "before the decision (2025-01-01)"),
        ("2025-04-02", "future"),
    ):
        with pytest.raises(svc.ValidationFailed) as info:
            svc.add_implementation(
                actor=litigator,
                proceeding=proc,
                data={"measures_ordered": "Release", "reported_on": day},
            )
        assert message in info.value.errors["reported_on"]


# --- Deleting -----------------------------------------------------------------------------------
def test_who_may_delete_a_case(db, ref, litigator, factory):
    partner_org = factory.organisation()
    partner = factory.user(organisation=partner_org)
    partner_lead = factory.user(organisation=partner_org)
    colleague = factory.user(organisation=litigator.organisation)
    viewer = factory.user(organisation=litigator.organisation, role=Role.VIEWER)
    case = svc.create_case(
        actor=litigator,
        data=case_form(partner_ids=[partner_org.id], team_ids=[partner.id, partner_lead.id]),
    )
    next(m for m in case.team if m.user_id == partner_lead.id).role = TeamRole.LEAD
    db.session.commit()
    assert [svc.can_delete_case(u, case) for u in (litigator, colleague, partner_lead)] == [
        True,
        True,
        True,
    ]
    assert not svc.can_delete_case(partner, case)  # edits the case, may not delete it
    assert not svc.can_delete_case(viewer, case)
    with pytest.raises(svc.NotPermitted):
        svc.delete_case(actor=partner, case=case)
    db.session.rollback()
    assert db.session.get(Case, case.id) is not None


def test_delete_case_deletes_its_documents_and_returns_their_files(db, ref, litigator, factory):
    case = svc.create_case(actor=litigator, data=case_form())
    db.session.commit()
    one = factory.document(case=case, text="one")
    two = factory.document(case=case, text="two", sha256=one.sha256)  # the same file twice
    three = factory.document(case=case, text="three")
    checksums = svc.delete_case(actor=litigator, case=case)
    db.session.commit()
    assert checksums == [one.sha256, three.sha256]
    deleted = [e.entity_id for e in _audit(db, "document.delete")]
    assert sorted(deleted) == sorted(str(d.id) for d in (one, two, three))
