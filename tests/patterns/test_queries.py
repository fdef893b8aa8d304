"""The numbers of the patterns page, against the hand-worked world of conftest.py."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.patterns.conftest import add_restricted_win
from tracker.access import case_filter
from tracker.cases.filters import apply_filters, parse_filters
from tracker.cases.models import Case
from tracker.extensions import db
from tracker.patterns import queries


def _cell(matrix, right, col_code):
    row = next(r for r in matrix.rows if r.code == right)
    col = next(c for c in matrix.columns if c.code == col_code)
    cell = matrix.cell(row.right_id, col.key)
    return (cell.cases, cell.decided, cell.wins) if cell else (0, 0, 0)


def _list_count(user, args) -> int:
    """The length of the case list for these query parameters (what cases.index lists)."""
    filters = parse_filters(args)
    stmt = apply_filters(select(func.count(Case.id)).where(case_filter(user)), filters)
    return db.session.scalar(stmt)


def test_matrix_jurisdictions(world):
    m = queries.rights_matrix(world.u["outsider"], parse_filters({}))
    # liberty x FR: C1 (tag) and C2 (crosswalk of ECHR:5); both decided; only C1 won on
    # liberty (C2's ECtHR judgment was a win but rejected ECHR:5).
    assert _cell(m, "liberty", "FR") == (2, 2, 1)
    # family-life x FR: C2 via the ECHR:8 crosswalk only (no tag), upheld -> a win.
    assert _cell(m, "family-life", "FR") == (1, 1, 1)
    # liberty x DE: C3 (lost) and C7 (pending).
    assert _cell(m, "liberty", "DE") == (2, 1, 0)
    # family-life x DE: C4, planned, no proceeding: a case, nothing decided.
    assert _cell(m, "family-life", "DE") == (1, 0, 0)
    assert _cell(m, "liberty", "ES") == (1, 1, 1)
    # The parent right counts its children.
    assert _cell(m, "liberty-and-movement", "FR") == (2, 2, 1)
    assert _cell(m, "family-and-child", "DE") == (1, 0, 0)
    liberty = next(r.right_id for r in m.rows if r.code == "liberty")
    assert m.cell(liberty, world.j["FR"].id).rate == pytest.approx(0.5)
    # No right without cases gets a row.
    assert "torture" not in {r.code for r in m.rows}


def test_matrix_forums_and_systems(world):
    m = queries.rights_matrix(world.u["outsider"], parse_filters({}), "forum")
    # ECtHR: only C2 (liberty via ECHR:5, rejected; family-life upheld).
    assert _cell(m, "liberty", "ECTHR") == (1, 1, 0)
    assert _cell(m, "family-life", "ECTHR") == (1, 1, 1)
    assert _cell(m, "liberty", "FR-CE") == (1, 1, 1)
    assert _cell(m, "liberty", "DE-BVERFG") == (2, 1, 0)
    # C4 has no proceeding: no forum column shows it.
    assert _cell(m, "family-life", "DE-BVERFG") == (0, 0, 0)
    s = queries.rights_matrix(world.u["outsider"], parse_filters({}), "system")
    assert [c.code for c in s.columns] == ["COE"]
    assert _cell(s, "liberty", "COE") == (1, 1, 0)
    assert _cell(s, "family-life", "COE") == (1, 1, 1)


def test_matrix_rows_follow_right_filter_and_period(world):
    m = queries.rights_matrix(
        world.u["outsider"], parse_filters({"right": "liberty", "filed_from": "2022-01-01"})
    )
    assert [r.code for r in m.rows] == ["liberty"]
    # From 2022: FR has only P2 (C2, liberty rejected) -> 1 case, decided, not won.
    assert _cell(m, "liberty", "FR") == (1, 1, 0)
    assert _cell(m, "liberty", "DE") == (2, 1, 0)
    # ES's only proceeding was filed in 2020: no ES column at all.
    assert "ES" not in {c.code for c in m.columns}


@pytest.mark.parametrize("view", ["jurisdiction", "forum", "system"])
@pytest.mark.parametrize("extra", [{}, {"filed_from": "2022-01-01"}, {"instrument": "ECHR"}])
def test_every_matrix_number_links_to_a_case_list_of_that_length(world, factory, view, extra):
    add_restricted_win(factory, world)
    for user in (world.u["outsider"], world.u["insider"]):
        m = queries.rights_matrix(user, parse_filters(extra), view)
        assert m.cells
        for cell in m.cells.values():
            assert _list_count(user, cell.args) == cell.cases, cell.args
            assert _list_count(user, cell.wins_args) == cell.wins, cell.wins_args
            assert _list_count(user, cell.decided_args) == cell.decided, cell.decided_args


def test_time_series_per_year(world):
    points = queries.time_series(world.u["outsider"], parse_filters({}))
    got = {p.year: (p.filed, p.wins, p.losses) for p in points}
    # 2020 P6 win; 2021 P1 win; 2022 P2 win and P3 loss; 2023 P7 pending.
    assert got == {2020: (1, 1, 0), 2021: (1, 1, 0), 2022: (2, 1, 1), 2023: (1, 0, 0)}
    for p in points:
        user = world.u["outsider"]
        assert _list_count(user, p.filed_args) == p.filed
        assert _list_count(user, p.wins_args) == p.wins
        assert _list_count(user, p.losses_args) == p.losses


def test_time_series_with_a_right_counts_wins_on_that_right(world):
    points = queries.time_series(world.u["outsider"], parse_filters({"right": "liberty"}))
    got = {p.year: (p.filed, p.wins, p.losses) for p in points}
    # 2022: C2 (liberty via ECHR:5, rejected: not a win on liberty) and C3 (lost).
    assert got == {2020: (1, 1, 0), 2021: (1, 1, 0), 2022: (2, 0, 1), 2023: (1, 0, 0)}
    for p in points:
        assert _list_count(world.u["outsider"], p.wins_args) == p.wins


def test_provision_forum(world):
    t = queries.provision_forum(world.u["outsider"], parse_filters({}))
    prov = {code: pid for pid, code, _ in t.provisions}
    forum = {code: fid for fid, code, _ in t.forums}
    cell8 = t.cells[(prov["ECHR:8"], forum["ECTHR"])]
    cell5 = t.cells[(prov["ECHR:5"], forum["ECTHR"])]
    assert {k: v[0] for k, v in cell8.items()} == {"upheld": 1}
    assert {k: v[0] for k, v in cell5.items()} == {"rejected": 1}
    assert _list_count(world.u["outsider"], cell8["upheld"][1]) == 1
    assert _list_count(world.u["outsider"], cell5["rejected"][1]) == 1
    # With a right filter the links still list exactly the counted cases.
    t2 = queries.provision_forum(world.u["outsider"], parse_filters({"right": "family-life"}))
    for cells in t2.cells.values():
        for n, args in cells.values():
            assert _list_count(world.u["outsider"], args) == n


def test_world_map(world):
    points = {p.code: p for p in queries.world_map(world.u["outsider"], parse_filters({}))}
    assert {k: (p.cases, p.wins) for k, p in points.items()} == {
        "FR": (2, 2),
        "DE": (3, 0),
        "ES": (1, 1),
    }
    assert points["FR"].lat == pytest.approx(46.0)
    for p in points.values():
        assert _list_count(world.u["outsider"], p.cases_args) == p.cases
        assert _list_count(world.u["outsider"], p.wins_args) == p.wins


def _snapshot(user):
    f = parse_filters({})
    out = {}
    for view in ("jurisdiction", "forum", "system"):
        m = queries.rights_matrix(user, f, view)
        out[view] = {k: (c.cases, c.decided, c.wins) for k, c in m.cells.items()}
    out["time"] = [(p.year, p.filed, p.wins, p.losses) for p in queries.time_series(user, f)]
    out["map"] = [(p.code, p.cases, p.wins) for p in queries.world_map(user, f)]
    t = queries.provision_forum(user, f)
    out["prov"] = {k: {t: v[0] for t, v in c.items()} for k, c in t.cells.items()}
    return out


def test_restricted_win_changes_no_number_outsiders_see(world, factory):
    outsider, insider = world.u["outsider"], world.u["insider"]
    before_out, before_in = _snapshot(outsider), _snapshot(insider)
    add_restricted_win(factory, world)
    assert _snapshot(outsider) == before_out
    after_in = _snapshot(insider)
    # The team sees it: liberty x ES gains C5 (a win before the ECtHR in 2023).
    assert after_in != before_in
    m = queries.rights_matrix(insider, parse_filters({}))
    assert _cell(m, "liberty", "ES") == (2, 2, 2)


def test_centroids_cover_every_country():
    import pycountry

    table = queries.centroids()
    missing = [c.alpha_2 for c in pycountry.countries if c.alpha_2 not in table]
    assert missing == []
    lat, lon = table["BR"]
    assert -35 < lat < 5 and -75 < lon < -35  # Brazil is where it should be
    assert all(-90 <= la <= 90 and -180 <= lo <= 180 for la, lo in table.values())


def test_bad_period_is_a_filter_error(world):
    from tracker.cases.filters import FilterError

    with pytest.raises(FilterError) as exc:
        parse_filters({"filed_from": "2024-01-01", "filed_to": "2023-01-01", "result": "x"})
    assert set(exc.value.errors) == {"filed_to", "result"}
