"""Suggestions for a case: ranking on a fixed library, reasons in words, confidentiality."""

from __future__ import annotations

from datetime import date

import pytest

from tests.pleadings.conftest import add_pleading, case_document, use
from tracker.pleadings import suggestions as scoring
from tracker.pleadings.services import suggest_pleadings
from tracker.taxonomy.models import JurisdictionKind


def titles(suggestions):
    return [s.pleading.title for s in suggestions]


def test_the_pleading_matching_rights_forum_and_language_ranks_first(app, library):
    with app.test_request_context():
        result = suggest_pleadings(library.user, library.case, limit=10)
    assert titles(result)[0] == library.best.title
    assert library.unrelated.title not in titles(result)  # shares nothing: not suggested at all


def test_a_crosswalk_match_counts(app, library):
    """The pleading tagged only with ECHR:5 matches the case tagged with the right liberty."""
    with app.test_request_context():
        result = suggest_pleadings(library.user, library.case, limit=10)
    by_title = {s.pleading.title: s for s in result}
    assert library.crosswalk.title in by_title
    assert "same right: Liberty (via ECHR:5)" in by_title[library.crosswalk.title].reasons


def test_the_reasons_name_the_right_the_forum_and_the_track_record(app, library):
    with app.test_request_context():
        best = suggest_pleadings(library.user, library.case)[0]
    why = "; ".join(best.reasons)
    assert "same rights: Liberty, Non-refoulement" in why
    assert "same forum: European Court of Human Rights" in why
    assert "used in 3 cases, 2 won" in why  # the restricted win is not counted for this user
    assert "language: French" in why


def test_the_case_team_counts_the_restricted_case_too(app, library):
    with app.test_request_context():
        best = suggest_pleadings(library.teammate, library.case)[0]
    assert "used in 4 cases, 3 won" in "; ".join(best.reasons)


def test_an_other_organisations_pleading_is_never_suggested(app, library):
    with app.test_request_context():
        mine = suggest_pleadings(library.user, library.case, limit=50)
    assert library.foreign_org.title not in titles(mine)


def test_a_restricted_pleading_is_suggested_to_its_uploader_only(app, library, factory):
    colleague = factory.user("litigator", organisation=library.org)
    with app.test_request_context():
        add_pleading(
            colleague,
            title="My private detention notes",
            language="fr",
            summary="Immigration detention pending removal to Sudan.",
            rights=["liberty"],
            confidentiality="restricted",
        )
        assert "My private detention notes" in titles(
            suggest_pleadings(colleague, library.case, limit=50)
        )
        assert "My private detention notes" not in titles(
            suggest_pleadings(library.user, library.case, limit=50)
        )


def test_endorsement_boosts_and_says_so(app, library, db):
    from tracker.types import utcnow

    with app.test_request_context():
        before = {s.pleading.id: s.score for s in suggest_pleadings(library.user, library.case)}
        library.crosswalk.endorsed_at = utcnow()
        db.session.commit()
        after = {s.pleading.id: s for s in suggest_pleadings(library.user, library.case)}
    boosted = after[library.crosswalk.id]
    assert boosted.score == pytest.approx(before[library.crosswalk.id] + scoring.ENDORSED_BOOST)
    assert "endorsed by the network" in boosted.reasons


def test_text_similarity_alone_can_suggest(app, library, factory):
    with app.test_request_context():
        add_pleading(
            library.user,
            title="Sudan removals",
            language="en",
            summary="Removal of asylum seekers to Sudan and their detention pending removal.",
        )
        result = {s.pleading.title: s for s in suggest_pleadings(library.user, library.case, 10)}
    assert "Sudan removals" in result
    assert any(reason.startswith("similar text") for reason in result["Sudan removals"].reasons)


def test_no_suggestions_for_a_case_the_user_cannot_see(app, library, factory):
    outsider = factory.user("litigator")
    with app.test_request_context():
        assert suggest_pleadings(outsider, library.restricted_case) == []


