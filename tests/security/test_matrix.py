"""The confidentiality matrix of issue 3: role x relation to the case x level x action.

Every signed-in path that shows cases or numbers about them is asked, as every kind of user,
what it shows of one case per level (tests/security/conftest.py, ``visibility_world``), and
must show exactly what the rule allows: the list, the case page, search, the counts on the
home page and in the list's facets, CSV and JSON exports (for each audience), the API's list
and detail, and the patterns numbers (page and API) with the case list they link to. One test
per (role, relation) runs every action and reports each path that leaks or loses a level, so
one failure names them all. Roles never widen what a relation sees (admins included).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import date

import pytest

from tests.security.conftest import LEVELS, RELATIONS, ROLES, VisibilityWorld
from tracker.access import AUDIENCE_LEVELS
from tracker.cases.models import Outcome, Status
from tracker.reports.columns import AUDIENCES
from tracker.types import Confidentiality


@pytest.fixture()
def world(visibility_world, factory, db) -> VisibilityWorld:
    """The shared world, each case tagged with liberty and won in one proceeding, so that the
    patterns count it (as a case, a decided case and a win) in the liberty x FR cell."""
    liberty = factory.right("liberty", name="Liberty")
    for case in visibility_world.cases.values():
        case.rights = [liberty]
        factory.proceeding(
            case, outcome=Outcome.WIN, status=Status.DECIDED, decided_on=date(2024, 6, 1)
        )
    db.session.commit()
    return visibility_world


def _levels_linked(world, html: str) -> set[Confidentiality]:
    return {level for level, case in world.cases.items() if f'href="/cases/{case.id}"' in html}


def _levels_titled(world, titles) -> set[Confidentiality]:
    titles = set(titles)
    return {level for level, case in world.cases.items() if case.title in titles}


def _ok(response, status: int = 200):
    assert response.status_code == status, (response.request.path, response.status_code)
    return response


# Each action returns what it showed as {check name: (observed, expected)}; `allowed` is the
# set of levels the user may see. Counts are compared as numbers, lists as sets of levels.
Observed = dict[str, tuple[object, object]]


def list_page(client, world, allowed) -> Observed:
    html = _ok(client.get("/cases/?sort=title")).get_data(as_text=True)
    return {"listed": (_levels_linked(world, html), allowed)}


def detail_page(client, world, allowed) -> Observed:
    seen = set()
    for level, case in world.cases.items():
        response = client.get(f"/cases/{case.id}")
        assert response.status_code in (200, 404), (level, response.status_code)
        body = response.get_data(as_text=True)
        if response.status_code == 200:
            seen.add(level)
        assert response.status_code == 200 or case.title not in body  # a 404 names nothing
    return {"answered 200": (seen, allowed)}


def search(client, world, allowed) -> Observed:
    html = _ok(client.get("/search/?q=VW")).get_data(as_text=True)
    count = re.search(r'Cases <span class="count">(\d+)</span>', html)
    return {
        "results": (_levels_linked(world, html), allowed),
        "count": (int(count.group(1)) if count else None, len(allowed)),
    }


def home_count(client, world, allowed) -> Observed:
    html = _ok(client.get("/")).get_data(as_text=True)
    figure = re.search(r'<p class="figure">(\d+)</p>', html)
    return {"visible cases": (int(figure.group(1)) if figure else None, len(allowed))}


def facet_counts(client, world, allowed) -> Observed:
    html = _ok(client.get("/cases/")).get_data(as_text=True)
    total = re.search(r'<p class="result-count" role="status">(\d+) cases?</p>', html)
    facet = html.split("Jurisdictions</h3>")[1].split("</ul>")[0] if allowed else ""
    facet_numbers = [int(n) for n in re.findall(r">(\d+)</span>", facet)]
    return {
        "result count": (int(total.group(1)) if total else None, len(allowed)),
        "jurisdiction facet": (sum(facet_numbers), len(allowed)),
    }


def _export(client, fmt: str, audience: Confidentiality) -> str:
    response = _ok(client.get(f"/reports/export?format={fmt}&audience={audience.value}"))
    return response.data.decode("utf-8-sig")  # CSV starts with a byte-order mark (Excel)


def _export_expected(allowed, audience: Confidentiality, relation: str) -> set:
    """What an export for `audience` may carry: the audience's levels of what the user sees,
    except that an organisation export carries only the exporter's own organisation's (or
    partner's) organisation-level cases, never one they see only as a team member."""
    expected = allowed & set(AUDIENCE_LEVELS[audience])
    if audience == Confidentiality.ORGANISATION and relation == "team_member":
        expected.discard(Confidentiality.ORGANISATION)
    return expected


def csv_export(client, world, allowed, relation) -> Observed:
    out = {}
    for audience in AUDIENCES:
        text = _export(client, "csv", audience)
        rows = csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#"))
        titles = [row["title"] for row in rows]
        expected = _export_expected(allowed, audience, relation)
        out[f"audience {audience.value}"] = (_levels_titled(world, titles), expected)
    return out


def json_export(client, world, allowed, relation) -> Observed:
    out = {}
    for audience in AUDIENCES:
        data = json.loads(_export(client, "json", audience))
        titles = [case["title"] for case in data["cases"]]
        expected = _export_expected(allowed, audience, relation)
        out[f"audience {audience.value}"] = (_levels_titled(world, titles), expected)
    return out


def api_list(client, world, allowed) -> Observed:
    data = _ok(client.get("/api/v1/cases?per_page=100")).get_json()
    return {
        "data": (_levels_titled(world, [c["title"] for c in data["data"]]), allowed),
    }


def api_detail(client, world, allowed) -> Observed:
    seen = set()
    for level, case in world.cases.items():
        response = client.get(f"/api/v1/cases/{case.id}")
        assert response.status_code in (200, 404), (level, response.status_code)
        if response.status_code == 200:
            seen.add(level)
        else:
            assert case.title not in response.get_data(as_text=True)
    return {"answered 200": (seen, allowed)}


def patterns_numbers(client, world, allowed) -> Observed:
    n = len(allowed)
    cells = _ok(client.get("/api/v1/patterns/matrix")).get_json()["cells"]
    cell = next((c for c in cells if (c["right"], c["column"]) == ("liberty", "FR")), None)
    api = (cell["cases"], cell["decided"], cell["wins"]) if cell else (0, 0, 0)
    html = _ok(client.get("/patterns/")).get_data(as_text=True)
    shown = re.search(r'aria-label="(\d+) cases? on Liberty in FR"', html)
    # Every number links to the cases behind it: the won cases of the cell.
    won = _ok(client.get("/cases/?right=liberty&jurisdiction=FR&result=won"))
    return {
        "API cell (cases, decided, wins)": (api, (n, n, n)),
        "page cell": (int(shown.group(1)) if shown else 0, n),
        "cases behind the number": (_levels_linked(world, won.get_data(as_text=True)), allowed),
    }


ACTIONS: dict[str, Callable[..., Observed]] = {
    "list": list_page,
    "detail": detail_page,
    "search": search,
    "home count": home_count,
    "facet counts": facet_counts,
    "CSV export": csv_export,
    "JSON export": json_export,
    "API list": api_list,
    "API detail": api_detail,
    "patterns numbers": patterns_numbers,
}


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_every_path_shows_exactly_what_the_rule_allows(client, login, world, role, relation):
    user = world.users[(role, relation)]
    _ok(login(user), 302)
    allowed = {level for level in LEVELS if world.expected(relation, level)}
    wrong = {}
    for action, look in ACTIONS.items():
        args = (relation,) if look in (csv_export, json_export) else ()
        for check, (shown, expected) in look(client, world, allowed, *args).items():
            if shown != expected:
                wrong[f"{action}: {check}"] = {"shown": shown, "allowed": expected}
    assert not wrong, f"as {role.value} ({relation}): {wrong}"
