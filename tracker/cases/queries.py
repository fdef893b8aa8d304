"""Read side of the cases area: the list with sort and facets, the case page, deadlines.

Every statement starts from case_filter(user): nothing the user may not see is listed,
counted or suggested. The total and the facets are one statement over the matching set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    cast,
    distinct,
    extract,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import joinedload, selectinload

from tracker.access import case_filter
from tracker.auth.models import Organisation, User
from tracker.cases.filters import CaseFilters, apply_filters, proceeding_window
from tracker.cases.models import (
    Case,
    CaseLink,
    CaseMember,
    Event,
    Outcome,
    Proceeding,
    Status,
)
from tracker.extensions import db
from tracker.patterns import facts as pattern_facts
from tracker.patterns.models import PatternFact, PatternTotal
from tracker.taxonomy.models import Forum, Jurisdiction, Provision, Right

PER_PAGE = 25
DEADLINE_WINDOW_DAYS = 90

_first_filed = (
    select(func.min(Proceeding.filed_on))
    .where(Proceeding.case_id == Case.id)
    .correlate(Case)
    .scalar_subquery()
)

# column, nullable. Non-null columns are ordered without NULLS LAST, so that the indexes on
# (column, id) serve the sort in either direction on both databases.
SORTS: dict[str, tuple[Any, bool]] = {
    "title": (Case.title, False),
    "filed": (_first_filed, True),
    "updated": (Case.updated_at, False),
    "status": (Case.status, False),
    "outcome": (Case.outcome, False),
}
DEFAULT_SORT = "-updated"


def parse_sort(raw: str | None) -> str | None:
    """'title' / '-filed' ... or None when the value is not a known sort."""
    raw = (raw or DEFAULT_SORT).strip()
    return raw if raw.lstrip("-") in SORTS else None


def visible_cases(user: Any, filters: CaseFilters | None = None) -> Select:
    stmt = select(Case).where(case_filter(user))
    return apply_filters(stmt, filters) if filters is not None else stmt


def _order_by(sort: str, reverse: bool = False) -> list:
    column, nullable = SORTS[sort.lstrip("-")]
    descending = sort.startswith("-") != reverse
    order = column.desc() if descending else column.asc()
    if nullable:  # NULLs last in the list's own order, so first when it is read backwards
        order = order.nulls_first() if reverse else order.nulls_last()
    return [order, Case.id.asc() if reverse else Case.id.desc()]


@dataclass
class CasePage:
    """One page of the list (the attributes of Flask-SQLAlchemy's Pagination the views use)."""

    items: list[Case]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page)) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def _page_ids(user: Any, filters: CaseFilters, sort: str, page: int, total: int) -> list[int]:
    """The ids of one page. A page in the second half is read from the end (a shorter OFFSET
    over the same index, in the opposite direction), then put back in order."""
    offset = (page - 1) * PER_PAGE
    if offset >= total:
        return []
    stmt = visible_cases(user, filters).with_only_columns(Case.id)
    from_end = total - offset - PER_PAGE  # rows after this page, in the list's order
    if offset > from_end:
        limit = PER_PAGE + min(from_end, 0)
        ids = db.session.scalars(
            stmt.order_by(*_order_by(sort, reverse=True)).limit(limit).offset(max(from_end, 0))
        ).all()
        return list(reversed(ids))
    return list(db.session.scalars(stmt.order_by(*_order_by(sort)).limit(PER_PAGE).offset(offset)))


def case_list(user: Any, filters: CaseFilters, sort: str, page: int):
    """(page, first filing date per listed case, facets): three statements plus eager loads."""
    total, facet_values = list_summary(user, filters)
    ids = _page_ids(user, filters, sort, page, total) if total else []
    items: list[Case] = []
    filed: dict[int, Any] = {}
    if ids:
        rows = {
            c.id: c
            for c in db.session.scalars(
                select(Case)
                .where(Case.id.in_(ids))
                .options(
                    joinedload(Case.jurisdiction),
                    joinedload(Case.lead_organisation),
                    selectinload(Case.rights),
                )
            )
        }
        items = [rows[i] for i in ids if i in rows]
        filed = dict(
            db.session.execute(
                select(Proceeding.case_id, func.min(Proceeding.filed_on))
                .where(Proceeding.case_id.in_(ids))
                .group_by(Proceeding.case_id)
            ).all()
        )
    return CasePage(items, page, PER_PAGE, total), filed, facet_values


