"""Files attached to a case or to the pleadings library, with their extracted text."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.types import Confidentiality, UTCDateTime, enum_type, utcnow


class DocumentKind(enum.StrEnum):
    COMPLAINT = "complaint"
    BRIEF = "brief"
    AMICUS = "amicus"
    SUBMISSION = "submission"
    JUDGMENT = "judgment"
    DECISION = "decision"
    EVIDENCE = "evidence"
    TEMPLATE = "template"
    OTHER = "other"


class Document(db.Model):
    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("size_bytes >= 0", name="size_non_negative"),
        CheckConstraint(
            "case_id IS NOT NULL OR pleading_id IS NOT NULL", name="attached_somewhere"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    pleading_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_pleadings.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[DocumentKind] = mapped_column(enum_type(DocumentKind, "document_kind"))
    language: Mapped[str | None] = mapped_column(String(8))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    extracted_text: Mapped[str | None] = mapped_column(Text)
    confidentiality: Mapped[Confidentiality] = mapped_column(
        enum_type(Confidentiality, "confidentiality"), default=Confidentiality.NETWORK
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    case = relationship("Case")
    uploaded_by = relationship("User")
