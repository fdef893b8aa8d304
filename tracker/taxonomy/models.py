"""Reference data: jurisdictions, forums, instruments, provisions, ratifications, rights."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.types import UTCDateTime, enum_type


class AdminEdited:
    """`edited_at` is set by the admin pages (tracker.taxonomy.services) on every create and edit.

    `tracker reference load` never changes a row that carries it, so an administrator's edit
    outlives the shipped files (the loader reports the rows it kept). Who edited is in the
    audit trail, written in the same transaction: a users foreign key here could not be added
    to an existing SQLite table without rebuilding it (see migration 0010).
    """

    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def edited_in_app(self) -> bool:
        return self.edited_at is not None


class JurisdictionKind(enum.StrEnum):
    STATE = "state"  # an ISO 3166-1 country
    SYSTEM = "system"  # a supranational system: COE, IAS, AFR, EU, UN


class Jurisdiction(db.Model):
    __tablename__ = "jurisdictions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)  # ISO alpha-2, or a system code
    iso3: Mapped[str | None] = mapped_column(String(3), unique=True)
    numeric: Mapped[str | None] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[JurisdictionKind] = mapped_column(enum_type(JurisdictionKind, "jurisdiction_kind"))
    region: Mapped[str | None] = mapped_column(String(60))
    subregion: Mapped[str | None] = mapped_column(String(60))

    def __repr__(self) -> str:
        return f"<Jurisdiction {self.code}>"


class SystemMembership(db.Model):
    """A state's membership of a supranational system (e.g. FR in the Council of Europe)."""

    __tablename__ = "system_memberships"
    __table_args__ = (UniqueConstraint("system_id", "state_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    state_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="CASCADE"), index=True
    )
    joined_on: Mapped[date | None]
    left_on: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)

    system: Mapped[Jurisdiction] = relationship(foreign_keys=[system_id])
    state: Mapped[Jurisdiction] = relationship(foreign_keys=[state_id])


class InstrumentKind(enum.StrEnum):
    TREATY = "treaty"
    PROTOCOL = "protocol"
    SOFT_LAW = "soft_law"


class Instrument(AdminEdited, db.Model):
    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    short_title: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(400))
    kind: Mapped[InstrumentKind] = mapped_column(enum_type(InstrumentKind, "instrument_kind"))
    system_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("instruments.id"))
    # Whose acceptance opens individual complaints (an optional protocol, or the treaty itself
    # when it is an article declaration or compulsory).
    complaint_via_id: Mapped[int | None] = mapped_column(ForeignKey("instruments.id"))
    adopted_on: Mapped[date | None]
    supervisory_body: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)

    system: Mapped[Jurisdiction | None] = relationship()
    parent: Mapped[Instrument | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    complaint_via: Mapped[Instrument | None] = relationship(
        remote_side=[id], foreign_keys=[complaint_via_id]
    )
    provisions: Mapped[list[Provision]] = relationship(
        back_populates="instrument", order_by="Provision.position"
    )

    def __repr__(self) -> str:
        return f"<Instrument {self.code}>"


provision_rights = Table(
    "provision_rights",
    db.metadata,
    Column("provision_id", ForeignKey("provisions.id", ondelete="CASCADE"), primary_key=True),
    Column("right_id", ForeignKey("rights.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Provision(AdminEdited, db.Model):
    """An article of a treaty, or a principle / objective of a soft-law framework."""

    __tablename__ = "provisions"
    __table_args__ = (UniqueConstraint("instrument_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)  # "ECHR:5", "ECHR:P4-4"
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    # The provision's text or a summary of it, entered by an administrator (not in the files).
    text: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)
    # Shipped as a heading an administrator must complete from the published text.
    placeholder: Mapped[bool] = mapped_column(default=False)

    instrument: Mapped[Instrument] = relationship(back_populates="provisions")
    rights: Mapped[list[Right]] = relationship(secondary=provision_rights)

    def __repr__(self) -> str:
        return f"<Provision {self.code}>"


class Ratification(db.Model):
    """Which jurisdiction is bound by which instrument, since when."""

    __tablename__ = "ratifications"
    __table_args__ = (UniqueConstraint("instrument_id", "jurisdiction_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="CASCADE"), index=True
    )
    signed_on: Mapped[date | None]
    ratified_on: Mapped[date | None]
    ratified_year: Mapped[int | None]  # when only the year is known
    complaints_accepted_on: Mapped[date | None]
    denounced_on: Mapped[date | None]
    source: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)

    instrument: Mapped[Instrument] = relationship()
    jurisdiction: Mapped[Jurisdiction] = relationship()

    @property
    def is_party(self) -> bool:
        bound = self.ratified_on is not None or self.ratified_year is not None
        return bound and self.denounced_on is None


class Right(AdminEdited, db.Model):
    """The rights taxonomy (hierarchical)."""

    __tablename__ = "rights"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("rights.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    parent: Mapped[Right | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Right]] = relationship(back_populates="parent", order_by="Right.position")

    def __repr__(self) -> str:
        return f"<Right {self.code}>"


class ForumLevel(enum.StrEnum):
    FIRST_INSTANCE = "first_instance"
    APPEAL = "appeal"
    APEX = "apex"
    CONSTITUTIONAL = "constitutional"
    REGIONAL_COURT = "regional_court"
    REGIONAL_COMMISSION = "regional_commission"
    TREATY_BODY = "treaty_body"
    UN_SPECIAL_PROCEDURE = "un_special_procedure"


class Forum(db.Model):
    """The body that hears a proceeding."""

    __tablename__ = "forums"
    __table_args__ = (
        CheckConstraint(
            "filing_limit_months IS NULL OR filing_limit_months > 0", name="filing_limit_positive"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    level: Mapped[ForumLevel] = mapped_column(enum_type(ForumLevel, "forum_level"))
    instrument_id: Mapped[int | None] = mapped_column(ForeignKey("instruments.id"))
    filing_limit_months: Mapped[int | None]
    filing_limit_basis: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)

    jurisdiction: Mapped[Jurisdiction] = relationship()
    instrument: Mapped[Instrument | None] = relationship()

    def __repr__(self) -> str:
        return f"<Forum {self.code}>"
