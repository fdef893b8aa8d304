"""Exports of a filtered case list as CSV, XLSX or JSON, for a stated audience.

Memory stays flat whatever the size, and every writer streams. One statement streams the
cases as plain columns (never ORM entities, no Python object per tag): each case's tag ids
and its parties come aggregated into one cell each. A second streams the proceedings (those
within the filters' forum and filing period, as the report counts them), with one query per
batch for their treatments. CSV and JSON are generators; XLSX is XML written straight into a
zip that goes out as it is written (tracker/reports/xlsx.py). Every statement goes through
case_filter(user, audience): an export carries only what its audience may see, whatever the
exporting person could see.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain, groupby
from operator import itemgetter
from typing import Any

from flask import current_app
from sqlalchemy import String, cast, func, literal, null, select, type_coerce
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased

from tracker.access import case_filter
from tracker.auth.models import Organisation
from tracker.cases.filters import CaseFilters, apply_filters, proceeding_window
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
# The rows one sheet of a downloaded workbook may hold: Excel opens at most 1,048,576 rows a
# sheet (the header is one), and a streamed workbook has no Zip64, so one sheet's XML must
# stay under 2 GiB (about 800,000 cases; see xlsx_chunks).
XLSX_MAX_CASES = 750_000
XLSX_MAX_PROCEEDINGS = 1_048_575
KINDS = ("cases", "proceedings")
# Excel reads a CSV file as UTF-8 only when it starts with a byte-order mark.
BOM = "\ufeff"
# The order of the values in every row that case_batches() and proceeding_batches() give:
# all the columns; each writer picks those of its audience.
CASE_LAYOUT = [c.name for c in CASE_COLUMNS]
PROCEEDING_LAYOUT = [c.name for c in PROCEEDING_COLUMNS]
_NO_PAIR = ("", "")


def _raw(column):
    """The stored text of an enum or date column: no per-value conversion to Python objects."""
    return type_coerce(column, String).label(column.key)


def _s(value: Any) -> str:
    """Text of a raw column value (str, int, or a date from PostgreSQL)."""
    return "" if value is None else value if isinstance(value, str) else str(value)


# A cell needs a look by neutralise() only if it starts with one of these.
_RISKY = frozenset("=+-@\t\r'")


def _safe(values: Iterable[str]) -> list[str]:
    return [neutralise(v) if v and v[0] in _RISKY else v for v in values]


def _picker(layout: list[str], columns: list[str]):
    """row -> the values of these columns, in their order (a tuple)."""
    return itemgetter(*[layout.index(c) for c in columns])


def _tag_ids(column, case_id) -> Any:
    """A case's tags as one text cell of ids ("3,17"), from the link table alone.

    case_batches() turns them into codes and labels from the lookups, sorted by code: joining
    the small taxonomy tables and sorting in SQL, per case, cost the databases more (on
    PostgreSQL a hash join per case and tag kind) than the Python does.
    """
    return (
        select(func.aggregate_strings(cast(column, String), ","))
        .where(case_id == Case.id)
        .scalar_subquery()
    )


def _tag_cells(ids: str | None, table: dict[int, tuple[str, str]]) -> tuple[str, str]:
    """("17,3", {id: (code, label)}) -> ("codeA;codeB", "Label A; Label B"), by code."""
    if not ids:
        return _NO_PAIR
    if "," not in ids:
        return table[int(ids)]
    pairs = sorted([table[int(i)] for i in ids.split(",")])
    return (
        MULTI_SEPARATOR.join([code for code, _label in pairs]),
        LABEL_SEPARATOR.join([label for _code, label in pairs]),
    )


def _parties_cell() -> Any:
    """ "role: pseudonym" of each party, in the order they were entered (identities never)."""
    value = type_coerce(Party.role, String) + ": " + Party.pseudonym
    if db.session.get_bind().dialect.name == "postgresql":
        joined = func.string_agg(value, aggregate_order_by(literal(MULTI_SEPARATOR), Party.id))
        return select(joined).where(Party.case_id == Case.id).scalar_subquery()
    # SQLite 3.40 has no ORDER BY inside an aggregate; it aggregates a sorted subquery in its
    # order (it never flattens a sorted subquery into an aggregate query).
    rows = (
        select(value.label("v"))
        .where(Party.case_id == Case.id)
        .order_by(Party.id)
        .correlate(Case)
        .subquery()
    )
    return select(func.group_concat(rows.c.v, MULTI_SEPARATOR)).scalar_subquery()


def _stream(stmt) -> Iterator[list]:
    """The rows of a statement, BATCH at a time (a server-side cursor on PostgreSQL).

    Core execution: the ORM's result layer would cost a third more for plain columns.
    """
    result = db.session.connection().execute(stmt.execution_options(yield_per=BATCH))
    try:
        yield from result.partitions(BATCH)
    finally:
        result.close()


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
    def _secret(self, column, columns: list[str]):
        """A column this audience may not receive is never read (NULL in its place)."""
        return column if column.key in columns else null()

    def case_statement(self):
        return apply_filters(
            select(
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
                _tag_ids(case_rights.c.right_id, case_rights.c.case_id),
                _tag_ids(case_provisions.c.provision_id, case_provisions.c.case_id),
                _tag_ids(case_partners.c.organisation_id, case_partners.c.case_id),
                Case.summary,
                self._secret(Case.strategic_aim, self.case_columns),
                self._secret(Case.arguments, self.case_columns),
                _parties_cell(),
                Case.version,
            ).where(case_filter(self.user, self.audience)),
            self.filters,
        ).order_by(Case.id)

    def case_batches(self) -> Iterator[list[tuple[str, ...]]]:
        """The visible, filtered cases, BATCH at a time in id order: tuples of text in
        CASE_LAYOUT order (a Python object per case, none per tag)."""
        lookups = self._lookups
        url = current_app.config["TRACKER_BASE_URL"] + "/cases/"
        organisations, jurisdictions = lookups.organisations, lookups.jurisdictions
        partners = {i: (name, name) for i, name in organisations.items()}
        labels = lookups.labels
        case_type_l, conf_l = labels["case_type"], labels["confidentiality"]
        status_l, outcome_l = labels["status"], labels["outcome"]
        for rows in _stream(self.case_statement()):
            batch = []
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
                right_ids,
                provision_ids,
                partner_ids,
                summary,
                strategic_aim,
                arguments,
                parties,
                version,
            ) in rows:
                jurisdiction = jurisdictions.get(jurisdiction_id, _NO_PAIR)
                rights = _tag_cells(right_ids, lookups.rights)
                provisions = _tag_cells(provision_ids, lookups.provisions)
                batch.append(
                    (
                        str(case_id),
                        f"{url}{case_id}",
                        reference or "",
                        organisations.get(lead_id, ""),
                        title,
                        case_type,
                        case_type_l.get(case_type, case_type),
                        confidentiality,
                        conf_l.get(confidentiality, confidentiality),
                        status,
                        status_l.get(status, status),
                        outcome,
                        outcome_l.get(outcome, outcome),
                        jurisdiction[0],
                        jurisdiction[1],
                        _s(opened_on),
                        rights[0],
                        rights[1],
                        provisions[0],
                        provisions[1],
                        _tag_cells(partner_ids, partners)[0],
                        summary or "",
                        strategic_aim or "",
                        arguments or "",
                        parties or "",
                        str(version),
                    )
                )
            yield batch

    def proceeding_statement(self):
        """The proceedings of the exported cases within the filters' forum and filing period
        (proceeding_window, as the report and the case list count them), in case order.

        Over an alias: the filters' own EXISTS (SELECT ... FROM proceedings) must correlate
        with the case only, not with the proceeding listed.
        """
        p = aliased(Proceeding)
        return apply_filters(
            select(
                p.id,
                p.case_id,
                Case.reference,
                Case.lead_organisation_id,
                p.position,
                p.forum_id,
                p.reference,
                _raw(p.filed_on),
                _raw(p.decided_on),
                _raw(p.status),
                _raw(p.outcome),
                p.ecli,
                self._secret(p.notes, self.proceeding_columns),
            )
            .join(Case, Case.id == p.case_id)
            .where(
                case_filter(self.user, self.audience),
                *proceeding_window(self.filters, p.forum_id, p.filed_on),
            ),
            self.filters,
        ).order_by(Case.id, p.position, p.id)

    def proceeding_batches(self) -> Iterator[list[tuple[str, ...]]]:
        """The proceedings, BATCH at a time in case order: tuples of text in
        PROCEEDING_LAYOUT order."""
        lookups = self._lookups
        url = current_app.config["TRACKER_BASE_URL"] + "/cases/"
        organisations, forums = lookups.organisations, lookups.forums
        status_l, outcome_l = lookups.labels["status"], lookups.labels["outcome"]
        for rows in _stream(self.proceeding_statement()):
            treatments = _treatments([r[0] for r in rows], lookups)
            batch = []
            for (
                proceeding_id,
                case_id,
                case_reference,
                lead_id,
                position,
                forum_id,
                reference,
                filed_on,
                decided_on,
                status,
                outcome,
                ecli,
                notes,
            ) in rows:
                forum = forums.get(forum_id, _NO_PAIR)
                treated = treatments.get(proceeding_id, _NO_PAIR)
                batch.append(
                    (
                        str(case_id),
                        f"{url}{case_id}",
                        case_reference or "",
                        organisations.get(lead_id, ""),
                        str(position),
                        forum[0],
                        forum[1],
                        reference or "",
                        _s(filed_on),
                        _s(decided_on),
                        status,
                        status_l.get(status, status),
                        outcome,
                        outcome_l.get(outcome, outcome),
                        ecli or "",
                        treated[0],
                        treated[1],
                        notes or "",
                    )
                )
            yield batch

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
        if self.kind == "proceedings":
            columns, layout, batches = (
                self.proceeding_columns,
                PROCEEDING_LAYOUT,
                self.proceeding_batches(),
            )
        else:
            columns, layout, batches = self.case_columns, CASE_LAYOUT, self.case_batches()
        writer.writerow(columns)
        yield _drain(buffer)
        pick = _picker(layout, columns)
        for rows in batches:
            writer.writerows([_safe(pick(row)) for row in rows])
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
        case_cols = self.case_columns
        pick_case = _picker(CASE_LAYOUT, case_cols)
        proc_cols = [c for c in self.proceeding_columns if not c.startswith(("case_", "lead_"))]
        pick_proc = _picker(PROCEEDING_LAYOUT, proc_cols)
        # Both streams are in case order: each case takes the next group of proceedings.
        groups = groupby(chain.from_iterable(self.proceeding_batches()), key=lambda p: int(p[0]))
        group = next(groups, None)
        for cases in self.case_batches():
            parts = []
            for case in cases:
                case_id = int(case[0])
                while group is not None and group[0] < case_id:
                    group = next(groups, None)
                procs = []
                if group is not None and group[0] == case_id:
                    procs = list(group[1])
                    group = next(groups, None)
                record: dict[str, Any] = dict(zip(case_cols, pick_case(case), strict=True))
                record["id"] = case_id
                record["version"] = int(record["version"])
                for name in ("rights", "provisions", "partners", "parties"):
                    if name in record:
                        record[name] = [v for v in record[name].split(MULTI_SEPARATOR) if v]
                for name in ("rights_labels", "provisions_labels"):
                    record[name] = [v for v in record[name].split(LABEL_SEPARATOR) if v]
                record["proceedings"] = [_proceeding_record(proc_cols, pick_proc(p)) for p in procs]
                parts.append(("" if first else ",") + json.dumps(record, ensure_ascii=False))
                first = False
            yield "".join(parts)
        yield "]}\n"

    def xlsx_chunks(self) -> Iterator[bytes]:
        """An XLSX workbook (About, Cases and Proceedings sheets; every cell is text), sent
        as it is written: nothing waits on disk or in memory.

        zipfile writes to a stream it cannot seek in: each entry's sizes follow its data.
        Without Zip64, as Excel wants (it refuses Zip64 entries whose sizes come after the
        data), so one sheet's XML must stay under 2 GiB: about 800,000 cases here, near
        Excel's own limit of 1,048,576 rows a sheet. Larger exports: CSV, or the command line.
        """
        sink = _Sink()
        for _batch in self._write_workbook(sink, zip64=False):
            yield sink.drain()
        yield sink.drain()

    def xlsx_rows(self) -> tuple[int, int]:
        """How many rows the workbook's Cases and Proceedings sheets would hold."""

        def count(stmt) -> int:
            counted = stmt.order_by(None).with_only_columns(
                func.count(), maintain_column_froms=True
            )
            return db.session.scalar(counted) or 0

        return count(self.case_statement()), count(self.proceeding_statement())

    def xlsx_too_large(self) -> tuple[int, int] | None:
        """(rows, bound) of the first sheet a downloaded workbook could not hold, or None."""
        cases, proceedings = self.xlsx_rows()
        if cases > XLSX_MAX_CASES:
            return cases, XLSX_MAX_CASES
        if proceedings > XLSX_MAX_PROCEEDINGS:
            return proceedings, XLSX_MAX_PROCEEDINGS
        return None

    def write_xlsx(self, path: str) -> None:
        """The same workbook into a file (which zipfile can seek in: Zip64, no size limit)."""
        with open(path, "wb") as fh:
            for _batch in self._write_workbook(fh, zip64=True):
                pass

    def _write_workbook(self, out, *, zip64: bool) -> Iterator[None]:
        """Writes the workbook into out, pausing after each batch of rows.

        Each sheet is XML written a row at a time (tracker/reports/xlsx.py): the Cases sheet
        from their statement, then the Proceedings sheet from theirs. Memory stays flat
        however many rows.
        """
        case_cols, proc_cols = self.case_columns, self.proceeding_columns
        about = [
            ("Litigation tracker export",),
            ("audience", self.audience.value),
            ("exported_at", self.exported_at.isoformat(timespec="seconds")),
            ("filters", self.filters_text()),
            ("note", "Only records this audience may see; see docs/csv-columns.md."),
        ]
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for name, data in xlsx.static_parts(["About", "Cases", "Proceedings"]).items():
                zf.writestr(name, data)
            with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
                sheet = xlsx.SheetWriter(fh)
                for line in about:
                    sheet.row([neutralise(v) for v in line])
                sheet.close()
            yield
            for number, columns, layout, batches in (
                (2, case_cols, CASE_LAYOUT, self.case_batches()),
                (3, proc_cols, PROCEEDING_LAYOUT, self.proceeding_batches()),
            ):
                pick = _picker(layout, columns)
                with zf.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=zip64) as fh:
                    sheet = xlsx.SheetWriter(fh)
                    sheet.row(columns)
                    for rows in batches:
                        for row in rows:
                            sheet.row(_safe(pick(row)))
                        sheet.flush()
                        yield
                    sheet.close()


