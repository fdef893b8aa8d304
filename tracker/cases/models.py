"""The matter (case), its proceedings, treatments, parties, events, links, implementation."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.types import Confidentiality, UTCDateTime, enum_type, utcnow


class CaseType(enum.StrEnum):
    INDIVIDUAL_COMPLAINT = "individual_complaint"
    CLASS_ACTION = "class_action"
    CONSTITUTIONAL_CHALLENGE = "constitutional_challenge"
    AMICUS_INTERVENTION = "amicus_intervention"
    TREATY_BODY_COMMUNICATION = "treaty_body_communication"
    ADVISORY_OPINION_REQUEST = "advisory_opinion_request"
    JUDICIAL_REVIEW = "judicial_review"
    OTHER = "other"


class Status(enum.StrEnum):
    PLANNED = "planned"
    FILED = "filed"
    PENDING = "pending"
    DECIDED = "decided"
    ON_APPEAL = "on_appeal"
    CLOSED = "closed"


class Outcome(enum.StrEnum):
    WIN = "win"
    PARTIAL_WIN = "partial_win"
    LOSS = "loss"
    SETTLED = "settled"
    WITHDRAWN = "withdrawn"
    INADMISSIBLE = "inadmissible"
    NONE_YET = "none_yet"


WINNING_OUTCOMES = frozenset({Outcome.WIN, Outcome.PARTIAL_WIN})


class Treatment(enum.StrEnum):
    UPHELD = "upheld"
    REJECTED = "rejected"
    NOT_REACHED = "not_reached"


class PartyRole(enum.StrEnum):
    CLAIMANT = "claimant"
    RESPONDENT = "respondent"
    INTERVENER = "intervener"
    OTHER = "other"


class TeamRole(enum.StrEnum):
    LEAD = "lead"
    MEMBER = "member"


class EventKind(enum.StrEnum):
    FILED = "filed"
    HEARING = "hearing"
    INTERIM_MEASURES = "interim_measures"
    COMMUNICATED = "communicated"
    JUDGMENT = "judgment"
    DECISION = "decision"
    APPEAL_LODGED = "appeal_lodged"
    IMPLEMENTATION = "implementation"
    DEADLINE = "deadline"
    OTHER = "other"


class LinkKind(enum.StrEnum):
    APPEAL_OF = "appeal_of"
    RELATED_TO = "related_to"
    CITES = "cites"
    REPLICATES = "replicates"


class Compliance(enum.StrEnum):
    NOT_STARTED = "not_started"
    PARTIAL = "partial"
    FULL = "full"
    NON_COMPLIANCE = "non_compliance"
    UNKNOWN = "unknown"


case_partners = Table(
    "case_partners",
    db.metadata,
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "organisation_id",
        ForeignKey("organisations.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

case_rights = Table(
    "case_rights",
    db.metadata,
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("right_id", ForeignKey("rights.id", ondelete="RESTRICT"), primary_key=True, index=True),
)

case_provisions = Table(
    "case_provisions",
    db.metadata,
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "provision_id",
        ForeignKey("provisions.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class Case(db.Model):
    """The matter: one strategic case, possibly moving through several forums."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("lead_organisation_id", "reference"),
        # Visibility first, then what the list's total and facets group by: they read the
        # matching set from this index alone, not from the (wide) rows.
        Index(
            "ix_cases_visibility",
            "confidentiality",
            "lead_organisation_id",
            "jurisdiction_id",
            "status",
            "outcome",
        ),
        Index("ix_cases_jurisdiction_status", "jurisdiction_id", "status"),
        # One per sort of the list, with the id tie-breaker (read in either direction).
        Index("ix_cases_updated_at_id", "updated_at", "id"),
        Index("ix_cases_title_id", "title", "id"),
        Index("ix_cases_status_id", "status", "id"),
        Index("ix_cases_outcome_id", "outcome", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The lead organisation's own reference; with it, the key for CSV upserts.
    reference: Mapped[str | None] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(300))
    case_type: Mapped[CaseType] = mapped_column(enum_type(CaseType, "case_type"))
    summary: Mapped[str | None] = mapped_column(Text)
    strategic_aim: Mapped[str | None] = mapped_column(Text)
    arguments: Mapped[str | None] = mapped_column(Text)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    lead_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    confidentiality: Mapped[Confidentiality] = mapped_column(
        enum_type(Confidentiality, "confidentiality"), default=Confidentiality.NETWORK
    )
    status: Mapped[Status] = mapped_column(enum_type(Status, "case_status"), default=Status.PLANNED)
    outcome: Mapped[Outcome] = mapped_column(
        enum_type(Outcome, "case_outcome"), default=Outcome.NONE_YET
    )
    opened_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    jurisdiction = relationship("Jurisdiction")
    lead_organisation = relationship("Organisation")
    partners = relationship("Organisation", secondary=case_partners)
    rights = relationship("Right", secondary=case_rights)
    provisions = relationship("Provision", secondary=case_provisions)
    team: Mapped[list[CaseMember]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )
    proceedings: Mapped[list[Proceeding]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Proceeding.position"
    )
    parties: Mapped[list[Party]] = relationship(back_populates="case", cascade="all, delete-orphan")
    events: Mapped[list[Event]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Event.occurred_on"
    )

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.title!r}>"