def test_tfidf_cosine_is_one_for_identical_text_and_zero_for_disjoint():
    sims = scoring._tfidf_cosines(
        "detention of asylum seekers", {1: "detention of asylum seekers", 2: "school fees"}
    )
    assert sims[1] == pytest.approx(1.0)
    assert 2 not in sims


def test_suggestions_page_shows_reasons_and_hides_what_the_user_cannot_see(client, login, library):
    login(library.user)
    response = client.get(f"/pleadings/suggest?case={library.case.id}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert library.best.title in body
    assert "same forum: European Court of Human Rights" in body
    assert "used in 3 cases, 2 won" in body
    assert library.foreign_org.title not in body
    assert library.unrelated.title not in body


def test_suggestions_page_for_an_invisible_case_is_404(client, login, library, factory):
    login(factory.user("litigator"))
    assert client.get(f"/pleadings/suggest?case={library.restricted_case.id}").status_code == 404
    assert client.get("/pleadings/suggest?case=abc").status_code == 404


def test_the_partial_renders_on_another_areas_page(app, library):
    """The case page includes templates/pleadings/_suggestions.html with `case` in context."""
    from flask import render_template_string
    from flask_login import login_user

    with app.test_request_context(f"/cases/{library.case.id}"):
        login_user(library.user)
        html = render_template_string(
            '{% include "pleadings/_suggestions.html" %}', case=library.case
        )
    assert "Suggested model pleadings" in html
    assert library.best.title in html
    assert "same forum: European Court of Human Rights" in html
    assert library.foreign_org.title not in html


# --- Each signal on its own: pairs of pleadings that differ in one thing only ---------------


@pytest.fixture()
def pairs(factory, db):
    """A case in France before the ECtHR, with French documents, tagged with liberty.

    The pleadings of a pair share the right liberty (so both are relevant), the same summary
    and file, and titles that sort the loser first: only the signal under test can put the
    winner ahead. Their words share nothing with the case's, so no text similarity counts.
    """
    org = factory.organisation("Refugee Law Centre")
    user = factory.user("litigator", organisation=org)
    coe = factory.jurisdiction("COE", "Council of Europe", kind=JurisdictionKind.SYSTEM)
    ias = factory.jurisdiction("IAS", "Inter-American system", kind=JurisdictionKind.SYSTEM)
    un = factory.jurisdiction("UN", "United Nations", kind=JurisdictionKind.SYSTEM)
    france = factory.jurisdiction("FR", "France")
    liberty = factory.right("liberty", "Liberty")
    ecthr = factory.forum("ECTHR", coe, name="European Court of Human Rights")
    factory.forum("ECSR", coe, name="European Committee of Social Rights")
    factory.forum("IACTHR", ias, name="Inter-American Court of Human Rights")
    factory.forum("CAT", un, name="Committee against Torture")
    case = factory.case(organisation=org, title="M.K. v. France", jurisdiction=france)
    case.rights = [liberty]
    db.session.commit()
    factory.proceeding(case, ecthr)
    case_document(case, "fr")
    return user, org, case


# signal: (winner's data, loser's data, the winner's reason, the weight that decides)
PAIRS = {
    "forum": (
        {"forums": ["ECTHR"]}, {"forums": ["CAT"]},
        "same forum: European Court of Human Rights", "WEIGHT_FORUM",
    ),
    "system via a forum": (
        {"forums": ["ECSR"]}, {"forums": ["IACTHR"]},
        "same regional system: Council of Europe", "WEIGHT_SYSTEM",
    ),
    "system tagged": (
        {"systems": ["COE"]}, {"systems": ["IAS"]},
        "same regional system: Council of Europe", "WEIGHT_SYSTEM",
    ),
    "language": ({"language": "fr"}, {"language": "de"}, "language: French", "WEIGHT_LANGUAGE"),
    "track record": (
        {"used_in": "win"}, {"used_in": "loss"}, "used in 1 case, 1 won", "WEIGHT_WIN"
    ),
}  # fmt: skip


@pytest.mark.parametrize("signal", list(PAIRS))
def test_one_signal_alone_orders_a_pair_and_says_why(app, pairs, factory, signal):
    user, org, case = pairs
    winner_data, loser_data, reason, weight = PAIRS[signal]
    with app.test_request_context():
        made = {}
        for name, data in (("B", winner_data), ("A", loser_data)):
            data = dict(data)
            outcome = data.pop("used_in", None)
            made[name] = add_pleading(
                user, title=f"Pair {name}", summary="Model arguments.", rights=["liberty"], **data
            )
            if outcome:
                used = factory.case(organisation=org, outcome=outcome, title=f"Used {outcome}")
                use(made[name], used)
        result = suggest_pleadings(user, case, limit=10)
    assert titles(result) == ["Pair B", "Pair A"]  # the loser's title sorts first on a tie
    winner, loser = result
    assert reason in winner.reasons
    assert reason not in loser.reasons
    assert winner.score - loser.score == pytest.approx(getattr(scoring, weight))


# --- The case's own regional systems, and its own use --------------------------------------


@pytest.fixture()
def greek_case(factory, db):
    """A Greek case with only a domestic proceeding; Greece is a member of the CoE."""
    from tracker.taxonomy.models import SystemMembership

    org = factory.organisation("Refugee Law Centre")
    user = factory.user("litigator", organisation=org)
    coe = factory.jurisdiction("COE", "Council of Europe", kind=JurisdictionKind.SYSTEM)
    ias = factory.jurisdiction("IAS", "Inter-American system", kind=JurisdictionKind.SYSTEM)
    un = factory.jurisdiction("UN", "United Nations", kind=JurisdictionKind.SYSTEM)
    greece = factory.jurisdiction("GR", "Greece")
    factory.commit(
        SystemMembership(system_id=coe.id, state_id=greece.id),
        SystemMembership(system_id=un.id, state_id=greece.id, left_on=date(2020, 1, 1)),
    )
    liberty = factory.right("liberty", "Liberty")
    factory.forum("ECTHR", coe, name="European Court of Human Rights")
    factory.forum("IACTHR", ias, name="Inter-American Court of Human Rights")
    factory.forum("CAT", un, name="Committee against Torture")
    council = factory.forum("GR-STE", greece, name="Council of State")
    case = factory.case(organisation=org, title="A.B. v. Greece", jurisdiction=greece)
    case.rights = [liberty]
    db.session.commit()
    factory.proceeding(case, council)
    return user, case


@pytest.mark.parametrize(
    ("winner", "loser"),
    [
        ({"forums": ["ECTHR"]}, {"forums": ["IACTHR"]}),
        ({"systems": ["COE"]}, {"systems": ["IAS"]}),
        # A membership that ended (here, made up for the test) does not count.
        ({"systems": ["COE"]}, {"systems": ["UN"]}),
    ],
)
def test_the_case_jurisdictions_systems_count(app, greek_case, winner, loser):
    user, case = greek_case
    with app.test_request_context():
        for title, data in (("Pair B", winner), ("Pair A", loser)):
            add_pleading(user, title=title, summary="Model arguments.", rights=["liberty"], **data)
        result = suggest_pleadings(user, case, limit=10)
    assert titles(result) == ["Pair B", "Pair A"]
    best, other = result
    assert "Greece is in the Council of Europe system" in best.reasons
    assert not any("system" in reason for reason in other.reasons)
    assert best.score - other.score == pytest.approx(scoring.WEIGHT_SYSTEM)


def test_the_track_record_leaves_out_the_case_being_viewed(app, library, db):
    from tracker.cases.models import Outcome

    use(library.best, library.case)
    library.case.outcome = Outcome.WIN
    db.session.commit()
    with app.test_request_context():
        best = next(
            s for s in suggest_pleadings(library.user, library.case) if s.pleading == library.best
        )
    assert best.used_here
    assert "used in 3 cases, 2 won" in best.reasons
    assert (best.cases, best.wins) == (3, 2)
