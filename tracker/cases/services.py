"""Writes for the cases area: cases, proceedings, treatments, parties, events, links, follow-up.

Every service validates its input (raising ValidationFailed with a message per field), checks
the actor's rights, flushes (never commits) and writes an audit entry with before/after values.
Routes, the CSV import and the API all come through here.
"""

from __future__ import annotations

import calendar
import enum
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from tracker.access import (
    can,
    can_edit_case,
    can_see_case,
    can_see_parties,
    case_filter,
    is_team_member,
)
from tracker.audit.models import AuditEntry
from tracker.audit.services import record_audit, snapshot
from tracker.auth.models import Organisation, User
from tracker.cases.models import (
    WINNING_OUTCOMES,
    Case,
    CaseLink,
    CaseMember,
    CaseType,
    Compliance,
    Event,
    EventKind,
    Implementation,
    LinkKind,
    Outcome,
    Party,
    PartyRole,
    Proceeding,
    ProceedingTreatment,
    Status,
    TeamRole,
    Treatment,
)
from tracker.extensions import db
from tracker.taxonomy.models import (
    Forum,
    Jurisdiction,
    JurisdictionKind,
    Provision,
    Right,
)
from tracker.types import Confidentiality, Role, utcnow

# An outcome other than "none yet" only makes sense once the forum has decided.
DECIDED_STATUSES = frozenset({Status.DECIDED, Status.CLOSED, Status.ON_APPEAL})

# Case fields shown when an edit conflicts (audit keys -> form field names).
CONFLICT_FIELDS = {
    "title": "title",
    "reference": "reference",
    "case_type": "case_type",
    "jurisdiction_id": "jurisdiction",
    "summary": "summary",
    "strategic_aim": "strategic_aim",
    "arguments": "arguments",
    "lead_organisation_id": "lead_organisation_id",
    "partners": "partner_ids",
    "confidentiality": "confidentiality",
    "status": "status",
    "outcome": "outcome",
    "opened_on": "opened_on",
    "rights": "rights",
    "provisions": "provisions",
    "team": "team_ids",
}


# --- Domain errors ------------------------------------------------------------------------
class CaseError(Exception):
    """A domain error; .errors maps a form field to a message safe to show the person."""

    status = 400

    def __init__(self, errors: Mapping[str, str] | str):
        if isinstance(errors, str):
            errors = {"": errors}
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" if k else v for k, v in self.errors.items()))


class ValidationFailed(CaseError):
    pass


class DuplicateReference(ValidationFailed):
    pass


class NotPermitted(CaseError):
    status = 403


class StaleCase(CaseError):
    """The case changed since the person loaded the form (optimistic locking)."""

    status = 409

    def __init__(self, case: Case, base_version: int | None, changed: list[str]):
        self.case = case
        self.base_version = base_version
        self.changed = changed  # form field names changed by others since base_version
        super().__init__(
            _(
                "Someone else saved this case while you were editing it. "
                "Nothing of yours was saved yet: compare, then save again."
            )
        )


class StaleRecord(CaseError):
    """A proceeding or implementation record changed since the person loaded its form."""

    status = 409

    def __init__(self, record: Any, changed: list[str]):
        self.record = record
        self.changed = changed  # state keys (form field names) that differ from what was loaded
        super().__init__(
            _(
                "Someone else saved this record while you were editing it. "
                "Nothing of yours was saved yet: compare, then save again."
            )
        )


class StaleProceeding(StaleRecord):
    pass


class StaleImplementation(StaleRecord):
    pass


# --- Optimistic locking of child records ------------------------------------------------------
# A proceeding (with its treatments) or an implementation record has no version column: its
# form carries a digest of each field as loaded, and a save is refused when the saved record
# no longer matches them. Derived from the data itself, this also sees changes made by writers
# that never touch a version (the CSV import updates proceedings in bulk). The same digests
# tell, on a conflict, which fields the person touched and which ones someone else changed.
CODE_FIELDS = frozenset({"rights", "provisions"})


def _canonical(name: str, value: Any) -> Any:
    if name in CODE_FIELDS:
        return sorted(split_codes(value)) or None
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        items = sorted({str(v) for v in value if v not in (None, "")})
        return items or None
    text = str(value).replace("\r\n", "\n").strip()
    return text or None


def field_digest(name: str, value: Any) -> str:
    raw = json.dumps(_canonical(name, value), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def same_value(name: str, a: Any, b: Any) -> bool:
    return _canonical(name, a) == _canonical(name, b)


def state_digests(state: Mapping[str, Any]) -> dict[str, str]:
    """{field: digest} of a record's state, to put in its form."""
    return {name: field_digest(name, value) for name, value in state.items()}


def differing_fields(digests: Mapping[str, str], state: Mapping[str, Any]) -> list[str]:
    """Fields whose value in `state` is not the one the digests were taken of."""
    names = list(state) + [n for n in digests if n not in state]
    return [
        name
        for name in names
        if digests.get(name, field_digest(name, None)) != field_digest(name, state.get(name))
    ]


def latest_audit_id(entity_type: str, entity_id: int) -> int:
    """The newest audit entry of a record (0 when none): marks when a form was loaded."""
    return (
        db.session.scalar(
            select(func.max(AuditEntry.id)).where(
                AuditEntry.entity_type == entity_type, AuditEntry.entity_id == str(entity_id)
            )
        )
        or 0
    )


@dataclass(frozen=True)
class FieldChange:
    """Who last changed a field, and when (from the audit trail)."""

    by: str | None
    at: datetime


def who_changed(
    entity_type: str,
    entity_id: int,
    key_map: Mapping[str, str],
    *,
    after_id: int | None = None,
    after_version: int | None = None,
    actions: Iterable[str] | None = None,
) -> dict[str, FieldChange]:
    """{form field: last change} for the changes to a record since the form was loaded.

    `after_id`: audit entries newer than this id; `after_version`: entries whose `after`
    carries a version above it (cases). `key_map` maps audit keys to form fields; a key
    ending in ":" maps every audit key with that prefix (treatments).
    """
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == str(entity_id))
        .options(joinedload(AuditEntry.user))
        .order_by(AuditEntry.id.desc())
        .limit(100)
    )
    if actions is not None:
        stmt = stmt.where(AuditEntry.action.in_(list(actions)))
    if after_id is not None:
        stmt = stmt.where(AuditEntry.id > after_id)
    out: dict[str, FieldChange] = {}
    for entry in db.session.scalars(stmt):
        version = (entry.after or {}).get("version")
        if after_version is not None and isinstance(version, int) and version <= after_version:
            continue
        name = entry.user.name if entry.user is not None else None
        for key in {**(entry.before or {}), **(entry.after or {})}:
            field = key_map.get(key)
            if field is None:
                prefix = next((p for p in key_map if p.endswith(":") and key.startswith(p)), None)
                field = f"{key_map[prefix]}{key}" if prefix else None
            if field and field not in out:
                out[field] = FieldChange(by=name, at=entry.at)
    return out