@dataclass(frozen=True)
class FacetValue:
    param: str  # the query parameter the value adds
    value: str
    label: str
    count: int
    extra: dict[str, str] | None = None  # for ranges (year -> filed_from/filed_to)


FACET_LIMIT = 12
FACET_KEYS = ("right", "jurisdiction", "forum", "status", "outcome", "year")


def _lit(text: str):
    # A constant of this module, never input: the facet's name in the UNION below.
    return literal_column(f"'{text}'", String)


def _of_matching(stmt: Select, case_id, m) -> Select:
    """Restrict a statement over the facts to the rows of the matching cases (m): "IN (SELECT
    id FROM m)", which both databases drive from m through the facts' primary key (case_id
    first). With a join, PostgreSQL planned from m's row estimate and hashed every fact when
    the viewer's few private cases (the unfiltered list) were estimated at 10,000.
    """
    return stmt.where(case_id.in_(select(m.c.id)))


def _open_totals() -> list[Select]:
    """The unfiltered list's counts over the public and network cases (which every member
    sees), from the totals kept exact on every commit (tracker/patterns/facts.py): in the
    layout of list_summary's branches. A right's count is the sum of its jurisdiction cells
    (a case has one jurisdiction), the total that of the map's."""
    t = PatternTotal
    none = cast(null(), String)
    return [
        select(_lit("total"), none, none, func.coalesce(func.sum(t.cases), 0)).where(
            t.view == "map"
        ),
        select(_lit("right"), Right.code, Right.name, func.sum(t.cases))
        .join(Right, Right.id == t.right_id)
        .where(t.view == "jurisdiction")
        .group_by(Right.code, Right.name),
        select(_lit("jurisdiction"), Jurisdiction.code, Jurisdiction.name, t.cases)
        .join(Jurisdiction, Jurisdiction.id == t.col)
        .where(t.view == "map"),
        select(_lit("forum"), Forum.code, Forum.name, t.cases)
        .join(Forum, Forum.id == t.col)
        .where(t.view == pattern_facts.LIST_FORUM_VIEW),
        *(
            select(_lit(name), func.substr(t.view, len(name) + 2), none, t.cases).where(
                t.view.in_([f"{name}-{v.value}" for v in values])
            )
            for name, values in (("status", Status), ("outcome", Outcome))
        ),
        select(_lit("year"), cast(t.col, String), none, t.cases).where(
            t.view == "year", t.right_id == 0
        ),
    ]


