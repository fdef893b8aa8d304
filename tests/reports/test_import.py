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


def _export_rows(client, kind: str = "cases") -> tuple[list[str], list[list[str]]]:
    text = client.get(f"/reports/export?format=csv&kind={kind}&audience=organisation").get_data(
        as_text=True
    )
    rows = list(csv.reader(io.StringIO(text.split("\r\n", 1)[1])))
    return rows[0], rows[1:]


def test_an_update_from_a_stale_version_is_refused_for_that_row(client, login, world, db):
    """Someone edits the case after the export: re-importing an edited export must not
    silently overwrite that edit (DESIGN: edits are checked against a version number)."""
    login(world.user)
    header, rows = _export_rows(client)
    case = world.cases[C.PUBLIC]
    case.summary = "Edited in the tracker after the export"
    db.session.commit()
    assert case.version == 2
    title, ref, version = header.index("title"), header.index("reference"), header.index("version")
    mine = [r for r in rows if r[ref] in ("REF-public", "REF-organisation")]
    line = 2 + next(i for i, r in enumerate(mine) if r[ref] == "REF-public")
    for r in mine:
        r[title] += " (renamed in the file)"
    audits = _count(db, AuditEntry)
    result = import_cases(actor=world.user, cases_data=_file([header, *mine]))
    assert [(e.line, e.column) for e in result.errors] == [(line, "version")]
    assert "version 2 there, 1 in the file" in result.errors[0].reason
    assert result.updated == [] and result.created == []
    db.session.rollback()
    db.session.expire_all()
    assert not db.session.get(Case, case.id).title.endswith("(renamed in the file)")
    assert not world.cases[C.ORGANISATION].title.endswith("(renamed in the file)")
    assert _count(db, AuditEntry) == audits

    # The same file with the current version goes in; unchanged rows never need one.
    for r in mine:
        r[version] = str(db.session.get(Case, int(r[header.index("id")])).version)
    assert import_cases(actor=world.user, cases_data=_file([header, *mine])).ok
    bad = [*mine[0]]
    bad[version] = "two"
    result = import_cases(actor=world.user, cases_data=_file([header, bad]), dry_run=True)
    assert [(e.line, e.column) for e in result.errors] == [(2, "version")]


def test_rows_without_a_reference_create_cases_and_their_export_reimports_unchanged(
    client, login, world, db
):
    data = _file([HEADER, _good(""), _good("")])
    result = import_cases(actor=world.user, cases_data=data)
    db.session.commit()
    assert result.ok and len(result.created) == 2 and result.created[0] == (2, "“Case”")
    new = db.session.scalars(select(Case).where(Case.reference.is_(None))).all()
    assert len(new) == 2 and {c.lead_organisation_id for c in new} == {world.org.id}
    # A file made by hand has no key: importing it again creates two more.
    assert len(import_cases(actor=world.user, cases_data=data).created) == 2
    db.session.rollback()

    # An exported row carries its url, which finds the case again: nothing changes.
    login(world.user)
    header, rows = _export_rows(client)
    ref, url = header.index("reference"), header.index("url")
    mine = [r for r in rows if not r[ref]]
    assert len(mine) == 2
    again = import_cases(actor=world.user, cases_data=_file([header, *mine]))
    assert again.ok and again.created == [] and again.unchanged == 2
    mine[0][header.index("title")] = "Named at last"
    third = import_cases(actor=world.user, cases_data=_file([header, *mine]))
    db.session.commit()
    assert third.updated == [(2, "“Named at last”")] and third.unchanged == 1
    case_id = int(mine[0][url].rsplit("/", 1)[1])
    assert db.session.get(Case, case_id).title == "Named at last"
    assert _count(db) == 4 + 2  # the world's four and the two, never duplicated
    # A url from elsewhere (another deployment) finds nothing: a new case.
    mine[1][url] = "https://elsewhere.example/cases/1"
    assert len(import_cases(actor=world.user, cases_data=_file([header, mine[1]])).created) == 1
    db.session.rollback()


