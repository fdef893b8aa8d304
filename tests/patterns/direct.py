"""The patterns numbers computed straight from the data, for the tests to compare with.

These are the on-the-fly queries /patterns/ ran before its derived tables
(tracker/patterns/facts.py): every number starts from case_filter(user) over the cases,
proceedings and treatments themselves. tests/patterns/test_derived.py checks that the page's
numbers, read from the stored totals and facts, equal these after random edits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, case, distinct, exists, extract, func, literal, or_, select
from sqlalchemy import union_all as sa_union_all

from tracker.access import case_filter
from tracker.cases.filters import CaseFilters, apply_filters
from tracker.cases.models import (
    Case,
    Proceeding,
    ProceedingTreatment,
    Treatment,
    case_provisions,
    case_rights,
)
from tracker.extensions import db
from tracker.patterns import rules
from tracker.patterns.queries import centroids
from tracker.taxonomy.models import (
    Forum,
    Jurisdiction,
    JurisdictionKind,
    Provision,
    Right,
    provision_rights,
)

DIMENSIONS = ("jurisdiction", "forum", "system")
DATA_DIR = Path(__file__).resolve().parent / "data"

Args = dict[str, Any]


# --- helpers --------------------------------------------------------------------------------
def filter_args(filters: CaseFilters, **changes: Any) -> Args:
    """Query parameters for a case-list link: the page's filters with some replaced."""
    multi = filters.to_args()
    args: Args = {key: multi.getlist(key) for key in multi}
    for key, value in changes.items():
        if value in (None, "", [], ()):
            args.pop(key, None)
        else:
            args[key] = value
    return {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in args.items()}


def _without(filters: CaseFilters, *names: str) -> CaseFilters:
    if not any(getattr(filters, n) for n in names):
        return filters
    return filters.with_values(**{n: [] for n in names})


def _visible_ids(user: Any, filters: CaseFilters) -> Select:
    return apply_filters(select(Case.id).where(case_filter(user)), filters)


def _proceeding_conditions(filters: CaseFilters) -> list:
    conditions = []
    if filters._ids.get("forum"):
        conditions.append(Proceeding.forum_id.in_(filters._ids["forum"]))
    if filters.filed_from:
        conditions.append(Proceeding.filed_on >= filters.filed_from)
    if filters.filed_to:
        conditions.append(Proceeding.filed_on <= filters.filed_to)
    return conditions


def _family_map():
    """(family_id, member_id): each right stands for itself and its parent (two levels)."""
    own = select(Right.id.label("family_id"), Right.id.label("member_id"))
    parent = select(Right.parent_id.label("family_id"), Right.id.label("member_id")).where(
        Right.parent_id.is_not(None)
    )
    return sa_union_all(own, parent).subquery("fam")


def _case_pairs(base_ids: Select):
    """(case_id, right_id) for tags and crosswalked provisions, expanded to parent rights."""
    fam = _family_map()
    tags = select(case_rights.c.case_id, case_rights.c.right_id)
    via = select(case_provisions.c.case_id, provision_rights.c.right_id).join(
        provision_rights, provision_rights.c.provision_id == case_provisions.c.provision_id
    )
    raw = sa_union_all(tags, via).subquery("raw_cp")
    return (
        select(raw.c.case_id, fam.c.family_id.label("right_id"))
        .join(fam, fam.c.member_id == raw.c.right_id)
        .where(raw.c.case_id.in_(base_ids))
        .distinct()
        .subquery("cp")
    )


