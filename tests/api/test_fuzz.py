"""Property-based fuzzing of the API from its own OpenAPI document: schemathesis turns each
operation's parameters and JSON body schemas into hypothesis strategies, and whatever they
generate, the API never answers 5xx and every error is JSON {error, reason}.

(schemathesis' own pytest plugin does not run with this pytest version, so the strategies are
driven by hypothesis directly.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.reports.helpers import make_world
from tracker.api.registry import openapi_document

DOCUMENT = openapi_document("http://localhost")
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = [
    (path, method.upper()) for path, methods in DOCUMENT["paths"].items() for method in methods
]


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_no_server_errors_on_any_input(app, db, factory, token_for, path, method):
    world = make_world(factory, db)
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    headers = token_for(world.user, "read-write")
    client = app.test_client()
    strategy = SCHEMA[path][method].as_strategy()

    @given(case=strategy)
    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def check(case):
        kwargs = case.as_transport_kwargs(base_url="http://localhost", headers=headers)
        response = client.open(
            kwargs["url"].replace("http://localhost", "", 1),
            method=kwargs["method"],
            headers=kwargs.get("headers"),
            query_string=kwargs.get("params"),
            json=kwargs.get("json"),
            data=kwargs.get("data"),
        )
        assert response.status_code < 500, (kwargs, response.get_data(as_text=True))
        if response.status_code >= 400:
            body = response.get_json(silent=True)
            assert body and set(body) >= {"error", "reason"}, (kwargs, response.data)

    try:
        check()
    finally:
        app.config.pop("API_RATE_LIMIT", None)
