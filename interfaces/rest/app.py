"""The REST application: routers, the problem+json error table, request ids and metrics."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

from fastapi import Depends, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from application.bootstrap import Container, bootstrap
from infrastructure.settings import Settings
from interfaces.graphql.router import mount as mount_graphql
from interfaces.graphql.schema import schema as graphql_schema
from interfaces.rest import docs, errors
from interfaces.rest.limits import BodyLimit, RateLimit
from interfaces.rest.openapi import document_problems
from interfaces.rest.routers import approvals, health, projects
from interfaces.rest.routers import archives as archives_router
from interfaces.rest.routers import blueprint as blueprint_router
from interfaces.rest.routers import catalogue as catalogue_router
from interfaces.rest.routers import deliveries as deliveries_router
from interfaces.rest.routers import exchange as exchange_router
from interfaces.rest.routers import feedback as feedback_router
from interfaces.rest.routers import industry as industry_router
from interfaces.rest.routers import intermediaries as intermediaries_router
from interfaces.rest.routers import licences as licences_router
from interfaces.rest.routers import ratings as ratings_router
from interfaces.rest.routers import signatures as signatures_router
from interfaces.rest.routers import spgl as spgl_router
from interfaces.rest.routers import supervision as supervision_router
from interfaces.rest.routers import work_calendar as work_calendar_router
from interfaces.rest.strict import refuse_unknown_query_parameters

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class Metrics:
    """Request counts by method, route and status, rendered in the Prometheus text format."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str, int]] = Counter()

    def count(self, method: str, route: str, status: int) -> None:
        with self._lock:
            self._requests[(method, route, status)] += 1

    def render(self, log_position: int) -> str:
        with self._lock:
            rows = sorted(self._requests.items())
        lines = [
            "# HELP gongjian_http_requests_total HTTP requests by method, route template and status.",
            "# TYPE gongjian_http_requests_total counter",
            *(f'gongjian_http_requests_total{{method="{m}",route="{r}",status="{s}"}} {n}' for (m, r, s), n in rows),
            "# HELP gongjian_log_position Global position of the last event in the log.",
            "# TYPE gongjian_log_position gauge",
            f"gongjian_log_position {log_position}",
        ]
        return "\n".join(lines) + "\n"


class RequestContext:
    """Gives every request an id (X-Request-ID, or a new uuid4), echoes it, and counts the response."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = sent if _REQUEST_ID.match(sent) else str(uuid4())
        scope["state"] = {**scope.get("state", {}), "request_id": request_id}
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")  # the template, never raw ids
            self.metrics.count(scope["method"], route, status)


def create_app(container: Container) -> FastAPI:
    app = FastAPI(
        title="gongjian 工建 API",
        version="1",
        description="Commands of the construction-project approval system. Queries are GraphQL at /graphql.",
        docs_url=None,  # FastAPI's own /docs and /redoc load from CDNs: docs.install serves /docs offline
        redoc_url=None,
        dependencies=[Depends(refuse_unknown_query_parameters)],  # a misspelt filter is a 422, not ignored
    )
    app.state.container = container
    app.state.metrics = Metrics()
    errors.install(app)
    app.include_router(health.router)
    app.include_router(projects.router)
    app.include_router(blueprint_router.router)
    app.include_router(approvals.router)
    app.include_router(exchange_router.router)
    app.include_router(spgl_router.router)
    app.include_router(ratings_router.router)
    app.include_router(feedback_router.router)
    app.include_router(supervision_router.router)
    app.include_router(signatures_router.router)
    app.include_router(archives_router.router)
    app.include_router(licences_router.router)
    app.include_router(deliveries_router.router)
    app.include_router(industry_router.router)
    app.include_router(intermediaries_router.router)
    app.include_router(catalogue_router.router)
    app.include_router(work_calendar_router.router)
    mount_graphql(app, container, graphql_schema)
    docs.install(app)
    document_problems(app)
    app.add_middleware(RateLimit, settings=container.settings)
    app.add_middleware(BodyLimit, settings=container.settings)
    app.add_middleware(RequestContext, metrics=app.state.metrics)
    return app


def create_app_from_env() -> FastAPI:
    """For `uvicorn --factory` with several workers: each worker process builds its own container
    from GONGJIAN_* settings (workers share nothing but PostgreSQL and Redis)."""
    container = bootstrap(Settings())
    app = create_app(container)
    running = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with running(app_) as state:
            yield state
        container.close()

    app.router.lifespan_context = lifespan
    return app
