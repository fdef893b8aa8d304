"""Derived data of the patterns page: per-case facts and the totals of the unfiltered page.

* pattern_facts / pattern_provision_facts (tracker/patterns/models.py): what the page groups
  by, one row per (case, proceeding, right family) and per treated provision, by the counting
  rule of tracker/patterns/rules.py. Any filtered page counts from these rows.
* pattern_totals: the numbers of the unfiltered page (every matrix view, the time series, the
  map, provisions x forums) over public and network cases only, the same for every member.
  The page adds the organisation and restricted cases the user may see (case_filter) on the
  fly, from their facts: a case the user may not see changes no number.

Kept exact on every commit: the session hooks of tracker.patterns.services hand the ids of
the cases changed in the transaction (deleted ones included) to refresh_cases(), which
subtracts those cases' old contribution to the totals, rewrites their facts and adds the new
contribution (numbers are distinct cases, so one case's share of a cell is 0 or 1). Edits of
the crosswalk or the rights tree (tracker.taxonomy.services) call rebuild(). Bulk writers
that bypass the session (Core inserts) call services.cases_changed(ids) or run
`tracker patterns rebuild` after.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    distinct,
    extract,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.sql.util import ClauseAdapter

from tracker import access
from tracker.cases.models import (
    Case,
    Proceeding,
    ProceedingTreatment,
    Treatment,
    case_provisions,
    case_rights,
)
from tracker.extensions import db
from tracker.patterns import case_sets, rules
from tracker.patterns.models import PatternFact, PatternProvisionFact, PatternTotal
from tracker.taxonomy.models import Forum, Jurisdiction, JurisdictionKind, Right, provision_rights

F = PatternFact
PF = PatternProvisionFact
T = PatternTotal
PT = ProceedingTreatment
OPEN_LEVELS = access.OPEN_LEVELS
NO_SYNC = {"synchronize_session": False}
MATRIX_VIEWS = ("jurisdiction", "forum", "system")
TREATMENT_VIEWS = {t.value: f"provision-{t.value}" for t in Treatment}

FACT_COLUMNS = (
    "case_id",
    "proceeding_id",
    "right_id",
    "jurisdiction_id",
    "is_open",
    "forum_id",
    "system_id",
    "filed_on",
    "is_treat",
    "decided",
    "won",
    "lost",
)
# Added by revision lst1 (the case list's totals): FACT_COLUMNS without them is what
# revision pat1 created and filled.
STATUS_COLUMNS = ("status", "outcome")
FACT_COLUMNS = (*FACT_COLUMNS, *STATUS_COLUMNS)
PROVISION_COLUMNS = (
    "case_id",
    "proceeding_id",
    "provision_id",
    "treatment",
    "forum_id",
    "filed_on",
    "is_open",
)
TOTAL_COLUMNS = ("view", "right_id", "col", "sub", "cases", "decided", "wins", "losses")
COUNTS = ("cases", "decided", "wins", "losses")


# --- the facts, as SQL ---------------------------------------------------------------------
def _family(name: str):
    """(family_id, member_id): each right stands for itself and its parent (two levels)."""
    own = select(Right.id.label("family_id"), Right.id.label("member_id"))
    parent = select(Right.parent_id.label("family_id"), Right.id.label("member_id")).where(
        Right.parent_id.is_not(None)
    )
    return union_all(own, parent).subquery(name)


def _only(column, case_ids) -> list:
    return [] if case_ids is None else [column.in_(case_ids)]


def _treatments_of(case_ids) -> list:
    """Over ProceedingTreatment: of these cases' proceedings (PostgreSQL otherwise scans every
    treatment to find the few of one case)."""
    if case_ids is None:
        return []
    return [PT.proceeding_id.in_(select(Proceeding.id).where(Proceeding.case_id.in_(case_ids)))]


def _bool(value: bool):
    return literal(value, Boolean)


def _system_of_forum():
    """(forum_id, system_id): the regional system a forum belongs to (0 when national)."""
    return (
        select(
            Forum.id.label("forum_id"),
            case(
                (Jurisdiction.kind == JurisdictionKind.SYSTEM, Forum.jurisdiction_id), else_=0
            ).label("system_id"),
        )
        .join(Jurisdiction, Jurisdiction.id == Forum.jurisdiction_id)
        .subquery("pat_forum_system")
    )


# Status and outcome are kept on the case's (case, 0, 0) row only.
_NO_STATUS = (cast(null(), String), cast(null(), String))


def fact_rows_select(case_ids=None, *, with_status: bool = True):
    """Rows of pattern_facts for these cases (all when None), in FACT_COLUMNS order
    (without STATUS_COLUMNS when not with_status)."""
    is_open = Case.confidentiality.in_(OPEN_LEVELS)
    status = (cast(Case.status, String), cast(Case.outcome, String))
    no_status = _NO_STATUS
    if not with_status:
        status = no_status = ()
    # (case, 0, 0): every case.
    case_any = select(
        Case.id,
        literal(0),
        literal(0),
        Case.jurisdiction_id,
        is_open,
        literal(0),
        literal(0),
        cast(null(), Proceeding.filed_on.type),
        _bool(False),
        _bool(False),
        _bool(False),
        _bool(False),
        *status,
    ).where(*_only(Case.id, case_ids))

    # (case, right family) from tags and crosswalked provisions.
    f1, f2 = _family("pat_f1"), _family("pat_f2")
    tags = union_all(
        select(case_rights.c.case_id, f1.c.family_id.label("right_id"))
        .join(f1, f1.c.member_id == case_rights.c.right_id)
        .where(*_only(case_rights.c.case_id, case_ids)),
        select(case_provisions.c.case_id, f2.c.family_id)
        .join(provision_rights, provision_rights.c.provision_id == case_provisions.c.provision_id)
        .join(f2, f2.c.member_id == provision_rights.c.right_id)
        .where(*_only(case_provisions.c.case_id, case_ids)),
    ).subquery("pat_tags")
    cp = select(tags.c.case_id, tags.c.right_id).distinct().subquery("pat_cp")
    case_right = select(
        cp.c.case_id,
        literal(0),
        cp.c.right_id,
        Case.jurisdiction_id,
        is_open,
        literal(0),
        literal(0),
        cast(null(), Proceeding.filed_on.type),
        _bool(False),
        _bool(False),
        _bool(False),
        _bool(False),
        *no_status,
    ).join(Case, Case.id == cp.c.case_id)
    case_right = case_right.where(*_only(Case.id, case_ids))

    fs = _system_of_forum()
    # (case, proceeding, 0): every proceeding, its outcome whatever the rights.
    proceeding_any = (
        select(
            Proceeding.case_id,
            Proceeding.id,
            literal(0),
            Case.jurisdiction_id,
            is_open,
            Proceeding.forum_id,
            fs.c.system_id,
            Proceeding.filed_on,
            _bool(False),
            Proceeding.outcome.in_(rules.DECIDED_OUTCOMES),
            Proceeding.outcome.in_(rules.WIN_OUTCOMES),
            Proceeding.outcome.in_(rules.LOST_OUTCOMES),
            *no_status,
        )
        .join(Case, Case.id == Proceeding.case_id)
        .join(fs, fs.c.forum_id == Proceeding.forum_id)
        .where(*_only(Proceeding.case_id, case_ids))
    )

    # (case, proceeding, right family): the flags of the counting rule, as in rules.py.
    f3, f4 = _family("pat_f3"), _family("pat_f4")
    upheld = case((PT.treatment == Treatment.UPHELD, 1), else_=0)
    raw = union_all(
        select(
            Proceeding.id.label("pid"),
            cp.c.right_id.label("right_id"),
            literal(1).label("tag"),
            literal(0).label("treat"),
            literal(0).label("up"),
        )
        .join(cp, cp.c.case_id == Proceeding.case_id)
        .where(*_only(Proceeding.case_id, case_ids)),
        select(Proceeding.id, f3.c.family_id, literal(0), literal(1), upheld)
        .join(PT, PT.proceeding_id == Proceeding.id)
        .join(f3, f3.c.member_id == PT.right_id)
        .where(*_only(Proceeding.case_id, case_ids), *_treatments_of(case_ids)),
        select(Proceeding.id, f4.c.family_id, literal(0), literal(1), upheld)
        .join(PT, PT.proceeding_id == Proceeding.id)
        .join(provision_rights, provision_rights.c.provision_id == PT.provision_id)
        .join(f4, f4.c.member_id == provision_rights.c.right_id)
        .where(*_only(Proceeding.case_id, case_ids), *_treatments_of(case_ids)),
    ).subquery("pat_raw")
    flags = (
        select(
            raw.c.pid,
            raw.c.right_id,
            func.max(raw.c.tag).label("tag"),
            func.max(raw.c.treat).label("treat"),
            func.max(raw.c.up).label("up"),
        )
        .group_by(raw.c.pid, raw.c.right_id)
        .subquery("pat_flags")
    )
    proceeding_right = (
        select(
            Proceeding.case_id,
            Proceeding.id,
            flags.c.right_id,
            Case.jurisdiction_id,
            is_open,
            Proceeding.forum_id,
            fs.c.system_id,
            Proceeding.filed_on,
            flags.c.treat == 1,
            Proceeding.outcome.in_(rules.DECIDED_OUTCOMES),
            and_(
                Proceeding.outcome.in_(rules.WIN_OUTCOMES),
                or_(flags.c.up == 1, and_(flags.c.tag == 1, flags.c.treat == 0)),
            ),
            Proceeding.outcome.in_(rules.LOST_OUTCOMES),
            *no_status,
        )
        .select_from(flags)
        .join(Proceeding, Proceeding.id == flags.c.pid)
        .join(Case, Case.id == Proceeding.case_id)
        .join(fs, fs.c.forum_id == Proceeding.forum_id)
        # Repeated so that planners look the few cases up rather than join every proceeding.
        .where(*_only(Proceeding.case_id, case_ids))
    )
    return union_all(case_any, case_right, proceeding_any, proceeding_right)


def provision_rows_select(case_ids=None):
    """Rows of pattern_provision_facts: treatments of a provision the case invokes."""
    invoked = (
        select(case_provisions.c.case_id)
        .where(
            case_provisions.c.case_id == Proceeding.case_id,
            case_provisions.c.provision_id == PT.provision_id,
        )
        .exists()
    )
    return (
        select(
            Proceeding.case_id,
            PT.proceeding_id,
            PT.provision_id,
            PT.treatment,
            Proceeding.forum_id,
            Proceeding.filed_on,
            Case.confidentiality.in_(OPEN_LEVELS),
        )
        .join(Proceeding, Proceeding.id == PT.proceeding_id)
        .join(Case, Case.id == Proceeding.case_id)
        .where(
            PT.provision_id.is_not(None),
            invoked,
            *_only(Proceeding.case_id, case_ids),
            *_treatments_of(case_ids),
        )
        .distinct()
    )


# --- counting from the facts ---------------------------------------------------------------
def _count_if(condition):
    return func.count(distinct(case((condition, F.case_id), else_=null())))


def _matrix_key(view: str):
    return {"jurisdiction": F.jurisdiction_id, "forum": F.forum_id, "system": F.system_id}[view]


def matrix_select(view: str, where: Sequence = (), proceeding_ok: Any = None):
    """(view, right, col, 0, cases, decided, wins, 0) over the facts matching `where`.

    proceeding_ok: the forum and period filters, applied to proceeding rows only. Jurisdiction
    view: a case counts by its tags (case rows) or a treatment in a matching proceeding;
    forum and system views: a matching proceeding that counts for the right.
    """
    ok = true() if proceeding_ok is None else proceeding_ok
    in_proceeding = and_(F.proceeding_id != 0, ok)
    key = _matrix_key(view)
    if view == "jurisdiction" and proceeding_ok is None:
        counted = or_(F.proceeding_id == 0, and_(in_proceeding, F.is_treat))
        where = [*where, F.right_id != 0]
    elif view == "jurisdiction":
        # Within a forum or period, the cases of the filtered set (with a proceeding there)
        # that count for the right are those with a proceeding row there for it: a case
        # tagged with the right has a row for each of its proceedings, and a treatment of
        # it marks its proceeding's row.
        counted = in_proceeding
        where = [*where, F.right_id != 0, F.proceeding_id != 0, ok]
    else:
        counted = in_proceeding
        where = [*where, F.right_id != 0, F.proceeding_id != 0, ok]
        if view == "system":
            where.append(F.system_id != 0)
    return (
        select(
            literal(view).label("view"),
            F.right_id,
            key.label("col"),
            literal(0).label("sub"),
            _count_if(counted).label("cases"),
            _count_if(and_(in_proceeding, F.decided)).label("decided"),
            _count_if(and_(in_proceeding, F.won)).label("wins"),
            literal(0).label("losses"),
        )
        .where(*where)
        .group_by(F.right_id, key)
    )


def _year():
    return cast(extract("year", F.filed_on), Integer)


def year_select(
    where: Sequence = (), proceeding_ok: Any = None, right_ids=None, *, by_right: bool = True
):
    """("year", right, year, 0, filed, 0, wins, losses): right 0 is every proceeding.

    by_right=False counts a case once over all the given rights (right 0 in the result).
    """
    conditions = [*where, F.proceeding_id != 0, F.filed_on.is_not(None)]
    if proceeding_ok is not None:
        conditions.append(proceeding_ok)
    if right_ids is not None:
        conditions.append(F.right_id.in_(right_ids))
    year = _year()
    right = F.right_id if by_right else literal(0)
    group = (F.right_id, year) if by_right else (year,)
    return (
        select(
            literal("year").label("view"),
            right.label("right_id"),
            year.label("col"),
            literal(0).label("sub"),
            func.count(distinct(F.case_id)).label("cases"),
            literal(0).label("decided"),
            _count_if(F.won).label("wins"),
            _count_if(F.lost).label("losses"),
        )
        .where(*conditions)
        .group_by(*group)
    )


def map_select(where: Sequence = (), proceeding_ok: Any = None, right_ids=None):
    """("map", 0, jurisdiction, 0, cases, 0, wins, 0): cases, and cases with a won proceeding.

    proceeding_ok: the forum and period filters, for the won proceeding; right_ids: won on
    one of these rights (as result=won with a right filter), else any win.
    """
    won = [F.proceeding_id != 0, F.won]
    rows = F.right_id.in_(sorted(set(right_ids))) if right_ids else F.right_id == 0
    if proceeding_ok is not None:
        # The cases of the filtered set (with a proceeding in the window) are those with a
        # proceeding row there, for one of the rights if any (see matrix_select).
        won.append(proceeding_ok)
        cases = _count_if(and_(F.proceeding_id != 0, proceeding_ok))
    elif right_ids:
        cases = _count_if(or_(F.proceeding_id == 0, F.is_treat))  # rules.case_counts_for
    else:
        cases = func.count(distinct(F.case_id))
    return (
        select(
            literal("map").label("view"),
            literal(0).label("right_id"),
            F.jurisdiction_id.label("col"),
            literal(0).label("sub"),
            cases.label("cases"),
            literal(0).label("decided"),
            _count_if(and_(*won)).label("wins"),
            literal(0).label("losses"),
        )
        .where(*where, rows)
        .group_by(F.jurisdiction_id)
    )


def provision_select(where: Sequence = ()):
    """("provision-<treatment>", 0, provision, forum, cases, 0, 0, 0)."""
    view = case(*((PF.treatment == t, v) for t, v in TREATMENT_VIEWS.items()), else_="provision")
    return (
        select(
            view.label("view"),
            literal(0).label("right_id"),
            PF.provision_id.label("col"),
            PF.forum_id.label("sub"),
            func.count(distinct(PF.case_id)).label("cases"),
            literal(0).label("decided"),
            literal(0).label("wins"),
            literal(0).label("losses"),
        )
        .where(*where)
        .group_by(PF.treatment, PF.provision_id, PF.forum_id)
    )


LIST_FORUM_VIEW = "list-forum"
LIST_VALUE_VIEWS = ("status", "outcome")  # views "status-<value>", "outcome-<value>"


def list_selects(where: Sequence = ()) -> list:
    """The case list's own totals (the other facets read the views above): cases with a
    proceeding before each forum ("list-forum", col = forum), and cases per status and per
    outcome ("status-<value>", "outcome-<value>")."""
    forum = select(
        literal(LIST_FORUM_VIEW).label("view"),
        literal(0).label("right_id"),
        F.forum_id.label("col"),
        literal(0).label("sub"),
        func.count(distinct(F.case_id)).label("cases"),
        literal(0).label("decided"),
        literal(0).label("wins"),
        literal(0).label("losses"),
    ).where(*where, F.right_id == 0, F.proceeding_id != 0)
    values = [
        select(
            (literal(f"{name}-") + getattr(F, name)).label("view"),
            literal(0).label("right_id"),
            literal(0).label("col"),
            literal(0).label("sub"),
            func.count().label("cases"),
            literal(0).label("decided"),
            literal(0).label("wins"),
            literal(0).label("losses"),
        )
        .where(*where, F.right_id == 0, F.proceeding_id == 0)
        .group_by(getattr(F, name))
        for name in LIST_VALUE_VIEWS
    ]
    return [forum.group_by(F.forum_id), *values]


def totals_select(case_ids=None, *, with_list: bool = True):
    """Every row of pattern_totals, over the public and network cases (of these cases);
    without the case list's views when not with_list (as revision pat1 filled them)."""
    where = [F.is_open.is_(True), *_only(F.case_id, case_ids)]
    pwhere = [PF.is_open.is_(True), *_only(PF.case_id, case_ids)]
    return union_all(
        *(matrix_select(view, where) for view in MATRIX_VIEWS),
        year_select(where),
        map_select(where),
        provision_select(pwhere),
        *(list_selects(where) if with_list else ()),
    )


