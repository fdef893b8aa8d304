"""Forum finder on the shipped reference data: the EU Charter binds EU members through
membership (it has no ratifications), and the notes shown to users are worded for them.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from tracker.patterns.finder import forum_access, forum_finder
from tracker.taxonomy.models import Forum, Jurisdiction, Ratification, SystemMembership

EU_MEMBERS = [
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
]


def state(db, code: str) -> Jurisdiction:
    return db.session.scalars(select(Jurisdiction).where(Jurisdiction.code == code)).one()


def by_code(result) -> dict:
    return {a.forum.code: a for a in result.open + result.closed + result.not_covering}


def page_text(response) -> str:
    html = response.get_data(as_text=True)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_data_has_no_eu_charter_ratifications(db, reference_data):
    # Why the finder must use membership: this is what made every member "not a party".
    cjeu = db.session.scalars(select(Forum).where(Forum.code == "CJEU")).one()
    assert cjeu.instrument.code == "CFR-EU"
    assert (
        db.session.scalars(
            select(Ratification).where(Ratification.instrument_id == cjeu.instrument_id)
        ).all()
        == []
    )


def test_france_is_bound_by_the_eu_charter_through_membership(db, reference_data):
    access = by_code(forum_finder(state(db, "FR")))["CJEU"]
    assert "Not a party" not in access.reason
    assert access.reason.startswith(
        "Member of the European Union since 1958-01-01: bound by EU Charter through membership"
    )
    assert "preliminary ruling" in access.reason
    assert access.member_since == date(1958, 1, 1)
    # Bound, but there is no individual complaint to the Court of Justice under the Charter.
    assert access.is_open is False


@pytest.mark.parametrize("code", EU_MEMBERS)
def test_no_eu_member_is_said_not_to_be_a_party(db, reference_data, code):
    access = by_code(forum_finder(state(db, code)))["CJEU"]
    assert access.reason.startswith("Member of the European Union since "), access.reason


def test_a_non_member_and_a_former_member(db, reference_data):
    norway = by_code(forum_finder(state(db, "NO")))["CJEU"]
    assert norway.reason == ("Not a member of the European Union, so EU Charter does not bind it.")
    assert norway.member_since is None and not norway.is_open
    uk = by_code(forum_finder(state(db, "GB")))["CJEU"]
    assert uk.reason == "Left the European Union on 2020-01-31: EU Charter no longer binds it."


def test_membership_ending_is_respected(db, reference_data):
    france = state(db, "FR")
    membership = db.session.scalars(
        select(SystemMembership).where(
            SystemMembership.state_id == france.id,
            SystemMembership.system.has(code="EU"),
        )
    ).one()
    membership.left_on = date(2021, 6, 30)
    db.session.flush()
    cjeu = db.session.scalars(select(Forum).where(Forum.code == "CJEU")).one()
    assert forum_access(cjeu, france).reason.startswith("Left the European Union on 2021-06-30")


def test_ratification_based_answers_are_unchanged(db, reference_data):
    france = by_code(forum_finder(state(db, "FR")))
    assert france["ECTHR"].is_open and france["HRC"].is_open
    assert france["HRC"].reason == "Party to ICCPR and to ICCPR-OP1."
    morocco = by_code(forum_finder(state(db, "MA")))
    assert morocco["ECTHR"].reason == "Not a party to ECHR."


def test_forum_access_for_one_forum_matches_the_finder(db, reference_data):
    france = state(db, "FR")
    listed = by_code(forum_finder(france))
    for forum in db.session.scalars(select(Forum).where(Forum.instrument_id.is_not(None))):
        single = forum_access(forum, france)
        assert (single.is_open, single.reason) == (
            listed[forum.code].is_open,
            listed[forum.code].reason,
        ), forum.code


# --- what users read ------------------------------------------------------------------------
INTERNAL = re.compile(r"\b[a-z]+_[a-z_]+\b")  # column names such as filing_limit_months


def test_the_hrc_note_is_worded_for_users(db, reference_data):
    hrc = by_code(forum_finder(state(db, "FR")))["HRC"]
    assert "filing_limit_months" in hrc.forum.note  # the data file note stays for maintainers
    assert "filing_limit_months" not in hrc.note
    assert hrc.note.startswith("A communication submitted more than five years after")
    assert "abuse of the right of submission" in hrc.note


@pytest.mark.parametrize("code", ["FR", "NO", "MA", "BR"])
def test_no_note_on_the_finder_names_internal_fields(db, reference_data, code):
    result = forum_finder(state(db, code))
    for access in result.open + result.closed + result.not_covering:
        for text in (access.note, access.reason, access.forum.filing_limit_basis):
            assert not INTERNAL.search(text or ""), (access.forum.code, text)


def test_the_finder_page_for_france(db, reference_data, client, login, factory):
    login(factory.user())
    response = client.get("/patterns/forum-finder?jurisdiction=FR")
    assert response.status_code == 200
    text = page_text(response)
    assert "Not a party to EU Charter" not in text
    assert "Member of the European Union since 1958-01-01" in text
    assert "filing_limit_months" not in text
    assert "no fixed limit A communication submitted more than five years" in text
    norway = page_text(client.get("/patterns/forum-finder?jurisdiction=NO"))
    assert "Not a member of the European Union, so EU Charter does not bind it." in norway
