"""Reusable request dependencies: the container, the acting user, the request id, the idempotency key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from application.bootstrap import Container
from application.idempotency import IdempotencyKey
from application.policy import ROLES, Actor
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


def idempotency(key: str | None, action: str, body: BaseModel | None, **path: object) -> IdempotencyKey | None:
    """The key bound to what was asked (path and body): the same key with another request is a conflict."""
    payload = body.model_dump(mode="json") if body is not None else {}
    return IdempotencyKey.of(key, action, {**{k: str(v) for k, v in path.items()}, **payload})
