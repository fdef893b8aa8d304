"""The search page runs a fixed number of SQL queries, whatever the number of hits (no N+1)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tracker.types import Role

_serial = iter(range(1_000_000))


def _docket(factory, n: int) -> None:
    for _ in range(n):
        i = next(_serial)
        org = factory.organisation()
        jurisdiction = factory.jurisdiction(f"J{i % 9}", name=f"State {i % 9}")
        case = factory.case(
            organisation=org, jurisdiction=jurisdiction, title=f"Detention case {i}"
        )
        factory.document(case=case, title=f"Detention brief {i}", text="Detention of children.")


def _count(client, engine, url: str) -> tuple[int, str]:
    statements: list[str] = []

    def _on(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _on)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", _on)
    assert response.status_code == 200
    # The session's last-seen time is written at most once a minute: not counted.
    kept = [s for s in statements if not s.lstrip().upper().startswith("UPDATE USER_SESSIONS")]
    return len(kept), response.get_data(as_text=True)


@pytest.mark.parametrize("scope", ["cases", "documents"])
def test_search_queries_do_not_grow_with_the_hits(client, db, login, factory, scope):
    login(factory.user(role=Role.VIEWER))
    _docket(factory, 2)
    small, _ = _count(client, db.engine, f"/search/?q=detention&scope={scope}")
    _docket(factory, 18)  # 20 hits: a full page, each with its own case and jurisdiction
    large, html = _count(client, db.engine, f"/search/?q=detention&scope={scope}")
    if scope == "cases":
        assert html.count('class="search-hit"') == 20 and "State 8" in html
    else:  # each hit names its own case
        assert html.count('class="search-hit"') == 20 and html.count("<span>in <a href") == 20
    assert large == small