class CaseMember(db.Model):
    """A named member of the case team (the only people who see a restricted case)."""

    __tablename__ = "case_members"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[TeamRole] = mapped_column(
        enum_type(TeamRole, "team_role"), default=TeamRole.MEMBER
    )

    case: Mapped[Case] = relationship(back_populates="team")
    user = relationship("User")


class Party(db.Model):
    """A party. The pseudonym is shown to whoever sees the case; identity only to the team."""

    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    role: Mapped[PartyRole] = mapped_column(enum_type(PartyRole, "party_role"))
    pseudonym: Mapped[str] = mapped_column(String(200))
    full_name: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="parties")


class Proceeding(db.Model):
    """One stage of a matter before one forum. Patterns count at this level."""

    __tablename__ = "proceedings"
    __table_args__ = (
        CheckConstraint(
            "decided_on IS NULL OR filed_on IS NULL OR decided_on >= filed_on",
            name="decided_after_filed",
        ),
        Index("ix_proceedings_forum_outcome", "forum_id", "outcome"),
        # The list's first-filed sort and its year and forum facets, from the index alone.
        Index("ix_proceedings_case_filed_forum", "case_id", "filed_on", "forum_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id"))
    position: Mapped[int] = mapped_column(default=0)
    reference: Mapped[str | None] = mapped_column(String(120), index=True)
    filed_on: Mapped[date | None] = mapped_column(index=True)
    decided_on: Mapped[date | None]
    status: Mapped[Status] = mapped_column(enum_type(Status, "proceeding_status"))
    outcome: Mapped[Outcome] = mapped_column(
        enum_type(Outcome, "proceeding_outcome"), default=Outcome.NONE_YET
    )
    ecli: Mapped[str | None] = mapped_column(String(80))
    notes: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="proceedings")
    forum = relationship("Forum")
    treatments: Mapped[list[ProceedingTreatment]] = relationship(
        back_populates="proceeding", cascade="all, delete-orphan"
    )
    implementations: Mapped[list[Implementation]] = relationship(
        back_populates="proceeding", cascade="all, delete-orphan"
    )


class ProceedingTreatment(db.Model):
    """How a forum treated one provision or right argued in a proceeding."""

    __tablename__ = "proceeding_treatments"
    __table_args__ = (
        CheckConstraint("(provision_id IS NULL) <> (right_id IS NULL)", name="provision_xor_right"),
        UniqueConstraint("proceeding_id", "provision_id"),
        UniqueConstraint("proceeding_id", "right_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proceeding_id: Mapped[int] = mapped_column(ForeignKey("proceedings.id", ondelete="CASCADE"))
    provision_id: Mapped[int | None] = mapped_column(
        ForeignKey("provisions.id", ondelete="RESTRICT"), index=True
    )
    right_id: Mapped[int | None] = mapped_column(
        ForeignKey("rights.id", ondelete="RESTRICT"), index=True
    )
    treatment: Mapped[Treatment] = mapped_column(enum_type(Treatment, "treatment"))

    proceeding: Mapped[Proceeding] = relationship(back_populates="treatments")
    provision = relationship("Provision")
    right = relationship("Right")


class Implementation(db.Model):
    """After a decision: what was ordered and whether the state complied."""

    __tablename__ = "implementations"

    id: Mapped[int] = mapped_column(primary_key=True)
    proceeding_id: Mapped[int] = mapped_column(
        ForeignKey("proceedings.id", ondelete="CASCADE"), index=True
    )
    measures_ordered: Mapped[str] = mapped_column(Text)
    compliance: Mapped[Compliance] = mapped_column(
        enum_type(Compliance, "compliance"), default=Compliance.NOT_STARTED
    )
    supervision_stage: Mapped[str | None] = mapped_column(String(200))
    laws_or_policies_changed: Mapped[str | None] = mapped_column(Text)
    follow_up_notes: Mapped[str | None] = mapped_column(Text)
    reported_on: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    proceeding: Mapped[Proceeding] = relationship(back_populates="implementations")


class Event(db.Model):
    """A dated entry on a case's timeline. A deadline is an event with is_deadline set."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_deadlines", "is_deadline", "completed_at", "occurred_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    proceeding_id: Mapped[int | None] = mapped_column(
        ForeignKey("proceedings.id", ondelete="SET NULL")
    )
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind, "event_kind"))
    occurred_on: Mapped[date]
    title: Mapped[str] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)
    is_deadline: Mapped[bool] = mapped_column(default=False)
    remind_on: Mapped[date | None]
    # A computed filing limit is proposed unconfirmed; the litigator confirms it.
    confirmed: Mapped[bool] = mapped_column(default=True)
    computed_basis: Mapped[str | None] = mapped_column(Text)
    assigned_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="events")
    proceeding = relationship("Proceeding")


class CaseLink(db.Model):
    __tablename__ = "case_links"
    __table_args__ = (
        UniqueConstraint("source_case_id", "target_case_id", "kind"),
        CheckConstraint("source_case_id <> target_case_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    target_case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[LinkKind] = mapped_column(enum_type(LinkKind, "link_kind"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    source_case: Mapped[Case] = relationship(foreign_keys=[source_case_id])
    target_case: Mapped[Case] = relationship(foreign_keys=[target_case_id])
