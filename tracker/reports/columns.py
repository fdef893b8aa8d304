"""The one CSV/XLSX column layout shared by exports and the import (docs/csv-columns.md).

Each column says whether the import reads it and which export audiences receive it. Columns
the import does not read (ids, URLs, labels, parties) are ignored when a file comes back in,
so an exported file can be edited and re-imported as is.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.types import Confidentiality

C = Confidentiality
ALL = frozenset({C.PUBLIC, C.NETWORK, C.ORGANISATION})
NOT_PUBLIC = frozenset({C.NETWORK, C.ORGANISATION})

# The audiences an export can be made for (restricted records never leave in an export).
AUDIENCES = (C.PUBLIC, C.NETWORK, C.ORGANISATION)

MULTI_SEPARATOR = ";"
LABEL_SEPARATOR = "; "


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    imported: bool = True
    audiences: frozenset[Confidentiality] = ALL
    required: bool = False  # required in an import file (header and value)


CASE_COLUMNS: tuple[Column, ...] = (
    Column("id", "Number of the case in this tracker (export only).", imported=False),
    Column(
        "url",
        "Address of the case page. On import it finds the case again when the row has no "
        "reference.",
    ),
    Column(
        "reference",
        "The lead organisation's own reference. With lead_organisation, the key for updates. "
        "A row without one creates a new case, unless its url is a case of this tracker "
        "(an exported row), which it then updates.",
    ),
    Column(
        "lead_organisation",
        "Name of the lead organisation. Empty: the importing person's organisation.",
    ),
    Column("title", "Title, e.g. “A.B. v. State” (pseudonymised).", required=True),
    Column("case_type", "individual_complaint, class_action, ... (code).", required=True),
    Column("case_type_label", "Name of the case type (export only).", imported=False),
    Column("confidentiality", "public, network, organisation or restricted. Default network."),
    Column("confidentiality_label", "Name of the level (export only).", imported=False),
    Column("status", "planned, filed, pending, decided, on_appeal, closed. Default planned."),
    Column("status_label", "Name of the status (export only).", imported=False),
    Column(
        "outcome",
        "win, partial_win, loss, settled, withdrawn, inadmissible, none_yet. Anything but "
        "none_yet needs the status decided, on_appeal or closed.",
    ),
    Column("outcome_label", "Name of the outcome (export only).", imported=False),
    Column("jurisdiction", "Jurisdiction code (ISO 3166 alpha-2 or a system code).", required=True),
    Column("jurisdiction_label", "Name of the jurisdiction (export only).", imported=False),
    Column("opened_on", "Date the matter was opened, YYYY-MM-DD."),
    Column("rights", "Right codes, separated by ';'."),
    Column("rights_labels", "Names of the rights (export only).", imported=False),
    Column("provisions", "Provision codes such as ECHR:5, separated by ';'."),
    Column("provisions_labels", "Titles of the provisions (export only).", imported=False),
    Column("partners", "Names of partner organisations, separated by ';'."),
    Column("summary", "Summary of the matter."),
    Column("strategic_aim", "Internal strategy (never in public exports).", audiences=NOT_PUBLIC),
    Column("arguments", "Internal arguments (never in public exports).", audiences=NOT_PUBLIC),
    Column(
        "parties",
        "Parties as role: pseudonym, separated by ';' (export only; identities never exported).",
        imported=False,
    ),
    Column(
        "version",
        "Edit version of the case when it was exported. Optional on import: when given, a row "
        "that would change a case edited since (another version now) is refused.",
    ),
)

PROCEEDING_COLUMNS: tuple[Column, ...] = (
    Column("case_id", "Number of the case in this tracker (export only).", imported=False),
    Column(
        "case_url",
        "Address of the case page; finds a case without a reference (in this tracker or in "
        "the cases file's url column).",
    ),
    Column(
        "case_reference",
        "The case's reference (see cases file). Empty: the case is found by case_url.",
    ),
    Column("lead_organisation", "The case's lead organisation (empty: your own)."),
    Column("position", "Order of the proceeding within the case (0, 1, 2 ...); the update key."),
    Column("forum", "Forum code, e.g. ECTHR.", required=True),
    Column("forum_label", "Name of the forum (export only).", imported=False),
    Column("reference", "Docket, application or communication number(s)."),
    Column("filed_on", "YYYY-MM-DD."),
    Column("decided_on", "YYYY-MM-DD (not before filed_on)."),
    Column("status", "planned, filed, pending, decided, on_appeal, closed.", required=True),
    Column("status_label", "Name of the status (export only).", imported=False),
    Column(
        "outcome",
        "win, partial_win, loss, settled, withdrawn, inadmissible, none_yet. Anything but "
        "none_yet needs the status decided, on_appeal or closed.",
    ),
    Column("outcome_label", "Name of the outcome (export only).", imported=False),
    Column("ecli", "European Case Law Identifier, when there is one."),
    Column(
        "treatments",
        "How the forum treated each provision or right: CODE=upheld|rejected|not_reached, "
        "separated by ';' (e.g. ECHR:8=upheld;liberty=rejected).",
    ),
    Column(
        "treatments_labels",
        "The same in words, e.g. “Art. 8 ECHR: Upheld” (export only).",
        imported=False,
    ),
    Column("notes", "Internal notes (never in public exports).", audiences=NOT_PUBLIC),
)


def columns_for(columns: tuple[Column, ...], audience: Confidentiality) -> list[str]:
    """The header of an export for this audience."""
    return [c.name for c in columns if audience in c.audiences]


def imported_names(columns: tuple[Column, ...]) -> set[str]:
    return {c.name for c in columns if c.imported}


def known_names(columns: tuple[Column, ...]) -> set[str]:
    return {c.name for c in columns}


# A spreadsheet treats a cell starting with one of these as a formula (PITFALLS.md).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Prefix ' to a cell a spreadsheet would run as a formula.

    Values that already start with quotes followed by a trigger get one more quote, so that
    unneutralise() gives every value back exactly (import of an exported file).
    """
    if value and value.lstrip("'").startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def markdown_table(columns: tuple[Column, ...]) -> str:
    """The table of docs/csv-columns.md for these columns (a test keeps the two in step)."""
    lines = ["| column | import | public export | meaning |", "|---|---|---|---|"]
    for c in columns:
        imported = "required" if c.required else "yes" if c.imported else "ignored (export only)"
        public = "yes" if C.PUBLIC in c.audiences else "no"
        meaning = c.description.replace("|", "\\|")
        lines.append(f"| `{c.name}` | {imported} | {public} | {meaning} |")
    return "\n".join(lines)
