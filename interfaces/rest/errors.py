"""错误 — the one table mapping errors to HTTP problem details (RFC 9457, application/problem+json).

Like Netflix/dispatch: routers raise domain errors and never build error responses themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from domain.catalog.edition import CatalogueErrors
from domain.shared.errors import (
    Conflict,
    DomainError,
    Forbidden,
    IllegalTransition,
    InvalidValue,
    NotFound,
    PrerequisitesMissing,
)
from infrastructure.tokens import InvalidToken

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://gongjian.hainan.gov.cn/problems/"
# the store is unreachable (restart, failover, pool exhausted): nothing was written, try again soon
UNAVAILABLE = (psycopg.OperationalError, psycopg.InterfaceError, StoreOperationalError, StoreInterfaceError)
RETRY_AFTER_S = 5


@dataclass(frozen=True)
class Problem:
    status: int
    slug: str
    title: str


# The most specific class in an exception's MRO wins.
PROBLEMS: dict[type[Exception], Problem] = {
    InvalidValue: Problem(422, "invalid-value", "Invalid value"),
    RequestValidationError: Problem(422, "invalid-request", "Invalid request"),
    PrerequisitesMissing: Problem(409, "prerequisites-missing", "Prerequisite items are not approved"),
    IllegalTransition: Problem(409, "illegal-transition", "Action not allowed in the current state"),
    Conflict: Problem(409, "conflict", "Conflict with recorded facts"),
    NotFound: Problem(404, "not-found", "Not found"),
    Forbidden: Problem(403, "forbidden", "Forbidden"),
    InvalidToken: Problem(401, "unauthenticated", "Authentication required"),
    DomainError: Problem(400, "domain-error", "Request refused"),
}


def problem_for(exc: Exception) -> Problem:
    for cls in type(exc).__mro__:
        if cls in PROBLEMS:
            return PROBLEMS[cls]
    return Problem(500, "internal", "Internal server error")


def problem_response(
    status: int, type_: str, title: str, detail: str, headers: Mapping[str, str] | None = None, **extensions: Any
) -> JSONResponse:
    body = {"type": type_, "title": title, "status": status, "detail": detail, **extensions}
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _extensions(exc: Exception) -> dict[str, Any]:
    """Machine-readable members a client needs beyond the detail text."""
    if isinstance(exc, CatalogueErrors):  # every bad row of a catalogue file at once
        return {"errors": [
            {"loc": ["body", *e.path.replace("[", ".").replace("]", "").split(".")], "msg": e.message, "type": e.rule,
             **e.as_dict()} for e in exc.errors
        ]}  # fmt: skip
    if isinstance(exc, InvalidValue):
        return {"errors": [{"loc": ["body", *exc.field.split(".")], "msg": exc.message, "type": exc.rule}]}
    if isinstance(exc, PrerequisitesMissing):
        return {"item_code": exc.item_code, "missing": exc.missing}
    if isinstance(exc, IllegalTransition):
        return {"state": exc.state, "action": exc.action}
    return {}


def _known_error(request: Request, exc: Exception) -> JSONResponse:
    problem = problem_for(exc)
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    return problem_response(
        problem.status, PROBLEM_BASE + problem.slug, problem.title, str(exc), headers, **_extensions(exc)
    )


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problem = PROBLEMS[RequestValidationError]
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors)
    return problem_response(
        problem.status, PROBLEM_BASE + problem.slug, problem.title, f"invalid: {fields}", errors=errors
    )


# errors raised as HTTP statuses (routing, body limits): our problem types too, never about:blank
HTTP_PROBLEMS = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    413: "too-large",
    415: "unsupported-media-type",
}


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    slug = HTTP_PROBLEMS.get(exc.status_code, HTTPStatus(exc.status_code).phrase.lower().replace(" ", "-"))
    return problem_response(exc.status_code, PROBLEM_BASE + slug, phrase, str(exc.detail), exc.headers)


def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(
        503,
        PROBLEM_BASE + "store-unavailable",
        "Service temporarily unavailable",
        "the database cannot be reached; retry later (with the same Idempotency-Key)",
        {"Retry-After": str(RETRY_AFTER_S)},
    )


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(
        500, PROBLEM_BASE + "internal-error", "Internal Server Error", "an unexpected error occurred"
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _known_error)
    app.add_exception_handler(InvalidToken, _known_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    for unavailable in UNAVAILABLE:
        app.add_exception_handler(unavailable, _unavailable)
    app.add_exception_handler(Exception, _unexpected)
