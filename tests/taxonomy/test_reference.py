"""The reference-data loader: what it loads, that it is idempotent, and that it refuses bad files.

Expected numbers are counted here from the shipped files with plain `csv`, not with the
loader's code, so a loader that skips or double-counts rows fails.
"""

from __future__ import annotations

import csv
import re
import shutil
from datetime import date
from pathlib import Path

import pycountry
import pytest
from sqlalchemy import func, select

from tracker.audit.models import AuditEntry
from tracker.taxonomy.models import (
    Forum,
    Instrument,
    Jurisdiction,
    JurisdictionKind,
    Provision,
    Ratification,
    Right,
    SystemMembership,
    provision_rights,
)
from tracker.taxonomy.reference import DATA_DIR, ReferenceDataError, load_reference

CORE_TREATIES = ("ICCPR", "ICESCR", "CAT", "CRC", "ICERD", "CEDAW", "CRPD", "CPED", "ICRMW")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TABLES = (Jurisdiction, SystemMembership, Instrument, Provision, Right, Forum, Ratification)


# --- helpers ------------------------------------------------------------------------------
def ohchr_states(code: str) -> list[list[str]]:
    """The state rows of an OHCHR export: after the title and header, before the footer."""
    path = DATA_DIR / "ohchr-2020" / f"{code}_OHCHR_2020-09.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[2:]
    return [
        r
        for r in rows
        if r
        and r[0].strip()
        and r[0] != "European Union"
        and not r[0].startswith(("Definitions and metadata", "Source:"))
    ]


def un_parties(stem: str) -> set[str]:
    path = DATA_DIR / "un-2022" / f"{stem}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return {r["iso2"] for r in csv.DictReader(handle) if r["state party"] == "1"}


def instrument(db, code: str) -> Instrument:
    return db.session.scalars(select(Instrument).where(Instrument.code == code)).one()


def ratifications(db, code: str) -> list[Ratification]:
    return list(
        db.session.scalars(
            select(Ratification).join(Ratification.instrument).where(Instrument.code == code)
        )
    )


def row_counts(db) -> dict[str, int]:
    counts = {
        m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) for m in TABLES
    }
    counts["provision_rights"] = db.session.scalar(
        select(func.count()).select_from(provision_rights)
    )
    counts["audit_entries"] = db.session.scalar(select(func.count()).select_from(AuditEntry))
    return counts


