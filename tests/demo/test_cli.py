"""`tracker demo` on the command line: output, confirmation, bad input, production guard."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from tracker.cases.models import Case
from tracker.demo.generator import DEMO_PASSWORD


@pytest.fixture(autouse=True)
def fake_refresh(monkeypatch):
    """Stand in for the patterns area's refresh (slow); record that the demo called it."""
    calls: list[object] = []
    try:
        from tracker.patterns import services
    except ImportError:  # pragma: no cover - before the patterns area lands
        return calls

    def refresh(case_ids=None):
        calls.append(case_ids)
        return {"created": 0, "updated": 0, "removed": 0}

    monkeypatch.setattr(services, "refresh_opportunities", refresh)
    return calls


def _cases(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


def test_demo_generates_and_reports_timing(runner, db, fake_refresh):
    result = runner.invoke(args=["demo", "--cases", "40", "--seed", "5", "--today", "2026-01-15"])
    assert result.exit_code == 0, result.output
    assert fake_refresh == [None], "opportunities refreshed once, for every case"
    assert "Refreshed knock-on opportunities" in result.output
    assert "Generated 40 cases" in result.output
    assert "cases/s" in result.output
    assert "Demo accounts" in result.output
    assert DEMO_PASSWORD not in result.output, "no password unless asked with --users"
    assert _cases(db) == 40


def test_demo_users_prints_password_and_emails_once(runner, db):
    result = runner.invoke(args=["demo", "--cases", "5", "--users"])
    assert result.exit_code == 0, result.output
    assert result.output.count(DEMO_PASSWORD) == 1
    assert "@aegean-legal-aid.example.org" in result.output


def test_reset_asks_first_and_keeps_everything_when_refused(runner, db):
    assert runner.invoke(args=["demo", "--cases", "12"]).exit_code == 0
    refused = runner.invoke(args=["demo", "--cases", "3", "--reset"], input="n\n")
    assert refused.exit_code == 1
    assert "deletes EVERY case" in refused.output
    assert _cases(db) == 12
    accepted = runner.invoke(args=["demo", "--cases", "3", "--reset", "--yes"])
    assert accepted.exit_code == 0, accepted.output
    assert _cases(db) == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["--cases", "-5"], "-5 is not in the range x>=0"),
        (["--cases", "many"], "'many' is not a valid integer"),
        (["--documents", "-1"], "-1 is not in the range x>=0"),
        (["--today", "yesterday"], "'yesterday' does not match the format"),
    ],
)
def test_bad_options_are_refused_with_a_message(runner, db, args, message):
    result = runner.invoke(args=["demo", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert _cases(db) == 0


def test_refuses_to_run_in_production(app, runner, db):
    app.config["TRACKER_ENV"] = "production"
    try:
        result = runner.invoke(args=["demo", "--cases", "3"])
    finally:
        app.config["TRACKER_ENV"] = "testing"
    assert result.exit_code == 1
    assert "Refusing to generate demo data in production" in result.output
    assert _cases(db) == 0


def test_skip_derived_leaves_opportunities_alone(runner, db, fake_refresh):
    result = runner.invoke(args=["demo", "--cases", "5", "--skip-derived"])
    assert result.exit_code == 0, result.output
    assert fake_refresh == []
    assert "tracker opportunities refresh" in result.output


def test_real_loads_the_echr_od_judgments_or_says_why_not(runner, db):
    import importlib.util

    result = runner.invoke(args=["demo", "--real"])
    if importlib.util.find_spec("tracker.reports.echr") is None:
        assert result.exit_code == 1
        assert "ECHR-OD importer" in result.output
        return
    assert result.exit_code == 0, result.output
    assert "real judgment(s) loaded" in result.output
    assert _cases(db) > 400, "the ECHR-OD sample has 501 judgments"


def test_demo_leaves_the_planner_statistics_up_to_date(runner, db):
    # Right after a bulk load the planner guessed a handful of rows where there were
    # thousands: a litigator's opportunities list took 1.2 s instead of 40 ms on PostgreSQL.
    result = runner.invoke(args=["demo", "--cases", "40", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "Updated the database's statistics" in result.output
    if db.engine.dialect.name == "postgresql":
        analysed = db.session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'cases'"))
        assert analysed == 40
    else:
        stats = db.session.scalars(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'cases'")).all()
        assert any(s.split()[0] == "40" for s in stats)
