"""Exports: audience redaction, formula neutralising (CSV and XLSX), formats, permissions."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from tests.reports.helpers import C, make_world
from tracker.reports import exports
from tracker.reports.columns import neutralise, unneutralise
from tracker.types import Role


@pytest.fixture()
def world(factory, db):
    return make_world(factory, db)


def _csv(response) -> tuple[str, list[dict[str, str]]]:
    text = response.get_data(as_text=True)
    first, rest = text.split("\r\n", 1)
    return first, list(csv.DictReader(io.StringIO(rest)))


EXPECTED = {
    "public": {C.PUBLIC},
    "network": {C.PUBLIC, C.NETWORK},
    "organisation": {C.PUBLIC, C.NETWORK, C.ORGANISATION},
}


@pytest.mark.parametrize("audience", ["public", "network", "organisation"])
def test_export_contains_only_what_the_audience_may_see(client, login, world, audience):
    login(world.user)  # this user can see all four cases, the restricted one included
    response = client.get(f"/reports/export?format=csv&audience={audience}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    header, rows = _csv(response)
    assert f"audience: {audience}" in header
    titles = {r["title"] for r in rows}
    assert titles == {world.cases[level].title for level in EXPECTED[audience]}
    text = response.get_data(as_text=True)
    assert "FULLNAME" not in text and "address known" not in text
    assert "Restricted case" not in text
    if audience == "public":
        assert "SECRET-AIM" not in text and "SECRET-ARGS" not in text
        assert "strategic_aim" not in rows[0]
    else:
        assert any(r["strategic_aim"].startswith("SECRET-AIM") for r in rows)


def test_organisation_export_leaves_out_other_organisations_cases_seen_as_team_member(
    client, login, factory, world
):
    """A member of another organisation's case team sees its organisation-level case, but an
    export for their own organisation must not carry it; their own (personal) view still does."""
    outsider = factory.user(Role.LITIGATOR, organisation=factory.organisation("Third Org"))
    guest_case = factory.case(
        organisation=world.cases[C.ORGANISATION].lead_organisation,
        confidentiality=C.ORGANISATION,
        title="GUEST-ORG-CASE",
        team=[outsider],
    )
    login(outsider)
    assert client.get(f"/cases/{guest_case.id}").status_code == 200
    for fmt in ("csv", "json"):
        text = client.get(f"/reports/export?format={fmt}&audience=organisation").get_data(
            as_text=True
        )
        assert "GUEST-ORG-CASE" not in text
        assert world.cases[C.NETWORK].title in text


@pytest.mark.parametrize("audience", ["public", "network", "organisation"])
def test_every_format_respects_the_audience(client, login, world, audience):
    login(world.user)
    js = client.get(f"/reports/export?format=json&audience={audience}")
    doc = json.loads(js.get_data(as_text=True))
    assert doc["audience"] == audience
    assert {c["title"] for c in doc["cases"]} == {
        world.cases[level].title for level in EXPECTED[audience]
    }
    assert "FULLNAME" not in js.get_data(as_text=True)
    procs = client.get(f"/reports/export?format=csv&kind=proceedings&audience={audience}")
    _h, rows = _csv(procs)
    assert {r["reference"] for r in rows} == {f"123/{level.value}" for level in EXPECTED[audience]}
    if audience == "public":
        assert "NOTE-" not in procs.get_data(as_text=True)
    xlsx = client.get(f"/reports/export?format=xlsx&audience={audience}")
    wb = load_workbook(io.BytesIO(xlsx.data))
    assert wb.sheetnames == ["About", "Cases", "Proceedings"]
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows(min_row=2) if len(r) > 1}
    assert about["audience"] == audience
    titles = {r[4].value for r in wb["Cases"].iter_rows(min_row=2)}
    assert titles == {world.cases[level].title for level in EXPECTED[audience]}
    cells = " ".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row)
    assert "FULLNAME" not in cells and "Restricted case" not in cells


def test_export_rows_carry_labels_urls_and_joined_codes(client, login, world, app):
    login(world.user)
    _h, rows = _csv(client.get("/reports/export?format=csv&audience=network"))
    row = next(r for r in rows if r["reference"] == "REF-public")
    case = world.cases[C.PUBLIC]
    assert row["url"] == f"{app.config['TRACKER_BASE_URL']}/cases/{case.id}"
    assert row["rights"] == "liberty;non-refoulement"
    assert row["rights_labels"] == "Liberty and freedom from arbitrary detention; Non-refoulement"
    assert row["provisions"] == "ECHR:3;ECHR:5"
    assert row["partners"] == "Frontier Law Centre"
    assert row["parties"] == "claimant: A.B.-public"
    assert row["jurisdiction"] == "GR" and row["jurisdiction_label"] == "Greece"


def test_export_uses_the_case_list_filters(client, login, world):
    login(world.user)
    _h, rows = _csv(
        client.get(
            "/reports/export?format=csv&audience=organisation&organisation=" + str(world.other.id)
        )
    )
    assert {r["reference"] for r in rows} == {"REF-public", "REF-network"}
    bad = client.get("/reports/export?format=csv&right=no-such-right")
    assert bad.status_code == 400
    assert "Unknown code" in bad.get_data(as_text=True)
    assert client.get("/reports/export?format=pdf").status_code == 400
    assert client.get("/reports/export?format=csv&audience=restricted").status_code == 400


def test_export_needs_a_signed_in_user(client, world):
    response = client.get("/reports/export?format=csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


FORMULAS = [
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "\t=1",
    "-2+3",
    "\r=1",
]


def test_formula_cells_are_neutralised_in_csv_and_xlsx(client, login, factory, db):
    user = factory.user()
    for title in FORMULAS:
        factory.case(organisation=user.organisation, title=title, summary="=1+1")
    login(user)
    _h, rows = _csv(client.get("/reports/export?format=csv&audience=network"))
    assert sorted(r["title"] for r in rows) == sorted("'" + t for t in FORMULAS)
    assert all(r["summary"] == "'=1+1" for r in rows)
    wb = load_workbook(io.BytesIO(client.get("/reports/export?format=xlsx&audience=network").data))
    ws = wb["Cases"]
    header = [c.value for c in ws[1]]
    title_col = header.index("title")
    seen = []
    for row in ws.iter_rows(min_row=2):
        cell = row[title_col]
        assert cell.data_type == "s"
        assert cell.value.startswith("'")
        seen.append(cell.value[1:])
        for other in row:
            # every cell is text (or empty), never a formula
            assert other.value is None or other.data_type == "s"
    assert sorted(seen) == sorted(FORMULAS)


@pytest.mark.parametrize(
    "value", ["=1", "+1", "-1", "@a", "\tx", "\rx", "'=1", "''+x", "plain", "", "'quoted"]
)
def test_neutralise_round_trips(value):
    assert unneutralise(neutralise(value)) == value
    out = neutralise(value)
    assert not out.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_cli_export_writes_every_format(runner, world, tmp_path):
    for fmt in ("csv", "json", "xlsx"):
        out = tmp_path / f"cases.{fmt}"
        result = runner.invoke(
            args=["export", "cases", "--format", fmt, "--audience", "public", "--output", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert out.exists() and out.stat().st_size > 0
    text = (tmp_path / "cases.csv").read_text(encoding="utf-8")
    assert "Public case" in text and "Network case" not in text
    # Without --as-user the command line sees what any member sees: never organisation cases.
    result = runner.invoke(
        args=["export", "cases", "--format", "csv", "--audience", "organisation"]
    )
    assert "Network case" in result.output and "Organisation case" not in result.output
    result = runner.invoke(
        args=["export", "cases", "--audience", "organisation", "--as-user", world.user.email]
    )
    assert "Organisation case" in result.output and "Restricted case" not in result.output
    bad = runner.invoke(args=["export", "cases", "--right", "nope"])
    assert bad.exit_code != 0 and "Unknown code" in bad.output


def test_csv_starts_with_a_byte_order_mark_for_excel(client, login, runner, world, tmp_path):
    login(world.user)
    for kind in ("cases", "proceedings"):
        data = client.get(f"/reports/export?format=csv&kind={kind}").data
        assert data.startswith(b"\xef\xbb\xbf# Litigation tracker export")
    out = tmp_path / "cases.csv"
    assert runner.invoke(args=["export", "cases", "--output", str(out)]).exit_code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf#")


def test_every_code_has_a_readable_label_beside_it(client, login, world):
    login(world.user)
    _h, rows = _csv(client.get("/reports/export?format=csv&audience=network"))
    row = next(r for r in rows if r["reference"] == "REF-public")
    assert (row["case_type"], row["case_type_label"]) == (
        "individual_complaint",
        "Individual complaint",
    )
    assert (row["status"], row["status_label"]) == ("decided", "Decided")
    assert (row["outcome"], row["outcome_label"]) == ("win", "Win")
    assert (row["confidentiality"], row["confidentiality_label"]) == ("public", "Public")
    _h, procs = _csv(client.get("/reports/export?format=csv&kind=proceedings&audience=network"))
    proc = next(p for p in procs if p["reference"] == "123/public")
    assert proc["forum_label"] == "European Court of Human Rights"
    assert (proc["status_label"], proc["outcome_label"]) == ("Decided", "Win")
    assert proc["treatments"] == "ECHR:5=upheld;non-refoulement=rejected"
    art5 = next(p for p in world.cases[C.PUBLIC].provisions if p.code == "ECHR:5")
    assert proc["treatments_labels"] == f"{art5.title}: Upheld; Non-refoulement: Rejected"
    doc = json.loads(client.get("/reports/export?format=json&audience=network").data)
    case = next(c for c in doc["cases"] if c["reference"] == "REF-public")
    assert case["status_label"] == "Decided"
    assert case["proceedings"][0]["treatments_labels"][0] == f"{art5.title}: Upheld"


def _bulk_cases(user, n: int, start: int = 0) -> None:
    """n network cases of the user's organisation, through the (bulk) import."""
    from tracker.reports.importer import import_cases

    lines = ["reference,title,case_type,jurisdiction,rights,provisions,summary"]
    lines += [
        f"B-{i},Case {i} v. Greece,individual_complaint,GR,liberty;non-refoulement,ECHR:5,"
        + "A summary of some length. " * 20
        for i in range(start, start + n)
    ]
    result = import_cases(actor=user, cases_data="\n".join(lines).encode())
    assert result.ok, result.errors


