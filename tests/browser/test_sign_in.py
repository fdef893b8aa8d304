"""Signing in through a real browser."""

import pytest

pytestmark = pytest.mark.browser


def test_sign_in_and_out(page, factory, browser_login, screenshot):
    user = factory.user(name="Lucía Fernández")
    page.goto("/")
    assert "/login" in page.url
    screenshot("login")
    browser_login(user)
    assert page.get_by_role("heading", name="Welcome, Lucía Fernández").is_visible()
    screenshot("home")
    page.get_by_role("button", name="Sign out").click()
    assert "/login" in page.url
    page.goto("/")
    assert "/login" in page.url


def test_wrong_password_shows_one_message(page, factory, browser_login):
    user = factory.user()
    browser_login(user, password="not the right password at all")
    assert page.get_by_text("The e-mail or password is not right.").is_visible()