def _proceeding_pairs(base_ids: Select, conditions: list):
    """Per (proceeding, right family) the flags of the counting rule.

    Columns: proceeding_id, case_id, forum_id, outcome, filed_on, right_id, is_tag, is_treat,
    is_upheld (0/1 maxima). A row exists only when the proceeding counts for the right.
    """
    fam = _family_map()
    cp = _case_pairs(base_ids)
    PT = ProceedingTreatment
    cols = (Proceeding.id, Proceeding.case_id, Proceeding.forum_id, Proceeding.outcome)
    tag_rows = (
        select(
            *cols,
            Proceeding.filed_on,
            cp.c.right_id,
            literal(1).label("is_tag"),
            literal(0).label("is_treat"),
            literal(0).label("is_upheld"),
        )
        .join(cp, cp.c.case_id == Proceeding.case_id)
        .where(*conditions)
    )
    upheld = case((PT.treatment == Treatment.UPHELD, 1), else_=0)
    treat_direct = select(
        *cols,
        Proceeding.filed_on,
        PT.right_id.label("right_id"),
        literal(0),
        literal(1),
        upheld,
    ).join(PT, PT.proceeding_id == Proceeding.id)
    treat_direct = treat_direct.where(
        PT.right_id.is_not(None), Proceeding.case_id.in_(base_ids), *conditions
    )
    treat_prov = (
        select(
            *cols,
            Proceeding.filed_on,
            provision_rights.c.right_id,
            literal(0),
            literal(1),
            upheld,
        )
        .join(PT, PT.proceeding_id == Proceeding.id)
        .join(provision_rights, provision_rights.c.provision_id == PT.provision_id)
        .where(Proceeding.case_id.in_(base_ids), *conditions)
    )
    raw = sa_union_all(tag_rows, treat_direct, treat_prov).subquery("raw_pp")
    # Treatment rows name member rights: expand them to the family (tag rows already are).
    expanded = (
        select(
            raw.c.id.label("proceeding_id"),
            raw.c.case_id,
            raw.c.forum_id,
            raw.c.outcome,
            raw.c.filed_on,
            fam.c.family_id.label("right_id"),
            raw.c.is_tag,
            raw.c.is_treat,
            raw.c.is_upheld,
        )
        .join(fam, fam.c.member_id == raw.c.right_id)
        .where(or_(raw.c.is_treat == 1, fam.c.family_id == fam.c.member_id))
    ).subquery("exp_pp")
    return (
        select(
            expanded.c.proceeding_id,
            expanded.c.case_id,
            expanded.c.forum_id,
            expanded.c.outcome,
            expanded.c.filed_on,
            expanded.c.right_id,
            func.max(expanded.c.is_tag).label("is_tag"),
            func.max(expanded.c.is_treat).label("is_treat"),
            func.max(expanded.c.is_upheld).label("is_upheld"),
        )
        .group_by(
            expanded.c.proceeding_id,
            expanded.c.case_id,
            expanded.c.forum_id,
            expanded.c.outcome,
            expanded.c.filed_on,
            expanded.c.right_id,
        )
        .subquery("pp")
    )


def _won(pp) -> Any:
    return and_(
        pp.c.outcome.in_(rules.WIN_OUTCOMES),
        or_(pp.c.is_upheld == 1, and_(pp.c.is_tag == 1, pp.c.is_treat == 0)),
    )


def _decided(pp) -> Any:
    return pp.c.outcome.in_(rules.DECIDED_OUTCOMES)


def _lost(pp) -> Any:
    return pp.c.outcome.in_(rules.LOST_OUTCOMES)


# --- the rights matrix ----------------------------------------------------------------------
@dataclass
class Cell:
    cases: int = 0
    decided: int = 0
    wins: int = 0
    args: Args = field(default_factory=dict)  # the case list behind `cases`
    decided_args: Args = field(default_factory=dict)
    wins_args: Args = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        return self.wins / self.decided if self.decided else None


@dataclass
class Column:
    key: int
    code: str
    label: str
    link: Args  # the parameters that select this column in the case list


@dataclass
class Row:
    right_id: int
    code: str
    label: str
    depth: int  # 0 = a group of rights, 1 = a right in it


@dataclass
class Matrix:
    dimension: str
    rows: list[Row]
    columns: list[Column]
    cells: dict[tuple[int, int], Cell]
    max_cases: int = 0

    def cell(self, right_id: int, key: int) -> Cell | None:
        return self.cells.get((right_id, key))

    @property
    def is_empty(self) -> bool:
        return not self.cells


def _rows(filters: CaseFilters, present: set[int]) -> list[Row]:
    rights = db.session.scalars(select(Right).order_by(Right.position, Right.name)).all()
    by_parent: dict[int | None, list[Right]] = defaultdict(list)
    for r in rights:
        by_parent[r.parent_id].append(r)
    wanted = set(filters._ids.get("right") or ()) or None
    rows: list[Row] = []

    def add(r: Right, depth: int) -> None:
        if r.id in present and (wanted is None or r.id in wanted):
            rows.append(Row(r.id, r.code, r.name, depth))

    for top in by_parent[None]:
        add(top, 0)
        for child in by_parent[top.id]:
            add(child, 1)
    return rows