def list_summary(user: Any, filters: CaseFilters) -> tuple[int, dict[str, list[FacetValue]]]:
    """The number of visible cases matching the filters and their facet counts, in ONE
    statement over the matching set, materialised once (a CTE) and grouped per facet.

    Unfiltered, the matching set would be the whole docket: the public and network cases
    are then counted from maintained totals (_open_totals), and only the organisation and
    restricted cases this viewer may see are counted here; the two sets are disjoint, so the
    counts add up.
    """
    from_totals = filters.is_empty
    m = (
        apply_filters(
            select(Case.id, Case.jurisdiction_id, Case.status, Case.outcome).where(
                case_filter(user, open_levels=not from_totals)
            ),
            filters,
        )
        .cte("m")
        .prefix_with("MATERIALIZED")
    )
    n = func.count().label("n")
    f = PatternFact
    distinct_cases = func.count(distinct(f.case_id))
    none = cast(null(), String)
    # The rights, forums and years of the matching cases, from their facts (one index range
    # per case; tracker/patterns/facts.py keeps them exact): a case counts for a right family
    # by its tags and crosswalked provisions (row (case, 0, R)) or by a treatment in a
    # proceeding within the forum/period filters (the rule of the `right` filter, so a
    # facet's count is the length of its list); every proceeding has a row (case, p, 0).
    window = proceeding_window(filters, f.forum_id, f.filed_on)
    per_family = (
        _of_matching(
            select(f.right_id, distinct_cases.label("n")).where(
                f.right_id != 0, or_(f.proceeding_id == 0, and_(f.is_treat, *window))
            ),
            f.case_id,
            m,
        )
        .group_by(f.right_id)
        .subquery("per_family")
    )
    proceedings = (f.right_id == 0, f.proceeding_id != 0)
    year = cast(extract("year", f.filed_on), Integer)
    branches = [
        select(_lit("total"), none, none, n).select_from(m),
        select(_lit("right"), Right.code, Right.name, per_family.c.n)
        .select_from(per_family)
        .join(Right, Right.id == per_family.c.right_id),
        select(_lit("jurisdiction"), Jurisdiction.code, Jurisdiction.name, n)
        .select_from(m)
        .join(Jurisdiction, Jurisdiction.id == m.c.jurisdiction_id)
        .group_by(Jurisdiction.code, Jurisdiction.name),
        _of_matching(
            select(_lit("forum"), Forum.code, Forum.name, distinct_cases)
            .select_from(f)
            .join(Forum, Forum.id == f.forum_id)
            .where(*proceedings),
            f.case_id,
            m,
        ).group_by(Forum.code, Forum.name),
        select(_lit("status"), cast(m.c.status, String), none, n)
        .select_from(m)
        .group_by(m.c.status),
        select(_lit("outcome"), cast(m.c.outcome, String), none, n)
        .select_from(m)
        .group_by(m.c.outcome),
        _of_matching(
            select(_lit("year"), cast(year, String), none, distinct_cases).where(
                *proceedings, f.filed_on.is_not(None)
            ),
            f.case_id,
            m,
        ).group_by(year),
    ]
    if from_totals:
        branches += _open_totals()
    summed: dict[tuple[str, str], list] = {}  # (facet, code) -> [label, count]
    total = 0
    for facet, code, name, count in db.session.execute(union_all(*branches)).all():
        if facet == "total":
            total += count
        elif count:
            slot = summed.setdefault((facet, code), [name or code, 0])
            slot[1] += count
    if not total:
        return 0, {}
    grouped: dict[str, list[tuple[str, str, int]]] = {}
    for (facet, code), (label, count) in summed.items():
        grouped.setdefault(facet, []).append((code, label, count))
    out: dict[str, list[FacetValue]] = {}
    for facet in ("right", "jurisdiction", "forum"):
        rows = sorted(grouped.get(facet, []), key=lambda r: (-r[2], r[1], r[0]))
        out[facet] = [FacetValue(facet, c, k, v) for c, k, v in rows[:FACET_LIMIT]]
    for facet, enum_cls in (("status", Status), ("outcome", Outcome)):
        rows = sorted(grouped.get(facet, []), key=lambda r: (-r[2], r[0]))
        out[facet] = [
            FacetValue(facet, enum_cls(c).value, enum_cls(c).value, v) for c, _k, v in rows
        ]
    years = sorted(grouped.get("year", []), key=lambda r: -int(r[0]))[:FACET_LIMIT]
    out["year"] = [
        FacetValue(
            "year",
            str(int(y)),
            str(int(y)),
            v,
            {"filed_from": f"{int(y):04d}-01-01", "filed_to": f"{int(y):04d}-12-31"},
        )
        for y, _k, v in years
    ]
    return total, out


def facets(user: Any, filters: CaseFilters) -> dict[str, list[FacetValue]]:
    """Counts of visible cases matching the filters, per facet value."""
    return list_summary(user, filters)[1]


def load_case_page(user: Any, case_id: int) -> Case | None:
    """The case with everything its page shows, in a fixed number of queries."""
    return db.session.scalar(
        select(Case)
        .where(Case.id == case_id, case_filter(user))
        .options(
            joinedload(Case.jurisdiction),
            joinedload(Case.lead_organisation),
            selectinload(Case.partners),
            selectinload(Case.rights).joinedload(Right.parent),
            selectinload(Case.provisions).joinedload(Provision.instrument),
            selectinload(Case.team).joinedload(CaseMember.user).joinedload(User.organisation),
            selectinload(Case.proceedings).options(
                joinedload(Proceeding.forum).joinedload(Forum.jurisdiction),
                selectinload(Proceeding.treatments),
                selectinload(Proceeding.implementations),
            ),
            selectinload(Case.parties),
            selectinload(Case.events),
        )
    )


