"""The OpenAPI document tells the truth about errors: every operation lists the problem+json
responses it can give (RFC 9457), with one `Problem` schema, instead of FastAPI's lone 422
`HTTPValidationError` as application/json (a client generated from that was wrong for every error).

Which statuses an operation can give follows from the middleware and the error table
(interfaces/rest/errors.py) that every request passes through, so it is decided here once."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from interfaces.rest.errors import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; extension members (e.g. `missing`, `errors`) may follow.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "a URI naming the kind of problem"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "validation errors: where (field path) and which rule",
            "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

# every request: rate limit (429, per token subject or client address) and the store (503)
ALWAYS = {
    429: "too many requests from this token subject or address (Retry-After)",
    503: "the database cannot be reached; nothing was written, retry (Retry-After)",
}
# every operation that takes a token, a path parameter or a body
GUARDED = {
    400: "malformed request: unreadable JSON, nesting too deep, or a refused domain rule",
    401: "no token, or an invalid or expired one",
    403: "the role or scope may not do this",
    404: "unknown id",
    409: "a conflict with recorded facts: an illegal transition, a duplicate, a reused Idempotency-Key",
    413: "the request body is too large",
    422: "invalid input: `errors` names each field path and the rule broken",
}
OPEN = ("/health", "/metrics")  # liveness and metrics: no token, no body


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def problem_responses(path: str) -> dict[int, str]:
    """The error statuses an operation on `path` can answer."""
    return ALWAYS if path in OPEN else {**GUARDED, **ALWAYS}


def document_problems(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas["Problem"] = PROBLEM_SCHEMA
        graphiql = schema.get("paths", {}).get("/graphql", {}).get("get", {}).get("responses", {}).get("200")
        if graphiql is not None:  # a browser's GET of /graphql is answered with GraphiQL
            graphiql.setdefault("content", {})["text/html"] = {"schema": {"type": "string"}}
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in sorted(problem_responses(path).items()):
                    responses[str(status)] = _problem(description)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
