"""Knock-on opportunities: the facts derived from wins, the (right, target) rows, reading them.

An opportunity is one (right R, target state T): "wins on R in A, B and C could be leveraged
in T" (DESIGN.md, "Knock-on opportunities"). There are at most rights x states of them
(52 x 249 in the shipped taxonomy), however many cases the network records.

Facts (derived tables, rebuilt for the cases a refresh is given; all on a full refresh):
* opportunity_wins: a proceeding with outcome win or partial win and a right family it is a
  win on, by the rule of tracker/patterns/rules.py (tags and crosswalked provisions of the
  case, treatments of the proceeding; a treatment of R that was rejected or not reached
  means no win on R). `is_primary` marks the most specific rights won (a parent is dropped
  when the same proceeding wins a child of it): opportunities are per primary right.
* opportunity_win_instruments: the instruments I behind a primary win on R: those of the
  provisions invoked by the case or treated in the proceeding that the crosswalk maps to R or
  a child of R (with the articles), plus the forum's instrument when the forum is not national.
* opportunity_pending: an active case (filed, pending, on appeal) and a right family it counts
  for (tags, crosswalk, treatments), for "pending cases in T that could cite the wins".
* opportunity_win_groups: per right, jurisdiction, signature (instruments and regional
  system) and confidentiality level, how many primary wins and the best of them. The fan-out
  to targets reads these (a few thousand per right) instead of the wins themselves.

Supporting wins of (R, T): primary wins on R of cases outside T where T is bound by one of
their instruments (a ratification with a date or year and no denunciation) or, for a win
before a regional court or commission, T is a current member of that system. (R, T) exists
while it has a supporting win; a row that was assigned, dismissed or turned into a case is
kept when its support goes (so a dismissal survives) and a dismissed row never reopens by
itself; an open row without support is deleted.

Rank (higher first), from public and network cases only:
    40  no public/network win on R (or a child of R) in T yet
    10  per public/network pending case on R in T (at most 3): they can cite the wins now
     5  per active network organisation present in T (at most 3)
   0-10 recency of the best supporting win (10 this year, 0 after ten years)
   0-10 forum level of that win (regional court 10 ... first instance 2)
The best win is the public/network supporting win with the most recency + level points; the
list shows it, its basis in words, and the other jurisdictions with such wins.

Confidentiality (the rule, tested in tests/patterns/test_opportunities.py):
1. A user sees (R, T) only if they may see at least one of its supporting wins (case_filter):
   every member when one is public or network; otherwise only those who may see one of its
   organisation or restricted wins. An audience narrows it the same way (a public audience
   needs a public supporting win). A row with no supporting win at all is shown to nobody.
2. Every number and word stored on the row (score, counts of wins and jurisdictions, the
   source jurisdictions, the best win and its basis, "no win yet", pending cases, present
   organisations) is computed from public and network cases only, so it is the same for
   everyone who sees the row and no organisation or restricted case moves it. A row whose
   only supporting wins are organisation or restricted ranks on its target facts alone (no
   win points) and shows each viewer the best win they may see, computed when shown.
3. Lists (supporting wins, pending cases) and their counts show only cases the user may see.
4. Notifications of a new opportunity go only to watchers who may see it.

Keeping it current (tracker.patterns.services.refresh_opportunities):
* refresh_cases(ids), called by the before-commit hook with the changed cases: reads those
  cases' facts again and compares them with the stored ones. A routine save (title, summary,
  parties ...) changes no fact and costs a few small indexed queries (~2 ms at 100,000
  cases). When facts changed it rewrites them, rebuilds the groups of the (right,
  jurisdiction) pairs of the changed wins, and recomputes only the (R, T) pairs they touch:
  the targets of those wins (before and after) and, for "no win yet" and pending cases, the
  cases' own jurisdictions. Ids of deleted cases are welcome: their facts are dropped (the
  derived tables have no foreign keys so that this is possible).
* refresh_all(): rebuilds every fact with INSERT ... SELECT, the groups with one window
  query, and every (R, T) from the groups (one step per group and target, never per win and
  target). Recency points and organisations present drift with time and admin edits, and
  the best win of a group is chosen on the day it is computed: run
  `tracker opportunities refresh` nightly.
"""

from __future__ import annotations

import heapq
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Date,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    distinct,
    exists,
    false,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    tuple_,
    type_coerce,
    union,
    union_all,
    update,
)
from sqlalchemy.orm import aliased

from tracker.access import AUDIENCE_LEVELS, case_filter
from tracker.auth.models import Organisation, organisation_jurisdictions
from tracker.cases.models import (
    Case,
    Proceeding,
    ProceedingTreatment,
    Status,
    Treatment,
    case_provisions,
    case_rights,
)
from tracker.extensions import db
from tracker.patterns import case_sets, rules
from tracker.patterns.models import (
    Opportunity,
    OpportunityPending,
    OpportunityStatus,
    OpportunityWin,
    OpportunityWinGroup,
    OpportunityWinInstrument,
)
from tracker.taxonomy.models import (
    Forum,
    ForumLevel,
    Instrument,
    Jurisdiction,
    JurisdictionKind,
    Provision,
    Ratification,
    Right,
    SystemMembership,
    provision_rights,
)
from tracker.types import Confidentiality

C = Confidentiality
ACTIVE_STATUSES = (Status.FILED, Status.PENDING, Status.ON_APPEAL)
OPEN_LEVELS = (C.PUBLIC, C.NETWORK)
ACTIVE = (OpportunityStatus.OPEN, OpportunityStatus.ASSIGNED)
KEEP = (OpportunityStatus.ASSIGNED, OpportunityStatus.CONVERTED, OpportunityStatus.DISMISSED)
REGIONAL_LEVELS = (ForumLevel.REGIONAL_COURT, ForumLevel.REGIONAL_COMMISSION)
NATIONAL_LEVELS = (
    ForumLevel.APEX,
    ForumLevel.CONSTITUTIONAL,
    ForumLevel.APPEAL,
    ForumLevel.FIRST_INSTANCE,
)
LEVEL_POINTS = {
    ForumLevel.REGIONAL_COURT: 10,
    ForumLevel.TREATY_BODY: 8,
    ForumLevel.REGIONAL_COMMISSION: 7,
    ForumLevel.CONSTITUTIONAL: 6,
    ForumLevel.APEX: 5,
    ForumLevel.UN_SPECIAL_PROCEDURE: 3,
    ForumLevel.APPEAL: 3,
    ForumLevel.FIRST_INSTANCE: 2,
}
MAX_SOURCES = 5  # source jurisdictions kept on a row, best first
# Derived rows are never loaded as ORM objects: bulk statements need not sync the session.
NO_SYNC = {"synchronize_session": False}

W = OpportunityWin
WI = OpportunityWinInstrument
WP = OpportunityPending
PT = ProceedingTreatment


# --- points ----------------------------------------------------------------------------------
def recency_points(decided: date | None, today: date) -> float:
    if decided is None:
        return 0.0
    age = max((today - decided).days / 365.25, 0.0)
    return max(0.0, 10.0 * (1 - age / 10))


def win_points(level_points: int, decided: date | None, today: date) -> float:
    return round(level_points + recency_points(decided, today), 2)


def target_points(*, won: bool, pending: int, organisations: int) -> float:
    return (0.0 if won else 40.0) + 10.0 * min(pending, 3) + 5.0 * min(organisations, 3)


