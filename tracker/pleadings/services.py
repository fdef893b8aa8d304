"""The model pleadings library: reads (always through pleading_filter) and audited writes.

Writes follow CONVENTIONS.md: ``verb_noun(*, ...)``, flush, audit, never commit. Files go
through the documents area (store_file / create_document: type by content, zip-bomb and XML
checks, content-addressed storage, extracted text); each upload is a Document row with the
pleading's id and a version number, so a new upload keeps the earlier ones.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import selectinload

from tracker.access import can, can_edit_case, case_filter, pleading_filter
from tracker.audit.services import record_audit, snapshot
from tracker.cases.models import WINNING_OUTCOMES, Case, Outcome, Proceeding
from tracker.documents.models import Document, DocumentKind
from tracker.documents.services import (
    StoredFile,
    UploadRejected,
    create_document,
    delete_document,
    discard_file_if_unused,
    file_path,
    store_file,
)
from tracker.extensions import db
from tracker.pleadings.drafts import TemplateProblem, check_template
from tracker.pleadings.forms import LANGUAGES, PLEADING_KINDS
from tracker.pleadings.models import (
    ModelPleading,
    PleadingUse,
    pleading_forums,
    pleading_provisions,
    pleading_rights,
    pleading_systems,
)
from tracker.taxonomy.models import (
    Forum,
    Jurisdiction,
    JurisdictionKind,
    Provision,
    Right,
    provision_rights,
)
from tracker.types import Confidentiality, utcnow

PER_PAGE = 20


class PleadingInvalid(ValueError):
    """Bad input; ``errors`` maps a form field to its messages."""

    def __init__(self, errors: Mapping[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = dict(errors)


# --- Access --------------------------------------------------------------------------------


def visible_pleading(user: Any, pleading_id: int) -> ModelPleading | None:
    """The pleading if the user may see it (callers answer 404 otherwise)."""
    if not can(user, "pleading.view"):
        return None
    return db.session.scalar(
        select(ModelPleading).where(ModelPleading.id == pleading_id, pleading_filter(user))
    )


def visible_case(user: Any, case_id: int | None) -> Case | None:
    if not case_id or not can(user, "case.view"):
        return None
    return db.session.scalar(select(Case).where(Case.id == case_id, case_filter(user)))


def can_manage_pleading(user: Any, pleading: ModelPleading) -> bool:
    """Litigators and up edit, version and delete the pleadings of their organisation (or
    the ones they uploaded)."""
    if not can(user, "pleading.create"):
        return False
    return pleading.organisation_id == user.organisation_id or pleading.created_by_id == user.id


def can_record_use(user: Any, pleading: ModelPleading, case: Case) -> bool:
    """Whether the user may record (or remove) that the pleading was used in the case: a
    track record is evidence other organisations rely on, so seeing both is not enough. The
    user must be able to edit the case, or manage the pleading."""
    if not can(user, "pleading.create"):
        return False
    return can_edit_case(user, case) or can_manage_pleading(user, pleading)


# --- Filters for the library list ------------------------------------------------------------


@dataclass(frozen=True)
class PleadingFilters:
    q: str = ""
    right: str = ""
    provision: str = ""
    forum: str = ""
    system: str = ""
    language: str = ""
    kind: str = ""
    endorsed: str = ""  # "", "yes", "no"

    def to_args(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}

    @property
    def is_empty(self) -> bool:
        return not self.to_args()


def parse_pleading_filters(args: Mapping[str, str]) -> tuple[PleadingFilters, dict[str, str]]:
    """Filters from query parameters, and a message per parameter that was not understood."""
    errors: dict[str, str] = {}

    def text(name: str, max_len: int = 100) -> str:
        return (args.get(name) or "").strip()[:max_len]

    values = {
        "q": text("q", 200),
        "right": text("right"),
        "provision": text("provision"),
        "forum": text("forum"),
        "system": text("system"),
        "language": text("language", 8),
        "kind": text("kind", 20),
        "endorsed": text("endorsed", 3),
    }
    checks = (
        ("right", Right, _("Unknown right: %(code)s.")),
        ("provision", Provision, _("Unknown provision: %(code)s.")),
        ("forum", Forum, _("Unknown forum: %(code)s.")),
        ("system", Jurisdiction, _("Unknown system: %(code)s.")),
    )
    for name, model, message in checks:
        code = values[name]
        if code and db.session.scalar(select(model.id).where(model.code == code)) is None:
            errors[name] = message % {"code": code}
            values[name] = ""
    if values["language"] and values["language"] not in LANGUAGES:
        errors["language"] = _("Unknown language: %(code)s.", code=values["language"])
        values["language"] = ""
    if values["kind"] and values["kind"] not in {k.value for k in PLEADING_KINDS}:
        errors["kind"] = _("Unknown kind: %(code)s.", code=values["kind"])
        values["kind"] = ""
    if values["endorsed"] not in ("", "yes", "no"):
        errors["endorsed"] = _("Choose yes or no.")
        values["endorsed"] = ""
    return PleadingFilters(**values), errors


_TERM = re.compile(r"\w+", re.UNICODE)


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def text_clause(q: str):
    """Every word of q in the pleading's title, summary or notes, or in one of its versions."""
    from tracker.search.services import document_text_clause, parse_terms

    terms = parse_terms(q)
    if not terms:
        return None
    clauses = []
    for term in terms:
        like = _like(term)
        in_metadata = or_(
            ModelPleading.title.ilike(like, escape="\\"),
            ModelPleading.summary.ilike(like, escape="\\"),
            ModelPleading.usage_notes.ilike(like, escape="\\"),
        )
        in_file = exists(
            select(Document.id).where(
                Document.pleading_id == ModelPleading.id, document_text_clause(term)
            )
        )
        clauses.append(or_(in_metadata, in_file))
    return and_(*clauses)


