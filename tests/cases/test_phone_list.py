"""The case list on a phone (375 px): a sort control where the table headers are hidden, and
compact cards (the short facts side by side, not one line each)."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.cases.models import Status

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture()
def listed(factory, ref, litigator):
    org = litigator.organisation
    rights = [factory.right("liberty"), factory.right("asylum", name="Asylum")]
    made = {}
    for title, status in (
        ("Mid v. State", Status.PENDING),
        ("Zeta v. State", Status.DECIDED),
        ("Alpha v. State", Status.PENDING),
    ):
        case = factory.case(organisation=org, title=title, status=status, jurisdiction=ref.fr)
        case.rights = rights
        factory.proceeding(case, forum=ref.fr_court, filed_on=date(2024, 5, 2))
        made[title] = case
    factory.commit()
    return made


def _titles(page) -> list[str]:
    return page.locator(".case-table tbody td:first-child strong").all_inner_texts()


def test_phone_list_sorts_and_shows_compact_cards(
    page, listed, litigator, browser_login, screenshot
):
    browser_login(litigator)
    page.set_viewport_size(PHONE)
    page.goto("/cases/?status=pending")
    assert page.locator(".case-table thead").is_hidden()  # the sort links are gone ...
    sort = page.get_by_label("Sort by")
    assert sort.is_visible()  # ... and this replaces them
    assert page.get_by_role("button", name="Sort").is_hidden()  # it submits on change
    sort.select_option(label="Title, A to Z")
    page.wait_for_url("**sort=title**")
    assert "status=pending" in page.url  # the filters are kept
    assert _titles(page) == ["Alpha v. State", "Mid v. State"]
    assert sort.input_value() == "title"
    page.get_by_label("Sort by").select_option(label="Title, Z to A")
    page.wait_for_url("**sort=-title**")
    assert _titles(page) == ["Mid v. State", "Alpha v. State"]

    # Compact: the short facts share lines, so a card with two rights stays short.
    row = page.locator(".case-table tbody tr").first
    facts = ("Jurisdiction", "Filed", "Status", "Outcome", "Updated")
    tops = {round(row.locator(f"td[data-label={name}]").bounding_box()["y"]) for name in facts}
    assert len(tops) <= 3, f"the five short facts take {len(tops)} lines"
    assert row.bounding_box()["height"] < 200
    assert row.bounding_box()["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot("cases-list-phone-compact")

    page.set_viewport_size(DESKTOP)
    assert page.get_by_label("Sort by").is_hidden()  # the table headers sort on wide screens
    assert page.locator(".case-table thead").is_visible()
    screenshot("cases-list-desktop-sorted")


def test_sort_form_works_without_javascript(client, login, listed, litigator):
    login(litigator)
    html = client.get("/cases/?status=pending&sort=-title&page=1").get_data(as_text=True)
    start = html.index('class="sort-narrow"')
    form = html[start : html.index("</form>", start)]
    assert '<input type="hidden" name="status" value="pending">' in form
    assert 'name="page"' not in form  # a new order starts on page 1
    assert '<option value="-title" selected>' in form
    assert ">Sort</button>" in form