# --- the facts, as SQL -----------------------------------------------------------------------
def _family(name: str):
    """(family_id, member_id): each right stands for itself and its parent (two levels)."""
    own = select(Right.id.label("family_id"), Right.id.label("member_id"))
    parent = select(Right.parent_id.label("family_id"), Right.id.label("member_id")).where(
        Right.parent_id.is_not(None)
    )
    return union_all(own, parent).subquery(name)


def _winning(case_ids: list[int] | None):
    stmt = (
        select(
            Proceeding.id.label("pid"),
            Proceeding.case_id,
            Proceeding.forum_id,
            func.coalesce(Proceeding.decided_on, Proceeding.filed_on).label("decided_on"),
            Case.jurisdiction_id,
            Case.confidentiality,
        )
        .join(Case, Case.id == Proceeding.case_id)
        .where(Proceeding.outcome.in_(rules.WIN_OUTCOMES))
    )
    if case_ids is not None:
        stmt = stmt.where(Proceeding.case_id.in_(case_ids))
    return stmt.cte("opp_wp")


def win_facts_select(case_ids: list[int] | None = None):
    """Rows of opportunity_wins for these cases (all when None), by the rule of rules.py."""
    wp = _winning(case_ids)
    f1, f2, f3, f4 = (_family(f"opp_fam{i}") for i in range(1, 5))
    tags = union_all(
        select(wp.c.pid, f1.c.family_id.label("right_id"))
        .join(case_rights, case_rights.c.case_id == wp.c.case_id)
        .join(f1, f1.c.member_id == case_rights.c.right_id),
        select(wp.c.pid, f2.c.family_id)
        .join(case_provisions, case_provisions.c.case_id == wp.c.case_id)
        .join(provision_rights, provision_rights.c.provision_id == case_provisions.c.provision_id)
        .join(f2, f2.c.member_id == provision_rights.c.right_id),
    ).subquery("opp_tags")
    upheld = case((PT.treatment == Treatment.UPHELD, 1), else_=0)
    # One row per (proceeding, right family) and source, flags aggregated: a win on F when a
    # treatment of F was upheld, or the case is tagged F and no treatment of F is recorded.
    flags = union_all(
        select(tags.c.pid, tags.c.right_id, literal(1).label("tag"), literal(0), literal(0)),
        select(wp.c.pid, f3.c.family_id, literal(0), literal(1), upheld)
        .join(PT, PT.proceeding_id == wp.c.pid)
        .join(f3, f3.c.member_id == PT.right_id),
        select(wp.c.pid, f4.c.family_id, literal(0), literal(1), upheld)
        .join(PT, PT.proceeding_id == wp.c.pid)
        .join(provision_rights, provision_rights.c.provision_id == PT.provision_id)
        .join(f4, f4.c.member_id == provision_rights.c.right_id),
    ).subquery("opp_flags")
    tag, treat, up = (flags.c[i] for i in (2, 3, 4))
    won = (
        select(flags.c.pid, flags.c.right_id)
        .group_by(flags.c.pid, flags.c.right_id)
        .having(or_(func.max(up) == 1, and_(func.max(tag) == 1, func.max(treat) == 0)))
        .cte("opp_won")
    )
    # Primary: no child of F won by the same proceeding (a row per won right, and a marker
    # row on its parent).
    marks = union_all(
        select(won.c.pid, won.c.right_id, literal(1).label("own"), literal(0).label("child")),
        select(won.c.pid, Right.parent_id, literal(0), literal(1))
        .join(Right, Right.id == won.c.right_id)
        .where(Right.parent_id.is_not(None)),
    ).subquery("opp_marks")
    primary = (
        select(
            marks.c.pid,
            marks.c.right_id,
            (func.max(marks.c.child) == 0).label("is_primary"),
        )
        .group_by(marks.c.pid, marks.c.right_id)
        .having(func.max(marks.c.own) == 1)
        .subquery("opp_primary")
    )
    system = Jurisdiction.__table__.alias("opp_system")
    level_points = case(
        *((Forum.level == level, points) for level, points in LEVEL_POINTS.items()), else_=0
    )
    system_id = case(
        (
            and_(Forum.level.in_(REGIONAL_LEVELS), system.c.kind == JurisdictionKind.SYSTEM),
            Forum.jurisdiction_id,
        ),
        else_=null(),
    )
    return (
        select(
            primary.c.pid.label("proceeding_id"),
            primary.c.right_id,
            wp.c.case_id,
            wp.c.jurisdiction_id,
            wp.c.confidentiality,
            wp.c.confidentiality.in_(OPEN_LEVELS).label("is_open"),
            primary.c.is_primary,
            wp.c.forum_id,
            level_points.label("level_points"),
            wp.c.decided_on,
            system_id.label("system_id"),
        )
        .join(wp, wp.c.pid == primary.c.pid)
        .join(Forum, Forum.id == wp.c.forum_id)
        .join(system, system.c.id == Forum.jurisdiction_id)
    )


WIN_COLUMNS = (
    "proceeding_id",
    "right_id",
    "case_id",
    "jurisdiction_id",
    "confidentiality",
    "is_open",
    "is_primary",
    "forum_id",
    "level_points",
    "decided_on",
    "system_id",
)


def win_instruments_select(case_ids: list[int] | None = None):
    """Rows of opportunity_win_instruments, read from opportunity_wins (fill that first)."""
    wins = select(W.proceeding_id, W.right_id, W.case_id, W.forum_id).where(W.is_primary.is_(True))
    if case_ids is not None:
        wins = wins.where(W.case_id.in_(case_ids))
    wins = wins.cte("opp_pw")
    fam = _family("opp_ifam")
    provisions = union(
        select(wins.c.proceeding_id, wins.c.right_id, case_provisions.c.provision_id).join(
            case_provisions, case_provisions.c.case_id == wins.c.case_id
        ),
        select(wins.c.proceeding_id, wins.c.right_id, PT.provision_id)
        .join(PT, PT.proceeding_id == wins.c.proceeding_id)
        .where(PT.provision_id.is_not(None)),
    ).subquery("opp_provs")
    maps_to_right = exists(
        select(provision_rights.c.provision_id)
        .join(fam, fam.c.member_id == provision_rights.c.right_id)
        .where(
            provision_rights.c.provision_id == provisions.c.provision_id,
            fam.c.family_id == provisions.c.right_id,
        )
    )
    invoked = (
        select(
            provisions.c.proceeding_id,
            provisions.c.right_id,
            Provision.instrument_id,
            cast(Provision.number, String).label("number"),
        )
        .join(Provision, Provision.id == provisions.c.provision_id)
        .where(maps_to_right)
    )
    of_forum = (
        select(
            wins.c.proceeding_id,
            wins.c.right_id,
            Forum.instrument_id,
            cast(null(), String).label("number"),
        )
        .join(Forum, Forum.id == wins.c.forum_id)
        .where(Forum.instrument_id.is_not(None), Forum.level.not_in(NATIONAL_LEVELS))
    )
    rows = union_all(invoked, of_forum).subquery("opp_inst_rows")
    return select(
        rows.c.proceeding_id,
        rows.c.right_id,
        rows.c.instrument_id,
        func.aggregate_strings(rows.c.number, ", ").label("articles"),
    ).group_by(rows.c.proceeding_id, rows.c.right_id, rows.c.instrument_id)


