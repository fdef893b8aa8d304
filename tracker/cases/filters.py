"""The case filters of DESIGN.md, parsed once from query parameters and applied to any query.

Every list, facet count, export, pattern and API call takes the same parameters (q, right,
provision, instrument, jurisdiction, forum, status, outcome, filed_from, filed_to,
organisation), so every view can be bookmarked and exported. Multi-valued parameters repeat
(`?right=liberty&right=health`) or use `;` (`?right=liberty;health`).

A right matches its children, the provisions that the crosswalk maps to it, and treatments of
either recorded in a proceeding (the counting rule of tracker/patterns/rules.py). Two
proceeding-level parameters let the patterns pages link every number to the cases behind it:
`result` (won | lost | decided: a proceeding within the forum/period filters with that result,
"won" meaning won on the filtered right) and `treatment` (upheld | rejected | not_reached: a
proceeding that treated the filtered provision, or else right, so).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, or_, select
from werkzeug.datastructures import MultiDict

from tracker.cases.models import (
    Case,
    Outcome,
    Proceeding,
    Status,
    Treatment,
    case_partners,
    case_provisions,
)
from tracker.extensions import db
from tracker.taxonomy.models import Forum, Instrument, Jurisdiction, Provision, Right

MULTI = (
    "right",
    "provision",
    "instrument",
    "jurisdiction",
    "forum",
    "status",
    "outcome",
    "organisation",
)


class FilterError(ValueError):
    """A bad filter value; .errors maps parameter -> message (shown as a 400 / form error)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class CaseFilters:
    q: str = ""
    right: tuple[str, ...] = ()
    provision: tuple[str, ...] = ()
    instrument: tuple[str, ...] = ()
    jurisdiction: tuple[str, ...] = ()
    forum: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    outcome: tuple[str, ...] = ()
    organisation: tuple[str, ...] = ()  # organisation ids, lead or partner
    filed_from: date | None = None
    filed_to: date | None = None
    result: str = ""  # won | lost | decided (proceeding level; see tracker/patterns/rules.py)
    treatment: str = ""  # upheld | rejected | not_reached (proceeding level)
    # Resolved ids, filled by parse() after checking every code exists.
    _ids: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self) if not f.name.startswith("_"))

    def to_args(self) -> MultiDict:
        """Back to query parameters (for links, pagination, export URLs)."""
        args: MultiDict = MultiDict()
        if self.q:
            args.add("q", self.q)
        for name in MULTI:
            for value in getattr(self, name):
                args.add(name, value)
        if self.filed_from:
            args.add("filed_from", self.filed_from.isoformat())
        if self.filed_to:
            args.add("filed_to", self.filed_to.isoformat())
        if self.result:
            args.add("result", self.result)
        if self.treatment:
            args.add("treatment", self.treatment)
        return args

    def with_values(self, **changes: Any) -> CaseFilters:
        """A copy with some parameters replaced (ids are re-resolved by parse())."""
        args = self.to_args()
        for key, value in changes.items():
            args.setlist(key, [value] if isinstance(value, str) else list(value))
        return parse_filters(args)


