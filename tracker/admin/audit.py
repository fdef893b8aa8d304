"""Which audit entries an administrator may read in full: the confidentiality rule, per record type.

Administering the deployment is no reason to read restricted litigation (tracker.access): an
entry about a record the admin may not see keeps its who / when / what, and withholds its
values and summary. Visibility is decided per record type with the same filters every page
uses (case_filter, document_filter, pleading_filter); a type this module does not know is
withheld, so a new kind of record cannot leak through the trail by being forgotten here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from tracker.access import case_filter, document_filter, pleading_filter
from tracker.audit.models import AuditEntry
from tracker.cases.models import (
    Case,
    CaseLink,
    Event,
    Implementation,
    Party,
    Proceeding,
    ProceedingTreatment,
)
from tracker.documents.models import Document
from tracker.extensions import db
from tracker.patterns.models import Opportunity
from tracker.patterns.opportunities import visible_clause as opportunity_visible
from tracker.pleadings.models import ModelPleading
from tracker.types import Confidentiality

# Records about the deployment itself, or public reference data: nothing confidential.
OPEN_TYPES = frozenset(
    {
        "users",
        "organisations",
        "api_tokens",
        "user_sessions",
        "jurisdictions",
        "forums",
        "instruments",
        "provisions",
        "rights",
        "ratifications",
        "system_memberships",
        "reference_data",
    }
)

# Keys of audit values that name a case: such an entry is withheld unless that case is
# visible, whatever its type (a pleading linked to a restricted case, a converted opportunity).
CASE_KEYS = ("case_id", "source_case_id", "target_case_id", "created_case_id")

OPEN_LEVELS = frozenset({Confidentiality.PUBLIC.value, Confidentiality.NETWORK.value})


def _via_case(model: Any, *path: Any) -> Callable[[Any], Select]:
    """Ids of `model` rows whose case (reached by joining `path`) the user may see."""

    def visible(user: Any) -> Select:
        stmt = select(model.id)
        for target, on in path:
            stmt = stmt.join(target, on)
        return stmt.where(case_filter(user))

    return visible


def _links(user: Any) -> Select:
    source, target = aliased(Case), aliased(Case)
    return (
        select(CaseLink.id)
        .join(source, source.id == CaseLink.source_case_id)
        .join(target, target.id == CaseLink.target_case_id)
        .where(source.id.in_(select(Case.id).where(case_filter(user))))
        .where(target.id.in_(select(Case.id).where(case_filter(user))))
    )


# entity_type -> (model, the ids among them the user may see). Either end of a link counts.
CASE_TYPES: dict[str, tuple[Any, Callable[[Any], Select]]] = {
    "cases": (Case, lambda user: select(Case.id).where(case_filter(user))),
    "proceedings": (Proceeding, _via_case(Proceeding, (Case, Case.id == Proceeding.case_id))),
    "proceeding_treatments": (
        ProceedingTreatment,
        _via_case(
            ProceedingTreatment,
            (Proceeding, Proceeding.id == ProceedingTreatment.proceeding_id),
            (Case, Case.id == Proceeding.case_id),
        ),
    ),
    "implementations": (
        Implementation,
        _via_case(
            Implementation,
            (Proceeding, Proceeding.id == Implementation.proceeding_id),
            (Case, Case.id == Proceeding.case_id),
        ),
    ),
    "parties": (Party, _via_case(Party, (Case, Case.id == Party.case_id))),
    "events": (Event, _via_case(Event, (Case, Case.id == Event.case_id))),
    "case_links": (CaseLink, _links),
    # One row per (right, target), shown where the user may see one of its supporting wins:
    # the opportunities list's own rule.
    "opportunities": (
        Opportunity,
        lambda user: select(Opportunity.id).where(opportunity_visible(user)),
    ),
    "documents": (Document, lambda user: select(Document.id).where(document_filter(user))),
    "model_pleadings": (
        ModelPleading,
        lambda user: select(ModelPleading.id).where(pleading_filter(user)),
    ),
}


def _int(raw: Any) -> int | None:
    try:
        return int(raw) if raw is not None and str(raw).isascii() else None
    except (TypeError, ValueError):
        return None


def _named_cases(entry: AuditEntry) -> set[int]:
    ids: set[int] = set()
    for values in (entry.before, entry.after):
        for key in CASE_KEYS:
            if isinstance(values, dict) and (case_id := _int(values.get(key))) is not None:
                ids.add(case_id)
    return ids


def _levels(entry: AuditEntry) -> set[Any]:
    return {
        values.get("confidentiality")
        for values in (entry.before, entry.after)
        if isinstance(values, dict) and "confidentiality" in values
    }


def withheld_entries(user: Any, entries: Iterable[AuditEntry]) -> set[int]:
    """The ids of the entries whose values and summary this user may not read."""
    entries = list(entries)
    ids_by_type: dict[str, set[int]] = defaultdict(set)
    named_cases: set[int] = set()
    for entry in entries:
        if entry.entity_type in CASE_TYPES and (entity_id := _int(entry.entity_id)) is not None:
            ids_by_type[entry.entity_type].add(entity_id)
        named_cases |= _named_cases(entry)

    visible: dict[str, set[int]] = {}
    existing: dict[str, set[int]] = {}
    for entity_type, ids in ids_by_type.items():
        model, visible_ids = CASE_TYPES[entity_type]
        visible[entity_type] = set(
            db.session.scalars(visible_ids(user).where(model.id.in_(ids)).distinct())
        )
        existing[entity_type] = set(db.session.scalars(select(model.id).where(model.id.in_(ids))))
    visible_cases = (
        set(db.session.scalars(select(Case.id).where(Case.id.in_(named_cases), case_filter(user))))
        if named_cases
        else set()
    )

    withheld: set[int] = set()
    for entry in entries:
        if not _named_cases(entry) <= visible_cases:
            withheld.add(entry.id)
        elif entry.entity_type in OPEN_TYPES:
            continue
        elif entry.entity_type not in CASE_TYPES:
            withheld.add(entry.id)  # a type we do not know: say nothing about it
        elif (entity_id := _int(entry.entity_id)) is None:
            withheld.add(entry.id)
        elif entity_id in existing[entry.entity_type]:
            if entity_id not in visible[entry.entity_type]:
                withheld.add(entry.id)
        elif not _deleted_record_is_open(entry):
            withheld.add(entry.id)
    return withheld


def _deleted_record_is_open(entry: AuditEntry) -> bool:
    """A record that no longer exists: readable only when its own values show that everyone
    could see it (an open level, and a visible case for the records that belong to one)."""
    levels = _levels(entry)
    if entry.entity_type in ("cases", "documents", "model_pleadings"):
        if not levels or not levels <= OPEN_LEVELS:
            return False
        return entry.entity_type != "documents" or bool(_named_cases(entry))
    # Records of a case (proceedings, events, parties, links...): their case decides, and it
    # was checked above; without a case to check they stay withheld.
    return bool(_named_cases(entry))
