"""The refresh of many cases at once (a temporary table of ids, tracker/patterns/case_sets.py)
gives exactly the rows of the chunked refresh, on the same data, and both are right."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from tests.patterns.test_derived import Editor, _fresh, _stored
from tests.patterns.test_opportunities import _snapshot as opportunity_rows
from tracker.cases.models import Case, Outcome
from tracker.extensions import db
from tracker.patterns import case_sets, facts
from tracker.patterns import opportunities as opp
from tracker.patterns.models import PatternFact, PatternProvisionFact, PatternTotal
from tracker.patterns.services import _DELETED_KEY, _DIRTY_KEY
from tracker.types import Confidentiality


def _derived() -> dict:
    return {
        "facts": _stored(PatternFact),
        "provision_facts": _stored(PatternProvisionFact),
        "totals": _stored(PatternTotal),
        **opportunity_rows(),
    }


def _assert_as_rebuilt() -> None:
    """The facts and totals of a rebuild, the opportunities of a full refresh (then undone)."""
    assert _stored(PatternFact) == _fresh(facts.fact_rows_select())
    assert _stored(PatternProvisionFact) == _fresh(facts.provision_rows_select())
    assert _stored(PatternTotal) == {row for row in _fresh(facts.totals_select()) if any(row[4:])}
    incremental = opportunity_rows()
    opp.refresh_all()
    assert opportunity_rows() == incremental
    db.session.rollback()


def _refresh(ids: set[int], monkeypatch, mode: str) -> dict:
    """Refresh these cases one way inside a savepoint; the rows it leaves, then undo it."""
    batches = case_sets.case_batches
    if mode == "chunks of 2":
        monkeypatch.setattr(
            case_sets, "case_batches", lambda i, param, _chunk: batches(i, param, 2)
        )
    threshold = 1 if mode == "set-based" else 10**9
    monkeypatch.setattr(case_sets, "SET_BASED_FROM", threshold)
    savepoint = db.session.begin_nested()
    try:
        facts.refresh_cases(ids)
        opp.refresh_cases(ids)
        return _derived()
    finally:
        savepoint.rollback()
        monkeypatch.undo()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_set_based_refresh_equals_the_chunked_one(world, factory, seed, monkeypatch):
    editor = Editor(world, factory, seed)
    for _ in range(4):
        editor.new_case()
    db.session.commit()
    # Edits, new cases and deletes in one transaction, flushed but not refreshed yet (the
    # commit would): what an import or a bulk delete leaves for the hook.
    kinds = [editor.edit() for _ in range(14)]
    for _ in range(3):
        editor.new_case()
    db.session.flush()
    ids = set(db.session.info[_DIRTY_KEY]) | set(db.session.info[_DELETED_KEY])
    ids |= set(db.session.scalars(select(Case.id)))  # unchanged cases too
    before = _derived()

    results = {
        mode: _refresh(ids, monkeypatch, mode) for mode in ("one chunk", "chunks of 2", "set-based")
    }
    assert results["set-based"] == results["one chunk"] == results["chunks of 2"], kinds
    assert results["set-based"] != before, "the edits change derived rows"

    # And it is right: the facts and totals of a rebuild, the opportunities of a full refresh.
    monkeypatch.setattr(case_sets, "SET_BASED_FROM", 1)
    facts.refresh_cases(ids)
    opp.refresh_cases(ids)
    assert db.session.execute(select(case_sets.CASE_SET)).all() == []  # left empty
    _assert_as_rebuilt()


def test_a_large_commit_takes_the_set_based_path_and_stays_exact(world, monkeypatch):
    """Through the commit hook, as an import of thousands of cases does (the threshold is
    lowered so that a few cases cross it); the patterns' numbers and the opportunities are
    those of a rebuild afterwards."""
    monkeypatch.setattr(case_sets, "SET_BASED_FROM", 3)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    world.c["C1"].confidentiality = Confidentiality.RESTRICTED
    world.c["C2"].rights = []
    world.c["C3"].jurisdiction = world.j["DE"]
    world.proc["P7"].outcome = Outcome.WIN
    db.session.delete(world.c["C6"])
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert any("tmp_refresh_cases" in s for s in statements), "the set-based path ran"
    _assert_as_rebuilt()
