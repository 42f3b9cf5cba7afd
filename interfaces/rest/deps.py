"""Reusable request dependencies: the container, the acting user, the request id, the idempotency key,
and the role check that runs before the body is read (`role_may`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from application.bootstrap import Container
from application.idempotency import IdempotencyKey
from application.policy import PERMISSIONS, ROLES, Actor, authorize
from infrastructure.tokens import InvalidToken, verifier

_bearer = HTTPBearer(auto_error=False, description="JWT with claims sub, role, org, region, name")


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """当前用户 — the actor named by a valid bearer token; anything else is a 401."""
    if credentials is None:
        raise InvalidToken("send Authorization: Bearer <token>")
    claims = verifier(get_container(request).settings).decode(credentials.credentials)
    if claims["role"] not in ROLES:
        raise InvalidToken(f"unknown role {claims['role']!r}")
    return Actor(claims["sub"], claims["role"], claims["org"], claims["region"], claims["name"])


def request_id(request: Request) -> str:
    """Set by the request-id middleware from X-Request-ID or a fresh uuid4."""
    return str(request.state.request_id)


def idempotency_key(
    key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", max_length=200, description="the same key and body return the first response"),
    ] = None,
) -> str | None:
    return key


ContainerDep = Annotated[Container, Depends(get_container)]
CurrentActor = Annotated[Actor, Depends(current_actor)]
RequestId = Annotated[str, Depends(request_id)]
IdemKey = Annotated[str | None, Depends(idempotency_key)]


def role_may(action: str) -> Any:
    """403 before the body is looked at: may the actor's role do the route's action? (`authorize`
    without an owner or region: the role-level part of the policy; the service checks the scope, as
    it holds the object.) The order of every command is token → role → body → scope.

    Use it as `dependencies=[role_may("seal.revoke")]`: FastAPI solves a route's dependencies before
    it validates the body, and an exception raised in one is answered at once. The action may name a
    path parameter, `"seal.{action}"`; a value the policy does not know is left to the path's own
    validation (422), as the route answers without this check."""
    if "{" not in action and action not in PERMISSIONS:  # a misspelt action fails at import, not as 403s
        raise KeyError(f"action {action!r} is not in the policy")

    def check(request: Request, actor: CurrentActor) -> None:
        named = action.format(**request.path_params)
        if named in PERMISSIONS:
            authorize(actor, named)  # no owner_org, no region_code: the role only

    return Depends(check)


def idempotency(key: str | None, action: str, body: BaseModel | None, **path: object) -> IdempotencyKey | None:
    """The key bound to what was asked (path and body): the same key with another request is a conflict."""
    payload = body.model_dump(mode="json") if body is not None else {}
    return IdempotencyKey.of(key, action, {**{k: str(v) for k, v in path.items()}, **payload})
