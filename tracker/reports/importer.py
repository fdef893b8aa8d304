"""CSV import of cases (and, optionally, their proceedings) in the export's column layout.

All or nothing: every row of both files is validated first (against code -> id maps loaded
once), each problem reported with its line, column and reason; only a fully valid import is
written, with bulk inserts, in the caller's transaction. Rows are matched to existing cases by
lead organisation + reference (proceedings by case + position), so importing the same file
twice changes nothing: unchanged records get no update, no version bump and no audit entry.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache, cached_property
from operator import itemgetter
from typing import Any

from flask import current_app, has_app_context, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import and_, delete, exists, func, insert, or_, select, true, update

from tracker.access import can, case_filter
from tracker.audit.models import AuditEntry
from tracker.auth.models import Organisation
from tracker.cases.models import (
    Case,
    CaseMember,
    CaseType,
    Outcome,
    Proceeding,
    ProceedingTreatment,
    Status,
    TeamRole,
    Treatment,
    case_partners,
    case_provisions,
    case_rights,
)
from tracker.cases.services import DECIDED_STATUSES
from tracker.extensions import db
from tracker.patterns.services import cases_changed
from tracker.reports.columns import (
    CASE_COLUMNS,
    PROCEEDING_COLUMNS,
    known_names,
    unneutralise,
)
from tracker.taxonomy.models import Forum, Jurisdiction, Provision, Right
from tracker.types import Confidentiality, Role, utcnow

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
CHUNK = 500  # ids per IN (...) when looking rows up
TEXT_LIMITS = {"reference": 80, "title": 300, "summary": 20000, "strategic_aim": 20000}
TEXT_LIMITS |= {"arguments": 20000, "notes": 20000, "ecli": 80, "proc_reference": 120}


class ImportNotAllowed(Exception):
    """The person may not import at all (role)."""


class _EditedMeanwhile(Exception):
    """Rows whose case someone saved between the import's check and its write."""

    def __init__(self, rows: list[CaseRow]):
        super().__init__("cases edited during the import")
        self.rows = rows


@dataclass(frozen=True)
class CommandLineImporter:
    """The importer of `tracker import cases` without --as-user: the server's operator.

    Whoever runs the command already holds the database, so it may write any organisation's
    cases. It belongs to no organisation (each row names its lead organisation, unless the
    network has only one) and to no case team (so it cannot create restricted cases, which
    nobody could then see). Audit entries name no user and say "command line".
    """

    id: None = None
    organisation_id: None = None
    role: Role = Role.ADMIN
    is_authenticated: bool = True
    is_operator: bool = True


def _is_operator(actor) -> bool:
    return getattr(actor, "is_operator", False)


@dataclass(frozen=True)
class RowError:
    file: str  # "cases" or "proceedings"
    line: int  # physical line in the file (1 = first line); 0 for the file as a whole
    column: str
    reason: str


@dataclass
class ImportResult:
    dry_run: bool
    errors: list[RowError] = field(default_factory=list)
    created: list[tuple[int, str]] = field(default_factory=list)  # (line, reference)
    updated: list[tuple[int, str]] = field(default_factory=list)
    unchanged: int = 0
    proceedings_created: int = 0
    proceedings_updated: int = 0
    proceedings_unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return (
            self.ok
            and not self.dry_run
            and bool(
                self.created or self.updated or self.proceedings_created or self.proceedings_updated
            )
        )


