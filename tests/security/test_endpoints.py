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
