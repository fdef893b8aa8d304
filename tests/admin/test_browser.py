"""Through a real browser: an admin signs in with TOTP, invites a user, sees the list."""

from __future__ import annotations

import pyotp
import pytest

from tests.factories import Factory
from tracker.types import Role

pytestmark = pytest.mark.browser


def _sign_in_admin(page, admin):
    page.goto("/login")
    page.get_by_label("E-mail").fill(admin.email)
    page.get_by_label("Password").fill(Factory.PASSWORD)
    page.get_by_label("Authentication code").fill(pyotp.TOTP(admin.totp_secret).now())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def test_admin_invites_a_user_and_sees_the_list(page, factory, screenshot):
    org = factory.organisation(name="Centro de Derechos Migrantes", short_name="CDM")
    factory.organisation(name="Refugee Legal Aid")
    admin = factory.user(role=Role.ADMIN, name="Ada Admin", organisation=org)
    factory.user(name="Kwame Litigator", organisation=org)
    _sign_in_admin(page, admin)
    assert page.get_by_role("heading", name="Welcome, Ada Admin").is_visible()

    page.get_by_role("link", name="Admin").first.click()
    page.get_by_role("link", name="Users").click()
    page.wait_for_load_state("networkidle")
    screenshot("admin-users")
    page.get_by_role("link", name="Invite a user").click()

    # Submitting empty shows errors tied to the fields.
    page.get_by_role("button", name="Create and get the link").click()
    assert page.get_by_text("Please correct the highlighted fields.").is_visible()
    screenshot("admin-user-new-errors")

    page.get_by_label("Name").fill("Lucía Fernández")
    page.get_by_label("E-mail").fill("lucia@example.org")
    page.get_by_label("Organisation").select_option(label="Refugee Legal Aid")
    page.get_by_label("Role").select_option(value="litigator")
    page.get_by_role("button", name="Create and get the link").click()
    assert page.get_by_role("heading", name="Set-password link for Lucía Fernández").is_visible()
    link = page.get_by_label("One-time link").input_value()
    assert "/set-password/" in link
    screenshot("admin-user-invited")

    page.get_by_role("link", name="Back to users").click()
    row = page.get_by_role("row", name="Lucía Fernández")
    assert row.is_visible()
    assert row.get_by_text("Invited").is_visible()
    assert page.get_by_role("row", name="Kwame Litigator").is_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("admin-users-narrow")


def test_admin_pages_render(page, factory, screenshot, db):
    from tracker.auth.services import save_organisation, update_user

    fr = factory.jurisdiction("FR", "France")
    sn = factory.jurisdiction("SN", "Senegal")
    org = factory.organisation(name="Migrant Rights Centre", short_name="MRC")
    admin = factory.user(role=Role.ADMIN, name="Ada Admin", organisation=org)
    user = factory.user(name="Omar Viewer", role=Role.VIEWER, organisation=org)
    _sign_in_admin(page, admin)
    # Some history to browse (attributed to nobody: written outside a request). End this
    # thread's read transaction first: SQLite refuses a write from a stale WAL snapshot.
    db.session.rollback()
    save_organisation(
        organisation=org, name="Migrant Rights Centre", short_name="MRC", present_in=[fr, sn]
    )
    update_user(user=user, name="Omar Viewer", organisation=org, role=Role.LITIGATOR)
    db.session.commit()

    page.goto("/admin/organisations")
    assert page.get_by_role("row", name="Migrant Rights Centre").get_by_text("France").is_visible()
    screenshot("admin-organisations")
    page.get_by_role("link", name="Migrant Rights Centre").click()
    page.get_by_label("Name", exact=True).fill("")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("This field is required.").first.is_visible()
    screenshot("admin-organisation-errors")

    page.goto("/admin/audit")
    assert page.get_by_role("heading", name="Audit trail").is_visible()
    assert page.locator("ins", has_text="litigator").is_visible()
    screenshot("admin-audit")
    page.goto("/admin/audit?date_from=nope")
    assert page.get_by_text("Not a valid date value.").first.is_visible()
    screenshot("admin-audit-errors")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/admin/audit")
    screenshot("admin-audit-narrow")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/admin/users/{user.id}")
    screenshot("admin-user-edit")
    page.get_by_role("link", name="Disable account…").click()
    assert page.get_by_role("heading", name="Disable the account of Omar Viewer?").is_visible()
    screenshot("admin-user-disable-confirm")
    page.get_by_role("button", name="Disable account").click()
    assert page.get_by_text("Omar Viewer is disabled").is_visible()


def test_account_pages_render(page, factory, browser_login, screenshot):
    user = factory.user(name="Amina Diallo")
    page.goto("/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill("wrong password entirely")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_text("The e-mail or password is not right.").is_visible()
    screenshot("login-error")

    browser_login(user)
    page.get_by_role("link", name="My account").click()
    assert page.get_by_role("heading", name="My account").is_visible()
    screenshot("account")

    page.get_by_role("link", name="Change password").click()
    page.get_by_label("Current password").fill("not my password at all")
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_role("button", name="Change password").click()
    screenshot("account-password-errors")

    page.goto("/account/sessions")
    assert page.get_by_text("this session").is_visible()
    screenshot("account-sessions")

    page.goto("/account/two-factor")
    assert page.get_by_role("img", name="QR code for your authenticator app").is_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code from your app").fill(pyotp.TOTP(secret).now())
    screenshot("account-totp-setup")
    page.get_by_role("button", name="Turn on").click()
    assert page.get_by_text("Two-factor authentication is on.").is_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/account")
    screenshot("account-narrow")
    page.goto("/account/sessions")
    screenshot("account-sessions-narrow")


def test_admin_without_totp_is_sent_to_set_up(page, factory, browser_login, screenshot):
    admin = factory.user(role=Role.ADMIN, totp_secret=None, name="New Admin")
    browser_login(admin)
    assert page.url.endswith("/account/two-factor")
    page.goto("/admin/users")
    assert page.url.endswith("/account/two-factor")
    assert page.get_by_text("Administrators must use two-factor authentication").is_visible()
    screenshot("admin-totp-required")


def test_invitation_page(page, factory, db, screenshot):
    from tracker.auth.services import invitation_token

    user = factory.user(name="Invited Person", email="invited@example.org")
    user.password_hash = None
    db.session.commit()
    page.goto(f"/set-password/{invitation_token(user)}")
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("Repeat the new password").fill("different")
    page.get_by_role("button", name="Set password").click()
    screenshot("set-password-errors")
    page.goto("/set-password/forged-token")
    assert page.get_by_role("heading", name="This link is not valid").is_visible()
    screenshot("set-password-invalid")
