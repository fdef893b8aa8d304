"""Fixtures for the admin pages: a signed-in administrator (with TOTP, as required)."""

from __future__ import annotations

import pytest

from tracker.types import Role


@pytest.fixture()
def admin(factory):
    return factory.user(role=Role.ADMIN, name="Ada Admin", email="ada@example.org")


@pytest.fixture()
def admin_client(client, login, admin):
    response = login(admin)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    return client
