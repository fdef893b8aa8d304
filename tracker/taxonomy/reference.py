"""Loads the shipped reference data (tracker/taxonomy/data/, see SOURCES.md there).

Two phases. First every file is read and validated into plain records; any problem raises
ReferenceDataError naming the file, the line and the reason, before the session is touched.
Then rows are upserted by their natural keys: the files win for the rows they define, except
rows an administrator created or edited in the app (instruments, provisions with their
crosswalk, rights: `edited_at` is set), which are kept as they are and counted as kept; rows
added in the app are never deleted, and a second run changes nothing.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import pycountry
from sqlalchemy import insert, select

from tracker.audit.services import record_audit
from tracker.extensions import db
from tracker.taxonomy.models import (
    Forum,
    ForumLevel,
    Instrument,
    InstrumentKind,
    Jurisdiction,
    JurisdictionKind,
    Provision,
    Ratification,
    Right,
    SystemMembership,
    provision_rights,
)

DATA_DIR = Path(__file__).parent / "data"

# The nine UN core treaties exported by the OHCHR dashboard: instrument code -> file name.
OHCHR_FILES = {
    code: f"ohchr-2020/{code}_OHCHR_2020-09.csv"
    for code in ("ICCPR", "ICESCR", "CAT", "CRC", "ICERD", "CEDAW", "CRPD", "CPED", "ICRMW")
}
OHCHR_SOURCE = "OHCHR 2020-09"
OHCHR_COLUMNS = (
    "Country",
    "Date of Signature (dd/mm/yyyy)",
    "Date of Ratification/Accession",
    "Date of acceptance of individual communications procedure",
)
OHCHR_INQUIRY_COLUMN = "Date of acceptance of inquiry procedure"
OHCHR_FOOTER_PREFIXES = ("Definitions and metadata", "Source:")
# Rows of the OHCHR exports that are not states (the EU is a party to the CRPD).
NON_STATE_NAMES = frozenset({"European Union"})
# Verbatim source files are not edited (SOURCES.md); their known slips are corrected here.
# (file, country, column): (value in the file, value to use, why)
OHCHR_CORRECTIONS = {
    (
        OHCHR_FILES["CEDAW"],
        "Bahamas",
        "Date of acceptance of individual communications procedure",
    ): ("1.0", "", "not a date; the Bahamas is not a party to OP-CEDAW (UNTC 2022: no action)"),
}

# un-2022 files: the core treaties (used for UN membership only; their dates come from the
# OHCHR exports) and the optional protocols (loaded as ratifications with the year only).
UN_CORE_FILES = {
    "ICCPR": "hr_status_iccpr",
    "ICESCR": "hr_status_icescr",
    "CAT": "hr_status_cat",
    "CRC": "hr_status_crc",
    "ICERD": "hr_status_icerd",
    "CEDAW": "hr_status_cedaw",
    "CRPD": "hr_status_crpd",
    "CPED": "hr_status_cped",
    "ICRMW": "hr_status_icmw",
}
UN_PROTOCOL_FILES = {
    "ICCPR-OP1": "hr_status_iccpr_op1",
    "ICCPR-OP2": "hr_status_iccpr_op2",
    "ICESCR-OP": "hr_status_icescr_op",
    "OP-CAT": "hr_status_opcat",
    "OP-CRC-AC": "hr_status_op_crc_ac",
    "OP-CRC-SC": "hr_status_op_crc_sc",
    "OP-CRC-IC": "hr_status_op_crc_ic",
    "OP-CEDAW": "hr_status_op_cedaw",
    "OP-CRPD": "hr_status_op_crpd",
}
UN_SOURCE = "UNTC 2022"
UN_COLUMNS = (
    "iso2",
    "member",
    "state party",
    "year ratification or accession",
    "signatory",
    "no action",
    "status",
    "note",
)
UN_ISO2_FIXES = {"S": "SS", "TP": "TL"}  # wrong in the source (SOURCES.md)
# Rows that are not UN member states, left out: (file stem, iso2) -> why.
UN_SKIPPED_ROWS = {
    ("hr_status_op_crc_ic", "MS"): "Montserrat is not a UN member; the row stands where "
    "Gabon's is in the other files",
}
UN_SYSTEM = "UN"

CURATED_SOURCE = "curated"
M49_FILE = "countries_iso3166_m49.json"
# Not in ISO 3166-1 (user-assigned code); created only if a data file uses it.
KOSOVO = {"code": "XK", "iso3": "XKX", "numeric": None, "name": "Kosovo"}
KOSOVO_REGION = ("Europe", "Southern Europe")

MAX_PROBLEMS_SHOWN = 25
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _json_kind(value: Any) -> str:
    """How a JSON value reads in a problem: "the number 1", "the text 'FR'", "a list"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the value {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "..."
        return f"the text {shown!r}"
    return "a list" if isinstance(value, list) else "an object"


# --- Errors -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file} line {self.line}" if self.line else self.file
        return f"{where}: {self.reason}"


class ReferenceDataError(Exception):
    """The reference files are not valid; nothing was written. str() lists the problems."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = [str(p) for p in problems[:MAX_PROBLEMS_SHOWN]]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            lines.append(f"... and {len(problems) - MAX_PROBLEMS_SHOWN} more problems")
        super().__init__("\n".join(lines))


# --- Phase 1: read and validate -----------------------------------------------------------
def _max_len(model: Any, column: str) -> int | None:
    return getattr(model.__table__.c[column].type, "length", None)


class _Row:
    """One CSV record with typed accessors; a bad value is recorded and read as None."""

    def __init__(self, parser: _Parser, file: str, line: int, values: dict[str, str]):
        self.parser, self.file, self.line, self.values = parser, file, line, values

    def problem(self, reason: str) -> None:
        self.parser.problem(self.file, self.line, reason)

    def text(self, column: str, *, required: bool = False, max_len: int | None = None):
        value = self.values[column].strip()
        if not value:
            if required:
                self.problem(f"{column} is empty")
            return None
        if max_len is not None and len(value) > max_len:
            self.problem(f"{column} is longer than {max_len} characters")
            return None
        return value

    def date(self, column: str) -> date | None:
        value = self.values[column].strip()
        if not value:
            return None
        if _ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.problem(f"bad date {value!r} in {column} (expected YYYY-MM-DD)")
        return None

    def integer(self, column: str, *, minimum: int, maximum: int) -> int | None:
        value = self.values[column].strip()
        if not value:
            return None
        if not value.isdigit() or not minimum <= int(value) <= maximum:
            self.problem(f"bad {column} {value!r} (expected a whole number {minimum}-{maximum})")
            return None
        return int(value)

    def choice(self, column: str, choices: Iterable[str]) -> str | None:
        value = self.values[column].strip()
        allowed = list(choices)
        if value not in allowed:
            self.problem(f"bad {column} {value!r} (expected one of: {', '.join(allowed)})")
            return None
        return value

    def ref(self, column: str, known: Any, what: str, *, required: bool = True) -> str | None:
        value = self.values[column].strip()
        if not value:
            if required:
                self.problem(f"{column} is empty")
            return None
        if value not in known:
            self.problem(f"unknown {what} {value!r}")
            return None
        return value

    def ordered(self, values: dict[str, Any], *columns: str) -> None:
        """The dates of these columns, where given, must not go backwards."""
        dates = [(c, values[c]) for c in columns if values.get(c) is not None]
        for (c1, d1), (c2, d2) in itertools.pairwise(dates):
            if d2 < d1:
                self.problem(f"{c2} ({d2}) is before {c1} ({d1})")


@dataclass
class _Parsed:
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    systems: dict[str, dict[str, Any]] = field(default_factory=dict)
    memberships: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    instruments: dict[str, dict[str, Any]] = field(default_factory=dict)
    provisions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    rights: dict[str, dict[str, Any]] = field(default_factory=dict)
    crosswalk: set[tuple[str, str, str]] = field(default_factory=set)
    forums: dict[str, dict[str, Any]] = field(default_factory=dict)
    ratifications: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


class _Parser:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.problems: list[Problem] = []
        self.out = _Parsed()
        self.iso_codes = {c.alpha_2 for c in pycountry.countries}
        self.kosovo_used = False
        # Where each key was first defined, to name both lines of a duplicate.
        self.seen: dict[Any, str] = {}

    def problem(self, file: str, line: int | None, reason: str) -> None:
        self.problems.append(Problem(file, line, reason))

    # Country codes the files may use: ISO 3166-1 plus Kosovo's user-assigned XK.
    def state_code(self, row: _Row, column: str, code: str | None = None) -> str | None:
        value = (code if code is not None else row.values[column]).strip()
        if value == KOSOVO["code"]:
            self.kosovo_used = True
            return value
        if value not in self.iso_codes:
            row.problem(f"unknown country code {value!r}" if value else f"{column} is empty")
            return None
        return value

    def unique(self, row: _Row, key: Any, label: str) -> bool:
        where = f"{row.file} line {row.line}"
        if key in self.seen:
            row.problem(f"duplicate {label} (already defined in {self.seen[key]})")
            return False
        self.seen[key] = where
        return True

    def read_csv(
        self,
        name: str,
        columns: tuple[str, ...],
        *,
        optional: tuple[str, ...] = (),
        header_line: int = 1,
    ) -> tuple[list[str], list[tuple[int, list[str]]]]:
        """The header and the (line number, cells) records after it; [] on a problem.

        Every column in `columns` must be present, those in `optional` may be, no others.
        """
        path = self.data_dir / name
        if not path.is_file():
            self.problem(name, None, "file is missing")
            return [], []
        records: list[tuple[int, list[str]]] = []
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.reader(handle)
                header: list[str] = []
                for cells in reader:
                    if reader.line_num == header_line:
                        header = [c.strip() for c in cells]
                    elif reader.line_num > header_line:
                        records.append((reader.line_num, cells))
        except (UnicodeDecodeError, csv.Error) as exc:
            self.problem(name, None, f"cannot be read as UTF-8 CSV ({exc})")
            return [], []
        if not header:
            self.problem(name, header_line, "header row is missing")
            return [], []
        missing = [c for c in columns if c not in header]
        unexpected = [c for c in header if c not in columns and c not in optional]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append("missing column(s): " + ", ".join(missing))
            if unexpected:
                parts.append("unexpected column(s): " + ", ".join(repr(c) for c in unexpected))
            self.problem(name, header_line, "; ".join(parts))
            return [], []
        return header, records

    def rows(self, name: str, columns: tuple[str, ...]) -> Iterator[_Row]:
        header, records = self.read_csv(name, columns)
        for line, cells in records:
            if not any(c.strip() for c in cells):
                continue  # blank line
            if len(cells) != len(header):
                self.problem(name, line, f"expected {len(header)} columns, found {len(cells)}")
                continue
            yield _Row(self, name, line, dict(zip(header, cells, strict=True)))

    # --- the files, in dependency order ---------------------------------------------------
    def parse(self) -> _Parsed:
        self.parse_states()
        self.parse_systems()
        self.parse_instruments()
        self.parse_provisions()
        self.parse_rights()
        self.parse_crosswalk()
        self.parse_forums()
        self.aliases = self.parse_aliases()
        self.parse_system_members()
        self.parse_un_files()
        self.parse_ohchr()
        self.parse_regional_ratifications()
        if self.kosovo_used:
            self.out.states[KOSOVO["code"]] = {
                **KOSOVO,
                "kind": JurisdictionKind.STATE,
                "region": KOSOVO_REGION[0],
                "subregion": KOSOVO_REGION[1],
            }
        return self.out

    def parse_states(self) -> None:
        regions = self.read_regions()
        for country in pycountry.countries:
            region, subregion = regions.get(country.alpha_2, (None, None))
            self.out.states[country.alpha_2] = {
                "code": country.alpha_2,
                "iso3": country.alpha_3,
                "numeric": country.numeric,
                "name": getattr(country, "common_name", None) or country.name,
                "kind": JurisdictionKind.STATE,
                "region": region,
                "subregion": subregion,
            }

    def read_regions(self) -> dict[str, tuple[str | None, str | None]]:
        """alpha-2 -> (region, sub-region) from the M49 JSON list; each bad entry is a problem."""
        regions: dict[str, tuple[str | None, str | None]] = {}
        path = self.data_dir / M49_FILE
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.problem(M49_FILE, None, "file is missing")
            return regions
        except UnicodeDecodeError as exc:
            self.problem(M49_FILE, None, f"cannot be read as UTF-8 ({exc})")
            return regions
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno} column {exc.colno}"
            self.problem(M49_FILE, None, f"not valid JSON at {where} ({exc.msg})")
            return regions
        if not isinstance(entries, list):
            self.problem(
                M49_FILE, None, f"not a JSON list of countries (found {_json_kind(entries)})"
            )
            return regions
        limit = _max_len(Jurisdiction, "region")
        for number, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict):
                found = _json_kind(entry)
                self.problem(
                    M49_FILE,
                    None,
                    f"entry {number} is not an object of country fields (found {found})",
                )
                continue
            if "alpha-2" not in entry:
                self.problem(M49_FILE, None, f"entry {number} has no 'alpha-2' code")
                continue
            code = entry["alpha-2"]
            if not isinstance(code, str) or len(code) != 2:
                self.problem(
                    M49_FILE,
                    None,
                    f"entry {number}: 'alpha-2' is not a two-letter code "
                    f"(found {_json_kind(code)})",
                )
                continue
            values: list[str | None] = []
            for key in ("region", "sub-region"):
                value = entry.get(key)
                if value is not None and not isinstance(value, str):
                    self.problem(
                        M49_FILE,
                        None,
                        f"entry {number} ({code}): {key!r} is not a text "
                        f"(found {_json_kind(value)})",
                    )
                    value = None
                elif value and limit is not None and len(value) > limit:
                    self.problem(
                        M49_FILE,
                        None,
                        f"entry {number} ({code}): {key!r} is longer than {limit} characters",
                    )
                    value = None
                values.append(value or None)
            regions[code] = (values[0], values[1])
        return regions

    def parse_systems(self) -> None:
        name = "systems.csv"
        for row in self.rows(name, ("code", "name", "kind")):
            code = row.text("code", required=True, max_len=_max_len(Jurisdiction, "code"))
            label = row.text("name", required=True, max_len=_max_len(Jurisdiction, "name"))
            kind = row.choice("kind", [JurisdictionKind.SYSTEM.value])
            if code in self.iso_codes or code == KOSOVO["code"]:
                row.problem(f"system code {code!r} is already a country code")
                continue
            if code and label and kind and self.unique(row, ("jurisdiction", code), "code"):
                self.out.systems[code] = {
                    "code": code,
                    "iso3": None,
                    "numeric": None,
                    "name": label,
                    "kind": JurisdictionKind.SYSTEM,
                    "region": None,
                    "subregion": None,
                }

    def parse_instruments(self) -> None:
        name = "instruments.csv"
        columns = (
            "code",
            "short_title",
            "title",
            "kind",
            "system_code",
            "parent_code",
            "adopted_on",
            "complaint_via",
            "supervisory_body",
            "note",
        )
        rows = list(self.rows(name, columns))
        codes = {r.values["code"].strip() for r in rows}
        for row in rows:
            problems_before = len(self.problems)
            values = {
                "code": row.text("code", required=True, max_len=_max_len(Instrument, "code")),
                "short_title": row.text(
                    "short_title", required=True, max_len=_max_len(Instrument, "short_title")
                ),
                "title": row.text("title", required=True, max_len=_max_len(Instrument, "title")),
                "kind": row.choice("kind", [k.value for k in InstrumentKind]),
                "system_code": row.ref("system_code", self.out.systems, "system", required=False),
                "parent_code": row.ref("parent_code", codes, "instrument", required=False),
                "adopted_on": row.date("adopted_on"),
                "complaint_via_code": row.ref("complaint_via", codes, "instrument", required=False),
                "supervisory_body": row.text(
                    "supervisory_body", max_len=_max_len(Instrument, "supervisory_body")
                ),
                "note": row.text("note"),
            }
            if values["parent_code"] and values["parent_code"] == values["code"]:
                row.problem("an instrument cannot be its own parent")
            if len(self.problems) == problems_before and self.unique(
                row, ("instrument", values["code"]), "instrument code"
            ):
                values["kind"] = InstrumentKind(values["kind"])
                self.out.instruments[values["code"]] = values | {"line": row.line}
        self.check_cycles(name, self.out.instruments, "parent_code", "instrument")

    def check_cycles(self, name: str, items: dict[str, dict], parent_key: str, what: str) -> None:
        for code, item in items.items():
            seen = {code}
            parent = item[parent_key]
            while parent is not None and parent in items:
                if parent in seen:
                    self.problem(name, item["line"], f"{what} {code!r} is its own ancestor")
                    break
                seen.add(parent)
                parent = items[parent][parent_key]

    def parse_provisions(self) -> None:
        name = "provisions.csv"
        positions: dict[str, int] = defaultdict(int)
        for row in self.rows(name, ("instrument_code", "number", "title", "placeholder")):
            problems_before = len(self.problems)
            instrument = row.ref("instrument_code", self.out.instruments, "instrument")
            number = row.text("number", required=True, max_len=_max_len(Provision, "number"))
            title = row.text("title", required=True, max_len=_max_len(Provision, "title"))
            placeholder = row.choice("placeholder", ["0", "1"])
            if len(self.problems) > problems_before:
                continue
            code = f"{instrument}:{number}"
            if len(code) > (_max_len(Provision, "code") or len(code)):
                row.problem(f"provision code {code!r} is too long")
                continue
            if self.unique(row, ("provision", instrument, number), f"provision {code!r}"):
                positions[instrument] += 1
                self.out.provisions[(instrument, number)] = {
                    "code": code,
                    "number": number,
                    "title": title,
                    "placeholder": placeholder == "1",
                    "position": positions[instrument],
                }

    def parse_rights(self) -> None:
        name = "rights.csv"
        rows = list(self.rows(name, ("code", "parent_code", "name", "description")))
        codes = {r.values["code"].strip() for r in rows}
        positions: dict[str | None, int] = defaultdict(int)
        for row in rows:
            problems_before = len(self.problems)
            code = row.text("code", required=True, max_len=_max_len(Right, "code"))
            parent = row.ref("parent_code", codes, "right", required=False)
            label = row.text("name", required=True, max_len=_max_len(Right, "name"))
            description = row.text("description")
            if parent is not None and parent == code:
                row.problem("a right cannot be its own parent")
            if len(self.problems) == problems_before and self.unique(
                row, ("right", code), "right code"
            ):
                positions[parent] += 1
                self.out.rights[code] = {
                    "code": code,
                    "name": label,
                    "description": description,
                    "parent_code": parent,
                    "position": positions[parent],
                    "line": row.line,
                }
        self.check_cycles(name, self.out.rights, "parent_code", "right")

    def parse_crosswalk(self) -> None:
        name = "crosswalk.csv"
        for row in self.rows(name, ("instrument_code", "provision_number", "right_code")):
            instrument = row.ref("instrument_code", self.out.instruments, "instrument")
            number = row.text("provision_number", required=True)
            right = row.ref("right_code", self.out.rights, "right")
            if not (instrument and number and right):
                continue
            if (instrument, number) not in self.out.provisions:
                row.problem(f"unknown provision '{instrument}:{number}'")
                continue
            if self.unique(row, ("crosswalk", instrument, number, right), "mapping"):
                self.out.crosswalk.add((instrument, number, right))

    def parse_forums(self) -> None:
        name = "forums.csv"
        columns = (
            "code",
            "name",
            "jurisdiction_code",
            "level",
            "instrument_code",
            "filing_limit_months",
            "filing_limit_basis",
            "note",
        )
        for row in self.rows(name, columns):
            problems_before = len(self.problems)
            jurisdiction = row.values["jurisdiction_code"].strip()
            if jurisdiction not in self.out.systems:
                jurisdiction = self.state_code(row, "jurisdiction_code")
            values = {
                "code": row.text("code", required=True, max_len=_max_len(Forum, "code")),
                "name": row.text("name", required=True, max_len=_max_len(Forum, "name")),
                "jurisdiction_code": jurisdiction,
                "level": row.choice("level", [lv.value for lv in ForumLevel]),
                "instrument_code": row.ref(
                    "instrument_code", self.out.instruments, "instrument", required=False
                ),
                "filing_limit_months": row.integer("filing_limit_months", minimum=1, maximum=600),
                "filing_limit_basis": row.text("filing_limit_basis"),
                "note": row.text("note"),
            }
            if len(self.problems) == problems_before and self.unique(
                row, ("forum", values["code"]), "forum code"
            ):
                values["level"] = ForumLevel(values["level"])
                self.out.forums[values["code"]] = values

    def parse_aliases(self) -> dict[str, str]:
        aliases: dict[str, str] = {}
        for row in self.rows("country_aliases.csv", ("name", "iso2")):
            label = row.text("name", required=True)
            code = self.state_code(row, "iso2")
            if label and code and self.unique(row, ("alias", label.casefold()), "alias"):
                aliases[label.casefold()] = code
        return aliases

    def parse_system_members(self) -> None:
        name = "system_members.csv"
        for row in self.rows(name, ("system_code", "iso2", "joined_on", "left_on", "note")):
            problems_before = len(self.problems)
            system = row.ref("system_code", self.out.systems, "system")
            state = self.state_code(row, "iso2")
            values = {
                "joined_on": row.date("joined_on"),
                "left_on": row.date("left_on"),
                "note": row.text("note"),
            }
            row.ordered(values, "joined_on", "left_on")
            if len(self.problems) == problems_before and self.unique(
                row, ("member", system, state), f"membership {system}/{state}"
            ):
                self.out.memberships[(system, state)] = values

    def parse_un_files(self) -> None:
        members: set[str] = set()
        for instrument, stem in {**UN_CORE_FILES, **UN_PROTOCOL_FILES}.items():
            name = f"un-2022/{stem}.csv"
            if instrument not in self.out.instruments:
                self.problem(name, None, f"unknown instrument {instrument!r} in instruments.csv")
                continue
            # One file has no (always empty) note column.
            header, records = self.read_csv(name, UN_COLUMNS[:-1], optional=UN_COLUMNS[-1:])
            in_file: dict[str, int] = {}
            for line, cells in records:
                if not any(c.strip() for c in cells):
                    continue
                # The source omits the trailing empty note on some rows.
                if len(cells) == len(header) - 1 and header[-1] == "note":
                    cells = [*cells, ""]
                if len(cells) != len(header):
                    self.problem(name, line, f"expected {len(header)} columns, found {len(cells)}")
                    continue
                values = {"note": ""} | dict(zip(header, cells, strict=True))
                row = _Row(self, name, line, values)
                raw = row.values["iso2"].strip()
                if (stem, raw) in UN_SKIPPED_ROWS:
                    continue
                state = self.state_code(row, "iso2", UN_ISO2_FIXES.get(raw, raw))
                party = row.choice("state party", ["0", "1"])
                year = row.integer(
                    "year ratification or accession", minimum=1945, maximum=date.today().year
                )
                if state is None or party is None:
                    continue
                if state in in_file:
                    row.problem(f"duplicate country {state!r} (already on line {in_file[state]})")
                    continue
                in_file[state] = line
                members.add(state)
                if party == "1" and year is None:
                    row.problem("a state party needs its year of ratification or accession")
                    continue
                if party == "1" and instrument in UN_PROTOCOL_FILES:
                    self.add_ratification(
                        row,
                        instrument,
                        state,
                        {"ratified_year": year, "source": UN_SOURCE, "note": row.text("note")},
                    )
        for state in sorted(members):
            self.out.memberships.setdefault(
                (UN_SYSTEM, state), {"joined_on": None, "left_on": None, "note": None}
            )
        if UN_SYSTEM not in self.out.systems:
            self.problem("systems.csv", None, f"the {UN_SYSTEM!r} system is missing")

    def add_ratification(self, row: _Row, instrument: str, state: str, values: dict) -> None:
        label = f"ratification {instrument}/{state}"
        if self.unique(row, ("ratification", instrument, state), label):
            full = {
                "signed_on": None,
                "ratified_on": None,
                "ratified_year": None,
                "complaints_accepted_on": None,
                "denounced_on": None,
                "source": None,
                "note": None,
            }
            full.update(values)
            self.out.ratifications[(instrument, state)] = full

    def resolve_country(self, row: _Row, label: str) -> str | None:
        code = self.aliases.get(label.casefold())
        if code is None:
            try:
                code = pycountry.countries.lookup(label).alpha_2
            except LookupError:
                row.problem(f"unknown country name {label!r} (add it to country_aliases.csv)")
                return None
        return self.state_code(row, "Country", code)

    def parse_ohchr(self) -> None:
        lookups: dict[str, str] = {}
        for instrument, name in OHCHR_FILES.items():
            if instrument not in self.out.instruments:
                self.problem(name, None, f"unknown instrument {instrument!r} in instruments.csv")
                continue
            # Line 1 is a title; the header is on line 2 and may add the inquiry column.
            header, records = self.read_csv(
                name, OHCHR_COLUMNS, optional=(OHCHR_INQUIRY_COLUMN,), header_line=2
            )
            if header and list(header[:4]) != list(OHCHR_COLUMNS):
                self.problem(name, 2, "columns are not in the expected order")
                continue
            for line, cells in records:
                first = cells[0].strip() if cells else ""
                if not any(c.strip() for c in cells) or first.startswith(OHCHR_FOOTER_PREFIXES):
                    continue
                if len(cells) != len(header):
                    self.problem(name, line, f"expected {len(header)} columns, found {len(cells)}")
                    continue
                values = dict(zip(header, cells, strict=True))
                notes = []
                for (file, country, column), (bad, good, why) in OHCHR_CORRECTIONS.items():
                    if file == name and country == first and values[column].strip() == bad:
                        values[column] = good
                        notes.append(f"{column}: {bad!r} in the source read as empty ({why})")
                row = _Row(self, name, line, values)
                if first in NON_STATE_NAMES:
                    continue
                dates = {
                    "signed_on": row.date(OHCHR_COLUMNS[1]),
                    "ratified_on": row.date(OHCHR_COLUMNS[2]),
                    "complaints_accepted_on": row.date(OHCHR_COLUMNS[3]),
                }
                inquiry = row.date(OHCHR_INQUIRY_COLUMN) if len(header) > 4 else None
                state = lookups.get(first) or self.resolve_country(row, first)
                if state is None:
                    continue
                lookups[first] = state
                if not any(dates.values()) and inquiry is None:
                    continue  # no action: no row
                if inquiry is not None:
                    notes.insert(0, f"Inquiry procedure accepted on {inquiry.isoformat()}")
                self.add_ratification(
                    row,
                    instrument,
                    state,
                    dates | {"source": OHCHR_SOURCE, "note": "; ".join(notes) or None},
                )

    def parse_regional_ratifications(self) -> None:
        name = "ratifications_regional.csv"
        columns = (
            "instrument_code",
            "iso2",
            "signed_on",
            "ratified_on",
            "complaints_accepted_on",
            "denounced_on",
            "note",
        )
        for row in self.rows(name, columns):
            problems_before = len(self.problems)
            instrument = row.ref("instrument_code", self.out.instruments, "instrument")
            state = self.state_code(row, "iso2")
            values = {
                "signed_on": row.date("signed_on"),
                "ratified_on": row.date("ratified_on"),
                "complaints_accepted_on": row.date("complaints_accepted_on"),
                "denounced_on": row.date("denounced_on"),
                "source": CURATED_SOURCE,
                "note": row.text("note"),
            }
            row.ordered(values, "signed_on", "ratified_on", "denounced_on")
            if len(self.problems) == problems_before:
                self.add_ratification(row, instrument, state, values)


def parse_reference(data_dir: str | Path | None = None) -> _Parsed:
    """Read and validate every file; raise ReferenceDataError listing every problem."""
    parser = _Parser(Path(data_dir) if data_dir is not None else DATA_DIR)
    parsed = parser.parse()
    if parser.problems:
        raise ReferenceDataError(parser.problems)
    return parsed


@dataclass(frozen=True)
class ShippedKeys:
    """The natural keys of the provisions and rights the shipped files define."""

    provisions: frozenset[tuple[str, str]]  # (instrument code, number)
    rights: frozenset[str]


@lru_cache(maxsize=4)
def _shipped_keys(data_dir: Path) -> ShippedKeys:
    def keys(name: str, *columns: str) -> frozenset:
        try:
            with (data_dir / name).open(newline="", encoding="utf-8-sig") as handle:
                rows = list(csv.DictReader(handle))
        except (OSError, UnicodeDecodeError, csv.Error):
            return frozenset()
        found = set()
        for row in rows:
            values = tuple((row.get(c) or "").strip() for c in columns)
            if all(values):
                found.add(values if len(values) > 1 else values[0])
        return frozenset(found)

    return ShippedKeys(
        provisions=keys("provisions.csv", "instrument_code", "number"),
        rights=keys("rights.csv", "code"),
    )


def shipped_keys(data_dir: str | Path | None = None) -> ShippedKeys:
    """Which provisions and rights `tracker reference load` would bring back if removed.

    The admin pages use it to refuse renumbering or deleting those rows (the next load would
    add the original again). Read from the files, cached: they only change with a release.
    """
    return _shipped_keys(Path(data_dir) if data_dir is not None else DATA_DIR)


# --- Phase 2: upsert ----------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return getattr(value, "value", value)


class LoadCounts(dict):
    """{table: (added, updated)}, and `kept`: {table: rows left as an administrator edited them}."""

    def __init__(self, counts: dict[str, tuple[int, int]], kept: dict[str, int]):
        super().__init__(counts)
        self.kept = kept

    def kept_summary(self) -> str | None:
        """'kept 3 rows edited by an administrator (provisions 2, rights 1)', or None."""
        total = sum(self.kept.values())
        if not total:
            return None
        parts = ", ".join(f"{name} {n}" for name, n in self.kept.items() if n)
        rows = "row" if total == 1 else "rows"
        return f"kept {total} {rows} edited by an administrator ({parts})"


class _Writer:
    """Upserts rows and counts them; a row added in this run is never also "updated"."""

    def __init__(self):
        # Rows by id(obj), or by natural key for bulk-inserted rows.
        self.added: dict[str, set[Any]] = defaultdict(set)
        self.updated: dict[str, set[Any]] = defaultdict(set)
        # Rows an administrator created or edited in the app: never changed by the files.
        self.kept: dict[str, set[Any]] = defaultdict(set)

    def is_kept(self, name: str, obj: Any) -> bool:
        if obj is not None and getattr(obj, "edited_at", None) is not None:
            self.kept[name].add(id(obj))
            return True
        return False

    def upsert(
        self,
        name: str,
        model: Any,
        existing: dict,
        key: Any,
        values: dict,
        *,
        bulk: list[dict] | None = None,
    ) -> Any:
        """Add or update the row with this natural key.

        With `bulk`, a new row is appended there as a dict for one executemany INSERT (the
        ORM inserts row by row on SQLite when it needs the new ids back).
        """
        obj = existing.get(key)
        if obj is None and bulk is not None:
            bulk.append(values)
            self.added[name].add(key)
            return None
        if obj is None:
            obj = model(**values)
            db.session.add(obj)
            existing[key] = obj
            self.added[name].add(id(obj))
            return obj
        if self.is_kept(name, obj):
            return obj
        changed = {k: v for k, v in values.items() if getattr(obj, k) != v}
        if changed:
            before = {k: _plain(getattr(obj, k)) for k in changed}
            for k, v in changed.items():
                setattr(obj, k, v)
            if id(obj) not in self.added[name]:
                self.updated[name].add(id(obj))
                # An admin's edit that the files reset is visible in the audit trail.
                record_audit(
                    action="update",
                    entity=obj,
                    before=before,
                    after={k: _plain(v) for k, v in changed.items()},
                    summary="Reset from the reference data files (tracker reference load)",
                )
        return obj

    def count(self, name: str) -> tuple[int, int]:
        return len(self.added[name]), len(self.updated[name])


def _by(model: Any, *keys: str) -> dict:
    rows = db.session.scalars(select(model)).all()
    if len(keys) == 1:
        return {getattr(r, keys[0]): r for r in rows}
    return {tuple(getattr(r, k) for k in keys): r for r in rows}


def load_reference(data_dir: str | Path | None = None) -> LoadCounts:
    """Validate, then upsert the reference data; flush, never commit.

    Returns {table: (added, updated)} (a LoadCounts, whose `kept` counts the rows left as an
    administrator edited them). Raises ReferenceDataError (nothing written) when a file is
    invalid.
    """
    parsed = parse_reference(data_dir)
    w = _Writer()
    session = db.session
    with session.no_autoflush:
        # Jurisdictions: states, then systems.
        jurisdictions = _by(Jurisdiction, "code")
        for code, values in {**parsed.states, **parsed.systems}.items():
            w.upsert("jurisdictions", Jurisdiction, jurisdictions, code, values)
        session.flush()
        jid = {code: j.id for code, j in jurisdictions.items()}

        memberships = _by(SystemMembership, "system_id", "state_id")
        new_rows: list[dict] = []
        for (system, state), values in parsed.memberships.items():
            key = (jid[system], jid[state])
            w.upsert(
                "memberships",
                SystemMembership,
                memberships,
                key,
                {"system_id": key[0], "state_id": key[1], **values},
                bulk=new_rows,
            )
        if new_rows:
            session.execute(insert(SystemMembership.__table__), new_rows)

        # Instruments in two passes: rows first, then the links between them.
        instruments = _by(Instrument, "code")
        links = ("parent_code", "complaint_via_code", "line")
        for code, values in parsed.instruments.items():
            plain = {k: v for k, v in values.items() if k not in (*links, "system_code")}
            plain["system_id"] = jid.get(values["system_code"]) if values["system_code"] else None
            w.upsert("instruments", Instrument, instruments, code, plain)
        session.flush()
        iid = {code: i.id for code, i in instruments.items()}
        for code, values in parsed.instruments.items():
            w.upsert(
                "instruments",
                Instrument,
                instruments,
                code,
                {
                    "parent_id": iid.get(values["parent_code"]),
                    "complaint_via_id": iid.get(values["complaint_via_code"]),
                },
            )

        provisions = _by(Provision, "instrument_id", "number")
        for (instrument, number), values in parsed.provisions.items():
            key = (iid[instrument], number)
            w.upsert("provisions", Provision, provisions, key, {"instrument_id": key[0], **values})

        rights = _by(Right, "code")
        for code, values in parsed.rights.items():
            plain = {k: v for k, v in values.items() if k not in ("parent_code", "line")}
            w.upsert("rights", Right, rights, code, plain)
        session.flush()
        for code, values in parsed.rights.items():
            parent = rights[values["parent_code"]].id if values["parent_code"] else None
            w.upsert("rights", Right, rights, code, {"parent_id": parent})

        # The crosswalk only grows: a pair an admin removed in the app comes back on reload,
        # a pair an admin added stays.
        existing_pairs = set(
            session.execute(select(provision_rights.c.provision_id, provision_rights.c.right_id))
        )
        new_pairs = []
        for instrument, number, right in sorted(parsed.crosswalk):
            provision = provisions[(iid[instrument], number)]
            if provision.edited_at is not None:
                continue  # an administrator decided this provision's rights
            pair = (provision.id, rights[right].id)
            if pair not in existing_pairs:
                existing_pairs.add(pair)
                new_pairs.append({"provision_id": pair[0], "right_id": pair[1]})
                session.expire(provision, ["rights"])
        w.added["crosswalk"] = set(range(len(new_pairs)))
        if new_pairs:
            session.execute(insert(provision_rights), new_pairs)

        forums = _by(Forum, "code")
        for code, values in parsed.forums.items():
            plain = {k: v for k, v in values.items() if not k.endswith("_code")}
            plain["jurisdiction_id"] = jid[values["jurisdiction_code"]]
            plain["instrument_id"] = iid.get(values["instrument_code"])
            w.upsert("forums", Forum, forums, code, plain)

        ratifications = _by(Ratification, "instrument_id", "jurisdiction_id")
        new_rows = []
        for (instrument, state), values in parsed.ratifications.items():
            key = (iid[instrument], jid[state])
            w.upsert(
                "ratifications",
                Ratification,
                ratifications,
                key,
                {"instrument_id": key[0], "jurisdiction_id": key[1], **values},
                bulk=new_rows,
            )
        if new_rows:
            session.execute(insert(Ratification.__table__), new_rows)

    counts = LoadCounts(
        {
            name: w.count(name)
            for name in (
                "jurisdictions",
                "memberships",
                "instruments",
                "provisions",
                "rights",
                "crosswalk",
                "forums",
                "ratifications",
            )
        },
        kept={name: len(w.kept[name]) for name in ("instruments", "provisions", "rights")},
    )
    if any(added or updated for added, updated in counts.values()):
        after: dict[str, Any] = {
            name: {"added": a, "updated": u} for name, (a, u) in counts.items()
        }
        if any(counts.kept.values()):
            after["kept_edited_by_admin"] = counts.kept
        record_audit(
            action="reference_load",
            entity_type="reference_data",
            after=after,
            summary="Reference data loaded from the shipped files",
        )
    session.flush()
    return counts