def pending_facts_select(case_ids: list[int] | None = None):
    """Rows of opportunity_pending for these cases (all when None)."""
    active = select(Case.id, Case.jurisdiction_id, Case.confidentiality).where(
        Case.status.in_(ACTIVE_STATUSES)
    )
    if case_ids is not None:
        active = active.where(Case.id.in_(case_ids))
    ac = active.cte("opp_ac")
    f1, f2, f3, f4 = (_family(f"opp_pfam{i}") for i in range(1, 5))

    def only(column):
        # Each branch filters on its own table's case id, so that planners search by it
        # rather than scan (SQLite has no statistics on the CTE); a full rebuild semi-joins
        # the active cases.
        return [column.in_(case_ids if case_ids is not None else select(ac.c.id))]

    pairs = union(
        select(case_rights.c.case_id, f1.c.family_id.label("right_id"))
        .join(f1, f1.c.member_id == case_rights.c.right_id)
        .where(*only(case_rights.c.case_id)),
        select(case_provisions.c.case_id, f2.c.family_id)
        .join(provision_rights, provision_rights.c.provision_id == case_provisions.c.provision_id)
        .join(f2, f2.c.member_id == provision_rights.c.right_id)
        .where(*only(case_provisions.c.case_id)),
        select(Proceeding.case_id, f3.c.family_id)
        .join(PT, PT.proceeding_id == Proceeding.id)
        .join(f3, f3.c.member_id == PT.right_id)
        .where(*only(Proceeding.case_id)),
        select(Proceeding.case_id, f4.c.family_id)
        .join(PT, PT.proceeding_id == Proceeding.id)
        .join(provision_rights, provision_rights.c.provision_id == PT.provision_id)
        .join(f4, f4.c.member_id == provision_rights.c.right_id)
        .where(*only(Proceeding.case_id)),
    ).subquery("opp_ppairs")
    return select(
        pairs.c.case_id,
        pairs.c.right_id,
        ac.c.jurisdiction_id,
        ac.c.confidentiality.in_(OPEN_LEVELS).label("is_open"),
    ).join(ac, ac.c.id == pairs.c.case_id)


PENDING_COLUMNS = ("case_id", "right_id", "jurisdiction_id", "is_open")


# --- binding ---------------------------------------------------------------------------------
def in_force() -> ColumnElement[bool]:
    """Over Ratification: the jurisdiction is bound (ratified, not denounced)."""
    return and_(
        or_(Ratification.ratified_on.is_not(None), Ratification.ratified_year.is_not(None)),
        Ratification.denounced_on.is_(None),
    )


def supports(target, right=None) -> ColumnElement[bool]:
    """Over OpportunityWin: this win supports an opportunity on its right in `target` (a
    state id, or a column of an enclosing query such as Opportunity.target_jurisdiction_id).

    right: the right, when known (a repeated condition: PostgreSQL may hash the treaty
    subquery for all wins at once, and this keeps that to the wins on this right)."""
    by_system = (
        select(SystemMembership.id)
        .where(
            SystemMembership.system_id == W.system_id,
            SystemMembership.state_id == target,
            SystemMembership.left_on.is_(None),
        )
        .correlate_except(SystemMembership)
    )
    by_treaty = (
        select(WI.instrument_id)
        .join(Ratification, Ratification.instrument_id == WI.instrument_id)
        .where(
            WI.proceeding_id == W.proceeding_id,
            WI.right_id == W.right_id,
            *([WI.right_id == right] if right is not None else []),
            Ratification.jurisdiction_id == target,
            in_force(),
        )
        .correlate_except(WI, Ratification)
    )
    return and_(
        W.is_primary.is_(True),
        W.jurisdiction_id != target,
        or_(and_(W.system_id.is_not(None), exists(by_system)), exists(by_treaty)),
    )


@dataclass
class Bindings:
    """States as bits of an int, and which states each instrument and system binds."""

    bit: dict[int, int]  # state id -> 1 << k
    ids: list[int]  # k -> state id
    ratified: dict[int, int]  # instrument -> mask of states bound
    members: dict[int, int]  # system -> mask of current member states

    def states(self, mask: int) -> Iterable[int]:
        while mask:
            low = mask & -mask
            yield self.ids[low.bit_length() - 1]
            mask ^= low

    def targets(self, instruments: Iterable[int], system_id: int | None) -> int:
        mask = self.members.get(system_id, 0) if system_id is not None else 0
        for inst in instruments:
            mask |= self.ratified.get(inst, 0)
        return mask


def load_bindings() -> Bindings:
    ids = list(
        db.session.scalars(
            select(Jurisdiction.id)
            .where(Jurisdiction.kind == JurisdictionKind.STATE)
            .order_by(Jurisdiction.id)
        )
    )
    bit = {jid: 1 << k for k, jid in enumerate(ids)}
    ratified: dict[int, int] = defaultdict(int)
    for inst_id, jur_id in db.session.execute(
        select(Ratification.instrument_id, Ratification.jurisdiction_id).where(in_force())
    ):
        ratified[inst_id] |= bit.get(jur_id, 0)
    members: dict[int, int] = defaultdict(int)
    for system_id, state_id in db.session.execute(
        select(SystemMembership.system_id, SystemMembership.state_id).where(
            SystemMembership.left_on.is_(None)
        )
    ):
        members[system_id] |= bit.get(state_id, 0)
    return Bindings(bit, ids, dict(ratified), dict(members))


# --- the fan-out: from wins to (right, target) -----------------------------------------------
@dataclass
class _Top:
    points: float
    proceeding_id: int
    right_id: int
    case_id: int
    jurisdiction_id: int
    forum_id: int
    decided_on: date | None
    instruments: dict[int, str | None]  # instrument -> articles (filled for the best only)
    system_id: int | None


@dataclass
class _Group:
    """Primary wins on one right with the same instruments and system (one signature)."""

    mask: int  # the states these wins bind (before removing each win's own state)
    instruments: frozenset[int]
    system_id: int | None
    any_j: int = 0  # jurisdictions with a win of any level (bits)
    open_j: int = 0  # ... with a public or network win
    open_total: int = 0
    public_total: int = 0
    open_by_j: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    public_by_j: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    # jurisdiction -> its best open win here: (-points, proceeding, jurisdiction, case, forum,
    # decided on)
    candidates: dict[int, tuple] = field(default_factory=dict)


@dataclass
class Support:
    """What the public and network supporting wins of one (R, T) add up to."""

    supported: bool = False  # a win of any level supports it
    public_wins: int = 0
    open_wins: int = 0
    open_j: int = 0
    tops: list[_Top] = field(default_factory=list)  # best open win per jurisdiction, best first


def _days_since(today: date, column):
    if db.session.get_bind().dialect.name == "postgresql":
        return literal(today, Date) - column
    return func.julianday(literal(today.isoformat())) - func.julianday(column)


def _points_sql(today: date, level=None, decided=None):
    """win_points() in SQL (of W's columns, or of the given ones)."""
    level = W.level_points if level is None else level
    decided = W.decided_on if decided is None else decided
    days = _days_since(today, decided)
    recency = case(
        (decided.is_(None), 0.0),
        (days >= 3652.5, 0.0),
        (days <= 0, 10.0),
        else_=10.0 - days / 365.25,
    )
    return level + recency


def _instruments_of_win():
    """Over W: its instruments as "3,7,12", in id order (the groups' key)."""
    number = cast(WI.instrument_id, String)
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        aggregated = func.string_agg(number, aggregate_order_by(literal(","), WI.instrument_id))
    else:
        # SQLite reads the primary key (right, proceeding, instrument) in order.
        aggregated = func.group_concat(number, ",")
    return (
        select(aggregated)
        .where(WI.right_id == W.right_id, WI.proceeding_id == W.proceeding_id)
        .correlate(W)
        .scalar_subquery()
    )


