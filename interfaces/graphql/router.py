"""Mount the schema at /graphql (GraphiQL in the browser). The token is read per request."""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException as TransportRefusal  # what strawberry raises for a bad request
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from graphql import GraphQLSyntaxError
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.permission import BasePermission
from strawberry.types import ExecutionResult, Info
from strawberry.types.unset import UNSET, UnsetType

from application.bootstrap import Container
from application.policy import ROLES, Actor
from infrastructure.tokens import InvalidToken, Verifier, verifier
from interfaces.graphql import ide
from interfaces.graphql.context import Context


def actor_from(request: HTTPConnection, tokens: Verifier) -> Actor | None:
    return actor_from_header(request.headers.get("authorization", ""), tokens)


def actor_from_header(header: str, tokens: Verifier) -> Actor | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        claims = tokens.decode(token.strip())
    except InvalidToken:
        return None
    if claims["role"] not in ROLES:
        return None
    return Actor(claims["sub"], claims["role"], claims["org"], claims["region"], claims["name"])


class IsAuthenticated(BasePermission):
    message = "send Authorization: Bearer <token> (a valid, unexpired JWT)"
    error_extensions = {"code": "UNAUTHENTICATED", "status": 401}

    def has_permission(self, source: Any, info: Info[Context, None], **kwargs: Any) -> bool:
        return info.context.actor is not None


class Router(GraphQLRouter[Context, None]):
    """Websocket clients (subscriptions) that cannot send headers put the token in the
    connection_init payload: {"Authorization": "Bearer …"}. A query that does not parse (a lone
    surrogate or a control character in its text included) answers GRAPHQL_PARSE_FAILED, like every
    other refusal, with a code."""

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        for err in result.errors or ():
            if isinstance(err, GraphQLSyntaxError) and not (err.extensions or {}).get("code"):
                err.extensions = {**(err.extensions or {}), "code": "GRAPHQL_PARSE_FAILED", "status": 400}
        return process_result(result)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:  # type: ignore[override]
        """A request strawberry cannot take (no query, not JSON, a wrong content type) answers as every
        refusal of ours does: problem+json with our problem type (interfaces/rest/errors.py), not the
        plain text strawberry would send, which the OpenAPI document could not describe."""
        try:
            return await super().run(request, context=context, root_value=root_value)
        except TransportRefusal as exc:
            raise HTTPException(exc.status_code, exc.reason) from None

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL with its scripts and styles from our own /static/graphiql, not a CDN (ide.py)."""
        return HTMLResponse(ide.graphiql_html(request.scope.get("root_path", "")))

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = getattr(context, "connection_params", None) or {}
        if context.actor is None and isinstance(params, dict):
            header = str(params.get("Authorization") or params.get("authorization") or "")
            context.actor = actor_from_header(header, verifier(context.container.settings))
        if context.actor is None:
            raise ConnectionRejectionError({"reason": "send Authorization: Bearer <token>"})
        return UNSET


def mount(app: FastAPI, container: Container, schema: Any) -> None:
    """`schema`: interfaces/graphql/schema.py's, handed in so that no module of the schema imports it back."""

    async def context(connection: HTTPConnection) -> Context:
        return Context(container=container, actor=actor_from(connection, verifier(container.settings)))

    app.include_router(Router(schema, context_getter=context, graphql_ide="graphiql"), prefix="/graphql")