def _export_peak(user, fmt: str, tmp_path) -> tuple[int, int]:
    """Peak traced memory and SQL statements of one export, its output thrown away."""
    import tracemalloc

    from sqlalchemy import event

    from tracker.cases.filters import CaseFilters
    from tracker.extensions import db
    from tracker.reports.exports import Export

    statements = []

    def count(*_args):
        statements.append(1)

    job = Export(user=user, audience=C.NETWORK, filters=CaseFilters())
    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    tracemalloc.start()
    try:
        if fmt == "xlsx":
            job.write_xlsx(str(tmp_path / "x.xlsx"))
        else:
            for _chunk in job.csv_chunks() if fmt == "csv" else job.json_chunks():
                pass
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        event.remove(engine, "before_cursor_execute", count)
    return peak, len(statements)


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_exports_stream_with_flat_memory_and_a_bounded_number_of_queries(
    app, world, db, monkeypatch, tmp_path, fmt
):
    """Memory and queries depend on the batch size, not on how many cases are exported."""
    from tracker.reports import exports

    monkeypatch.setattr(exports, "BATCH", 50)
    _bulk_cases(world.user, 100)
    db.session.commit()
    _export_peak(world.user, fmt, tmp_path)  # warm caches (compiled statements, imports)
    small_peak, small_queries = _export_peak(world.user, fmt, tmp_path)
    _bulk_cases(world.user, 700, start=100)
    db.session.commit()
    big_peak, big_queries = _export_peak(world.user, fmt, tmp_path)
    # 8x the cases: the peak stays that of one batch (a list kept whole would be ~8x).
    assert big_peak < small_peak * 1.5, (small_peak, big_peak)
    # A fixed number of statements per batch of 50 (tags, parties, proceedings, treatments),
    # never one per case: 14 more batches cost at most 14 x 4 more statements.
    assert big_queries - small_queries <= 14 * 4, (small_queries, big_queries)


