"""The network report: HTML and PDF, headline figures per audience, no network fetches."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.reports.helpers import four_countries, make_world
from tests.reports.period_world import (
    expected_figures,
    expected_proceedings,
    headline_in,
    make_period_world,
)
from tracker.reports.routes import STATIC_BASE, static_fetcher


@pytest.fixture()
def world(factory, db):
    return make_world(factory, db)


def _figure(page: str, name: str) -> str:
    start = page.index(f'id="fig-{name}">') + len(f'id="fig-{name}">')
    return page[start : page.index("<", start)]


@pytest.mark.parametrize(
    ("audience", "cases"), [("public", "1"), ("network", "2"), ("organisation", "3")]
)
def test_report_figures_follow_the_audience(client, login, world, audience, cases):
    login(world.user)  # sees 4 cases; a report never counts more than its audience may see
    response = client.get(f"/reports/?audience={audience}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _figure(page, "cases") == cases
    assert _figure(page, "proceedings") == cases
    assert _figure(page, "wins") == cases
    assert _figure(page, "rate") == "100%"
    assert _figure(page, "jurisdictions") == "1"
    assert "Restricted case" not in page and "SECRET" not in page
    assert "<svg" in page and "2024" in page  # outcomes over time, drawn on the server
    assert "Liberty and freedom from arbitrary detention" in page  # the matrix


def test_report_period_and_bad_parameters(client, login, world):
    login(world.user)
    # Every proceeding was filed in 2023: a 2025 period selects none of them.
    page = client.get("/reports/?audience=network&period_from=2025-01-01").get_data(as_text=True)
    assert _figure(page, "wins") == "0" and _figure(page, "cases") == "0"
    page = client.get("/reports/?audience=network&period_to=2023-12-31").get_data(as_text=True)
    assert _figure(page, "wins") == "2" and _figure(page, "cases") == "2"
    clash = client.get("/reports/?period_from=2024-01-01&filed_to=2023-06-30")
    assert clash.status_code == 400
    assert "The period has no day in common with the filed dates." in clash.get_data(as_text=True)
    bad = client.get("/reports/?audience=everyone&period_from=yesterday&right=nope")
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Choose public, network or organisation." in text
    assert "Use a date like 2024-03-31." in text and "Unknown code" in text


def _pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_pdf_carries_the_audience_and_nothing_restricted(client, login, world):
    login(world.user)
    response = client.get("/reports/report.pdf?audience=organisation")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    assert "Network litigation report" in text
    assert "Audience:" in text and "My organisation" in text
    assert "Restricted case" not in text and "SECRET" not in text


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/x.css",
        "file:///etc/passwd",
        STATIC_BASE + "../tracker/config.py",
        STATIC_BASE + "%2e%2e/tracker/config.py",
        STATIC_BASE + "css/nope.css",
    ],
)
def test_pdf_fetcher_serves_only_our_static_files(app, url):
    with app.test_request_context():
        with pytest.raises(ValueError):
            static_fetcher().fetch(url)
        ok = static_fetcher().fetch(STATIC_BASE + "css/reports.css")
        assert ok.content_type == "text/css" and b"Reports area" in ok.read()


def test_report_is_empty_but_friendly_without_cases(client, login, factory):
    login(factory.user())
    page = client.get("/reports/").get_data(as_text=True)
    assert _figure(page, "cases") == "0" and _figure(page, "rate") == "\u2013"
    assert "No win in this selection." in page


# --- figures, matrix and period against independent counts ---------------------------------
@pytest.fixture()
def pworld(factory, db):
    return make_period_world(factory, db)


PERIODS = [
    ("", None, None),
    ("&period_from=2024-01-01&period_to=2024-12-31", date(2024, 1, 1), date(2024, 12, 31)),
    ("&period_to=2022-12-31", None, date(2022, 12, 31)),
]


@pytest.mark.parametrize("audience", ["public", "network", "organisation"])
@pytest.mark.parametrize(("query", "start", "end"), PERIODS)
def test_pdf_text_holds_the_headline_figures(client, login, pworld, audience, query, start, end):
    login(pworld.user)
    response = client.get(f"/reports/report.pdf?audience={audience}{query}")
    assert response.status_code == 200
    text = _pdf_text(response.data)
    want = expected_figures(pworld, audience, start, end)
    for label, value in want.items():
        assert headline_in(text, label, value), (label, value, text[:600])
    assert "Hidden case" not in text and "Restricted" not in text


@pytest.mark.parametrize(("query", "start", "end"), PERIODS)
def test_html_headline_figures_follow_the_period(client, login, pworld, query, start, end):
    login(pworld.user)
    page = client.get(f"/reports/?audience=organisation{query}").get_data(as_text=True)
    want = expected_figures(pworld, "organisation", start, end)
    assert _figure(page, "cases") == want["Cases"]
    assert _figure(page, "proceedings") == want["Proceedings"]
    assert _figure(page, "wins") == want["Wins"]
    assert _figure(page, "rate") == want["Win rate"]
    assert _figure(page, "jurisdictions") == want["Jurisdictions"]


CELL = re.compile(r'aria-label="(\d+) cases on ([^"]+?) in ([^"]+?)"')


def _cells(page: str) -> set[tuple[str, str, str]]:
    return {(right, col, n) for n, right, col in CELL.findall(page)}


@pytest.mark.parametrize(
    ("report_query", "patterns_query"),
    [
        ("", ""),
        (
            "&period_from=2024-01-01&period_to=2024-12-31",
            "&filed_from=2024-01-01&filed_to=2024-12-31",
        ),
        ("&period_to=2022-12-31&jurisdiction=GR", "&filed_to=2022-12-31&jurisdiction=GR"),
    ],
)
def test_report_matrix_is_the_patterns_matrix(client, login, pworld, report_query, patterns_query):
    # The viewer sees exactly what the organisation audience may receive, so the report's
    # matrix and /patterns/ must print the same cells.
    login(pworld.viewer)
    report = client.get(f"/reports/?audience=organisation{report_query}").get_data(as_text=True)
    patterns = client.get(f"/patterns/?view=jurisdiction{patterns_query}").get_data(as_text=True)
    assert _cells(patterns), "the patterns page printed no cell"
    assert _cells(report) == _cells(patterns)


def test_report_matrix_counts_crosswalk_parents_and_period(client, login, pworld):
    login(pworld.user)
    page = client.get("/reports/?audience=organisation").get_data(as_text=True)
    cells = _cells(page)
    # The France case is tagged with no right: it counts for liberty through ECHR 5, and for
    # the parent group through the child right.
    assert ("Liberty", "France", "1") in cells
    assert ("Personal freedom", "Greece", "1") in cells  # the child-tagged Greek case
    assert ("Liberty", "Greece", "1") in cells
    page = client.get("/reports/?audience=organisation&period_from=2024-01-01").get_data(
        as_text=True
    )
    assert ("Liberty", "Greece", "1") not in _cells(page)  # filed in 2022
    assert ("Liberty", "France", "1") in _cells(page)
    public = _cells(client.get("/reports/?audience=public").get_data(as_text=True))
    assert public == {("Liberty", "Greece", "1"), ("Personal freedom", "Greece", "1")}


def test_wide_matrix_comes_in_parts_with_every_column(client, login, factory, db):
    user = factory.user()
    right = factory.right("liberty", "Liberty")
    codes = [f"Z{i:02d}" for i in range(19)]
    for code in codes:
        case = factory.case(
            jurisdiction=factory.jurisdiction(code, f"State {code}"), confidentiality="network"
        )
        case.rights = [right]
        factory.proceeding(case)
    login(user)
    page = client.get("/reports/").get_data(as_text=True)
    assert page.count('<table class="matrix"') == 3  # 8 + 8 + 3 columns
    assert "part 3 of 3" in page
    for code in codes:
        assert f"{code} cases on" not in page  # labels name the state, not the code
        assert f'title="State {code}">{code}</abbr>' in page


# --- the form keeps its state; downloads and exports carry the period --------------------
def _selected(page: str, name: str) -> list[str]:
    start = page.index(f'<select id="f-{name}"')
    block = page[start : page.index("</select>", start)]
    return re.findall(r'<option value="([^"]*)" selected', block)


@pytest.mark.parametrize(
    ("query", "status", "chosen"),
    [
        ("", 200, ["network"]),  # the default audience is shown as chosen
        ("?audience=public", 200, ["public"]),
        ("?audience=organisation&period_from=nope", 400, ["organisation"]),
        ("?audience=everyone", 400, ["network"]),
    ],
)
def test_audience_select_shows_the_audience_in_force(client, login, world, query, status, chosen):
    login(world.user)
    response = client.get(f"/reports/{query}")
    assert response.status_code == status
    assert _selected(response.get_data(as_text=True), "audience") == chosen


def test_download_buttons_submit_the_form(client, login, world):
    login(world.user)
    page = client.get("/reports/?audience=public").get_data(as_text=True)
    start = page.index('<form method="get"')
    form = page[start : page.index("</form>", start)]
    for value in ("pdf", "cases.csv", "proceedings.csv", "xlsx", "json"):
        assert f'formaction="/reports/download" name="download" value="{value}"' in form
    response = client.get(
        "/reports/download?download=proceedings.csv&audience=organisation&right="
        "&period_from=2023-01-01&period_to=&jurisdiction=GR"
    )
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/reports/export"
    assert parse_qs(target.query) == {
        "audience": ["organisation"],
        "period_from": ["2023-01-01"],
        "jurisdiction": ["GR"],
        "format": ["csv"],
        "kind": ["proceedings"],
    }
    pdf = client.get("/reports/download?download=pdf&audience=public")
    assert urlsplit(pdf.headers["Location"]).path == "/reports/report.pdf"
    assert client.get("/reports/download?download=exe").status_code == 400


def test_download_needs_an_account(app, client, login, factory):
    login(factory.user("viewer"))
    assert (
        client.get("/reports/download?download=json")
        .headers["Location"]
        .startswith("/reports/export")
    )
    anonymous = app.test_client().get("/reports/download?download=json")
    assert "/login" in anonymous.headers.get("Location", "")


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("", {"Public case, Greece", "Network case, France", "Own case, Greece"}),
        ("&period_from=2024-01-01", {"Network case, France", "Own case, Greece"}),
        ("&period_to=2022-12-31", {"Public case, Greece", "Own case, Greece"}),
    ],
)
def test_exports_keep_the_period(client, login, pworld, query, titles):
    login(pworld.user)
    response = client.get(f"/reports/export?format=json&audience=organisation{query}")
    assert response.status_code == 200
    data = json.loads(response.data)
    rows = data["cases"] if isinstance(data, dict) else data
    assert {row["title"] for row in rows} == titles


@pytest.mark.parametrize("audience", ["network", "organisation"])
@pytest.mark.parametrize(
    ("query", "start", "end"),
    [
        ("", None, None),
        ("&period_from=2024-01-01", date(2024, 1, 1), None),
        ("&period_from=2022-01-01&period_to=2022-12-31", date(2022, 1, 1), date(2022, 12, 31)),
        ("&filed_to=2022-06-30", None, date(2022, 6, 30)),
    ],
)
def test_proceedings_exports_list_only_the_proceedings_in_the_period(
    client, login, pworld, audience, query, start, end
):
    """As the report counts them: a case with one proceeding in the period does not bring
    its other proceedings into the file (CSV, the XLSX sheet and the JSON alike)."""
    login(pworld.user)
    expected = expected_proceedings(audience, start, end)
    url = f"/reports/export?audience={audience}{query}"
    text = client.get(f"{url}&format=csv&kind=proceedings").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.split("\r\n", 1)[1])))
    assert sorted(r["filed_on"] for r in rows) == expected
    workbook = load_workbook(io.BytesIO(client.get(f"{url}&format=xlsx").data))
    sheet = list(workbook["Proceedings"].iter_rows(values_only=True))
    filed_col = sheet[0].index("filed_on")
    assert sorted(r[filed_col] for r in sheet[1:]) == expected
    doc = json.loads(client.get(f"{url}&format=json").data)
    assert sorted(p["filed_on"] for c in doc["cases"] for p in c["proceedings"]) == expected


def test_pdf_matrix_stays_on_the_page(client, login, factory, db):
    user = factory.user()
    group = factory.right("personal-freedom", "Personal freedom and security of the person")
    right = factory.right(
        "liberty", "Liberty and freedom from arbitrary detention", parent_id=group.id
    )
    codes = [f"Z{i:02d}" for i in range(19)]
    for code in codes:
        case = factory.case(
            jurisdiction=factory.jurisdiction(code, f"Republic of {code}"),
            confidentiality="network",
        )
        case.rights = [right]
        factory.proceeding(case)
    login(user)
    response = client.get("/reports/report.pdf")
    assert response.status_code == 200
    if os.environ.get("TRACKER_SCREENSHOT_DIR"):
        path = os.path.join(os.environ["TRACKER_SCREENSHOT_DIR"], "report-wide-matrix.pdf")
        with open(path, "wb") as fh:
            fh.write(response.data)
    reader = PdfReader(io.BytesIO(response.data))
    seen: list[str] = []
    for pdf_page in reader.pages:
        width = float(pdf_page.mediabox.width)
        xs: list[float] = []

        def visit(text, cm, tm, _font, _size, xs=xs):
            if text.strip():
                xs.append(cm[4] + tm[4] * cm[0])

        seen.append(pdf_page.extract_text(visitor_text=visit))
        # Nothing is drawn in the right margin or past the page's edge (14 mm = 39.7 pt).
        assert xs and max(xs) < width - 39, (max(xs), width)
    text = "\n".join(seen)
    for code in codes:
        assert code in text


def test_a_network_wide_matrix_keeps_the_largest_jurisdictions(client, login, factory, db):
    user = factory.user()
    right = factory.right("liberty", "Liberty")
    for i in range(30):
        case_count = 2 if i < 24 else 1  # the last six states have fewer cases
        for _ in range(case_count):
            case = factory.case(
                jurisdiction=factory.jurisdiction(f"Y{i:02d}", f"State Y{i:02d}"),
                confidentiality="network",
            )
            case.rights = [right]
            factory.proceeding(case)
    login(user)
    page = client.get("/reports/").get_data(as_text=True)
    assert "The 24 jurisdictions with the most cases are shown, of 30." in page
    assert _cells(page) == {("Liberty", f"State Y{i:02d}", "2") for i in range(24)}


@pytest.mark.parametrize(
    ("query", "cases", "shown"),
    [
        ("jurisdiction=GR;IT", "2", "GR; IT"),
        ("jurisdiction=GR&jurisdiction=ES", "2", "GR; ES"),
        ("jurisdiction=GR;IT;ES&status=decided", "2", "GR; IT; ES"),
        ("status=decided&status=filed&outcome=win", "2", ""),
    ],
)
def test_report_takes_several_values_of_a_filter(client, login, factory, db, query, cases, shown):
    # The form used to offer one value a filter: a report linked with two jurisdictions
    # showed one of them, and showing it again dropped the other.
    login(four_countries(factory, db))
    page = client.get(f"/reports/?{query}").get_data(as_text=True)
    assert _figure(page, "cases") == cases
    assert f'id="f-jurisdiction" name="jurisdiction" value="{shown}"' in page
    for status in parse_qs(query).get("status", []):
        assert f'name="status" value="{status}" checked' in page
    assert 'name="status" value="planned" checked' not in page
