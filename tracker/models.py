"""Imports every area's models so that Alembic and create_all see all tables."""

from tracker.audit.models import AuditEntry
from tracker.auth.models import ApiToken, Organisation, User, UserSession
from tracker.cases.models import (
    Case,
    CaseLink,
    CaseMember,
    Event,
    Implementation,
    Party,
    Proceeding,
    ProceedingTreatment,
)
from tracker.documents.models import Document
from tracker.patterns.models import (
    Notification,
    Opportunity,
    OpportunityPending,
    OpportunityWin,
    OpportunityWinGroup,
    OpportunityWinInstrument,
    Watch,
)
from tracker.pleadings.models import ModelPleading, PleadingUse
from tracker.taxonomy.models import (
    Forum,
    Instrument,
    Jurisdiction,
    Provision,
    Ratification,
    Right,
    SystemMembership,
)

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Case",
    "CaseLink",
    "CaseMember",
    "Document",
    "Event",
    "Forum",
    "Implementation",
    "Instrument",
    "Jurisdiction",
    "ModelPleading",
    "Notification",
    "Opportunity",
    "OpportunityPending",
    "OpportunityWin",
    "OpportunityWinGroup",
    "OpportunityWinInstrument",
    "Organisation",
    "Party",
    "PleadingUse",
    "Proceeding",
    "ProceedingTreatment",
    "Provision",
    "Ratification",
    "Right",
    "SystemMembership",
    "User",
    "UserSession",
    "Watch",
]