def _right_clause(right_code: str):
    """Tagged with the right, or with a provision that maps to it (the crosswalk)."""
    right_id = select(Right.id).where(Right.code == right_code).scalar_subquery()
    direct = exists(
        select(pleading_rights.c.pleading_id).where(
            pleading_rights.c.pleading_id == ModelPleading.id,
            pleading_rights.c.right_id == right_id,
        )
    )
    via_provision = exists(
        select(pleading_provisions.c.pleading_id)
        .join(
            provision_rights, provision_rights.c.provision_id == pleading_provisions.c.provision_id
        )
        .where(
            pleading_provisions.c.pleading_id == ModelPleading.id,
            provision_rights.c.right_id == right_id,
        )
    )
    return or_(direct, via_provision)


def _tag_clause(table, column: str, model, code: str):
    other_id = select(model.id).where(model.code == code).scalar_subquery()
    return exists(
        select(table.c.pleading_id).where(
            table.c.pleading_id == ModelPleading.id, table.c[column] == other_id
        )
    )


def pleading_list_stmt(user: Any, filters: PleadingFilters) -> Select:
    stmt = select(ModelPleading).where(pleading_filter(user))
    if filters.q:
        clause = text_clause(filters.q)
        if clause is not None:
            stmt = stmt.where(clause)
    if filters.right:
        stmt = stmt.where(_right_clause(filters.right))
    if filters.provision:
        stmt = stmt.where(
            _tag_clause(pleading_provisions, "provision_id", Provision, filters.provision)
        )
    if filters.forum:
        stmt = stmt.where(_tag_clause(pleading_forums, "forum_id", Forum, filters.forum))
    if filters.system:
        stmt = stmt.where(
            _tag_clause(pleading_systems, "jurisdiction_id", Jurisdiction, filters.system)
        )
    if filters.language:
        stmt = stmt.where(ModelPleading.language == filters.language)
    if filters.kind:
        stmt = stmt.where(ModelPleading.kind == DocumentKind(filters.kind))
    if filters.endorsed == "yes":
        stmt = stmt.where(ModelPleading.endorsed_at.is_not(None))
    elif filters.endorsed == "no":
        stmt = stmt.where(ModelPleading.endorsed_at.is_(None))
    return stmt.options(
        selectinload(ModelPleading.rights),
        selectinload(ModelPleading.forums),
        selectinload(ModelPleading.organisation),
    ).order_by(
        ModelPleading.endorsed_at.is_(None), ModelPleading.updated_at.desc(), ModelPleading.id
    )


# --- Track record (visible cases only) -------------------------------------------------------


@dataclass
class TrackRecord:
    cases: int = 0
    wins: int = 0
    outcomes: Counter = field(default_factory=Counter)
    forums: list[str] = field(default_factory=list)