def _proceeding_record(columns: list[str], values: tuple[str, ...]) -> dict[str, Any]:
    """A proceeding in the JSON export: numbers as numbers, lists as lists."""
    record: dict[str, Any] = dict(zip(columns, values, strict=True))
    record["position"] = int(record["position"])
    record["treatments"] = [t for t in record["treatments"].split(MULTI_SEPARATOR) if t]
    record["treatments_labels"] = [
        t for t in record["treatments_labels"].split(LABEL_SEPARATOR) if t
    ]
    return record


class _Sink:
    """A file that zipfile writes to and cannot seek in: the bytes wait until drained."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self.parts)
        self.parts = []
        return data


def _all(stmt) -> list:
    """All rows of a Core statement at once (fetchall: cheaper than iterating row by row)."""
    return db.session.connection().execute(stmt).all()


def _ids_clause(column, ids: list[int]):
    """column IN ids (sorted); a range when the ids are dense (no thousand bound parameters)."""
    if ids and ids[-1] - ids[0] < 2 * len(ids):
        return column.between(ids[0], ids[-1])
    return column.in_(ids)


def _treatments(proceeding_ids: list[int], lookups: Lookups) -> dict[int, tuple[str, str]]:
    """proceeding id -> (treatments, treatments_labels) cells, sorted by code."""
    if not proceeding_ids:
        return {}
    treated: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for proceeding_id, provision_id, right_id, how in _all(
        select(
            ProceedingTreatment.proceeding_id,
            ProceedingTreatment.provision_id,
            ProceedingTreatment.right_id,
            type_coerce(ProceedingTreatment.treatment, String),
        ).where(_ids_clause(ProceedingTreatment.proceeding_id, sorted(proceeding_ids)))
    ):
        code, name = (
            lookups.provisions[provision_id]
            if provision_id is not None
            else lookups.rights[right_id]
        )
        treated[proceeding_id].append((code, name, how))
    how_l = lookups.labels["treatment"]
    out = {}
    for proceeding_id, items in treated.items():
        items.sort()
        out[proceeding_id] = (
            MULTI_SEPARATOR.join([f"{c}={how}" for c, _n, how in items]),
            LABEL_SEPARATOR.join([f"{n}: {how_l.get(how, how)}" for _c, n, how in items]),
        )
    return out


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return text