def _groups_select(today: date, pairs: list[tuple[int, int]] | None = None):
    """Rows of opportunity_win_groups: per (right, jurisdiction, instruments, system,
    confidentiality) of primary wins with a target, how many and the best (most recency and
    level points). All of them, or those of these (right, jurisdiction) pairs."""
    where = [W.is_primary.is_(True)]
    if pairs is not None:
        where.append(or_(*(and_(W.right_id == r, W.jurisdiction_id == j) for r, j in pairs)))
    inner = (
        select(
            W.right_id,
            W.jurisdiction_id,
            func.coalesce(_instruments_of_win(), "").label("channels"),
            func.coalesce(W.system_id, 0).label("system_id"),
            W.confidentiality,
            W.proceeding_id,
            W.case_id,
            W.forum_id,
            W.level_points,
            W.decided_on,
            _points_sql(today).label("points"),
        )
        .where(*where)
        .subquery("opp_sig")
    )
    partition = (
        inner.c.right_id,
        inner.c.jurisdiction_id,
        inner.c.channels,
        inner.c.system_id,
        inner.c.confidentiality,
    )
    ranked = (
        select(
            *partition,
            func.count().over(partition_by=partition).label("wins"),
            func.row_number()
            .over(partition_by=partition, order_by=(inner.c.points.desc(), inner.c.proceeding_id))
            .label("rn"),
            inner.c.proceeding_id,
            inner.c.case_id,
            inner.c.forum_id,
            inner.c.level_points,
            inner.c.decided_on,
        )
        .where(or_(inner.c.channels != "", inner.c.system_id != 0))
        .subquery("opp_ranked")
    )
    return select(*(c for c in ranked.c if c.name != "rn")).where(ranked.c.rn == 1)


GROUP_COLUMNS = (
    "right_id",
    "jurisdiction_id",
    "channels",
    "system_id",
    "confidentiality",
    "wins",
    "best_proceeding_id",
    "best_case_id",
    "best_forum_id",
    "best_level_points",
    "best_decided_on",
)


def _as_date(value: date | str | None) -> date | None:
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def load_groups(right_ids: Iterable[int] | None = None) -> list[tuple]:
    """The stored groups (of these rights, or all), as compute_support() takes them. Read raw
    (no enum or date conversion: there are thousands of rows per right)."""
    G = OpportunityWinGroup
    stmt = select(
        G.right_id,
        G.jurisdiction_id,
        G.channels,
        G.system_id,
        type_coerce(G.confidentiality, String),
        G.wins,
        G.best_proceeding_id,
        G.best_case_id,
        G.best_forum_id,
        G.best_level_points,
        type_coerce(G.best_decided_on, String),
    )
    if right_ids is not None:
        right_ids = sorted(set(right_ids))
        if not right_ids:
            return []
        stmt = stmt.where(G.right_id.in_(right_ids))
    return list(db.session.execute(stmt).tuples())


def rebuild_groups(pairs: set[tuple[int, int]] | None, *, today: date) -> None:
    """Recompute the stored groups of these (right, jurisdiction) pairs (all when None)."""
    G = OpportunityWinGroup
    if pairs is None:
        db.session.execute(delete(G), execution_options=NO_SYNC)
        db.session.execute(insert(G.__table__).from_select(GROUP_COLUMNS, _groups_select(today)))
        return
    for chunk in _chunks(sorted(pairs), 200):
        db.session.execute(
            delete(G).where(
                or_(*(and_(G.right_id == r, G.jurisdiction_id == j) for r, j in chunk))
            ),
            execution_options=NO_SYNC,
        )
        db.session.execute(
            insert(G.__table__).from_select(GROUP_COLUMNS, _groups_select(today, chunk))
        )


def compute_support(
    bindings: Bindings,
    groups: Iterable[tuple],
    *,
    only: dict[int, int] | None = None,
    today: date,
) -> dict[tuple[int, int], Support]:
    """Support of every (R, T) the groups reach (restricted to `only[R]`, a mask of T).

    Each signature group (a right's wins binding the same states) is fanned out to the
    states it binds: one step per group and target, never per win and target; the sources
    of each (R, T) are then the best wins of its right, best first, that bind T.
    """
    bit = bindings.bit
    sets: dict[str, frozenset[int]] = {}
    by_right: dict[int, dict[tuple, _Group]] = defaultdict(dict)
    for right_id, jur, chans, system_id, conf, n, pid, case_id, forum_id, level, decided in groups:
        system_id = system_id or None
        instruments = sets.get(chans)
        if instruments is None:
            instruments = sets[chans] = frozenset(int(i) for i in chans.split(",") if i)
        key = (instruments, system_id)
        group = by_right[right_id].get(key)
        if group is None:
            mask = bindings.targets(instruments, system_id)
            group = by_right[right_id][key] = _Group(mask, instruments, system_id)
        if not group.mask or (only is not None and not group.mask & only.get(right_id, 0)):
            continue  # binds no state (or none of those being recomputed)
        jbit = bit.get(jur, 0)
        group.any_j |= jbit
        if conf not in OPEN_LEVELS:
            continue
        group.open_j |= jbit
        group.open_total += n
        group.open_by_j[jur] += n
        if conf == C.PUBLIC:
            group.public_total += n
            group.public_by_j[jur] += n
        decided = _as_date(decided)
        candidate = (-win_points(level, decided, today), pid, jur, case_id, forum_id, decided)
        if jur not in group.candidates or candidate < group.candidates[jur]:
            group.candidates[jur] = candidate

    # Each group's best wins in distinct jurisdictions: for any target T, the five best
    # sources among a group's wins outside T are among its six best.
    entries: dict[int, list[tuple[float, int, int, _Top, _Group]]] = defaultdict(list)
    for right_id, by_sig in by_right.items():
        for group in by_sig.values():
            for neg, pid, jur, case_id, forum_id, decided in heapq.nsmallest(
                MAX_SOURCES + 1, group.candidates.values()
            ):
                top = _Top(
                    -neg,
                    pid,
                    right_id,
                    case_id,
                    jur,
                    forum_id,
                    decided,
                    dict.fromkeys(group.instruments),
                    group.system_id,
                )
                entries[right_id].append((neg, pid, jur, top, group))
            group.candidates = {}

    out: dict[tuple[int, int], Support] = {}
    for right_id, by_sig in by_right.items():
        limit = only.get(right_id) if only is not None else None
        mine: dict[int, Support] = {}
        for group in by_sig.values():
            mask = group.mask if limit is None else group.mask & limit
            for target in bindings.states(mask):
                tbit = bit[target]
                if not group.any_j & ~tbit:
                    continue  # its only wins are in the target itself
                s = mine.get(target)
                if s is None:
                    s = mine[target] = Support(supported=True)
                s.open_wins += group.open_total - group.open_by_j.get(target, 0)
                s.public_wins += group.public_total - group.public_by_j.get(target, 0)
                s.open_j |= group.open_j & ~tbit
        # Sources: walk this right's best wins, best first, keeping those that bind T.
        ranked_entries = sorted(entries.get(right_id, ()), key=lambda e: (e[0], e[1]))
        for target, s in mine.items():
            out[(right_id, target)] = s
            if not s.open_j:
                continue
            tbit = bit[target]
            seen: set[int] = set()
            for _neg, _pid, jur, top, group in ranked_entries:
                if jur == target or jur in seen or not group.mask & tbit:
                    continue
                seen.add(jur)
                s.tops.append(top)
                if len(seen) >= MAX_SOURCES:
                    break
    _fill_articles([s.tops[0] for s in out.values() if s.tops])
    return out


