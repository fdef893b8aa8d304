"""Exports of a filtered case list as CSV, XLSX or JSON, for a stated audience.

Memory stays flat whatever the size: cases are read as plain columns (never ORM entities) in
keyset batches of BATCH rows, with their tags, parties and proceedings fetched per batch, and
every writer streams (CSV/JSON generators; XLSX through openpyxl's write-only workbook into a
temporary file). Every query goes through case_filter(user, audience): an export carries only
what its audience may see, whatever the exporting person could see.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

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

CASE_FIELDS = (
    Case.id,
    Case.reference,
    Case.lead_organisation_id,
    Case.title,
    Case.case_type,
    Case.confidentiality,
    Case.status,
    Case.outcome,
    Case.jurisdiction_id,
    Case.opened_on,
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
    Proceeding.filed_on,
    Proceeding.decided_on,
    Proceeding.status,
    Proceeding.outcome,
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


@dataclass
class Lookups:
    """Code and label of every small reference table, loaded once per export."""

    organisations: dict[int, str] = field(default_factory=dict)
    jurisdictions: dict[int, tuple[str, str]] = field(default_factory=dict)
    rights: dict[int, tuple[str, str]] = field(default_factory=dict)
    provisions: dict[int, tuple[str, str]] = field(default_factory=dict)
    forums: dict[int, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Lookups:
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

    def header_line(self) -> str:
        filters = "&".join(f"{k}={v}" for k, v in self.filters.to_args().items(multi=True))
        # No quotes or line breaks: the line must stay one unquoted CSV row.
        filters = "".join(ch for ch in filters if ch not in '"\r\n,')
        return (
            f"# Litigation tracker export; kind: {self.kind}; audience: {self.audience.value}; "
            f"exported_at: {self.exported_at.isoformat(timespec='seconds')}; "
            f"filters: {filters or 'none'}"
        )

    # --- reading, in batches ------------------------------------------------------------
    def case_batches(self) -> Iterator[list[dict[str, Any]]]:
        """Lists of case rows (dicts of text), BATCH at a time, in id order."""
        lookups = self._lookups
        base = current_app.config["TRACKER_BASE_URL"]
        last_id = 0
        while True:
            stmt = (
                select(*CASE_FIELDS)
                .where(case_filter(self.user, self.audience), Case.id > last_id)
                .order_by(Case.id)
                .limit(BATCH)
            )
            rows = db.session.execute(apply_filters(stmt, self.filters)).all()
            if not rows:
                return
            last_id = rows[-1].id
            yield self._case_dicts(rows, lookups, base)
            if len(rows) < BATCH:
                return

    def _case_dicts(self, rows, lookups: Lookups, base: str) -> list[dict[str, Any]]:
        ids = [r.id for r in rows]
        rights = _grouped(
            select(case_rights.c.case_id, case_rights.c.right_id), case_rights.c.case_id, ids
        )
        provisions = _grouped(
            select(case_provisions.c.case_id, case_provisions.c.provision_id),
            case_provisions.c.case_id,
            ids,
        )
        partners = _grouped(
            select(case_partners.c.case_id, case_partners.c.organisation_id),
            case_partners.c.case_id,
            ids,
        )
        parties: dict[int, list[str]] = defaultdict(list)
        for case_id, role, pseudonym in db.session.execute(
            select(Party.case_id, Party.role, Party.pseudonym)
            .where(Party.case_id.in_(ids))
            .order_by(Party.case_id, Party.id)
        ):
            parties[case_id].append(f"{role.value}: {pseudonym}")
        out = []
        for r in rows:
            r_codes = sorted(lookups.rights[i] for i in rights.get(r.id, ()))
            p_codes = sorted(lookups.provisions[i] for i in provisions.get(r.id, ()))
            jur = lookups.jurisdictions.get(r.jurisdiction_id, ("", ""))
            values = {
                "_id": r.id,
                "id": str(r.id),
                "url": f"{base}/cases/{r.id}",
                "reference": _text(r.reference),
                "lead_organisation": lookups.organisations.get(r.lead_organisation_id, ""),
                "title": r.title,
                "case_type": _text(r.case_type),
                "confidentiality": _text(r.confidentiality),
                "status": _text(r.status),
                "outcome": _text(r.outcome),
                "jurisdiction": jur[0],
                "jurisdiction_label": jur[1],
                "opened_on": _text(r.opened_on),
                "rights": MULTI_SEPARATOR.join(c for c, _ in r_codes),
                "rights_labels": LABEL_SEPARATOR.join(n for _, n in r_codes),
                "provisions": MULTI_SEPARATOR.join(c for c, _ in p_codes),
                "provisions_labels": LABEL_SEPARATOR.join(n for _, n in p_codes),
                "partners": MULTI_SEPARATOR.join(
                    sorted(lookups.organisations[i] for i in partners.get(r.id, ()))
                ),
                "summary": _text(r.summary),
                "strategic_aim": _text(r.strategic_aim),
                "arguments": _text(r.arguments),
                "parties": MULTI_SEPARATOR.join(parties.get(r.id, ())),
                "version": str(r.version),
            }
            out.append(values)
        return out

    def proceedings_for(self, cases: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
        """Proceeding rows of a batch of (already visible) cases, by case id."""
        lookups = self._lookups
        by_case = {c["_id"]: c for c in cases}
        rows = db.session.execute(
            select(*PROCEEDING_FIELDS)
            .where(Proceeding.case_id.in_(list(by_case)))
            .order_by(Proceeding.case_id, Proceeding.position, Proceeding.id)
        ).all()
        treatments: dict[int, list[str]] = defaultdict(list)
        if rows:
            for proc_id, prov_id, right_id, treatment in db.session.execute(
                select(
                    ProceedingTreatment.proceeding_id,
                    ProceedingTreatment.provision_id,
                    ProceedingTreatment.right_id,
                    ProceedingTreatment.treatment,
                ).where(ProceedingTreatment.proceeding_id.in_([r.id for r in rows]))
            ):
                code = (
                    lookups.provisions[prov_id][0]
                    if prov_id is not None
                    else lookups.rights[right_id][0]
                )
                treatments[proc_id].append(f"{code}={treatment.value}")
        out: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            case = by_case[r.case_id]
            forum = lookups.forums.get(r.forum_id, ("", ""))
            out[r.case_id].append(
                {
                    "case_id": case["id"],
                    "case_url": case["url"],
                    "case_reference": case["reference"],
                    "lead_organisation": case["lead_organisation"],
                    "position": str(r.position),
                    "forum": forum[0],
                    "forum_label": forum[1],
                    "reference": _text(r.reference),
                    "filed_on": _text(r.filed_on),
                    "decided_on": _text(r.decided_on),
                    "status": _text(r.status),
                    "outcome": _text(r.outcome),
                    "ecli": _text(r.ecli),
                    "treatments": MULTI_SEPARATOR.join(sorted(treatments.get(r.id, ()))),
                    "notes": _text(r.notes),
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
        """The CSV text, a batch at a time. kind=proceedings gives the proceedings file."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        buffer.write(self.header_line() + "\r\n")
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
            for row in rows:
                writer.writerow([neutralise(row[c]) for c in columns])
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
                    }
                    for p in procs.get(case["_id"], [])
                ]
                parts.append(("" if first else ",") + json.dumps(record, ensure_ascii=False))
                first = False
            yield "".join(parts)
        yield "]}\n"

    def write_xlsx(self, path: str) -> None:
        """An XLSX workbook: About, Cases and Proceedings sheets; every cell is text."""
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        about = wb.create_sheet("About")
        cases_ws = wb.create_sheet("Cases")
        procs_ws = wb.create_sheet("Proceedings")
        for line in (
            ("Litigation tracker export",),
            ("audience", self.audience.value),
            ("exported_at", self.exported_at.isoformat(timespec="seconds")),
            ("filters", "&".join(f"{k}={v}" for k, v in self.filters.to_args().items(multi=True))),
            ("note", "Only records this audience may see; see docs/csv-columns.md."),
        ):
            about.append([_text_cell(about, v) for v in line])
        case_cols, proc_cols = self.case_columns, self.proceeding_columns
        cases_ws.append([_text_cell(cases_ws, c) for c in case_cols])
        procs_ws.append([_text_cell(procs_ws, c) for c in proc_cols])
        for cases in self.case_batches():
            for case in cases:
                cases_ws.append([_text_cell(cases_ws, case[c]) for c in case_cols])
            for plist in self.proceedings_for(cases).values():
                for p in plist:
                    procs_ws.append([_text_cell(procs_ws, p[c]) for c in proc_cols])
        wb.save(path)

    def xlsx_tempfile(self) -> str:
        fd, path = tempfile.mkstemp(prefix="tracker-export-", suffix=".xlsx")
        os.close(fd)
        try:
            self.write_xlsx(path)
        except BaseException:
            os.unlink(path)
            raise
        return path


def stream_file_and_delete(path: str, chunk: int = 64 * 1024) -> Iterator[bytes]:
    try:
        with open(path, "rb") as fh:
            while data := fh.read(chunk):
                yield data
    finally:
        os.unlink(path)


def _text_cell(ws, value: Any):
    """A write-only cell that is always text, never a formula (PITFALLS.md)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = ILLEGAL_CHARACTERS_RE.sub("", neutralise(_text(value)))
    if not text:
        return None  # an empty cell (openpyxl would store "" as an inline string)
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"
    return cell


def _grouped(stmt, key_column, ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for key, value in db.session.execute(stmt.where(key_column.in_(ids))):
        out[key].append(value)
    return out


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return text
