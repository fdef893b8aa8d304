"""The model pleadings library: briefs, complaints, amicus templates that worked elsewhere."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.documents.models import DocumentKind
from tracker.extensions import db
from tracker.types import Confidentiality, UTCDateTime, enum_type, utcnow


def _association(name: str, other: str, other_table: str) -> Table:
    return Table(
        name,
        db.metadata,
        Column(
            "pleading_id", ForeignKey("model_pleadings.id", ondelete="CASCADE"), primary_key=True
        ),
        Column(other, ForeignKey(f"{other_table}.id", ondelete="CASCADE"), primary_key=True),
    )


pleading_rights = _association("pleading_rights", "right_id", "rights")
pleading_provisions = _association("pleading_provisions", "provision_id", "provisions")
pleading_forums = _association("pleading_forums", "forum_id", "forums")
# Regional or UN systems the pleading fits (jurisdictions of kind "system").
pleading_systems = _association("pleading_systems", "jurisdiction_id", "jurisdictions")


class ModelPleading(db.Model):
    __tablename__ = "model_pleadings"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[DocumentKind] = mapped_column(enum_type(DocumentKind, "document_kind"))
    language: Mapped[str] = mapped_column(String(8))
    summary: Mapped[str | None] = mapped_column(Text)
    usage_notes: Mapped[str | None] = mapped_column(Text)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    confidentiality: Mapped[Confidentiality] = mapped_column(
        enum_type(Confidentiality, "confidentiality"), default=Confidentiality.NETWORK
    )
    is_template: Mapped[bool] = mapped_column(default=False)
    endorsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    endorsed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation = relationship("Organisation")
    rights = relationship("Right", secondary=pleading_rights)
    provisions = relationship("Provision", secondary=pleading_provisions)
    forums = relationship("Forum", secondary=pleading_forums)
    systems = relationship("Jurisdiction", secondary=pleading_systems)
    versions = relationship(
        "Document",
        primaryjoin="Document.pleading_id == ModelPleading.id",
        order_by="Document.version.desc()",
        viewonly=True,
    )


class PleadingUse(db.Model):
    """A pleading used in a case: the library's track record."""

    __tablename__ = "pleading_uses"
    __table_args__ = (UniqueConstraint("pleading_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pleading_id: Mapped[int] = mapped_column(ForeignKey("model_pleadings.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    pleading = relationship("ModelPleading")
    case = relationship("Case")
