"""What every GraphQL field shares: errors with codes, `atLeast` waits, paging, the actor, region
scope and times. One copy, imported by every query module."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

import anyio.to_thread
from graphql import GraphQLError
from strawberry.types import Info

from application.policy import Actor, in_scope
from domain.shared.errors import DomainError, Forbidden, InvalidValue, NotFound
from interfaces.graphql.context import Context

T = TypeVar("T")

MAX_PAGE = 100  # page size cap of every connection (docs/security.md)


def error(message: str, code: str, status: int) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, "status": status})


async def run_domain(work: Callable[[], T]) -> T:
    """Run a service call off the event loop; its domain errors become coded GraphQL errors."""
    try:
        return await anyio.to_thread.run_sync(work)
    except Forbidden as exc:
        raise error(str(exc), "FORBIDDEN", 403) from None
    except NotFound as exc:
        raise error(str(exc), "NOT_FOUND", 404) from None
    except InvalidValue as exc:
        raise error(str(exc), "BAD_USER_INPUT", 422) from None
    except DomainError as exc:
        raise error(str(exc), "CONFLICT", 409) from None


async def wait(info: Info[Context, None], at_least: int | None) -> None:
    """Read-your-writes on demand: block (bounded) until every read model reached `at_least`."""
    if at_least is None:
        return
    container = info.context.container
    timeout = container.settings.wait_timeout_s
    if not await anyio.to_thread.run_sync(partial(container.engine.wait_for, at_least, timeout)):
        raise error(f"read models did not reach position {at_least} within {timeout}s", "TIMEOUT", 504)


def page(first: int) -> int:
    if not 0 < first <= MAX_PAGE:
        raise error(f"first must be between 1 and {MAX_PAGE}", "BAD_USER_INPUT", 422)
    return first


def actor_of(info: Info[Context, None]) -> Actor:
    actor = info.context.actor
    if actor is None:  # IsAuthenticated refuses first; this narrows the type
        raise error("not authenticated", "UNAUTHENTICATED", 401)
    return actor


def region_scope(actor: Actor, requested: str | None) -> str | None:
    """Readers see their region; a narrower filter inside it is allowed, a wider one is narrowed."""
    if actor.role == "admin" or actor.region in ("", "460000"):
        return requested
    if requested and in_scope(actor, requested):
        return requested
    return actor.region


def utc(moment: datetime | None) -> str | None:
    """Times compare as UTC ISO text in the read models."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise error("times need a UTC offset", "BAD_USER_INPUT", 422)
    return moment.astimezone(UTC).isoformat()
