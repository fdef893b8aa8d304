"""Reference-data admin pages in a real browser: complete a placeholder principle with its
crosswalk, add a right, meet a refused delete, and the finder's EU answer; screenshots.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from tests.conftest import SCREENSHOT_DIR
from tracker.extensions import db
from tracker.taxonomy.models import Provision, Right
from tracker.types import Role

pytestmark = pytest.mark.browser


def test_admin_completes_reference_data(reference_data, factory, page, browser_login, screenshot):
    admin = factory.user(role=Role.ADMIN, name="Ada Admin")
    browser_login(admin)
    page.goto("/admin/")
    page.get_by_role("link", name="Reference data: instruments, provisions, rights").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Reference data", exact=True).is_visible()
    assert page.get_by_text("8 provisions are placeholders").is_visible()
    screenshot("reference-index")

    page.get_by_role("link", name="8 provisions are placeholders").click()
    page.wait_for_load_state("networkidle")
    screenshot("reference-provisions-placeholders")
    page.get_by_role("link", name="Principle 7: heading to be completed").click()
    page.wait_for_load_state("networkidle")
    screenshot("reference-provision-form")

    # An empty title is a field error, tied to its field (the input's maxlength keeps
    # over-long titles out in the browser; the server test covers them).
    page.get_by_label("Title or heading").fill("")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    error = page.locator("#title-error")
    assert error.inner_text() == "This field is required."
    assert page.get_by_label("Title or heading").get_attribute("aria-invalid") == "true"
    screenshot("reference-provision-error")

    page.get_by_label("Title or heading").fill("Immigration enforcement (as published)")
    page.get_by_label("Text or summary").fill("Summary entered in the browser test.")
    page.get_by_label("Placeholder: still to be completed from the published text").uncheck()
    page.get_by_label("Liberty and freedom from arbitrary detention").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Saved 14 Principles 7.").is_visible()
    screenshot("reference-provisions-after-save")
    db.session.rollback()  # see the server's commit
    p7 = db.session.scalars(select(Provision).where(Provision.code == "PRINCIPLES-14:7")).one()
    assert p7.title == "Immigration enforcement (as published)"
    assert [r.code for r in p7.rights] == ["liberty"]

    # Rights: the list, a new right, and a delete that is refused for a shipped right.
    page.goto("/taxonomy/admin/rights")
    screenshot("reference-rights")
    page.get_by_role("link", name="Add a right").click()
    page.get_by_label("Code").fill("water")
    page.get_by_label("Name").fill("Water and sanitation")
    page.get_by_label("Group").select_option(label="Economic, social and cultural rights")
    screenshot("reference-right-form")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Added the right Water and sanitation.").is_visible()

    # A shipped right can be edited, not deleted; a right in use cannot be deleted either.
    page.get_by_role("link", name="Right to health", exact=True).click()
    assert page.get_by_text("Shipped with the application").is_visible()
    assert page.get_by_role("link", name="Delete…").count() == 0
    db.session.rollback()
    water = db.session.scalars(select(Right).where(Right.code == "water")).one()
    factory.case(rights=[water])
    page.goto("/taxonomy/admin/rights")
    page.get_by_role("link", name="Water and sanitation", exact=True).click()
    page.get_by_role("link", name="Delete…").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("It cannot be deleted:").is_visible()
    assert page.get_by_text("it is in use by cases").is_visible()
    assert page.get_by_role("button", name="Delete").count() == 0
    screenshot("reference-right-delete-refused")

    page.goto("/taxonomy/admin/instruments")
    screenshot("reference-instruments")


def test_forum_finder_for_france_shows_the_eu_charter_by_membership(
    reference_data, factory, page, browser_login, screenshot
):
    browser_login(factory.user())
    page.goto("/patterns/forum-finder?jurisdiction=FR")
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Member of the European Union since 1958-01-01").is_visible()
    assert page.get_by_text("A communication submitted more than five years after").is_visible()
    assert "filing_limit_months" not in page.content()
    screenshot("forum-finder-france")
    os.makedirs(SCREENSHOT_DIR, exist_ok=True)
    for code in ("HRC", "CJEU"):
        row = page.locator("tr", has=page.locator("small", has_text=code)).first
        row.screenshot(path=os.path.join(SCREENSHOT_DIR, f"forum-finder-france-{code}.png"))
