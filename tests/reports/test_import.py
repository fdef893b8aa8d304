"""CSV import: round trip, row/column errors with nothing written, dry run, idempotence, limits."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import delete, func, select

from tests.reports.helpers import C, make_world
from tracker.audit.models import AuditEntry
from tracker.cases.models import Case, Proceeding
from tracker.reports.importer import import_cases
from tracker.types import Role


@pytest.fixture()
def world(factory, db):
    return make_world(factory, db)


def _count(db, model=Case) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _state(db) -> dict:
    """Everything the import carries, per case, in comparable form."""
    out = {}
    for case in db.session.scalars(select(Case)):
        out[(case.lead_organisation.name, case.reference)] = {
            "title": case.title,
            "case_type": case.case_type,
            "confidentiality": case.confidentiality,
            "status": case.status,
            "outcome": case.outcome,
            "jurisdiction": case.jurisdiction.code,
            "opened_on": case.opened_on,
            "summary": case.summary,
            "strategic_aim": case.strategic_aim,
            "arguments": case.arguments,
            "rights": sorted(r.code for r in case.rights),
            "provisions": sorted(p.code for p in case.provisions),
            "partners": sorted(o.name for o in case.partners),
            "proceedings": [
                (
                    p.position,
                    p.forum.code,
                    p.reference,
                    p.filed_on,
                    p.decided_on,
                    p.status,
                    p.outcome,
                    p.ecli,
                    p.notes,
                    sorted(
                        (t.provision.code if t.provision else t.right.code, t.treatment)
                        for t in p.treatments
                    ),
                )
                for p in case.proceedings
            ],
        }
    return out


def test_round_trip_export_then_import_into_an_empty_database(client, login, world, db):
    # A case this user's organisation leads, with a partner; the exporter is on the team of
    # the restricted one, which never leaves in an export (so it is removed first here).
    db.session.delete(world.cases[C.RESTRICTED])
    db.session.delete(world.cases[C.NETWORK])  # led by another organisation: not importable
    db.session.commit()
    login(world.user)
    cases_csv = client.get("/reports/export?format=csv&audience=organisation").data
    procs_csv = client.get("/reports/export?format=csv&kind=proceedings&audience=organisation").data
    before = _state(db)
    assert len(before) == 2 and all(v["proceedings"] for v in before.values())

    db.session.execute(delete(Case))
    db.session.commit()
    assert _count(db) == 0
    response = client.post(
        "/reports/import",
        data={
            "cases_file": (io.BytesIO(cases_csv), "cases.csv"),
            "proceedings_file": (io.BytesIO(procs_csv), "proceedings.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Import done" in response.get_data(as_text=True)
    db.session.expire_all()
    assert _state(db) == before


def _file(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


HEADER = [
    "reference",
    "lead_organisation",
    "title",
    "case_type",
    "jurisdiction",
    "rights",
    "provisions",
    "opened_on",
    "status",
    "confidentiality",
]


def _good(ref: str, org: str = "") -> list[str]:
    return [
        ref,
        org,
        f"Case {ref}",
        "individual_complaint",
        "GR",
        "liberty",
        "ECHR:5",
        "2024-01-31",
        "pending",
        "network",
    ]


def test_every_bad_row_is_reported_with_line_and_column_and_nothing_is_written(world, db):
    data = _file(
        [
            HEADER,
            _good("OK-1"),  # line 2
            ["BAD-1", "", "T", "individual_complaint", "ZZ", "", "", "", "", ""],  # 3 jurisdiction
            ["BAD-2", "", "T", "individual_complaint", "GR", "flying", "", "", "", ""],  # 4 rights
            ["BAD-3", "", "T", "individual_complaint", "GR", "", "ECHR:99", "31/01/2024", "", ""],
            ["BAD-4", "", "T", "lawsuit", "GR", "", "", "", "won", "secret"],  # 6 enums
            _good("OK-1"),  # 7 duplicate
            _good("BAD-6", "Frontier Law Centre"),  # 8 other org
            ["", "", "", "individual_complaint", "GR", "", "", "", "", ""],  # 9 required
        ]
    )
    cases_before, audit_before = _count(db), _count(db, AuditEntry)
    result = import_cases(actor=world.user, cases_data=data)
    found = {(e.line, e.column) for e in result.errors}
    assert {
        (3, "jurisdiction"),
        (4, "rights"),
        (5, "provisions"),
        (5, "opened_on"),
        (6, "case_type"),
        (6, "status"),
        (6, "confidentiality"),
        (7, "reference"),
        (8, "lead_organisation"),
        (9, "title"),
    } <= found
    assert (9, "reference") not in found  # a reference is optional (a new case each time)
    assert not any(e.line == 2 for e in result.errors)
    reasons = {(e.line, e.column): e.reason for e in result.errors}
    assert "flying" in reasons[(4, "rights")]
    assert "line 2" in reasons[(7, "reference")]
    db.session.rollback()
    assert _count(db) == cases_before and _count(db, AuditEntry) == audit_before


def test_import_page_reports_errors_and_writes_nothing(client, login, world, db):
    login(world.user)
    data = _file(
        [
            HEADER,
            _good("OK-1"),
            ["X", "", "T", "individual_complaint", "GR", "", "", "2024-02-30", "", ""],
        ]
    )
    before = _count(db)
    response = client.post(
        "/reports/import",
        data={"cases_file": (io.BytesIO(data), "c.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was imported" in page and "<td>3</td><td>opened_on</td>" in page
    assert _count(db) == before


def test_dry_run_writes_nothing_and_says_what_would_change(client, login, world, db):
    login(world.user)
    data = _file([HEADER, _good("NEW-1"), _good("NEW-2")])
    before, audits = _count(db), _count(db, AuditEntry)
    response = client.post(
        "/reports/import",
        data={"cases_file": (io.BytesIO(data), "c.csv"), "dry_run": "y"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Dry run: nothing was written" in page and "Line 2: create NEW-1" in page
    assert _count(db) == before and _count(db, AuditEntry) == audits


def test_reimport_changes_nothing_then_an_edit_updates_one_case(world, db):
    data = _file([HEADER, _good("R-1"), _good("R-2")])
    first = import_cases(actor=world.user, cases_data=data)
    db.session.commit()
    assert first.ok and len(first.created) == 2
    versions = dict(db.session.execute(select(Case.reference, Case.version)).tuples().all())
    audits = _count(db, AuditEntry)
    again = import_cases(actor=world.user, cases_data=data)
    db.session.commit()
    assert again.ok and again.created == [] and again.updated == [] and again.unchanged == 2
    assert _count(db, AuditEntry) == audits
    assert dict(db.session.execute(select(Case.reference, Case.version)).tuples().all()) == versions

    changed = _good("R-2")
    changed[2] = "Case R-2, renamed"
    third = import_cases(actor=world.user, cases_data=_file([HEADER, _good("R-1"), changed]))
    db.session.commit()
    assert third.updated == [(3, "R-2")] and third.unchanged == 1
    case = db.session.scalar(select(Case).where(Case.reference == "R-2"))
    assert case.title == "Case R-2, renamed" and case.version == versions["R-2"] + 1
    assert _count(db, AuditEntry) == audits + 1


def test_new_cases_put_the_importer_on_the_team(world, db):
    row = _good("SECRET-1")
    row[-1] = "restricted"
    result = import_cases(actor=world.user, cases_data=_file([HEADER, row]))
    db.session.commit()
    assert result.ok
    case = db.session.scalar(select(Case).where(Case.reference == "SECRET-1"))
    assert [m.user_id for m in case.team] == [world.user.id]
    assert case.lead_organisation_id == world.org.id


def test_cannot_update_a_case_the_importer_may_not_edit(world, db, factory):
    outsider = factory.user(Role.COORDINATOR, organisation=world.other)
    row = _good("REF-restricted", "Asylum Aid Network")
    result = import_cases(actor=outsider, cases_data=_file([HEADER, row]))
    assert [(e.line, e.column) for e in result.errors] == [(2, "reference")]


def test_bom_limits_and_bad_encodings(world, db, app):
    bom = b"\xef\xbb\xbf" + _file([HEADER, _good("BOM-1")])
    assert import_cases(actor=world.user, cases_data=bom, dry_run=True).ok
    latin = _file([HEADER, _good("L-1")]).replace(b"Case", "Caf\xe9".encode("latin-1"))
    result = import_cases(actor=world.user, cases_data=latin)
    assert result.errors[0].line == 2 and "UTF-8" in result.errors[0].reason
    app.config.update(IMPORT_MAX_ROWS=2, IMPORT_MAX_BYTES=10_000)
    try:
        many = import_cases(
            actor=world.user, cases_data=_file([HEADER] + [_good(f"M-{i}") for i in range(3)])
        )
        assert "Too many rows" in many.errors[0].reason and many.errors[0].line == 4
        big = import_cases(actor=world.user, cases_data=b"x" * 10_001)
        assert "too large" in big.errors[0].reason
    finally:
        app.config.pop("IMPORT_MAX_ROWS")
        app.config.pop("IMPORT_MAX_BYTES")
    unknown = import_cases(
        actor=world.user, cases_data=_file([[*HEADER, "colour"], [*_good("U"), "red"]])
    )
    assert [(e.line, e.column) for e in unknown.errors] == [(1, "colour")]
    assert import_cases(actor=world.user, cases_data=b"").errors[0].line == 1


def test_viewers_cannot_import(client, login, world):
    login(world.viewer)
    assert client.get("/reports/import").status_code == 403


def test_cli_import_dry_run_errors_and_success(runner, world, db, tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(_file([HEADER, _good("CLI-1")]))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        _file([HEADER, _good("CLI-2"), ["CLI-3", "", "T", "nope", "GR", "", "", "", "", ""]])
    )
    before = _count(db)
    result = runner.invoke(args=["import", "cases", str(bad), "--as-user", world.user.email])
    assert result.exit_code != 0
    assert f"{bad}:3: case_type" in result.output and "nothing was imported" in result.output
    result = runner.invoke(
        args=["import", "cases", str(good), "--dry-run", "--as-user", world.user.email]
    )
    assert result.exit_code == 0 and "Would create 1" in result.output
    assert _count(db) == before
    result = runner.invoke(args=["import", "cases", str(good), "--as-user", world.user.email])
    assert result.exit_code == 0 and "Created 1" in result.output
    assert _count(db) == before + 1
    result = runner.invoke(args=["import", "cases", str(good), "--as-user", world.viewer.email])
    assert result.exit_code != 0 and "does not allow" in result.output


def test_proceedings_errors_name_their_file_line_and_column(world, db):
    procs = _file(
        [
            [
                "case_reference",
                "position",
                "forum",
                "status",
                "filed_on",
                "decided_on",
                "treatments",
            ],
            ["P-1", "0", "ECTHR", "pending", "2024-01-01", "", "ECHR:5=upheld"],
            ["P-1", "1", "NOPE", "pending", "2024-01-01", "2023-01-01", "ECHR:5=won"],
            ["NO-SUCH", "0", "ECTHR", "pending", "", "", ""],
        ]
    )
    result = import_cases(
        actor=world.user, cases_data=_file([HEADER, _good("P-1")]), proceedings_data=procs
    )
    found = {(e.file, e.line, e.column) for e in result.errors}
    assert found == {
        ("proceedings", 3, "forum"),
        ("proceedings", 3, "decided_on"),
        ("proceedings", 3, "treatments"),
        ("proceedings", 4, "case_reference"),
    }
    db.session.rollback()
    assert _count(db, Proceeding) == 4  # the world's, untouched
