"""`tracker users create`: the password from stdin, the e-mail checked like the admin form's,
and nothing created (nor announced) when the user cannot be created."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tracker.auth.models import Organisation, User

PASSPHRASE = "a long and secret passphrase"


def _create(runner, email: str, password: str = PASSPHRASE, org: str = "New Org"):
    args = ["users", "create", "--email", email, "--organisation", org, "--role", "admin"]
    return runner.invoke(args=[*args, "--password-stdin"], input=password + "\n")


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_creates_the_user_and_a_new_organisation(runner, db):
    result = _create(runner, "Ada@Example.org")
    assert result.exit_code == 0, result.output
    assert "Created organisation 'New Org'." in result.output
    assert "Created admin ada@example.org in New Org." in result.output
    user = db.session.scalar(select(User).where(User.email == "ada@example.org"))
    assert user.organisation.name == "New Org"


@pytest.mark.parametrize(
    "email", ["not-an-address", "two@@example.org", "a@b", "ada@example..org", "@example.org"]
)
def test_a_bad_email_creates_nothing(runner, db, email):
    result = _create(runner, email)
    assert result.exit_code == 1
    assert "Enter a valid e-mail address." in result.output
    assert "Created" not in result.output
    assert _count(db, User) == 0 and _count(db, Organisation) == 0


def test_a_weak_password_creates_nothing(runner, db):
    result = _create(runner, "ada@example.org", password="short")
    assert result.exit_code == 1
    assert "Use at least 12 characters." in result.output
    assert "Created" not in result.output
    assert _count(db, Organisation) == 0


def test_an_existing_user_is_refused(runner, db, factory):
    factory.user(email="ada@example.org")
    organisations = _count(db, Organisation)
    result = _create(runner, "ada@example.org")
    assert result.exit_code == 1
    assert "already exists" in result.output and "Created" not in result.output
    assert _count(db, Organisation) == organisations