# --- Reading CSV -----------------------------------------------------------------------------
def read_csv(
    data: bytes, file: str, columns, errors: list[RowError]
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Decode and split a file: (header, [(line, {column: value})]). Problems go to errors."""
    limit = _limit("IMPORT_MAX_BYTES", MAX_BYTES)
    max_rows = _limit("IMPORT_MAX_ROWS", MAX_ROWS)
    if len(data) > limit:
        errors.append(
            RowError(
                file,
                0,
                "",
                _(
                    "The file is too large (%(size)s MB); the limit is %(limit)s MB. "
                    "Split it into several files.",
                    size=f"{len(data) / 1048576:.1f}",
                    limit=f"{limit / 1048576:g}",
                ),
            )
        )
        return [], []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        errors.append(
            RowError(file, line, "", _("The file is not UTF-8 text. Save it as CSV UTF-8."))
        )
        return [], []
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        errors.append(RowError(file, line, "", _("The file contains a NUL character.")))
        return [], []

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=",", strict=True)
    header: list[str] = []
    rows: list[tuple[int, dict[str, str]]] = []
    previous = 0
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(file, previous + 1, "", _("Unreadable CSV: %(e)s", e=str(exc))))
            return header, []
        start, previous = previous + 1, reader.line_num
        if not any(v.strip() for v in raw):
            continue
        if not header:
            if raw[0].lstrip().startswith("#"):
                continue  # the export's description line
            header = [h.strip().lower() for h in raw]
            if not _check_header(header, file, start, columns, errors):
                return header, []
            continue
        if len(rows) >= max_rows:
            errors.append(
                RowError(
                    file,
                    start,
                    "",
                    _("Too many rows: at most %(n)s per file. Split the file.", n=max_rows),
                )
            )
            return header, []
        if len(raw) != len(header):
            errors.append(
                RowError(
                    file,
                    start,
                    "",
                    _(
                        "Expected %(n)d values, found %(m)d (check quotes and commas).",
                        n=len(header),
                        m=len(raw),
                    ),
                )
            )
            continue
        rows.append((start, {h: unneutralise(v.strip()) for h, v in zip(header, raw, strict=True)}))
    if not header:
        errors.append(RowError(file, 1, "", _("The file is empty: it needs a header row.")))
    return header, rows


def _check_header(header, file, line, columns, errors) -> bool:
    ok = True
    known = known_names(columns)
    seen: set[str] = set()
    for name in header:
        if name in seen:
            errors.append(RowError(file, line, name, _("This column appears twice.")))
            ok = False
        seen.add(name)
        if name not in known:
            errors.append(
                RowError(file, line, name, _("Unknown column (see docs/csv-columns.md)."))
            )
            ok = False
    for col in columns:
        if col.required and col.name not in seen:
            errors.append(RowError(file, line, col.name, _("This required column is missing.")))
            ok = False
    return ok


def _limit(name: str, default: int) -> int:
    return int(current_app.config.get(name, default)) if has_app_context() else default


# --- Validated rows ----------------------------------------------------------------------------
@dataclass
class CaseRow:
    line: int
    org_id: int
    reference: str | None
    values: dict[str, Any]  # column values (ids for jurisdiction), only for present columns
    rights: set[int] | None
    provisions: set[int] | None
    partners: set[int] | None
    existing_id: int | None = None
    url: str = ""  # the exported row's url: finds a case without a reference
    version: int | None = None  # the exported version: an update of a newer case is refused

    @property
    def label(self) -> str:
        """How the dry run and the result name the row's case."""
        return self.reference or f"“{self.values.get('title') or ''}”"

    @cached_property
    def key(self) -> tuple[int, str] | None:
        """What proceedings rows name this case by: its reference, else its url."""
        if self.reference:
            return (self.org_id, self.reference)
        if self.url:
            return (self.org_id, URL_KEY + self.url)
        return None


# Keys of cases found by url rather than reference (a reference never starts with NUL).
URL_KEY = "\x00url:"


@dataclass
class ProcRow:
    line: int
    case_key: tuple[int, str]
    position: int
    occurrence: int
    values: dict[str, Any]
    treatments: set[tuple[str, int, Treatment]] | None  # ("provision"|"right", id, treatment)
    existing_id: int | None = None


@dataclass
class _Maps:
    jurisdictions: dict[str, int]
    rights: dict[str, int]
    provisions: dict[str, int]
    forums: dict[str, int]
    organisations: dict[str, tuple[int, bool]]  # lower-case name -> (id, is_active)

    @property
    def only_organisation(self) -> int | None:
        active = [i for i, is_active in self.organisations.values() if is_active]
        return active[0] if len(active) == 1 else None

    @classmethod
    def load(cls) -> _Maps:
        ex = db.session.execute
        return cls(
            jurisdictions=dict(ex(select(Jurisdiction.code, Jurisdiction.id)).tuples().all()),
            rights=dict(ex(select(Right.code, Right.id)).tuples().all()),
            provisions=dict(ex(select(Provision.code, Provision.id)).tuples().all()),
            forums=dict(ex(select(Forum.code, Forum.id)).tuples().all()),
            organisations={
                n.lower(): (i, a)
                for n, i, a in ex(
                    select(Organisation.name, Organisation.id, Organisation.is_active)
                )
            },
        )


@cache
def _members(enum_cls) -> dict[str, Any]:
    """value -> member: a dict lookup, where calling the enum class costs ten times more (40,000
    calls in a file of 10,000 cases)."""
    return {m.value: m for m in enum_cls}


class _Row:
    """Helpers that read one row's values, recording problems against its line."""

    def __init__(self, file: str, line: int, values: dict[str, str], errors: list[RowError]):
        self.file, self.line, self.values, self.errors = file, line, values, errors

    def error(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.file, self.line, column, reason))

    def has(self, column: str) -> bool:
        return column in self.values

    def text(self, column: str, *, required: bool = False, limit_key: str | None = None):
        value = self.values.get(column, "")
        if not value:
            if required:
                self.error(column, _("A value is required."))
            return None
        limit = TEXT_LIMITS.get(limit_key or column)
        if limit and len(value) > limit:
            self.error(column, _("At most %(n)d characters.", n=limit))
            return None
        return value

    def enum(self, column: str, enum_cls, default=None, *, required: bool = False):
        value = self.values.get(column, "")
        if not value:
            if required:
                self.error(column, _("A value is required."))
            return default
        member = _members(enum_cls).get(value)
        if member is None:
            allowed = ", ".join(m.value for m in enum_cls)
            self.error(
                column,
                _("Unknown value “%(v)s”; use one of: %(allowed)s.", v=value, allowed=allowed),
            )
            return default
        return member

    def date(self, column: str) -> date | None:
        value = self.values.get(column, "")
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.error(column, _("“%(v)s” is not a date like 2024-03-31.", v=value))
            return None

    def codes(self, column: str, known: dict[str, int]) -> set[int]:
        codes = [c.strip() for c in self.values.get(column, "").split(";") if c.strip()]
        unknown = [c for c in codes if c not in known]
        if unknown:
            self.error(column, _("Unknown code: %(codes)s", codes=", ".join(unknown)))
        return {known[c] for c in codes if c in known}