def line_of(path: Path, text: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def corrupt(path: Path, old: str, new: str) -> int:
    """Replace the first line containing `old` (once) and return that line's number."""
    number = line_of(path, old)
    raw = path.read_bytes().decode("utf-8")
    lines = raw.splitlines(keepends=True)
    lines[number - 1] = lines[number - 1].replace(old, new, 1)
    path.write_bytes("".join(lines).encode("utf-8"))
    return number


@pytest.fixture()
def broken_dir(tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


# --- what is loaded -----------------------------------------------------------------------
@pytest.mark.parametrize("code", CORE_TREATIES)
def test_core_treaty_parties_and_complaints_match_ohchr_file(db, reference_data, code):
    rows = ohchr_states(code)
    ratified = sum(1 for r in rows if ISO_DATE.match(r[2].strip()))
    complaints = sum(1 for r in rows if ISO_DATE.match(r[3].strip()))
    loaded = ratifications(db, code)
    assert sum(1 for r in loaded if r.ratified_on is not None) == ratified
    assert sum(1 for r in loaded if r.complaints_accepted_on is not None) == complaints
    assert {r.source for r in loaded} == {"OHCHR 2020-09"}


def test_iccpr_numbers_and_dates(db, reference_data):
    rows = ohchr_states("ICCPR")
    assert sum(1 for r in rows if r[2]) == 173  # the shipped file, as read by a person
    albania = next(r for r in rows if r[0] == "Albania")
    ratification = db.session.scalars(
        select(Ratification)
        .join(Ratification.instrument)
        .join(Ratification.jurisdiction)
        .where(Instrument.code == "ICCPR", Jurisdiction.code == "AL")
    ).one()
    assert ratification.ratified_on == date.fromisoformat(albania[2])
    assert ratification.complaints_accepted_on == date.fromisoformat(albania[3])
    assert ratification.is_party


def test_source_slips_are_corrected_not_loaded(db, reference_data):
    bahamas = next(
        r for r in ratifications(db, "CEDAW") if r.jurisdiction.code == "BS"
    )  # "1.0" in the source's complaints column
    assert bahamas.ratified_on == date(1993, 10, 6)
    assert bahamas.complaints_accepted_on is None
    assert "1.0" in bahamas.note
    assert "EU" not in {r.jurisdiction.code for r in ratifications(db, "CRPD")}


@pytest.mark.parametrize(
    ("code", "stem"),
    [
        ("ICCPR-OP1", "hr_status_iccpr_op1"),
        ("OP-CEDAW", "hr_status_op_cedaw"),
        ("OP-CRC-IC", "hr_status_op_crc_ic"),
        ("OP-CRPD", "hr_status_op_crpd"),
        ("ICESCR-OP", "hr_status_icescr_op"),
        ("OP-CAT", "hr_status_opcat"),
    ],
)
def test_optional_protocols_from_un_2022(db, reference_data, code, stem):
    fixes = {"S": "SS", "TP": "TL"}
    expected = {fixes.get(c, c) for c in un_parties(stem)}
    loaded = ratifications(db, code)
    assert {r.jurisdiction.code for r in loaded} == expected
    assert all(r.ratified_year and r.ratified_on is None for r in loaded)
    assert {r.source for r in loaded} == {"UNTC 2022"}


def test_un_2022_wrong_codes_are_fixed(db, reference_data):
    op2 = {r.jurisdiction.code for r in ratifications(db, "ICCPR-OP2")}
    assert "TL" in op2  # "TP" in the source
    codes = set(db.session.scalars(select(Jurisdiction.code)))
    assert not {"TP", "S"} & codes


def _members(db, system: str) -> set[str]:
    state = Jurisdiction.__table__.alias("state")
    stmt = (
        select(state.c.code)
        .select_from(SystemMembership)
        .join(state, state.c.id == SystemMembership.state_id)
        .join(Jurisdiction, Jurisdiction.id == SystemMembership.system_id)
        .where(Jurisdiction.code == system)
    )
    return set(db.session.scalars(stmt))


def test_un_has_193_members(db, reference_data):
    members = _members(db, "UN")
    assert len(members) == 193
    assert {"SS", "TL", "NA", "GA"} <= members
    assert not {"MS", "PS", "VA", "TW"} & members


def test_regional_memberships(db, reference_data):
    assert len(_members(db, "COE")) == 47  # 46 and Russia, with left_on
    russia = db.session.scalars(
        select(SystemMembership)
        .join(SystemMembership.state)
        .where(Jurisdiction.code == "RU", SystemMembership.system.has(code="COE"))
    ).one()
    assert russia.left_on == date(2022, 3, 16)
    assert len(_members(db, "AFR")) == 55


def test_echr_has_46_parties_and_russia_denounced(db, reference_data):
    rows = ratifications(db, "ECHR")
    assert sum(1 for r in rows if r.is_party) == 46
    russia = next(r for r in rows if r.jurisdiction.code == "RU")
    assert not russia.is_party
    assert russia.denounced_on == date(2022, 9, 16)


def test_achr_has_23_parties(db, reference_data):
    rows = ratifications(db, "ACHR")
    assert sum(1 for r in rows if r.is_party) == 23
    assert {r.jurisdiction.code for r in rows if not r.is_party} == {"TT", "VE"}


def test_soft_law_provisions(db, reference_data):
    assert len(instrument(db, "GCM").provisions) == 23
    principles = instrument(db, "PRINCIPLES-14").provisions
    assert [p.number for p in principles] == [str(n) for n in range(1, 15)]
    assert sum(p.placeholder for p in principles) == 8
    assert [p.code for p in principles[:2]] == ["PRINCIPLES-14:1", "PRINCIPLES-14:2"]


def test_liberty_articles_map_to_the_same_right(db, reference_data):
    for code in ("ECHR:5", "ICCPR:9"):
        provision = db.session.scalars(select(Provision).where(Provision.code == code)).one()
        assert "liberty" in {r.code for r in provision.rights}
    with (DATA_DIR / "crosswalk.csv").open(newline="", encoding="utf-8") as handle:
        pairs = sum(1 for _ in csv.DictReader(handle))
    assert db.session.scalar(select(func.count()).select_from(provision_rights)) == pairs


def test_instruments_rights_and_forums_are_linked(db, reference_data):
    iccpr = instrument(db, "ICCPR")
    assert iccpr.complaint_via.code == "ICCPR-OP1"
    assert instrument(db, "ICCPR-OP1").parent is iccpr
    assert iccpr.system.code == "UN"
    assert instrument(db, "ECHR").provisions[0].code == "ECHR:2"
    liberty = db.session.scalars(select(Right).where(Right.code == "liberty")).one()
    assert liberty.parent.code == "liberty-and-movement"
    ecthr = db.session.scalars(select(Forum).where(Forum.code == "ECTHR")).one()
    assert (ecthr.jurisdiction.code, ecthr.filing_limit_months) == ("COE", 4)


def test_jurisdictions(db, reference_data):
    by_code = {j.code: j for j in db.session.scalars(select(Jurisdiction))}
    assert by_code["BO"].name == "Bolivia"
    assert by_code["IR"].name == "Iran"
    assert by_code["TW"].name == "Taiwan"
    assert (by_code["FR"].iso3, by_code["FR"].numeric) == ("FRA", "250")
    assert (by_code["FR"].region, by_code["FR"].subregion) == ("Europe", "Western Europe")
    assert by_code["NA"].name == "Namibia"
    assert by_code["COE"].kind == JurisdictionKind.SYSTEM
    assert by_code["FR"].kind == JurisdictionKind.STATE
    assert "XK" not in by_code  # no file uses Kosovo


# --- idempotence and upsert ---------------------------------------------------------------
def test_second_load_changes_nothing(db, reference_data):
    assert all(added > 0 for added, _ in reference_data.values())
    before = row_counts(db)
    counts = load_reference()
    db.session.commit()
    assert counts == dict.fromkeys(reference_data, (0, 0))
    assert row_counts(db) == before


def test_reload_resets_edited_rows_and_keeps_added_ones(db, reference_data):
    france = db.session.scalars(select(Jurisdiction).where(Jurisdiction.code == "FR")).one()
    france.name = "Gaul"
    echr5 = db.session.scalars(select(Provision).where(Provision.code == "ECHR:5")).one()
    echr5.rights = []
    db.session.add(Right(code="admin-added", name="Added in the app"))
    db.session.commit()

    counts = load_reference()
    db.session.commit()

    assert counts["jurisdictions"] == (0, 1)
    with (DATA_DIR / "crosswalk.csv").open(newline="", encoding="utf-8") as handle:
        echr5_pairs = [
            r
            for r in csv.DictReader(handle)
            if (r["instrument_code"], r["provision_number"]) == ("ECHR", "5")
        ]
    assert counts["crosswalk"] == (len(echr5_pairs), 0)
    assert counts["rights"] == (0, 0)
    db.session.expire_all()
    assert france.name == "France"
    assert "liberty" in {r.code for r in echr5.rights}
    assert db.session.scalars(select(Right).where(Right.code == "admin-added")).one()
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "jurisdictions")
    ).one()
    assert (entry.before, entry.after) == ({"name": "Gaul"}, {"name": "France"})