def test_cli_export_never_takes_the_sqlite_write_lock(app, runner, world, db, tmp_path):
    from sqlalchemy import event

    if db.engine.dialect.name != "sqlite":
        pytest.skip("BEGIN IMMEDIATE is SQLite's write lock; PostgreSQL has none to take")
    begins = []

    def record(_conn, _cursor, statement, *_args):
        if statement.startswith("BEGIN"):
            begins.append(statement)

    app.config["SQLITE_IMMEDIATE_OUTSIDE_REQUESTS"] = True  # as in a real command
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        for fmt in ("csv", "xlsx"):
            out = tmp_path / f"cases.{fmt}"
            result = runner.invoke(args=["export", "cases", "--format", fmt, "-o", str(out)])
            assert result.exit_code == 0, result.output
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        app.config["SQLITE_IMMEDIATE_OUTSIDE_REQUESTS"] = False
    assert begins and "BEGIN IMMEDIATE" not in begins


def test_the_documented_columns_are_the_columns():
    """docs/csv-columns.md (linked from the README) shows the layout the code uses."""
    from pathlib import Path

    from tracker.reports.columns import CASE_COLUMNS, PROCEEDING_COLUMNS, markdown_table

    root = Path(__file__).resolve().parents[2]
    docs = (root / "docs" / "csv-columns.md").read_text(encoding="utf-8")
    assert markdown_table(CASE_COLUMNS) in docs
    assert markdown_table(PROCEEDING_COLUMNS) in docs
    assert "(docs/csv-columns.md)" in (root / "README.md").read_text(encoding="utf-8")


