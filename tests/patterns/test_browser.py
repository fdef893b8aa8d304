"""The coordinators' view in a real browser: matrix -> case list, assigning, screenshots."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.conftest import SCREENSHOT_DIR
from tracker.extensions import db
from tracker.patterns.models import Opportunity, OpportunityStatus

pytestmark = pytest.mark.browser


def _shoot(page, selector: str, name: str) -> None:
    os.makedirs(SCREENSHOT_DIR, exist_ok=True)
    page.locator(selector).screenshot(path=os.path.join(SCREENSHOT_DIR, f"{name}.png"))


def test_patterns_cell_opens_the_matching_case_list(world, page, browser_login, screenshot):
    browser_login(world.u["outsider"])
    page.goto("/patterns/")
    assert page.get_by_role("heading", name="Patterns", exact=True).is_visible()
    screenshot("patterns-desktop")
    _shoot(page, "section[aria-labelledby=matrix-h]", "patterns-matrix")
    _shoot(page, "section[aria-labelledby=time-h]", "patterns-time-chart")
    _shoot(page, "section[aria-labelledby=map-h]", "patterns-map")
    # The liberty x France cell says 2 cases; clicking it lists those two.
    link = page.get_by_role("link", name="2 cases on Liberty in France")
    assert link.inner_text() == "2"
    link.click()
    page.wait_for_load_state("networkidle")
    parts = urlsplit(page.url)
    assert parts.path == "/cases/"
    assert parse_qs(parts.query) == {"right": ["liberty"], "jurisdiction": ["FR"]}
    body = page.content()
    assert "Liberty FR" in body and "Family FR" in body
    assert "Liberty DE" not in body
    screenshot("patterns-cell-case-list")
    # Switch to forums and back with the keyboard-reachable links.
    page.goto("/patterns/?view=forum")
    assert page.get_by_role("link", name="Forums").get_attribute("aria-current") == "page"


def test_assign_an_opportunity(world, page, browser_login, screenshot):
    browser_login(world.u["outsider"])
    page.goto("/patterns/opportunities")
    screenshot("opportunities-desktop")
    page.get_by_role("link", name="Liberty in Germany").click()
    page.get_by_label("Organisation").select_option(label="Org DE")
    page.get_by_role("button", name="Assign").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Opportunity assigned.").is_visible()
    screenshot("opportunity-assigned")
    db.session.rollback()  # end the test thread's read snapshot to see the server's commit
    row = db.session.scalar(
        select(Opportunity).where(Opportunity.assigned_organisation_id == world.o["DE"].id)
    )
    assert row is not None and row.status is OpportunityStatus.ASSIGNED


def test_forum_finder_and_phone_width(world, page, browser_login, screenshot):
    browser_login(world.u["viewer"])
    page.goto("/patterns/forum-finder")
    page.get_by_label("State").select_option(label="Morocco")
    page.get_by_label("Right (optional)").select_option(value="torture")
    page.get_by_role("button", name="Find forums").click()
    assert page.get_by_text("Ratified CAT but has not made the art. 22 declaration.").is_visible()
    screenshot("forum-finder-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("forum-finder-phone")
    page.goto("/patterns/")
    screenshot("patterns-phone")
    page.goto("/patterns/opportunities")
    screenshot("opportunities-phone")
    # Nothing overflows the phone's width except the scrollable tables.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400