# --- validation ---------------------------------------------------------------------------
def _break_provisions(d: Path) -> tuple[str, int, str]:
    line = corrupt(d / "provisions.csv", "ECHR,5,", "ECHX,5,")
    return "provisions.csv", line, "unknown instrument 'ECHX'"


def _break_date(d: Path) -> tuple[str, int, str]:
    line = corrupt(d / "ratifications_regional.csv", "1996-01-22", "1996-02-30")
    return "ratifications_regional.csv", line, "bad date '1996-02-30' in ratified_on"


def _break_country_name(d: Path) -> tuple[str, int, str]:
    line = corrupt(d / "ohchr-2020" / "ICCPR_OHCHR_2020-09.csv", "Albania,", "Albanya,")
    return "ohchr-2020/ICCPR_OHCHR_2020-09.csv", line, "unknown country name 'Albanya'"


def _break_column_count(d: Path) -> tuple[str, int, str]:
    line = corrupt(d / "crosswalk.csv", "ECHR,3,torture", "ECHR,3,torture,extra")
    return "crosswalk.csv", line, "expected 3 columns, found 4"


def _break_missing_column(d: Path) -> tuple[str, int, str]:
    corrupt(d / "forums.csv", "filing_limit_months", "filing_limit")
    return "forums.csv", 1, "missing column(s): filing_limit_months"