# --- keeping them current ------------------------------------------------------------------
CASE_IDS = bindparam("pat_case_ids", expanding=True)


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def refresh_cases(case_ids: Iterable[int]) -> int:
    """Bring the facts and totals of these cases in line with the data (ids of deleted cases
    drop theirs). Returns how many totals rows changed. Flushes nothing: call after a flush.

    A case's share of a total is 0 or 1 (totals count distinct cases), so the totals move by
    the difference between these cases' totals before and after their facts are rewritten.
    """
    ids = sorted(set(case_ids))
    if not ids:
        return 0
    with case_sets.case_batches(ids, CASE_IDS, 500) as (source, batches):
        totals = _totals_of(source)
        steps = (
            delete(F).where(F.case_id.in_(source)),
            delete(PF).where(PF.case_id.in_(source)),
            insert(F.__table__).from_select(FACT_COLUMNS, fact_rows_select(source)),
            insert(PF.__table__).from_select(PROVISION_COLUMNS, provision_rows_select(source)),
        )
        delta: dict[tuple, list[int]] = {}
        read = db.session.connection().execute  # rows by the thousand: no ORM layer
        for params in batches:
            for row in read(totals, params):
                _add(delta, row, -1)
            for step in steps:
                db.session.execute(step, params, execution_options=NO_SYNC)
            for row in read(totals, params):
                _add(delta, row, 1)
    return _apply_delta({k: v for k, v in delta.items() if any(v)})


