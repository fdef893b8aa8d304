"""Fixtures for security tests, reusable by every area.

``visibility_world`` builds a small network and says who must see which case, so that any
area (case lists, search, exports, the API, patterns) can prove it obeys the confidentiality
rule with the same data. From another test folder, import the fixture into your module
(``from tests.security.conftest import visibility_world  # noqa: F401``) and use it like
this (``login`` sends the TOTP code for the admin users by itself)::

    def test_my_list_obeys_confidentiality(client, login, visibility_world):
        world = visibility_world
        for (role, relation), user in world.users.items():
            ...sign in as user, fetch your page...
            for level, case in world.cases.items():
                assert (case.title in page) == world.expected(relation, level)

What it creates (committed, so views see it):

* organisations ``lead`` (leads every case), ``partner`` (partner on every case) and
  ``other`` (no link to the cases);
* for each role (viewer, litigator, coordinator, admin) and each relation, one user:
  - ``same_org``: a member of the lead organisation, not on any case team (so also the
    "not on the team" case for restricted records),
  - ``partner_org``: a member of the partner organisation, not on a team,
  - ``other_org``: a member of the other organisation, not on a team,
  - ``team_member``: a member of the *other* organisation named on every case's team (so
    team membership alone explains what they see);
* one case per confidentiality level (public, network, organisation, restricted), each led
  by ``lead`` with ``partner`` as partner and the ``team_member`` users on the team; titles
  are distinctive (``"VW public case"`` ...) so pages can be searched for them.

``world.expected(relation, level)`` is the rule as a table; ``world.visible_titles(user)``
gives the titles a user must see. Roles never change visibility (admins included).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tracker.types import Confidentiality, Role

RELATIONS = ("same_org", "partner_org", "other_org", "team_member")
ROLES = tuple(Role)
LEVELS = tuple(Confidentiality)

# relation -> the levels that relation may see (the DESIGN.md rule, written out by hand).
EXPECTED: dict[str, frozenset[Confidentiality]] = {
    "same_org": frozenset(
        {Confidentiality.PUBLIC, Confidentiality.NETWORK, Confidentiality.ORGANISATION}
    ),
    "partner_org": frozenset(
        {Confidentiality.PUBLIC, Confidentiality.NETWORK, Confidentiality.ORGANISATION}
    ),
    "other_org": frozenset({Confidentiality.PUBLIC, Confidentiality.NETWORK}),
    "team_member": frozenset(LEVELS),
}


@dataclass
class VisibilityWorld:
    organisations: dict[str, object]
    users: dict[tuple[Role, str], object]
    cases: dict[Confidentiality, object]
    relation_of: dict[int, str] = field(default_factory=dict)

    @staticmethod
    def expected(relation: str, level: Confidentiality) -> bool:
        return Confidentiality(level) in EXPECTED[relation]

    def visible_cases(self, user) -> set[int]:
        relation = self.relation_of[user.id]
        return {case.id for level, case in self.cases.items() if self.expected(relation, level)}

    def visible_titles(self, user) -> set[str]:
        relation = self.relation_of[user.id]
        return {case.title for level, case in self.cases.items() if self.expected(relation, level)}

    def hidden_titles(self, user) -> set[str]:
        return {case.title for case in self.cases.values()} - self.visible_titles(user)


@pytest.fixture()
def visibility_world(factory) -> VisibilityWorld:
    orgs = {
        "lead": factory.organisation(name="VW Lead organisation"),
        "partner": factory.organisation(name="VW Partner organisation"),
        "other": factory.organisation(name="VW Other organisation"),
    }
    org_of = {
        "same_org": orgs["lead"],
        "partner_org": orgs["partner"],
        "other_org": orgs["other"],
        "team_member": orgs["other"],
    }
    users = {}
    relation_of = {}
    for role in ROLES:
        for relation in RELATIONS:
            user = factory.user(
                role=role,
                organisation=org_of[relation],
                email=f"vw-{role.value}-{relation.replace('_', '-')}@example.org",
                name=f"VW {role.value} {relation}",
            )
            users[(role, relation)] = user
            relation_of[user.id] = relation
    team = [u for (role, relation), u in users.items() if relation == "team_member"]
    cases = {
        level: factory.case(
            organisation=orgs["lead"],
            confidentiality=level,
            partners=[orgs["partner"]],
            team=team,
            title=f"VW {level.value} case",
        )
        for level in LEVELS
    }
    return VisibilityWorld(organisations=orgs, users=users, cases=cases, relation_of=relation_of)