def _break_duplicate(d: Path) -> tuple[str, int, str]:
    line = corrupt(d / "rights.csv", "asylum,protection,", "non-refoulement,protection,")
    return "rights.csv", line, "duplicate right code"


def _break_un_code(d: Path) -> tuple[str, int, str]:
    line = corrupt(d / "un-2022" / "hr_status_op_cedaw.csv", "AL,Albania", "ZZ,Albania")
    return "un-2022/hr_status_op_cedaw.csv", line, "unknown country code 'ZZ'"


def _break_reference(d: Path) -> tuple[str, int, str]:
    line = corrupt(d / "forums.csv", "ECTHR,European Court of Human Rights,COE,", "ECTHR,X,CoE,")
    return "forums.csv", line, "unknown country code 'CoE'"


BREAKAGES = [
    _break_provisions,
    _break_date,
    _break_country_name,
    _break_column_count,
    _break_missing_column,
    _break_duplicate,
    _break_un_code,
    _break_reference,
]


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda f: f.__name__[7:])
def test_malformed_file_is_refused_and_nothing_is_written(db, broken_dir, breakage):
    file, line, reason = breakage(broken_dir)
    before = row_counts(db)
    with pytest.raises(ReferenceDataError) as info:
        load_reference(data_dir=broken_dir)
    assert f"{file} line {line}: {reason}" in str(info.value)
    # The root cause comes first (files are read in dependency order); rows that refer
    # to the broken one may follow.
    assert str(info.value.problems[0]).startswith(f"{file} line {line}: {reason}")
    # Nothing pending either: validation finished before the session was touched.
    assert not (db.session.new or db.session.dirty or db.session.deleted)
    db.session.commit()
    assert row_counts(db) == before


def test_broken_file_leaves_a_loaded_database_as_it_was(db, reference_data, broken_dir):
    # A change that would be an update, plus an error in the last file read.
    corrupt(
        broken_dir / "instruments.csv",
        "International Covenant on Civil and Political Rights",
        "Changed",
    )
    _break_date(broken_dir)
    before = row_counts(db)
    with pytest.raises(ReferenceDataError, match=r"ratifications_regional\.csv line"):
        load_reference(data_dir=broken_dir)
    db.session.commit()
    db.session.expire_all()
    assert row_counts(db) == before
    assert instrument(db, "ICCPR").title == "International Covenant on Civil and Political Rights"


def test_every_problem_is_reported(db, broken_dir):
    _break_provisions(broken_dir)
    _break_date(broken_dir)
    with pytest.raises(ReferenceDataError) as info:
        load_reference(data_dir=broken_dir)
    message = str(info.value)
    assert "provisions.csv line" in message
    assert "ratifications_regional.csv line" in message