def test_proceedings_of_a_case_without_reference_follow_its_url(client, login, world, db):
    """Round trip into an empty database of a case that has no reference."""
    case = world.cases[C.PUBLIC]
    case.reference = None
    db.session.delete(world.cases[C.RESTRICTED])
    db.session.delete(world.cases[C.NETWORK])
    db.session.delete(world.cases[C.ORGANISATION])
    db.session.commit()
    login(world.user)
    cases_csv = client.get("/reports/export?format=csv&audience=organisation").data
    procs_csv = client.get("/reports/export?format=csv&kind=proceedings&audience=organisation").data
    db.session.execute(delete(Case))
    db.session.commit()
    result = import_cases(actor=world.user, cases_data=cases_csv, proceedings_data=procs_csv)
    db.session.commit()
    assert result.ok, result.errors
    assert len(result.created) == 1 and result.proceedings_created == 1
    new = db.session.scalars(select(Case)).one()
    assert new.reference is None and [p.reference for p in new.proceedings] == ["123/public"]


@pytest.mark.parametrize(
    ("status", "outcome", "column"),
    [("pending", "win", "outcome"), ("planned", "loss", "outcome"), ("filed", "", None)],
)
def test_an_outcome_needs_a_decided_status(world, db, status, outcome, column):
    row = _good("OUT-1")
    row[HEADER.index("status")] = status
    result = import_cases(
        actor=world.user, cases_data=_file([[*HEADER, "outcome"], [*row, outcome]])
    )
    if column is None:
        assert result.ok
        return
    assert [(e.line, e.column) for e in result.errors] == [(2, column)]
    assert "needs a decision" in result.errors[0].reason
    db.session.rollback()
    assert db.session.scalar(select(Case).where(Case.reference == "OUT-1")) is None


def test_an_outcome_needs_a_decided_status_against_the_case_as_it_is(world, db):
    """Only the status in the file: checked against the case's current (decided, win) outcome."""
    row = _good("REF-public")  # status pending, no outcome column; the case has won
    result = import_cases(actor=world.user, cases_data=_file([HEADER, row]))
    assert [(e.line, e.column) for e in result.errors] == [(2, "status")]


def test_a_proceeding_outcome_needs_a_decided_status(world, db):
    procs = _file(
        [
            ["case_reference", "position", "forum", "status", "outcome"],
            ["P-1", "0", "ECTHR", "pending", "win"],
            ["P-1", "1", "ECTHR", "decided", "win"],
        ]
    )
    result = import_cases(
        actor=world.user, cases_data=_file([HEADER, _good("P-1")]), proceedings_data=procs
    )
    assert [(e.file, e.line, e.column) for e in result.errors] == [("proceedings", 2, "outcome")]


def test_cli_import_without_as_user_runs_as_the_operator(runner, world, db, tmp_path):
    """DESIGN's `tracker import cases FILE.csv [--dry-run]`: no --as-user needed."""
    path = tmp_path / "cases.csv"
    path.write_bytes(_file([HEADER, _good("OP-1", "Frontier Law Centre"), _good("OP-2")]))
    result = runner.invoke(args=["import", "cases", str(path)])
    # Two organisations in the network: a row must say which one leads it.
    assert result.exit_code != 0
    assert f"{path}:3: lead_organisation" in result.output and "--as-user" in result.output
    path.write_bytes(
        _file([HEADER, _good("OP-1", "Frontier Law Centre"), _good("OP-2", "Asylum Aid Network")])
    )
    result = runner.invoke(args=["import", "cases", str(path), "--dry-run"])
    assert result.exit_code == 0 and "Would create 2" in result.output
    result = runner.invoke(args=["import", "cases", str(path)])
    assert result.exit_code == 0, result.output
    cases = {
        c.reference: c for c in db.session.scalars(select(Case).where(Case.reference.like("OP-%")))
    }
    assert cases["OP-1"].lead_organisation_id == world.other.id and cases["OP-1"].team == []
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.entity_id == str(cases["OP-1"].id))
    )
    assert entry.user_id is None and entry.summary == "CSV import (command line)"
    restricted = _good("OP-3", "Asylum Aid Network")
    restricted[HEADER.index("confidentiality")] = "restricted"
    path.write_bytes(_file([HEADER, restricted]))
    result = runner.invoke(args=["import", "cases", str(path)])
    assert result.exit_code != 0 and ":2: confidentiality" in result.output


