"""The OpenAPI document, generated from the route table so that it cannot drift."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from collab.refusal import RefusalCode
from server.http.common import Endpoint
from server.refusals import HTTP_STATUS

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


def document(endpoints: Iterable[Endpoint], base_url: str) -> dict[str, Any]:
    """The document for ``endpoints`` (the app's routes, as ``create_app`` composed them)."""
    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        params = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "maxLength": 200},
            }
            for name in re.findall(r"{(\w+)}", e.path)
        ]
        responses: dict[str, Any] = {
            str(e.status): {"description": "OK", "content": {"application/json": {}}},
        }
        for status in e.responses:
            responses[str(status)] = {"description": "Redirect"}
        codes: set[RefusalCode] = {"malformed", "not-found", "too-large", "unsupported-media-type"}
        if e.auth:
            codes |= {"unauthenticated", "forbidden", "conflict"}
        else:
            codes |= {"forbidden", "unauthenticated"}
        for code in sorted(codes):
            responses.setdefault(
                str(HTTP_STATUS[code]),
                {"description": code, "content": {"application/json": {"schema": ERROR}}},
            )
        op: dict[str, Any] = {
            "summary": e.summary,
            "operationId": e.handler.__name__,
            "tags": [e.tag],
            "parameters": params,
            "responses": responses,
        }
        if e.auth:
            op["security"] = [{"bearer": []}, {"cookie": []}]
        if e.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": e.body}},
            }
        paths.setdefault(e.path, {})[e.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Planrom API", "version": "1"},
        "servers": [{"url": base_url}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "planrom_session"},
            }
        },
        "paths": paths,
    }