def _split(values: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        out.extend(part.strip() for part in value.split(";") if part.strip())
    return tuple(dict.fromkeys(out))  # de-duplicated, order kept


def _date(name: str, raw: str | None, errors: dict[str, str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors[name] = str(_l("Use a date like 2024-03-31."))
        return None


def _resolve(model, column, codes: tuple[str, ...], name: str, errors: dict[str, str]):
    if not codes:
        return ()
    rows = db.session.execute(select(column, model.id).where(column.in_(codes))).all()
    found = {str(code): ident for code, ident in rows}
    unknown = [c for c in codes if c not in found]
    if unknown:
        errors[name] = str(_l("Unknown code: %(codes)s", codes=", ".join(unknown)))
    return tuple(found[c] for c in codes if c in found)


def parse_filters(args: MultiDict | dict[str, Any]) -> CaseFilters:
    """Parse and validate query parameters. Raises FilterError naming each bad parameter."""
    if not isinstance(args, MultiDict):
        args = MultiDict(
            [
                (k, v)
                for k, vs in args.items()
                for v in (vs if isinstance(vs, list | tuple) else [vs])
            ]
        )
    errors: dict[str, str] = {}
    # PostgreSQL refuses NUL in text parameters (a DataError, i.e. a 500): refuse it here.
    for name in (*MULTI, "q", "filed_from", "filed_to"):
        if any("\x00" in v for v in args.getlist(name)):
            errors[name] = str(_l("This value contains a character that is not allowed."))
            args = MultiDict([(k, v) for k, v in args.items(multi=True) if k != name])
    values: dict[str, Any] = {name: _split(args.getlist(name)) for name in MULTI}
    q = (args.get("q") or "").strip()
    if len(q) > 200:
        errors["q"] = str(_l("The search text is too long (200 characters at most)."))
    for name, enum_cls in (("status", Status), ("outcome", Outcome)):
        allowed = {m.value for m in enum_cls}
        bad = [v for v in values[name] if v not in allowed]
        if bad:
            errors[name] = str(_l("Unknown value: %(values)s", values=", ".join(bad)))
    bad_orgs = [v for v in values["organisation"] if not v.isdigit() or len(v) > 9]
    if bad_orgs:
        errors["organisation"] = str(_l("Organisations are given by number."))
    filed_from = _date("filed_from", args.get("filed_from"), errors)
    filed_to = _date("filed_to", args.get("filed_to"), errors)
    if filed_from and filed_to and filed_from > filed_to:
        errors["filed_to"] = str(_l("The end date is before the start date."))
    from tracker.patterns.rules import RESULTS

    result = (args.get("result") or "").strip()
    if result and result not in RESULTS:
        errors["result"] = str(_l("Unknown value: %(values)s", values=result))
    treatment = (args.get("treatment") or "").strip()
    if treatment and treatment not in {t.value for t in Treatment}:
        errors["treatment"] = str(_l("Unknown value: %(values)s", values=treatment))

    ids = {
        "right": _resolve(Right, Right.code, values["right"], "right", errors),
        "provision": _resolve(Provision, Provision.code, values["provision"], "provision", errors),
        "instrument": _resolve(
            Instrument, Instrument.code, values["instrument"], "instrument", errors
        ),
        "jurisdiction": _resolve(
            Jurisdiction, Jurisdiction.code, values["jurisdiction"], "jurisdiction", errors
        ),
        "forum": _resolve(Forum, Forum.code, values["forum"], "forum", errors),
    }
    if errors:
        raise FilterError(errors)
    return CaseFilters(
        q=q,
        filed_from=filed_from,
        filed_to=filed_to,
        result=result,
        treatment=treatment,
        _ids=ids,
        **values,
    )


def _rights_with_descendants(right_ids: tuple[int, ...]) -> set[int]:
    """A filter on a parent right also matches its children (one level of hierarchy today)."""
    children = db.session.scalars(select(Right.id).where(Right.parent_id.in_(right_ids))).all()
    return set(right_ids) | set(children)


def proceeding_window(filters: CaseFilters, forum_id: Any = None, filed_on: Any = None) -> list:
    """Over Proceeding: the forum and period filters. They select proceedings, and a right's
    treatments are looked for among them (the list's rights facet, the patterns and the
    report use the same window). forum_id / filed_on: the same columns of another table
    (e.g. the patterns' facts)."""
    forum_id = Proceeding.forum_id if forum_id is None else forum_id
    filed_on = Proceeding.filed_on if filed_on is None else filed_on
    conditions = []
    if filters._ids.get("forum"):
        conditions.append(forum_id.in_(filters._ids["forum"]))
    if filters.filed_from:
        conditions.append(filed_on >= filters.filed_from)
    if filters.filed_to:
        conditions.append(filed_on <= filters.filed_to)
    return conditions


def filter_clauses(filters: CaseFilters) -> list:
    """WHERE clauses over Case for the filters (text search excluded: see apply_filters)."""
    from tracker.patterns import rules

    ids = filters._ids
    clauses: list = []
    proceeding_conditions = proceeding_window(filters)
    families: list[set[int]] = []
    if ids.get("right"):
        families = [_rights_with_descendants((right_id,)) for right_id in ids["right"]]
        right_ids = set().union(*families)
        clauses.append(rules.case_counts_for(right_ids, proceeding_conditions))
    if ids.get("provision"):
        clauses.append(
            exists(
                select(case_provisions.c.case_id).where(
                    case_provisions.c.case_id == Case.id,
                    case_provisions.c.provision_id.in_(ids["provision"]),
                )
            )
        )
    if ids.get("instrument"):
        clauses.append(
            exists(
                select(case_provisions.c.case_id)
                .join(Provision, Provision.id == case_provisions.c.provision_id)
                .where(
                    case_provisions.c.case_id == Case.id,
                    Provision.instrument_id.in_(ids["instrument"]),
                )
            )
        )
    if ids.get("jurisdiction"):
        clauses.append(Case.jurisdiction_id.in_(ids["jurisdiction"]))
    if filters.status:
        clauses.append(Case.status.in_([Status(s) for s in filters.status]))
    if filters.outcome:
        clauses.append(Case.outcome.in_([Outcome(o) for o in filters.outcome]))
    if filters.organisation:
        org_ids = [int(o) for o in filters.organisation]
        clauses.append(
            or_(
                Case.lead_organisation_id.in_(org_ids),
                exists(
                    select(case_partners.c.case_id).where(
                        case_partners.c.case_id == Case.id,
                        case_partners.c.organisation_id.in_(org_ids),
                    )
                ),
            )
        )
    if filters.result:
        proceeding_conditions.append(rules.proceeding_result(filters.result, families))
    if filters.treatment:
        proceeding_conditions.append(
            rules.proceeding_treatment(
                Treatment(filters.treatment),
                provision_ids=ids.get("provision", ()),
                right_ids={r for f in families for r in f},
            )
        )
    if proceeding_conditions:
        clauses.append(
            exists(
                select(Proceeding.id).where(Proceeding.case_id == Case.id, *proceeding_conditions)
            )
        )
    return clauses


def text_clause(q: str):
    """Plain substring match; the search area replaces it with FTS when it is present."""
    try:
        from tracker.search.services import case_text_clause
    except ImportError:  # pragma: no cover - before the search area lands
        pattern = f"%{q}%"
        return or_(Case.title.ilike(pattern), Case.summary.ilike(pattern))
    return case_text_clause(q)


def apply_filters(stmt: Select, filters: CaseFilters) -> Select:
    """Add the filters' WHERE clauses to a statement that selects from Case."""
    clauses = filter_clauses(filters)
    if filters.q:
        clauses.append(text_clause(filters.q))
    return stmt.where(and_(*clauses)) if clauses else stmt
