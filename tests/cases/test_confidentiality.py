"""What users of each relation see of cases at each confidentiality level, on every cases view.

Uses the security area's visibility_world: one case per level led by `lead` with `partner`,
users of each role and relation (admins left out here: they must set up a second factor
before seeing any page, which the security tests cover).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tracker.cases import services as svc
from tracker.cases.models import CaseLink, Event, Party
from tracker.types import Role

RELATIONS = ("same_org", "partner_org", "other_org", "team_member")
ROLES = (Role.VIEWER, Role.LITIGATOR, Role.COORDINATOR)


@pytest.fixture()
def world(visibility_world, factory, db):
    """The shared world, plus a party, a link to each case and a near deadline on each."""
    w = visibility_world
    hub = factory.case(
        organisation=w.organisations["other"], confidentiality="public", title="VW hub case"
    )
    soon = date.today() + timedelta(days=5)
    for level, case in w.cases.items():
        db.session.add(
            Party(
                case=case,
                role="claimant",
                pseudonym=f"PS-{level.value}",
                full_name=f"ID-{level.value}",
            )
        )
        db.session.add(CaseLink(source_case_id=hub.id, target_case_id=case.id, kind="cites"))
        db.session.add(
            Event(
                case=case,
                kind="deadline",
                occurred_on=soon,
                title=f"DL {level.value}",
                is_deadline=True,
            )
        )
    db.session.commit()
    w.hub = hub
    return w


every_user = pytest.mark.parametrize(
    ("role", "relation"), [(r, rel) for r in ROLES for rel in RELATIONS]
)


@every_user
def test_list_detail_facets_links_picker(client, login, world, role, relation):
    user = world.users[(role, relation)]
    login(user)
    listing = client.get("/cases/?sort=title").get_data(as_text=True)
    linked = client.get(f"/cases/{world.hub.id}").get_data(as_text=True)
    picker = client.get("/cases/picker?q=VW").get_json()["items"]
    picked = {item["label"] for item in picker}
    visible = world.visible_titles(user)
    for level, case in world.cases.items():
        seen = world.expected(relation, level)
        assert (case.title in listing) is seen, (level, "list")
        assert (case.title in linked) is seen, (level, "incoming/outgoing link")
        assert (case.title in picked) is seen, (level, "picker")
        status = client.get(f"/cases/{case.id}").status_code
        assert status == (200 if seen else 404), (level, "detail")
    # Facet counts count only what the user sees (+1: the hub case in the list).
    count = len(visible) + 1
    assert f"{count} cases" in listing
    jurisdiction_facet = listing.split("Jurisdictions</h3>")[1].split("</ul>")[0]
    assert f">{count}</span>" in jurisdiction_facet


@every_user
def test_party_identity_only_for_team(client, login, world, role, relation):
    user = world.users[(role, relation)]
    login(user)
    for level, case in world.cases.items():
        if not world.expected(relation, level):
            continue
        html = client.get(f"/cases/{case.id}").get_data(as_text=True)
        assert f"PS-{level.value}" in html
        assert (f"ID-{level.value}" in html) is (relation == "team_member"), level


@every_user
def test_deadlines_view(client, login, world, role, relation):
    user = world.users[(role, relation)]
    login(user)
    html = client.get("/cases/deadlines").get_data(as_text=True)
    for level in world.cases:
        # The view lists the user's own cases: led by their organisation, or on the team.
        expected = relation in ("same_org", "team_member") and world.expected(relation, level)
        assert (f"DL {level.value}" in html) is expected, level


@pytest.mark.parametrize("relation", ["other_org", "partner_org"])
def test_invisible_case_actions_answer_404(client, login, world, relation):
    user = world.users[(Role.LITIGATOR, relation)]
    login(user)
    restricted = world.cases["restricted"]
    for method, url in [
        ("get", f"/cases/{restricted.id}/edit"),
        ("get", f"/cases/{restricted.id}/delete"),
        ("post", f"/cases/{restricted.id}/delete"),
        ("post", f"/cases/{restricted.id}/events"),
        ("post", f"/cases/{restricted.id}/parties"),
        ("post", f"/cases/{restricted.id}/links"),
        ("get", f"/cases/{restricted.id}/proceedings/new"),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 404, url
        assert "VW restricted case" not in response.get_data(as_text=True)


def test_link_listing_hides_invisible_source(client, login, world, factory, db):
    """An incoming link from a restricted case is not shown to someone outside its team."""
    target = world.cases["public"]
    db.session.add(
        CaseLink(
            source_case_id=world.cases["restricted"].id, target_case_id=target.id, kind="replicates"
        )
    )
    db.session.commit()
    login(world.users[(Role.LITIGATOR, "other_org")])
    html = client.get(f"/cases/{target.id}").get_data(as_text=True)
    assert "VW restricted case" not in html
    login(world.users[(Role.LITIGATOR, "team_member")])
    html = client.get(f"/cases/{target.id}").get_data(as_text=True)
    assert "VW restricted case" in html and "is replicated by" in html


def test_services_refuse_invisible_link_target(db, world):
    user = world.users[(Role.LITIGATOR, "same_org")]
    with pytest.raises(svc.ValidationFailed):
        svc.add_link(
            actor=user,
            case=world.cases["network"],
            target_id=world.cases["restricted"].id,
            kind="cites",
        )