def load_case(user: Any, case_id: int) -> Case | None:
    return db.session.scalar(select(Case).where(Case.id == case_id, case_filter(user)))


def case_links(user: Any, case: Case) -> tuple[list[CaseLink], list[CaseLink]]:
    """Outgoing and incoming links whose other end the user may see."""
    outgoing = list(
        db.session.scalars(
            select(CaseLink)
            .join(Case, Case.id == CaseLink.target_case_id)
            .where(CaseLink.source_case_id == case.id, case_filter(user))
            .options(joinedload(CaseLink.target_case))
            .order_by(CaseLink.created_at)
        )
    )
    incoming = list(
        db.session.scalars(
            select(CaseLink)
            .join(Case, Case.id == CaseLink.source_case_id)
            .where(CaseLink.target_case_id == case.id, case_filter(user))
            .options(joinedload(CaseLink.source_case))
            .order_by(CaseLink.created_at)
        )
    )
    return outgoing, incoming


def upcoming_deadlines(user: Any, today: date | None = None) -> list[Event]:
    """Open deadlines (confirmed or proposed) due within 90 days or overdue, of the user's
    cases: those they are on the team of, or that their organisation leads."""
    today = today or date.today()
    on_team = select(CaseMember.case_id).where(CaseMember.user_id == user.id)
    return list(
        db.session.scalars(
            select(Event)
            .join(Case, Case.id == Event.case_id)
            .where(
                case_filter(user),
                or_(Case.lead_organisation_id == user.organisation_id, Case.id.in_(on_team)),
                Event.is_deadline.is_(True),
                Event.completed_at.is_(None),
                Event.occurred_on <= today + timedelta(days=DEADLINE_WINDOW_DAYS),
            )
            .options(joinedload(Event.case))
            .order_by(Event.occurred_on, Event.id)
        )
    )


def search_visible_cases(user: Any, q: str, limit: int = 20) -> list[Case]:
    stmt = (
        select(Case)
        .where(case_filter(user))
        .options(joinedload(Case.jurisdiction))
        .order_by(Case.updated_at.desc())
        .limit(limit)
    )
    q = q.strip()
    if q.isdigit():
        stmt = stmt.where(Case.id == int(q))
    elif q:
        pattern = f"%{q}%"
        stmt = stmt.where(or_(Case.title.ilike(pattern), Case.reference.ilike(pattern)))
    return list(db.session.scalars(stmt))


def organisation_choices(user: Any) -> list[tuple[int, str]]:
    orgs = db.session.scalars(
        select(Organisation).where(Organisation.is_active.is_(True)).order_by(Organisation.name)
    )
    return [(o.id, o.name) for o in orgs]


def team_choices(org_ids: set[int]) -> dict[str, list[tuple[int, str]]]:
    """Active users of the given organisations, grouped by organisation (for <optgroup>)."""
    rows = db.session.execute(
        select(User.id, User.name, Organisation.name)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(User.organisation_id.in_(org_ids), User.disabled_at.is_(None))
        .order_by(Organisation.name, User.name)
    ).all()
    grouped: dict[str, list[tuple[int, str]]] = {}
    for uid, name, org in rows:
        grouped.setdefault(org, []).append((uid, name))
    return grouped


def labels_for(kind: str, codes: list[str]) -> list[dict[str, str]]:
    """{code, label} for codes of a picker field, to show the chosen values as chips."""
    if not codes:
        return []
    if kind == "rights":
        rows = {
            r.code: r.name for r in db.session.scalars(select(Right).where(Right.code.in_(codes)))
        }
    elif kind == "provisions":
        rows = {
            p.code: f"{p.instrument.short_title} {p.number} — {p.title}"
            for p in db.session.scalars(
                select(Provision)
                .where(Provision.code.in_(codes))
                .options(joinedload(Provision.instrument))
            )
        }
    elif kind == "jurisdictions":
        rows = {
            j.code: j.name
            for j in db.session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(codes)))
        }
    elif kind == "forums":
        rows = {
            f.code: f.name for f in db.session.scalars(select(Forum).where(Forum.code.in_(codes)))
        }
    else:
        rows = {}
    return [{"code": c, "label": rows.get(c, c)} for c in codes]
