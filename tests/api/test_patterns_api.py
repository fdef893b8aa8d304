"""The patterns endpoints of the API (time series, map, provisions by forum) against the
hand-worked world of tests/patterns/conftest.py: the same numbers, filters and
confidentiality as the patterns page."""

from __future__ import annotations

import pytest

from tests.patterns.conftest import add_restricted_win, build_world
from tracker.cases.models import ProceedingTreatment, Treatment

ENDPOINTS = (
    "/api/v1/patterns/time-series",
    "/api/v1/patterns/map",
    "/api/v1/patterns/provisions-by-forum",
)


@pytest.fixture()
def world(factory):
    return build_world(factory)


def _get(client, headers, path, **params):
    response = client.get(path, headers=headers, query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def _years(body) -> dict[int, tuple[int, int, int]]:
    return {p["year"]: (p["filed"], p["wins"], p["losses"]) for p in body["data"]}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_they_need_a_token(client, db, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_time_series(client, world, token_for):
    headers = token_for(world.u["outsider"])
    body = _get(client, headers, ENDPOINTS[0])
    # 2020 P6 win; 2021 P1 win; 2022 P2 win and P3 loss; 2023 P7 pending.
    assert _years(body) == {2020: (1, 1, 0), 2021: (1, 1, 0), 2022: (2, 1, 1), 2023: (1, 0, 0)}
    assert [p["year"] for p in body["data"]] == [2020, 2021, 2022, 2023]
    # With a right: C2's ECtHR win rejected ECHR:5, so it is no win on liberty.
    liberty = _years(_get(client, headers, ENDPOINTS[0], right="liberty"))
    assert liberty[2022] == (2, 0, 1)
    # The page's period filter.
    assert _years(_get(client, headers, ENDPOINTS[0], filed_from="2022-01-01")) == {
        2022: (2, 1, 1),
        2023: (1, 0, 0),
    }


def test_map(client, world, token_for):
    headers = token_for(world.u["outsider"])
    body = _get(client, headers, ENDPOINTS[1])
    got = {p["jurisdiction"]: (p["cases"], p["wins"]) for p in body["data"]}
    assert got == {"FR": (2, 2), "DE": (3, 0), "ES": (1, 1)}
    fr = next(p for p in body["data"] if p["jurisdiction"] == "FR")
    assert fr["name"] == "France" and fr["lat"] == pytest.approx(46.0)
    # Biggest first, as on the page.
    assert [p["jurisdiction"] for p in body["data"]] == ["DE", "FR", "ES"]
    filtered = _get(client, headers, ENDPOINTS[1], jurisdiction="FR;ES")
    assert {p["jurisdiction"] for p in filtered["data"]} == {"FR", "ES"}


def test_provisions_by_forum(client, world, token_for):
    headers = token_for(world.u["outsider"])
    body = _get(client, headers, ENDPOINTS[2])
    assert body["cells"] == [
        {"provision": "ECHR:5", "forum": "ECTHR", "upheld": 0, "rejected": 1, "not_reached": 0},
        {"provision": "ECHR:8", "forum": "ECTHR", "upheld": 1, "rejected": 0, "not_reached": 0},
    ]
    assert {"code": "ECTHR", "label": "European Court of Human Rights"} in body["forums"]
    assert [p["code"] for p in body["provisions"]] == ["ECHR:5", "ECHR:8"]
    # A right filter keeps the cases counting for it: family-life reaches C2 (ECHR:8).
    family = _get(client, headers, ENDPOINTS[2], right="family-life")
    assert {c["provision"] for c in family["cells"]} <= {"ECHR:5", "ECHR:8"}
    assert _get(client, headers, ENDPOINTS[2], forum="HRC")["cells"] == []


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"right": "nope"}, "right"),
        ({"filed_from": "yesterday"}, "filed_from"),
        ({"filed_from": "2024-01-01", "filed_to": "2023-01-01"}, "filed_to"),
    ],
)
def test_bad_filters_are_400_with_the_field(client, world, token_for, path, params, field):
    response = client.get(path, headers=token_for(world.u["viewer"]), query_string=params)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] and body["reason"] and field in body["fields"]


def _snapshot(client, headers) -> dict:
    out = {path: _get(client, headers, path) for path in ENDPOINTS}
    for dimension in ("jurisdiction", "forum", "system"):
        out[dimension] = _get(client, headers, "/api/v1/patterns/matrix", dimension=dimension)
    return out


def test_a_restricted_case_changes_no_number_for_an_outsider(client, world, factory, token_for):
    outsider = token_for(world.u["outsider"])
    insider = token_for(world.u["insider"])
    before_out, before_in = _snapshot(client, outsider), _snapshot(client, insider)
    add_restricted_win(factory, world)  # C5: ES, restricted to the insider, ECtHR win in 2023
    # ... where the Court upheld ECHR:5 (so the provisions table would move too).
    factory.db.session.add(
        ProceedingTreatment(
            proceeding=world.proc["P5"], provision=world.p["ECHR:5"], treatment=Treatment.UPHELD
        )
    )
    factory.db.session.commit()
    assert _snapshot(client, outsider) == before_out
    after_in = _snapshot(client, insider)
    for path in ENDPOINTS:
        assert after_in[path] != before_in[path], path
    # The team sees it: Spain gains a won case, 2023 a filing and a win.
    es = next(p for p in after_in[ENDPOINTS[1]]["data"] if p["jurisdiction"] == "ES")
    assert (es["cases"], es["wins"]) == (2, 2)
    assert _years(after_in[ENDPOINTS[0]])[2023] == (2, 1, 0)
    cell = next(
        c
        for c in after_in[ENDPOINTS[2]]["cells"]
        if (c["provision"], c["forum"]) == ("ECHR:5", "ECTHR")
    )
    assert (cell["upheld"], cell["rejected"]) == (1, 1)


def test_openapi_describes_them(client, world, token_for):
    doc = client.get("/api/v1/openapi.json", headers=token_for(world.u["viewer"])).get_json()
    for path, schema in zip(
        ENDPOINTS, ("TimeSeries", "WorldMap", "ProvisionsByForum"), strict=True
    ):
        op = doc["paths"][path]["get"]
        ok = op["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{schema}"}
        assert schema in doc["components"]["schemas"]
        assert {"right", "jurisdiction", "forum", "filed_from", "filed_to"} <= {
            p["name"] for p in op["parameters"]
        }
        assert "400" in op["responses"] and "401" in op["responses"]
