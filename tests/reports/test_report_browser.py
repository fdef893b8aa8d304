"""The report form, its downloads, its printed matrix and the case list's export, in a browser."""

from __future__ import annotations

import io
import json
import os

import pytest
from pypdf import PdfReader

from tests.conftest import SCREENSHOT_DIR
from tests.reports.helpers import four_countries
from tests.reports.period_world import make_period_world

pytestmark = pytest.mark.browser


def _download(page, click) -> tuple[str, bytes]:
    with page.expect_download() as info:
        click()
    download = info.value
    with open(download.path(), "rb") as fh:
        return download.url, fh.read()


def test_form_shows_its_audience_and_downloads_follow_the_form(page, factory, db, browser_login):
    world = make_period_world(factory, db)
    browser_login(world.user)
    page.goto("/reports/")
    assert page.get_by_label("Audience").input_value() == "network"  # what the report is for
    page.get_by_label("Audience").select_option("organisation")
    page.get_by_role("button", name="Show report").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_label("Audience").input_value() == "organisation"
    assert page.locator("#fig-cases").inner_text() == "3"

    # Change the form without showing the report again: the downloads follow the form.
    page.get_by_label("Audience").select_option("public")
    page.get_by_label("Period to").fill("2022-12-31")
    url, body = _download(page, page.get_by_role("button", name="JSON").click)
    assert "audience=public" in url and "period_to=2022-12-31" in url
    data = json.loads(body)
    assert data["audience"] == "public"
    assert [c["title"] for c in data["cases"]] == ["Public case, Greece"]

    page.get_by_label("Audience").select_option("organisation")
    url, body = _download(page, page.get_by_role("button", name="Report (PDF)").click)
    assert body.startswith(b"%PDF") and "audience=organisation" in url
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    assert "My organisation" in text and "Own case, Greece" not in text  # no win before 2023


def _wide_world(factory, n: int = 19):
    user = factory.user()
    group = factory.right("personal-freedom", "Personal freedom and security of the person")
    right = factory.right(
        "liberty", "Liberty and freedom from arbitrary detention", parent_id=group.id
    )
    codes = [f"Z{i:02d}" for i in range(n)]
    for code in codes:
        case = factory.case(
            jurisdiction=factory.jurisdiction(code, f"Republic of {code}"),
            confidentiality="network",
        )
        case.rights = [right]
        factory.proceeding(case)
    return user, codes


def test_printed_matrix_fits_the_page(page, factory, db, browser_login, screenshot):
    user, codes = _wide_world(factory)
    browser_login(user)
    page.goto("/reports/")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 700, "height": 1000})  # about A4 inside its margins
    width = page.evaluate("document.documentElement.clientWidth")
    boxes = page.locator("table.matrix").evaluate_all(
        "ts => ts.map(t => [t.getBoundingClientRect().left, t.getBoundingClientRect().right])"
    )
    assert len(boxes) == 3
    for left, right in boxes:
        assert left >= 0 and right <= width, (left, right, width)
    heads = page.locator("table.matrix thead th abbr").all_inner_texts()
    assert heads == codes  # every column, in order, once
    screenshot("reports-print-wide-matrix")
    pdf = page.pdf(
        format="A4", margin={"top": "16mm", "bottom": "16mm", "left": "14mm", "right": "14mm"}
    )
    os.makedirs(SCREENSHOT_DIR, exist_ok=True)
    with open(os.path.join(SCREENSHOT_DIR, "reports-print-wide-matrix.pdf"), "wb") as fh:
        fh.write(pdf)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for code in codes:
        assert code in text


def test_case_list_exports_exactly_the_filtered_list(page, factory, db, browser_login, screenshot):
    world = make_period_world(factory, db)
    browser_login(world.viewer)  # sees exactly what the organisation audience may receive
    page.goto("/cases/?jurisdiction=GR&filed_from=2021-06-01")
    listed = page.locator("table.case-table tbody tr td:first-child strong").all_inner_texts()
    assert sorted(listed) == ["Own case, Greece", "Public case, Greece"]
    form = page.get_by_role("form", name="Export this list")
    form.get_by_label("Format").select_option("json")
    form.get_by_label("Audience").select_option("organisation")
    screenshot("cases-export-control")
    url, body = _download(page, form.get_by_role("button", name="Export").click)
    assert "/reports/export" in url and "jurisdiction=GR" in url
    data = json.loads(body)
    assert sorted(c["title"] for c in data["cases"]) == sorted(listed)
    assert data["audience"] == "organisation"

    form.get_by_label("Format").select_option("csv")
    form.get_by_label("Audience").select_option("public")
    _url, body = _download(page, form.get_by_role("button", name="Export").click)
    text = body.decode("utf-8-sig")
    assert "Public case, Greece" in text and "Own case, Greece" not in text


def test_form_takes_several_jurisdictions_and_statuses(
    page, factory, db, browser_login, screenshot
):
    browser_login(four_countries(factory, db))
    page.goto("/reports/")
    for typed, name in (("Gree", "Greece"), ("Ital", "Italy"), ("Spa", "Spain")):
        box = page.get_by_role("combobox", name="Jurisdictions")
        box.click()
        box.fill(typed)
        option = page.get_by_role("option", name=name).first
        option.wait_for()
        option.click()
    page.get_by_role("checkbox", name="Decided").check()
    screenshot("report-form-several-values")
    page.get_by_role("button", name="Show report").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#fig-cases").inner_text() == "2"  # Greece and Italy, not Spain (filed)
    assert page.locator("input[name=jurisdiction]").input_value() == "GR; IT; ES"
    assert page.get_by_role("checkbox", name="Decided").is_checked()
    chips = page.locator(".picker-chip").all_inner_texts()
    assert [c.split("\n")[0].strip() for c in chips][:3] == ["Greece", "Italy", "Spain"], chips
    screenshot("report-several-values")
