"""Read side of the patterns area: matrices, time series, provision x forum, the map.

Every function is pure in the sense a cache needs: (user, filters[, option]) -> plain data,
no writes, no request access. Numbers come from the derived tables of
tracker/patterns/facts.py: unfiltered, the stored totals of public and network cases plus the
organisation and restricted cases this user may see (case_filter decides, counted from their
facts); filtered, one GROUP BY over the facts of the visible cases that match (case_filter
again). So a case the user may not see changes no number. None runs a query per cell or row.

The counting rule is documented in tracker/patterns/rules.py (and on the page): numbers are
cases; a right includes its children, crosswalked provisions and treatments; a "win on R" is
decided proceeding by proceeding. Each number carries `args`, the query parameters of the case
list behind it (url_for("cases.index", **args)); tests check that the list's length equals
the number.

Functions for other areas (reports, API):
    rights_matrix(user, filters, dimension="jurisdiction", *, audience=None) -> Matrix
    time_series(user, filters) -> list[YearPoint]
    provision_forum(user, filters) -> ProvisionForumTable
    world_map(user, filters) -> list[MapPoint]
    (open opportunities: tracker.patterns.opportunities.visible_opportunities)
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from flask import has_request_context, request
from sqlalchemy import Select, and_, distinct, event, exists, false, func, or_, select, union
from sqlalchemy.orm import Session, aliased

from tracker.access import case_filter
from tracker.cases.filters import CaseFilters, apply_filters, proceeding_window
from tracker.cases.models import (
    Case,
    CaseMember,
    Proceeding,
    ProceedingTreatment,
    Treatment,
    case_partners,
    case_provisions,
)
from tracker.extensions import db
from tracker.patterns import facts, rules
from tracker.patterns.models import PatternFact as F
from tracker.patterns.models import PatternProvisionFact as PF
from tracker.taxonomy.models import (
    Forum,
    Jurisdiction,
    Provision,
    Right,
    provision_rights,
)
from tracker.types import Confidentiality

C = Confidentiality
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


def _visible_ids(user: Any, filters: CaseFilters, audience: Any = None) -> Select:
    return apply_filters(select(Case.id).where(case_filter(user, audience)), filters)


# Filters the facts hold (a case's jurisdiction and visibility level are on every row, a
# proceeding's forum and filing date on its rows): a page filtered on these only counts from
# the facts, without reading the cases.
FACT_FILTERS = frozenset({"right", "jurisdiction", "forum", "filed_from", "filed_to"})


def _on_facts(filters: CaseFilters, audience: Any = None) -> bool:
    return audience is None and all(
        name in FACT_FILTERS or not value for name, value in filters.to_args().items(multi=True)
    )


def _case_set(user: Any, filters: CaseFilters, audience: Any = None) -> list:
    """Over pattern_facts: the visible cases matching the filters (case_filter and
    apply_filters), as far as the statement's rows do not select them. FACT_FILTERS are
    read from the facts alone: the open cases on every row plus the private cases this user
    may see, and the case's jurisdiction. The forum and period window and the rights are
    the statement's rows: a case that counts for a right has a row for it, one per
    proceeding when the proceeding counts (facts.matrix_select explains why that is the
    case list's rule); every consumer of this counts from such rows only."""
    if not _on_facts(filters, audience):
        return [F.case_id.in_(_visible_ids(user, filters, audience))]
    if not getattr(user, "is_authenticated", False):
        return [false()]
    where = [or_(F.is_open.is_(True), _private(F.case_id, user))]
    if filters._ids.get("jurisdiction"):
        where.append(F.jurisdiction_id.in_(filters._ids["jurisdiction"]))
    return where


def _fact_conditions(filters: CaseFilters) -> Any:
    """The forum and period filters over pattern_facts (they select proceedings)."""
    conditions = proceeding_window(filters, F.forum_id, F.filed_on)
    return and_(*conditions) if conditions else None


PRIVATE_AS_LIST = 5000  # more private cases than this: looked up by a subquery instead


def _private(column, user: Any):
    """Over a facts table's case id: the organisation and restricted cases this user may see
    (case_filter decides), which are added on the fly to the stored totals (those count
    public and network cases only). Read first, so that their facts are then looked up by
    case id; false when there are none."""
    if not getattr(user, "is_authenticated", False):
        return false()
    ids = _private_ids(user)
    if ids is None:
        return column.in_(_private_stmt(user))
    return column.in_(ids) if ids else false()


def _private_ids(user: Any) -> list[int] | None:
    """The ids of _private (None: more than PRIVATE_AS_LIST), read once per request: a page
    asks for them in each of its four parts. The request's cache is keyed on the session's
    transaction and its writes (a flush, or a statement other than a SELECT through the
    session, reads them again), so a page that writes first never sees stale ones."""
    if not has_request_context():
        return _read_private_ids(user)
    session = db.session()
    key = (user.id, user.organisation_id, session.get_transaction(), _flushes(session))
    cached = request.environ.get(_PRIVATE_KEY)
    if cached is not None and cached[0] == key:
        return cached[1]
    ids = _read_private_ids(user)
    request.environ[_PRIVATE_KEY] = (key, ids)
    return ids


_PRIVATE_KEY = "tracker.patterns_private_ids"
_FLUSHES_KEY = "patterns_flushes"


def _flushes(session) -> int:
    return session.info.get(_FLUSHES_KEY, 0)


def _bump(session) -> None:
    session.info[_FLUSHES_KEY] = session.info.get(_FLUSHES_KEY, 0) + 1


@event.listens_for(Session, "after_flush")
def _count_flush(session, _context) -> None:
    _bump(session)


@event.listens_for(Session, "do_orm_execute")
def _count_write(state) -> None:
    if not state.is_select:  # a Core insert, update or delete through the session
        _bump(state.session)


def _private_stmt(user: Any) -> Select:
    # case_filter decides; the candidates (every case the user's organisation leads or
    # partners, or whose team the user is on: the only ways access.py opens a private case)
    # only let the database start from a few index lookups instead of every private case.
    candidates = union(
        select(Case.id).where(
            Case.confidentiality.in_((C.ORGANISATION, C.RESTRICTED)),
            Case.lead_organisation_id == user.organisation_id,
        ),
        select(case_partners.c.case_id).where(
            case_partners.c.organisation_id == user.organisation_id
        ),
        select(CaseMember.case_id).where(CaseMember.user_id == user.id),
    )
    return select(Case.id).where(
        Case.id.in_(candidates),
        Case.confidentiality.in_((C.ORGANISATION, C.RESTRICTED)),
        case_filter(user),
    )


def _read_private_ids(user: Any) -> list[int] | None:
    ids = list(db.session.scalars(_private_stmt(user).limit(PRIVATE_AS_LIST + 1)))
    return None if len(ids) > PRIVATE_AS_LIST else ids


def _sum(stored: list, stmt) -> dict[tuple, list[int]]:
    """Stored totals plus the rows of a statement over the facts, by (view, right, col, sub)."""
    counts = facts.add_rows({}, stored)
    return facts.add_rows(counts, db.session.execute(stmt).tuples())


class _LazyArgs(Mapping):
    """Case-list parameters computed when first read: the page shows a part of the numbers
    it computes (the busiest columns), and building thousands of dicts is not free."""

    __slots__ = ("_args", "_changes", "_links")

    def __init__(self, links: _Links, changes: dict[str, Any]):
        self._links, self._changes, self._args = links, changes, None

    def _get(self) -> Args:
        if self._args is None:
            self._args = self._links(**self._changes)
        return self._args

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __repr__(self) -> str:
        return repr(self._get())

    def query_string(self) -> str:
        """The parameters URL-encoded, as urlencode(self, doseq=True) would write them."""
        return self._links.query_string(self._changes)


def _empty(value: Any) -> bool:
    return value in (None, "", [], ())


@lru_cache(maxsize=8192)
def _quote(value: str) -> str:
    return quote_plus(value)


def encode_param(key: str, value: Any) -> str:
    """key=value URL-encoded (key=v1&key=v2 for a list), as urlencode(doseq=True) writes it."""
    items = value if isinstance(value, list | tuple) else (value,)
    return "&".join(f"{_quote(key)}={_quote(str(item))}" for item in items)


class _Links:
    """Case-list query parameters for many numbers on one base of filters (filter_args,
    without re-reading the filters for each number)."""

    def __init__(self, filters: CaseFilters):
        self.base = filter_args(filters)
        self._encoded: list[tuple[str, str]] | None = None

    def lazy(self, **changes: Any) -> _LazyArgs:
        return _LazyArgs(self, changes)

    def query_string(self, changes: dict[str, Any]) -> str:
        """The encoded parameters of self(**changes), without building the dict: a page has
        thousands of links over the same base (the base is encoded once)."""
        if self._encoded is None:
            self._encoded = [(k, encode_param(k, v)) for k, v in self.base.items()]
        parts = []
        for key, encoded in self._encoded:
            if key not in changes:
                parts.append(encoded)
            elif not _empty(changes[key]):
                parts.append(encode_param(key, changes[key]))
        for key, value in changes.items():
            if key not in self.base and not _empty(value):
                parts.append(encode_param(key, value))
        return "&".join(parts)

    def __call__(self, **changes: Any) -> Args:
        args = dict(self.base)
        for key, value in changes.items():
            if _empty(value):
                args.pop(key, None)
            else:
                args[key] = value[0] if isinstance(value, list) and len(value) == 1 else value
        return args


# --- the rights matrix ----------------------------------------------------------------------
@dataclass(slots=True)
class Cell:
    cases: int = 0
    decided: int = 0
    wins: int = 0
    link: Args = field(default_factory=dict)  # the parameters of this row and column
    links: _Links | None = field(default=None, repr=False)  # the page's other filters

    def _args(self, **extra: Any) -> Args:
        links = self.links or _Links(CaseFilters())
        return links.lazy(**self.link, **extra)

    @property
    def args(self) -> Args:
        """The case list behind `cases` (those behind decided and wins below)."""
        return self._args()

    @property
    def decided_args(self) -> Args:
        return self._args(result="decided")

    @property
    def wins_args(self) -> Args:
        return self._args(result="won")

    def query_strings(self) -> tuple[str, str, str]:
        """The encoded parameters of args, wins_args and decided_args (for the page)."""
        links = self.links or _Links(CaseFilters())
        return (
            links.query_string(self.link),
            links.query_string({**self.link, "result": "won"}),
            links.query_string({**self.link, "result": "decided"}),
        )

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
    total_columns: int = 0  # columns with numbers (more than `columns` when limited)

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


def _top(totals: dict[int, int], n: int) -> set[int]:
    return set(sorted(totals, key=lambda k: (-totals[k], k))[:n])


def rights_matrix(
    user: Any,
    filters: CaseFilters,
    dimension: str = "jurisdiction",
    limit: int | None = None,
    *,
    audience: Any = None,
) -> Matrix:
    """Rights x jurisdictions (or forums, or regional systems): cases, decided, wins per cell.

    With an audience (the network report), only the cases that audience may receive count.

    The page's right filter chooses the rows (it is not applied to the case set, so that every
    cell's link, which sets right=<row>, lists exactly the cell's cases). Unfiltered: the
    stored totals of public and network cases plus, counted from their facts, the
    organisation and restricted cases the user may see. Filtered: one GROUP BY over the facts
    of the visible cases that match. limit: only the columns with the most cases (the
    matrix's total_columns says how many there are).
    """
    if dimension not in DIMENSIONS:
        raise ValueError(dimension)
    base_filters = _without(filters, "right", "result", "treatment")
    wanted = sorted(set(filters._ids.get("right") or ())) or None
    only_rows = [F.right_id.in_(wanted)] if wanted else []
    # The stored totals are those of every public and network case: an audience (the
    # network report) counts from the facts of what it may receive instead.
    if base_filters.is_empty and audience is None:
        counts = _sum([], facts.matrix_select(dimension, [_private(F.case_id, user), *only_rows]))
        # Which columns and rows have numbers, and each column's cases, from the totals.
        per_column: dict[int, int] = defaultdict(int, facts.stored_column_sums(dimension, wanted))
        present = facts.stored_rights(dimension, wanted)
        for (_view, right_id, col, _sub), values in counts.items():
            per_column[col] += values[0]
            present.add(right_id)
        keep = _top(per_column, limit) if limit else None
        counts = facts.add_rows(counts, facts.stored_totals([dimension], wanted, cols=keep))
        all_keys = set(per_column)
    else:
        where = [*_case_set(user, base_filters, audience), *only_rows]
        counts = _sum([], facts.matrix_select(dimension, where, _fact_conditions(filters)))
        per_column = defaultdict(int)
        for key, values in counts.items():
            per_column[key[2]] += values[0]
        all_keys = {k for k, n in per_column.items() if n}
        keep = _top(per_column, limit) if limit else None
        present = {key[1] for key, values in counts.items() if any(values)}
    by_cell = {
        (key[1], key[2]): values
        for key, values in counts.items()
        if any(values) and (keep is None or key[2] in keep)
    }
    total_columns = len(_columns(dimension, all_keys, filters)) if keep is not None else None
    rows = _rows(filters, present)
    columns = _columns(dimension, keep if keep is not None else {k for _, k in by_cell}, filters)
    col_by_key = {c.key: c for c in columns}
    row_ids = {r.right_id for r in rows}
    code_of = {r.right_id: r.code for r in rows}
    links = _Links(base_filters)
    cells: dict[tuple[int, int], Cell] = {}
    for (right_id, key), (n, decided, wins, _losses) in by_cell.items():
        if right_id not in row_ids or key not in col_by_key:
            continue
        link = {"right": code_of[right_id], **col_by_key[key].link}
        cells[(right_id, key)] = Cell(n, decided, wins, link, links)
    max_cases = max((c.cases for c in cells.values()), default=0)
    matrix = Matrix(dimension, rows, columns, cells, max_cases)
    matrix.total_columns = len(columns) if total_columns is None else total_columns
    return matrix


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
    is a win on one of them (the same as result=won in the case list). Unfiltered, or filtered
    on one right only: stored totals plus the private cases the user may see; otherwise one
    GROUP BY over the facts of the matching visible cases.
    """
    base_filters = _without(filters, "result", "treatment")
    right_ids = sorted(set(filters._ids.get("right") or ()))
    if _without(base_filters, "right").is_empty and len(right_ids) <= 1:
        right = right_ids or [0]
        counts = _sum(
            facts.stored_totals(["year"], right),
            facts.year_select([_private(F.case_id, user)], right_ids=right),
        )
    else:
        where = _case_set(user, base_filters)
        counts = _sum(
            [],
            facts.year_select(
                where, _fact_conditions(filters), right_ids=right_ids or [0], by_right=False
            ),
        )
    by_year = {int(key[2]): values for key, values in counts.items() if any(values)}
    links = _Links(base_filters)
    points = []
    # Every year from the first to the last filing: a year without filings is a zero on the
    # chart and in the table, not a gap that silently joins its neighbours.
    years = sorted(by_year)
    for y in range(years[0], years[-1] + 1) if years else ():
        filed, _decided, wins, losses = by_year.get(y, (0, 0, 0, 0))
        start = max(date(y, 1, 1), filters.filed_from or date(y, 1, 1))
        end = min(date(y, 12, 31), filters.filed_to or date(y, 12, 31))
        period = {"filed_from": start.isoformat(), "filed_to": end.isoformat()}
        points.append(
            YearPoint(
                year=y,
                filed=filed,
                wins=wins,
                losses=losses,
                filed_args=links(**period),
                wins_args=links(**period, result="won"),
                losses_args=links(**period, result="lost"),
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
    total_provisions: int = 0  # with numbers (more than `provisions` when limited)
    total_forums: int = 0

    def __post_init__(self) -> None:
        self.total_provisions = self.total_provisions or len(self.provisions)
        self.total_forums = self.total_forums or len(self.forums)

    @property
    def is_empty(self) -> bool:
        return not self.cells


def _busiest(raw: list, n_provisions: int, n_forums: int) -> tuple[list, int, int]:
    """The rows of the provisions and forums with the most treated cases (before any link is
    built), and how many provisions and forums have rows."""
    by_provision: dict[int, int] = defaultdict(int)
    by_forum: dict[int, int] = defaultdict(int)
    for provision_id, forum_id, _value, n in raw:
        by_provision[provision_id] += n
        by_forum[forum_id] += n
    provisions, forums = _top(by_provision, n_provisions), _top(by_forum, n_forums)
    kept = [r for r in raw if r[0] in provisions and r[1] in forums]
    return kept, len(by_provision), len(by_forum)


def provision_forum(
    user: Any, filters: CaseFilters, limit: tuple[int, int] | None = None
) -> ProvisionForumTable:
    """Which provisions succeed before which forums: per provision and forum, the cases whose
    proceeding there upheld / rejected / did not reach the provision (among cases invoking it).

    The page's provision and forum filters choose rows and columns; a right filter keeps the
    cases counting for the right before that forum. Unfiltered: stored totals plus the
    private cases the user may see; filtered: one GROUP BY query. limit: (provisions, forums)
    with the most cases only (total_provisions and total_forums say how many there are).
    """
    base_filters = _without(filters, "provision", "right", "result", "treatment")
    if not (base_filters.is_empty and not filters.right):
        if _on_facts(base_filters):
            raw = _provision_fact_rows(user, filters, base_filters)
        else:
            raw = _provision_forum_rows(user, filters, base_filters)
        if not limit:
            return _provision_table(filters, base_filters, raw)
        raw, n_provisions, n_forums = _busiest(raw, *limit)
        table = _provision_table(filters, base_filters, raw)
        table.total_provisions, table.total_forums = n_provisions, n_forums
        return table
    wanted = set(filters._ids.get("provision") or ())
    private = _sum([], facts.provision_select([_private(PF.case_id, user)]))
    stored = facts.stored_provision_sums(wanted or None)
    per_provision: dict[int, int] = defaultdict(int, stored[0])
    per_forum: dict[int, int] = defaultdict(int, stored[1])
    for (_view, _right, provision_id, forum_id), values in private.items():
        if values[0] and (not wanted or provision_id in wanted):
            per_provision[provision_id] += values[0]
            per_forum[forum_id] += values[0]
    provisions = _top(per_provision, limit[0]) if limit else None
    forums = _top(per_forum, limit[1]) if limit else None
    counts = facts.add_rows(
        private, facts.stored_totals(facts.TREATMENT_VIEWS.values(), cols=provisions, subs=forums)
    )
    raw = [
        (key[2], key[3], key[0].removeprefix("provision-"), values[0])
        for key, values in counts.items()
        if values[0]
        and (not wanted or key[2] in wanted)
        and (provisions is None or (key[2] in provisions and key[3] in forums))
    ]
    table = _provision_table(filters, base_filters, raw)
    table.total_provisions, table.total_forums = len(per_provision), len(per_forum)
    return table


def _provision_fact_rows(user: Any, filters: CaseFilters, base_filters: CaseFilters) -> list:
    """(provision, forum, treatment value, cases) for a page filtered on FACT_FILTERS, from
    pattern_provision_facts: a treatment in the window implies the case has a proceeding
    there, so only its visibility, jurisdiction and rights are looked up (in the facts; as
    _provision_forum_rows reads them from the data)."""
    if not getattr(user, "is_authenticated", False):
        return []
    where = [
        or_(PF.is_open.is_(True), _private(PF.case_id, user)),
        *proceeding_window(filters, PF.forum_id, PF.filed_on),
    ]
    if base_filters._ids.get("jurisdiction"):
        where.append(
            PF.case_id.in_(
                select(F.case_id).where(
                    F.proceeding_id == 0,
                    F.right_id == 0,
                    F.jurisdiction_id.in_(base_filters._ids["jurisdiction"]),
                )
            )
        )
    if filters._ids.get("provision"):
        where.append(PF.provision_id.in_(filters._ids["provision"]))
    if filters._ids.get("right"):
        # The case counts for a filtered right by a tag, or by a treatment before this
        # forum within the period.
        other = aliased(F, name="pat_right")
        period = []
        if filters.filed_from:
            period.append(other.filed_on >= filters.filed_from)
        if filters.filed_to:
            period.append(other.filed_on <= filters.filed_to)
        where.append(
            exists(
                select(other.case_id).where(
                    other.case_id == PF.case_id,
                    other.right_id.in_(filters._ids["right"]),
                    or_(
                        other.proceeding_id == 0,
                        and_(other.is_treat.is_(True), other.forum_id == PF.forum_id, *period),
                    ),
                )
            )
        )
    return [
        (provision_id, forum_id, view.removeprefix("provision-"), n)
        for view, _right, provision_id, forum_id, n, *_rest in db.session.execute(
            facts.provision_select(where)
        )
        if n
    ]


def _provision_forum_rows(user: Any, filters: CaseFilters, base_filters: CaseFilters) -> list:
    """(provision, forum, treatment value, cases) for a filtered page, from the data."""
    PT = ProceedingTreatment
    base_ids = _visible_ids(user, base_filters)
    conditions = proceeding_window(filters)
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
    return [(p, f, Treatment(t).value, n) for p, f, t, n in db.session.execute(stmt)]


def _provision_table(filters: CaseFilters, base_filters: CaseFilters, raw: list):
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
    links = _Links(base_filters)
    for provision_id, forum_id, value, n in raw:
        cells[(provision_id, forum_id)][value] = (
            n,
            links.lazy(
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
@cache
def centroids() -> dict[str, tuple[float, float]]:
    """ISO alpha-2 -> (lat, lon), approximate country centres (data/SOURCES.md)."""
    with (DATA_DIR / "centroids.csv").open(encoding="utf-8", newline="") as fh:
        return {row["iso2"]: (float(row["lat"]), float(row["lon"])) for row in csv.DictReader(fh)}


@cache
def world_paths() -> tuple[tuple[str, str], ...]:
    """Simplified country outlines as SVG path data in the map's coordinates (x=lon+180,
    y=90-lat), for a light background only; the numbers are in the circles and the table."""
    with (DATA_DIR / "world_paths.csv").open(encoding="utf-8", newline="") as fh:
        return tuple((row["iso2"], row["path"]) for row in csv.DictReader(fh))


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
    """Cases and cases won per jurisdiction of the case. Unfiltered (or on one right only):
    stored totals plus the private cases the user may see; otherwise two GROUP BY queries."""
    base_filters = _without(filters, "result", "treatment")
    right_ids = sorted(set(filters._ids.get("right") or ()))
    if _without(base_filters, "right").is_empty and len(right_ids) <= 1:
        private = _private(F.case_id, user)
        if right_ids:
            # One right: the cases counting for it and won on it, as in its matrix row.
            counts = _sum(
                facts.stored_totals(["jurisdiction"], right_ids),
                facts.matrix_select("jurisdiction", [private, F.right_id == right_ids[0]]),
            )
        else:
            counts = _sum(facts.stored_totals(["map"]), facts.map_select([private]))
        cases = {key[2]: v[0] for key, v in counts.items() if v[0]}
        wins = {key[2]: v[2] for key, v in counts.items() if v[2]}
    elif _on_facts(base_filters):
        stmt = facts.map_select(
            _case_set(user, base_filters), _fact_conditions(filters), right_ids or None
        )
        counts = _sum([], stmt)
        cases = {key[2]: v[0] for key, v in counts.items() if v[0]}
        wins = {key[2]: v[2] for key, v in counts.items() if v[2]}
    else:
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
    links = _Links(base_filters)
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
                links(jurisdiction=j.code),
                links(jurisdiction=j.code, result="won"),
            )
        )
    return sorted(points, key=lambda p: (-p.cases, p.code))