def test_xlsx_download_streams_as_it_is_written_with_flat_memory(
    app, client, login, world, db, monkeypatch, tmp_path
):
    """The first bytes leave before any case is read (no whole file built first), memory
    stays that of one batch, and the zip is the classic kind Excel opens (no Zip64)."""
    import tracemalloc
    import zipfile

    from sqlalchemy import event

    from tracker.reports import exports

    monkeypatch.setattr(exports, "BATCH", 50)
    login(world.user)
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def download(path) -> tuple[int, int]:
        """(peak traced memory, statements run before the first chunk)."""
        statements.clear()
        before_first = None
        event.listen(db.engine, "before_cursor_execute", record)
        tracemalloc.start()
        try:
            response = client.get("/reports/export?format=xlsx&audience=network", buffered=False)
            assert response.status_code == 200 and response.is_streamed
            with open(path, "wb") as fh:
                for chunk in response.iter_encoded():
                    if before_first is None:  # only the sheets' row counts (their bound)
                        before_first = [
                            s for s in statements if "FROM cases" in s and "count(*)" not in s
                        ]
                    fh.write(chunk)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            event.remove(db.engine, "before_cursor_execute", record)
            response.close()
        assert before_first == []
        return peak, len(statements)

    _bulk_cases(world.user, 100)
    db.session.commit()
    download(tmp_path / "warm.xlsx")
    small_peak, _ = download(tmp_path / "small.xlsx")
    _bulk_cases(world.user, 700, start=100)
    db.session.commit()
    big_peak, _ = download(tmp_path / "big.xlsx")
    assert big_peak < small_peak * 1.5, (small_peak, big_peak)
    with zipfile.ZipFile(tmp_path / "big.xlsx") as zf:
        assert all(info.extract_version < 45 for info in zf.infolist())  # no Zip64
    wb = load_workbook(tmp_path / "big.xlsx", read_only=True)
    titles = [row[4] for row in wb["Cases"].iter_rows(min_row=2, values_only=True)]
    assert len(titles) == 802 and "Case 799 v. Greece" in titles


