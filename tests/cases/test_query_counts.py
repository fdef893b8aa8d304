"""The list and the case page run a bounded number of SQL queries, whatever the data size."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests.cases.conftest import case_form, proceeding_form
from tracker.cases import services as svc
from tracker.cases.models import Event, Party


@contextmanager
def count_queries(engine):
    statements: list[str] = []

    def _count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


_serial = iter(range(1_000_000))


def _populate(db, user, ref, n_cases: int, n_procs: int):
    cases = []
    for i in range(n_cases):
        case = svc.create_case(
            actor=user,
            data=case_form(
                title=f"Case {i}", reference=f"R{next(_serial)}", provisions="ECHR:5; ICCPR:9"
            ),
        )
        for j in range(n_procs):
            proc = svc.add_proceeding(
                actor=user,
                case=case,
                data=proceeding_form(
                    forum="FR-CE" if j % 2 else "ECTHR",
                    status="decided",
                    outcome="win",
                    filed_on=f"202{j % 5}-01-01",
                    decided_on=f"202{j % 5}-06-01",
                ),
            )
            svc.set_treatments(
                actor=user,
                proceeding=proc,
                treatments={"right:liberty": "upheld", "provision:ECHR:5": "rejected"},
            )
            svc.add_implementation(
                actor=user, proceeding=proc, data={"measures_ordered": "Release"}
            )
            db.session.add(
                Event(case=case, kind="hearing", occurred_on=proc.filed_on, title=f"H{j}")
            )
            db.session.add(Party(case=case, role="claimant", pseudonym=f"P{j}"))
        cases.append(case)
    db.session.commit()
    return cases


def _measure(client, db, url) -> int:
    with count_queries(db.engine) as statements:
        response = client.get(url)
    assert response.status_code == 200
    # The sign-in session's last-seen time is written at most once a minute, in a transaction
    # of its own (BEGIN, UPDATE): a slow run would otherwise count it in one measurement and
    # not in the other.
    kept: list[str] = []
    for statement in statements:
        if statement.lstrip().upper().startswith("UPDATE USER_SESSIONS"):
            if kept and kept[-1].strip().upper().startswith("BEGIN"):
                kept.pop()
            continue
        kept.append(statement)
    return len(kept)


@pytest.fixture()
def signed_in(login, litigator):
    login(litigator)
    return litigator


def test_list_page_queries_do_not_grow(client, db, ref, signed_in, factory):
    _populate(db, signed_in, ref, 2, 1)
    small = _measure(client, db, "/cases/?sort=filed")
    _populate(db, factory.user(), ref, 12, 3)  # another organisation, network cases
    large = _measure(client, db, "/cases/?sort=filed")
    assert large == small
    assert large <= 20


def test_case_page_queries_do_not_grow(client, db, ref, signed_in):
    (few,) = _populate(db, signed_in, ref, 1, 1)
    small = _measure(client, db, f"/cases/{few.id}")
    db.session.expire_all()
    # More proceedings, treatments, implementations, events, parties and links.
    (many,) = _populate(db, signed_in, ref, 1, 8)
    for other in _populate(db, signed_in, ref, 3, 0):
        svc.add_link(actor=signed_in, case=many, target_id=other.id, kind="related_to")
        svc.add_link(actor=signed_in, case=other, target_id=many.id, kind="cites")
    db.session.commit()
    large = _measure(client, db, f"/cases/{many.id}")
    assert large == small
    assert large <= 25


def _network_cases(factory, ref, n: int, jurisdiction=None, **kw):
    org = factory.organisation()
    cases = []
    for i in range(n):
        case = factory.case(
            organisation=org,
            title=f"Detention case {i}",
            summary="Detention of children pending removal.",
            jurisdiction=jurisdiction or ref.fr,
            **kw,
        )
        case.rights = [ref.liberty, ref.nonref]
        case.provisions = [ref.echr5]
        factory.proceeding(case, ref.fr_court)
        cases.append(case)
    factory.db.session.commit()
    return cases


@pytest.mark.parametrize(
    "url",
    [
        "/cases/?q=detention&jurisdiction=FR&status=pending",
        "/cases/?right=liberty&forum=FR-CE",
        "/cases/?sort=-filed&page=2",
        "/cases/?sort=title&page=3",  # a page read from the end
    ],
)
def test_filtered_list_with_facets_queries_do_not_grow(client, db, ref, signed_in, factory, url):
    _network_cases(factory, ref, 80)
    small = _measure(client, db, url)
    _network_cases(factory, ref, 160)
    large = _measure(client, db, url)
    assert large == small
    assert large <= 20


def test_the_total_and_every_facet_come_from_one_statement(client, db, ref, signed_in, factory):
    _network_cases(factory, ref, 30)
    with count_queries(db.engine) as statements:
        response = client.get("/cases/?q=detention&jurisdiction=FR&status=pending")
    html = response.get_data(as_text=True)
    assert "30 cases" in html and "Liberty and security" in html
    grouped = [s for s in statements if "GROUP BY" in s and "count(" in s.lower()]
    assert len(grouped) == 1


def test_case_page_queries_do_not_grow_with_similar_cases(client, db, ref, signed_in, factory):
    (case,) = _populate(db, signed_in, ref, 1, 1)
    de = factory.jurisdiction("DE", name="Germany")
    _network_cases(factory, ref, 5, jurisdiction=de)
    small = _measure(client, db, f"/cases/{case.id}")
    db.session.expire_all()
    # The cases shown come from ten jurisdictions, each named on the page: one query for
    # them all, not one per case.
    places = [factory.jurisdiction(f"Z{n}", name=f"Place {n}") for n in range(10)]
    for _round in range(12):
        for place in places:
            _network_cases(factory, ref, 1, jurisdiction=place)
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    panel = html.split('id="similar-h"')[1].split("</section>")[0]
    assert all(f"Place {n}" in panel for n in range(10))
    db.session.expire_all()
    large = _measure(client, db, f"/cases/{case.id}")
    assert large == small
    # Similar cases: the crosswalk, the case's tags, the window's edge (SQLite), the
    # candidates with their tags, the cases shown, and the names of what they share.
    assert large <= 28