def _totals_of(case_ids):
    """totals_select(case_ids), with these cases' facts read once (a CTE) rather than once per
    view: at thousands of cases PostgreSQL would otherwise scan every fact six times."""
    changed = [
        select(model.__table__).where(model.case_id.in_(case_ids)).cte(name)
        for model, name in ((F, "pat_changed_facts"), (PF, "pat_changed_provision_facts"))
    ]
    adapter = ClauseAdapter(changed[0]).chain(ClauseAdapter(changed[1]))
    return adapter.traverse(totals_select())


def _add(into: dict[tuple, list[int]], row, sign: int) -> None:
    view, right_id, col, sub, cases, decided, wins, losses = row
    slot = into.get((view, right_id, col, sub))
    if slot is None:
        into[(view, right_id, col, sub)] = [
            sign * cases,
            sign * decided,
            sign * wins,
            sign * losses,
        ]
    else:
        slot[0] += sign * cases
        slot[1] += sign * decided
        slot[2] += sign * wins
        slot[3] += sign * losses


TOTAL_KEY = tuple_(T.view, T.right_id, T.col, T.sub)
KEY_PARAMS = (
    (T.view == bindparam("k_view"))
    & (T.right_id == bindparam("k_right_id"))
    & (T.col == bindparam("k_col"))
    & (T.sub == bindparam("k_sub"))
)
NEW_COUNTS = tuple(f"n_{c}" for c in COUNTS)
# Above this many changed totals, reading them all is cheaper than looking each one up.
READ_ALL_FROM = 1000