def _fill_articles(tops: list[_Top]) -> None:
    """Load the articles behind these wins (the best of each (R, T): few distinct ones)."""
    wanted: dict[tuple[int, int], list[_Top]] = defaultdict(list)
    for top in tops:
        wanted[(top.proceeding_id, top.right_id)].append(top)
    keys = sorted(wanted)
    for chunk in _chunks(keys, 400):
        for pid, rid, inst_id, articles in db.session.execute(
            select(WI.proceeding_id, WI.right_id, WI.instrument_id, WI.articles).where(
                tuple_(WI.proceeding_id, WI.right_id).in_(chunk)
            )
        ):
            for top in wanted[(pid, rid)]:
                top.instruments[inst_id] = articles


# --- target facts (public and network only) --------------------------------------------------
@dataclass
class TargetFacts:
    won: set[tuple[int, int]]  # (jurisdiction, right family) with a public/network win
    pending: dict[tuple[int, int], int]  # (jurisdiction, right family) -> open pending cases
    organisations: dict[int, int]  # jurisdiction -> active organisations present

    def points(self, right_id: int, target_id: int) -> float:
        return target_points(
            won=(target_id, right_id) in self.won,
            pending=self.pending.get((target_id, right_id), 0),
            organisations=self.organisations.get(target_id, 0),
        )


def target_facts(
    target_ids: Iterable[int] | None = None, right_ids: Iterable[int] | None = None
) -> TargetFacts:
    """Ranking facts for target jurisdictions and rights (all when None), from the derived
    tables."""
    won_q = select(distinct(W.jurisdiction_id), W.right_id).where(W.is_open.is_(True))
    pending_q = (
        select(WP.jurisdiction_id, WP.right_id, func.count())
        .where(WP.is_open.is_(True))
        .group_by(WP.jurisdiction_id, WP.right_id)
    )
    org_q = select(Organisation.id, Organisation.country_id).where(
        Organisation.is_active.is_(True), Organisation.country_id.is_not(None)
    )
    present_q = (
        select(
            organisation_jurisdictions.c.organisation_id,
            organisation_jurisdictions.c.jurisdiction_id,
        )
        .join(Organisation, Organisation.id == organisation_jurisdictions.c.organisation_id)
        .where(Organisation.is_active.is_(True))
    )
    if target_ids is not None:
        target_ids = sorted(set(target_ids))
        if not target_ids:
            return TargetFacts(set(), {}, {})
        won_q = won_q.where(W.jurisdiction_id.in_(target_ids))
        pending_q = pending_q.where(WP.jurisdiction_id.in_(target_ids))
        org_q = org_q.where(Organisation.country_id.in_(target_ids))
        present_q = present_q.where(organisation_jurisdictions.c.jurisdiction_id.in_(target_ids))
    if right_ids is not None:
        right_ids = sorted(set(right_ids))
        won_q = won_q.where(W.right_id.in_(right_ids))
        pending_q = pending_q.where(WP.right_id.in_(right_ids))
    won = {(j, r) for j, r in db.session.execute(won_q)}
    pending = {(j, r): n for j, r, n in db.session.execute(pending_q)}
    orgs: dict[int, set[int]] = defaultdict(set)
    for org_id, jur_id in db.session.execute(org_q):
        orgs[jur_id].add(org_id)
    for org_id, jur_id in db.session.execute(present_q):
        orgs[jur_id].add(org_id)
    return TargetFacts(won, pending, {j: len(o) for j, o in orgs.items()})


# --- refresh ---------------------------------------------------------------------------------
@dataclass
class RefreshResult:
    created: dict[tuple[int, int], int] = field(default_factory=dict)  # (R, T) -> new row id
    updated: int = 0
    removed: int = 0
    pairs: int = 0  # (R, T) pairs recomputed
    # (R, T) of a new row -> (case, jurisdiction, forum) of the changed cases' wins behind it
    sources: dict[tuple[int, int], list[tuple[int, int, int]]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {"created": len(self.created), "updated": self.updated, "removed": self.removed}


def _article_key(number: str):
    match = re.match(r"(\d+)", number)
    return (int(match.group(1)) if match else 10**9, number)


def _basis(top: _Top, target_id: int, bindings: Bindings, ref: _Ref) -> dict[str, Any]:
    tbit = bindings.bit.get(target_id, 0)
    shared = [
        {
            "code": ref.instrument_codes.get(inst, "?"),
            "articles": sorted(
                {a.strip() for a in (articles or "").split(",") if a.strip()}, key=_article_key
            ),
        }
        for inst, articles in top.instruments.items()
        if bindings.ratified.get(inst, 0) & tbit
    ]
    shared.sort(key=lambda i: i["code"])
    system = None
    if top.system_id is not None and bindings.members.get(top.system_id, 0) & tbit:
        system = ref.system_codes.get(top.system_id)
    forum = ref.forums.get(top.forum_id)
    return {
        "instruments": shared,
        "system": system,
        "forum": forum[0] if forum else None,
        "forum_name": forum[1] if forum else None,
        "level": forum[2] if forum else None,
        "year": top.decided_on.year if top.decided_on else None,
        "jurisdiction": ref.jurisdiction_codes.get(top.jurisdiction_id),
    }


@dataclass
class _Ref:
    instrument_codes: dict[int, str]
    system_codes: dict[int, str]
    jurisdiction_codes: dict[int, str]
    forums: dict[int, tuple[str, str, str]]


def _load_ref() -> _Ref:
    codes = dict(db.session.execute(select(Jurisdiction.id, Jurisdiction.code)).tuples().all())
    systems = {
        j: c
        for j, c in db.session.execute(
            select(Jurisdiction.id, Jurisdiction.code).where(
                Jurisdiction.kind == JurisdictionKind.SYSTEM
            )
        ).tuples()
    }
    return _Ref(
        dict(db.session.execute(select(Instrument.id, Instrument.code)).tuples().all()),
        systems,
        codes,
        {
            f: (code, name, level.value)
            for f, code, name, level in db.session.execute(
                select(Forum.id, Forum.code, Forum.name, Forum.level)
            ).tuples()
        },
    )


DERIVED = (
    "supported",
    "public_wins",
    "open_wins",
    "open_jurisdictions",
    "sources",
    "source_case_id",
    "source_proceeding_id",
    "win_points",
    "basis",
    "won_in_target",
    "pending_in_target",
    "organisations_in_target",
    "score",
)


def _derived(
    key: tuple[int, int],
    support: Support | None,
    facts: TargetFacts,
    bindings: Bindings,
    ref: _Ref,
) -> dict[str, Any]:
    right_id, target_id = key
    won = (target_id, right_id) in facts.won
    pending = facts.pending.get((target_id, right_id), 0)
    orgs = facts.organisations.get(target_id, 0)
    values: dict[str, Any] = {
        "supported": False,
        "public_wins": 0,
        "open_wins": 0,
        "open_jurisdictions": 0,
        "sources": "[]",
        "source_case_id": None,
        "source_proceeding_id": None,
        "win_points": 0.0,
        "basis": "{}",
        "won_in_target": won,
        "pending_in_target": pending,
        "organisations_in_target": orgs,
    }
    if support is not None and support.supported:
        values["supported"] = True
        values["public_wins"] = support.public_wins
        values["open_wins"] = support.open_wins
        values["open_jurisdictions"] = support.open_j.bit_count()
        ranked = support.tops  # best first, one per jurisdiction
        if ranked:
            best = ranked[0]
            values["sources"] = json.dumps(
                [ref.jurisdiction_codes.get(t.jurisdiction_id) for t in ranked[:MAX_SOURCES]]
            )
            values["source_case_id"] = best.case_id
            values["source_proceeding_id"] = best.proceeding_id
            values["win_points"] = best.points
            values["basis"] = json.dumps(
                _basis(best, target_id, bindings, ref), sort_keys=True, ensure_ascii=False
            )
    values["score"] = round(
        target_points(won=won, pending=pending, organisations=orgs) + values["win_points"], 2
    )
    return values


def _write(
    computed: dict[tuple[int, int], dict[str, Any]],
    existing: dict[tuple[int, int], tuple],
    result: RefreshResult,
) -> None:
    """Insert, update or delete opportunity rows so they match `computed` on its keys."""
    inserts, updates, deletes = [], [], []
    for key, values in computed.items():
        row = existing.get(key)
        if row is None:
            if values["supported"]:
                inserts.append(
                    {
                        "right_id": key[0],
                        "target_jurisdiction_id": key[1],
                        "status": OpportunityStatus.OPEN,
                        **values,
                    }
                )
            continue
        row_id, status, *old = row
        if not values["supported"] and status is OpportunityStatus.OPEN:
            deletes.append(row_id)
        elif tuple(old) != tuple(values[k] for k in DERIVED):
            updates.append({"id": row_id, **values})
    if deletes:
        for chunk in _chunks(deletes):
            db.session.execute(
                delete(Opportunity).where(Opportunity.id.in_(chunk)),
                execution_options=NO_SYNC,
            )
        result.removed += len(deletes)
    if updates:
        db.session.execute(update(Opportunity), updates, execution_options=NO_SYNC)
        result.updated += len(updates)
    if inserts:
        db.session.execute(insert(Opportunity), inserts)
        new_keys = [(i["right_id"], i["target_jurisdiction_id"]) for i in inserts]
        for chunk in _chunks(new_keys, 400):
            for right_id, target_id, row_id in db.session.execute(
                select(
                    Opportunity.right_id, Opportunity.target_jurisdiction_id, Opportunity.id
                ).where(tuple_(Opportunity.right_id, Opportunity.target_jurisdiction_id).in_(chunk))
            ):
                result.created[(right_id, target_id)] = row_id


def _chunks(items: list, size: int = 900):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing(right_ids: Iterable[int] | None = None) -> dict[tuple[int, int], tuple]:
    cols = [getattr(Opportunity, k) for k in DERIVED]
    stmt = select(
        Opportunity.right_id,
        Opportunity.target_jurisdiction_id,
        Opportunity.id,
        Opportunity.status,
        *cols,
    )
    if right_ids is not None:
        stmt = stmt.where(Opportunity.right_id.in_(sorted(set(right_ids))))
    return {(r[0], r[1]): tuple(r[2:]) for r in db.session.execute(stmt)}


def refresh_all(*, today: date | None = None) -> RefreshResult:
    """Rebuild every fact and every opportunity row (set-based). Flushes."""
    today = today or date.today()
    db.session.flush()
    if db.session.get_bind().dialect.name == "postgresql":
        # The aggregations of the rebuild spill to disk at the default 4 MB.
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))
    for model in (WI, W, WP):
        db.session.execute(delete(model), execution_options=NO_SYNC)
    db.session.execute(insert(W).from_select(WIN_COLUMNS, win_facts_select()))
    db.session.execute(
        insert(WI).from_select(
            ("proceeding_id", "right_id", "instrument_id", "articles"), win_instruments_select()
        )
    )
    db.session.execute(insert(WP).from_select(PENDING_COLUMNS, pending_facts_select()))
    rebuild_groups(None, today=today)
    bindings = load_bindings()
    ref = _load_ref()
    support = compute_support(bindings, load_groups(), today=today)
    facts = target_facts()
    existing = _existing()
    keys = set(support) | set(existing)
    computed = {k: _derived(k, support.get(k), facts, bindings, ref) for k in keys}
    result = RefreshResult(pairs=len(keys))
    _write(computed, existing, result)
    return result