def today() -> date:
    """Today's date for date checks and filing limits (tests replace it)."""
    return date.today()


# --- Small parsing helpers ----------------------------------------------------------------
_CODE_SPLIT = re.compile(r"[;,\s]+")


def split_codes(value: Any) -> list[str]:
    """'a; b, c' or ['a', 'b'] -> ['a', 'b', 'c'] (order kept, duplicates dropped)."""
    if value is None:
        return []
    parts: Iterable[str] = (
        _CODE_SPLIT.split(value) if isinstance(value, str) else [str(v) for v in value]
    )
    return list(dict.fromkeys(p.strip() for p in parts if p and p.strip()))


def _text(data: Mapping[str, Any], key: str, max_len: int | None = None) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    value = str(value).strip()
    if max_len and len(value) > max_len:
        raise ValidationFailed({key: _("At most %(n)d characters.", n=max_len)})
    return value or None


def _enum(enum_cls, data: Mapping[str, Any], key: str, errors: dict, default=None):
    raw = data.get(key)
    if raw in (None, ""):
        if default is None:
            errors[key] = _("Choose a value.")
        return default
    try:
        return enum_cls(raw)
    except ValueError:
        errors[key] = _("Not a valid choice.")
        return default


def _date(data: Mapping[str, Any], key: str, errors: dict) -> date | None:
    raw = data.get(key)
    if raw in (None, ""):
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        errors[key] = _("Use a date like 2024-03-31.")
        return None


def _int(raw: Any) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _lookup_codes(model, codes: list[str], key: str, errors: dict) -> list:
    if not codes:
        return []
    rows = {r.code: r for r in db.session.scalars(select(model).where(model.code.in_(codes)))}
    unknown = [c for c in codes if c not in rows]
    if unknown:
        errors[key] = _("Unknown code: %(codes)s", codes=", ".join(unknown))
    return [rows[c] for c in codes if c in rows]


