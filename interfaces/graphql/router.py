"""Mount the schema at /graphql (GraphiQL in the browser). The token is read per request."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from strawberry.fastapi import GraphQLRouter
from strawberry.permission import BasePermission
from strawberry.types import Info

from application.bootstrap import Container
from application.policy import ROLES, Actor
from infrastructure.tokens import InvalidToken, decode
from interfaces.graphql.context import Context


def actor_from(request: Request, secret: str) -> Actor | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        claims = decode(secret, token.strip())
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


def mount(app: FastAPI, container: Container) -> None:
    from interfaces.graphql.schema import schema

    async def context(request: Request) -> Context:
        return Context(container=container, actor=actor_from(request, container.settings.jwt_secret))

    app.include_router(GraphQLRouter(schema, context_getter=context, graphql_ide="graphiql"), prefix="/graphql")
