"""Knock-on opportunities: targets, ranking, refresh, actions, confidentiality (conftest world).

Worked out by hand:
  P1 (C1, FR, FR-CE, win on liberty, invokes ECHR:5) -> states bound by the ECHR other than
     FR: DE and ES. RU denounced the ECHR (must not appear); MA is not bound (must not appear).
     A national forum: no "same regional court" targets.
  P2 (C2, FR, ECtHR, win on family-life via ECHR:8 upheld; liberty rejected -> no liberty
     opportunity) -> DE and ES (ECHR parties and current COE members; RU left the COE).
  P6 (C6, ES, win on liberty, no provision, national forum) -> no basis, no target.
  Ranking for liberty from P1: DE = 40 (no liberty win in DE) + 10 (C7 pending) + 5 (Org DE)
     + recency + level; ES = 0 (C6 won liberty in ES) + recency + level. DE ranks first.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.patterns.conftest import add_restricted_win
from tracker.audit.models import AuditEntry
from tracker.cases.models import Case, CaseLink, LinkKind, Outcome, Status
from tracker.extensions import db
from tracker.patterns import opportunities as opp
from tracker.patterns.models import Opportunity, OpportunityStatus
from tracker.patterns.services import (
    OpportunityError,
    dismiss_opportunity,
    refresh_opportunities,
)
from tracker.types import Confidentiality


def _opps(**where):
    rows = db.session.scalars(select(Opportunity)).all()
    return {
        (o.source_case.title, o.right.code, o.target_jurisdiction.code): o
        for o in rows
        if all(getattr(o, k) == v for k, v in where.items())
    }


def test_targets_follow_ratifications_and_regional_court(world):
    got = set(_opps())
    assert got == {
        ("Liberty FR", "liberty", "DE"),
        ("Liberty FR", "liberty", "ES"),
        ("Family FR", "family-life", "DE"),
        ("Family FR", "family-life", "ES"),
    }
    targets = {t for _, _, t in got}
    assert "RU" not in targets  # denounced the ECHR, left the Council of Europe
    assert "MA" not in targets  # bound by neither
    assert ("Family FR", "liberty", "DE") not in got  # the ECtHR rejected ECHR:5


def test_basis_in_words(world):
    o = _opps()[("Family FR", "family-life", "DE")]
    text = opp.basis_text(o)
    assert text == (
        "Both bound by ECHR art. 8; both under the COE system; "
        "win before the European Court of Human Rights (2023)"
    )
    assert "Family FR" not in o.basis  # never a case title in the stored basis


def test_ranking_prefers_a_target_without_a_win(world):
    rows = _opps()
    de = rows[("Liberty FR", "liberty", "DE")]
    es = rows[("Liberty FR", "liberty", "ES")]
    assert de.score > es.score
    assert de.score - es.score == pytest.approx(40 + 10 + 5)
    ordered = db.session.scalars(
        opp.visible_opportunities(world.u["outsider"], right_ids=[world.r["liberty"].id])
    ).all()
    assert [o.target_jurisdiction.code for o in ordered] == ["DE", "ES"]


def test_a_new_win_in_the_target_lowers_its_rank(world, factory):
    de = _opps()[("Liberty FR", "liberty", "DE")]
    before = de.score
    c7 = world.c["C7"]
    world.proc["P7"].outcome = Outcome.WIN
    world.proc["P7"].decided_on = date(2024, 5, 1)
    c7.status = Status.DECIDED
    db.session.commit()  # the commit hook refreshes C7's opportunities and rescoring in DE
    db.session.refresh(de)
    assert de.score < before


def test_dismissed_stays_dismissed_after_refresh(world):
    row = _opps()[("Liberty FR", "liberty", "ES")]
    dismiss_opportunity(user=world.u["outsider"], opportunity=row, reason="Spain already won it")
    db.session.commit()
    refresh_opportunities()
    db.session.commit()
    refresh_opportunities([world.c["C1"].id])
    db.session.commit()
    again = _opps()[("Liberty FR", "liberty", "ES")]
    assert again.id == row.id
    assert again.status is OpportunityStatus.DISMISSED
    listed = db.session.scalars(opp.visible_opportunities(world.u["outsider"])).all()
    assert row.id not in {o.id for o in listed}


def test_dismiss_needs_a_reason(world):
    row = _opps()[("Liberty FR", "liberty", "ES")]
    with pytest.raises(OpportunityError):
        dismiss_opportunity(user=world.u["outsider"], opportunity=row, reason="  ")


def test_source_that_no_longer_qualifies_is_removed_unless_acted_on(world):
    rows = _opps()
    dismiss_opportunity(
        user=world.u["outsider"],
        opportunity=rows[("Liberty FR", "liberty", "ES")],
        reason="not now",
    )
    db.session.commit()
    world.proc["P1"].outcome = Outcome.LOSS  # the win is reversed
    db.session.commit()
    after = _opps()
    assert ("Liberty FR", "liberty", "DE") not in after  # open one removed
    assert after[("Liberty FR", "liberty", "ES")].status is OpportunityStatus.DISMISSED


def test_restricted_win_gives_no_visible_opportunity_to_outsiders(world, factory):
    add_restricted_win(factory, world)
    secret = _opps(source_case_id=world.c["C5"].id)
    # P5: ECtHR win on liberty in ES -> FR and DE (ECHR parties, COE members).
    assert {t for _, _, t in secret} == {"FR", "DE"}
    outsider = {o.id for o in db.session.scalars(opp.visible_opportunities(world.u["outsider"]))}
    insider = {o.id for o in db.session.scalars(opp.visible_opportunities(world.u["insider"]))}
    assert not outsider & {o.id for o in secret.values()}
    assert {o.id for o in secret.values()} <= insider
    # The restricted win does not move the outsiders' scores: ES still counts as having its
    # (network) liberty win only, and C5 is not counted anywhere.
    facts = opp.target_facts([world.j["ES"].id])
    assert facts.pending == {}


def test_restricted_win_not_shown_on_pages(world, factory, client, login):
    add_restricted_win(factory, world)
    secret = next(iter(_opps(source_case_id=world.c["C5"].id).values()))
    login(world.u["outsider"])
    page = client.get("/patterns/opportunities?status=all").get_data(as_text=True)
    assert "Secret liberty ES" not in page
    assert client.get(f"/patterns/opportunities/{secret.id}").status_code == 404
    assert client.post(f"/patterns/opportunities/{secret.id}/dismiss").status_code == 404


def _login_as(client, login, user):
    client.post("/logout")
    login(user)


@pytest.mark.parametrize(("who", "status"), [("outsider", 302), ("viewer", 403), ("insider", 403)])
def test_only_coordinators_assign(world, client, login, who, status):
    row = _opps()[("Liberty FR", "liberty", "DE")]
    login(world.u[who])
    response = client.post(
        f"/patterns/opportunities/{row.id}/assign", data={"organisation": world.o["DE"].id}
    )
    assert response.status_code == status
    db.session.expire_all()
    expected = OpportunityStatus.ASSIGNED if status == 302 else OpportunityStatus.OPEN
    assert db.session.get(Opportunity, row.id).status is expected


def test_assign_dismiss_and_convert_through_the_pages(world, client, login):
    rows = _opps()
    login(world.u["outsider"])
    de = rows[("Liberty FR", "liberty", "DE")]
    response = client.post(
        f"/patterns/opportunities/{de.id}/assign",
        data={"organisation": world.o["DE"].id, "assignee": 0},
    )
    assert response.status_code == 302
    page = client.get(f"/patterns/opportunities/{de.id}").get_data(as_text=True)
    assert "Org DE" in page and "Assigned" in page
    # Nothing chosen: a field error, not a 500.
    other = rows[("Family FR", "family-life", "DE")]
    response = client.post(f"/patterns/opportunities/{other.id}/assign", data={})
    assert response.status_code == 400
    assert "Choose an organisation or a person." in response.get_data(as_text=True)
    # Dismiss without a reason: refused with the message, status unchanged.
    es = rows[("Liberty FR", "liberty", "ES")]
    response = client.post(f"/patterns/opportunities/{es.id}/dismiss", data={"reason": ""})
    assert response.status_code == 400
    assert "Give a reason for dismissing it." in response.get_data(as_text=True)
    response = client.post(
        f"/patterns/opportunities/{es.id}/dismiss", data={"reason": "Already won there"}
    )
    assert response.status_code == 302
    # Convert: a draft case in DE, linked as "replicates", audited.
    response = client.post(f"/patterns/opportunities/{other.id}/convert")
    assert response.status_code == 302
    db.session.expire_all()
    converted = db.session.get(Opportunity, other.id)
    assert converted.status is OpportunityStatus.CONVERTED
    case = db.session.get(Case, converted.created_case_id)
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    assert case.title == "Replication of Family FR: Family life in Germany"
    assert case.status is Status.PLANNED
    assert case.confidentiality is Confidentiality.ORGANISATION
    assert case.jurisdiction.code == "DE"
    assert [r.code for r in case.rights] == ["family-life"]
    assert case.lead_organisation_id == world.o["A"].id
    link = db.session.scalar(select(CaseLink).where(CaseLink.source_case_id == case.id))
    assert link.kind is LinkKind.REPLICATES and link.target_case_id == world.c["C2"].id
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"opportunity.assign", "opportunity.dismiss", "opportunity.convert"} <= actions
    # Converting twice is refused.
    response = client.post(f"/patterns/opportunities/{other.id}/convert", follow_redirects=True)
    assert "already been turned into a case" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Case.id))) == 7


def test_list_filters_sorting_and_bad_input(world, client, login):
    login(world.u["viewer"])
    page = client.get("/patterns/opportunities?right=liberty").get_data(as_text=True)
    assert page.index("Liberty in Germany") < page.index("Liberty in Spain")
    assert "Family life in" not in page
    assert "Liberty DE pending" in page  # a pending case in DE that could cite the win
    assert "Org DE" in page  # an organisation present in DE
    assert "Assign, dismiss" not in page  # viewers see but cannot act
    page = client.get("/patterns/opportunities?target=ES").get_data(as_text=True)
    assert "in Spain" in page and "in Germany" not in page
    response = client.get("/patterns/opportunities?right=nope&status=weird")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Unknown code: nope" in text and "Unknown value: weird" in text
    assert client.get("/patterns/opportunities?page=999").status_code == 200
