"""The GraphQL read side: project(s), case(s), auditTrail, projections (shared/API.md).

Every field that reads a projection takes `atLeast`: wait (bounded) until the read models have
processed that log position. `asOf` replays the aggregate from the log instead of reading a model.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.tools import merge_types
from strawberry.types import Info

from application.history import History
from application.policy import Actor, in_scope
from domain.projects import project_id
from infrastructure.store import version_at
from interfaces.graphql.context import Context
from interfaces.graphql.inquiries import InquiriesQuery
from interfaces.graphql.live import Subscription
from interfaces.graphql.ratings import RatingsQuery
from interfaces.graphql.replay import case_facts, project_from
from interfaces.graphql.router import IsAuthenticated
from interfaces.graphql.statistics import StatisticsQuery
from interfaces.graphql.types import (
    AuditEntry,
    Case,
    CaseFacts,
    Connection,
    Project,
    ProjectionStatus,
    audit_node,
    case_node,
    connection,
    decode_cursor,
    project_node,
    transition_node,
)
from interfaces.graphql.warnings import WarningsQuery
from projections.case_timeline import clock_of

MAX_PAGE = 200


@strawberry.input(description="Filters for `projects`.")
class ProjectFilter:
    region_code: str | None = None
    owner_uscc: str | None = None
    flow_type: int | None = None
    stage_reached: int | None = None
    name_contains: str | None = None


@strawberry.input(description="Filters for `cases`.")
class CaseFilter:
    project_code: str | None = None
    region_code: str | None = None
    item_code: str | None = None
    status_code: int | None = None
    stage: int | None = None


def _error(message: str, code: str, status: int) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, "status": status})


async def _wait(info: Info[Context, None], at_least: int | None) -> None:
    """Read-your-writes on demand: block (bounded) until every read model reached `at_least`."""
    if at_least is None:
        return
    container = info.context.container
    engine = getattr(container, "engine", None)
    if engine is None:
        raise _error("no projection engine runs in this process", "UNAVAILABLE", 503)
    timeout = container.settings.wait_timeout_s
    reached = await anyio.to_thread.run_sync(partial(engine.wait_for, at_least, timeout))
    if not reached:
        raise _error(f"read models did not reach position {at_least} within {timeout}s", "TIMEOUT", 504)


def _page(first: int) -> int:
    if not 0 < first <= MAX_PAGE:
        raise _error(f"first must be between 1 and {MAX_PAGE}", "BAD_USER_INPUT", 422)
    return first


def _scope_region(info: Info[Context, None], requested: str | None) -> str | None:
    """Officials see their region; a narrower filter inside it is allowed."""
    actor = _actor(info)
    if actor.role in ("admin",) or actor.region in ("", "460000"):
        return requested
    if requested and in_scope(actor, requested):
        return requested
    return actor.region


def _check_visible(info: Info[Context, None], region_code: str, owner_org: str) -> None:
    actor = _actor(info)
    if actor.role == "applicant":
        if owner_org != actor.org:
            raise _error("an applicant sees only its own projects and cases", "FORBIDDEN", 403)
    elif actor.role != "admin" and not in_scope(actor, region_code):
        raise _error(f"region {region_code} is outside the actor's scope {actor.region}", "FORBIDDEN", 403)


def _actor(info: Info[Context, None]) -> Actor:
    actor = info.context.actor
    if actor is None:  # IsAuthenticated already refused; this narrows the type
        raise _error("not authenticated", "UNAUTHENTICATED", 401)
    return actor


def _utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise _error("times need a UTC offset", "BAD_USER_INPUT", 422)
    return moment.astimezone(UTC).isoformat()


def _history(info: Info[Context, None]) -> History:
    container = info.context.container
    return History(container.app, partial(version_at, container.db))


def _replay(
    info: Info[Context, None], aggregate_id: UUID, as_of: datetime | None, as_of_position: int | None
) -> list[Any]:
    if as_of is not None and as_of.tzinfo is None:
        raise _error("asOf needs a UTC offset", "BAD_USER_INPUT", 422)
    return _history(info).events(aggregate_id, until_time=as_of, until_position=as_of_position)


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="项目 — one project by its national code, now or as known at `asOf` / `asOfPosition`.",
    )
    async def project(
        self,
        info: Info[Context, None],
        code: str,
        as_of: datetime | None = None,
        as_of_position: int | None = None,
        at_least: int | None = None,
    ) -> Project | None:
        await _wait(info, at_least)
        if as_of is not None or as_of_position is not None:
            events = await anyio.to_thread.run_sync(_replay, info, project_id(code), as_of, as_of_position)
            if not events:
                return None
            aggregate = History.fold(events)
            _check_visible(info, aggregate.region_code, aggregate.owner_uscc)
            return project_from(aggregate)
        row = await anyio.to_thread.run_sync(info.context.projects.get, code)
        if row is None:
            return None
        _check_visible(info, row["region_code"], row["owner_uscc"])
        return project_node(row)

    @strawberry.field(
        permission_classes=[IsAuthenticated], description="项目列表 — projects in the actor's scope, oldest first."
    )
    async def projects(
        self,
        info: Info[Context, None],
        filter: ProjectFilter | None = None,
        first: int = 20,
        after: str | None = None,
        at_least: int | None = None,
    ) -> Connection[Project]:
        await _wait(info, at_least)
        f = filter or ProjectFilter()
        actor = _actor(info)
        owner = actor.org if actor.role == "applicant" else f.owner_uscc
        rows, has_next, total = await anyio.to_thread.run_sync(
            partial(
                info.context.projects.list,
                region_scope=_scope_region(info, f.region_code),
                owner_uscc=owner,
                flow_type=f.flow_type,
                stage_reached=f.stage_reached,
                name_contains=f.name_contains,
                after=decode_cursor(after),
                first=_page(first),
            )
        )
        return connection([(r["created_position"], project_node(r)) for r in rows], has_next, total)

    @strawberry.field(
        name="case",
        permission_classes=[IsAuthenticated],
        description="办件 — one case with its clock and timeline, now or as known at `asOf`.",
    )
    async def case_(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        as_of: datetime | None = None,
        as_of_position: int | None = None,
        at_least: int | None = None,
    ) -> Case | None:
        await _wait(info, at_least)
        try:
            case_id = UUID(str(id))
        except ValueError:
            raise _error(f"not a case id: {id}", "BAD_USER_INPUT", 422) from None
        if as_of is not None or as_of_position is not None:
            events = await anyio.to_thread.run_sync(_replay, info, case_id, as_of, as_of_position)
            if not events:
                return None
            facts = case_facts(events)
            _check_visible(info, facts.row["region_code"], facts.row["applicant_org"])
            day = (as_of or events[-1].timestamp).astimezone().date() if as_of else None
            return case_node(facts, on=day)
        timeline = info.context.cases
        row = await anyio.to_thread.run_sync(timeline.get, str(case_id))
        if row is None:
            return None
        _check_visible(info, row["region_code"], row["applicant_org"])
        transitions = await anyio.to_thread.run_sync(timeline.transitions, str(case_id))
        return case_node(CaseFacts(row, clock_of(row), [transition_node(t) for t in transitions]))

    @strawberry.field(
        permission_classes=[IsAuthenticated], description="办件列表 — cases in the actor's scope, oldest first."
    )
    async def cases(
        self,
        info: Info[Context, None],
        filter: CaseFilter | None = None,
        first: int = 20,
        after: str | None = None,
        at_least: int | None = None,
    ) -> Connection[Case]:
        await _wait(info, at_least)
        f = filter or CaseFilter()
        actor = _actor(info)
        timeline = info.context.cases
        rows, has_next, total = await anyio.to_thread.run_sync(
            partial(
                timeline.list,
                project_code=f.project_code,
                region_scope=_scope_region(info, f.region_code),
                applicant_org=actor.org if actor.role == "applicant" else None,
                item_code=f.item_code,
                status_code=f.status_code,
                stage=f.stage,
                after=decode_cursor(after),
                first=_page(first),
            )
        )
        ids = [r["case_id"] for r in rows]
        by_case = await anyio.to_thread.run_sync(timeline.transitions_of, ids)
        nodes = [
            (
                r["created_position"],
                case_node(CaseFacts(r, clock_of(r), [transition_node(t) for t in by_case.get(r["case_id"], [])])),
            )
            for r in rows
        ]
        return connection(nodes, has_next, total)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="审计追溯 — every event about a subject (project code, case id, actor id) in global order.",
    )
    async def audit_trail(
        self,
        info: Info[Context, None],
        subject: str,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        first: int = 50,
        after: str | None = None,
        at_least: int | None = None,
    ) -> Connection[AuditEntry]:
        await _wait(info, at_least)
        actor = _actor(info)
        if actor.role == "applicant" and subject not in (actor.actor_id, actor.org):
            project = await anyio.to_thread.run_sync(info.context.projects.get, subject)
            if project is None or project["owner_uscc"] != actor.org:
                raise _error("an applicant may trace only its own projects", "FORBIDDEN", 403)
        rows, has_next = await anyio.to_thread.run_sync(
            partial(
                info.context.audit.trail,
                subject,
                after=decode_cursor(after),
                first=_page(first),
                since=_utc(from_),
                until=_utc(to),
            )
        )
        total = await anyio.to_thread.run_sync(info.context.audit.count, subject)
        return connection([(r["position"], audit_node(r)) for r in rows], has_next, total)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="读模型状态 — each read model's position and lag behind the log.",
    )
    async def projections(self, info: Info[Context, None]) -> list[ProjectionStatus]:
        engine = getattr(info.context.container, "engine", None)
        if engine is None:
            return []
        status = await anyio.to_thread.run_sync(engine.status)
        return [
            ProjectionStatus(name=s["name"], position=s["position"], log_position=s["log_position"], lag=s["lag"])
            for s in status
        ]


schema = strawberry.Schema(
    query=merge_types("Query", (Query, InquiriesQuery, RatingsQuery, StatisticsQuery, WarningsQuery)),
    subscription=Subscription,
    extensions=[
        lambda: QueryDepthLimiter(max_depth=10),
        lambda: MaxAliasesLimiter(max_alias_count=30),
        lambda: MaxTokensLimiter(max_token_count=2000),
    ],
)
