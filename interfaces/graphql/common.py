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

from application.bootstrap import Container
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


# How far past the log's last position `atLeast` may point and still be waited for. Positions come from
# command responses, so a real one is never past the log's end; the margin spares a client that reads
# the log from a replica a step behind the writer (docs/scaling.md) and costs no more than any bounded
# wait. Past it the answer is at once: a position that may never come would hold a worker for the
# whole wait timeout (docs/security.md).
AHEAD_MARGIN = 100


def _bounded_wait(container: Container, at_least: int, timeout: float) -> tuple[bool, int | None]:
    """(reached, None) after waiting; (False, the log's position) without waiting when `at_least` is
    more than AHEAD_MARGIN past it."""
    log_position = container.app.max_position()
    if at_least > log_position + AHEAD_MARGIN:
        return False, log_position
    if container.replica is not None:  # GraphQL reads the replica: wait for the replica's copy, not the primary's
        return container.replica.wait_for(at_least, timeout, list(container.engine.models)), None
    return container.engine.wait_for(at_least, timeout), None


def _replica_behind(container: Container, at_least: int) -> GraphQLError:
    """The timeout when reading a replica: say how far its copy got (/health tells replay from runners)."""
    assert container.replica is not None
    try:
        reached: int | None = min(container.replica.positions(list(container.engine.models)).values(), default=0)
    except Exception:  # the replica went away meanwhile
        reached = None
    return GraphQLError(
        f"the read replica did not reach position {at_least} within {container.settings.wait_timeout_s}s"
        f" (its read models are at {reached}): the replica lags, its replay is paused, or the runners lag; see /health",
        extensions={"code": "TIMEOUT", "status": 504, "replicaPosition": reached},
    )


async def wait(info: Info[Context, None], at_least: int | None) -> None:
    """Read-your-writes on demand: block (bounded) until every read model reached `at_least`."""
    if at_least is None:
        return
    container = info.context.container
    timeout = container.settings.wait_timeout_s
    reached, log_position = await anyio.to_thread.run_sync(partial(_bounded_wait, container, at_least, timeout))
    if log_position is not None:
        raise GraphQLError(
            f"atLeast {at_least} is ahead of the log (position {log_position}): pass a position a command returned",
            extensions={"code": "BAD_USER_INPUT", "status": 422, "logPosition": log_position},
        )
    if not reached and container.replica is not None:
        raise await anyio.to_thread.run_sync(partial(_replica_behind, container, at_least))
    if not reached:
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