def test_missing_file_is_named(db, broken_dir):
    (broken_dir / "forums.csv").unlink()
    with pytest.raises(ReferenceDataError, match=r"^forums\.csv: file is missing$"):
        load_reference(data_dir=broken_dir)


# --- command line -------------------------------------------------------------------------
def test_cli_loads_and_reports_counts(db, runner):
    result = runner.invoke(args=["reference", "load"])
    assert result.exit_code == 0, result.output
    states_and_systems = len(pycountry.countries) + 5
    assert f"jurisdictions: {states_and_systems} added, 0 updated" in result.output
    assert re.search(r"ratifications: [1-9]\d* added, 0 updated", result.output)
    assert db.session.scalar(select(func.count()).select_from(Ratification)) > 2000

    again = runner.invoke(args=["reference", "load"])
    assert again.exit_code == 0, again.output
    lines = again.output.strip().splitlines()
    assert len(lines) == 8
    assert all(line.endswith(": 0 added, 0 updated") for line in lines)


def test_cli_with_broken_data_dir_fails_with_file_and_line(db, runner, broken_dir):
    _, line, _ = _break_provisions(broken_dir)
    result = runner.invoke(args=["reference", "load", "--data-dir", str(broken_dir)])
    assert result.exit_code != 0
    assert f"provisions.csv line {line}: unknown instrument 'ECHX'" in result.output
    assert db.session.scalar(select(func.count()).select_from(Jurisdiction)) == 0


# --- the countries JSON file --------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("[1, 2]", "entry 1 is not an object of country fields (found the number 1)"),
        ('["FR"]', "entry 1 is not an object of country fields (found the text 'FR')"),
        ("[[1]]", "entry 1 is not an object of country fields (found a list)"),
        ('[{"alpha-2": "AF"}, null]', "entry 2 is not an object of country fields (found null)"),
        ('{"alpha-2": "FR"}', "not a JSON list of countries (found an object)"),
        ('[{"name": "France"}]', "entry 1 has no 'alpha-2' code"),
        (
            '[{"alpha-2": 250}]',
            "entry 1: 'alpha-2' is not a two-letter code (found the number 250)",
        ),
        (
            '[{"alpha-2": "FR", "region": 150}]',
            "entry 1 (FR): 'region' is not a text (found the number 150)",
        ),
        (
            '[{"alpha-2": "FR", "sub-region": "' + "x" * 61 + '"}]',
            "entry 1 (FR): 'sub-region' is longer than 60 characters",
        ),
        (
            "[{",
            "not valid JSON at line 1 column 3 (Expecting property name enclosed in double quotes)",
        ),
    ],
    ids=[
        "numbers",
        "strings",
        "lists",
        "null",
        "object",
        "no-code",
        "code-not-text",
        "region-not-text",
        "too-long",
        "bad-json",
    ],
)
def test_countries_file_with_bad_entries_is_refused_with_the_entry(db, broken_dir, content, reason):
    (broken_dir / "countries_iso3166_m49.json").write_text(content, encoding="utf-8")
    before = row_counts(db)
    with pytest.raises(ReferenceDataError) as info:
        load_reference(data_dir=broken_dir)
    assert str(info.value.problems[0]) == f"countries_iso3166_m49.json: {reason}"
    assert not (db.session.new or db.session.dirty or db.session.deleted)
    db.session.commit()
    assert row_counts(db) == before


def test_cli_reports_a_bad_countries_entry_without_a_traceback(db, runner, broken_dir):
    (broken_dir / "countries_iso3166_m49.json").write_text("[1, 2]", encoding="utf-8")
    result = runner.invoke(args=["reference", "load", "--data-dir", str(broken_dir)])
    assert result.exit_code == 1
    assert "countries_iso3166_m49.json: entry 1 is not an object" in result.output
    assert "Traceback" not in result.output and "AttributeError" not in result.output
    assert not isinstance(result.exception, AttributeError)