def _may_lead(actor, org_id: int) -> bool:
    return org_id == actor.organisation_id or actor.role in (Role.COORDINATOR, Role.ADMIN)


def _organisation(row: _Row, column: str, actor, maps: _Maps, *, check_write: bool) -> int | None:
    name = row.values.get(column, "")
    if not name:
        if actor.organisation_id is None:  # the command line without --as-user
            if maps.only_organisation is not None:
                return maps.only_organisation
            row.error(
                column,
                _("Name the lead organisation (or import as a person with --as-user)."),
            )
            return None
        return actor.organisation_id
    found = maps.organisations.get(name.lower())
    if found is None or not found[1]:
        row.error(column, _("No active organisation of the network is called “%(n)s”.", n=name))
        return None
    if check_write and not _may_lead(actor, found[0]):
        row.error(
            column,
            _("You cannot import cases for “%(n)s”: only for your own organisation.", n=name),
        )
        return None
    return found[0]


def _validate_cases(actor, rows, maps: _Maps, errors: list[RowError]) -> list[CaseRow]:
    out: list[CaseRow] = []
    seen: dict[tuple[int, str], int] = {}
    for line, values in rows:
        r = _Row("cases", line, values, errors)
        before = len(errors)
        reference = r.text("reference")
        org_id = _organisation(r, "lead_organisation", actor, maps, check_write=True)
        v: dict[str, Any] = {}
        v["title"] = r.text("title", required=True)
        v["case_type"] = r.enum("case_type", CaseType, required=True)
        for name, enum_cls, default in (
            ("confidentiality", Confidentiality, Confidentiality.NETWORK),
            ("status", Status, Status.PLANNED),
            ("outcome", Outcome, Outcome.NONE_YET),
        ):
            if r.has(name):
                v[name] = r.enum(name, enum_cls, default)
        if v.get("confidentiality") == Confidentiality.RESTRICTED and actor.id is None:
            r.error(
                "confidentiality",
                _("A restricted case needs a team: import it as a person with --as-user."),
            )
        version = None
        raw_version = values.get("version", "")
        if raw_version:
            if raw_version.isdigit() and 0 < int(raw_version) < 2**31:
                version = int(raw_version)
            else:
                r.error("version", _("Use the whole number the export gave (1, 2, 3 ...)."))
        code = values.get("jurisdiction", "")
        jid = maps.jurisdictions.get(code) or maps.jurisdictions.get(code.upper())
        if not code:
            r.error("jurisdiction", _("A value is required."))
        elif jid is None:
            r.error("jurisdiction", _("Unknown code: %(codes)s", codes=code))
        v["jurisdiction_id"] = jid
        if r.has("opened_on"):
            v["opened_on"] = r.date("opened_on")
        for name in ("summary", "strategic_aim", "arguments"):
            if r.has(name):
                v[name] = r.text(name)
        rights = r.codes("rights", maps.rights) if r.has("rights") else None
        provisions = r.codes("provisions", maps.provisions) if r.has("provisions") else None
        partners: set[int] | None = None
        if r.has("partners"):
            partners = set()
            for name in [p.strip() for p in values["partners"].split(";") if p.strip()]:
                found = maps.organisations.get(name.lower())
                if found is None:
                    r.error(
                        "partners", _("No organisation of the network is called “%(n)s”.", n=name)
                    )
                else:
                    partners.add(found[0])
            if org_id is not None:
                partners.discard(org_id)
        url = values.get("url", "")
        if org_id is not None and (reference or url):
            key = (org_id, reference) if reference else ("url", url)
            if key in seen and reference:
                r.error(
                    "reference",
                    _("Duplicate reference: line %(line)d has the same one.", line=seen[key]),
                )
            elif key in seen:
                r.error("url", _("Duplicate url: line %(line)d has the same one.", line=seen[key]))
            else:
                seen[key] = line
        if len(errors) == before:
            out.append(
                CaseRow(
                    line,
                    org_id,
                    reference,
                    v,
                    rights,
                    provisions,
                    partners,
                    url=url,
                    version=version,
                )
            )
    return out


def _check_outcome(row: CaseRow, current: dict | None, errors: list[RowError]) -> None:
    """An outcome other than none_yet needs a decision (as on the case form's proceedings)."""
    fallback = current or {"status": Status.PLANNED, "outcome": Outcome.NONE_YET}
    status = row.values.get("status") or fallback["status"]
    outcome = row.values.get("outcome") or fallback["outcome"]
    if outcome != Outcome.NONE_YET and status not in DECIDED_STATUSES:
        errors.append(
            RowError(
                "cases",
                row.line,
                "outcome" if "outcome" in row.values else "status",
                _(
                    "The outcome “%(outcome)s” needs a decision: set the status to decided, "
                    "on_appeal or closed (it is “%(status)s”), or the outcome to none_yet.",
                    outcome=outcome.value,
                    status=status.value,
                ),
            )
        )


def _proc_case_key(values: dict[str, str], actor, maps: _Maps) -> tuple[int, str] | None:
    """The case a proceedings row names: (organisation, reference), else (organisation, url)."""
    org = values.get("lead_organisation", "")
    if org:
        found = maps.organisations.get(org.lower())
        org_id = found[0] if found else None
    else:
        org_id = actor.organisation_id
        if org_id is None:
            org_id = maps.only_organisation
    if org_id is None:
        return None
    ref = values.get("case_reference", "")
    if ref:
        return (org_id, ref)
    url = values.get("case_url", "")
    return (org_id, URL_KEY + url) if url else None


