"""The library in a real browser: suggestions with reasons, a draft download, the pages."""

from __future__ import annotations

import docx
import pytest

from tests.pleadings.conftest import TEMPLATE_PARAGRAPHS, add_pleading, make_docx

pytestmark = pytest.mark.browser


@pytest.fixture()
def with_template(library, app):
    with app.test_request_context():
        template = add_pleading(
            library.user,
            title="ECtHR detention application template",
            kind="template",
            language="fr",
            summary="Template for an application on immigration detention pending removal.",
            rights=["liberty"],
            forums=["ECTHR"],
            content=make_docx(*TEMPLATE_PARAGRAPHS),
            filename="template.docx",
        )
    return template


def test_suggestions_with_reasons_and_a_draft(
    page, library, with_template, browser_login, screenshot
):
    browser_login(library.user)
    page.goto(f"/cases/{library.case.id}")
    section = page.locator("#pleading-suggestions")
    assert section.get_by_role("link", name=library.best.title).is_visible()
    assert section.get_by_text("same forum: European Court of Human Rights").first.is_visible()
    assert section.get_by_text("used in 3 cases, 2 won").is_visible()
    assert section.get_by_text(library.foreign_org.title).count() == 0
    assert section.get_by_text(library.unrelated.title).count() == 0
    screenshot("pleadings-suggestions")

    item = section.locator("li", has_text=with_template.title)
    with page.expect_download() as info:
        item.get_by_role("button", name="Start a draft (DOCX)").click()
    download = info.value
    assert download.suggested_filename == "draft-m-k-v-france.docx"
    text = "\n".join(p.text for p in docx.Document(download.path()).paragraphs)
    assert "Application in M.K. v. France" in text
    assert "Before: European Court of Human Rights" in text

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/pleadings/suggest?case={library.case.id}")
    screenshot("pleadings-suggestions-narrow")


def test_library_detail_and_upload_pages(page, library, browser_login, screenshot):
    browser_login(library.user)
    page.goto("/pleadings/")
    assert page.get_by_role("heading", name="Model pleadings").is_visible()
    assert page.get_by_role("link", name=library.best.title).is_visible()
    screenshot("pleadings-library")

    page.get_by_label("Words in the pleading, its title or summary").fill("enrolment")
    page.get_by_role("button", name="Search").click()
    assert page.get_by_role("link", name=library.unrelated.title).is_visible()
    assert page.get_by_role("link", name=library.best.title).count() == 0

    page.goto(f"/pleadings/{library.best.id}")
    assert page.get_by_text("Used in 3 cases you can see, 2 won.").is_visible()
    page.get_by_label("Find a case (number, title or reference)").fill("M.K.")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("button", name="Used in this case").click()
    assert page.get_by_text("Recorded: used in “M.K. v. France”.").is_visible()
    screenshot("pleadings-detail")

    page.goto("/pleadings/new")
    png = {
        "name": "photo.pdf",
        "mimeType": "application/pdf",
        "buffer": b"\x89PNG\r\n\x1a\n" + bytes(64),
    }
    page.get_by_label("Title").fill("Wrong file")
    page.get_by_label("File", exact=True).set_input_files(files=[png])
    page.get_by_role("button", name="Upload").click()
    summary = page.locator("#summary-error")
    assert summary.is_visible() and "required" in summary.inner_text()
    assert page.get_by_label("Summary of its arguments").get_attribute("aria-invalid") == "true"
    screenshot("pleadings-upload-errors")
    page.get_by_label("Summary of its arguments").fill("Something")
    page.get_by_label("File", exact=True).set_input_files(files=[png])
    page.get_by_role("button", name="Upload").click()
    assert "This file is a PNG" in page.locator("#file-error").inner_text()
    screenshot("pleadings-upload-wrong-type")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/pleadings/")
    screenshot("pleadings-library-narrow")
    page.goto(f"/pleadings/{library.best.id}")
    screenshot("pleadings-detail-narrow")
