"""The patterns page's derived data (tracker/patterns/facts.py) stays exact.

After random edits, deletes and rollbacks through the session (what every writer does), the
stored facts and totals equal a fresh computation, and every number the page shows, for
users who see different cases, equals the direct computation over the data
(tests/patterns/direct.py, the queries the page ran before it had derived tables).
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from tests.patterns import direct
from tests.patterns.conftest import add_restricted_win
from tracker.auth.models import User
from tracker.cases.filters import parse_filters
from tracker.cases.models import (
    Case,
    CaseMember,
    Outcome,
    Proceeding,
    ProceedingTreatment,
    Status,
    TeamRole,
    Treatment,
)
from tracker.extensions import db
from tracker.patterns import facts, queries
from tracker.patterns.models import PatternFact, PatternProvisionFact, PatternTotal
from tracker.types import Confidentiality, Role

LEVELS = list(Confidentiality)
# Filters for which the page reads stored totals, and some it counts from facts.
FILTERS = [
    {},
    {"right": "liberty"},
    {"right": "liberty-and-movement"},
    {"right": ["liberty", "family-life"]},
    {"filed_from": "2022-01-01"},
    {"forum": "ECTHR"},
    {"jurisdiction": "FR", "filed_to": "2022-12-31"},
    {"instrument": "ECHR", "right": "family-life"},
    {"status": "decided"},
    # Counted from the facts alone (queries.FACT_FILTERS), in combinations.
    {"jurisdiction": "FR"},
    {"right": "liberty", "filed_from": "2021-01-01"},
    {"right": ["liberty", "family-life"], "forum": "ECTHR"},
    {"right": ["liberty", "family-life"], "filed_to": "2022-12-31", "jurisdiction": "FR"},
]


# --- what the page shows, two ways ----------------------------------------------------------
def _matrix(module, user, f, view):
    m = module.rights_matrix(user, f, view)
    return (
        {
            (r, k): (c.cases, c.decided, c.wins, dict(c.args), dict(c.wins_args))
            for (r, k), c in m.cells.items()
        },
        [r.code for r in m.rows],
        [c.code for c in m.columns if _has_cells(m, c)],
    )


def _has_cells(m, column) -> bool:
    # With a right filter, the direct queries also listed columns that had numbers only for
    # the rights filtered out (empty columns); the page now leaves those out.
    return any(key == column.key for _r, key in m.cells)


def _numbers(module, user, args) -> dict:
    f = parse_filters(args)
    out = {view: _matrix(module, user, f, view) for view in queries.DIMENSIONS}
    out["time"] = [
        (p.year, p.filed, p.wins, p.losses, dict(p.wins_args)) for p in module.time_series(user, f)
    ]
    out["map"] = [(p.code, p.cases, p.wins, dict(p.wins_args)) for p in module.world_map(user, f)]
    t = module.provision_forum(user, f)
    out["provisions"] = {
        (pid, fid, value): (n, dict(args))
        for (pid, fid), cell in t.cells.items()
        for value, (n, args) in cell.items()
    }
    return out


def _stored(model) -> set[tuple]:
    return set(db.session.execute(select(*model.__table__.c)).tuples())


def _fresh(stmt) -> set[tuple]:
    return {tuple(row) for row in db.session.execute(stmt)}


def assert_exact(users, filters=FILTERS) -> None:
    """Stored facts and totals equal a rebuild from scratch; the numbers equal direct ones."""
    assert _stored(PatternFact) == _fresh(facts.fact_rows_select())
    assert _stored(PatternProvisionFact) == _fresh(facts.provision_rows_select())
    fresh_totals = {row for row in _fresh(facts.totals_select()) if any(row[4:])}
    assert _stored(PatternTotal) == fresh_totals
    for user in users:
        for args in filters:
            got, want = _numbers(queries, user, args), _numbers(direct, user, args)
            for key in want:
                assert got[key] == want[key], (user.email, args, key)


# --- random edits ---------------------------------------------------------------------------
class Editor:
    """Random edits through the ORM, as the case forms, the API and imports make them."""

    def __init__(self, world, factory, seed: int):
        self.w, self.factory, self.rand = world, factory, random.Random(seed)
        self.rights = [world.r[k] for k in ("liberty", "family-life", "torture", "lm")]
        self.provisions = list(world.p.values())
        self.forums = list(world.f.values())
        self.states = [world.j[k] for k in ("FR", "DE", "ES", "MA")]
        self.orgs = list(world.o.values())
        self.users = list(world.u.values())

    def cases(self) -> list[Case]:
        return list(db.session.scalars(select(Case).order_by(Case.id)))

    def new_case(self) -> None:
        r = self.rand
        case = self.factory.case(
            organisation=r.choice(self.orgs),
            jurisdiction=r.choice(self.states),
            confidentiality=r.choice(LEVELS),
            title=f"Random case {r.randint(1, 10**6)}",
            team=[r.choice(self.users)] if r.random() < 0.4 else [],
        )
        case.rights = r.sample(self.rights, r.randint(0, 2))
        case.provisions = r.sample(self.provisions, r.randint(0, 2))

    def edit(self) -> str:
        r = self.rand
        cases = self.cases()
        case = r.choice(cases)
        proceedings = list(case.proceedings)
        kind = r.choice(
            [
                "new case",
                "right",
                "provision",
                "level",
                "jurisdiction",
                "add proceeding",
                "outcome",
                "forum",
                "filed",
                "delete proceeding",
                "add treatment",
                "change treatment",
                "delete treatment",
                "delete case",
                "team",
                "partner",
            ]
        )
        if kind == "new case":
            self.new_case()
        elif kind == "right":
            right = r.choice(self.rights)
            if right in case.rights:
                case.rights.remove(right)
            else:
                case.rights.append(right)
        elif kind == "provision":
            provision = r.choice(self.provisions)
            if provision in case.provisions:
                case.provisions.remove(provision)
            else:
                case.provisions.append(provision)
        elif kind == "level":
            case.confidentiality = r.choice(LEVELS)
        elif kind == "jurisdiction":
            case.jurisdiction = r.choice(self.states)
        elif kind == "add proceeding" or not proceedings:
            outcome = r.choice(list(Outcome))
            db.session.add(
                Proceeding(
                    case=case,
                    forum=r.choice(self.forums),
                    status=Status.PENDING if outcome is Outcome.NONE_YET else Status.DECIDED,
                    outcome=outcome,
                    filed_on=date(2019, 1, 1) + timedelta(days=r.randint(0, 2000))
                    if r.random() < 0.9
                    else None,
                )
            )
            kind = "add proceeding"
        elif kind == "outcome":
            r.choice(proceedings).outcome = r.choice(list(Outcome))
        elif kind == "forum":
            r.choice(proceedings).forum = r.choice(self.forums)
        elif kind == "filed":
            r.choice(proceedings).filed_on = date(2019, 1, 1) + timedelta(days=r.randint(0, 2000))
        elif kind == "delete proceeding":
            db.session.delete(r.choice(proceedings))
        elif kind == "add treatment":
            proceeding = r.choice(proceedings)
            target = r.choice([*self.provisions, *self.rights])
            on = "provision" if target in self.provisions else "right"
            if any(getattr(t, on) is target for t in proceeding.treatments):
                return kind  # one treatment per provision (or right) and proceeding
            db.session.add(
                ProceedingTreatment(
                    proceeding=proceeding, **{on: target}, treatment=r.choice(list(Treatment))
                )
            )
        elif kind in ("change treatment", "delete treatment"):
            treatments = [t for p in proceedings for t in p.treatments]
            if treatments:
                t = r.choice(treatments)
                if kind == "delete treatment":
                    db.session.delete(t)
                else:
                    t.treatment = r.choice(list(Treatment))
        elif kind == "delete case":
            if len(cases) > 4:
                db.session.delete(case)
        elif kind == "team":
            user = r.choice(self.users)
            if not any(m.user_id == user.id for m in case.team):
                case.team.append(CaseMember(user_id=user.id, role=TeamRole.MEMBER))
        elif kind == "partner":
            org = r.choice(self.orgs)
            if org.id != case.lead_organisation_id and org not in case.partners:
                case.partners.append(org)
        return kind


@pytest.fixture()
def users(world, factory):
    """Users who see different private cases (outsider, insider on C5's team, a viewer, and a
    member of the organisation that is only ever a partner)."""
    add_restricted_win(factory, world)
    partner = factory.user(Role.VIEWER, world.o["DE"], email="partner@example.org")
    return [world.u["outsider"], world.u["insider"], world.u["viewer"], partner]


def test_the_world_is_exact_to_begin_with(world, users):
    assert_exact(users)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_edits_and_deletes_keep_every_number_exact(world, factory, users, seed):
    editor = Editor(world, factory, seed)
    for _ in range(6):
        editor.new_case()
    db.session.commit()
    kinds = []
    for step in range(24):
        for _ in range(editor.rand.randint(1, 3)):
            kinds.append(editor.edit())
        db.session.commit()
        # The cheap check after every commit, the numbers every few commits.
        assert _stored(PatternTotal) == {
            row for row in _fresh(facts.totals_select()) if any(row[4:])
        }, kinds
        if step % 8 == 7:
            assert_exact(users, FILTERS[:4] if step < 23 else FILTERS)
    assert {"delete case", "delete proceeding", "level", "add treatment"} & set(kinds)


def test_rollback_leaves_the_derived_data_as_the_data(world, factory, users):
    editor = Editor(world, factory, 7)
    before = _stored(PatternTotal)
    for _ in range(5):
        editor.edit()
    db.session.flush()
    db.session.rollback()
    assert _stored(PatternTotal) == before
    # The next commit does not carry the rolled-back cases' ids into a wrong refresh.
    editor.edit()
    db.session.commit()
    assert_exact(users, FILTERS[:2])


def test_a_savepoint_rolled_back_keeps_the_transactions_other_edits(world, users):
    c1 = world.c["C1"]
    c1.confidentiality = Confidentiality.RESTRICTED  # outsiders no longer count it
    db.session.flush()
    with pytest.raises(RuntimeError), db.session.begin_nested():
        world.c["C3"].rights = []
        db.session.flush()
        raise RuntimeError("undo the inner edit")
    db.session.commit()
    assert_exact(users, FILTERS[:2])
    m = queries.rights_matrix(world.u["outsider"], parse_filters({}))
    liberty = next(r.right_id for r in m.rows if r.code == "liberty")
    assert m.cell(liberty, world.j["FR"].id).cases == 1  # C2 only, C1 is restricted now


def test_a_failed_commit_leaves_nothing_behind(world, users, monkeypatch):
    before = _stored(PatternTotal)

    def broken(_ids):
        raise RuntimeError("facts refresh failed")

    monkeypatch.setattr(facts, "refresh_cases", broken)
    world.c["C1"].rights = []
    with pytest.raises(RuntimeError):
        db.session.commit()
    db.session.rollback()
    monkeypatch.undo()
    assert _stored(PatternTotal) == before
    assert_exact(users, FILTERS[:1])


def test_writers_outside_the_session_say_which_cases_changed(world, users):
    from tracker.cases.models import case_rights
    from tracker.patterns.services import cases_changed

    db.session.execute(
        case_rights.insert().values(case_id=world.c["C4"].id, right_id=world.r["torture"].id)
    )
    cases_changed([world.c["C4"].id])
    db.session.commit()
    assert_exact(users, FILTERS[:1])


def test_rebuild_command_restores_lost_totals(world, users, runner):
    db.session.execute(PatternTotal.__table__.delete())
    db.session.commit()
    result = runner.invoke(args=["patterns", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "totals" in result.output
    db.session.expire_all()
    assert_exact(users, FILTERS[:1])


def test_a_crosswalk_edit_rebuilds_the_numbers(world, users):
    from tracker.taxonomy.services import update_provision

    provision = world.p["CAT:3"]
    c1 = world.c["C1"]
    c1.provisions = [*c1.provisions, provision]
    db.session.commit()
    changed = update_provision(
        provision=provision,
        number=provision.number,
        title=provision.title,
        text=provision.text,
        placeholder=provision.placeholder,
        rights=[world.r["torture"], world.r["family-life"]],
    )
    assert changed
    db.session.commit()
    # C1 now counts for family life through CAT art. 3 (the crosswalk it just gained).
    m = queries.rights_matrix(world.u["outsider"], parse_filters({"right": "family-life"}))
    assert m.cell(world.r["family-life"].id, world.j["FR"].id).cases == 2
    assert_exact(users, FILTERS[:2])


# --- the page -------------------------------------------------------------------------------
def _statements(client, path: str) -> list[str]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        # The sign-in session's last-seen time is written at most once a minute.
        if not statement.lstrip().upper().startswith("UPDATE USER_SESSIONS"):
            seen.append(statement)

    assert client.get(path).status_code == 200  # warm: the same session state each time
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return seen


PAGES = [
    "/patterns/",
    "/patterns/?columns=all",
    "/patterns/?view=forum",
    # Filtered on what the facts hold (counted from them alone), and on what they do not.
    "/patterns/?right=liberty&filed_from=2021-01-01&filed_to=2023-12-31",
    "/patterns/?forum=ECTHR&jurisdiction=FR&view=system",
    "/patterns/?right=liberty&right=torture",
    "/patterns/?status=decided",
]


def test_patterns_page_runs_the_same_queries_however_many_cases(world, factory, client, login):
    editor = Editor(world, factory, 11)
    for _ in range(8):
        editor.new_case()
    # A private case of the outsider's organisation, so that both counts add private cases.
    factory.case(organisation=world.o["A"], confidentiality=Confidentiality.ORGANISATION)
    db.session.commit()
    login(world.u["outsider"])
    small = {path: len(_statements(client, path)) for path in PAGES}
    for i in range(40):
        editor.new_case()
        if i % 4 == 0:
            db.session.commit()
    for code in ("AT", "BE", "IT", "PT", "GR"):
        j = factory.jurisdiction(code)
        forum = factory.forum(f"{code}-SC", j)
        case = factory.case(organisation=world.o["A"], jurisdiction=j, title=f"Case {code}")
        case.rights = [world.r["liberty"], world.r["torture"]]
        factory.proceeding(case, forum, outcome=Outcome.WIN, status=Status.DECIDED)
    db.session.commit()
    assert {path: len(_statements(client, path)) for path in PAGES} == small
    assert max(small.values()) <= 30, small


@pytest.mark.parametrize("path", PAGES[:5])
def test_the_private_cases_are_looked_up_once_per_page(world, factory, client, login, path):
    """The matrix, the time series, the map and the provisions all add the private cases the
    user may see: one statement finds them for all four (pages counted from the facts)."""
    factory.case(organisation=world.o["A"], confidentiality=Confidentiality.ORGANISATION)
    db.session.commit()
    login(world.u["outsider"])
    lookups = [s for s in _statements(client, path) if "case_partners" in s]
    assert len(lookups) == 1, lookups
    # No aggregate of the page reads the cases table (the facts carry what it needs).
    grouped = [s for s in _statements(client, path) if "GROUP BY" in s]
    assert grouped and not [s for s in grouped if re.search(r"\bFROM cases\b", s)], grouped


def test_the_page_shows_the_busiest_columns_and_links_to_all(world, factory, client, login):
    for n in range(24):
        j = factory.jurisdiction(f"X{n:02d}", name=f"Place {n:02d}")
        for _ in range(1 + n % 3):
            case = factory.case(organisation=world.o["A"], jurisdiction=j, title=f"In {n}")
            case.rights = [world.r["liberty"]]
    db.session.commit()
    login(world.u["outsider"])
    html = client.get("/patterns/").get_data(as_text=True)
    matrix = html[html.index('id="matrix-h"') : html.index('id="time-h"')]
    assert matrix.count('<th scope="col" class="num">') == 20
    assert "Show all columns" in matrix
    # The busiest stay: France has 2 liberty cases, each X place 1-3; a 1-case place goes.
    assert "France" in matrix
    shown = {n for n in range(24) if f'title="Place {n:02d}"' in matrix}
    assert all(n % 3 == 2 for n in range(24) if n % 3 == 2 and n in shown) and len(shown) < 24
    full = client.get("/patterns/?columns=all").get_data(as_text=True)
    matrix = full[full.index('id="matrix-h"') : full.index('id="time-h"')]
    assert all(f'title="Place {n:02d}"' in matrix for n in range(24))
    assert "Show the busiest only" in matrix
    # The cells of a shown column keep their accessible label and link.
    assert 'aria-label="2 cases on Liberty in France"' in matrix


def test_page_numbers_are_the_users_own(world, users, client, login):
    """The restricted C5 (ES, liberty, won) counts for its team member only."""
    for user, expected in ((world.u["outsider"], "1"), (world.u["insider"], "2")):
        login(user)
        html = client.get("/patterns/").get_data(as_text=True)
        assert f'aria-label="{expected} cases on Liberty in Spain"' in html, user.email
        client.post("/logout")


def test_demo_rebuilds_the_derived_tables_and_reset_clears_them(db, runner, monkeypatch):
    from tracker.patterns import services

    monkeypatch.setattr(services, "refresh_opportunities", lambda case_ids=None: {})
    result = runner.invoke(args=["demo", "--cases", "30", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "Rebuilt patterns facts" in result.output
    assert "Refreshed knock-on opportunities" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PatternTotal))
    users = list(db.session.scalars(select(User).order_by(User.id).limit(3)))
    assert_exact(users, FILTERS[:2])
    result = runner.invoke(args=["demo", "--cases", "0", "--reset", "--yes"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PatternFact)) == 0
    assert db.session.scalar(select(func.count()).select_from(PatternTotal)) == 0


def test_a_team_change_in_the_same_request_counts_at_once(app, restricted_win):
    """The private cases are read once per request, but again after a write: a page that
    adds the outsider to C5's team and then counts sees C5, and one that removes them
    does not."""
    world = restricted_win
    outsider, f = world.u["outsider"], parse_filters({"filed_from": "2023-01-01"})

    def spain_liberty() -> int:
        cell = queries.rights_matrix(outsider, f, "jurisdiction").cell(
            world.r["liberty"].id, world.j["ES"].id
        )
        return cell.cases if cell else 0

    with app.test_request_context("/patterns/"):
        assert spain_liberty() == 0
        member = CaseMember(case=world.c["C5"], user=outsider, role=TeamRole.MEMBER)
        db.session.add(member)
        db.session.flush()
        assert spain_liberty() == 1
        db.session.delete(member)
        db.session.flush()
        assert spain_liberty() == 0
    db.session.rollback()
