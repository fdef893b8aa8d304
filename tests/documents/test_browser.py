"""In a real browser: upload a PDF to a case, find it by a word inside it, download link."""

from __future__ import annotations

import re

import pytest

from tests.documents import files
from tracker.types import Role

pytestmark = pytest.mark.browser


def _open_upload_form(page):
    page.get_by_text("Upload a document").click()
    return page.locator("#documents")


def test_upload_a_pdf_then_find_it_by_a_word_inside(page, factory, browser_login, screenshot):
    user = factory.user(role=Role.LITIGATOR, name="Lucía Fernández")
    case = factory.case(
        organisation=user.organisation,
        title="A.B. v. Belgium",
        summary="Detention of a family with children in a closed centre.",
    )
    browser_login(user)
    page.goto(f"/cases/{case.id}")
    assert page.get_by_role("heading", name="Documents").is_visible()
    section = _open_upload_form(page)
    section.get_by_label("File").set_input_files(
        {
            "name": "judgment.pdf",
            "mimeType": "application/pdf",
            "buffer": files.pdf_bytes("The court found a violation of article xylophonic"),
        }
    )
    section.get_by_label("Title").fill("First-instance judgment")
    section.get_by_label("Kind of document").select_option("judgment")
    section.get_by_label("Language").select_option("fr")
    section.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert re.search(rf"/cases/{case.id}", page.url)
    assert page.get_by_text("Document “First-instance judgment” uploaded.").is_visible()
    row = page.locator("table.documents-table tr", has_text="First-instance judgment")
    assert row.get_by_role("link", name=re.compile("Download")).is_visible()
    page.locator("#documents").scroll_into_view_if_needed()
    screenshot("documents-case-list")

    page.get_by_role("link", name="Search").first.click()
    page.get_by_label("Search cases and documents").fill("xylophonic")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name=re.compile("Documents")).first.click()
    hit = page.locator(".search-hit", has_text="First-instance judgment")
    assert hit.is_visible()
    assert hit.locator("mark", has_text="xylophonic").is_visible()
    download = hit.get_by_role("link", name=re.compile("Download"))
    assert download.is_visible()
    assert download.get_attribute("href").endswith("/download")
    screenshot("search-documents-results")

    with page.expect_download() as info:
        download.click()
    assert info.value.suggested_filename == "judgment.pdf"

    page.goto("/search/?q=detention+children")
    assert page.locator(".search-hit mark", has_text="Detention").first.is_visible()
    screenshot("search-case-results")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("search-case-results-narrow")


def test_upload_errors_are_shown_on_their_fields(page, factory, browser_login, screenshot):
    user = factory.user(role=Role.LITIGATOR)
    case = factory.case(organisation=user.organisation, confidentiality="organisation")
    browser_login(user)
    page.goto(f"/documents/cases/{case.id}/upload")
    # Only levels at least as strict as the case's are offered.
    options = page.get_by_label("Confidentiality").locator("option").all_inner_texts()
    assert not any(o.startswith(("Public", "Network")) for o in options)
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Please correct the highlighted fields.").is_visible()
    assert "Choose a file to upload." in page.locator("#document-file-error").inner_text()

    page.get_by_label("File").set_input_files(
        {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": files.PNG_BYTES}
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert "This file is a PNG" in page.locator("#document-file-error").inner_text()
    assert page.get_by_label("File").get_attribute("aria-invalid") == "true"
    screenshot("documents-upload-errors")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("documents-upload-errors-narrow")
    page.goto("/search/?q=zzzznotthere")
    assert page.get_by_role("heading", name="No results").is_visible()
    screenshot("search-no-results")
    page.goto("/search/")
    screenshot("search-empty")