CASE_IDS = bindparam("opp_case_ids", expanding=True)
INSTRUMENT_COLUMNS = ("proceeding_id", "right_id", "instrument_id", "articles")


@cache
def _case_statements(source: Any = CASE_IDS) -> dict[str, Any]:
    """The statements of refresh_cases, built once (they are costly to build) for where the
    case ids come from: the expanding parameter, or the table of case_sets."""
    return {
        "old_wins": select(*(getattr(W, c) for c in WIN_COLUMNS)).where(W.case_id.in_(source)),
        "old_instruments": select(*(getattr(WI, c) for c in INSTRUMENT_COLUMNS))
        .join(W, and_(W.proceeding_id == WI.proceeding_id, W.right_id == WI.right_id))
        .where(W.case_id.in_(source)),
        "old_pending": select(*(getattr(WP, c) for c in PENDING_COLUMNS)).where(
            WP.case_id.in_(source)
        ),
        "wins": win_facts_select(source),
        "instruments": win_instruments_select(source),
        "pending": pending_facts_select(source),
        "delete_instruments": delete(WI).where(
            tuple_(WI.right_id, WI.proceeding_id).in_(
                select(W.right_id, W.proceeding_id).where(W.case_id.in_(source))
            )
        ),
        "delete_wins": delete(W).where(W.case_id.in_(source)),
        "delete_pending": delete(WP).where(WP.case_id.in_(source)),
        # Core (table) insert: with an ORM insert, the parameters would be taken as a row.
        "insert_instruments": insert(WI.__table__).from_select(
            INSTRUMENT_COLUMNS, win_instruments_select(source)
        ),
    }


def _refresh_case_facts(ids: list[int]):
    run = db.session.execute
    old_w, new_w, old_i, new_i, old_p, new_p = set(), set(), set(), set(), set(), set()
    with case_sets.case_batches(ids, CASE_IDS, 900) as (source, batches):
        st = _case_statements(source)
        for params in batches:
            ow = set(run(st["old_wins"], params).tuples())
            oi = set(run(st["old_instruments"], params).tuples())
            op_ = set(run(st["old_pending"], params).tuples())
            nw = set(run(st["wins"], params).tuples())
            np_ = set(run(st["pending"], params).tuples())
            if nw != ow:
                run(st["delete_instruments"], params, execution_options=NO_SYNC)
                run(st["delete_wins"], params, execution_options=NO_SYNC)
                if nw:
                    run(insert(W), [dict(zip(WIN_COLUMNS, row, strict=True)) for row in nw])
                    run(st["insert_instruments"], params)
                ni = set(run(st["old_instruments"], params).tuples())
            else:
                ni = set(run(st["instruments"], params).tuples()) if nw else set()
                if ni != oi:
                    run(st["delete_instruments"], params, execution_options=NO_SYNC)
                    if ni:
                        rows = [dict(zip(INSTRUMENT_COLUMNS, r, strict=True)) for r in ni]
                        run(insert(WI), rows)
            if np_ != op_:
                run(st["delete_pending"], params, execution_options=NO_SYNC)
                if np_:
                    run(insert(WP), [dict(zip(PENDING_COLUMNS, row, strict=True)) for row in np_])
            old_w |= ow
            new_w |= nw
            old_i |= oi
            new_i |= ni
            old_p |= op_
            new_p |= np_
    return old_w, new_w, old_i, new_i, old_p, new_p


