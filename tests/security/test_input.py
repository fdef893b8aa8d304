"""Input no view should have to survive is refused once, for every endpoint: NUL characters
anywhere in a request, and a `page` that is not a whole number from 1 to 1,000,000.

Both walk app.url_map, so routes other areas add later are covered without touching this file.
Run on SQLite and on PostgreSQL (where a NUL in a query used to raise DataError: a 500).
"""

from __future__ import annotations

import pytest
from werkzeug.routing import converters

from tests.security.test_endpoints import _dummy_value
from tracker.types import Role

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Names the views read (filters, forms, the API's bodies); the check refuses any name.
FIELDS = (
    "q",
    "title",
    "name",
    "email",
    "password",
    "right",
    "jurisdiction",
    "forum",
    "status",
    "sort",
    "scope",
    "user",
    "entity_id",
    "reference",
    "reason",
)


@pytest.fixture()
def signed_in(app, db, factory, client, login, monkeypatch):
    """An admin signed in (every area reachable) and a write token for the API."""
    from tracker.api.auth import create_token
    from tracker.auth.models import TokenScope

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # a 500 is a finding
    admin = factory.user(role=Role.ADMIN)
    case = factory.case(organisation=admin.organisation)
    login(admin)
    _token, secret = create_token(user=admin, name="walk", scope=TokenScope.WRITE)
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}, case


def _walk(app, case_id: int, methods=("GET", *WRITE_METHODS)):
    from flask import url_for

    for rule in app.url_map.iter_rules():
        values = {}
        for name in rule.arguments:
            converter = rule._converters[name]
            values[name] = (
                case_id
                if isinstance(converter, converters.IntegerConverter)
                else _dummy_value(rule, name)
            )
        if rule.defaults:
            values.update(rule.defaults)
        with app.test_request_context():
            url = url_for(rule.endpoint, **values)
        for method in sorted((rule.methods or set()) & set(methods)):
            yield method, url


def test_a_nul_character_anywhere_is_a_400_on_every_endpoint(app, client, signed_in):
    api_headers, case = signed_in
    nul = "before\x00after"
    problems = []
    requests = 0
    for method, url in _walk(app, case.id):
        api = url.startswith("/api/")
        headers = api_headers if api else {}
        variants = [{"query_string": {name: nul for name in FIELDS}}]
        if method in WRITE_METHODS:
            variants.append({"data": {name: nul for name in FIELDS}})
            if api:
                variants.append({"json": {"title": nul, "nested": [{"key": nul}]}})
                variants.append({"json": {"summary\x00": "key with a NUL"}})
        for variant in variants:
            requests += 1
            response = client.open(url, method=method, headers=headers, **variant)
            body = response.get_data().decode("utf-8", "replace")
            if response.status_code != 400:
                problems.append((method, url, list(variant), response.status_code))
            elif api:
                if response.get_json()["error"] != "bad_request" or "NUL" not in body:
                    problems.append((method, url, list(variant), body[:200]))
            elif "NUL character" not in body:
                problems.append((method, url, list(variant), "no message"))
    assert requests > 100
    assert not problems, problems


def test_a_nul_in_a_file_name_is_a_400(client, signed_in):
    import io

    _headers, case = signed_in
    response = client.post(
        f"/documents/cases/{case.id}/upload",
        data={"file": (io.BytesIO(b"hello"), "bad\x00name.txt"), "kind": "evidence"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)


def test_the_json_escape_for_nul_counts_too(client, signed_in):
    api_headers, _case = signed_in
    response = client.post(
        "/api/v1/cases",
        data='{"title": "A \\u0000 B"}',
        headers=api_headers | {"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"


BAD_PAGES = ("0", "-3", "abc", "1.5", "²", "", "1000001", "99999999999999999999999")


def test_a_bad_page_is_a_400_with_a_clear_message_everywhere(app, client, signed_in):
    api_headers, case = signed_in
    problems = []
    for _method, url in _walk(app, case.id, methods=("GET",)):
        api = url.startswith("/api/")
        for page in BAD_PAGES:
            response = client.get(
                url, query_string={"page": page}, headers=api_headers if api else {}
            )
            body = response.get_data().decode("utf-8", "replace")
            if response.status_code != 400:
                problems.append((url, page, response.status_code))
            elif api:
                data = response.get_json()
                if data["error"] != "bad_request" or "1 to 1,000,000" not in data["fields"]["page"]:
                    problems.append((url, page, data))
            elif "The page is a whole number from 1 to 1,000,000." not in body:
                problems.append((url, page, "no message"))
    assert not problems, problems


# The paginated lists: the last allowed page answers (an empty page), it does not overflow.
LISTS = (
    "/admin/users",
    "/admin/organisations",
    "/admin/audit",
    "/pleadings/",
    "/patterns/opportunities",
    "/patterns/notifications",
    "/cases/",
    "/search/?q=case",
    "/api/v1/cases",
    "/api/v1/opportunities",
)


@pytest.mark.parametrize("page", ["1", "2", "1000000"])
def test_every_allowed_page_answers_on_the_lists(client, signed_in, page):
    api_headers, _case = signed_in
    for url in LISTS:
        joiner = "&" if "?" in url else "?"
        headers = api_headers if url.startswith("/api/") else {}
        response = client.get(f"{url}{joiner}page={page}", headers=headers)
        assert response.status_code < 500, (url, response.status_code)
        assert response.status_code != 400 or url == "/cases/", (url, response.status_code)