def _reference_rows(app, user, audience) -> tuple[list[dict], list[dict]]:
    """Case and proceeding rows built from the ORM records, the slow obvious way: what the
    export's aggregated statements must give, cell for cell."""
    from sqlalchemy import select

    from tracker.access import case_filter
    from tracker.cases.forms import (
        CASE_TYPE_LABELS,
        CONFIDENTIALITY_SHORT,
        OUTCOME_LABELS,
        STATUS_LABELS,
        TREATMENT_LABELS,
    )
    from tracker.cases.models import Case
    from tracker.extensions import db

    base = app.config["TRACKER_BASE_URL"]
    cases, procs = [], []
    for case in db.session.scalars(
        select(Case).where(case_filter(user, audience)).order_by(Case.id)
    ):
        rights = sorted((r.code, r.name) for r in case.rights)
        provisions = sorted((p.code, p.title) for p in case.provisions)
        url = f"{base}/cases/{case.id}"
        cases.append(
            {
                "id": str(case.id),
                "url": url,
                "reference": case.reference or "",
                "lead_organisation": case.lead_organisation.name,
                "title": case.title,
                "case_type": case.case_type.value,
                "case_type_label": str(CASE_TYPE_LABELS[case.case_type]),
                "confidentiality": case.confidentiality.value,
                "confidentiality_label": str(CONFIDENTIALITY_SHORT[case.confidentiality]),
                "status": case.status.value,
                "status_label": str(STATUS_LABELS[case.status]),
                "outcome": case.outcome.value,
                "outcome_label": str(OUTCOME_LABELS[case.outcome]),
                "jurisdiction": case.jurisdiction.code,
                "jurisdiction_label": case.jurisdiction.name,
                "opened_on": case.opened_on.isoformat() if case.opened_on else "",
                "rights": ";".join(c for c, _ in rights),
                "rights_labels": "; ".join(n for _, n in rights),
                "provisions": ";".join(c for c, _ in provisions),
                "provisions_labels": "; ".join(n for _, n in provisions),
                "partners": ";".join(sorted(o.name for o in case.partners)),
                "summary": case.summary or "",
                "strategic_aim": case.strategic_aim or "",
                "arguments": case.arguments or "",
                "parties": ";".join(
                    f"{p.role.value}: {p.pseudonym}"
                    for p in sorted(case.parties, key=lambda p: p.id)
                ),
                "version": str(case.version),
            }
        )
        for proc in sorted(case.proceedings, key=lambda p: (p.position, p.id)):
            treated = sorted(
                (t.provision.code, t.provision.title, t.treatment)
                if t.provision is not None
                else (t.right.code, t.right.name, t.treatment)
                for t in proc.treatments
            )
            procs.append(
                {
                    "case_id": str(case.id),
                    "case_url": url,
                    "case_reference": case.reference or "",
                    "lead_organisation": case.lead_organisation.name,
                    "position": str(proc.position),
                    "forum": proc.forum.code,
                    "forum_label": proc.forum.name,
                    "reference": proc.reference or "",
                    "filed_on": proc.filed_on.isoformat() if proc.filed_on else "",
                    "decided_on": proc.decided_on.isoformat() if proc.decided_on else "",
                    "status": proc.status.value,
                    "status_label": str(STATUS_LABELS[proc.status]),
                    "outcome": proc.outcome.value,
                    "outcome_label": str(OUTCOME_LABELS[proc.outcome]),
                    "ecli": proc.ecli or "",
                    "treatments": ";".join(f"{c}={t.value}" for c, _n, t in treated),
                    "treatments_labels": "; ".join(
                        f"{n}: {TREATMENT_LABELS[t]}" for _c, n, t in treated
                    ),
                    "notes": proc.notes or "",
                }
            )
    return cases, procs


@pytest.mark.parametrize("audience", [C.PUBLIC, C.ORGANISATION])
def test_exports_of_generated_data_match_the_records_cell_for_cell(app, db, audience):
    """On generated data (several tags, partners and parties per case, entered in no
    particular order), the aggregated statements give what the records say, sorted as the
    layout says, on either database."""
    from sqlalchemy import select

    from tracker.auth.models import User
    from tracker.cases.filters import CaseFilters
    from tracker.demo.generator import generate_demo
    from tracker.reports.exports import Export

    generate_demo(cases=120, seed=5, documents=0)
    db.session.commit()
    user = db.session.scalar(select(User).where(User.role == Role.LITIGATOR).order_by(User.id))
    cases, procs = _reference_rows(app, user, audience)
    assert any(";" in c["rights"] for c in cases) and any(";" in c["parties"] for c in cases)
    assert any(";" in p["treatments"] for p in procs)
    for kind, expected in (("cases", cases), ("proceedings", procs)):
        job = Export(user=user, audience=audience, filters=CaseFilters(), kind=kind)
        text = "".join(job.csv_chunks())
        got = list(csv.DictReader(io.StringIO(text.split("\r\n", 1)[1])))
        columns = job.case_columns if kind == "cases" else job.proceeding_columns
        want = [{c: neutralise(row[c]) for c in columns} for row in expected]
        assert got == want


def test_xlsx_download_too_large_for_a_sheet_is_refused_before_it_starts(
    client, login, world, monkeypatch
):
    login(world.user)
    count = len(EXPECTED["organisation"])  # cases, each with one proceeding
    monkeypatch.setattr(exports, "XLSX_MAX_CASES", count - 1)
    response = client.get("/reports/export?format=xlsx&audience=organisation")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"a sheet of {count} rows" in page and f"at most {count - 1} a sheet" in page
    assert "download CSV" in page
    # within the bound (fewer cases for this audience), and in CSV, nothing is refused
    public = client.get("/reports/export?format=xlsx&audience=public")
    assert public.status_code == 200 and public.data.startswith(b"PK")
    assert client.get("/reports/export?format=csv&audience=organisation").status_code == 200

    monkeypatch.setattr(exports, "XLSX_MAX_CASES", 1_000)
    monkeypatch.setattr(exports, "XLSX_MAX_PROCEEDINGS", count - 1)
    refused = client.get("/reports/export?format=xlsx&audience=organisation&kind=proceedings")
    assert refused.status_code == 400
    assert f"a sheet of {count} rows" in refused.get_data(as_text=True)