def track_records(
    user: Any, pleading_ids: Iterable[int], *, exclude_case_id: int | None = None
) -> dict[int, TrackRecord]:
    """Per pleading: the cases that used it, their outcomes and forums, counting only the
    cases this user may see (a count that included the others would reveal them), and not
    ``exclude_case_id`` (the case suggestions are for: its own use is no track record)."""
    ids = list(set(pleading_ids))
    records: dict[int, TrackRecord] = defaultdict(TrackRecord)
    if not ids:
        return records
    uses = [PleadingUse.pleading_id.in_(ids), case_filter(user)]
    if exclude_case_id is not None:
        uses.append(PleadingUse.case_id != exclude_case_id)
    rows = db.session.execute(
        select(PleadingUse.pleading_id, Case.outcome)
        .join(Case, Case.id == PleadingUse.case_id)
        .where(*uses)
    )
    for pleading_id, outcome in rows:
        record = records[pleading_id]
        record.cases += 1
        record.outcomes[Outcome(outcome)] += 1
        if outcome in WINNING_OUTCOMES:
            record.wins += 1
    forum_rows = db.session.execute(
        select(PleadingUse.pleading_id, Forum.name)
        .join(Case, Case.id == PleadingUse.case_id)
        .join(Proceeding, Proceeding.case_id == Case.id)
        .join(Forum, Forum.id == Proceeding.forum_id)
        .where(*uses)
        .distinct()
        .order_by(Forum.name)
    )
    for pleading_id, name in forum_rows:
        records[pleading_id].forums.append(name)
    return records


def visible_uses(user: Any, pleading: ModelPleading) -> list[PleadingUse]:
    return list(
        db.session.scalars(
            select(PleadingUse)
            .join(Case, Case.id == PleadingUse.case_id)
            .where(PleadingUse.pleading_id == pleading.id, case_filter(user))
            .options(
                selectinload(PleadingUse.case).selectinload(Case.proceedings),
                # can_record_use() reads these for each use's "Remove" button.
                selectinload(PleadingUse.case).selectinload(Case.partners),
                selectinload(PleadingUse.case).selectinload(Case.team),
            )
            .order_by(PleadingUse.created_at.desc())
        )
    )


def visible_versions(user: Any, pleading: ModelPleading) -> list[Document]:
    """The pleading's versions, newest first (they share the pleading's confidentiality)."""
    return list(
        db.session.scalars(
            select(Document)
            .where(Document.pleading_id == pleading.id)
            .options(selectinload(Document.uploaded_by))
            .order_by(Document.version.desc())
        )
    )


def search_cases_for_linking(user: Any, q: str, limit: int = 10) -> list[Case]:
    """Visible cases by number, title or reference (for 'used in' and 'draft for' pickers)."""
    q = (q or "").strip()[:200]
    if not q:
        return []
    stmt = select(Case).where(case_filter(user)).order_by(Case.updated_at.desc()).limit(limit)
    number = q.lstrip("#")
    if number.isdigit():
        stmt = stmt.where(Case.id == int(number))
    else:
        like = _like(q)
        stmt = stmt.where(
            or_(Case.title.ilike(like, escape="\\"), Case.reference.ilike(like, escape="\\"))
        )
    return list(db.session.scalars(stmt))


# --- Writes --------------------------------------------------------------------------------