def _columns(dimension: str, keys: set[int], filters: CaseFilters) -> list[Column]:
    if not keys:
        return []
    if dimension == "jurisdiction":
        items = db.session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(keys))).all()
        return sorted(
            (Column(j.id, j.code, j.name, {"jurisdiction": j.code}) for j in items),
            key=lambda c: c.label,
        )
    if dimension == "forum":
        items = db.session.scalars(select(Forum).where(Forum.id.in_(keys))).all()
        return sorted(
            (Column(f.id, f.code, f.name, {"forum": f.code}) for f in items),
            key=lambda c: c.code,
        )
    # Regional systems: the forums of the system (within the page's forum filter, if any).
    systems = db.session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(keys))).all()
    forum_filter = set(filters._ids.get("forum") or ())
    rows = db.session.execute(
        select(Forum.jurisdiction_id, Forum.code, Forum.id)
        .where(Forum.jurisdiction_id.in_(keys))
        .order_by(Forum.code)
    ).all()
    codes: dict[int, list[str]] = defaultdict(list)
    for system_id, code, forum_id in rows:
        if not forum_filter or forum_id in forum_filter:
            codes[system_id].append(code)
    return sorted(
        (Column(s.id, s.code, s.name, {"forum": codes[s.id]}) for s in systems if codes[s.id]),
        key=lambda c: c.code,
    )


def rights_matrix(user: Any, filters: CaseFilters, dimension: str = "jurisdiction") -> Matrix:
    """Rights x jurisdictions (or forums, or regional systems): cases, decided, wins per cell.

    The page's right filter chooses the rows (it is not applied to the case set, so that every
    cell's link, which sets right=<row>, lists exactly the cell's cases). Four GROUP BY queries.
    """
    if dimension not in DIMENSIONS:
        raise ValueError(dimension)
    base_filters = _without(filters, "right", "result", "treatment")
    base_ids = _visible_ids(user, base_filters)
    conditions = _proceeding_conditions(filters)
    pp = _proceeding_pairs(base_ids, conditions)
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])

    if dimension == "jurisdiction":
        cp = _case_pairs(base_ids)
        pairs = sa_union_all(
            select(cp.c.case_id, cp.c.right_id),
            select(pp.c.case_id, pp.c.right_id).where(pp.c.is_treat == 1),
        ).subquery("pairs")
        key_of = Case.jurisdiction_id

        def grouped(source, where=None):
            stmt = (
                select(source.c.right_id, key_of, func.count(distinct(source.c.case_id)))
                .join(Case, Case.id == source.c.case_id)
                .group_by(source.c.right_id, key_of)
            )
            return stmt.where(where) if where is not None else stmt

        case_rows = db.session.execute(grouped(pairs)).all()
    else:
        if dimension == "forum":
            key_of = pp.c.forum_id

            def grouped(source, where=None):
                stmt = select(
                    source.c.right_id, key_of, func.count(distinct(source.c.case_id))
                ).group_by(source.c.right_id, key_of)
                return stmt.where(where) if where is not None else stmt
        else:
            key_of = Forum.jurisdiction_id

            def grouped(source, where=None):
                stmt = (
                    select(source.c.right_id, key_of, func.count(distinct(source.c.case_id)))
                    .join(Forum, Forum.id == source.c.forum_id)
                    .join(Jurisdiction, Jurisdiction.id == Forum.jurisdiction_id)
                    .where(Jurisdiction.kind == JurisdictionKind.SYSTEM)
                    .group_by(source.c.right_id, key_of)
                )
                return stmt.where(where) if where is not None else stmt

        case_rows = db.session.execute(grouped(pp)).all()

    for right_id, key, n in case_rows:
        counts[(right_id, key)][0] = n
    for right_id, key, n in db.session.execute(grouped(pp, _decided(pp))).all():
        counts[(right_id, key)][1] = n
    for right_id, key, n in db.session.execute(grouped(pp, _won(pp))).all():
        counts[(right_id, key)][2] = n

    rows = _rows(filters, {r for r, _ in counts})
    columns = _columns(dimension, {k for _, k in counts}, filters)
    col_by_key = {c.key: c for c in columns}
    row_ids = {r.right_id for r in rows}
    code_of = {r.right_id: r.code for r in rows}
    cells: dict[tuple[int, int], Cell] = {}
    for (right_id, key), (n, decided, wins) in counts.items():
        if right_id not in row_ids or key not in col_by_key:
            continue
        link = {"right": code_of[right_id], **col_by_key[key].link}
        cells[(right_id, key)] = Cell(
            cases=n,
            decided=decided,
            wins=wins,
            args=filter_args(base_filters, **link),
            decided_args=filter_args(base_filters, **link, result="decided"),
            wins_args=filter_args(base_filters, **link, result="won"),
        )
    max_cases = max((c.cases for c in cells.values()), default=0)
    return Matrix(dimension, rows, columns, cells, max_cases)


