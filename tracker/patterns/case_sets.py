"""The cases a refresh of derived data covers, as SQL: IN lists for a few, a table for many.

A save refreshes one case or a handful: their ids go into the statements as IN (...) lists
of at most a chunk each, which costs a few small indexed queries. An import or a bulk delete
refreshes thousands: chunks of IN lists would repeat every statement (and the Python work
around it) once per chunk, most of such a commit's time at 100,000 cases. From
SET_BASED_FROM cases on, the ids go into a temporary table instead and each step is one
statement over the whole set. The statements are the same either way, only where the ids
come from differs (tests/patterns/test_case_sets.py compares both on the same data).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import BindParameter, Column, Integer, MetaData, Table, select, text

from tracker.extensions import db

SET_BASED_FROM = 2000

# Not in the app's metadata: no migration creates it, each connection makes its own.
_metadata = MetaData()
CASE_SET = Table(
    "tmp_refresh_cases", _metadata, Column("case_id", Integer, primary_key=True), prefixes=["TEMP"]
)
# Where the ids come from in the set-based statements (build them once against this).
FROM_TABLE = select(CASE_SET.c.case_id)


def set_based(count: int) -> bool:
    return count >= SET_BASED_FROM


@contextmanager
def case_batches(
    ids: list[int], param: BindParameter, chunk: int
) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    """(source, batches): `column.in_(source)` selects a batch's cases when a statement runs
    with one of the parameter dicts. Either an expanding bind parameter and one dict per
    chunk of ids, or FROM_TABLE (the ids in the temporary table while the block runs) and a
    single empty dict."""
    if not set_based(len(ids)):
        yield param, [{param.key: ids[i : i + chunk]} for i in range(0, len(ids), chunk)]
        return
    connection = db.session.connection()
    connection.exec_driver_sql(
        "CREATE TEMPORARY TABLE IF NOT EXISTS tmp_refresh_cases (case_id INTEGER PRIMARY KEY)"
    )
    connection.execute(CASE_SET.delete())  # what a failed refresh may have left
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("INSERT INTO tmp_refresh_cases SELECT unnest(CAST(:ids AS integer[]))"),
            {"ids": ids},
        )
        # Autovacuum never analyses temporary tables: without this the planner guesses.
        connection.exec_driver_sql("ANALYZE tmp_refresh_cases")
    else:  # the driver's own executemany: no per-row work in SQLAlchemy
        connection.exec_driver_sql(
            "INSERT INTO tmp_refresh_cases (case_id) VALUES (?)", [(i,) for i in ids]
        )
    try:
        yield FROM_TABLE, [{}]
    finally:
        connection.execute(CASE_SET.delete())
