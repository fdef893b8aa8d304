"""Full-text search: ranking, snippets, confidentiality, index in step, safe queries.

The same tests run on SQLite (FTS5) and PostgreSQL (tsvector): the expected ids and counts
are written out, so a difference between the two engines fails one of the two runs.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tracker.access import case_filter
from tracker.cases.filters import apply_filters, parse_filters
from tracker.cases.models import Case, Status
from tracker.documents.models import Document, DocumentKind
from tracker.search.services import case_text_clause, parse_terms, search
from tracker.types import Confidentiality, Role

C = Confidentiality


@pytest.fixture()
def people(factory):
    lead = factory.organisation(name="Lead")
    return {
        "lead": lead,
        "team": factory.user(role=Role.LITIGATOR, organisation=lead, name="Team"),
        "colleague": factory.user(role=Role.LITIGATOR, organisation=lead, name="Colleague"),
        "outsider": factory.user(role=Role.COORDINATOR, name="Outsider"),
    }


@pytest.fixture()
def corpus(factory, people):
    """A fixed small corpus; the comments give the expected rank for "detention"."""
    lead, team = people["lead"], people["team"]
    mk = factory.case
    cases = {
        # 1st: the word in the title (weight A)
        "title": mk(
            organisation=lead,
            title="Detention of asylum seekers",
            summary="Claim about conditions.",
            team=[team],
        ),
        # 2nd: three times in the summary (weight B)
        "summary3": mk(
            organisation=lead,
            title="K.A. v. Malta",
            summary="Detention, more detention, and detention again in the centre.",
        ),
        # 3rd: once in the summary
        "summary1": mk(
            organisation=lead,
            title="R.B. v. Spain",
            summary="Administrative detention of a child at the airport for long.",
        ),
        # 4th: once in the arguments (weight C)
        "arguments": mk(
            organisation=lead,
            title="F.G. v. Italy",
            summary="Pushback at sea.",
            arguments="The detention violated article five of the convention here.",
        ),
        # never for outsiders: restricted to the team
        "restricted": mk(
            organisation=lead,
            confidentiality=C.RESTRICTED,
            team=[team],
            title="Secret matter",
            summary="Detention strategy zanzibarx for the team only.",
        ),
        "unrelated": mk(organisation=lead, title="Housing rights", summary="Eviction."),
    }
    docs = {
        "doc_title": factory.document(
            cases["summary1"],
            title="Detention order",
            text="The order was issued.",
            kind=DocumentKind.DECISION,
        ),
        "doc_text2": factory.document(
            cases["summary1"],
            title="Appeal brief",
            text="We contest the detention. The detention was unlawful.",
        ),
        "doc_text1": factory.document(
            cases["arguments"],
            title="Judgment",
            text="Released from detention on appeal.",
            kind=DocumentKind.JUDGMENT,
        ),
        # hidden: a restricted document on a network case; and any document of a restricted case
        "doc_restricted": factory.document(
            cases["summary3"],
            title="Internal memo",
            confidentiality=C.RESTRICTED,
            text="detention memo quokkaword strategy",
        ),
        "doc_of_restricted_case": factory.document(
            cases["restricted"],
            title="Team notes",
            confidentiality=C.RESTRICTED,
            text="detention zanzibarx notes",
        ),
    }
    return cases, docs


def test_cases_are_ranked_by_where_and_how_often_the_word_appears(people, corpus):
    cases, _ = corpus
    results = search(people["outsider"], "detention")
    assert results.ids == [
        cases["title"].id,
        cases["summary3"].id,
        cases["summary1"].id,
        cases["arguments"].id,
    ]
    assert results.counts == {"cases": 4, "documents": 3}


def test_documents_are_ranked_and_counted_by_kind(people, corpus):
    _, docs = corpus
    results = search(people["outsider"], "detention", scope="documents")
    assert results.ids == [docs["doc_title"].id, docs["doc_text2"].id, docs["doc_text1"].id]
    assert results.kind_counts == {"decision": 1, "brief": 1, "judgment": 1}
    only = search(people["outsider"], "detention", scope="documents", kind="judgment")
    assert only.ids == [docs["doc_text1"].id]
    assert only.total == 1


def test_the_team_sees_its_restricted_case_and_documents(people, corpus):
    cases, _docs = corpus
    results = search(people["team"], "detention")
    assert cases["restricted"].id in results.ids
    # "Internal memo" is restricted on a case whose team this user is not on.
    assert results.counts == {"cases": 5, "documents": 4}
    assert search(people["team"], "quokkaword").counts["documents"] == 0
    assert search(people["team"], "zanzibarx").counts == {"cases": 1, "documents": 1}


@pytest.mark.parametrize("who", ["outsider", "colleague"])
def test_restricted_text_never_appears_for_others(client, login, people, corpus, who):
    user = people[who]
    for word in ("zanzibarx", "quokkaword"):
        results = search(user, word)
        assert results.counts == {"cases": 0, "documents": 0}
        assert results.kind_counts == {}
        assert search(user, word, scope="documents").hits == []
    all_hits = search(user, "detention", per_page=100)
    docs_hits = search(user, "detention", scope="documents", per_page=100)
    for hit in all_hits.hits + docs_hits.hits:
        assert "zanzibarx" not in hit.snippet and "quokkaword" not in hit.snippet
    login(user)
    for scope in ("cases", "documents"):
        page = client.get(f"/search/?q=detention+zanzibarx&scope={scope}")
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "Secret matter" not in text and "Team notes" not in text
        assert "No results" in text
        assert '<span class="count">0</span>' in text


def test_case_text_clause_composes_with_case_filter_and_other_filters(db, people, corpus):
    cases, _ = corpus
    outsider = people["outsider"]
    ids = db.session.scalars(
        select(Case.id)
        .where(case_filter(outsider), case_text_clause("detention"))
        .order_by(Case.id)
    ).all()
    expected = sorted(cases[k].id for k in ("title", "summary3", "summary1", "arguments"))
    assert ids == expected
    team_ids = db.session.scalars(
        select(Case.id).where(case_filter(people["team"]), case_text_clause("zanzibarx"))
    ).all()
    assert team_ids == [cases["restricted"].id]

    cases["summary3"].status = Status.DECIDED
    db.session.commit()
    filters = parse_filters({"q": "detention", "status": "decided"})
    stmt = apply_filters(select(Case.id).where(case_filter(outsider)), filters)
    assert db.session.scalars(stmt).all() == [cases["summary3"].id]


def test_prefixes_and_several_words(people, corpus):
    cases, _ = corpus
    assert search(people["outsider"], "deten").ids[:1] == [cases["title"].id]
    assert search(people["outsider"], "detention airport").ids == [cases["summary1"].id]
    assert search(people["outsider"], "DETENTION Airport").ids == [cases["summary1"].id]
    assert search(people["outsider"], "detention nowhereword").ids == []


def test_snippets_are_escaped_and_highlighted(people, factory):
    case = factory.case(
        organisation=people["lead"],
        title="Zorblat <b>bold</b> title",
        summary="Before <script>alert('x')</script> the zorblat word & more text after.",
    )
    hit = search(people["outsider"], "zorblat").hits[0]
    assert hit.id == case.id
    assert "<mark>Zorblat</mark>" in hit.title
    assert "<b>" not in hit.title and "<script>" not in hit.snippet
    assert "<mark>zorblat</mark>" in hit.snippet
    assert "&amp;" in hit.snippet


QUERIES = [
    '"',
    "*",
    "AND",
    "detention OR",
    "NOT detention",
    "NEAR(detention asylum)",
    "title:detention",
    "'; DROP TABLE cases; --",
    "(((",
    "^detention",
    "detention*",
    '"detention',
    "a\"b'c\\d",
    "%_",
    "🙂",
    "détention",
    "الاحتجاز",
    "x" * 200,
    "-detention",
    "detention:* & !asylum",
]


@pytest.mark.parametrize("q", QUERIES)
def test_any_input_is_safe(client, login, people, corpus, q):
    results = search(people["outsider"], q)
    assert results.counts["cases"] >= 0  # no exception from the engine
    login(people["outsider"])
    for scope in ("cases", "documents"):
        response = client.get("/search/", query_string={"q": q, "scope": scope})
        assert response.status_code == 200
    with_filters = client.get("/cases/", query_string={"q": q})
    assert with_filters.status_code in (200, 400)


@pytest.mark.parametrize("q", ["...", "***", '" " "', "(-)", "&&||", "?"])
def test_only_punctuation_gives_no_results_not_an_error(client, login, people, corpus, q):
    assert parse_terms(q) == []
    results = search(people["outsider"], q)
    assert results.counts == {"cases": 0, "documents": 0} and results.hits == []
    login(people["outsider"])
    page = client.get("/search/", query_string={"q": q})
    assert page.status_code == 200
    assert "Nothing to search for" in page.get_data(as_text=True)


def test_operators_are_words_not_syntax(people, factory):
    case = factory.case(organisation=people["lead"], summary="near and not or")
    assert search(people["outsider"], "NEAR AND NOT OR").ids == [case.id]


def test_editing_a_case_updates_the_index(db, people, factory):
    case = factory.case(organisation=people["lead"], summary="The oldword is here.")
    outsider = people["outsider"]
    assert search(outsider, "oldword").ids == [case.id]
    case.summary = "The newword replaced it."
    db.session.commit()
    assert search(outsider, "oldword").ids == []
    assert search(outsider, "newword").ids == [case.id]
    case.title = "Retitled quuxtitle"
    db.session.commit()
    assert search(outsider, "quuxtitle").ids == [case.id]
    case.confidentiality = C.RESTRICTED
    db.session.commit()
    assert search(outsider, "newword").ids == []


def test_deleting_documents_and_cases_updates_the_index(db, people, factory):
    outsider = people["outsider"]
    case = factory.case(organisation=people["lead"], summary="frobnicate")
    document = factory.document(case, title="Exhibit", text="glorpword evidence")
    other_id = factory.document(case, title="Other", text="blivetword").id
    assert search(outsider, "glorpword", scope="documents").ids == [document.id]
    document.title = "Renamed exhibit"
    document.extracted_text = "changed text"
    db.session.commit()
    assert search(outsider, "glorpword").counts["documents"] == 0
    assert search(outsider, "renamed", scope="documents").ids == [document.id]
    db.session.delete(document)
    db.session.commit()
    assert search(outsider, "renamed").counts["documents"] == 0
    db.session.delete(case)
    db.session.commit()
    assert search(outsider, "frobnicate").counts == {"cases": 0, "documents": 0}
    assert search(outsider, "blivetword").counts == {"cases": 0, "documents": 0}
    db.session.expunge_all()
    assert db.session.get(Document, other_id) is None


def test_pagination_is_stable_and_complete(people, factory):
    made = [
        factory.case(organisation=people["lead"], title=f"Case {n}", summary="pagedword")
        for n in range(25)
    ]
    seen = []
    for page in (1, 2, 3):
        results = search(people["outsider"], "pagedword", page=page, per_page=10)
        assert results.total == 25 and results.pages == 3
        seen.extend(results.ids)
    assert seen == [c.id for c in made]  # equal rank: ties broken by id on both engines
    assert search(people["outsider"], "pagedword", page=4, per_page=10).hits == []


def test_long_document_text_is_indexed_up_to_the_limit(people, factory):
    from tracker.search.services import INDEX_CHARS

    filler = "lorem " * (INDEX_CHARS // 6)
    document = factory.document(
        factory.case(organisation=people["lead"]),
        text="startword " + filler + " farendword",
    )
    assert search(people["outsider"], "startword", scope="documents").ids == [document.id]
    assert search(people["outsider"], "farendword", scope="documents").ids == []


# --- The page ------------------------------------------------------------------------------


def test_search_page_empty_state(client, login, people):
    login(people["outsider"])
    page = client.get("/search/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Search the network" in text
    assert 'type="search"' in text and '<label for="q">' in text


def test_search_page_shows_ranked_linked_highlighted_hits(client, login, people, corpus):
    cases, docs = corpus
    login(people["outsider"])
    text = client.get("/search/?q=detention").get_data(as_text=True)
    assert text.index(f"/cases/{cases['title'].id}") < text.index(f"/cases/{cases['summary3'].id}")
    assert "<mark>Detention</mark> of asylum seekers" in text
    assert '<span class="count">4</span>' in text and '<span class="count">3</span>' in text
    documents = client.get("/search/?q=detention&scope=documents").get_data(as_text=True)
    assert f"/documents/{docs['doc_title'].id}/download" in documents
    assert f'href="/documents/{docs["doc_title"].id}"' in documents
    assert f"/cases/{cases['summary1'].id}" in documents  # the document's case
    assert "Internal memo" not in documents


def test_search_page_no_results_and_bad_parameters(client, login, people, corpus):
    login(people["outsider"])
    page = client.get("/search/?q=nothingmatchesthis&scope=weird&kind=nope")
    assert page.status_code == 200
    assert "No results" in page.get_data(as_text=True)
    too_long = client.get("/search/", query_string={"q": "x" * 201})
    assert too_long.status_code == 400
    assert "too long" in too_long.get_data(as_text=True)


def test_search_page_paginates(client, login, people, factory):
    for n in range(23):
        factory.case(organisation=people["lead"], title=f"Paged {n}", summary="pagedword")
    login(people["outsider"])
    first = client.get("/search/?q=pagedword").get_data(as_text=True)
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get("/search/?q=pagedword&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and 'rel="prev"' in second
    assert second.count('class="search-hit"') == 3


def test_search_requires_sign_in(client):
    response = client.get("/search/?q=detention")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# --- Proceedings' references, short words, the tab with results -------------------------


def test_a_proceedings_reference_finds_its_case_and_stays_in_step(db, people, factory):
    outsider, lead = people["outsider"], people["lead"]
    case = factory.case(organisation=lead, title="M.S. v. Greece", summary="Reception.")
    other = factory.case(organisation=lead, title="Other matter", summary="Unrelated.")
    factory.proceeding(case, reference="12345/19")
    second = factory.proceeding(case, reference="CCPR/C/130/D/2798/2016")
    factory.proceeding(other, reference=None)
    for q in ("12345/19", "12345", "CCPR/C/130/D/2798/2016", "2798/2016", "greece 12345/19"):
        assert search(outsider, q).ids == [case.id], q
    # the case list's q goes through the same index
    assert db.session.scalars(
        select(Case.id).where(case_filter(outsider), case_text_clause("12345/19"))
    ).all() == [case.id]

    second.reference = "54321/20"
    db.session.commit()
    assert search(outsider, "2798").ids == []
    assert search(outsider, "54321/20").ids == [case.id]
    second.case = other
    db.session.commit()
    assert search(outsider, "54321/20").ids == [other.id]
    db.session.delete(second)
    db.session.commit()
    assert search(outsider, "54321").ids == []
    assert search(outsider, "12345/19").ids == [case.id]


def test_restricted_cases_proceeding_references_stay_hidden(people, factory):
    case = factory.case(
        organisation=people["lead"], confidentiality=C.RESTRICTED, team=[people["team"]]
    )
    factory.proceeding(case, reference="77777/21")
    assert search(people["team"], "77777/21").ids == [case.id]
    for who in ("outsider", "colleague"):
        assert search(people[who], "77777/21").counts == {"cases": 0, "documents": 0}


def test_search_page_shows_the_matched_proceeding_reference(client, login, people, factory):
    case = factory.case(organisation=people["lead"], title="M.S. v. Greece")
    factory.proceeding(case, reference="12345/19")
    factory.proceeding(case, reference="99999/22")
    login(people["outsider"])
    text = client.get("/search/?q=12345/19").get_data(as_text=True)
    assert f'href="/cases/{case.id}"' in text
    assert "Proceeding: <mark>12345/19</mark>" in text
    assert "99999/22" not in text  # only the reference that matched
    listed = client.get("/cases/?q=12345/19").get_data(as_text=True)
    assert "M.S. v. Greece" in listed


def test_short_words_and_initials_match_whole_words_only(people, factory):
    lead = people["lead"]
    ab = factory.case(organisation=lead, title="A.B. v. State", summary="Detention.")
    abdi = factory.case(organisation=lead, title="Abdi v. Belgium", summary="Asylum appeal.")
    ba = factory.case(organisation=lead, title="B.A. v. Spain", summary="Ab initio claim.")
    outsider = people["outsider"]
    assert search(outsider, "A.B.").ids == [ab.id, ba.id]  # both carry the initials a and b
    assert search(outsider, "a").ids == [ab.id, ba.id]  # not "Abdi", "Asylum", "appeal"
    assert search(outsider, "ab").ids == [ba.id]  # "Ab initio", not "Abdi"
    assert search(outsider, "abd").ids == [abdi.id]  # three letters: a prefix again
    assert search(outsider, "A.B. v. State").ids == [ab.id]


def test_initials_and_references_are_highlighted_as_they_match(client, login, people, factory):
    # PostgreSQL's own headline sees "A.B." and "12345/19" as one token each and marked none
    # of them; both databases mark the words the index matched, and only those.
    lead = people["lead"]
    factory.case(organisation=lead, title="A.B. v. State", summary="Claim no. 12345/19 of A.B.")
    factory.case(organisation=lead, title="Abdi v. Belgium", summary="Asylum appeal.")
    login(people["outsider"])
    text = client.get("/search/?q=A.B.").get_data(as_text=True)
    assert "<mark>A</mark>.<mark>B</mark>. v. State" in text
    assert "of <mark>A</mark>.<mark>B</mark>." in text
    assert "<mark>Abdi" not in text and "Abdi" not in text
    text = client.get("/search/?q=12345/19").get_data(as_text=True)
    assert "Claim no. <mark>12345</mark>/<mark>19</mark> of A.B." in text


def test_search_page_opens_the_tab_with_results(client, login, people, factory):
    case = factory.case(organisation=people["lead"], title="Housing", summary="Eviction.")
    document = factory.document(case, title="Expert report", text="plinthword evidence")
    login(people["outsider"])
    text = client.get("/search/?q=plinthword").get_data(as_text=True)
    assert f'href="/documents/{document.id}"' in text
    assert "No case you can see matches; showing the 1 document that does." in text
    assert 'aria-current="page">Documents <span class="count">1</span>' in text
    assert 'class="no-hits">Cases <span class="count">0</span>' in text
    # pagination and kind links keep the documents tab; the search box does not pin it
    assert 'name="scope"' not in text
    # asked for explicitly, the cases tab stays open, empty
    cases_tab = client.get("/search/?q=plinthword&scope=cases").get_data(as_text=True)
    assert "No results" in cases_tab and "Expert report" not in cases_tab
    # cases first whenever some case matches
    both = client.get("/search/?q=eviction").get_data(as_text=True)
    assert f'href="/cases/{case.id}"' in both and "showing the" not in both