def _apply_delta(delta: dict[tuple, list[int]]) -> int:
    """Add the delta to pattern_totals: update, insert, or delete the rows that reach zero."""
    if not delta:
        return 0
    columns = (T.view, T.right_id, T.col, T.sub, T.cases, T.decided, T.wins, T.losses)
    if len(delta) >= READ_ALL_FROM:
        lookups = [select(*columns)]
    else:
        keys = sorted(delta)
        lookups = [select(*columns).where(TOTAL_KEY.in_(c)) for c in _chunks(keys, 200)]
    current: dict[tuple, list[int]] = {}
    read = db.session.connection().execute
    for stmt in lookups:
        current.update((tuple(r[:4]), list(r[4:])) for r in read(stmt))
    inserts, updates, deletes = [], [], []
    for key, diff in delta.items():
        old = current.get(key)
        values = [c + d for c, d in zip(old or (0, 0, 0, 0), diff, strict=True)]
        where = dict(zip(("k_view", "k_right_id", "k_col", "k_sub"), key, strict=True))
        if old is None:
            if any(values):
                inserts.append(dict(zip(TOTAL_COLUMNS, (*key, *values), strict=True)))
        elif any(values):
            updates.append(where | dict(zip(NEW_COUNTS, values, strict=True)))
        else:
            deletes.append(where)
    run = db.session.execute
    if deletes:
        run(delete(T.__table__).where(KEY_PARAMS), deletes)
    if updates:
        new_values = {c: bindparam(n) for c, n in zip(COUNTS, NEW_COUNTS, strict=True)}
        run(update(T.__table__).where(KEY_PARAMS).values(new_values), updates)
    if inserts:
        run(insert(T.__table__), inserts)
    return len(delta)


