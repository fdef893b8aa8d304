"""Knock-on opportunities: targets, ranking, refresh, actions, confidentiality (conftest world).

One opportunity per (right, target state). Worked out by hand:
  P1 (C1, FR, FR-CE apex, 2021-09-01, win on liberty, invokes ECHR:5) -> ECHR parties other
     than FR: DE and ES. RU denounced the ECHR (must not appear); MA is not bound by it
     (must not appear, although it is bound by the ICCPR: C1 does not invoke it).
  P2 (C2, FR, ECtHR, 2023-01-10, win on family-life via ECHR:8 upheld; liberty rejected -> no
     liberty win) -> DE and ES (ECHR parties and current COE members; RU left the COE).
  P6 (C6, ES, win on liberty, no provision, national forum) -> no target, but ES has a win.
  So: (liberty, DE), (liberty, ES), (family-life, DE), (family-life, ES), nothing else.
  Scores (target facts + best win's recency and forum level):
    liberty DE     = 40 (no liberty win in DE) + 10 (C7 pending) + 5 (Org DE) + P1
    family-life DE = 40 + 0 (C4 is only planned) + 5 + P2
    family-life ES = 40 + 0 + 0 + P2
    liberty ES     = 0 (C6 won liberty in ES) + 0 + 0 + P1
  P1 = 5 (apex) + recency(2021-09-01); P2 = 10 (regional court) + recency(2023-01-10):
  the order is liberty DE, family-life DE, family-life ES, liberty ES in any year.
  C5 (restricted, ES, ECtHR 2024, liberty, ECHR:5) would add (liberty, FR), supported by C5
  alone: visible to its team only, and it changes nothing an outsider sees.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.patterns.conftest import add_restricted_win
from tracker.audit.models import AuditEntry
from tracker.cases.models import Case, CaseLink, LinkKind, Outcome, ProceedingTreatment, Status
from tracker.cases.models import Treatment as T
from tracker.extensions import db
from tracker.patterns import opportunities as opp
from tracker.patterns.models import (
    Opportunity,
    OpportunityPending,
    OpportunityStatus,
    OpportunityWin,
    OpportunityWinGroup,
    OpportunityWinInstrument,
)
from tracker.patterns.services import (
    OpportunityError,
    assign_opportunity,
    convert_opportunity,
    dismiss_opportunity,
    refresh_opportunities,
    reopen_opportunity,
)
from tracker.taxonomy.models import ForumLevel, Right
from tracker.types import Confidentiality


def _opps(**where) -> dict[tuple[str, str], Opportunity]:
    db.session.expire_all()
    rows = db.session.scalars(select(Opportunity)).all()
    return {
        (o.right.code, o.target_jurisdiction.code): o
        for o in rows
        if all(getattr(o, k) == v for k, v in where.items())
    }


def _points(level: ForumLevel, decided: date) -> float:
    return opp.win_points(opp.LEVEL_POINTS[level], decided, date.today())


P1 = (ForumLevel.APEX, date(2021, 9, 1))
P2 = (ForumLevel.REGIONAL_COURT, date(2023, 1, 10))


def _visible(user, **kw) -> list[Opportunity]:
    return db.session.scalars(opp.visible_opportunities(user, **kw)).all()


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# --- which (R, T) exist ----------------------------------------------------------------------
def test_one_row_per_right_and_bound_target(world):
    got = _opps()
    assert set(got) == {
        ("liberty", "DE"),
        ("liberty", "ES"),
        ("family-life", "DE"),
        ("family-life", "ES"),
    }
    targets = {t for _, t in got}
    assert "RU" not in targets  # denounced the ECHR, left the Council of Europe
    assert "MA" not in targets  # bound by neither the ECHR nor the COE
    assert ("liberty", "FR") not in got  # the only liberty wins outside FR do not bind it
    de = got[("liberty", "DE")]
    assert (de.open_wins, de.public_wins, de.open_jurisdictions) == (1, 0, 1)
    assert json.loads(de.sources) == ["FR"]
    assert de.source_case_id == world.c["C1"].id


def test_a_second_win_adds_to_the_same_row(world, factory):
    before = {key: (o.id, o.score) for key, o in _opps().items()}
    c7 = world.c["C7"]
    c7.provisions = [world.p["ECHR:5"]]
    world.proc["P7"].outcome = Outcome.WIN
    world.proc["P7"].decided_on = date(2024, 5, 1)
    db.session.commit()  # the before-commit hook refreshes C7
    after = _opps()
    # DE's win binds FR (new row) and ES (same row, now two wins in two jurisdictions).
    assert set(after) == set(before) | {("liberty", "FR")}
    es = after[("liberty", "ES")]
    assert es.id == before[("liberty", "ES")][0]
    assert (es.open_wins, es.open_jurisdictions) == (2, 2)
    # The DE win is more recent and from a higher forum than P1: it is the best, listed first.
    assert json.loads(es.sources) == ["DE", "FR"]
    assert es.source_case_id == c7.id
    # Liberty DE now has a win in DE itself (C7 is still pending): it loses its 40 points.
    assert after[("liberty", "DE")].won_in_target
    assert after[("liberty", "DE")].score == pytest.approx(before[("liberty", "DE")][1] - 40)


def test_basis_in_words(world):
    o = _opps()[("family-life", "DE")]
    assert opp.basis_text(o) == (
        "Both bound by ECHR art. 8; both under the COE system; "
        "win before the European Court of Human Rights (2023)"
    )
    assert "Family FR" not in o.basis  # never a case title in the stored basis


def test_ranking(world):
    rows = _opps()
    p1, p2 = _points(*P1), _points(*P2)
    assert rows[("liberty", "DE")].score == pytest.approx(40 + 10 + 5 + p1)
    assert rows[("family-life", "DE")].score == pytest.approx(40 + 5 + p2)
    assert rows[("family-life", "ES")].score == pytest.approx(40 + p2)
    assert rows[("liberty", "ES")].score == pytest.approx(p1)
    ordered = [(o.right.code, o.target_jurisdiction.code) for o in _visible(world.u["viewer"])]
    assert ordered == [
        ("liberty", "DE"),
        ("family-life", "DE"),
        ("family-life", "ES"),
        ("liberty", "ES"),
    ]
    de = rows[("liberty", "DE")]
    assert (de.won_in_target, de.pending_in_target, de.organisations_in_target) == (False, 1, 1)


def test_a_new_win_in_the_target_lowers_its_rank(world):
    de = _opps()[("liberty", "DE")]
    before = de.score
    world.proc["P7"].outcome = Outcome.WIN
    world.proc["P7"].decided_on = date(2024, 5, 1)
    world.c["C7"].status = Status.DECIDED
    db.session.commit()  # C7 won liberty in DE and is no longer pending there
    de = _opps()[("liberty", "DE")]
    assert de.won_in_target and de.pending_in_target == 0
    assert de.score == pytest.approx(before - 40 - 10)


# --- refresh: dismissed stays dismissed, incremental equals full -----------------------------
def test_dismissed_stays_dismissed_after_new_wins_and_refreshes(world, client, login):
    row = _opps()[("liberty", "ES")]
    dismiss_opportunity(user=world.u["outsider"], opportunity=row, reason="Spain already won it")
    db.session.commit()
    # A new liberty win in DE under the ECHR also supports (liberty, ES) ...
    world.c["C7"].provisions = [world.p["ECHR:5"]]
    world.proc["P7"].outcome = Outcome.WIN
    world.proc["P7"].decided_on = date.today()
    db.session.commit()
    refresh_opportunities()
    db.session.commit()
    again = _opps()[("liberty", "ES")]
    assert again.id == row.id and again.status is OpportunityStatus.DISMISSED
    assert again.open_wins == 2  # its figures are kept current all the same
    assert row.id not in {o.id for o in _visible(world.u["outsider"])}  # not in active lists
    login(world.u["outsider"])
    page = _text(client.get(f"/patterns/opportunities/{row.id}"))
    assert "Spain already won it" in page
    assert "1 new win decided since it was dismissed" in page
    # Only reopening brings it back.
    reopen_opportunity(user=world.u["outsider"], opportunity=again)
    db.session.commit()
    assert row.id in {o.id for o in _visible(world.u["outsider"])}


def test_dismiss_needs_a_reason(world):
    row = _opps()[("liberty", "ES")]
    with pytest.raises(OpportunityError):
        dismiss_opportunity(user=world.u["outsider"], opportunity=row, reason="  ")


def test_a_row_left_without_wins_goes_unless_acted_on(world):
    rows = _opps()
    dismiss_opportunity(
        user=world.u["outsider"], opportunity=rows[("liberty", "ES")], reason="not now"
    )
    db.session.commit()
    world.proc["P1"].outcome = Outcome.LOSS  # the only liberty win with a target is reversed
    db.session.commit()
    after = _opps()
    assert ("liberty", "DE") not in after  # open: removed
    kept = after[("liberty", "ES")]  # dismissed: kept, unsupported, shown to nobody
    assert kept.status is OpportunityStatus.DISMISSED and not kept.supported
    assert kept.id not in {o.id for o in _visible(world.u["outsider"], statuses=())}
    world.proc["P1"].outcome = Outcome.WIN  # the win is back: still dismissed
    db.session.commit()
    back = _opps()[("liberty", "ES")]
    assert back.id == kept.id and back.supported
    assert back.status is OpportunityStatus.DISMISSED


def _snapshot() -> dict:
    """Every derived row and figure, comparable across refreshes."""
    wins = set(
        db.session.execute(select(*(getattr(OpportunityWin, c) for c in opp.WIN_COLUMNS))).tuples()
    )
    instruments = {
        (r, p, i, tuple(sorted((a or "").split(", "))))
        for r, p, i, a in db.session.execute(
            select(
                OpportunityWinInstrument.right_id,
                OpportunityWinInstrument.proceeding_id,
                OpportunityWinInstrument.instrument_id,
                OpportunityWinInstrument.articles,
            )
        )
    }
    pending = set(
        db.session.execute(
            select(*(getattr(OpportunityPending, c) for c in opp.PENDING_COLUMNS))
        ).tuples()
    )
    rows = {
        (r.right_id, r.target_jurisdiction_id): (r.status, *(getattr(r, k) for k in opp.DERIVED))
        for r in db.session.scalars(select(Opportunity))
    }
    groups = set(
        db.session.execute(
            select(*(getattr(OpportunityWinGroup, c) for c in opp.GROUP_COLUMNS))
        ).tuples()
    )
    return {
        "wins": wins,
        "instruments": instruments,
        "pending": pending,
        "groups": groups,
        "rows": rows,
    }


def _won_on_the_fly() -> set[tuple[int, int]]:
    """(proceeding, right family) wins by the rule of rules.py, queried directly."""
    from tracker.cases.models import Proceeding
    from tracker.patterns import rules
    from tracker.taxonomy.models import Right

    out = set()
    for right in db.session.scalars(select(Right)):
        family = [right.id] + [c.id for c in right.children]
        out |= {
            (pid, right.id)
            for pid in db.session.scalars(
                select(Proceeding.id).where(rules.proceeding_won_on(family))
            )
        }
    return out


def test_incremental_refresh_equals_a_full_rebuild(world, factory, caplog):
    """Creates, edits and deletes through the commit hook, then compare with a rebuild."""
    caplog.set_level(logging.ERROR, logger="tracker.patterns.services")
    add_restricted_win(factory, world)  # C5: restricted win (new row liberty FR)
    world.c["C7"].provisions = [world.p["ECHR:5"], world.p["ICCPR:9"]]
    world.proc["P7"].outcome = Outcome.PARTIAL_WIN
    db.session.commit()  # C7: a win binding MA too, through the ICCPR
    world.c["C2"].confidentiality = Confidentiality.ORGANISATION
    db.session.commit()  # C2: family-life rows lose their only open win
    db.session.add(
        ProceedingTreatment(
            proceeding=world.proc["P1"], provision=world.p["ECHR:5"], treatment=T.NOT_REACHED
        )
    )
    db.session.commit()  # P1 no longer a liberty win
    world.c["C4"].status = Status.PENDING
    world.c["C4"].jurisdiction = world.j["ES"]
    db.session.commit()  # a pending family-life case moves to ES
    db.session.delete(world.c["C6"])
    db.session.commit()  # the hook recomputes the rows the deleted case supported
    incremental = _snapshot()
    assert incremental["rows"], "the sequence leaves opportunities to compare"
    assert ("liberty", "MA") in {
        (o.right.code, o.target_jurisdiction.code) for o in _opps().values()
    }
    assert not caplog.records, "the commit hook's refresh failed"
    refresh_opportunities()
    db.session.commit()
    full = _snapshot()
    assert incremental == full
    # And the facts follow the rule of rules.py (the on-the-fly definition of a win).
    assert {(w[0], w[1]) for w in full["wins"]} == _won_on_the_fly()


def test_facts_follow_the_rule(world):
    wins = list(db.session.scalars(select(OpportunityWin)))
    assert {(w.proceeding_id, w.right_id) for w in wins} == _won_on_the_fly()
    codes = dict(db.session.execute(select(Right.id, Right.code)).tuples().all())
    by_code = {(w.proceeding_id, codes[w.right_id]): w for w in wins}
    p1, p2 = world.proc["P1"].id, world.proc["P2"].id
    assert by_code[(p1, "liberty")].is_primary
    assert not by_code[(p1, "liberty-and-movement")].is_primary  # its child is won
    assert (p2, "liberty") not in by_code  # the ECtHR rejected ECHR:5
    assert by_code[(p2, "family-life")].system_id == world.j["COE"].id
    instruments = {
        (i.right_id, i.proceeding_id): i.articles
        for i in db.session.scalars(select(OpportunityWinInstrument))
    }
    assert instruments == {
        (world.r["liberty"].id, p1): "5",
        (world.r["family-life"].id, p2): "8",
    }
    pending = {
        (codes[p.right_id], p.jurisdiction_id)
        for p in db.session.scalars(select(OpportunityPending))
    }
    assert pending == {
        ("liberty", world.j["DE"].id),
        ("liberty-and-movement", world.j["DE"].id),
    }


# --- confidentiality -------------------------------------------------------------------------
def test_restricted_only_win_is_visible_to_its_team_only(world, factory):
    before = {o.id: (o.score, o.open_wins, o.sources, o.basis) for o in _opps().values()}
    add_restricted_win(factory, world)
    rows = _opps()
    secret = rows[("liberty", "FR")]  # supported by C5 alone
    assert secret.open_wins == 0 and secret.supported and secret.source_case_id is None
    outsider = {o.id for o in _visible(world.u["outsider"], statuses=())}
    insider = {o.id for o in _visible(world.u["insider"])}
    assert secret.id not in outsider
    assert secret.id in insider
    # A public audience (export) needs a public win: none here.
    assert not db.session.scalars(
        opp.visible_opportunities(world.u["insider"], audience=Confidentiality.PUBLIC)
    ).all()
    # C5 also supports (liberty, DE) but changes none of its figures.
    after = {o.id: (o.score, o.open_wins, o.sources, o.basis) for o in rows.values()}
    assert {k: v for k, v in after.items() if k != secret.id} == before
    # Scored on its target facts only (FR has C1's liberty win: 0), no points from C5.
    assert secret.won_in_target and secret.win_points == 0 and secret.score == 0
    # Source lists show only visible wins.
    de = rows[("liberty", "DE")]
    seen_out, n_out = opp.supporting_wins(world.u["outsider"], de)
    seen_in, n_in = opp.supporting_wins(world.u["insider"], de)
    assert [w.title for w in seen_out] == ["Liberty FR"] and n_out == 1
    assert [w.title for w in seen_in] == ["Secret liberty ES", "Liberty FR"] and n_in == 2


def test_each_private_row_is_visible_to_those_who_see_its_own_wins(world, factory):
    """Two private wins, each seen by one user: each sees the rows its win supports only."""
    add_restricted_win(factory, world)  # C5, ES, ECHR: the insider's; supports FR and DE
    c8 = factory.case(
        organisation=world.o["A"],  # organisation level: the outsider's organisation
        confidentiality=Confidentiality.ORGANISATION,
        jurisdiction=world.j["DE"],
        title="Org A liberty DE",
        status=Status.DECIDED,
        outcome=Outcome.WIN,
    )
    c8.rights = [world.r["liberty"]]
    c8.provisions = [world.p["ICCPR:9"]]  # ICCPR: FR, ES and MA as well
    db.session.commit()
    factory.proceeding(
        c8,
        world.f["DE-BVERFG"],
        filed_on=date(2023, 6, 1),
        decided_on=date(2024, 6, 1),
        outcome=Outcome.WIN,
        status=Status.DECIDED,
    )
    rows = _opps()
    ma, fr = rows[("liberty", "MA")], rows[("liberty", "FR")]
    assert ma.open_wins == 0 and fr.open_wins == 0
    insider = {o.id for o in _visible(world.u["insider"], statuses=())}
    outsider = {o.id for o in _visible(world.u["outsider"], statuses=())}
    viewer = {o.id for o in _visible(world.u["viewer"], statuses=())}  # Org A too
    assert fr.id in insider and fr.id in outsider  # C5 for one, C8 for the other
    assert ma.id not in insider  # C5 does not bind MA: the insider sees no win behind it
    assert ma.id in outsider and ma.id in viewer
    seen, n = opp.supporting_wins(world.u["insider"], fr)
    assert [w.title for w in seen] == ["Secret liberty ES"] and n == 1
    seen, n = opp.supporting_wins(world.u["outsider"], fr)
    assert [w.title for w in seen] == ["Org A liberty DE"] and n == 1


def test_restricted_win_changes_nothing_outsiders_see(world, factory, client, login):
    login(world.u["outsider"])
    pages = ("/patterns/opportunities?status=all", "/patterns/opportunities?right=liberty")
    before = [_text(client.get(p)) for p in pages]
    detail = _opps()[("liberty", "DE")].id
    detail_before = _text(client.get(f"/patterns/opportunities/{detail}"))
    add_restricted_win(factory, world)
    secret = _opps()[("liberty", "FR")]
    assert [_text(client.get(p)) for p in pages] == before
    assert _text(client.get(f"/patterns/opportunities/{detail}")) == detail_before
    assert "Secret liberty ES" not in before[0]
    assert client.get(f"/patterns/opportunities/{secret.id}").status_code == 404
    assert client.post(f"/patterns/opportunities/{secret.id}/dismiss").status_code == 404
    api = client.get("/api/v1/opportunities")  # session auth is refused by the API ...
    assert secret.id not in {o["id"] for o in (api.get_json() or {}).get("data", [])}


def test_restricted_only_row_on_the_team_members_pages(world, factory, client, login):
    add_restricted_win(factory, world)
    secret = _opps()[("liberty", "FR")]
    login(world.u["insider"])
    page = _text(client.get("/patterns/opportunities?right=liberty"))
    assert "Liberty in France" in page
    assert "A win you can see could be leveraged here." in page
    assert "Secret liberty ES" in page
    detail = _text(client.get(f"/patterns/opportunities/{secret.id}"))
    assert "1 supporting win you can see" in detail and "Secret liberty ES" in detail


# --- actions ---------------------------------------------------------------------------------
def _login_as(client, login, user):
    client.post("/logout")
    login(user)


@pytest.mark.parametrize(("who", "status"), [("outsider", 302), ("viewer", 403), ("insider", 403)])
def test_only_coordinators_assign(world, client, login, who, status):
    row = _opps()[("liberty", "DE")]
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
    de = rows[("liberty", "DE")]
    response = client.post(
        f"/patterns/opportunities/{de.id}/assign",
        data={"organisation": world.o["DE"].id, "assignee": 0},
    )
    assert response.status_code == 302
    page = client.get(f"/patterns/opportunities/{de.id}").get_data(as_text=True)
    assert "Org DE" in page and "Assigned" in page
    # The list filters on the assigned organisation.
    listed = _text(client.get(f"/patterns/opportunities?organisation={world.o['DE'].id}"))
    assert "Liberty in Germany" in listed and "Family life in" not in listed
    # Nothing chosen: a field error, not a 500.
    other = rows[("family-life", "DE")]
    response = client.post(f"/patterns/opportunities/{other.id}/assign", data={})
    assert response.status_code == 400
    assert "Choose an organisation or a person." in response.get_data(as_text=True)
    # Dismiss without a reason: refused with the message, status unchanged.
    es = rows[("liberty", "ES")]
    response = client.post(f"/patterns/opportunities/{es.id}/dismiss", data={"reason": ""})
    assert response.status_code == 400
    assert "Give a reason for dismissing it." in response.get_data(as_text=True)
    response = client.post(
        f"/patterns/opportunities/{es.id}/dismiss", data={"reason": "Already won there"}
    )
    assert response.status_code == 302
    # Convert: a draft case in DE, linked as "replicates" to the best win, audited.
    response = client.post(f"/patterns/opportunities/{other.id}/convert")
    assert response.status_code == 302
    db.session.expire_all()
    converted = db.session.get(Opportunity, other.id)
    assert converted.status is OpportunityStatus.CONVERTED
    case = db.session.get(Case, converted.created_case_id)
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    assert case.title == "Replication of Family FR: Family life in Germany"
    assert case.summary.startswith("Both bound by ECHR art. 8")
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


def test_convert_links_the_best_win_the_coordinator_may_see(world, factory):
    # A second, better liberty win for ES: C7 in DE before its constitutional court.
    world.c["C7"].provisions = [world.p["ECHR:5"]]
    world.proc["P7"].outcome = Outcome.WIN
    world.proc["P7"].decided_on = date(2024, 5, 1)
    db.session.commit()
    row = _opps()[("liberty", "ES")]
    assign_opportunity(user=world.u["outsider"], opportunity=row, assignee=world.u["outsider"])
    case = convert_opportunity(user=world.u["outsider"], opportunity=row)
    db.session.commit()
    link = db.session.scalar(select(CaseLink).where(CaseLink.source_case_id == case.id))
    assert link.kind is LinkKind.REPLICATES and link.target_case_id == world.c["C7"].id
    assert case.title == "Replication of Liberty DE pending: Liberty in Spain"


def test_list_filters_sorting_and_bad_input(world, client, login):
    login(world.u["viewer"])
    page = _text(client.get("/patterns/opportunities?right=liberty"))
    assert page.index("Liberty in Germany") < page.index("Liberty in Spain")
    assert "Family life in" not in page
    assert "A win on Liberty in France could be leveraged here." in page
    assert "Liberty DE pending" in page  # a pending case in DE that could cite the win
    assert "Org DE" in page  # an organisation present in DE
    assert "Assign, dismiss" not in page  # viewers see but cannot act
    page = _text(client.get("/patterns/opportunities?target=ES"))
    assert "in Spain" in page and "in Germany" not in page
    response = client.get("/patterns/opportunities?right=nope&status=weird&organisation=x")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Unknown code: nope" in text and "Unknown value: weird" in text
    assert "Organisations are given by number." in text
    assert client.get("/patterns/opportunities?page=999").status_code == 200


def test_detail_page_ranks_the_supporting_wins(world, client, login):
    world.c["C7"].provisions = [world.p["ECHR:5"]]
    world.proc["P7"].outcome = Outcome.WIN
    world.proc["P7"].decided_on = date(2024, 5, 1)
    db.session.commit()
    row = _opps()[("liberty", "ES")]
    login(world.u["viewer"])
    page = _text(client.get(f"/patterns/opportunities/{row.id}"))
    assert "2 supporting wins you can see" in page
    assert page.index("Liberty DE pending") < page.index("Liberty FR")
    assert "Both bound by ECHR art. 5; win before the Constitutional Court (2024)" in page
    assert "a win there already (+0)" in page


def test_migration_note_carried_rows_are_invisible_until_supported(world):
    """A row kept without support (e.g. carried over by the migration) is shown to nobody."""
    row = _opps()[("liberty", "DE")]
    db.session.execute(
        Opportunity.__table__.update()
        .where(Opportunity.id == row.id)
        .values(supported=False, open_wins=0, public_wins=0)
    )
    db.session.commit()
    assert row.id not in {o.id for o in _visible(world.u["insider"], statuses=())}
    refresh_opportunities()
    db.session.commit()
    assert row.id in {o.id for o in _visible(world.u["insider"], statuses=())}


# --- other readers: the report and the API ---------------------------------------------------
def test_report_lists_opportunities_from_what_the_audience_may_receive(world, factory):
    from tracker.cases.filters import parse_filters
    from tracker.reports.services import Period, build_report

    add_restricted_win(factory, world)
    insider = world.u["insider"]

    def listed(audience):
        report = build_report(
            user=insider, audience=audience, filters=parse_filters({}), period=Period()
        )
        return {(o["right"], o["target"]): o for o in report.opportunities}

    restricted = listed(Confidentiality.RESTRICTED)
    assert ("Liberty", "France") in restricted  # C5, which the insider may see
    assert "Secret liberty ES" not in restricted[("Liberty", "France")]["basis"]
    network = listed(Confidentiality.NETWORK)
    assert ("Liberty", "France") not in network  # its only win is restricted
    assert network[("Family life", "Germany")]["basis"] == (
        "Both bound by ECHR art. 8; both under the COE system; "
        "win before the European Court of Human Rights (2023)"
    )
    assert listed(Confidentiality.PUBLIC) == {}  # every win of the world is network


def test_api_lists_visible_opportunities(world, factory, client):
    from tracker.api.auth import create_token
    from tracker.auth.models import TokenScope

    add_restricted_win(factory, world)
    secret = _opps()[("liberty", "FR")]

    def ids(user):
        _row, token = create_token(user=user, name="t", scope=TokenScope.READ)
        db.session.commit()
        body = client.get(
            "/api/v1/opportunities?per_page=50", headers={"Authorization": f"Bearer {token}"}
        ).get_json()
        return {o["id"]: o for o in body["data"]}, body["total"]

    outsider, total = ids(world.u["outsider"])
    assert secret.id not in outsider and total == 4
    de = outsider[_opps()[("liberty", "DE")].id]
    assert de["source_jurisdictions"] == ["FR"] and de["wins"] == 1
    assert de["source_case_id"] == world.c["C1"].id
    insider, total = ids(world.u["insider"])
    assert insider[secret.id]["source_case_id"] == world.c["C5"].id and total == 5
    assert insider[secret.id]["wins"] == 0  # public and network wins only


# --- the migration's carry-over --------------------------------------------------------------
def test_migration_keeps_the_most_advanced_action_per_right_and_target(tmp_path):
    """0005 keeps, per (right, target), the row a coordinator acted on most (converted, then
    assigned, then dismissed; the latest when tied) and drops open rows."""
    import importlib.util
    from datetime import datetime

    import sqlalchemy as sa

    from tracker import MIGRATIONS_DIR

    path = next((MIGRATIONS_DIR / "versions").glob("*_0005_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0005", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    meta = sa.MetaData()
    old = sa.Table(
        "opportunities",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("right_id", sa.Integer),
        sa.Column("target_jurisdiction_id", sa.Integer),
        *(sa.Column(name, sa.String) for name in ("status", "dismissed_reason")),
        *(
            sa.Column(name, sa.Integer)
            for name in ("assigned_organisation_id", "assigned_user_id", "dismissed_by_id")
        ),
        sa.Column("created_case_id", sa.Integer),
        *(sa.Column(name, sa.DateTime) for name in ("dismissed_at", "created_at", "updated_at")),
    )
    meta.create_all(engine)
    at = [datetime(2026, 11, d) for d in range(1, 8)]
    rows = [
        # (1, 10): open, dismissed, assigned twice -> the later assignment
        dict(right_id=1, target_jurisdiction_id=10, status="open", updated_at=at[0]),
        dict(right_id=1, target_jurisdiction_id=10, status="dismissed", updated_at=at[3]),
        dict(
            right_id=1,
            target_jurisdiction_id=10,
            status="assigned",
            assigned_organisation_id=5,
            updated_at=at[1],
        ),
        dict(
            right_id=1,
            target_jurisdiction_id=10,
            status="assigned",
            assigned_organisation_id=6,
            updated_at=at[2],
        ),
        # (1, 11): dismissed -> kept with its reason; (2, 10): open only -> dropped
        dict(
            right_id=1,
            target_jurisdiction_id=11,
            status="dismissed",
            dismissed_reason="no",
            updated_at=at[4],
        ),
        dict(right_id=2, target_jurisdiction_id=10, status="open", updated_at=at[5]),
        # (3, 10): converted beats a later dismissal
        dict(right_id=3, target_jurisdiction_id=10, status="converted", updated_at=at[0]),
        dict(right_id=3, target_jurisdiction_id=10, status="dismissed", updated_at=at[6]),
    ]
    with engine.begin() as conn:
        for row in rows:
            conn.execute(old.insert().values(created_at=at[0], **row))
        carried = module._acted_on_rows(conn)
    got = {(r["right_id"], r["target_jurisdiction_id"]): r for r in carried}
    assert set(got) == {(1, 10), (1, 11), (3, 10)}
    assert got[(1, 10)]["status"] == "assigned" and got[(1, 10)]["assigned_organisation_id"] == 6
    assert got[(1, 11)]["dismissed_reason"] == "no"
    assert got[(3, 10)]["status"] == "converted"
    engine.dispose()
