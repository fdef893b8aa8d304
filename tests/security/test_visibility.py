"""Role x confidentiality x relation: case_filter (SQL) and can_see_case (Python) agree with
the rule, for lists and counts, and nothing leaks across organisations or out of a team."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.security.conftest import LEVELS, RELATIONS, ROLES
from tracker.access import AUDIENCE_LEVELS, can_see_case, case_filter
from tracker.cases.models import Case
from tracker.types import Confidentiality


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_case_filter_and_can_see_case_agree_with_the_rule(db, visibility_world, role, relation):
    world = visibility_world
    user = world.users[(role, relation)]
    world_ids = [c.id for c in world.cases.values()]
    listed = set(
        db.session.scalars(select(Case.id).where(Case.id.in_(world_ids), case_filter(user)))
    )
    counted = db.session.scalar(
        select(func.count()).select_from(Case).where(Case.id.in_(world_ids), case_filter(user))
    )
    expected = world.visible_cases(user)
    assert listed == expected
    assert counted == len(expected)
    for level in LEVELS:
        case = world.cases[level]
        assert can_see_case(user, case) == world.expected(relation, level), level
        # One record at a time too (detail pages use this shape).
        one = db.session.scalar(select(Case.id).where(Case.id == case.id, case_filter(user)))
        assert (one is not None) == world.expected(relation, level), level


@pytest.mark.parametrize("audience", list(Confidentiality), ids=lambda a: a.value)
@pytest.mark.parametrize("relation", RELATIONS)
def test_an_audience_never_receives_more_than_it_may(db, visibility_world, relation, audience):
    world = visibility_world
    user = world.users[(ROLES[0], relation)]
    got = set(db.session.scalars(select(Case.confidentiality).where(case_filter(user, audience))))
    assert got <= set(AUDIENCE_LEVELS[audience])
    assert got <= {lvl for lvl in LEVELS if world.expected(relation, lvl)}


def test_restricted_case_is_seen_by_its_team_only(db, visibility_world):
    world = visibility_world
    restricted = world.cases[Confidentiality.RESTRICTED]
    seers = {
        key
        for key, user in world.users.items()
        if db.session.scalar(select(Case.id).where(Case.id == restricted.id, case_filter(user)))
    }
    assert seers == {(role, "team_member") for role in ROLES}


def test_anonymous_sees_nothing(db, visibility_world):
    from flask_login import AnonymousUserMixin

    anonymous = AnonymousUserMixin()
    assert (
        db.session.scalar(select(func.count()).select_from(Case).where(case_filter(anonymous))) == 0
    )
    assert not any(can_see_case(anonymous, c) for c in visibility_world.cases.values())
    assert db.session.scalar(select(func.count()).select_from(Case).where(case_filter(None))) == 0


@pytest.mark.parametrize("relation", RELATIONS)
def test_home_page_count_respects_the_rule(client, login, visibility_world, relation):
    """An HTTP-level check (the home page counts visible cases) as an example for other areas."""
    world = visibility_world
    user = world.users[(ROLES[1], relation)]
    login(user)
    html = client.get("/").get_data(as_text=True)
    expected = len(world.visible_cases(user))
    assert f'<p class="figure">{expected}</p>' in html