def rebuild() -> dict[str, int]:
    """Rebuild every fact and total from the data (set-based). Flushes first."""
    db.session.flush()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))
    for model in (T, PF, F):
        db.session.execute(delete(model), execution_options=NO_SYNC)
    db.session.execute(insert(F.__table__).from_select(FACT_COLUMNS, fact_rows_select()))
    db.session.execute(insert(PF.__table__).from_select(PROVISION_COLUMNS, provision_rows_select()))
    db.session.execute(insert(T.__table__).from_select(TOTAL_COLUMNS, totals_select()))
    return {
        name: db.session.scalar(select(func.count()).select_from(model))
        for name, model in (("facts", F), ("provision_facts", PF), ("totals", T))
    }


DERIVED_TABLES = ("pattern_facts", "pattern_provision_facts", "pattern_totals")


def clear() -> None:
    """Delete every derived row (the demo's --reset)."""
    for model in (T, PF, F):
        db.session.execute(delete(model), execution_options=NO_SYNC)


def stored_totals(
    views: Iterable[str],
    right_ids: Iterable[int] | None = None,
    *,
    cols: Iterable[int] | None = None,
    subs: Iterable[int] | None = None,
) -> list[tuple]:
    """Rows of pattern_totals: (view, right, col, sub, cases, decided, wins, losses)."""
    stmt = select(T.view, T.right_id, T.col, T.sub, T.cases, T.decided, T.wins, T.losses).where(
        T.view.in_(list(views))
    )
    if right_ids is not None:
        stmt = stmt.where(T.right_id.in_(sorted(set(right_ids))))
    if cols is not None:
        stmt = stmt.where(T.col.in_(sorted(set(cols))))
    if subs is not None:
        stmt = stmt.where(T.sub.in_(sorted(set(subs))))
    return list(db.session.execute(stmt).tuples())


