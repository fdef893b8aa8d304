"""Read side of the cases area: the list with sort and facets, the case page, deadlines.

Every statement starts from case_filter(user): nothing the user may not see is listed,
counted or suggested. Facets are one GROUP BY per facet over the filtered id set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, distinct, extract, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from tracker.access import case_filter
from tracker.auth.models import Organisation, User
from tracker.cases.filters import CaseFilters, apply_filters
from tracker.cases.models import (
    Case,
    CaseLink,
    CaseMember,
    Event,
    Proceeding,
    case_rights,
)
from tracker.extensions import db
from tracker.taxonomy.models import Forum, Jurisdiction, Provision, Right

PER_PAGE = 25
DEADLINE_WINDOW_DAYS = 90

_first_filed = (
    select(func.min(Proceeding.filed_on))
    .where(Proceeding.case_id == Case.id)
    .correlate(Case)
    .scalar_subquery()
)

SORTS: dict[str, Any] = {
    "title": Case.title,
    "filed": _first_filed,
    "updated": Case.updated_at,
    "status": Case.status,
    "outcome": Case.outcome,
}
DEFAULT_SORT = "-updated"


def parse_sort(raw: str | None) -> str | None:
    """'title' / '-filed' ... or None when the value is not a known sort."""
    raw = (raw or DEFAULT_SORT).strip()
    return raw if raw.lstrip("-") in SORTS else None


def visible_cases(user: Any, filters: CaseFilters | None = None) -> Select:
    stmt = select(Case).where(case_filter(user))
    return apply_filters(stmt, filters) if filters is not None else stmt


def case_list(user: Any, filters: CaseFilters, sort: str, page: int):
    column = SORTS[sort.lstrip("-")]
    order = column.desc() if sort.startswith("-") else column.asc()
    stmt = (
        visible_cases(user, filters)
        .options(
            joinedload(Case.jurisdiction),
            joinedload(Case.lead_organisation),
            selectinload(Case.rights),
        )
        .order_by(order.nulls_last(), Case.id.desc())
    )
    pagination = db.paginate(stmt, page=page, per_page=PER_PAGE, error_out=False)
    ids = [c.id for c in pagination.items]
    filed = (
        dict(
            db.session.execute(
                select(Proceeding.case_id, func.min(Proceeding.filed_on))
                .where(Proceeding.case_id.in_(ids))
                .group_by(Proceeding.case_id)
            ).all()
        )
        if ids
        else {}
    )
    return pagination, filed


@dataclass(frozen=True)
class FacetValue:
    param: str  # the query parameter the value adds
    value: str
    label: str
    count: int
    extra: dict[str, str] | None = None  # for ranges (year -> filed_from/filed_to)


FACET_LIMIT = 12


def facets(user: Any, filters: CaseFilters) -> dict[str, list[FacetValue]]:
    """Counts of visible cases matching the filters, per facet value (one query per facet)."""
    ids = visible_cases(user, filters).with_only_columns(Case.id).subquery()
    in_ids = Case.id.in_(select(ids.c.id))
    out: dict[str, list[FacetValue]] = {}

    count = func.count(distinct(case_rights.c.case_id)).label("n")
    rows = db.session.execute(
        select(Right.code, Right.name, count)
        .join(case_rights, case_rights.c.right_id == Right.id)
        .where(case_rights.c.case_id.in_(select(ids.c.id)))
        .group_by(Right.code, Right.name)
        .order_by(count.desc(), Right.name)
        .limit(FACET_LIMIT)
    ).all()
    out["right"] = [FacetValue("right", c, n, k) for c, n, k in rows]

    count = func.count(Case.id).label("n")
    rows = db.session.execute(
        select(Jurisdiction.code, Jurisdiction.name, count)
        .join(Case, Case.jurisdiction_id == Jurisdiction.id)
        .where(in_ids)
        .group_by(Jurisdiction.code, Jurisdiction.name)
        .order_by(count.desc(), Jurisdiction.name)
        .limit(FACET_LIMIT)
    ).all()
    out["jurisdiction"] = [FacetValue("jurisdiction", c, n, k) for c, n, k in rows]

    count = func.count(distinct(Proceeding.case_id)).label("n")
    rows = db.session.execute(
        select(Forum.code, Forum.name, count)
        .join(Proceeding, Proceeding.forum_id == Forum.id)
        .where(Proceeding.case_id.in_(select(ids.c.id)))
        .group_by(Forum.code, Forum.name)
        .order_by(count.desc(), Forum.name)
        .limit(FACET_LIMIT)
    ).all()
    out["forum"] = [FacetValue("forum", c, n, k) for c, n, k in rows]

    for name, column in (("status", Case.status), ("outcome", Case.outcome)):
        count = func.count(Case.id).label("n")
        rows = db.session.execute(
            select(column, count).where(in_ids).group_by(column).order_by(count.desc())
        ).all()
        out[name] = [FacetValue(name, v.value, v.value, k) for v, k in rows]

    year = extract("year", Proceeding.filed_on)
    count = func.count(distinct(Proceeding.case_id)).label("n")
    rows = db.session.execute(
        select(year.label("y"), count)
        .where(Proceeding.case_id.in_(select(ids.c.id)), Proceeding.filed_on.is_not(None))
        .group_by(year)
        .order_by(year.desc())
        .limit(FACET_LIMIT)
    ).all()
    out["year"] = [
        FacetValue(
            "year",
            str(int(y)),
            str(int(y)),
            k,
            {"filed_from": f"{int(y):04d}-01-01", "filed_to": f"{int(y):04d}-12-31"},
        )
        for y, k in rows
    ]
    return out


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