# --- filings and outcomes over time ---------------------------------------------------------
@dataclass
class YearPoint:
    year: int
    filed: int
    wins: int
    losses: int
    filed_args: Args
    wins_args: Args
    losses_args: Args


def time_series(user: Any, filters: CaseFilters) -> list[YearPoint]:
    """Per year of filing (of a proceeding): cases filed, cases won, cases lost.

    With a right filter, only proceedings counting for one of the rights are counted, and a win
    is a win on one of them (the same as result=won in the case list). Three GROUP BY queries.
    """
    base_filters = _without(filters, "result", "treatment")
    base_ids = _visible_ids(user, base_filters)
    conditions = [*_proceeding_conditions(filters), Proceeding.filed_on.is_not(None)]
    right_ids = filters._ids.get("right") or ()
    if right_ids:
        pp = _proceeding_pairs(base_ids, conditions)
        year = extract("year", pp.c.filed_on)

        def grouped(where=None):
            stmt = (
                select(year, func.count(distinct(pp.c.case_id)))
                .where(pp.c.right_id.in_(right_ids))
                .group_by(year)
            )
            return stmt.where(where) if where is not None else stmt

        filed = dict(db.session.execute(grouped()).all())
        wins = dict(db.session.execute(grouped(_won(pp))).all())
        losses = dict(db.session.execute(grouped(_lost(pp))).all())
    else:
        year = extract("year", Proceeding.filed_on)

        def grouped(where=None):
            stmt = (
                select(year, func.count(distinct(Proceeding.case_id)))
                .where(Proceeding.case_id.in_(base_ids), *conditions)
                .group_by(year)
            )
            return stmt.where(where) if where is not None else stmt

        filed = dict(db.session.execute(grouped()).all())
        wins = dict(db.session.execute(grouped(Proceeding.outcome.in_(rules.WIN_OUTCOMES))).all())
        losses = dict(
            db.session.execute(grouped(Proceeding.outcome.in_(rules.LOST_OUTCOMES))).all()
        )
    points = []
    years = sorted(int(y) for y in filed)
    for y in range(years[0], years[-1] + 1) if years else ():  # empty years are zeros
        start = max(date(y, 1, 1), filters.filed_from or date(y, 1, 1))
        end = min(date(y, 12, 31), filters.filed_to or date(y, 12, 31))
        period = {"filed_from": start.isoformat(), "filed_to": end.isoformat()}
        points.append(
            YearPoint(
                year=y,
                filed=filed.get(y, 0),
                wins=wins.get(y, 0),
                losses=losses.get(y, 0),
                filed_args=filter_args(base_filters, **period),
                wins_args=filter_args(base_filters, **period, result="won"),
                losses_args=filter_args(base_filters, **period, result="lost"),
            )
        )
    return points


# --- provisions x forums ---------------------------------------------------------------------
@dataclass
class ProvisionForumTable:
    provisions: list[tuple[int, str, str]]  # id, code, label
    forums: list[tuple[int, str, str]]  # id, code, name
    # (provision_id, forum_id) -> {treatment value: (count, args)}
    cells: dict[tuple[int, int], dict[str, tuple[int, Args]]]

    @property
    def is_empty(self) -> bool:
        return not self.cells


