"""The litigator's workflow in a real browser: pickers, proceedings, treatments, timeline."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.cases import test_services
from tracker.cases.models import Case, Event
from tracker.types import Role

pytestmark = pytest.mark.browser

# France's ratifications (the ECtHR open to it) and a fixed "today" for the filing limits.
procedures = test_services.procedures
on_day = test_services.on_day

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _pick(page, name: str, typed: str, option: str):
    box = page.get_by_role("combobox", name=name)
    box.click()
    box.fill(typed)
    page.get_by_role("option", name=option).first.wait_for()
    box.press("ArrowDown")
    box.press("Enter")


def _both(page, screenshot, name: str, reload: bool = False):
    page.set_viewport_size(DESKTOP)
    screenshot(f"cases-{name}-desktop")
    page.set_viewport_size(PHONE)
    if reload:  # a GET page: load it as a phone would (filters start folded)
        page.reload()
    screenshot(f"cases-{name}-phone")
    page.set_viewport_size(DESKTOP)


def test_litigator_workflow(
    page, db, ref, litigator, browser_login, screenshot, procedures, on_day
):
    on_day(date(2025, 4, 1))
    browser_login(litigator)
    page.goto("/cases/")
    assert page.get_by_role("heading", name="No cases yet").is_visible()
    _both(page, screenshot, "list-empty")

    # The form with validation errors.
    page.get_by_role("link", name="New case").first.click()
    page.get_by_role("button", name="Create case").click()
    assert page.get_by_text("Please correct the highlighted fields.").is_visible()
    assert page.locator("#title-error").is_visible()
    _both(page, screenshot, "form-errors")

    # Create, tagging with the type-ahead pickers (keyboard only).
    page.get_by_label("Title").fill("A.B. v. France")
    page.get_by_label("Your reference").fill("LIT-2025-01")
    page.get_by_label("Type of case").select_option("individual_complaint")
    _pick(page, "Jurisdiction", "Fran", "France")
    page.get_by_label("Summary").fill("Detention of a family pending removal.")
    _pick(page, "Rights", "liber", "Liberty and security")
    _pick(page, "Rights", "refoul", "Non-refoulement")
    box = page.get_by_role("combobox", name="Rights")
    box.fill("zzz")
    page.locator(".picker-empty").wait_for()
    box.press("Escape")  # closes the list
    assert page.locator(".picker-empty").is_hidden()
    box.press("Escape")  # clears the text
    assert box.input_value() == ""
    _pick(page, "Provisions invoked", "ECHR 5", "Right to liberty and security")
    assert page.locator("input[name=rights]").input_value() == "liberty; non-refoulement"
    page.get_by_label("Status", exact=True).select_option("pending")
    page.get_by_role("button", name="Create case").click()
    assert page.get_by_role("heading", name="A.B. v. France").is_visible()
    assert page.get_by_text("Case created.").is_visible()
    db.session.rollback()  # see what the server committed
    case = db.session.scalar(select(Case))
    assert {r.code for r in case.rights} == {"liberty", "non-refoulement"}

    # First proceeding: the domestic decision, with treatments.
    page.get_by_role("link", name="Add proceeding").click()
    _pick(page, "Forum", "Conseil", "Conseil d'État")
    page.get_by_label("Reference number").fill("No 456789")
    page.get_by_label("Filed on").fill("2024-09-01")
    page.get_by_label("Decided on").fill("2025-03-10")
    page.get_by_label("Status").select_option("decided")
    page.get_by_label("Outcome").select_option("loss")
    page.get_by_label("Liberty and security", exact=True).select_option("rejected")
    page.get_by_label("ECHR 5 — Right to liberty and security").select_option("rejected")
    page.get_by_role("button", name="Save proceeding").click()
    assert page.get_by_text(
        "Proposed deadline: File with European Court of Human Rights by 2025-07-10"
    ).is_visible()

    # Second proceeding: the application to Strasbourg.
    page.get_by_role("link", name="Add proceeding").click()
    _pick(page, "Forum", "Europ", "European Court of Human Rights")
    page.get_by_label("Reference number").fill("12345/25")
    page.get_by_label("Filed on").fill("2025-03-28")
    page.get_by_label("Status").select_option("pending")
    page.get_by_label("Liberty and security", exact=True).select_option("not_reached")
    page.get_by_role("button", name="Save proceeding").click()
    assert page.get_by_role("cell", name="12345/25").is_visible()

    # The proposal is on the timeline; confirm it.
    timeline = page.locator("#timeline")
    assert timeline.get_by_text("needs confirmation").is_visible()
    timeline.get_by_role("button", name="Confirm deadline").click()
    assert page.get_by_text("Deadline confirmed.").is_visible()
    db.session.rollback()
    assert db.session.scalar(select(Event)).confirmed is True

    # Edit the case.
    page.get_by_role("link", name="Edit case").click()
    page.get_by_label("Strategic aim").fill("Stop the detention of children.")
    page.get_by_role("button", name="Save changes").click()
    assert page.get_by_text("Case saved.").is_visible()
    assert page.get_by_text("Stop the detention of children.").is_visible()
    assert page.locator(".treatments").get_by_text("Rejected").first.is_visible()
    _both(page, screenshot, "detail")

    page.goto("/cases/")
    assert page.get_by_role("link", name="A.B. v. France").is_visible()
    assert page.locator(".facets").get_by_text("Liberty and security").is_visible()
    _both(page, screenshot, "list", reload=True)
    assert page.get_by_role("link", name="A.B. v. France").is_visible()

    page.goto("/cases/deadlines")
    assert page.get_by_text("File with European Court of Human Rights by 2025-07-10").is_visible()
    screenshot("cases-deadlines-desktop")


def test_conflicts_confirmations_and_the_case_page_partials(
    page,
    browser,
    live_server,
    db,
    ref,
    litigator,
    factory,
    browser_login,
    screenshot,
    procedures,
    on_day,
):
    """A stale proceeding form, removals with a confirmation step (no JavaScript needed),
    proposals confirmed from the deadlines page, and the case page's alert button."""
    from tests.cases.conftest import case_form, proceeding_form
    from tracker.cases import services as svc

    on_day(date(2025, 4, 1))
    case = svc.create_case(actor=litigator, data=case_form())
    proc = svc.add_proceeding(actor=litigator, case=case, data=proceeding_form())
    svc.add_party(actor=litigator, case=case, data={"role": "claimant", "pseudonym": "A.B."})
    germany = factory.jurisdiction("DE", name="Germany")
    other = factory.case(title="C.D. v. Germany", jurisdiction=germany)
    other.rights = [ref.liberty]
    db.session.commit()
    colleague = factory.user(
        role=Role.LITIGATOR, organisation=litigator.organisation, name="Carla Colleague"
    )
    browser_login(litigator)

    # The case page: alert button, suggested pleadings, similar cases.
    page.goto(f"/cases/{case.id}")
    page.get_by_role("button", name="Alert me about this case").click()
    assert page.get_by_role("button", name="Stop alerts for this case").is_visible()
    assert page.get_by_role("heading", name="Suggested model pleadings").is_visible()
    similar = page.locator(".similar-cases")
    assert similar.get_by_role("link", name="C.D. v. Germany").is_visible()
    _both(page, screenshot, "detail-partials")

    # I open the proceeding; a colleague, in another browser, records the decision meanwhile.
    url = f"/cases/{case.id}/proceedings/{proc.id}/edit"
    page.goto(url)
    other_context = browser.new_context(base_url=live_server)
    theirs = other_context.new_page()
    theirs.goto("/login")
    theirs.get_by_label("E-mail").fill(colleague.email)
    theirs.get_by_label("Password").fill(factory.PASSWORD)
    theirs.get_by_role("button", name="Sign in").click()
    theirs.goto(url)
    theirs.get_by_label("Decided on").fill("2025-03-10")
    theirs.get_by_label("Status").select_option("decided")
    theirs.get_by_label("Outcome").select_option("loss")
    theirs.get_by_role("button", name="Save proceeding").click()
    assert theirs.get_by_text("Proceeding saved.").is_visible()
    other_context.close()

    page.get_by_label("Notes").fill("The hearing went well.")
    page.get_by_role("button", name="Save proceeding").click()
    conflict = page.locator(".conflict")
    assert conflict.get_by_text("This record was changed by someone else").is_visible()
    assert conflict.get_by_text("Carla Colleague").first.is_visible()
    assert page.get_by_label("Status").input_value() == "decided"  # theirs, I had not touched it
    assert page.get_by_label("Notes").input_value() == "The hearing went well."  # mine
    _both(page, screenshot, "proceeding-conflict")
    page.get_by_role("button", name="Save proceeding").click()
    assert page.get_by_text("Proceeding saved.").is_visible()
    db.session.rollback()
    saved = db.session.get(type(proc), proc.id)
    assert (saved.status.value, saved.notes) == ("decided", "The hearing went well.")

    # Removing a party asks first, without any script.
    page.goto(f"/cases/{case.id}")
    page.locator("#parties").get_by_role("link", name="Remove… A.B.").click()
    assert page.get_by_role("heading", name="Remove this party?").is_visible()
    page.get_by_role("button", name="Remove").click()
    assert page.get_by_text("Tick the box to confirm.").first.is_visible()
    _both(page, screenshot, "confirm-remove")
    page.get_by_label("Yes, remove it.").check()
    page.get_by_role("button", name="Remove").click()
    assert page.get_by_text("Party removed.").is_visible()

    # The proposal from the colleague's decision, confirmed from my deadlines.
    page.goto("/cases/deadlines")
    row = page.locator("tr", has_text="File with European Court of Human Rights by 2025-07-10")
    _both(page, screenshot, "deadlines-proposed")
    row.get_by_role("button", name="Confirm").click()
    assert page.get_by_text("Deadline confirmed.").is_visible()
    assert page.url.endswith("/cases/deadlines")

    page.goto(f"/cases/{case.id}/delete")
    assert page.get_by_role("heading", name="Documents deleted with it").is_visible()
    screenshot("cases-delete-desktop")
