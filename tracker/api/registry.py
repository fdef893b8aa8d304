"""A small route registry: each API operation is declared once, with its pydantic models,
and the Flask route and the OpenAPI 3.1 document are both generated from the declaration."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from tracker.api import bp
from tracker.api.schemas import Error

FILTER_PARAMETERS: list[dict[str, Any]] = [
    {"name": "q", "schema": {"type": "string", "maxLength": 200}, "description": "Search text."},
    *(
        {
            "name": name,
            "schema": {"type": "array", "items": {"type": "string", "maxLength": 60}},
            "style": "form",
            "explode": True,
            "description": f"{name} code(s); repeat the parameter or separate with ';'.",
        }
        for name in (
            "right",
            "provision",
            "instrument",
            "jurisdiction",
            "forum",
            "status",
            "outcome",
        )
    ),
    {
        "name": "organisation",
        "schema": {"type": "array", "items": {"type": "integer", "minimum": 1}},
        "style": "form",
        "explode": True,
    },
    {"name": "filed_from", "schema": {"type": "string", "format": "date"}},
    {"name": "filed_to", "schema": {"type": "string", "format": "date"}},
]
PAGE_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "cursor",
        "schema": {"type": "string", "maxLength": 100},
        "description": "From `next`.",
    },
    {"name": "page", "schema": {"type": "integer", "minimum": 1}},
    {"name": "per_page", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
]


@dataclass
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    response: type[BaseModel] | None
    status: int = 200
    body: type[BaseModel] | None = None
    parameters: list[dict[str, Any]] = field(default_factory=list)
    errors: tuple[int, ...] = ()

    @property
    def path(self) -> str:
        return "/api/v1" + re.sub(r"<(?:[\w()=]+:)?(\w+)>", r"{\1}", self.rule)

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"<(?:[\w()=]+:)?(\w+)>", self.rule)


REGISTRY: list[Operation] = []


def api_route(
    rule: str,
    method: str,
    *,
    summary: str,
    response: type[BaseModel] | None,
    status: int = 200,
    body: type[BaseModel] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    errors: tuple[int, ...] = (),
) -> Callable:
    def decorator(view: Callable) -> Callable:
        op = Operation(
            rule, method, view.__name__, summary, response, status, body, parameters or [], errors
        )
        REGISTRY.append(op)
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=view, methods=[method])
        return view

    return decorator


def openapi_document(server_url: str) -> dict[str, Any]:
    models: set[type[BaseModel]] = {Error}
    for op in REGISTRY:
        models.update(m for m in (op.response, op.body) if m is not None)
    _keys, schema = models_json_schema(
        [
            (m, "validation" if any(op.body is m for op in REGISTRY) else "serialization")
            for m in sorted(models, key=lambda m: m.__name__)
        ],
        ref_template="#/components/schemas/{model}",
    )
    components = schema.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    error_ref = {"$ref": "#/components/schemas/Error"}
    for op in REGISTRY:
        responses: dict[str, Any] = {}
        if op.response is not None:
            responses[str(op.status)] = {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{op.response.__name__}"}
                    }
                },
            }
        else:
            responses[str(op.status)] = {"description": "OK"}
        for code in sorted({401, 429, *op.errors}):
            responses[str(code)] = {
                "description": "Error",
                "content": {"application/json": {"schema": error_ref}},
            }
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            }
            for name in op.path_parameters
        ] + [{"in": "query", "required": False, **p} for p in op.parameters]
        operation: dict[str, Any] = {
            "operationId": op.endpoint,
            "summary": op.summary,
            "parameters": parameters,
            "responses": responses,
            "security": [{"bearer": []}],
        }
        if op.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{op.body.__name__}"}
                    }
                },
            }
        paths.setdefault(op.path, {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Litigation tracker API",
            "version": "1",
            "description": (
                "Cases, taxonomy and patterns of the litigation tracker. Send a personal API "
                "token as `Authorization: Bearer <token>`; every answer holds only what the "
                "token's owner may see. Errors are JSON {error, reason}."
            ),
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
