"""Migrations: exactly one head, and `upgrade head` yields the schema the models describe.

Runs on the database of this test session's kind: a scratch SQLite file, or a scratch
PostgreSQL database created beside TRACKER_TEST_DATABASE_URL's (dropped afterwards).
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tracker import MIGRATIONS_DIR, create_app
from tracker.extensions import db
from tracker.schema import include_object

TEST_DATABASE_URL = os.environ.get("TRACKER_TEST_DATABASE_URL")


def test_exactly_one_head():
    from alembic.config import Config

    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several Alembic heads: {heads}"


def test_revision_files_are_date_prefixed():
    names = [p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py")]
    assert names
    for name in names:
        assert name[:10].replace("-", "").isdigit(), name


@pytest.fixture()
def scratch_url(tmp_path):
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    url = make_url(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_head_matches_the_models(scratch_url):
    app = create_app({"ENV": "testing", "DATABASE_URL": scratch_url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_object": include_object,
                    "render_as_batch": True,
                },
            )
            diff = compare_metadata(context, db.metadata)
            tables = set(inspect(conn).get_table_names())
        db.engine.dispose()
    assert diff == [], f"migrations and models differ: {diff}"
    assert {t.name for t in db.metadata.sorted_tables} <= tables


@contextmanager
def _without_derived_refresh():
    """At an older revision the derived tables of later ones do not exist yet: writes made
    there must not run the before-commit refresh of the patterns and opportunities."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from tracker.patterns.services import _before_commit

    event.remove(Session, "before_commit", _before_commit)
    try:
        yield
    finally:
        event.listen(Session, "before_commit", _before_commit)


def test_search_revision_indexes_existing_proceedings_and_downgrades(scratch_url):
    """srch1 backfills the proceedings' references of existing cases; its downgrade removes
    the column and triggers and leaves a working index of the cases' own text."""
    from flask_migrate import downgrade

    from tests.factories import Factory
    from tracker.auth.models import User
    from tracker.cases.models import Case
    from tracker.search.services import search
    from tracker.types import Role

    app = create_app({"ENV": "testing", "DATABASE_URL": scratch_url})
    with app.app_context(), _without_derived_refresh():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0005")
        factory = Factory(db)
        case = factory.case(title="M.S. v. Greece")
        factory.proceeding(case, reference="12345/19")
        case_id, user_id = case.id, factory.user(role=Role.COORDINATOR).id

        def found(q):
            ids = search(db.session.get(User, user_id), q).ids
            db.session.remove()  # the migrations below run on their own connection
            return ids

        assert found("12345/19") == []  # before: not indexed
        upgrade(directory=str(MIGRATIONS_DIR))
        assert found("12345/19") == [case_id]
        assert found("greece") == [case_id]

        downgrade(directory=str(MIGRATIONS_DIR), revision="0005")
        columns = {c["name"] for c in inspect(db.engine).get_columns("cases")}
        assert "proceeding_references" not in columns
        factory.proceeding(db.session.get(Case, case_id), reference="54321/20")  # no trigger
        assert found("greece") == [case_id]
        assert found("54321") == []
        db.session.remove()
        db.engine.dispose()


def test_case_list_revision_fills_the_list_totals_and_downgrades(scratch_url):
    """lst1 fills the facts' status and outcome and the unfiltered case list's totals from
    existing cases (the list then counts them at once); its downgrade removes both."""
    from flask_migrate import downgrade
    from sqlalchemy import select

    from tests.factories import Factory
    from tracker.auth.models import User
    from tracker.cases.filters import CaseFilters
    from tracker.cases.models import Outcome, Status
    from tracker.cases.queries import list_summary
    from tracker.patterns import facts
    from tracker.patterns.models import PatternFact, PatternTotal
    from tracker.types import Role

    app = create_app({"ENV": "testing", "DATABASE_URL": scratch_url})
    with app.app_context():
        with _without_derived_refresh():
            upgrade(directory=str(MIGRATIONS_DIR), revision="0005")
            factory = Factory(db)
            closed = factory.case(status=Status.CLOSED, outcome=Outcome.WIN)
            factory.proceeding(closed)
            factory.case(status=Status.PENDING)
            factory.case(status=Status.PENDING, confidentiality="restricted")
            user_id = factory.user(role=Role.COORDINATOR).id
            db.session.remove()
        upgrade(directory=str(MIGRATIONS_DIR))
        stored = set(db.session.execute(select(*PatternFact.__table__.c)).tuples())
        assert stored == set(db.session.execute(facts.fact_rows_select()).tuples())
        fresh = set(db.session.execute(facts.totals_select()).tuples())
        assert set(db.session.execute(select(*PatternTotal.__table__.c)).tuples()) == fresh
        total, facets = list_summary(db.session.get(User, user_id), CaseFilters())
        assert total == 2  # the restricted case is not the coordinator's
        assert {f.value: f.count for f in facets["status"]} == {"closed": 1, "pending": 1}
        assert {f.value: f.count for f in facets["outcome"]} == {"win": 1, "none_yet": 1}
        assert sum(f.count for f in facets["forum"]) == 1
        db.session.remove()

        downgrade(directory=str(MIGRATIONS_DIR), revision="cl1")
        columns = {c["name"] for c in inspect(db.engine).get_columns("pattern_facts")}
        assert not {"status", "outcome"} & columns
        with db.engine.connect() as conn:
            views = {v for (v,) in conn.execute(text("SELECT DISTINCT view FROM pattern_totals"))}
        assert views and not {v for v in views if v.startswith(("list-", "status-", "outcome-"))}
        db.engine.dispose()