def stored_column_sums(view: str, right_ids: Iterable[int] | None = None) -> dict[int, int]:
    """{col: cases summed over the rights} of one view, for choosing the busiest columns
    before reading (summed by the database: a view has thousands of rows)."""
    stmt = select(T.col, func.sum(T.cases)).where(T.view == view)
    if right_ids is not None:
        stmt = stmt.where(T.right_id.in_(sorted(set(right_ids))))
    return {col: int(n or 0) for col, n in db.session.execute(stmt.group_by(T.col))}


def stored_rights(view: str, right_ids: Iterable[int] | None = None) -> set[int]:
    """The rights with a stored row in one view (the matrix's rows)."""
    stmt = select(T.right_id).where(T.view == view).distinct()
    if right_ids is not None:
        stmt = stmt.where(T.right_id.in_(sorted(set(right_ids))))
    return set(db.session.scalars(stmt))


def stored_provision_sums(
    provision_ids: Iterable[int] | None = None,
) -> tuple[dict[int, int], dict[int, int]]:
    """Cases summed over the treatments and forums per provision, and over the treatments
    and provisions per forum (of these provisions only, when given): for the busiest rows
    and columns, summed by the database."""
    where = [T.view.in_(list(TREATMENT_VIEWS.values())), T.cases != 0]
    if provision_ids is not None:
        where.append(T.col.in_(sorted(set(provision_ids))))

    def per(column) -> dict[int, int]:
        stmt = select(column, func.sum(T.cases)).where(*where).group_by(column)
        return {key: int(n or 0) for key, n in db.session.execute(stmt)}

    return per(T.col), per(T.sub)


def add_rows(into: dict[tuple, list[int]], rows: Iterable[Sequence]) -> dict[tuple, list[int]]:
    """Sum rows (view, right, col, sub, 4 counts) into {(view, right, col, sub): counts}."""
    for view, right_id, col, sub, a, b, c, d in rows:
        key = (view, right_id, col, sub)
        slot = into.get(key)
        if slot is None:
            into[key] = [a or 0, b or 0, c or 0, d or 0]
        else:
            slot[0] += a or 0
            slot[1] += b or 0
            slot[2] += c or 0
            slot[3] += d or 0
    return into


__all__ = [
    "DERIVED_TABLES",
    "add_rows",
    "clear",
    "fact_rows_select",
    "list_selects",
    "map_select",
    "matrix_select",
    "provision_select",
    "rebuild",
    "refresh_cases",
    "stored_totals",
    "totals_select",
    "year_select",
]