def _editable_clause(actor):
    if _is_operator(actor):
        return true()
    partner = exists(
        select(case_partners.c.case_id).where(
            case_partners.c.case_id == Case.id,
            case_partners.c.organisation_id == actor.organisation_id,
        )
    )
    team = exists(
        select(CaseMember.id).where(CaseMember.case_id == Case.id, CaseMember.user_id == actor.id)
    )
    return and_(
        case_filter(actor), or_(Case.lead_organisation_id == actor.organisation_id, partner, team)
    )


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _existing_cases(actor, keys: list[tuple[int, str]]) -> dict[tuple[int, str], tuple[int, bool]]:
    """(org, reference) -> (case id, editable by actor) for keys that exist already."""
    out: dict[tuple[int, str], tuple[int, bool]] = {}
    by_org: dict[int, list[str]] = defaultdict(list)
    by_id: dict[int, tuple[int, str]] = {}
    for org_id, ref in keys:
        if ref.startswith(URL_KEY):
            case_id = _case_id_from_url(ref[len(URL_KEY) :])
            if case_id is not None:
                by_id[case_id] = (org_id, ref)
        else:
            by_org[org_id].append(ref)
    editable_clause = _editable_clause(actor)
    # By url: only a case of this tracker the actor may see, under the same lead organisation
    # (a url from another deployment, or of a case they cannot see, creates a new case).
    visible = true() if _is_operator(actor) else case_filter(actor)
    for chunk in _chunks(list(by_id)):
        for case_id, org_id, editable in db.session.execute(
            select(Case.id, Case.lead_organisation_id, editable_clause.label("e")).where(
                Case.id.in_(chunk), visible
            )
        ):
            key = by_id[case_id]
            if key[0] == org_id:
                out[key] = (case_id, bool(editable) and can(actor, "case.edit"))
    for org_id, refs in by_org.items():
        for chunk in _chunks(refs):
            rows = db.session.execute(
                select(Case.id, Case.reference, editable_clause.label("editable")).where(
                    Case.lead_organisation_id == org_id, Case.reference.in_(chunk)
                )
            )
            for case_id, ref, editable in rows:
                out[(org_id, ref)] = (case_id, bool(editable) and can(actor, "case.edit"))
    return out


def _case_id_from_url(url: str) -> int | None:
    prefix = current_app.config["TRACKER_BASE_URL"].rstrip("/") + "/cases/"
    tail = url[len(prefix) :] if url.startswith(prefix) else ""
    return int(tail) if tail.isdigit() and len(tail) < 19 else None


CASE_VALUE_FIELDS = (
    "title",
    "case_type",
    "confidentiality",
    "status",
    "outcome",
    "jurisdiction_id",
    "opened_on",
    "summary",
    "strategic_aim",
    "arguments",
)


def _current_cases(ids: list[int]) -> dict[int, dict[str, Any]]:
    """Current values (and tag id sets) of existing cases, for comparison."""
    out: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        cols = [getattr(Case, f) for f in CASE_VALUE_FIELDS]
        for row in db.session.execute(
            select(Case.id, Case.version, *cols).where(Case.id.in_(chunk))
        ):
            d = dict(row._mapping)
            d.update(rights=set(), provisions=set(), partners=set())
            out[row.id] = d
        for table, col, key in (
            (case_rights, case_rights.c.right_id, "rights"),
            (case_provisions, case_provisions.c.provision_id, "provisions"),
            (case_partners, case_partners.c.organisation_id, "partners"),
        ):
            for case_id, value in db.session.execute(
                select(table.c.case_id, col).where(table.c.case_id.in_(chunk))
            ):
                out[case_id][key].add(value)
    return out


def _jsonable(value: Any) -> Any:
    if hasattr(value, "value"):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set):
        return sorted(value)
    return value


