"""The reports pages in a real browser: the report, the import form, the token pages."""

from __future__ import annotations

import pytest

from tests.reports.helpers import make_world

pytestmark = pytest.mark.browser


def test_report_import_and_tokens_pages(page, factory, db, browser_login, screenshot):
    world = make_world(factory, db)
    browser_login(world.user)
    page.goto("/reports/?audience=network")
    assert page.get_by_role("heading", name="Network litigation report").is_visible()
    assert page.locator("#fig-cases").inner_text() == "2"
    page.get_by_label("Audience").select_option("public")
    page.get_by_role("button", name="Show report").click()
    page.wait_for_load_state("networkidle")
    assert "audience=public" in page.url
    assert page.locator("#fig-cases").inner_text() == "1"
    screenshot("reports-index")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("reports-index-narrow")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto("/reports/import")
    page.get_by_label("Cases file (CSV)").set_input_files(
        files=[
            {
                "name": "c.csv",
                "mimeType": "text/csv",
                "buffer": b"reference,title,case_type,jurisdiction\nX-1,T,nope,ZZ\n",
            }
        ]
    )
    page.get_by_role("button", name="Check and import").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Nothing was imported: 2 problem(s)").is_visible()
    screenshot("reports-import-errors")

    page.goto("/api/v1/tokens/")
    page.get_by_label("Name").fill("funder report")
    page.get_by_role("button", name="Create token").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#new-token").inner_text().startswith("lt_")
    screenshot("api-tokens")
