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


def test_the_form_picks_rights_provisions_and_forums_by_typing(
    page, library, browser_login, screenshot
):
    browser_login(library.user)
    page.goto("/pleadings/new")
    page.get_by_label("Title").fill("Liberty brief picked by typing")
    page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "brief.txt", "mimeType": "text/plain", "buffer": b"A brief.\n"}]
    )
    page.get_by_label("Summary of its arguments").fill("Detention without a legal basis.")
    page.get_by_label("Council of Europe").check()
    for label, typed, option in (
        ("Rights", "libe", "Liberty"),
        ("Rights", "refoul", "Non-refoulement"),
        ("Provisions", "ECHR 5", "Right to liberty and security"),
        ("Forums", "European Court", "European Court of Human Rights"),
    ):
        box = page.get_by_role("combobox", name=label)
        box.fill(typed)
        page.get_by_role("option", name=option).first.click()
    chips = page.locator(".picker-chip")
    assert chips.filter(has_text="Non-refoulement").is_visible()
    page.get_by_role("combobox", name="Forums").fill("Conseil")  # a list open in the shot
    page.locator(".picker-list [role=option]", has_text="Conseil").wait_for()
    screenshot("pleadings-form-pickers")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Upload").click()

    assert page.get_by_role("heading", name="Liberty brief picked by typing").is_visible()
    about = page.locator("#about-h").locator("xpath=..")
    assert about.get_by_text("Liberty, Non-refoulement").is_visible()
    assert about.get_by_text("ECHR art. 5 — Right to liberty and security").is_visible()
    assert about.get_by_text("European Court of Human Rights").is_visible()
    assert about.get_by_text("Council of Europe").is_visible()
    screenshot("pleadings-detail-with-titles")

    page.get_by_role("link", name="Edit").click()
    page.wait_for_url("**/edit")
    assert page.locator(".picker-chip").filter(has_text="Non-refoulement").is_visible()
    assert page.get_by_label("Council of Europe").is_checked()
    screenshot("pleadings-form-edit")


def test_a_draft_for_the_forum_chosen(
    page, library, with_template, browser_login, screenshot, app, factory
):
    from datetime import date

    council = factory.forum("FR-CE")
    factory.proceeding(library.case, council, reference="CE 123", filed_on=date(2023, 5, 2))
    browser_login(library.user)
    page.goto(f"/pleadings/suggest?case={library.case.id}")
    item = page.locator("li", has_text=with_template.title)
    choice = item.get_by_label("Forum of the draft")
    assert "European Court of Human Rights" in choice.locator("option:checked").inner_text()
    screenshot("pleadings-suggestions-forum-choice")
    choice.select_option(label="Conseil d'État (CE 123, filed on May 2, 2023)")
    with page.expect_download() as info:
        item.get_by_role("button", name="Start a draft (DOCX)").click()
    text = "\n".join(p.text for p in docx.Document(info.value.path()).paragraphs)
    assert "Before: Conseil d'État (ref. CE 123)" in text

    page.goto(f"/pleadings/{with_template.id}")
    page.get_by_label("Find a case (number, title or reference)").fill("M.K.")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="Start a draft…").click()
    assert page.get_by_role("heading", name="Start a draft for “M.K. v. France”").is_visible()
    forum = page.get_by_label("Forum for {{ forum }} and {{ reference }}")
    assert "European Court of Human Rights" in forum.locator("option:checked").inner_text()
    forum.select_option(label="Conseil d'État (CE 123, filed on May 2, 2023)")
    screenshot("pleadings-draft-choose-forum")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the draft (DOCX)").click()
    text = "\n".join(p.text for p in docx.Document(info.value.path()).paragraphs)
    assert "Before: Conseil d'État (ref. CE 123)" in text


def test_an_oversized_upload_says_the_limit(page, library, browser_login, screenshot, app):
    browser_login(library.user)
    page.goto("/pleadings/new")
    page.get_by_label("Title").fill("Too big")
    page.get_by_label("Summary of its arguments").fill("Big.")
    page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "big.txt", "mimeType": "text/plain", "buffer": b"a" * (1024 * 1024 + 1)}]
    )
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    try:
        page.get_by_role("button", name="Upload").click()
        assert page.get_by_role("heading", name="The file is too large").is_visible()
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 25 * 1024 * 1024
    assert page.get_by_text("can be at most 1 MB").is_visible()
    screenshot("pleadings-upload-too-large")
    page.get_by_role("link", name="Back to the upload form").click()
    assert page.get_by_role("heading", name="Upload a model pleading").is_visible()
