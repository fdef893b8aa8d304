"""The network report: HTML and PDF, headline figures per audience, no network fetches."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.reports.helpers import make_world
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
    page = client.get("/reports/?audience=network&period_from=2025-01-01").get_data(as_text=True)
    assert _figure(page, "wins") == "0" and _figure(page, "cases") == "2"
    bad = client.get("/reports/?audience=everyone&period_from=yesterday&right=nope")
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Choose public, network or organisation." in text
    assert "Use a date like 2024-03-31." in text and "Unknown code" in text


def test_pdf_contains_the_headline_figures(client, login, world):
    login(world.user)
    response = client.get("/reports/report.pdf?audience=organisation")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Network litigation report" in text
    assert "Audience:" in text and "My organisation" in text
    for label, value in (("Cases", "3"), ("Proceedings", "3"), ("Wins", "3"), ("Win rate", "100%")):
        assert label in text and value in text
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
