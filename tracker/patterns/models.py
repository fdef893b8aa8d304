"""Knock-on opportunities, watches and in-app notifications."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.types import UTCDateTime, enum_type, utcnow


class OpportunityStatus(enum.StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    DISMISSED = "dismissed"
    CONVERTED = "converted"


class Opportunity(db.Model):
    """A win on a right in one state, and another state where it could be leveraged."""

    __tablename__ = "opportunities"
    __table_args__ = (
        # One row per (win, right, target): a dismissed opportunity stays dismissed.
        UniqueConstraint("source_proceeding_id", "right_id", "target_jurisdiction_id"),
        Index("ix_opportunities_status_score", "status", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    source_proceeding_id: Mapped[int] = mapped_column(
        ForeignKey("proceedings.id", ondelete="CASCADE")
    )
    right_id: Mapped[int] = mapped_column(ForeignKey("rights.id", ondelete="CASCADE"))
    target_jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="CASCADE"), index=True
    )
    instrument_id: Mapped[int | None] = mapped_column(ForeignKey("instruments.id"))
    basis: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[OpportunityStatus] = mapped_column(
        enum_type(OpportunityStatus, "opportunity_status"), default=OpportunityStatus.OPEN
    )
    assigned_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    assigned_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    dismissed_reason: Mapped[str | None] = mapped_column(Text)
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    source_case = relationship("Case", foreign_keys=[source_case_id])
    source_proceeding = relationship("Proceeding")
    right = relationship("Right")
    target_jurisdiction = relationship("Jurisdiction")
    instrument = relationship("Instrument")


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