def refresh_cases(case_ids: Iterable[int], *, today: date | None = None) -> RefreshResult:
    """Rebuild these cases' facts (ids of deleted cases drop theirs) and, when they changed,
    recompute the (R, T) pairs they touch. Flushes."""
    ids = sorted(set(case_ids))
    result = RefreshResult()
    if not ids:
        return result
    today = today or date.today()
    old_w, new_w, old_i, new_i, old_p, new_p = _refresh_case_facts(ids)
    if (old_w, old_i, old_p) == (new_w, new_i, new_p):
        return result

    # Wins whose row or instruments changed: their right's targets, before and after.
    def keyed(wins, instruments):
        inst: dict[tuple[int, int], set[int]] = defaultdict(set)
        for pid, rid, inst_id, _articles in instruments:
            inst[(pid, rid)].add(inst_id)
        return {(w[0], w[1]): (w, frozenset(inst.get((w[0], w[1]), ()))) for w in wins}

    before, after = keyed(old_w, old_i), keyed(new_w, new_i)
    bindings = load_bindings()
    support_masks: dict[int, int] = defaultdict(int)  # right -> targets to recompute
    facts_pairs: set[tuple[int, int]] = set()  # (right, target) whose target facts changed
    group_pairs: set[tuple[int, int]] = set()  # (right, jurisdiction) whose groups changed
    for key in set(before) | set(after):
        if before.get(key) == after.get(key):
            continue
        for version in (before.get(key), after.get(key)):
            if version is None:
                continue
            win, instruments = version
            facts_pairs.add((win[1], win[3]))  # a win on R in J: J's "no win yet" for R
            if win[6]:  # primary: its groups, and the targets it binds
                group_pairs.add((win[1], win[3]))
                support_masks[win[1]] |= bindings.targets(instruments, win[10])
    for row in old_p ^ new_p:
        facts_pairs.add((row[1], row[2]))

    if group_pairs:
        rebuild_groups(group_pairs, today=today)
    support = compute_support(
        bindings, load_groups(support_masks), only=dict(support_masks), today=today
    )
    keys = {
        (r, t) for r, mask in support_masks.items() for t in bindings.states(mask)
    } | facts_pairs
    if not keys:
        return result
    facts = target_facts({t for _, t in keys}, {r for r, _ in keys})
    existing = {k: v for k, v in _existing({r for r, _ in keys}).items() if k in keys}
    ref = _load_ref()
    computed = {}
    for key in keys:
        if key[0] in support_masks and bindings.bit.get(key[1], 0) & support_masks[key[0]]:
            computed[key] = _derived(key, support.get(key), facts, bindings, ref)
        elif key in existing:
            # Only the target facts changed: keep the support, recompute the score.
            _row_id, _status, *old = existing[key]
            values = dict(zip(DERIVED, old, strict=True))
            values["won_in_target"] = (key[1], key[0]) in facts.won
            values["pending_in_target"] = facts.pending.get((key[1], key[0]), 0)
            values["organisations_in_target"] = facts.organisations.get(key[1], 0)
            values["score"] = round(facts.points(*key) + (values["win_points"] or 0.0), 2)
            computed[key] = values
    result.pairs = len(computed)
    _write(computed, existing, result)
    for right_id, target_id in result.created:
        tbit = bindings.bit.get(target_id, 0)
        result.sources[(right_id, target_id)] = [
            (win[2], win[3], win[7])
            for win, instruments in after.values()
            if win[1] == right_id
            and win[6]
            and win[3] != target_id
            and bindings.targets(instruments, win[10]) & tbit
        ]
    return result


# --- reading ---------------------------------------------------------------------------------
def visible_clause(user: Any, audience: Confidentiality | None = None) -> ColumnElement[bool]:
    """Over Opportunity: the user (for this audience) may see one of its supporting wins."""
    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    allowed = AUDIENCE_LEVELS[audience or C.RESTRICTED]
    clauses: list[ColumnElement[bool]] = []
    if C.NETWORK in allowed:
        clauses.append(Opportunity.open_wins > 0)
    elif C.PUBLIC in allowed:
        clauses.append(Opportunity.public_wins > 0)
    if C.ORGANISATION in allowed or C.RESTRICTED in allowed:
        # Rows without a public or network win that this user may see a win of: few, so an
        # uncorrelated IN (computed once) rather than a subquery per row, which PostgreSQL
        # costed so high that it JIT-compiled the list's count (1.2 s).
        row = aliased(Opportunity, name="opp_private")
        seen_win = (
            select(W.proceeding_id)
            .join(Case, Case.id == W.case_id)
            .where(
                W.right_id == row.right_id,
                W.is_open.is_(False),
                supports(row.target_jurisdiction_id, row.right_id),
                case_filter(user, audience),
            )
            .correlate(row)
        )
        private = (
            select(row.id)
            .where(row.supported.is_(True), row.open_wins == 0, exists(seen_win))
            .correlate(None)
        )
        clauses.append(Opportunity.id.in_(private))
    return or_(*clauses) if clauses else false()


def visible_opportunities(
    user: Any,
    *,
    right_ids: Iterable[int] = (),
    target_ids: Iterable[int] = (),
    organisation_ids: Iterable[int] = (),
    statuses: Iterable[OpportunityStatus] = ACTIVE,
    audience: Confidentiality | None = None,
    columns: tuple = (),
):
    """A statement over the opportunities the user may see, best first.

    For the list page, the report and the API's /opportunities. With `columns` (e.g.
    (Opportunity.id,)) it selects only those: the list pages and counts on narrow rows, then
    loads the page's rows by id.
    """
    stmt = select(*(columns or (Opportunity,))).where(visible_clause(user, audience))
    right_ids, target_ids = list(right_ids), list(target_ids)
    organisation_ids, statuses = list(organisation_ids), list(statuses)
    if right_ids:
        stmt = stmt.where(Opportunity.right_id.in_(right_ids))
    if target_ids:
        stmt = stmt.where(Opportunity.target_jurisdiction_id.in_(target_ids))
    if organisation_ids:
        stmt = stmt.where(Opportunity.assigned_organisation_id.in_(organisation_ids))
    if statuses:
        stmt = stmt.where(Opportunity.status.in_(statuses))
    return stmt.order_by(Opportunity.score.desc(), Opportunity.id)


def load_page(ids: list[int]) -> list[Opportunity]:
    """The rows of these ids, in this order, with their right, target and assignee."""
    if not ids:
        return []
    from sqlalchemy.orm import joinedload

    rows = db.session.scalars(
        select(Opportunity)
        .where(Opportunity.id.in_(ids))
        .options(
            joinedload(Opportunity.right),
            joinedload(Opportunity.target_jurisdiction),
            joinedload(Opportunity.assigned_organisation),
        )
    ).all()
    by_id = {r.id: r for r in rows}
    return [by_id[i] for i in ids if i in by_id]


@dataclass
class WinView:
    """A supporting win as a user may see it (detail page, convert, private rows on lists)."""

    proceeding_id: int
    case_id: int
    title: str
    confidentiality: Confidentiality
    jurisdiction_id: int
    forum_id: int
    decided_on: date | None
    points: float
    basis: dict[str, Any] = field(default_factory=dict)


