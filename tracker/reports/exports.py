"""Exports of a filtered case list as CSV, XLSX or JSON, for a stated audience.

Memory stays flat whatever the size: one query streams the cases as plain columns (never ORM
entities); per batch of BATCH cases one query each fetches their tags, parties and
proceedings, and every writer streams (CSV/JSON generators; XLSX as XML straight into the zip,
tracker/reports/xlsx.py). Every query goes through case_filter(user, audience): an export
carries only what its audience may see, whatever the exporting person could see.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import String, literal, select, type_coerce, union_all

from tracker.access import case_filter
from tracker.auth.models import Organisation
from tracker.cases.filters import CaseFilters, apply_filters
from tracker.cases.models import (
    Case,
    Party,
    Proceeding,
    ProceedingTreatment,
    case_partners,
    case_provisions,
    case_rights,
)
from tracker.extensions import db
from tracker.reports import xlsx
from tracker.reports.columns import (
    CASE_COLUMNS,
    LABEL_SEPARATOR,
    MULTI_SEPARATOR,
    PROCEEDING_COLUMNS,
    columns_for,
    neutralise,
)
from tracker.taxonomy.models import Forum, Jurisdiction, Provision, Right
from tracker.types import Confidentiality

BATCH = 1000
FORMATS = ("csv", "xlsx", "json")
KINDS = ("cases", "proceedings")
# Excel reads a CSV file as UTF-8 only when it starts with a byte-order mark.
BOM = "\ufeff"


def _raw(column):
    """The stored text of an enum or date column: no per-value conversion to Python objects."""
    return type_coerce(column, String).label(column.key)


CASE_FIELDS = (
    Case.id,
    Case.reference,
    Case.lead_organisation_id,
    Case.title,
    _raw(Case.case_type),
    _raw(Case.confidentiality),
    _raw(Case.status),
    _raw(Case.outcome),
    Case.jurisdiction_id,
    _raw(Case.opened_on),
    Case.summary,
    Case.strategic_aim,
    Case.arguments,
    Case.version,
)

PROCEEDING_FIELDS = (
    Proceeding.id,
    Proceeding.case_id,
    Proceeding.position,
    Proceeding.forum_id,
    Proceeding.reference,
    _raw(Proceeding.filed_on),
    _raw(Proceeding.decided_on),
    _raw(Proceeding.status),
    _raw(Proceeding.outcome),
    Proceeding.ecli,
    Proceeding.notes,
)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "value"):  # enums
        return str(value.value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _s(value: Any) -> str:
    """Text of a raw column value (str, int, or a date from PostgreSQL)."""
    return "" if value is None else value if isinstance(value, str) else str(value)


# A cell needs a look by neutralise() only if it starts with one of these.
_RISKY = frozenset("=+-@\t\r'")


def _safe(values: Iterable[str]) -> list[str]:
    return [neutralise(v) if v and v[0] in _RISKY else v for v in values]


@dataclass
class Lookups:
    """Code and label of every small reference table, loaded once per export."""

    organisations: dict[int, str] = field(default_factory=dict)
    jurisdictions: dict[int, tuple[str, str]] = field(default_factory=dict)
    rights: dict[int, tuple[str, str]] = field(default_factory=dict)
    provisions: dict[int, tuple[str, str]] = field(default_factory=dict)
    forums: dict[int, tuple[str, str]] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # enum name -> value -> label

    @classmethod
    def load(cls) -> Lookups:
        from tracker.cases.forms import (
            CASE_TYPE_LABELS,
            CONFIDENTIALITY_SHORT,
            OUTCOME_LABELS,
            STATUS_LABELS,
            TREATMENT_LABELS,
        )

        ex = db.session.execute
        return cls(
            organisations=dict(ex(select(Organisation.id, Organisation.name)).tuples().all()),
            jurisdictions={
                i: (c, n)
                for i, c, n in ex(select(Jurisdiction.id, Jurisdiction.code, Jurisdiction.name))
            },
            rights={i: (c, n) for i, c, n in ex(select(Right.id, Right.code, Right.name))},
            provisions={
                i: (c, n) for i, c, n in ex(select(Provision.id, Provision.code, Provision.title))
            },
            forums={i: (c, n) for i, c, n in ex(select(Forum.id, Forum.code, Forum.name))},
            # Translated once per export, in the exporting person's language.
            labels={
                name: {k.value: str(v) for k, v in table.items()}
                for name, table in (
                    ("case_type", CASE_TYPE_LABELS),
                    ("confidentiality", CONFIDENTIALITY_SHORT),
                    ("status", STATUS_LABELS),
                    ("outcome", OUTCOME_LABELS),
                    ("treatment", TREATMENT_LABELS),
                )
            },
        )


@dataclass
class Export:
    """What to export, for whom. `user` is the exporting person; `audience` the recipients."""

    user: Any
    audience: Confidentiality
    filters: CaseFilters
    kind: str = "cases"
    exported_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def case_columns(self) -> list[str]:
        return columns_for(CASE_COLUMNS, self.audience)

    @property
    def proceeding_columns(self) -> list[str]:
        return columns_for(PROCEEDING_COLUMNS, self.audience)

    def filename(self, fmt: str) -> str:
        stamp = self.exported_at.strftime("%Y%m%d-%H%M")
        return f"{self.kind}-{self.audience.value}-{stamp}.{fmt}"

    def filters_text(self) -> str:
        return "&".join(f"{k}={v}" for k, v in self.filters.to_args().items(multi=True))

    def header_line(self) -> str:
        # No quotes or line breaks: the line must stay one unquoted CSV row.
        filters = "".join(ch for ch in self.filters_text() if ch not in '"\r\n,')
        return (
            f"# Litigation tracker export; kind: {self.kind}; audience: {self.audience.value}; "
            f"exported_at: {self.exported_at.isoformat(timespec='seconds')}; "
            f"filters: {filters or 'none'}"
        )

    # --- reading, in batches ------------------------------------------------------------
    def case_batches(self) -> Iterator[list[dict[str, Any]]]:
        """Lists of case rows (dicts of text), BATCH at a time, in id order.

        One query streams the visible, filtered cases (a server-side cursor on PostgreSQL);
        each batch then fetches its tags, partners and parties with one query per table.
        """
        lookups = self._lookups
        base = current_app.config["TRACKER_BASE_URL"]
        stmt = apply_filters(
            select(*CASE_FIELDS).where(case_filter(self.user, self.audience)), self.filters
        ).order_by(Case.id)
        result = db.session.execute(stmt.execution_options(yield_per=BATCH))
        try:
            for rows in result.partitions(BATCH):
                yield self._case_dicts(rows, lookups, base)
        finally:
            result.close()

    def _case_dicts(self, rows, lookups: Lookups, base: str) -> list[dict[str, Any]]:
        ids = [r[0] for r in rows]
        tags = _tags(ids)
        parties: dict[int, list[str]] = defaultdict(list)
        for case_id, role, pseudonym in _all(
            select(Party.case_id, type_coerce(Party.role, String), Party.pseudonym)
            .where(_ids_clause(Party.case_id, ids))
            .order_by(Party.case_id, Party.id)
        ):
            parties[case_id].append(f"{role}: {pseudonym}")
        rights, provisions, partners = lookups.rights, lookups.provisions, lookups.organisations
        jurisdictions = lookups.jurisdictions
        labels = lookups.labels
        case_type_l, conf_l = labels["case_type"], labels["confidentiality"]
        status_l, outcome_l = labels["status"], labels["outcome"]
        empty: tuple = ()
        out = []
        for (
            case_id,
            reference,
            lead_id,
            title,
            case_type,
            confidentiality,
            status,
            outcome,
            jurisdiction_id,
            opened_on,
            summary,
            strategic_aim,
            arguments,
            version,
        ) in rows:
            case_tags = tags.get(case_id)
            if case_tags:
                r_codes = sorted(rights[i] for i in case_tags[0])
                p_codes = sorted(provisions[i] for i in case_tags[1])
                partner_names = ";".join(sorted(partners[i] for i in case_tags[2]))
            else:
                r_codes = p_codes = empty
                partner_names = ""
            jur = jurisdictions.get(jurisdiction_id, ("", ""))
            out.append(
                {
                    "_id": case_id,
                    "id": str(case_id),
                    "url": f"{base}/cases/{case_id}",
                    "reference": reference or "",
                    "lead_organisation": partners.get(lead_id, ""),
                    "title": title,
                    "case_type": case_type,
                    "case_type_label": case_type_l.get(case_type, case_type),
                    "confidentiality": confidentiality,
                    "confidentiality_label": conf_l.get(confidentiality, confidentiality),
                    "status": status,
                    "status_label": status_l.get(status, status),
                    "outcome": outcome,
                    "outcome_label": outcome_l.get(outcome, outcome),
                    "jurisdiction": jur[0],
                    "jurisdiction_label": jur[1],
                    "opened_on": _s(opened_on),
                    "rights": MULTI_SEPARATOR.join([c for c, _ in r_codes]),
                    "rights_labels": LABEL_SEPARATOR.join([n for _, n in r_codes]),
                    "provisions": MULTI_SEPARATOR.join([c for c, _ in p_codes]),
                    "provisions_labels": LABEL_SEPARATOR.join([n for _, n in p_codes]),
                    "partners": partner_names,
                    "summary": summary or "",
                    "strategic_aim": strategic_aim or "",
                    "arguments": arguments or "",
                    "parties": MULTI_SEPARATOR.join(parties.get(case_id, empty)),
                    "version": str(version),
                }
            )
        return out

    def proceedings_for(self, cases: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
        """Proceeding rows of a batch of (already visible) cases, by case id."""
        lookups = self._lookups
        by_case = {c["_id"]: c for c in cases}
        ids = list(by_case)
        rows = _all(
            select(*PROCEEDING_FIELDS)
            .where(_ids_clause(Proceeding.case_id, ids))
            .order_by(Proceeding.case_id, Proceeding.position, Proceeding.id)
        )
        rows = [r for r in rows if r.case_id in by_case]
        treatments: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
        how_l = lookups.labels["treatment"]
        if rows:
            for proc_id, prov_id, right_id, treatment in _all(
                select(
                    ProceedingTreatment.proceeding_id,
                    ProceedingTreatment.provision_id,
                    ProceedingTreatment.right_id,
                    type_coerce(ProceedingTreatment.treatment, String),
                ).where(_ids_clause(ProceedingTreatment.proceeding_id, [r.id for r in rows]))
            ):
                code, name = (
                    lookups.provisions[prov_id] if prov_id is not None else lookups.rights[right_id]
                )
                treatments[proc_id].append((code, name, treatment))
        status_l, outcome_l = lookups.labels["status"], lookups.labels["outcome"]
        out: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            case = by_case[r.case_id]
            forum = lookups.forums.get(r.forum_id, ("", ""))
            treated = sorted(treatments.get(r.id, ()))
            out[r.case_id].append(
                {
                    "case_id": case["id"],
                    "case_url": case["url"],
                    "case_reference": case["reference"],
                    "lead_organisation": case["lead_organisation"],
                    "position": str(r.position),
                    "forum": forum[0],
                    "forum_label": forum[1],
                    "reference": r.reference or "",
                    "filed_on": _s(r.filed_on),
                    "decided_on": _s(r.decided_on),
                    "status": r.status,
                    "status_label": status_l.get(r.status, r.status),
                    "outcome": _s(r.outcome),
                    "outcome_label": outcome_l.get(r.outcome, _s(r.outcome)),
                    "ecli": r.ecli or "",
                    "treatments": MULTI_SEPARATOR.join([f"{c}={how}" for c, _n, how in treated]),
                    "treatments_labels": LABEL_SEPARATOR.join(
                        [f"{n}: {how_l.get(how, how)}" for _c, n, how in treated]
                    ),
                    "notes": r.notes or "",
                }
            )
        return out

    @property
    def _lookups(self) -> Lookups:
        if not hasattr(self, "_cached_lookups"):
            self._cached_lookups = Lookups.load()
        return self._cached_lookups

    # --- writers ------------------------------------------------------------------------
    def csv_chunks(self) -> Iterator[str]:
        """The CSV text, a batch at a time, after a byte-order mark (so Excel reads UTF-8).

        kind=proceedings gives the proceedings file.
        """
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        buffer.write(BOM + self.header_line() + "\r\n")
        columns = self.proceeding_columns if self.kind == "proceedings" else self.case_columns
        writer.writerow(columns)
        yield _drain(buffer)
        for cases in self.case_batches():
            if self.kind == "proceedings":
                rows: Iterable[dict] = (
                    p for ps in self.proceedings_for(cases).values() for p in ps
                )
            else:
                rows = cases
            writer.writerows(_safe([row[c] for c in columns]) for row in rows)
            yield _drain(buffer)

    def json_chunks(self) -> Iterator[str]:
        """One JSON document: {audience, kind, exported_at, filters, cases: [... proceedings]}."""
        head = {
            "audience": self.audience.value,
            "exported_at": self.exported_at.isoformat(timespec="seconds"),
            "filters": {k: v for k, v in self.filters.to_args().lists()},
            "columns": self.case_columns,
        }
        yield json.dumps(head, ensure_ascii=False)[:-1] + ', "cases": ['
        first = True
        case_cols = [c for c in self.case_columns if c != "version"]
        proc_cols = [c for c in self.proceeding_columns if not c.startswith(("case_", "lead_"))]
        for cases in self.case_batches():
            procs = self.proceedings_for(cases)
            parts = []
            for case in cases:
                record: dict[str, Any] = {c: case[c] for c in case_cols}
                record["id"] = case["_id"]
                record["version"] = int(case["version"])
                for name in ("rights", "provisions", "partners", "parties"):
                    if name in record:
                        record[name] = [v for v in record[name].split(MULTI_SEPARATOR) if v]
                for name in ("rights_labels", "provisions_labels"):
                    record[name] = [v for v in record[name].split(LABEL_SEPARATOR) if v]
                record["proceedings"] = [
                    {
                        **{c: p[c] for c in proc_cols},
                        "position": int(p["position"]),
                        "treatments": [t for t in p["treatments"].split(MULTI_SEPARATOR) if t],
                        "treatments_labels": [
                            t for t in p["treatments_labels"].split(LABEL_SEPARATOR) if t
                        ],
                    }
                    for p in procs.get(case["_id"], [])
                ]
                parts.append(("" if first else ",") + json.dumps(record, ensure_ascii=False))
                first = False
            yield "".join(parts)
        yield "]}\n"

    def write_xlsx(self, path: str) -> None:
        """An XLSX workbook: About, Cases and Proceedings sheets; every cell is text.

        Written as XML straight into the zip (tracker/reports/xlsx.py), so memory stays flat
        however many rows: the Proceedings sheet goes to a temporary file while the Cases
        sheet is written, then is copied in.
        """
        case_cols, proc_cols = self.case_columns, self.proceeding_columns
        about = [
            ("Litigation tracker export",),
            ("audience", self.audience.value),
            ("exported_at", self.exported_at.isoformat(timespec="seconds")),
            ("filters", self.filters_text()),
            ("note", "Only records this audience may see; see docs/csv-columns.md."),
        ]
        with (
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf,
            tempfile.TemporaryFile() as procs_tmp,
        ):
            for name, data in xlsx.static_parts(["About", "Cases", "Proceedings"]).items():
                zf.writestr(name, data)
            with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
                sheet = xlsx.SheetWriter(fh)
                for line in about:
                    sheet.row([neutralise(v) for v in line])
                sheet.close()
            procs = xlsx.SheetWriter(procs_tmp)
            procs.row(proc_cols)
            with zf.open("xl/worksheets/sheet2.xml", "w", force_zip64=True) as fh:
                cases_sheet = xlsx.SheetWriter(fh)
                cases_sheet.row(case_cols)
                for cases in self.case_batches():
                    for case in cases:
                        cases_sheet.row(_safe([case[c] for c in case_cols]))
                    for plist in self.proceedings_for(cases).values():
                        for p in plist:
                            procs.row(_safe([p[c] for c in proc_cols]))
                    cases_sheet.flush()
                    procs.flush()
                cases_sheet.close()
            procs.close()
            procs_tmp.seek(0)
            with zf.open("xl/worksheets/sheet3.xml", "w", force_zip64=True) as fh:
                shutil.copyfileobj(procs_tmp, fh, 1024 * 1024)

    def xlsx_tempfile(self) -> str:
        fd, path = tempfile.mkstemp(prefix="tracker-export-", suffix=".xlsx")
        os.close(fd)
        try:
            self.write_xlsx(path)
        except BaseException:
            os.unlink(path)
            raise
        return path


def _all(stmt) -> list:
    """All rows of a Core statement at once (fetchall: cheaper than iterating row by row)."""
    return db.session.connection().execute(stmt).all()


def _ids_clause(column, ids: list[int]):
    """column IN ids; a range when the ids are dense (no thousand bound parameters)."""
    if ids and ids[-1] - ids[0] < 2 * len(ids):
        return column.between(ids[0], ids[-1])
    return column.in_(ids)


def _tags(ids: list[int]) -> dict[int, tuple[list[int], list[int], list[int]]]:
    """case id -> (right ids, provision ids, partner organisation ids), in one query."""
    stmt = union_all(
        select(case_rights.c.case_id, literal(0), case_rights.c.right_id).where(
            _ids_clause(case_rights.c.case_id, ids)
        ),
        select(case_provisions.c.case_id, literal(1), case_provisions.c.provision_id).where(
            _ids_clause(case_provisions.c.case_id, ids)
        ),
        select(case_partners.c.case_id, literal(2), case_partners.c.organisation_id).where(
            _ids_clause(case_partners.c.case_id, ids)
        ),
    )
    out: dict[int, tuple[list[int], list[int], list[int]]] = {}
    for case_id, kind, value in _all(stmt):
        entry = out.get(case_id)
        if entry is None:
            entry = out[case_id] = ([], [], [])
        entry[kind].append(value)
    return out


def stream_file_and_delete(path: str, chunk: int = 64 * 1024) -> Iterator[bytes]:
    try:
        with open(path, "rb") as fh:
            while data := fh.read(chunk):
                yield data
    finally:
        os.unlink(path)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return text
