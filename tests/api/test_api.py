"""The JSON API's contract: authentication, scopes, filters, pagination, version conflicts,
error shapes, and the token owner's confidentiality on every answer."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.reports.helpers import C, make_world
from tracker.auth.models import ApiToken
from tracker.cases.models import Case
from tracker.types import Role, utcnow


@pytest.fixture()
def world(factory, db):
    return make_world(factory, db)


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) >= {"error", "reason"} and body["reason"]
    if code:
        assert body["error"] == code
    return body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/cases"),
        ("get", "/api/v1/cases/1"),
        ("post", "/api/v1/cases"),
        ("patch", "/api/v1/cases/1"),
        ("get", "/api/v1/taxonomy/rights"),
        ("get", "/api/v1/patterns/matrix"),
        ("get", "/api/v1/opportunities"),
        ("get", "/api/v1/openapi.json"),
    ],
)
def test_every_endpoint_needs_authentication(client, db, method, path):
    _error(getattr(client, method)(path), 401, "unauthorized")
    bad = getattr(client, method)(path, headers={"Authorization": "Bearer lt_not-a-token"})
    _error(bad, 401)


def test_revoked_and_expired_tokens_are_refused(client, world, token_for, db):
    headers = token_for(world.user)
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    token = db.session.scalar(select(ApiToken))
    token.revoked_at = utcnow()
    db.session.commit()
    _error(client.get("/api/v1/cases", headers=headers), 401)
    expired = token_for(world.user, expires_at=utcnow() - timedelta(seconds=1))
    _error(client.get("/api/v1/cases", headers=expired), 401)
    viewer_headers = token_for(world.viewer)
    assert client.get("/api/v1/cases", headers=viewer_headers).status_code == 200
    world.viewer.disabled_at = utcnow()  # a disabled account's tokens stop working
    db.session.commit()
    _error(client.get("/api/v1/cases", headers=viewer_headers), 401)


def test_tokens_are_stored_hashed_and_shown_once(client, login, world, db):
    login(world.user)
    response = client.post(
        "/api/v1/tokens/", data={"name": "reporting", "scope": "read", "expires": "30"}
    )
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    start = page.index('id="new-token">') + len('id="new-token">')
    secret = page[start : page.index("<", start)]
    token = db.session.scalar(select(ApiToken))
    assert (
        secret.startswith(token.prefix)
        and token.token_hash != secret
        and len(token.token_hash) == 64
    )
    assert secret not in client.get("/api/v1/tokens/").get_data(as_text=True)
    assert (
        client.get("/api/v1/cases", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )
    client.post(f"/api/v1/tokens/{token.id}/revoke")
    _error(client.get("/api/v1/cases", headers={"Authorization": f"Bearer {secret}"}), 401)


def test_token_pages_need_csrf_and_a_session(client, login, world, csrf_enabled):
    assert client.get("/api/v1/tokens/").status_code == 302  # to the login page
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    client.post(
        "/login",
        data={
            "email": world.user.email,
            "password": "correct horse battery staple",
            "csrf_token": token,
        },
    )
    response = client.post("/api/v1/tokens/", data={"name": "x", "scope": "read", "expires": "30"})
    assert response.status_code == 400  # no CSRF token: refused


def test_someone_elses_token_cannot_be_revoked(client, login, world, token_for, db):
    token_for(world.viewer)
    other = db.session.scalar(select(ApiToken))
    login(world.user)
    assert client.post(f"/api/v1/tokens/{other.id}/revoke").status_code == 404
    assert db.session.get(ApiToken, other.id).revoked_at is None


def test_read_scope_cannot_write_and_sessions_cannot_write(client, login, world, token_for):
    read = token_for(world.user, "read")
    _error(client.post("/api/v1/cases", json={"title": "x"}, headers=read), 403, "forbidden")
    _error(client.patch("/api/v1/cases/1", json={"version": 1}, headers=read), 403)
    login(world.user)
    assert client.get("/api/v1/cases").status_code == 200  # a session may read
    _error(client.post("/api/v1/cases", json={"title": "x"}), 401)  # but never write


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("user", {C.PUBLIC, C.NETWORK, C.ORGANISATION, C.RESTRICTED}),
        ("viewer", {C.PUBLIC, C.NETWORK, C.ORGANISATION}),
        ("outsider", {C.PUBLIC, C.NETWORK}),
    ],
)
def test_answers_follow_the_token_owners_confidentiality(
    client, world, token_for, factory, who, expected
):
    user = (
        factory.user(organisation=factory.organisation())
        if who == "outsider"
        else getattr(world, who)
    )
    headers = token_for(user)
    body = client.get("/api/v1/cases", headers=headers).get_json()
    assert body["total"] == len(expected)
    assert {c["title"] for c in body["data"]} == {world.cases[lv].title for lv in expected}
    for level, case in world.cases.items():
        response = client.get(f"/api/v1/cases/{case.id}", headers=headers)
        if level in expected:
            assert response.status_code == 200
            parties = response.get_json()["parties"]
            # Identities only for the case team (the user is on the restricted case's team).
            named = who == "user" and level == C.RESTRICTED
            assert (parties[0]["full_name"] is not None) == named
        else:
            body = _error(response, 404, "not_found")
            assert case.title not in str(body)


def test_filters_and_their_errors(client, world, token_for):
    headers = token_for(world.user)
    body = client.get(f"/api/v1/cases?organisation={world.other.id}", headers=headers).get_json()
    assert {c["reference"] for c in body["data"]} == {"REF-public", "REF-network"}
    body = client.get(
        "/api/v1/cases?right=liberty&jurisdiction=GR&status=decided", headers=headers
    ).get_json()
    assert body["total"] == 4
    bad = _error(
        client.get("/api/v1/cases?right=nope&status=sleeping&filed_from=x", headers=headers), 400
    )
    assert set(bad["fields"]) == {"right", "status", "filed_from"}
    assert "fields" in _error(client.get("/api/v1/cases?per_page=0", headers=headers), 400)
    assert (
        "cursor" in _error(client.get("/api/v1/cases?cursor=%%%", headers=headers), 400)["fields"]
    )


def test_cursor_and_page_pagination(client, factory, token_for):
    user = factory.user()
    for i in range(7):
        factory.case(organisation=user.organisation, title=f"Case {i}")
    headers = token_for(user)
    seen, url = [], "/api/v1/cases?per_page=3"
    while url:
        body = client.get(url, headers=headers).get_json()
        assert body["total"] == 7
        seen += [c["title"] for c in body["data"]]
        url = body["next"]
        if url:
            url = url.replace("http://localhost", "")
    assert seen == [f"Case {i}" for i in range(7)]
    page3 = client.get("/api/v1/cases?page=3&per_page=3", headers=headers).get_json()
    assert [c["title"] for c in page3["data"]] == ["Case 6"] and page3["next"] is None


def _create_body(**kw):
    return {
        "title": "C.D. v. Greece",
        "case_type": "individual_complaint",
        "jurisdiction": "GR",
        "rights": ["liberty"],
        "provisions": ["ECHR:5"],
        "reference": "API-1",
        **kw,
    }


def test_create_then_update_with_version_check(client, world, token_for, db):
    headers = token_for(world.user, "read-write")
    created = client.post("/api/v1/cases", json=_create_body(), headers=headers)
    assert created.status_code == 201, created.get_json()
    case = created.get_json()
    assert created.headers["Location"].endswith(f"/api/v1/cases/{case['id']}")
    assert case["lead_organisation"]["id"] == world.org.id and case["version"] == 1
    assert [r["code"] for r in case["rights"]] == ["liberty"]

    updated = client.patch(
        f"/api/v1/cases/{case['id']}", json={"version": 1, "status": "filed"}, headers=headers
    )
    assert updated.status_code == 200, updated.get_json()
    assert updated.get_json()["status"] == "filed" and updated.get_json()["version"] == 2
    assert updated.get_json()["rights"] == case["rights"]  # fields not sent stay as they were

    stale = _error(
        client.patch(
            f"/api/v1/cases/{case['id']}", json={"version": 1, "title": "Lost"}, headers=headers
        ),
        409,
        "conflict",
    )
    assert stale["current_version"] == 2
    assert db.session.get(Case, case["id"]).title == "C.D. v. Greece"


def test_write_errors_are_json_with_reasons(client, world, token_for, factory):
    headers = token_for(world.user, "read-write")
    bad = _error(
        client.post(
            "/api/v1/cases", json={"title": "", "case_type": "x", "extra": 1}, headers=headers
        ),
        400,
    )
    assert {"title", "case_type", "jurisdiction", "extra"} <= set(bad["fields"])
    unknown = _error(
        client.post(
            "/api/v1/cases", json=_create_body(jurisdiction="ZZ", rights=["nope"]), headers=headers
        ),
        400,
    )
    assert {"jurisdiction", "rights"} <= set(unknown["fields"])
    _error(
        client.post(
            "/api/v1/cases",
            data="title=x",
            headers=headers,
            content_type="application/x-www-form-urlencoded",
        ),
        415,
    )
    _error(
        client.post(
            "/api/v1/cases", data="[1, 2", headers=headers, content_type="application/json"
        ),
        400,
    )
    _error(client.post("/api/v1/cases", json=[1, 2], headers=headers), 400)
    _error(
        client.post(
            "/api/v1/cases",
            data="x" * (1024 * 1024 + 1),
            headers=headers,
            content_type="application/json",
        ),
        413,
    )
    _error(client.patch("/api/v1/cases/999999", json={"version": 1}, headers=headers), 404)
    _error(
        client.patch(
            f"/api/v1/cases/{world.cases[C.PUBLIC].id}", json={"title": "x"}, headers=headers
        ),
        400,
    )
    outsider = factory.user(Role.LITIGATOR, organisation=factory.organisation())
    other = token_for(outsider, "read-write")
    _error(
        client.patch(
            f"/api/v1/cases/{world.cases[C.NETWORK].id}",
            json={"version": 1, "title": "x"},
            headers=other,
        ),
        403,
    )
    _error(
        client.patch(
            f"/api/v1/cases/{world.cases[C.RESTRICTED].id}", json={"version": 1}, headers=other
        ),
        404,
    )
    viewer = token_for(world.viewer, "read-write")
    _error(client.post("/api/v1/cases", json=_create_body(), headers=viewer), 403)
    _error(client.delete("/api/v1/cases/1", headers=headers), 405, "method_not_allowed")
    _error(client.get("/api/v1/nothing/here", headers=headers), 404, "not_found")


def test_taxonomy_patterns_and_opportunities(client, world, token_for):
    headers = token_for(world.user)
    rights = client.get("/api/v1/taxonomy/rights", headers=headers).get_json()["data"]
    assert {
        "code": "liberty",
        "name": "Liberty and freedom from arbitrary detention",
        "parent": None,
    } in rights
    provisions = client.get("/api/v1/taxonomy/provisions", headers=headers).get_json()["data"]
    assert {
        "code": "ECHR:5",
        "instrument": "ECHR",
        "number": "5",
        "title": "Article 5",
        "rights": ["liberty"],
    } in provisions
    assert client.get("/api/v1/taxonomy/jurisdictions", headers=headers).get_json()["data"]
    assert (
        client.get("/api/v1/taxonomy/forums", headers=headers).get_json()["data"][0]["code"]
        == "ECTHR"
    )
    matrix = client.get("/api/v1/patterns/matrix", headers=headers)
    assert matrix.status_code == 200, matrix.get_json()
    assert set(matrix.get_json()) == {"dimension", "rows", "columns", "cells"}
    _error(client.get("/api/v1/patterns/matrix?dimension=planet", headers=headers), 400)
    opportunities = client.get("/api/v1/opportunities", headers=headers)
    assert opportunities.status_code == 200, opportunities.get_json()
    assert set(opportunities.get_json()) == {"data", "next", "total"}


def test_rate_limit_per_token(client, app, world, token_for):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        headers, other = token_for(world.user), token_for(world.viewer)
        for _ in range(3):
            assert client.get("/api/v1/taxonomy/forums", headers=headers).status_code == 200
        _error(client.get("/api/v1/taxonomy/forums", headers=headers), 429, "too_many_requests")
        assert client.get("/api/v1/taxonomy/forums", headers=other).status_code == 200
    finally:
        app.config.pop("API_RATE_LIMIT")


def test_openapi_document_describes_the_routes(client, world, token_for):
    doc = client.get("/api/v1/openapi.json", headers=token_for(world.user)).get_json()
    assert doc["openapi"] == "3.1.0"
    assert {"/api/v1/cases", "/api/v1/cases/{case_id}", "/api/v1/taxonomy/rights"} <= set(
        doc["paths"]
    )
    assert set(doc["paths"]["/api/v1/cases/{case_id}"]) == {"get", "patch"}
    assert "CaseCreate" in doc["components"]["schemas"]
    assert doc["paths"]["/api/v1/cases"]["post"]["requestBody"]["content"]["application/json"]


def test_made_up_tokens_share_their_address_limit(client, app, world, token_for):
    """Each invalid token used to get a bucket of its own (keyed on what the client sent), so
    guessing tokens was unlimited. Now they count against the address; valid tokens keep
    their own limit."""
    import secrets

    from tracker.api.auth import TOKEN_PREFIX

    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        env = {"REMOTE_ADDR": "192.0.2.50"}
        statuses = [
            client.get(
                "/api/v1/taxonomy/forums",
                headers={"Authorization": f"Bearer {TOKEN_PREFIX}{secrets.token_urlsafe(32)}"},
                environ_base=env,
            ).status_code
            for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        valid = token_for(world.user)
        for _ in range(3):  # the same address, a real token: its own limit
            response = client.get("/api/v1/taxonomy/forums", headers=valid, environ_base=env)
            assert response.status_code == 200
        _error(
            client.get("/api/v1/taxonomy/forums", headers=valid, environ_base=env),
            429,
            "too_many_requests",
        )
    finally:
        app.config.pop("API_RATE_LIMIT")
