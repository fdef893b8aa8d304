"""Similar cases on the case page: ranking, the bounded candidate window, and who sees what
(conftest world: C1 is "Liberty FR", tagged liberty and ECHR:5)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tracker.access import can_see_case
from tracker.patterns import similar
from tracker.patterns.similar import similar_cases
from tracker.types import Confidentiality, utcnow

C = Confidentiality


def _case(factory, w, title, jur="DE", rights=("liberty",), provisions=(), updated=None, **kw):
    case = factory.case(
        organisation=kw.pop("organisation", w.o["A"]), jurisdiction=w.j[jur], title=title, **kw
    )
    case.rights = [w.r[x] for x in rights]
    case.provisions = [w.p[x] for x in provisions]
    if updated is not None:
        case.updated_at = updated
    factory.db.session.commit()
    return case


def _titles(user, case):
    return [s.case.title for s in similar_cases(user, case)]


def test_shared_provisions_rank_first_wording_breaks_ties_and_the_crosswalk_counts(world, factory):
    subject = _case(
        factory,
        world,
        "Airport transit zone detention",
        jur="FR",
        provisions=("ECHR:5",),
        summary="Asylum seekers confined in the airport transit zone for weeks.",
    )
    _case(factory, world, "Same right only", jur="ES")
    _case(
        factory,
        world,
        "Transit zone confinement",
        jur="ES",
        summary="Asylum seekers confined in an airport transit zone.",
    )
    _case(factory, world, "Same provision", provisions=("ECHR:5",))
    _case(factory, world, "Covenant only", jur="ES", rights=(), provisions=("ICCPR:9",))
    _case(factory, world, "Torture only", rights=("torture",))
    got = similar_cases(world.u["outsider"], subject)
    titles = [s.case.title for s in got]
    assert titles[0] == "Same provision"
    assert got[0].shared_provisions == ["ECHR:5"] and got[0].shared_rights == ["Liberty"]
    # Same tags, and the wording decides.
    assert titles.index("Transit zone confinement") < titles.index("Same right only")
    assert next(s for s in got if s.case.title == "Transit zone confinement").text_score > 0.3
    # Tagged only with ICCPR art. 9, which maps to liberty.
    covenant = next(s for s in got if s.case.title == "Covenant only")
    assert covenant.shared_rights == ["Liberty"] and covenant.shared_provisions == []
    assert "Torture only" not in titles
    assert subject.title not in titles and "Family FR" not in titles  # same jurisdiction


def test_candidates_are_the_most_recently_updated_within_the_window(world, factory, monkeypatch):
    now = utcnow()
    subject = world.c["C1"]
    # The best match on every count, but updated long ago.
    _case(factory, world, "Old twin", provisions=("ECHR:5",), updated=now - timedelta(days=900))
    _case(factory, world, "Newer A", jur="ES", updated=now + timedelta(days=1))
    _case(factory, world, "Newer B", updated=now + timedelta(days=2))
    assert _titles(world.u["outsider"], subject)[0] == "Old twin"

    monkeypatch.setattr(similar, "CANDIDATE_LIMIT", 2)
    assert sorted(_titles(world.u["outsider"], subject)) == ["Newer A", "Newer B"]

    # The window is the most recently updated cases, whatever they share.
    monkeypatch.setattr(similar, "CANDIDATE_LIMIT", 400)
    _case(factory, world, "Newest, unrelated", rights=("torture",), updated=now + timedelta(days=3))
    monkeypatch.setattr(similar, "MAX_SCANNED", 3)
    assert sorted(_titles(world.u["outsider"], subject)) == ["Newer A", "Newer B"]
    monkeypatch.setattr(similar, "MAX_SCANNED", 5)
    assert "Old twin" not in _titles(world.u["outsider"], subject)


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("outsider", {"Partnered with Org A", "Team of the outsider", "Led by Org A"}),
        ("insider", {"Partnered with Org A", "Org B only", "Team of the insider"}),
        ("viewer", {"Partnered with Org A", "Led by Org A"}),
    ],
)
def test_only_cases_the_viewer_may_see_are_suggested(
    world, factory, client, login, viewer, expected
):
    w, b = world, world.o["B"]
    user = w.u[viewer]
    made = [
        _case(factory, w, "Org B only", organisation=b, confidentiality=C.ORGANISATION),
        _case(
            factory,
            w,
            "Partnered with Org A",
            organisation=b,
            confidentiality=C.ORGANISATION,
            partners=[w.o["A"]],
        ),
        _case(
            factory,
            w,
            "Team of the outsider",
            organisation=b,
            confidentiality=C.RESTRICTED,
            team=[w.u["outsider"]],
        ),
        _case(
            factory,
            w,
            "Team of the insider",
            jur="ES",
            organisation=b,
            confidentiality=C.RESTRICTED,
            team=[w.u["insider"]],
        ),
        _case(factory, w, "Nobody's team", organisation=b, confidentiality=C.RESTRICTED),
        _case(factory, w, "Led by Org A", confidentiality=C.ORGANISATION),
    ]
    titles = set(_titles(user, w.c["C1"]))
    assert titles & {c.title for c in made} == expected
    assert expected == {c.title for c in made if can_see_case(user, c)}
    # And on the page itself: no title of a case the viewer may not see.
    login(user)
    html = client.get(f"/cases/{w.c['C1'].id}").get_data(as_text=True)
    panel = html.split('id="similar-h"')[1].split("</section>")[0]
    for case in made:
        assert (case.title in panel) == (case.title in expected)
