"""The demo generator: reproducible for a seed, the requested counts, coherent data."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import event, func, select

from tracker.access import case_filter
from tracker.auth.models import User
from tracker.auth.services import check_password_policy
from tracker.cases.models import (
    Case,
    CaseMember,
    Event,
    Outcome,
    Proceeding,
    Status,
    case_provisions,
    case_rights,
)
from tracker.demo import generator as G
from tracker.demo.generator import (
    DEMO_PASSWORD,
    data_digest,
    generate_demo,
)
from tracker.documents.models import Document
from tracker.taxonomy.models import (
    Forum,
    Instrument,
    Jurisdiction,
    Provision,
    Ratification,
    SystemMembership,
)
from tracker.types import Confidentiality

TODAY = date(2026, 11, 23)
N = 200


def _wipe_generated(db) -> None:
    """Remove what the generator wrote (reference data stays, so ids line up again)."""
    db.session.rollback()
    conn = db.session.connection()
    for table in reversed(G.TABLES):
        if table.name == "forums":
            conn.execute(table.delete().where(table.c.note == G.GENERIC_FORUM_NOTE))
        else:
            conn.execute(table.delete())
    db.session.commit()


def test_same_seed_gives_the_same_rows_and_another_seed_does_not(db):
    generate_demo(cases=N, seed=7, today=TODAY)
    first = data_digest()
    _wipe_generated(db)
    generate_demo(cases=N, seed=7, today=TODAY)
    assert data_digest() == first
    _wipe_generated(db)
    generate_demo(cases=N, seed=8, today=TODAY)
    assert data_digest() != first


@pytest.fixture()
def generated(db):
    result = generate_demo(cases=N, seed=3, documents=37, today=TODAY)
    return result


def test_requested_counts(db, generated):
    assert db.session.scalar(select(func.count()).select_from(Case)) == N
    proceedings = db.session.scalar(select(func.count()).select_from(Proceeding))
    assert N <= proceedings <= 3 * N
    assert db.session.scalar(select(func.count()).select_from(Document)) == 37
    assert generated.counts["cases"] == N
    assert generated.case_ids == (1, N)
    per_case = Counter(
        dict(
            db.session.execute(
                select(case_rights.c.case_id, func.count()).group_by(case_rights.c.case_id)
            ).all()
        )
    )
    assert len(per_case) == N, "every case has at least one right"
    assert set(per_case.values()) <= {1, 2, 3, 4, 5}
    assert len(set(per_case.values())) >= 3, "a spread of 1-5 rights, not a constant"
    provisions = Counter(
        dict(
            db.session.execute(
                select(case_provisions.c.case_id, func.count()).group_by(case_provisions.c.case_id)
            ).all()
        )
    )
    assert max(provisions.values()) <= 4
    assert len(provisions) < N, "some cases invoke no provision"
    chain = Counter(
        db.session.scalars(
            select(func.count()).select_from(Proceeding).group_by(Proceeding.case_id)
        ).all()
    )
    assert set(chain) <= {1, 2, 3} and sum(chain.values()) == N


def test_dates_and_statuses_are_coherent(db, generated):
    rows = db.session.execute(
        select(Proceeding.filed_on, Proceeding.decided_on, Proceeding.status, Proceeding.outcome)
    ).all()
    for filed, decided, status, outcome in rows:
        if decided is not None:
            assert filed is not None and decided >= filed
            assert decided < TODAY
            assert status in (Status.DECIDED, Status.CLOSED)
        else:
            assert outcome == Outcome.NONE_YET
        if filed is not None:
            assert date(TODAY.year - 31, 1, 1) <= filed <= TODAY
    pending = db.session.scalar(
        select(func.count()).where(Case.status.in_([Status.PENDING, Status.ON_APPEAL]))
    )
    assert pending > 0
    assert (
        db.session.scalar(
            select(func.count()).where(
                Case.status.in_([Status.PENDING, Status.FILED, Status.PLANNED]),
                Case.outcome != Outcome.NONE_YET,
            )
        )
        == 0
    )
    future = db.session.scalars(select(Event.occurred_on).where(Event.is_deadline)).all()
    assert future and all(day > TODAY for day in future), "deadlines lie ahead"


def test_confidentiality_mix_and_restricted_cases_have_a_team(db, generated):
    levels = Counter(db.session.scalars(select(Case.confidentiality)).all())
    assert set(levels) <= set(Confidentiality)
    assert levels[Confidentiality.NETWORK] > N / 2
    assert levels[Confidentiality.PUBLIC] > 0 and levels[Confidentiality.ORGANISATION] > 0
    restricted = db.session.scalars(
        select(Case.id).where(Case.confidentiality == Confidentiality.RESTRICTED)
    ).all()
    assert restricted
    teams = set(db.session.scalars(select(CaseMember.case_id)).all())
    assert set(restricted) <= teams
    # The team comes from the lead organisation, so an outsider never sees the case.
    outsider = db.session.scalar(
        select(User).where(
            User.organisation_id
            != select(Case.lead_organisation_id).where(Case.id == restricted[0]).scalar_subquery()
        )
    )
    visible = db.session.scalars(select(Case.id).where(case_filter(outsider))).all()
    assert restricted[0] not in visible
    assert len(visible) < N


def test_provisions_are_of_ratified_instruments_and_forums_fit_the_state(db, generated):
    rows = db.session.execute(
        select(Case.jurisdiction_id, Instrument.id)
        .join(case_provisions, case_provisions.c.case_id == Case.id)
        .join(Provision, Provision.id == case_provisions.c.provision_id)
        .join(Instrument, Instrument.id == Provision.instrument_id)
    ).all()
    assert rows
    ratified = set(
        db.session.execute(select(Ratification.jurisdiction_id, Ratification.instrument_id)).all()
    )
    assert all(row in ratified for row in rows)
    coe = db.session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == "COE"))
    members = set(
        db.session.scalars(
            select(SystemMembership.state_id).where(SystemMembership.system_id == coe)
        )
    )
    ecthr_states = db.session.scalars(
        select(Case.jurisdiction_id)
        .join(Proceeding, Proceeding.case_id == Case.id)
        .join(Forum, Forum.id == Proceeding.forum_id)
        .where(Forum.code == "ECTHR")
    ).all()
    assert ecthr_states and set(ecthr_states) <= members


def test_a_few_states_have_most_cases(db, generated):
    by_state = Counter(
        db.session.scalars(
            select(Jurisdiction.code).join(Case, Case.jurisdiction_id == Jurisdiction.id)
        ).all()
    )
    top, _count = by_state.most_common(1)[0]
    assert top in G.HEAD_STATES
    assert len(by_state) >= 25, "a long tail of jurisdictions"
    titles = db.session.scalars(select(Case.title)).all()
    assert any(" and Others v. " in t for t in titles)
    assert all(" v. " in t or t.startswith("Request for") for t in titles)


def test_statements_do_not_grow_with_the_number_of_cases(app, db):
    statements: list[str] = []

    def count(*_args):
        statements.append("x")

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        generate_demo(cases=100, seed=1, today=TODAY)
        small = len(statements)
        _wipe_generated(db)
        statements.clear()
        generate_demo(cases=400, seed=1, today=TODAY)
        large = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # Bulk inserts: a statement per table and chunk, never one per row.
    assert large <= small + 10
    assert large < 150


def test_demo_users_get_the_demo_password_only_when_asked(db, client, login):
    check_password_policy(DEMO_PASSWORD)  # raises if the policy would refuse it
    result = generate_demo(cases=20, seed=1, today=TODAY)
    assert result.password is None and result.users
    assert db.session.scalar(select(func.count()).where(User.password_hash.is_not(None))) == 0

    result = generate_demo(cases=0, seed=1, today=TODAY, users_can_sign_in=True)
    assert result.password == DEMO_PASSWORD
    email = result.users[0][0]
    user = db.session.scalar(select(User).where(User.email == email))
    response = login(user, DEMO_PASSWORD)
    assert response.status_code == 302, "the demo user signs in with the printed password"


def test_reset_replaces_the_cases_instead_of_adding(db):
    generate_demo(cases=50, seed=1, today=TODAY)
    generate_demo(cases=30, seed=2, today=TODAY, reset=True)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 30
    users = db.session.scalar(select(func.count()).select_from(User))
    generate_demo(cases=10, seed=2, today=TODAY)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 40
    assert db.session.scalar(select(func.count()).select_from(User)) == users, "users reused"


def test_negative_counts_are_refused(db):
    with pytest.raises(G.DemoError):
        generate_demo(cases=-1, seed=1)