def provision_forum(user: Any, filters: CaseFilters) -> ProvisionForumTable:
    """Which provisions succeed before which forums: per provision and forum, the cases whose
    proceeding there upheld / rejected / did not reach the provision (among cases invoking it).

    The page's provision and forum filters choose rows and columns; a right filter keeps the
    cases counting for the right before that forum. One GROUP BY query.
    """
    PT = ProceedingTreatment
    base_filters = _without(filters, "provision", "right", "result", "treatment")
    base_ids = _visible_ids(user, base_filters)
    conditions = _proceeding_conditions(filters)
    where = [
        PT.provision_id.is_not(None),
        Proceeding.case_id.in_(base_ids),
        *conditions,
        exists(
            select(case_provisions.c.case_id).where(
                case_provisions.c.case_id == Proceeding.case_id,
                case_provisions.c.provision_id == PT.provision_id,
            )
        ),
    ]
    if filters._ids.get("provision"):
        where.append(PT.provision_id.in_(filters._ids["provision"]))
    if filters._ids.get("right"):
        # The case list's right clause, evaluated before this proceeding's forum and period.
        from tracker.cases.filters import _rights_with_descendants

        family = _rights_with_descendants(filters._ids["right"])
        other = Proceeding.__table__.alias("p2")
        p2_conditions = [other.c.case_id == Proceeding.case_id]
        if filters.filed_from:
            p2_conditions.append(other.c.filed_on >= filters.filed_from)
        if filters.filed_to:
            p2_conditions.append(other.c.filed_on <= filters.filed_to)
        pt2 = PT.__table__.alias("pt2")
        treated = exists(
            select(pt2.c.id)
            .join(other, other.c.id == pt2.c.proceeding_id)
            .where(
                *p2_conditions,
                other.c.forum_id == Proceeding.forum_id,
                or_(
                    pt2.c.right_id.in_(family),
                    pt2.c.provision_id.in_(
                        select(provision_rights.c.provision_id).where(
                            provision_rights.c.right_id.in_(family)
                        )
                    ),
                ),
            )
        )
        where.append(or_(rules.case_tagged(family, Proceeding.case_id), treated))
    stmt = (
        select(
            PT.provision_id,
            Proceeding.forum_id,
            PT.treatment,
            func.count(distinct(Proceeding.case_id)),
        )
        .join(Proceeding, Proceeding.id == PT.proceeding_id)
        .where(*where)
        .group_by(PT.provision_id, Proceeding.forum_id, PT.treatment)
    )
    raw = db.session.execute(stmt).all()
    prov_ids = {r[0] for r in raw}
    forum_ids = {r[1] for r in raw}
    provisions = (
        db.session.execute(
            select(Provision.id, Provision.code, Provision.title)
            .where(Provision.id.in_(prov_ids))
            .order_by(Provision.code)
        ).all()
        if prov_ids
        else []
    )
    forums = (
        db.session.execute(
            select(Forum.id, Forum.code, Forum.name)
            .where(Forum.id.in_(forum_ids))
            .order_by(Forum.code)
        ).all()
        if forum_ids
        else []
    )
    prov_code = {p[0]: p[1] for p in provisions}
    forum_code = {f[0]: f[1] for f in forums}
    right_args = {"right": list(filters.right)} if filters.right else {}
    cells: dict[tuple[int, int], dict[str, tuple[int, Args]]] = defaultdict(dict)
    for provision_id, forum_id, treatment, n in raw:
        value = Treatment(treatment).value
        cells[(provision_id, forum_id)][value] = (
            n,
            filter_args(
                base_filters,
                provision=prov_code[provision_id],
                forum=forum_code[forum_id],
                treatment=value,
                **right_args,
            ),
        )
    return ProvisionForumTable(
        [tuple(p) for p in provisions], [tuple(f) for f in forums], dict(cells)
    )


# --- the world map --------------------------------------------------------------------------
@dataclass
class MapPoint:
    jurisdiction_id: int
    code: str
    name: str
    cases: int
    wins: int
    lat: float | None
    lon: float | None
    cases_args: Args
    wins_args: Args

    @property
    def x(self) -> float:
        return (self.lon or 0.0) + 180.0

    @property
    def y(self) -> float:
        return 90.0 - (self.lat or 0.0)


def world_map(user: Any, filters: CaseFilters) -> list[MapPoint]:
    """Cases and cases won per jurisdiction of the case (two GROUP BY queries)."""
    base_filters = _without(filters, "result", "treatment")
    won_filters = base_filters.with_values(result="won")
    cases = dict(
        db.session.execute(
            apply_filters(
                select(Case.jurisdiction_id, func.count(Case.id)).where(case_filter(user)),
                base_filters,
            ).group_by(Case.jurisdiction_id)
        ).all()
    )
    wins = dict(
        db.session.execute(
            apply_filters(
                select(Case.jurisdiction_id, func.count(Case.id)).where(case_filter(user)),
                won_filters,
            ).group_by(Case.jurisdiction_id)
        ).all()
    )
    if not cases:
        return []
    where_xy = centroids()
    points = []
    for j in db.session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(cases))):
        lat, lon = where_xy.get(j.code, (None, None))
        points.append(
            MapPoint(
                j.id,
                j.code,
                j.name,
                cases[j.id],
                wins.get(j.id, 0),
                lat,
                lon,
                filter_args(base_filters, jurisdiction=j.code),
                filter_args(base_filters, jurisdiction=j.code, result="won"),
            )
        )
    return sorted(points, key=lambda p: (-p.cases, p.code))