def find_jurisdiction(code: str | None) -> Jurisdiction | None:
    if not code:
        return None
    code = code.strip()
    return db.session.scalar(
        select(Jurisdiction).where(Jurisdiction.code.in_({code, code.upper()}))
    )


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day (31 Oct + 4 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- Snapshots for the audit trail --------------------------------------------------------
def case_snapshot(case: Case) -> dict[str, Any]:
    return snapshot(
        case,
        extra={
            "rights": sorted(r.code for r in case.rights),
            "provisions": sorted(p.code for p in case.provisions),
            "partners": sorted(o.id for o in case.partners),
            "team": sorted(m.user_id for m in case.team),
        },
    )


def case_state(case: Case) -> dict[str, Any]:
    """The case as its form shows it (form field names), for digests and conflicts."""
    return {
        "title": case.title,
        "reference": case.reference,
        "case_type": case.case_type.value,
        "jurisdiction": case.jurisdiction.code,
        "summary": case.summary,
        "strategic_aim": case.strategic_aim,
        "arguments": case.arguments,
        "lead_organisation_id": case.lead_organisation_id,
        "partner_ids": [p.id for p in case.partners],
        "confidentiality": case.confidentiality.value,
        "status": case.status.value,
        "outcome": case.outcome.value,
        "opened_on": case.opened_on,
        "rights": "; ".join(r.code for r in case.rights),
        "provisions": "; ".join(p.code for p in case.provisions),
        "team_ids": [m.user_id for m in case.team],
    }


PROCEEDING_FIELDS = (
    "forum",
    "reference",
    "filed_on",
    "decided_on",
    "status",
    "outcome",
    "ecli",
    "notes",
)
TREATMENT_PREFIX = "treatment:"

# Audit keys of proceeding entries -> proceeding form fields ("x:" maps a prefix).
PROCEEDING_AUDIT_FIELDS = {
    **{name: name for name in PROCEEDING_FIELDS},
    "forum_id": "forum",
    "right:": TREATMENT_PREFIX,
    "provision:": TREATMENT_PREFIX,
}
IMPLEMENTATION_FIELDS = (
    "measures_ordered",
    "compliance",
    "supervision_stage",
    "laws_or_policies_changed",
    "follow_up_notes",
    "reported_on",
)


def proceeding_state(proc: Proceeding) -> dict[str, Any]:
    """The proceeding as its form shows it, treatments included ('treatment:right:x')."""
    state: dict[str, Any] = {
        "forum": proc.forum.code if proc.forum else None,
        "reference": proc.reference,
        "filed_on": proc.filed_on,
        "decided_on": proc.decided_on,
        "status": proc.status.value if proc.status else None,
        "outcome": proc.outcome.value if proc.outcome else None,
        "ecli": proc.ecli,
        "notes": proc.notes,
    }
    case = proc.case
    for right in case.rights:
        state[TREATMENT_PREFIX + treatment_key("right", right.code)] = None
    for prov in case.provisions:
        state[TREATMENT_PREFIX + treatment_key("provision", prov.code)] = None
    for t in proc.treatments:
        key = (
            treatment_key("right", t.right.code)
            if t.right_id is not None
            else treatment_key("provision", t.provision.code)
        )
        state[TREATMENT_PREFIX + key] = t.treatment.value
    return state


def implementation_state(impl: Implementation) -> dict[str, Any]:
    return {
        "measures_ordered": impl.measures_ordered,
        "compliance": impl.compliance.value,
        "supervision_stage": impl.supervision_stage,
        "laws_or_policies_changed": impl.laws_or_policies_changed,
        "follow_up_notes": impl.follow_up_notes,
        "reported_on": impl.reported_on,
    }


def _proceeding_snapshot(proc: Proceeding) -> dict[str, Any]:
    return snapshot(proc, extra={"forum": proc.forum.code if proc.forum else None})


def _party_snapshot(party: Party) -> dict[str, Any]:
    # Identities of vulnerable people stay out of the audit trail (admins read it).
    values = snapshot(party)
    for key in ("full_name", "details"):
        values[key] = "[recorded]" if values.get(key) else None
    return values


# --- Cases --------------------------------------------------------------------------------
def _require_edit(actor: User, case: Case) -> None:
    if not can_edit_case(actor, case):
        raise NotPermitted(_("You cannot change this case."))


def _validate_case(actor: User, data: Mapping[str, Any], case: Case | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    try:
        out["title"] = _text(data, "title", 300)
        out["reference"] = _text(data, "reference", 80)
        for key in ("summary", "strategic_aim", "arguments"):
            out[key] = _text(data, key, 20000)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if not out.get("title") and "title" not in errors:
        errors["title"] = _("Give the case a title, e.g. “A.B. v. State”.")
    out["case_type"] = _enum(CaseType, data, "case_type", errors)
    out["confidentiality"] = _enum(
        Confidentiality, data, "confidentiality", errors, Confidentiality.NETWORK
    )
    out["status"] = _enum(Status, data, "status", errors, Status.PLANNED)
    out["outcome"] = _enum(Outcome, data, "outcome", errors, Outcome.NONE_YET)
    out["opened_on"] = _date(data, "opened_on", errors)

    code = (data.get("jurisdiction") or "").strip()
    jurisdiction = find_jurisdiction(code)
    if not code:
        errors["jurisdiction"] = _("Choose the jurisdiction (a country code such as FR).")
    elif jurisdiction is None:
        errors["jurisdiction"] = _("Unknown code: %(codes)s", codes=code)
    out["jurisdiction"] = jurisdiction

    # Lead organisation: the actor's own by default; only coordinators and admins choose another.
    lead_id = _int(data.get("lead_organisation_id")) or actor.organisation_id
    lead = db.session.get(Organisation, lead_id)
    if lead is None or not lead.is_active:
        errors["lead_organisation_id"] = _("Choose an organisation of the network.")
    elif lead_id != actor.organisation_id and actor.role not in (Role.COORDINATOR, Role.ADMIN):
        keeps = case is not None and case.lead_organisation_id == lead_id
        if not keeps:
            errors["lead_organisation_id"] = _("You can only lead cases for your own organisation.")
    out["lead"] = lead

    partner_ids = [i for i in (_int(v) for v in (data.get("partner_ids") or [])) if i]
    partners = (
        list(db.session.scalars(select(Organisation).where(Organisation.id.in_(partner_ids))))
        if partner_ids
        else []
    )
    if len(partners) != len(set(partner_ids)):
        errors["partner_ids"] = _("Choose organisations of the network.")
    partners = [p for p in partners if p.id != lead_id]
    out["partners"] = partners

    out["rights"] = _lookup_codes(Right, split_codes(data.get("rights")), "rights", errors)
    out["provisions"] = _lookup_codes(
        Provision, split_codes(data.get("provisions")), "provisions", errors
    )

    # Team: people of the lead or partner organisations only.
    team_ids = [i for i in (_int(v) for v in (data.get("team_ids") or [])) if i]
    allowed_orgs = {lead_id, *(p.id for p in partners)}
    team_users = (
        list(db.session.scalars(select(User).where(User.id.in_(team_ids)))) if team_ids else []
    )
    if len(team_users) != len(set(team_ids)) or any(
        u.organisation_id not in allowed_orgs or not u.is_active for u in team_users
    ):
        errors["team_ids"] = _(
            "The case team can only include people of the lead and partner organisations."
        )
    out["team_users"] = team_users

    if out.get("reference") and lead is not None:
        clash = select(Case.id).where(
            Case.lead_organisation_id == lead.id, Case.reference == out["reference"]
        )
        if case is not None:
            clash = clash.where(Case.id != case.id)
        if db.session.scalar(clash) is not None:
            errors["reference"] = _(
                "Your organisation already has a case with this reference. Choose another."
            )
            if len(errors) == 1:
                raise DuplicateReference(errors)
    if errors:
        raise ValidationFailed(errors)
    return out


def _apply_case(case: Case, values: dict[str, Any]) -> None:
    for key in (
        "title",
        "reference",
        "case_type",
        "summary",
        "strategic_aim",
        "arguments",
        "confidentiality",
        "status",
        "outcome",
        "opened_on",
    ):
        setattr(case, key, values[key])
    case.jurisdiction = values["jurisdiction"]
    case.lead_organisation = values["lead"]
    case.partners = values["partners"]
    case.rights = values["rights"]
    case.provisions = values["provisions"]


def _member_uid(member: CaseMember) -> int | None:
    return member.user.id if member.user is not None else member.user_id


def _set_team(case: Case, users: list[User], keep_ids: set[int]) -> None:
    wanted = {u.id: u for u in users}
    for member in list(case.team):
        uid = _member_uid(member)
        if uid not in wanted and uid not in keep_ids:
            case.team.remove(member)
    present = {_member_uid(m) for m in case.team}
    for uid, user in wanted.items():
        if uid not in present:
            case.team.append(CaseMember(user=user, role=TeamRole.MEMBER))


def create_case(*, actor: User, data: Mapping[str, Any]) -> Case:
    if not can(actor, "case.create"):
        raise NotPermitted(_("You cannot create cases."))
    values = _validate_case(actor, data, None)
    case = Case(created_by_id=actor.id)
    _apply_case(case, values)
    # The creator leads the team, so a restricted case stays visible to them.
    case.team.append(CaseMember(user=actor, role=TeamRole.LEAD))
    _set_team(case, values["team_users"], keep_ids={actor.id})
    db.session.add(case)
    db.session.flush()
    record_audit(action="case.create", entity=case, after=case_snapshot(case))
    return case


def changes_since(case: Case, base_version: int | None) -> list[str]:
    """Form fields that others changed after base_version, read from the audit trail."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity_type == "cases",
            AuditEntry.entity_id == str(case.id),
            AuditEntry.action == "case.update",
        )
        .order_by(AuditEntry.id.desc())
        .limit(100)
    )
    changed: list[str] = []
    for entry in entries:
        version = (entry.after or {}).get("version")
        if base_version is not None and isinstance(version, int) and version <= base_version:
            continue
        for key in entry.after or {}:
            name = CONFLICT_FIELDS.get(key)
            if name and name not in changed:
                changed.append(name)
    return changed


def update_case(
    *, actor: User, case: Case, data: Mapping[str, Any], base_version: int | None
) -> Case:
    _require_edit(actor, case)
    if base_version is None or base_version != case.version:
        raise StaleCase(case, base_version, changes_since(case, base_version))
    before = case_snapshot(case)
    values = _validate_case(actor, data, case)
    if values["confidentiality"] == Confidentiality.RESTRICTED and actor.id not in {
        u.id for u in values["team_users"]
    }:
        raise ValidationFailed(
            {"team_ids": _("Keep yourself on the team of a restricted case, or you lose it.")}
        )
    jurisdiction_before = case.jurisdiction_id
    _apply_case(case, values)
    # Lead members stay unless explicitly left out by the form; the actor's own place is kept
    # by the rule above for restricted cases.
    _set_team(case, values["team_users"], keep_ids=set())
    # Touch the row so the version moves even when only tags or the team changed.
    case.updated_at = utcnow()
    db.session.flush()
    record_audit(action="case.update", entity=case, before=before, after=case_snapshot(case))
    if case.jurisdiction_id != jurisdiction_before and case.proceedings:
        # Other complaint procedures are open to another state.
        propose_filing_deadlines(actor=actor, case=case)
    return case


def can_delete_case(user: Any, case: Case) -> bool:
    """Deleting is for litigators (and up) of the lead organisation, or the case team's lead.

    Partner organisations edit a case but never delete the lead organisation's record.
    """
    if not can(user, "case.delete") or not can_see_case(user, case):
        return False
    if case.lead_organisation_id == user.organisation_id:
        return True
    return any(m.user_id == user.id and m.role == TeamRole.LEAD for m in case.team)


def delete_case(*, actor: User, case: Case) -> list[str]:
    """Delete the case with everything attached to it, its documents included (audited).

    Returns the checksums of the deleted documents: after the commit, pass each one to
    tracker.documents.services.discard_file_if_unused() so no uploaded file stays on disk.
    """
    from tracker.documents.models import Document
    from tracker.documents.services import delete_document

    if not can(actor, "case.delete"):
        raise NotPermitted(_("You cannot delete cases."))
    _require_edit(actor, case)
    if not can_delete_case(actor, case):
        raise NotPermitted(
            _("Only the lead organisation or the case team's lead can delete this case.")
        )
    checksums: list[str] = []
    for document in db.session.scalars(
        select(Document).where(Document.case_id == case.id).order_by(Document.id)
    ):
        sha256 = delete_document(document=document, user=actor)
        if sha256 not in checksums:
            checksums.append(sha256)
    before = case_snapshot(case)
    record_audit(action="case.delete", entity=case, before=before, summary=case.title)
    # Links point both ways; the database cascades them, the session must not keep them.
    for link in db.session.scalars(
        select(CaseLink).where(
            (CaseLink.source_case_id == case.id) | (CaseLink.target_case_id == case.id)
        )
    ):
        db.session.delete(link)
    db.session.delete(case)
    db.session.flush()
    return checksums


# --- Proceedings --------------------------------------------------------------------------
# A date this far ahead is a typo (2205 for 2025), never a plan.
FUTURE_LIMIT_DAYS = 366


def _validate_proceeding(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    code = (data.get("forum") or "").strip()
    forum = db.session.scalar(select(Forum).where(Forum.code == code)) if code else None
    if not code:
        errors["forum"] = _("Choose the forum.")
    elif forum is None:
        errors["forum"] = _("Unknown code: %(codes)s", codes=code)
    out["forum"] = forum
    try:
        out["reference"] = _text(data, "reference", 120)
        out["ecli"] = _text(data, "ecli", 80)
        out["notes"] = _text(data, "notes", 20000)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    out["filed_on"] = _date(data, "filed_on", errors)
    out["decided_on"] = _date(data, "decided_on", errors)
    out["status"] = _enum(Status, data, "status", errors)
    out["outcome"] = _enum(Outcome, data, "outcome", errors, Outcome.NONE_YET)
    horizon = today() + timedelta(days=FUTURE_LIMIT_DAYS)
    filed_on, decided_on = out["filed_on"], out["decided_on"]
    if filed_on and filed_on > horizon:
        errors["filed_on"] = _(
            "%(date)s is more than a year from now: check the year.", date=filed_on.isoformat()
        )
    elif (
        filed_on
        and filed_on > today()
        and out["status"] is not None
        and out["status"] != Status.PLANNED
    ):
        errors["filed_on"] = _(
            "%(date)s is in the future: a proceeding filed then is planned. "
            "Set the status to planned, or correct the date.",
            date=filed_on.isoformat(),
        )
    if decided_on and decided_on > horizon:
        errors["decided_on"] = _(
            "%(date)s is more than a year from now: check the year.", date=decided_on.isoformat()
        )
    elif filed_on and decided_on and decided_on < filed_on:
        errors["decided_on"] = _("The decision cannot come before the filing.")
    if (
        out["outcome"] not in (None, Outcome.NONE_YET)
        and out["status"] is not None
        and out["status"] not in DECIDED_STATUSES
        and "outcome" not in errors
    ):
        errors["outcome"] = _(
            "An outcome needs a decision: set the status to decided, on appeal or closed."
        )
    if errors:
        raise ValidationFailed(errors)
    return out


def _apply_proceeding(proc: Proceeding, values: dict[str, Any]) -> None:
    proc.forum = values["forum"]
    for key in ("reference", "ecli", "notes", "filed_on", "decided_on", "status", "outcome"):
        setattr(proc, key, values[key])


def _is_domestic(forum: Forum | None) -> bool:
    return forum is not None and forum.jurisdiction.kind == JurisdictionKind.STATE


# What the filing limits and the alerts look at in a proceeding.
_DecisionFacts = tuple[Any, ...]


def _decision_facts(proc: Proceeding) -> _DecisionFacts:
    return (proc.forum_id, proc.status, proc.decided_on, proc.outcome)


def add_proceeding(*, actor: User, case: Case, data: Mapping[str, Any]) -> Proceeding:
    _require_edit(actor, case)
    values = _validate_proceeding(data)
    position = db.session.scalar(
        select(func.coalesce(func.max(Proceeding.position), -1)).where(
            Proceeding.case_id == case.id
        )
    )
    proc = Proceeding(case=case, position=(position or 0) + 1)
    _apply_proceeding(proc, values)
    db.session.add(proc)
    db.session.flush()
    record_audit(
        action="proceeding.create",
        entity=proc,
        after=_proceeding_snapshot(proc),
        summary=f"case {case.id}",
    )
    if _is_domestic(proc.forum):
        propose_filing_deadlines(actor=actor, case=case)
    _alert_decision(proc, None)
    return proc


def update_proceeding(
    *,
    actor: User,
    proceeding: Proceeding,
    data: Mapping[str, Any],
    base: Mapping[str, str] | None = None,
) -> Proceeding:
    """Change a proceeding. `base`: the field digests its form was loaded with (see
    state_digests(proceeding_state(...))); when given, a record that changed since then is
    refused with StaleProceeding (409) naming the changed fields, treatments included."""
    _require_edit(actor, proceeding.case)
    if base is not None:
        changed = differing_fields(base, proceeding_state(proceeding))
        if changed:
            raise StaleProceeding(proceeding, changed)
    values = _validate_proceeding(data)
    before = _proceeding_snapshot(proceeding)
    facts_before = _decision_facts(proceeding)
    was_domestic = _is_domestic(proceeding.forum)
    _apply_proceeding(proceeding, values)
    db.session.flush()
    record_audit(
        action="proceeding.update",
        entity=proceeding,
        before=before,
        after=_proceeding_snapshot(proceeding),
        summary=f"case {proceeding.case_id}",
    )
    if facts_before != _decision_facts(proceeding) and (
        was_domestic or _is_domestic(proceeding.forum)
    ):
        propose_filing_deadlines(actor=actor, case=proceeding.case)
    _alert_decision(proceeding, facts_before)
    return proceeding


def delete_proceeding(*, actor: User, proceeding: Proceeding) -> None:
    case = proceeding.case
    _require_edit(actor, case)
    record_audit(
        action="proceeding.delete",
        entity=proceeding,
        before=_proceeding_snapshot(proceeding),
        summary=f"case {proceeding.case_id}",
    )
    domestic = _is_domestic(proceeding.forum)
    # Proposals computed from this decision go with it; confirmed deadlines stay on the case.
    for event in db.session.scalars(
        select(Event).where(Event.proceeding_id == proceeding.id, Event.confirmed.is_(False))
    ):
        case.events.remove(event)
    case.proceedings.remove(proceeding)
    db.session.flush()
    if domestic:
        # Another domestic decision may now be the final one.
        propose_filing_deadlines(actor=actor, case=case)


# --- Alerts -------------------------------------------------------------------------------
def _alert_decision(proc: Proceeding, facts_before: _DecisionFacts | None) -> int:
    """Notify watchers (of the case, its rights, jurisdiction, forums) of a new or changed
    decision, and of a new win. Returns the number of notifications."""
    from tracker.cases.forms import OUTCOME_LABELS
    from tracker.patterns.services import notify_case_event

    decided = proc.decided_on is not None or proc.outcome not in (None, Outcome.NONE_YET)
    if not decided:
        return 0
    _forum, _status, decided_before, outcome_before = facts_before or (None, None, None, None)
    if facts_before is not None and (decided_before, outcome_before) == (
        proc.decided_on,
        proc.outcome,
    ):
        return 0
    case = proc.case
    values = {
        "case": case.title,
        "forum": proc.forum.name,
        "outcome": str(OUTCOME_LABELS.get(proc.outcome, proc.outcome)),
        "date": proc.decided_on.isoformat() if proc.decided_on else _("no date yet"),
    }
    if proc.outcome in WINNING_OUTCOMES and outcome_before not in WINNING_OUTCOMES:
        kind = "win"
        message = _("New win in “%(case)s”: %(forum)s, %(outcome)s (%(date)s).", **values)
    elif decided_before is None and outcome_before in (None, Outcome.NONE_YET):
        kind = "decision"
        message = _("New decision in “%(case)s”: %(forum)s, %(outcome)s (%(date)s).", **values)
    else:
        kind = "decision"
        message = _(
            "Decision changed in “%(case)s”: %(forum)s, now %(outcome)s (%(date)s).", **values
        )
    # Watchers of this proceeding's forum, not of every forum the case has been before.
    return notify_case_event(case, kind, message, forum_ids=[proc.forum_id])


def treatment_key(kind: str, code: str) -> str:
    return f"{kind}:{code}"


def set_treatments(
    *, actor: User, proceeding: Proceeding, treatments: Mapping[str, str]
) -> Proceeding:
    """treatments maps 'right:<code>' / 'provision:<code>' to a Treatment value or '' (none).

    Only rights and provisions tagged on the case can be treated.
    """
    case = proceeding.case
    _require_edit(actor, case)
    by_key: dict[str, tuple[str, Any]] = {}
    for right in case.rights:
        by_key[treatment_key("right", right.code)] = ("right", right)
    for prov in case.provisions:
        by_key[treatment_key("provision", prov.code)] = ("provision", prov)
    errors: dict[str, str] = {}
    wanted: dict[str, Treatment] = {}
    for key, raw in treatments.items():
        if key not in by_key:
            errors["treatments"] = _("Only the rights and provisions of this case can be treated.")
            continue
        if raw in ("", None):
            continue
        try:
            wanted[key] = Treatment(raw)
        except ValueError:
            errors["treatments"] = _("Not a valid choice.")
    if errors:
        raise ValidationFailed(errors)

    def current() -> dict[str, str]:
        out = {}
        for t in proceeding.treatments:
            if t.right_id is not None:
                out[treatment_key("right", t.right.code)] = t.treatment.value
            else:
                out[treatment_key("provision", t.provision.code)] = t.treatment.value
        return out

    before = current()
    existing = {
        (
            treatment_key("right", t.right.code)
            if t.right_id
            else treatment_key("provision", t.provision.code)
        ): t
        for t in proceeding.treatments
    }
    for key, row in existing.items():
        if key not in wanted:
            proceeding.treatments.remove(row)
    for key, value in wanted.items():
        if key in existing:
            existing[key].treatment = value
        else:
            kind, obj = by_key[key]
            proceeding.treatments.append(
                ProceedingTreatment(
                    treatment=value, **({"right": obj} if kind == "right" else {"provision": obj})
                )
            )
    db.session.flush()
    after = current()
    if before != after:
        record_audit(
            action="proceeding.treatments",
            entity=proceeding,
            before=before,
            after=after,
            summary=f"case {case.id}",
        )
    return proceeding


# --- Filing limits ------------------------------------------------------------------------
_MONTH_WORDS = {
    1: _l("one month"),
    2: _l("two months"),
    3: _l("three months"),
    4: _l("four months"),
    5: _l("five months"),
    6: _l("six months"),
    9: _l("nine months"),
    12: _l("twelve months"),
}


def _limit_words(months: int) -> str:
    words = _MONTH_WORDS.get(months)
    return str(words) if words else _("%(n)d months", n=months)


# A domestic proceeding in one of these is still running: no decision is final yet.
RUNNING_STATUSES = frozenset({Status.FILED, Status.PENDING})


def final_domestic_decision(case: Case) -> Proceeding | None:
    """The decision the filing limits run from: the latest domestic decision, once no
    domestic proceeding is still running and that decision is not on appeal (an earlier
    decision marked on appeal is superseded by the later one)."""
    domestic = [p for p in case.proceedings if _is_domestic(p.forum)]
    if any(p.status in RUNNING_STATUSES for p in domestic):
        return None
    decided = [p for p in domestic if p.decided_on is not None and p.status in DECIDED_STATUSES]
    latest = max(decided, key=lambda p: (p.decided_on, p.position, p.id), default=None)
    if latest is None or latest.status == Status.ON_APPEAL:
        return None
    return latest


def open_limited_forums(jurisdiction: Jurisdiction | None) -> list[Forum]:
    """Complaint procedures with a filing limit open to the state's people, from the
    ratification data (the forum finder's rule: treaty ratified and its complaint procedure
    accepted)."""
    from tracker.patterns.finder import forum_finder

    if jurisdiction is None or jurisdiction.kind != JurisdictionKind.STATE:
        return []
    # Without a right, every open procedure is in .open (none is set apart as not covering).
    forums = [a.forum for a in forum_finder(jurisdiction).open if a.forum.filing_limit_months]
    return sorted(forums, key=lambda f: f.name)


@dataclass(frozen=True)
class FilingLimit:
    forum: Forum
    decision: Proceeding
    due: date
    basis: str

    @property
    def title(self) -> str:
        return _(
            "File with %(forum)s by %(date)s", forum=self.forum.name, date=self.due.isoformat()
        )


def filing_limits(case: Case) -> list[FilingLimit]:
    """The filing limits that run from the case's final domestic decision, for the complaint
    procedures open to its state that the case has not used yet (past ones included)."""
    decision = final_domestic_decision(case)
    if decision is None:
        return []
    used = {p.forum_id for p in case.proceedings}
    out = []
    for target in open_limited_forums(case.jurisdiction):
        if target.id in used:
            continue
        months = target.filing_limit_months
        limit = _limit_words(months)
        basis = _(
            "%(date)s (decision of %(court)s, the last domestic decision recorded) + %(limit)s.",
            date=decision.decided_on.isoformat(),
            court=decision.forum.name,
            limit=limit,
        )
        if target.filing_limit_basis:
            basis = f"{basis} {_('Rule: %(rule)s.', rule=target.filing_limit_basis.rstrip('.'))}"
        out.append(FilingLimit(target, decision, add_months(decision.decided_on, months), basis))
    return out


def passed_filing_limits(case: Case) -> list[FilingLimit]:
    """Filing limits of the final domestic decision that ran out before today."""
    return [limit for limit in filing_limits(case) if limit.due < today()]


def propose_filing_deadlines(
    *, actor: User | None, case: Case | None = None, proceeding: Proceeding | None = None
) -> list[Event]:
    """Propose 'File with <forum> by <date>' from the final domestic decision of the case.

    Every earlier unconfirmed proposal of the case is replaced (a later decision, an appeal or
    a corrected date changes them); confirmed deadlines stay. Limits that already ran out are
    not proposed (passed_filing_limits() tells them), nor those confirmed already.
    """
    case = case if case is not None else proceeding.case
    for old in db.session.scalars(
        select(Event).where(
            Event.case_id == case.id,
            Event.confirmed.is_(False),
            Event.computed_basis.is_not(None),
        )
    ):
        case.events.remove(old)
    db.session.flush()
    confirmed = {
        (e.occurred_on, e.title)
        for e in db.session.scalars(
            select(Event).where(Event.case_id == case.id, Event.computed_basis.is_not(None))
        )
    }
    proposals = []
    for limit in filing_limits(case):
        if limit.due < today() or (limit.due, limit.title) in confirmed:
            continue
        event = Event(
            case=case,
            proceeding_id=limit.decision.id,
            kind=EventKind.DEADLINE,
            occurred_on=limit.due,
            title=limit.title,
            is_deadline=True,
            confirmed=False,
            computed_basis=limit.basis,
            created_by_id=actor.id if actor else None,
        )
        db.session.add(event)
        proposals.append(event)
    db.session.flush()
    for event in proposals:
        record_audit(
            action="event.propose", entity=event, after=snapshot(event), summary=event.title
        )
    return proposals


# --- Parties ------------------------------------------------------------------------------
def add_party(*, actor: User, case: Case, data: Mapping[str, Any]) -> Party:
    _require_edit(actor, case)
    errors: dict[str, str] = {}
    role = _enum(PartyRole, data, "role", errors)
    try:
        pseudonym = _text(data, "pseudonym", 200)
        full_name = _text(data, "full_name", 300)
        details = _text(data, "details", 5000)
    except ValidationFailed as exc:
        raise ValidationFailed({**errors, **exc.errors}) from None
    if not pseudonym:
        errors["pseudonym"] = _("Give a pseudonym, e.g. “A.B.”.")
    if (full_name or details) and not can_see_parties(actor, case):
        errors["full_name"] = _("Only the case team can record identities.")
    if errors:
        raise ValidationFailed(errors)
    party = Party(case=case, role=role, pseudonym=pseudonym, full_name=full_name, details=details)
    db.session.add(party)
    db.session.flush()
    record_audit(action="party.create", entity=party, after=_party_snapshot(party))
    return party


def remove_party(*, actor: User, party: Party) -> None:
    _require_edit(actor, party.case)
    record_audit(action="party.delete", entity=party, before=_party_snapshot(party))
    party.case.parties.remove(party)
    db.session.flush()


# --- Events and deadlines -----------------------------------------------------------------
def add_event(*, actor: User, case: Case, data: Mapping[str, Any]) -> Event:
    _require_edit(actor, case)
    errors: dict[str, str] = {}
    kind = _enum(EventKind, data, "kind", errors)
    occurred_on = _date(data, "occurred_on", errors)
    if occurred_on is None and "occurred_on" not in errors:
        errors["occurred_on"] = _("Give the date.")
    remind_on = _date(data, "remind_on", errors)
    if remind_on and occurred_on and remind_on > occurred_on:
        errors["remind_on"] = _(
            "The reminder must come on or before the date itself (%(date)s).",
            date=occurred_on.isoformat(),
        )
    try:
        title = _text(data, "title", 300)
        notes = _text(data, "notes", 20000)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        title = notes = None
    if not title and "title" not in errors:
        errors["title"] = _("Give the event a title.")
    proceeding_id = _int(data.get("proceeding_id")) or None
    if proceeding_id and proceeding_id not in {p.id for p in case.proceedings}:
        errors["proceeding_id"] = _("Choose a proceeding of this case.")
    if errors:
        raise ValidationFailed(errors)
    is_deadline = bool(data.get("is_deadline")) or kind == EventKind.DEADLINE
    event = Event(
        case=case,
        proceeding_id=proceeding_id,
        kind=kind,
        occurred_on=occurred_on,
        title=title,
        notes=notes,
        is_deadline=is_deadline,
        remind_on=remind_on,
        confirmed=True,
        created_by_id=actor.id,
    )
    db.session.add(event)
    db.session.flush()
    record_audit(action="event.create", entity=event, after=snapshot(event))
    return event


def confirm_deadline(*, actor: User, event: Event) -> Event:
    _require_edit(actor, event.case)
    before = snapshot(event)
    event.confirmed = True
    db.session.flush()
    record_audit(action="event.confirm", entity=event, before=before, after=snapshot(event))
    return event


def dismiss_deadline(*, actor: User, event: Event) -> None:
    """Drop a proposed (unconfirmed) deadline."""
    _require_edit(actor, event.case)
    if event.confirmed:
        raise ValidationFailed(_("Only proposed deadlines can be dismissed."))
    record_audit(action="event.dismiss", entity=event, before=snapshot(event))
    event.case.events.remove(event)
    db.session.flush()


def complete_event(*, actor: User, event: Event) -> Event:
    _require_edit(actor, event.case)
    before = snapshot(event)
    event.completed_at = utcnow()
    event.confirmed = True
    db.session.flush()
    record_audit(action="event.complete", entity=event, before=before, after=snapshot(event))
    return event


def delete_event(*, actor: User, event: Event) -> None:
    _require_edit(actor, event.case)
    record_audit(action="event.delete", entity=event, before=snapshot(event))
    event.case.events.remove(event)
    db.session.flush()


# --- Links --------------------------------------------------------------------------------
def add_link(
    *, actor: User, case: Case, target_id: Any, kind: Any, note: str | None = None
) -> CaseLink:
    _require_edit(actor, case)
    errors: dict[str, str] = {}
    link_kind = _enum(LinkKind, {"kind": kind}, "kind", errors)
    tid = _int(target_id)
    # Only cases the actor may see can be linked; an invisible one reads as "no such case".
    target = (
        db.session.scalar(select(Case).where(Case.id == tid, case_filter(actor))) if tid else None
    )
    if target is None:
        errors["target"] = _("No case with this number that you can see.")
    elif target.id == case.id:
        errors["target"] = _("A case cannot be linked to itself.")
    if not errors:
        exists_already = db.session.scalar(
            select(CaseLink.id).where(
                CaseLink.source_case_id == case.id,
                CaseLink.target_case_id == target.id,
                CaseLink.kind == link_kind,
            )
        )
        if exists_already:
            errors["target"] = _("This link exists already.")
    note = (note or "").strip() or None
    if note and len(note) > 2000:
        errors["note"] = _("At most %(n)d characters.", n=2000)
    if errors:
        raise ValidationFailed(errors)
    link = CaseLink(source_case_id=case.id, target_case_id=target.id, kind=link_kind, note=note)
    db.session.add(link)
    db.session.flush()
    record_audit(action="link.create", entity=link, after=snapshot(link))
    return link


def remove_link(*, actor: User, case: Case, link: CaseLink) -> None:
    """Remove a link from or to the case (the actor must be able to edit this case)."""
    _require_edit(actor, case)
    if case.id not in (link.source_case_id, link.target_case_id):
        raise NotPermitted(_("This link does not belong to this case."))
    record_audit(action="link.delete", entity=link, before=snapshot(link))
    db.session.delete(link)
    db.session.flush()


# --- Implementation -----------------------------------------------------------------------
def _validate_implementation(data: Mapping[str, Any], proceeding: Proceeding) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    try:
        out["measures_ordered"] = _text(data, "measures_ordered", 20000)
        out["supervision_stage"] = _text(data, "supervision_stage", 200)
        out["laws_or_policies_changed"] = _text(data, "laws_or_policies_changed", 20000)
        out["follow_up_notes"] = _text(data, "follow_up_notes", 20000)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if not out.get("measures_ordered") and "measures_ordered" not in errors:
        errors["measures_ordered"] = _("Say what was ordered.")
    out["compliance"] = _enum(Compliance, data, "compliance", errors, Compliance.NOT_STARTED)
    out["reported_on"] = reported_on = _date(data, "reported_on", errors)
    if reported_on and reported_on > today():
        errors["reported_on"] = _("A report date cannot be in the future.")
    elif reported_on and proceeding.decided_on and reported_on < proceeding.decided_on:
        errors["reported_on"] = _(
            "The report cannot come before the decision (%(date)s).",
            date=proceeding.decided_on.isoformat(),
        )
    if errors:
        raise ValidationFailed(errors)
    return out


def add_implementation(
    *, actor: User, proceeding: Proceeding, data: Mapping[str, Any]
) -> Implementation:
    _require_edit(actor, proceeding.case)
    if proceeding.status not in DECIDED_STATUSES:
        raise ValidationFailed(
            {"measures_ordered": _("Implementation is tracked once the forum has decided.")}
        )
    values = _validate_implementation(data, proceeding)
    impl = Implementation(proceeding=proceeding, **values)
    db.session.add(impl)
    db.session.flush()
    record_audit(action="implementation.create", entity=impl, after=snapshot(impl))
    return impl


def update_implementation(
    *,
    actor: User,
    implementation: Implementation,
    data: Mapping[str, Any],
    base: Mapping[str, str] | None = None,
) -> Implementation:
    """Change an implementation record; with `base` (the field digests its form was loaded
    with), one that changed since is refused with StaleImplementation (409)."""
    _require_edit(actor, implementation.proceeding.case)
    if base is not None:
        changed = differing_fields(base, implementation_state(implementation))
        if changed:
            raise StaleImplementation(implementation, changed)
    values = _validate_implementation(data, implementation.proceeding)
    before = snapshot(implementation)
    for key, value in values.items():
        setattr(implementation, key, value)
    db.session.flush()
    record_audit(
        action="implementation.update",
        entity=implementation,
        before=before,
        after=snapshot(implementation),
    )
    return implementation


__all__ = [
    "CaseError",
    "DuplicateReference",
    "NotPermitted",
    "StaleCase",
    "StaleImplementation",
    "StaleProceeding",
    "StaleRecord",
    "ValidationFailed",
    "add_event",
    "add_implementation",
    "add_link",
    "add_months",
    "add_party",
    "add_proceeding",
    "can_delete_case",
    "complete_event",
    "confirm_deadline",
    "create_case",
    "delete_case",
    "delete_event",
    "delete_proceeding",
    "dismiss_deadline",
    "is_team_member",
    "remove_link",
    "remove_party",
    "set_treatments",
    "update_case",
    "update_implementation",
    "update_proceeding",
]