def split_codes(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = re.split(r"[;,\n]", value)
    return list(dict.fromkeys(v.strip() for v in value if v and v.strip()))


def _lookup(model, codes: list[str], what: str, errors: dict, key: str) -> list:
    if not codes:
        return []
    found = {
        row.code: row for row in db.session.scalars(select(model).where(model.code.in_(codes)))
    }
    missing = [c for c in codes if c not in found]
    if missing:
        errors.setdefault(key, []).append(
            _("Unknown %(what)s: %(codes)s.", what=what, codes=", ".join(missing))
        )
    return [found[c] for c in codes if c in found]


def _validated(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    title = (data.get("title") or "").strip()
    if not title:
        errors["title"] = [_("Enter a title.")]
    values["title"] = title[:300]
    summary = (data.get("summary") or "").strip()
    if not summary:
        errors["summary"] = [_("Summarise the pleading's arguments.")]
    values["summary"] = summary
    values["usage_notes"] = (data.get("usage_notes") or "").strip() or None
    kind = data.get("kind")
    if kind not in {k.value for k in PLEADING_KINDS}:
        errors["kind"] = [_("Choose a kind.")]
    else:
        values["kind"] = DocumentKind(kind)
    language = data.get("language")
    if language not in LANGUAGES:
        errors["language"] = [_("Choose a language.")]
    values["language"] = language
    level = data.get("confidentiality")
    if level not in {c.value for c in Confidentiality}:
        errors["confidentiality"] = [_("Choose who may see it.")]
    else:
        values["confidentiality"] = Confidentiality(level)
    values["is_template"] = bool(data.get("is_template")) or kind == DocumentKind.TEMPLATE.value
    values["rights"] = _lookup(Right, split_codes(data.get("rights")), _("right"), errors, "rights")
    values["provisions"] = _lookup(
        Provision, split_codes(data.get("provisions")), _("provision"), errors, "provisions"
    )
    values["forums"] = _lookup(Forum, split_codes(data.get("forums")), _("forum"), errors, "forums")
    systems = _lookup(
        Jurisdiction, split_codes(data.get("systems")), _("system"), errors, "systems"
    )
    not_systems = [j.code for j in systems if j.kind != JurisdictionKind.SYSTEM]
    if not_systems:
        errors.setdefault("systems", []).append(
            _("Not a regional or UN system: %(codes)s.", codes=", ".join(not_systems))
        )
    values["systems"] = systems
    if errors:
        raise PleadingInvalid(errors)
    return values


def pleading_snapshot(pleading: ModelPleading) -> dict[str, Any]:
    return snapshot(
        pleading,
        {
            "rights": sorted(r.code for r in pleading.rights),
            "provisions": sorted(p.code for p in pleading.provisions),
            "forums": sorted(f.code for f in pleading.forums),
            "systems": sorted(j.code for j in pleading.systems),
        },
    )


def _store(file: Any, *, template: bool) -> StoredFile:
    """Store the upload through the documents area; a template's placeholders are checked
    after the file's safety checks and before anything refers to it."""
    try:
        stored = store_file(file)
    except UploadRejected as exc:
        raise PleadingInvalid({"file": [str(exc.message)]}) from exc
    if template:
        problem: list[str] | None = None
        if stored.file_type != "docx":
            problem = [_("A template must be a Word document (DOCX).")]
        else:
            try:
                check_template(file_path(stored.sha256))
            except TemplateProblem as exc:
                problem = exc.messages
        if problem:
            discard_file_if_unused(stored.sha256)
            raise PleadingInvalid({"file": problem})
    return stored


def _apply(pleading: ModelPleading, values: dict[str, Any]) -> None:
    for name in (
        "title",
        "kind",
        "language",
        "summary",
        "usage_notes",
        "confidentiality",
        "is_template",
    ):
        setattr(pleading, name, values[name])
    pleading.rights = values["rights"]
    pleading.provisions = values["provisions"]
    pleading.forums = values["forums"]
    pleading.systems = values["systems"]


def create_pleading(*, user: Any, data: Mapping[str, Any], file: Any) -> ModelPleading:
    """Add a pleading and its first version. Raises PleadingInvalid; nothing is written then."""
    if not can(user, "pleading.create"):
        raise PermissionError("pleading.create")
    values = _validated(data)
    stored = _store(file, template=values["is_template"])
    pleading = ModelPleading(organisation_id=user.organisation_id, created_by_id=user.id)
    _apply(pleading, values)
    db.session.add(pleading)
    db.session.flush()
    _add_document(pleading=pleading, stored=stored, user=user, version=1)
    record_audit(action="pleading.create", entity=pleading, after=pleading_snapshot(pleading))
    return pleading


def _add_document(
    *, pleading: ModelPleading, stored: StoredFile, user: Any, version: int
) -> Document:
    return create_document(
        pleading=pleading,
        file=stored,
        kind=pleading.kind,
        language=pleading.language,
        title=pleading.title,
        confidentiality=pleading.confidentiality,
        user=user,
        version=version,
    )


def update_pleading(*, user: Any, pleading: ModelPleading, data: Mapping[str, Any]) -> None:
    if not can_manage_pleading(user, pleading):
        raise PermissionError("pleading.edit")
    before = pleading_snapshot(pleading)
    values = _validated(data)
    if values["is_template"] and not pleading.is_template:
        latest = next(iter(visible_versions(user, pleading)), None)
        if latest is None or not latest.filename.lower().endswith(".docx"):
            raise PleadingInvalid(
                {"is_template": [_("A template must be a Word document (DOCX).")]}
            )
        try:
            check_template(file_path(latest.sha256))
        except TemplateProblem as exc:
            raise PleadingInvalid({"is_template": exc.messages}) from exc
    _apply(pleading, values)
    # Versions inherit the pleading's title, kind, language and confidentiality.
    for document in db.session.scalars(select(Document).where(Document.pleading_id == pleading.id)):
        document.confidentiality = pleading.confidentiality
        document.language = pleading.language
        document.kind = pleading.kind
    pleading.updated_at = utcnow()
    db.session.flush()
    record_audit(
        action="pleading.update",
        entity=pleading,
        before=before,
        after=pleading_snapshot(pleading),
    )


def add_version(*, user: Any, pleading: ModelPleading, file: Any, note: str | None = None):
    """A new upload becomes version n+1; earlier versions are kept."""
    if not can_manage_pleading(user, pleading):
        raise PermissionError("pleading.edit")
    stored = _store(file, template=pleading.is_template)
    current = db.session.scalar(
        select(func.max(Document.version)).where(Document.pleading_id == pleading.id)
    )
    document = _add_document(
        pleading=pleading, stored=stored, user=user, version=(current or 0) + 1
    )
    if note:
        document.note = " ".join(x for x in (note.strip(), document.note) if x)
    pleading.updated_at = utcnow()
    db.session.flush()
    record_audit(
        action="pleading.version",
        entity=pleading,
        after={"version": document.version, "document_id": document.id, "sha256": stored.sha256},
    )
    return document


def delete_pleading(*, user: Any, pleading: ModelPleading) -> list[str]:
    """Delete the pleading, its versions and its uses (audited). Returns the checksums to
    pass to discard_file_if_unused() after the commit."""
    if not can_manage_pleading(user, pleading):
        raise PermissionError("pleading.delete")
    record_audit(action="pleading.delete", entity=pleading, before=pleading_snapshot(pleading))
    checksums = []
    for document in list(
        db.session.scalars(select(Document).where(Document.pleading_id == pleading.id))
    ):
        checksums.append(delete_document(document=document, user=user))
    for use in db.session.scalars(
        select(PleadingUse).where(PleadingUse.pleading_id == pleading.id)
    ):
        db.session.delete(use)
    db.session.delete(pleading)
    db.session.flush()
    return checksums


def set_endorsement(*, user: Any, pleading: ModelPleading, endorse: bool) -> None:
    if not can(user, "pleading.endorse"):
        raise PermissionError("pleading.endorse")
    before = _endorsement(pleading)
    if endorse:
        pleading.endorsed_at = utcnow()
        pleading.endorsed_by_id = user.id
    else:
        pleading.endorsed_at = None
        pleading.endorsed_by_id = None
    db.session.flush()
    record_audit(
        action="pleading.endorse" if endorse else "pleading.unendorse",
        entity=pleading,
        before=before,
        after=_endorsement(pleading),
    )


def _endorsement(pleading: ModelPleading) -> dict[str, Any]:
    at = pleading.endorsed_at
    return {
        "endorsed_at": at.isoformat() if at else None,
        "endorsed_by_id": pleading.endorsed_by_id,
    }


def link_use(
    *, user: Any, pleading: ModelPleading, case: Case, note: str | None = None
) -> PleadingUse:
    """Record that the pleading was used in a case (both visible to the user, who may edit
    the case or manages the pleading: see can_record_use)."""
    if not can_record_use(user, pleading, case):
        raise PermissionError("pleading.link")
    existing = db.session.scalar(
        select(PleadingUse).where(
            PleadingUse.pleading_id == pleading.id, PleadingUse.case_id == case.id
        )
    )
    if existing is not None:
        raise PleadingInvalid({"case_id": [_("This pleading is already linked to that case.")]})
    use = PleadingUse(pleading_id=pleading.id, case_id=case.id, note=(note or "").strip() or None)
    db.session.add(use)
    db.session.flush()
    record_audit(
        action="pleading.link",
        entity=pleading,
        after={"case_id": case.id, "use_id": use.id, "note": use.note},
    )
    return use


def unlink_use(*, user: Any, use: PleadingUse) -> None:
    if not can_record_use(user, use.pleading, use.case):
        raise PermissionError("pleading.link")
    record_audit(
        action="pleading.unlink",
        entity_type="model_pleadings",
        entity_id=use.pleading_id,
        before={"case_id": use.case_id, "use_id": use.id, "note": use.note},
    )
    db.session.delete(use)
    db.session.flush()


def record_draft(
    *,
    user: Any,
    pleading: ModelPleading,
    case: Case,
    full_names: bool,
    proceeding: Proceeding | None = None,
) -> None:
    """Drafts are not stored, but who generated one from which case (and proceeding) is
    audited."""
    record_audit(
        action="pleading.draft",
        entity=pleading,
        after={
            "case_id": case.id,
            "proceeding_id": proceeding.id if proceeding is not None else None,
            "full_names": full_names,
        },
        user_id=getattr(user, "id", None),
    )


# Suggestions live in their own module; exported here as the area's public interface.
from tracker.pleadings.suggestions import Suggestion, suggest_pleadings  # noqa: E402

__all__ = [
    "PleadingInvalid",
    "Suggestion",
    "create_pleading",
    "suggest_pleadings",
    "track_records",
]