def supporting_wins(
    user: Any,
    opportunity: Opportunity,
    *,
    limit: int | None = 50,
    today: date | None = None,
    case_ids=None,
    audience: Confidentiality | None = None,
) -> tuple[list[WinView], int]:
    """The supporting wins the user may see, best first (at most `limit`), and their number.

    case_ids: a subquery of case ids to choose from (the report's selection).
    """
    today = today or date.today()
    where = [
        W.right_id == opportunity.right_id,
        supports(opportunity.target_jurisdiction_id, opportunity.right_id),
        case_filter(user, audience),
    ]
    if case_ids is not None:
        where.append(W.case_id.in_(case_ids))
    # Ranked in SQL (a right's supporting wins may run into thousands); the points shown
    # are recomputed in Python, as everywhere else.
    stmt = (
        select(
            W.proceeding_id,
            W.case_id,
            Case.title,
            Case.confidentiality,
            W.jurisdiction_id,
            W.forum_id,
            W.level_points,
            W.decided_on,
            W.system_id,
        )
        .join(Case, Case.id == W.case_id)
        .where(*where)
        .order_by(_points_sql(today).desc(), W.proceeding_id)
    )
    chosen = db.session.execute(stmt if limit is None else stmt.limit(limit)).all()
    total = len(chosen)
    if limit is not None and total >= limit:
        total = db.session.scalar(
            select(func.count()).select_from(W).join(Case, Case.id == W.case_id).where(*where)
        )
    if not chosen:
        return [], total
    instruments: dict[int, dict[int, str | None]] = defaultdict(dict)
    for chunk in _chunks([r.proceeding_id for r in chosen]):
        for pid, inst_id, articles in db.session.execute(
            select(WI.proceeding_id, WI.instrument_id, WI.articles).where(
                WI.right_id == opportunity.right_id, WI.proceeding_id.in_(chunk)
            )
        ):
            instruments[pid][inst_id] = articles
    bindings = load_bindings()
    ref = _load_ref()
    out = []
    for r in chosen:
        points = win_points(r.level_points, r.decided_on, today)
        top = _Top(
            points,
            r.proceeding_id,
            opportunity.right_id,
            r.case_id,
            r.jurisdiction_id,
            r.forum_id,
            r.decided_on,
            instruments.get(r.proceeding_id, {}),
            r.system_id,
        )
        out.append(
            WinView(
                r.proceeding_id,
                r.case_id,
                r.title,
                r.confidentiality,
                r.jurisdiction_id,
                r.forum_id,
                r.decided_on,
                points,
                _basis(top, opportunity.target_jurisdiction_id, bindings, ref),
            )
        )
    return out, total


def wins_decided_since(user: Any, opportunity: Opportunity, day: date) -> int:
    """How many supporting wins the user may see were decided on or after `day` (e.g. since
    the opportunity was dismissed: a dismissed opportunity does not reopen by itself)."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(W)
            .join(Case, Case.id == W.case_id)
            .where(
                W.right_id == opportunity.right_id,
                supports(opportunity.target_jurisdiction_id, opportunity.right_id),
                W.decided_on >= day,
                case_filter(user),
            )
        )
        or 0
    )


def best_visible_win(user: Any, opportunity: Opportunity) -> WinView | None:
    wins, _total = supporting_wins(user, opportunity, limit=1)
    return wins[0] if wins else None


def basis_facts(opportunity: Opportunity) -> dict[str, Any]:
    try:
        data = json.loads(opportunity.basis or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def basis_text(opportunity_or_facts: Opportunity | dict[str, Any] | None) -> str:
    """The basis in words: "Both bound by ECHR art. 5; European Court of Human Rights, 2021"."""
    if opportunity_or_facts is None:
        return ""
    data = (
        opportunity_or_facts
        if isinstance(opportunity_or_facts, dict)
        else basis_facts(opportunity_or_facts)
    )
    parts = []
    instruments = data.get("instruments") or []
    if instruments:
        bound = "; ".join(
            i["code"]
            + (
                " " + _("art. %(numbers)s", numbers=", ".join(i["articles"]))
                if i.get("articles")
                else ""
            )
            for i in instruments
        )
        parts.append(_("both bound by %(instruments)s", instruments=bound))
    if data.get("system"):
        parts.append(_("both under the %(system)s system", system=data["system"]))
    forum = data.get("forum_name") or data.get("forum") or ""
    if data.get("year"):
        parts.append(_("win before the %(forum)s (%(year)s)", forum=forum, year=data["year"]))
    elif forum:
        parts.append(_("win before the %(forum)s", forum=forum))
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] if text else ""


def source_codes(opportunity: Opportunity) -> list[str]:
    try:
        codes = json.loads(opportunity.sources or "[]")
    except ValueError:
        return []
    return [c for c in codes if isinstance(c, str)]


def pending_cases_for(
    user: Any, pairs: Iterable[tuple[int, int]], *, limit: int = 5
) -> dict[tuple[int, int], list[tuple[int, str]]]:
    """Visible active cases per (target jurisdiction, right family) that could cite a win,
    by title, at most `limit` per pair."""
    pairs = sorted(set(pairs))
    if not pairs:
        return {}
    # Two steps, so that no planner drives this from all cases by confidentiality: the
    # pairs' cases from the index, then the visible ones among them.
    by_case: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for jur_id, right_id, case_id in db.session.execute(
        select(WP.jurisdiction_id, WP.right_id, WP.case_id).where(
            or_(*(and_(WP.jurisdiction_id == j, WP.right_id == r) for j, r in pairs))
        )
    ):
        by_case[case_id].append((jur_id, right_id))
    found: dict[tuple[int, int], list[tuple[str, int]]] = defaultdict(list)
    for chunk in _chunks(sorted(by_case)):
        for case_id, title in db.session.execute(
            select(Case.id, Case.title).where(Case.id.in_(chunk), case_filter(user))
        ):
            for pair in by_case[case_id]:
                found[pair].append((title, case_id))
    return {
        pair: [(case_id, title) for title, case_id in sorted(cases)[:limit]]
        for pair, cases in found.items()
    }


def pending_count(user: Any, target_id: int, right_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(WP)
            .join(Case, Case.id == WP.case_id)
            .where(WP.jurisdiction_id == target_id, WP.right_id == right_id, case_filter(user))
        )
        or 0
    )


def organisations_in(target_ids: Iterable[int]) -> dict[int, list[Organisation]]:
    """Active organisations present in (or based in) each jurisdiction."""
    target_ids = set(target_ids)
    if not target_ids:
        return {}
    out: dict[int, dict[int, Organisation]] = defaultdict(dict)
    for org in db.session.scalars(
        select(Organisation).where(
            Organisation.is_active.is_(True), Organisation.country_id.in_(target_ids)
        )
    ):
        out[org.country_id][org.id] = org
    for org, jur_id in db.session.execute(
        select(Organisation, organisation_jurisdictions.c.jurisdiction_id)
        .join(
            organisation_jurisdictions,
            organisation_jurisdictions.c.organisation_id == Organisation.id,
        )
        .where(
            Organisation.is_active.is_(True),
            organisation_jurisdictions.c.jurisdiction_id.in_(target_ids),
        )
    ):
        out[jur_id][org.id] = org
    return {j: sorted(o.values(), key=lambda x: x.name) for j, o in out.items()}


def from_cases(
    user: Any, audience: Confidentiality, case_ids, *, limit: int
) -> list[tuple[Opportunity, WinView | None]]:
    """Active opportunities supported by a win among `case_ids` (a subquery of visible ids,
    already narrowed to the audience), best first, each with the best of those wins."""
    stmt = (
        select(Opportunity)
        .where(
            Opportunity.status.in_(ACTIVE),
            exists(
                select(W.proceeding_id)
                .where(
                    W.right_id == Opportunity.right_id,
                    W.case_id.in_(case_ids),
                    supports(Opportunity.target_jurisdiction_id, Opportunity.right_id),
                )
                .correlate_except(W)
            ),
        )
        .order_by(Opportunity.score.desc(), Opportunity.id)
        .limit(limit)
    )
    out = []
    for row in db.session.scalars(stmt):
        wins, _n = supporting_wins(user, row, limit=1, case_ids=case_ids, audience=audience)
        if wins:
            out.append((row, wins[0]))
    return out
