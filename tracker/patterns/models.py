"""Knock-on opportunities, watches and in-app notifications."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.types import Confidentiality, UTCDateTime, enum_type, utcnow


class OpportunityStatus(enum.StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    DISMISSED = "dismissed"
    CONVERTED = "converted"


class Opportunity(db.Model):
    """Wins on a right R elsewhere that could be leveraged in one target state T.

    One row per (right, target): the coordinator's work item (status, assignment, dismissal,
    the case opened from it) plus ranking facts derived from the supporting wins by the
    refresh (tracker/patterns/opportunities.py). Every derived number counts public and
    network wins and cases only, so it is the same for everyone who may see the row.
    """

    __tablename__ = "opportunities"
    __table_args__ = (
        # One row per (right, target): a dismissed opportunity stays dismissed.
        UniqueConstraint("right_id", "target_jurisdiction_id"),
        # The list orders by score and counts visible rows (open_wins > 0, see
        # opportunities.visible_clause): both indexes cover that, so neither reads the rows.
        Index("ix_opportunities_status_score", "status", "score", "open_wins", "id"),
        Index("ix_opportunities_score", "score", "id", "status", "open_wins"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    right_id: Mapped[int] = mapped_column(ForeignKey("rights.id", ondelete="CASCADE"))
    target_jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[OpportunityStatus] = mapped_column(
        enum_type(OpportunityStatus, "opportunity_status"), default=OpportunityStatus.OPEN
    )
    assigned_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    assigned_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    dismissed_reason: Mapped[str | None] = mapped_column(Text)
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # Derived by the refresh (never edited by a person).
    supported: Mapped[bool] = mapped_column(default=True)  # some win (any level) supports it
    public_wins: Mapped[int] = mapped_column(default=0)  # supporting wins of public cases
    open_wins: Mapped[int] = mapped_column(default=0)  # ... of public and network cases
    open_jurisdictions: Mapped[int] = mapped_column(default=0)  # where those wins are
    sources: Mapped[str] = mapped_column(Text, default="[]")  # JSON: codes, best first (<= 5)
    # The best public/network supporting win (derived, so no foreign key), its points (recency
    # and forum level) and its basis for T as JSON facts, worded at display time.
    source_case_id: Mapped[int | None]
    source_proceeding_id: Mapped[int | None]
    win_points: Mapped[float] = mapped_column(Float, default=0.0)
    basis: Mapped[str] = mapped_column(Text, default="{}")
    won_in_target: Mapped[bool] = mapped_column(default=False)
    pending_in_target: Mapped[int] = mapped_column(default=0)
    organisations_in_target: Mapped[int] = mapped_column(default=0)
    score: Mapped[float] = mapped_column(Float, default=0.0)

    right = relationship("Right")
    target_jurisdiction = relationship("Jurisdiction")
    assigned_organisation = relationship("Organisation", foreign_keys=[assigned_organisation_id])


class OpportunityWin(db.Model):
    """Derived: a winning proceeding and a right family it is a win on (rules.py).

    The facts the opportunities are computed from; rebuilt by the refresh for the cases it is
    given (all on a full refresh). Plain integer ids, no foreign keys: the refresh must still
    find the rows of a deleted case to know which opportunities it supported.
    """

    __tablename__ = "opportunity_wins"
    __table_args__ = (
        Index("ix_opportunity_wins_case", "case_id"),
        Index("ix_opportunity_wins_place", "jurisdiction_id", "right_id", "is_open"),
        {"sqlite_with_rowid": False},  # clustered by right: fewer b-trees to fill
    )

    right_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    proceeding_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    case_id: Mapped[int]
    jurisdiction_id: Mapped[int]  # the case's
    confidentiality: Mapped[Confidentiality] = mapped_column(
        enum_type(Confidentiality, "opportunity_win_confidentiality")
    )
    is_open: Mapped[bool]  # public or network: counted in every derived number
    # The most specific right won: opportunities are per primary right (a parent right is
    # dropped when a child of it is won by the same proceeding).
    is_primary: Mapped[bool]
    forum_id: Mapped[int]
    level_points: Mapped[int]
    decided_on: Mapped[date | None]  # decided on, or filed on when no decision date
    system_id: Mapped[int | None]  # a regional court's system: its members are targets


class OpportunityWinInstrument(db.Model):
    """Derived: an instrument behind a primary win on a right, with the articles invoked."""

    __tablename__ = "opportunity_win_instruments"
    __table_args__ = ({"sqlite_with_rowid": False},)

    right_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    proceeding_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    instrument_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    articles: Mapped[str | None] = mapped_column(Text)  # "5, 13" (unordered), or none


class OpportunityWinGroup(db.Model):
    """Derived: the primary wins on a right in one jurisdiction that bind the same states
    (same instruments, same regional system) and share a confidentiality level: how many,
    and the best of them (recency and forum level). Opportunities are fanned out from these
    groups, so a change reads a few hundred groups of a right, not its thousands of wins."""

    __tablename__ = "opportunity_win_groups"
    __table_args__ = ({"sqlite_with_rowid": False},)

    right_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    jurisdiction_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    channels: Mapped[str] = mapped_column(String(400), primary_key=True)  # "3,7": instruments
    system_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # 0: none
    confidentiality: Mapped[Confidentiality] = mapped_column(
        enum_type(Confidentiality, "opportunity_group_confidentiality"), primary_key=True
    )
    wins: Mapped[int]
    best_proceeding_id: Mapped[int]
    best_case_id: Mapped[int]
    best_forum_id: Mapped[int]
    best_level_points: Mapped[int]
    best_decided_on: Mapped[date | None]


class OpportunityPending(db.Model):
    """Derived: an active case (filed, pending, on appeal) and a right family it counts for."""

    __tablename__ = "opportunity_pending"
    __table_args__ = (
        Index("ix_opportunity_pending_place", "jurisdiction_id", "right_id"),
        {"sqlite_with_rowid": False},
    )

    case_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    right_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    jurisdiction_id: Mapped[int]
    is_open: Mapped[bool]


class WatchKind(enum.StrEnum):
    RIGHT = "right"
    JURISDICTION = "jurisdiction"
    FORUM = "forum"
    CASE = "case"


class Watch(db.Model):
    __tablename__ = "watches"
    __table_args__ = (UniqueConstraint("user_id", "kind", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[WatchKind] = mapped_column(enum_type(WatchKind, "watch_kind"))
    target_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    url: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PatternFact(db.Model):
    """Derived: what the patterns page groups by, one row per (case, proceeding, right family).

    `proceeding_id` 0 is the case itself, `right_id` 0 is "any right": every case has a row
    (case, 0, 0) and every proceeding a row (case, proceeding, 0); a case has a row (case, 0, R)
    when it counts for R by its tags or crosswalked provisions, and (case, proceeding, R) when
    the proceeding counts for R (tracker/patterns/rules.py), with the flags of the counting
    rule. Kept exact on every commit by tracker.patterns.facts (no foreign keys, so that the
    rows of a deleted case can still be found and subtracted).
    """

    __tablename__ = "pattern_facts"
    __table_args__ = ({"sqlite_with_rowid": False},)

    case_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    proceeding_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    right_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    jurisdiction_id: Mapped[int]  # the case's
    is_open: Mapped[bool]  # public or network: counted in pattern_totals
    forum_id: Mapped[int]  # 0 on case rows
    system_id: Mapped[int]  # the forum's regional system, or 0
    filed_on: Mapped[date | None]
    is_treat: Mapped[bool]  # a treatment of this proceeding names the right
    decided: Mapped[bool]
    won: Mapped[bool]  # a win on the right (on right 0: outcome win or partial win)
    lost: Mapped[bool]
    # The case's status and outcome, on its (case, 0, 0) row only: the case list's totals.
    status: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(String(20))


class PatternProvisionFact(db.Model):
    """Derived: a treatment of a provision the case invokes, before the proceeding's forum."""

    __tablename__ = "pattern_provision_facts"
    __table_args__ = ({"sqlite_with_rowid": False},)

    case_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    proceeding_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    provision_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    treatment: Mapped[str] = mapped_column(String(20), primary_key=True)
    forum_id: Mapped[int]
    filed_on: Mapped[date | None]
    is_open: Mapped[bool]


class PatternTotal(db.Model):
    """Derived: the numbers of the unfiltered patterns page over public and network cases.

    One row per view and cell (`view`, `right_id`, `col`, `sub`), counting distinct cases:
    matrix views "jurisdiction", "forum", "system" (col = the column's id; cases, decided,
    wins), "year" (right 0 or a right; col = year; cases = filed, wins, losses), "map" (col =
    jurisdiction; cases, wins), "provision-upheld", "provision-rejected",
    "provision-not_reached" (col = provision, sub = forum; cases); for the unfiltered case
    list (tracker.cases.queries): "list-forum" (col = forum; cases with a proceeding there),
    "status-<status>" and "outcome-<outcome>" (cases). The organisation and restricted cases
    a user may see are added when the page (or the list) is shown (tracker.patterns.queries).
    """

    __tablename__ = "pattern_totals"
    __table_args__ = ({"sqlite_with_rowid": False},)

    view: Mapped[str] = mapped_column(String(32), primary_key=True)
    right_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    col: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sub: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    cases: Mapped[int] = mapped_column(default=0)
    decided: Mapped[int] = mapped_column(default=0)
    wins: Mapped[int] = mapped_column(default=0)
    losses: Mapped[int] = mapped_column(default=0)
