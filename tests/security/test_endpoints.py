"""Deny by default: every endpoint outside PUBLIC_ENDPOINTS refuses an anonymous request.

Generic on purpose: it walks app.url_map, so endpoints that other areas add later are
covered without touching this file.
"""

from __future__ import annotations

import uuid

import pytest
from werkzeug.routing import Rule, converters

from tracker.security import PUBLIC_ENDPOINTS
from tracker.types import Role


def _dummy_value(rule: Rule, name: str):
    """int -> 1, float -> 1.0, uuid -> a fixed uuid, any(...) -> its first item, else "x"."""
    converter = rule._converters[name]
    if isinstance(converter, converters.IntegerConverter):
        return 1
    if isinstance(converter, converters.FloatConverter):
        return 1.0
    if isinstance(converter, converters.UUIDConverter):
        return uuid.UUID(int=1)
    if isinstance(converter, converters.AnyConverter):
        return sorted(converter.items)[0]
    return "x"  # string, path and custom converters


def _url(app, rule: Rule) -> str:
    values = {name: _dummy_value(rule, name) for name in rule.arguments}
    if rule.defaults:
        values.update(rule.defaults)
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _requests(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) & {"GET", "POST", "PUT", "PATCH", "DELETE"}):
            yield rule, method


def test_the_walk_covers_the_areas(app):
    endpoints = {rule.endpoint for rule, _ in _requests(app)}
    assert {"main.index", "auth.account", "auth.logout", "admin.users", "admin.audit"} <= endpoints
    assert "auth.login" not in endpoints and "static" not in endpoints


def test_every_non_public_endpoint_refuses_anonymous_requests(app, db, factory):
    factory.case()  # so id 1 exists for record routes: a refusal, not a lucky 404
    client = app.test_client()
    problems = []
    for rule, method in _requests(app):
        url = _url(app, rule)
        response = client.open(url, method=method)
        status = response.status_code
        if url.startswith("/api/"):
            # Token-authenticated inside the api blueprint: never 2xx with data to nobody.
            # The OpenAPI description is the one document meant for anonymous clients.
            if url.endswith("/openapi.json"):
                continue
            if status < 300 and response.get_data().strip() not in (b"", b"[]", b"{}"):
                problems.append((method, url, status))
            continue
        if status == 302:
            if not response.headers["Location"].startswith("/login"):
                problems.append((method, url, status, response.headers["Location"]))
        elif status not in (401, 404, 405):
            problems.append((method, url, status))
    assert not problems, problems


def test_public_endpoints_are_only_the_expected_ones():
    # Adding an endpoint here is a security decision: review it.
    assert {"auth.login", "auth.set_password", "main.healthz", "static"} == PUBLIC_ENDPOINTS


@pytest.mark.parametrize("role", [Role.VIEWER, Role.LITIGATOR, Role.COORDINATOR])
def test_admin_endpoints_answer_404_to_other_roles(app, db, factory, client, login, role):
    login(factory.user(role=role))
    problems = []
    for rule, method in _requests(app):
        if not rule.endpoint.startswith("admin."):
            continue
        url = _url(app, rule)
        status = client.open(url, method=method).status_code
        if status != 404:
            problems.append((method, url, status))
    assert not problems, problems


# Past every id column: PostgreSQL's INTEGER ends at 2**31 - 1, SQLite's at 2**63 - 1.
HUGE_IDS = (2**31, 2**63, 10**30)


def test_every_int_route_answers_404_for_an_id_out_of_range(
    app, db, factory, client, login, monkeypatch
):
    """Each `<int:...>` route 404s for an id no database column can hold (never a 500)."""
    from tracker.api.auth import create_token
    from tracker.auth.models import TokenScope

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # list every 500, go on
    admin = factory.user(role=Role.ADMIN)
    login(admin)  # admin routes too, past their role check
    _token, secret = create_token(user=admin, name="walk", scope=TokenScope.WRITE)
    db.session.commit()
    api_headers = {"Authorization": f"Bearer {secret}"}  # API writes refuse a session
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if any(
            isinstance(rule._converters[name], converters.IntegerConverter)
            for name in rule.arguments
        )
    ]
    assert len(rules) >= 30  # the walk really covers the record routes
    problems = []
    for rule in rules:
        for huge in HUGE_IDS:
            values = {name: _dummy_value(rule, name) for name in rule.arguments}
            values |= {
                name: huge
                for name in rule.arguments
                if isinstance(rule._converters[name], converters.IntegerConverter)
            }
            with app.test_request_context():
                from flask import url_for

                url = url_for(rule.endpoint, **values)
            methods = sorted((rule.methods or set()) & {"GET", "POST", "PUT", "PATCH", "DELETE"})
            for method in methods:
                headers = api_headers if url.startswith("/api/") else {}
                response = client.open(url, method=method, headers=headers)
                if response.status_code != 404:
                    problems.append((method, url, response.status_code))
                elif url.startswith("/api/"):
                    assert response.get_json()["error"] == "not_found", url
    assert not problems, problems


@pytest.mark.parametrize("limit", [0, 7, 10, 99, 1000, 2**31 - 1])
def test_the_id_pattern_matches_exactly_zero_to_its_limit(limit):
    import re

    from tracker.security import digits_up_to

    pattern = re.compile(digits_up_to(limit))
    numbers = [*range(2100), limit - 1, limit, limit + 1, 2**31, 2**63, 10 * limit + 9]
    for n in numbers:
        if n >= 0:
            assert bool(pattern.fullmatch(str(n))) == (n <= limit), n