def _case_changes(row: CaseRow, current: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for name, value in row.values.items():
        if current.get(name) != value:
            changes[name] = (current.get(name), value)
    for name in ("rights", "provisions", "partners"):
        wanted = getattr(row, name)
        if wanted is not None and wanted != current[name]:
            changes[name] = (current[name], wanted)
    return changes


def _validate_proceedings(
    actor, rows, maps: _Maps, case_keys: set[tuple[int, str]], errors: list[RowError]
) -> list[ProcRow]:
    out: list[ProcRow] = []
    next_position: dict[tuple[int, str], int] = defaultdict(int)
    occurrences: dict[tuple[tuple[int, str], int], int] = defaultdict(int)
    for line, values in rows:
        r = _Row("proceedings", line, values, errors)
        before = len(errors)
        reference = r.text("case_reference", limit_key="reference")
        url = values.get("case_url", "")
        if not reference and not url:
            r.error("case_reference", _("A value is required (or the case_url)."))
        org_id = _organisation(r, "lead_organisation", actor, maps, check_write=False)
        key = None
        if org_id is not None and (reference or url):
            key = (org_id, reference) if reference else (org_id, URL_KEY + url)
        if key is not None and key not in case_keys:
            r.error(
                "case_reference" if reference else "case_url",
                _("No case with this reference in the cases file or among your cases.")
                if reference
                else _("No case at this url in the cases file or among your cases."),
            )
        position = next_position[key] if key else 0
        raw_position = values.get("position", "")
        if raw_position:
            if raw_position.isdigit() and int(raw_position) < 10000:
                position = int(raw_position)
            else:
                r.error("position", _("Use a whole number (0, 1, 2 ...)."))
        if key:
            next_position[key] = max(next_position[key], position + 1)
        v: dict[str, Any] = {}
        forum = values.get("forum", "")
        v["forum_id"] = maps.forums.get(forum) or maps.forums.get(forum.upper())
        if not forum:
            r.error("forum", _("A value is required."))
        elif v["forum_id"] is None:
            r.error("forum", _("Unknown code: %(codes)s", codes=forum))
        v["reference"] = r.text("reference", limit_key="proc_reference")
        v["filed_on"] = r.date("filed_on")
        v["decided_on"] = r.date("decided_on")
        if v["filed_on"] and v["decided_on"] and v["decided_on"] < v["filed_on"]:
            r.error("decided_on", _("The decision date is before the filing date."))
        v["status"] = r.enum("status", Status, required=True)
        v["outcome"] = r.enum("outcome", Outcome, Outcome.NONE_YET)
        if (
            v["status"] is not None
            and v["outcome"] not in (None, Outcome.NONE_YET)
            and v["status"] not in DECIDED_STATUSES
        ):
            r.error(
                "outcome",
                _(
                    "The outcome “%(outcome)s” needs a decision: set the status to decided, "
                    "on_appeal or closed (it is “%(status)s”), or the outcome to none_yet.",
                    outcome=v["outcome"].value,
                    status=v["status"].value,
                ),
            )
        v["ecli"] = r.text("ecli")
        if r.has("notes"):
            v["notes"] = r.text("notes")
        treatments: set[tuple[str, int, Treatment]] | None = None
        if r.has("treatments"):
            treatments = set()
            seen_codes: set[str] = set()
            for part in [p.strip() for p in values["treatments"].split(";") if p.strip()]:
                code, _sep, how = part.partition("=")
                code, how = code.strip(), how.strip()
                kind, known = (
                    ("provision", maps.provisions) if ":" in code else ("right", maps.rights)
                )
                try:
                    treatment = Treatment(how)
                except ValueError:
                    r.error(
                        "treatments",
                        _("“%(p)s”: write CODE=upheld, rejected or not_reached.", p=part),
                    )
                    continue
                if code not in known:
                    r.error("treatments", _("Unknown code: %(codes)s", codes=code))
                    continue
                if code in seen_codes:
                    r.error("treatments", _("“%(c)s” appears twice.", c=code))
                    continue
                seen_codes.add(code)
                treatments.add((kind, known[code], treatment))
        if len(errors) == before and key is not None:
            occurrence = occurrences[(key, position)]
            occurrences[(key, position)] += 1
            out.append(ProcRow(line, key, position, occurrence, v, treatments))
    return out


PROC_VALUE_FIELDS = (
    "forum_id",
    "reference",
    "filed_on",
    "decided_on",
    "status",
    "outcome",
    "ecli",
    "notes",
)


def _current_proceedings(case_ids: list[int]) -> dict[tuple[int, int, int], dict[str, Any]]:
    """(case id, position, occurrence) -> current values and treatments."""
    out: dict[tuple[int, int, int], dict[str, Any]] = {}
    by_id: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(case_ids):
        cols = [getattr(Proceeding, f) for f in PROC_VALUE_FIELDS]
        rows = db.session.execute(
            select(Proceeding.id, Proceeding.case_id, Proceeding.position, *cols)
            .where(Proceeding.case_id.in_(chunk))
            .order_by(Proceeding.case_id, Proceeding.position, Proceeding.id)
        )
        counter: dict[tuple[int, int], int] = defaultdict(int)
        for row in rows:
            d = dict(row._mapping)
            d["treatments"] = set()
            n = counter[(row.case_id, row.position)]
            counter[(row.case_id, row.position)] += 1
            out[(row.case_id, row.position, n)] = d
            by_id[row.id] = d
        for chunk_ids in _chunks(list(by_id)):
            for pid, prov, right, how in db.session.execute(
                select(
                    ProceedingTreatment.proceeding_id,
                    ProceedingTreatment.provision_id,
                    ProceedingTreatment.right_id,
                    ProceedingTreatment.treatment,
                ).where(ProceedingTreatment.proceeding_id.in_(chunk_ids))
            ):
                kind, ident = ("provision", prov) if prov is not None else ("right", right)
                by_id[pid]["treatments"].add((kind, ident, how))
    return out


def _proc_changes(row: ProcRow, current: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    changes = {
        name: (current.get(name), value)
        for name, value in row.values.items()
        if current.get(name) != value
    }
    if row.treatments is not None and row.treatments != current["treatments"]:
        changes["treatments"] = (current["treatments"], row.treatments)
    return changes


def _treatments_json(values: set) -> list[str]:
    return sorted(f"{kind}:{ident}={how.value}" for kind, ident, how in values)


# --- The import --------------------------------------------------------------------------------
def import_cases(
    *,
    actor,
    cases_data: bytes,
    proceedings_data: bytes | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Validate both files, then (unless dry_run or invalid) write them. Flushes, never commits."""
    if not can(actor, "import.cases"):
        raise ImportNotAllowed(_("Your role does not allow importing cases."))
    result = ImportResult(dry_run=dry_run)
    errors = result.errors
    maps = _Maps.load()
    _header, case_lines = read_csv(cases_data, "cases", CASE_COLUMNS, errors)
    proc_lines: list = []
    if proceedings_data is not None:
        _ph, proc_lines = read_csv(proceedings_data, "proceedings", PROCEEDING_COLUMNS, errors)
    case_rows = _validate_cases(actor, case_lines, maps, errors)

    existing = _existing_cases(actor, [r.key for r in case_rows if r.key])
    matched: dict[int, int] = {}  # case id -> line, so that two rows never update one case
    for row in case_rows:
        found = existing.get(row.key) if row.key else None
        if found is None:
            continue
        case_id, editable = found
        column = "reference" if row.reference else "url"
        if not editable:
            errors.append(
                RowError(
                    "cases",
                    row.line,
                    column,
                    _(
                        "A case with this reference already exists for this organisation "
                        "and you cannot change it."
                    )
                    if row.reference
                    else _("You cannot change the case at this url."),
                )
            )
        elif case_id in matched:
            errors.append(
                RowError(
                    "cases",
                    row.line,
                    column,
                    _("Line %(line)d updates the same case.", line=matched[case_id]),
                )
            )
        matched.setdefault(case_id, row.line)
        row.existing_id = case_id

    # Proceedings may belong to cases of this file, or to existing cases the actor may edit.
    file_keys = {r.key for r in case_rows if r.key}
    proc_keys_wanted = []
    for _line, values in proc_lines:
        key = _proc_case_key(values, actor, maps)
        if key is not None:
            proc_keys_wanted.append(key)
    other = _existing_cases(actor, [k for k in set(proc_keys_wanted) if k not in file_keys])
    writable_keys = file_keys | {k for k, (_id, editable) in other.items() if editable}
    proc_rows = _validate_proceedings(actor, proc_lines, maps, writable_keys, errors)

    # Plan: which cases are new, changed or unchanged (and refuse stale or inconsistent rows).
    current = _current_cases([r.existing_id for r in case_rows if r.existing_id])
    new_rows, changed = [], []
    refused = {e.line for e in errors if e.file == "cases"}
    for row in case_rows:
        if row.line in refused:
            continue
        cur = current.get(row.existing_id) if row.existing_id else None
        _check_outcome(row, cur, errors)
        if cur is None:
            new_rows.append(row)
            result.created.append((row.line, row.label))
            continue
        changes = _case_changes(row, cur)
        if not changes:
            result.unchanged += 1
        elif row.version is not None and row.version != cur["version"]:
            errors.append(
                RowError(
                    "cases",
                    row.line,
                    "version",
                    _(
                        "This case was changed in the tracker after the file was made "
                        "(version %(now)d there, %(file)d in the file): export it again and "
                        "redo your change, so that nobody's edit is overwritten.",
                        now=cur["version"],
                        file=row.version,
                    ),
                )
            )
        else:
            changed.append((row, changes))
            result.updated.append((row.line, row.label))

    if errors:
        errors.sort(key=lambda e: (e.file != "cases", e.line))
        result.created, result.updated, result.unchanged = [], [], 0
        return result

    case_ids: dict[tuple[int, str], int] = {k: v[0] for k, v in other.items()}
    case_ids.update({r.key: r.existing_id for r in case_rows if r.existing_id and r.key})
    existing_case_ids = sorted({i for i in case_ids.values() if i})
    current_procs = _current_proceedings(existing_case_ids) if proc_rows else {}
    proc_plan: list[tuple[ProcRow, dict | None]] = []
    for prow in proc_rows:
        cid = case_ids.get(prow.case_key)
        cur = current_procs.get((cid, prow.position, prow.occurrence)) if cid else None
        if cur is None:
            proc_plan.append((prow, None))
            result.proceedings_created += 1
            continue
        prow.existing_id = cur["id"]
        changes = _proc_changes(prow, cur)
        if changes:
            proc_plan.append((prow, changes))
            result.proceedings_updated += 1
        else:
            result.proceedings_unchanged += 1

    if dry_run:
        return result
    # In a savepoint, so that a conflict found while writing leaves nothing of the import.
    savepoint = db.session.begin_nested()
    try:
        _write(actor, new_rows, changed, current, proc_plan, case_ids)
    except _EditedMeanwhile as exc:
        savepoint.rollback()
        errors.extend(
            RowError(
                "cases",
                row.line,
                "version",
                _(
                    "Someone saved this case while the file was being imported, so nothing "
                    "was imported (their edit is kept). Import the file again to apply it to "
                    "the case as it is now."
                ),
            )
            for row in exc.rows
        )
        result.created, result.updated = [], []
        result.proceedings_created = result.proceedings_updated = 0
        return result
    # Releasing the savepoint runs the before-commit hook of tracker.patterns.services (it
    # fires for savepoints too): the derived data of the written cases are brought up to date
    # here, still inside the caller's transaction, which commits or rolls back with them.
    savepoint.commit()
    return result


def _audit_row(
    actor, action: str, entity_type: str, entity_id: int, before, after, at=None
) -> dict:
    return {
        "at": at or utcnow(),
        "user_id": actor.id,
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "summary": "CSV import" if actor.id is not None else "CSV import (command line)",
        "before": before,
        "after": after,
        "ip_address": request.remote_addr if has_request_context() else None,
    }


# Audited as they are; the enums and the date are converted in _write.
AUDIT_PLAIN = (
    "reference",
    "lead_organisation_id",
    "title",
    "jurisdiction_id",
    "summary",
    "strategic_aim",
    "arguments",
    "created_by_id",
    "version",
)


def _write(actor, new_rows, changed, current, proc_plan, case_ids) -> None:
    session = db.session
    now = utcnow()
    audits: list[dict] = []
    new_case_ids: list[int] = []
    # Changed cases first: only the changed values, the version moves by one, and only from
    # the version the changes were worked out against. A case someone saved since then (a
    # form or API save between the check and this write) matches no row: nothing is written.
    edited_meanwhile = []
    for row, changes in changed:
        case_id = row.existing_id
        values = {k: new for k, (_old, new) in changes.items() if k in CASE_VALUE_FIELDS}
        written = session.execute(
            update(Case)
            .where(Case.id == case_id, Case.version == current[case_id]["version"])
            .values(**values, updated_at=now, version=Case.version + 1)
            .execution_options(synchronize_session=False)
        )
        if written.rowcount != 1:
            edited_meanwhile.append(row)
            continue
        for name, table, col in (
            ("rights", case_rights, "right_id"),
            ("provisions", case_provisions, "provision_id"),
            ("partners", case_partners, "organisation_id"),
        ):
            if name in changes:
                old, new = changes[name]
                if old - new:
                    session.execute(
                        delete(table).where(table.c.case_id == case_id, table.c[col].in_(old - new))
                    )
                if new - old:
                    session.execute(
                        insert(table), [{"case_id": case_id, col: i} for i in new - old]
                    )
        before = {k: _jsonable(old) for k, (old, _new) in changes.items()}
        after = {k: _jsonable(new) for k, (_old, new) in changes.items()}
        before["version"] = current[case_id]["version"]
        after["version"] = current[case_id]["version"] + 1
        audits.append(_audit_row(actor, "case.update", "cases", case_id, before, after))

    if edited_meanwhile:
        raise _EditedMeanwhile(edited_meanwhile)

    # New cases, in bulk, with their ids back in parameter order.
    for chunk in _chunks(new_rows, 1000):
        params = []
        for r in chunk:
            v = r.values
            params.append(
                {
                    "reference": r.reference,
                    "lead_organisation_id": r.org_id,
                    "title": v["title"],
                    "case_type": v["case_type"],
                    "confidentiality": v.get("confidentiality", Confidentiality.NETWORK),
                    "status": v.get("status", Status.PLANNED),
                    "outcome": v.get("outcome", Outcome.NONE_YET),
                    "jurisdiction_id": v["jurisdiction_id"],
                    "opened_on": v.get("opened_on"),
                    "summary": v.get("summary"),
                    "strategic_aim": v.get("strategic_aim"),
                    "arguments": v.get("arguments"),
                    "created_by_id": actor.id,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
        ids = _insert_cases(chunk, params)
        new_case_ids.extend(ids)
        links: dict[Any, list[dict]] = defaultdict(list)
        for r, case_id, p in zip(chunk, ids, params, strict=True):
            if r.key:
                case_ids[r.key] = case_id
            links[case_rights].extend({"case_id": case_id, "right_id": i} for i in r.rights or ())
            links[case_provisions].extend(
                {"case_id": case_id, "provision_id": i} for i in r.provisions or ()
            )
            links[case_partners].extend(
                {"case_id": case_id, "organisation_id": i} for i in r.partners or ()
            )
            # The importer leads the team, so a restricted case stays visible to them.
            if actor.id is not None:
                links[CaseMember.__table__].append(
                    {"case_id": case_id, "user_id": actor.id, "role": TeamRole.LEAD}
                )
            after = {k: p[k] for k in AUDIT_PLAIN}
            after.update(
                case_type=p["case_type"].value,
                confidentiality=p["confidentiality"].value,
                status=p["status"].value,
                outcome=p["outcome"].value,
                opened_on=p["opened_on"].isoformat() if p["opened_on"] else None,
                id=case_id,
                rights=sorted(r.rights or ()),
                provisions=sorted(r.provisions or ()),
                partners=sorted(r.partners or ()),
            )
            audits.append(_audit_row(actor, "case.create", "cases", case_id, None, after, now))
        for table, rows in links.items():
            if rows:
                _bulk_insert(table, rows)

    # Proceedings.
    new_procs = [p for p, ch in proc_plan if ch is None]
    for chunk in _chunks(new_procs, 1000):
        params = [
            {
                "case_id": case_ids[p.case_key],
                "position": p.position,
                **{k: p.values.get(k) for k in PROC_VALUE_FIELDS},
            }
            for p in chunk
        ]
        ids = session.scalars(
            insert(Proceeding).returning(Proceeding.id, sort_by_parameter_order=True), params
        ).all()
        treatments = []
        for p, pid, values in zip(chunk, ids, params, strict=True):
            treatments.extend(_treatment_rows(pid, p.treatments or set()))
            after = {k: _jsonable(v) for k, v in values.items()}
            after["treatments"] = _treatments_json(p.treatments or set())
            audits.append(_audit_row(actor, "proceeding.create", "proceedings", pid, None, after))
        if treatments:
            _bulk_insert(ProceedingTreatment.__table__, treatments)
    for p, changes in proc_plan:
        if changes is None:
            continue
        values = {k: new for k, (_old, new) in changes.items() if k in PROC_VALUE_FIELDS}
        if values:
            session.execute(
                update(Proceeding)
                .where(Proceeding.id == p.existing_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        if "treatments" in changes:
            session.execute(
                delete(ProceedingTreatment).where(
                    ProceedingTreatment.proceeding_id == p.existing_id
                )
            )
            rows = _treatment_rows(p.existing_id, p.treatments or set())
            if rows:
                session.execute(insert(ProceedingTreatment.__table__), rows)
        before = {
            k: (_treatments_json(old) if k == "treatments" else _jsonable(old))
            for k, (old, _n) in changes.items()
        }
        after = {
            k: (_treatments_json(new) if k == "treatments" else _jsonable(new))
            for k, (_o, new) in changes.items()
        }
        audits.append(
            _audit_row(actor, "proceeding.update", "proceedings", p.existing_id, before, after)
        )
    if audits:
        for chunk in _chunks(audits, 1000):
            _bulk_insert(AuditEntry.__table__, chunk)
    session.flush()
    session.expire_all()
    # These bulk statements bypass the unit of work, so the patterns hooks would not see the
    # cases: mark them, and the before-commit hook refreshes their derived data (opportunities
    # and whatever else it keeps in step) exactly as after an edit through a form.
    touched = {case_ids[r.key] for r in new_rows if r.key} | {r.existing_id for r, _c in changed}
    touched |= set(new_case_ids)
    touched |= {case_ids[p.case_key] for p, _c in proc_plan}
    cases_changed(touched)


def _bulk_insert(table, rows: list[dict]) -> None:
    """Insert rows (dicts with the same keys) in one go: COPY on PostgreSQL, the driver's
    executemany on SQLite.

    The column types' own bind processors convert the values (enums, UTC times, JSON), so the
    stored values are what session.execute(insert(table), rows) would store; this skips
    SQLAlchemy's generic per-row parameter handling, most of an import's time otherwise, and
    on PostgreSQL the per-row statement (COPY takes about a third less of the server's time).
    """
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    keys = list(rows[0])
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    if set(compiled.params) != set(keys):  # Python-side defaults to fill in: the usual way
        db.session.execute(insert(table), rows)
        return
    names = list(compiled.positiontup) if compiled.positional else keys
    getter = itemgetter(*names)
    processors = [
        (i, proc)
        for i, name in enumerate(names)
        if (proc := table.c[name].type.bind_processor(dialect)) is not None
    ]
    values_list: list[tuple] = []
    for row in rows:
        values = getter(row)
        if len(names) == 1:
            values = (values,)
        if processors:
            values = list(values)
            for i, proc in processors:
                values[i] = proc(values[i])
        values_list.append(tuple(values))
    if dialect.name == "postgresql":
        quote = dialect.identifier_preparer
        columns = ", ".join(quote.quote(name) for name in names)
        sql = f"COPY {quote.format_table(table)} ({columns}) FROM STDIN"
        with connection.connection.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
            for values in values_list:
                copy.write_row(values)
    elif compiled.positional:
        connection.exec_driver_sql(compiled.string, values_list)
    else:
        connection.exec_driver_sql(
            compiled.string, [dict(zip(names, v, strict=True)) for v in values_list]
        )


def _insert_cases(rows: list[CaseRow], params: list[dict]) -> list[int]:
    """Insert new cases; their ids in row order."""
    session = db.session
    with_ref = [(r, p) for r, p in zip(rows, params, strict=True) if r.reference]
    without = [(r, p) for r, p in zip(rows, params, strict=True) if not r.reference]
    ids: dict[int, int] = {}  # line -> id
    if with_ref:
        # One executemany, then the ids back by the unique (organisation, reference) key:
        # RETURNING in parameter order would cost one statement per row on SQLite.
        _bulk_insert(Case.__table__, [p for _r, p in with_ref])
        by_key = {
            (org_id, ref): case_id
            for case_id, org_id, ref in session.execute(
                select(Case.id, Case.lead_organisation_id, Case.reference).where(
                    Case.lead_organisation_id.in_({r.org_id for r, _p in with_ref}),
                    Case.reference.in_([r.reference for r, _p in with_ref]),
                )
            )
        }
        ids.update({r.line: by_key[(r.org_id, r.reference)] for r, _p in with_ref})
    if without:  # no key to find them by: RETURNING, in parameter order
        returned = session.scalars(
            insert(Case).returning(Case.id, sort_by_parameter_order=True),
            [p for _r, p in without],
        ).all()
        ids.update({r.line: i for (r, _p), i in zip(without, returned, strict=True)})
    return [ids[r.line] for r in rows]


def _treatment_rows(proceeding_id: int, treatments: set) -> list[dict]:
    return [
        {
            "proceeding_id": proceeding_id,
            "provision_id": ident if kind == "provision" else None,
            "right_id": ident if kind == "right" else None,
            "treatment": how,
        }
        for kind, ident, how in treatments
    ]


def count_cases() -> int:
    return db.session.scalar(select(func.count(Case.id))) or 0