def test_import_refreshes_opportunities_for_the_cases_it_writes(factory, db):
    """A win imported from CSV shows in the opportunities, as one entered on the form does."""
    from tests.patterns.conftest import build_world
    from tracker.patterns.models import Opportunity
    from tracker.taxonomy.models import Right

    world = build_world(factory)
    db.session.info.pop("defer_opportunities", None)

    def opportunities():
        return set(
            db.session.execute(
                select(Right.code, Opportunity.target_jurisdiction_id).join(
                    Right, Right.id == Opportunity.right_id
                )
            ).tuples()
        )

    before = opportunities()
    fr = world.j["FR"].id
    assert ("liberty", fr) not in before  # no liberty win outside FR binds FR yet
    user = world.u["outsider"]
    cases = _file(
        [
            ["reference", "title", "case_type", "jurisdiction", "rights", "provisions"],
            ["IMP-DE", "A v. Germany", "individual_complaint", "DE", "liberty", "ECHR:5"],
        ]
    )
    procs = _file(
        [
            ["case_reference", "forum", "status", "outcome", "filed_on", "decided_on"],
            ["IMP-DE", "DE-BVERFG", "decided", "win", "2023-03-01", "2024-05-01"],
        ]
    )
    result = import_cases(actor=user, cases_data=cases, proceedings_data=procs)
    assert result.ok, result.errors
    db.session.commit()  # the before-commit hook refreshes the imported cases
    assert ("liberty", fr) in opportunities() - before


def test_import_statements_do_not_grow_with_the_rows(world, db):
    """Bulk writes: the number of SQL statements depends on the file's chunks, not its rows."""
    from sqlalchemy import event

    def statements(n: int, prefix: str) -> int:
        count = []
        listener = lambda *_a: count.append(1)  # noqa: E731
        data = _file([HEADER] + [_good(f"{prefix}-{i}") for i in range(n)])
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            result = import_cases(actor=world.user, cases_data=data)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert result.ok and len(result.created) == n
        db.session.commit()
        return len(count)

    # A first import makes the pattern totals' rows for these values (one INSERT more); the
    # two measured ones then only update them, whatever their size.
    statements(3, "WARM")
    few, many = statements(10, "FEW"), statements(400, "MANY")
    assert many == few, (few, many)


def test_a_case_saved_between_the_check_and_the_write_is_not_overwritten(
    runner, world, db, tmp_path, monkeypatch
):
    """Someone saves a case after the import compared it with the file but before the import
    writes it (on PostgreSQL nothing locks the row in between): the UPDATE checks the version
    itself, so their edit stays, the row is reported, and nothing of the file is written."""
    from sqlalchemy import update

    from tracker.reports import importer

    assert import_cases(actor=world.user, cases_data=_file([HEADER, _good("V-1"), _good("V-2")]))
    db.session.commit()
    v2 = db.session.scalar(select(Case).where(Case.reference == "V-2"))
    v2_id, v2_version = v2.id, v2.version
    audits, cases = _count(db, AuditEntry), _count(db)
    rows = [HEADER, _good("V-1"), _good("V-2"), _good("V-NEW")]
    rows[1][2], rows[2][2] = "V-1 renamed by the file", "V-2 renamed by the file"
    path = tmp_path / "edit.csv"
    path.write_bytes(_file(rows))
    checked = importer._current_cases

    def someone_saves_v2_meanwhile(ids):
        current = checked(ids)  # what the import compares the file with ...
        db.session.execute(  # ... then a form save of V-2 commits (a version_id_col save)
            update(Case)
            .where(Case.id == v2_id)
            .values(summary="Saved by a colleague", version=Case.version + 1)
        )
        db.session.commit()
        return current

    monkeypatch.setattr(importer, "_current_cases", someone_saves_v2_meanwhile)
    result = runner.invoke(args=["import", "cases", str(path), "--as-user", world.user.email])
    assert result.exit_code != 0
    assert f"{path}:3: version: Someone saved this case while the file" in result.output
    assert ":2:" not in result.output and ":4:" not in result.output
    db.session.expire_all()
    titles = dict(db.session.execute(select(Case.reference, Case.title)).tuples().all())
    assert titles["V-1"] == "Case V-1" and titles["V-2"] == "Case V-2"  # nothing of the file
    assert "V-NEW" not in titles and _count(db) == cases
    saved = db.session.get(Case, v2_id)
    assert saved.summary == "Saved by a colleague" and saved.version == v2_version + 1
    assert _count(db, AuditEntry) == audits

    # Imported again, the file applies to the case as it is now.
    monkeypatch.undo()
    result = runner.invoke(args=["import", "cases", str(path), "--as-user", world.user.email])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    saved = db.session.get(Case, v2_id)
    assert saved.title == "V-2 renamed by the file" and saved.summary == "Saved by a colleague"
    assert saved.version == v2_version + 2
