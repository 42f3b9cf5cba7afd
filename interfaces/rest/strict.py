"""Strict query strings: a query parameter the operation does not declare is a 422 naming it, as an
unknown body field is (`extra="forbid"` on every request body). A misspelt filter must not be
silently ignored: the client would read an unfiltered answer as a filtered one."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import HTTPConnection


def _query_names(dependant: Dependant) -> Iterator[str]:
    yield from (p.alias for p in dependant.query_params)
    for sub in dependant.dependencies:
        yield from _query_names(sub)


_DECLARED: dict[int, frozenset[str]] = {}  # by route object: routes live as long as the app


def _declared(route: APIRoute) -> frozenset[str]:
    names = _DECLARED.get(id(route))
    if names is None:
        names = _DECLARED[id(route)] = frozenset(_query_names(route.dependant))
    return names


async def refuse_unknown_query_parameters(request: HTTPConnection) -> None:
    """A dependency of every REST operation under /api/ (GraphQL reads its own query string; a
    websocket, which FastAPI also runs the app's dependencies for, is let through)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.url.path.startswith("/api/"):
        return
    unknown = [name for name in request.query_params if name not in _declared(route)]
    if unknown:
        raise RequestValidationError(
            [
                {"loc": ("query", name), "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
                for name in dict.fromkeys(unknown)
            ]
        )
