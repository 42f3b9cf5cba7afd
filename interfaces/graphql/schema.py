"""The GraphQL read side: project(s), case(s), auditTrail, projections (shared/API.md).

Every field that reads a projection takes `atLeast`: wait (bounded) until the read models have
processed that log position. `asOf` replays the aggregate from the log instead of reading a model.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from functools import partial
from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, Info

from application.history import History
from domain.approvals.clock import clock_of
from domain.projects import project_id
from infrastructure.store import version_at
from interfaces.graphql.blueprint import BlueprintQuery, canonical_row
from interfaces.graphql.caching import KnownValid
from interfaces.graphql.catalogue import CatalogueQuery
from interfaces.graphql.common import actor_of, error, page, region_scope, utc, wait
from interfaces.graphql.context import Context
from interfaces.graphql.deliveries import DeliveriesQuery
from interfaces.graphql.duplicates import DuplicatesQuery, family, family_page
from interfaces.graphql.execution import use_leaf_fields
from interfaces.graphql.feedback import FeedbackQuery
from interfaces.graphql.industry import IndustryQuery
from interfaces.graphql.industry_read import IndustryListsQuery
from interfaces.graphql.inquiries import InquiriesQuery
from interfaces.graphql.intermediaries import IntermediariesQuery
from interfaces.graphql.ledger import LedgerQuery
from interfaces.graphql.licences import LicencesQuery
from interfaces.graphql.limits import QueryCost, RefuseBadText
from interfaces.graphql.live import Subscription
from interfaces.graphql.parcels import ParcelQuery
from interfaces.graphql.personal import WithheldNotice, may_see_personal_data
from interfaces.graphql.provenance import ProvenanceQuery
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
from interfaces.graphql.utilities import UtilitiesQuery
from interfaces.graphql.visibility import check_trail_visible, check_visible
from interfaces.graphql.warnings import WarningsQuery
from interfaces.graphql.work_calendar import WorkCalendarQuery, calendar_as_of


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


def _scope_region(info: Info[Context, None], requested: str | None) -> str | None:
    return region_scope(actor_of(info), requested)


def _with_positions(info: Info[Context, None], case_id: UUID, facts: CaseFacts) -> CaseFacts:
    """A replayed timeline carries each event's global position, as the live one does."""
    locate = info.context.container.cases.position_of
    transitions = [dataclasses.replace(t, position=locate(case_id, t.seq)) for t in facts.transitions]
    last = transitions[-1].position if transitions else None
    return dataclasses.replace(facts, transitions=transitions, row={**facts.row, "last_position": last})


def _history(info: Info[Context, None]) -> History:
    container = info.context.container
    return History(container.app, partial(version_at, container.db))


def _replay(
    info: Info[Context, None], aggregate_id: UUID, as_of: datetime | None, as_of_position: int | None
) -> list[Any]:
    if as_of is not None and as_of.tzinfo is None:
        raise error("asOf needs a UTC offset", "BAD_USER_INPUT", 422)
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
        await wait(info, at_least)
        if as_of is not None or as_of_position is not None:
            events = await anyio.to_thread.run_sync(_replay, info, project_id(code), as_of, as_of_position)
            if not events:
                return None
            aggregate = History.fold(events)
            check_visible(info, aggregate.region_code, aggregate.owner_uscc)
            locate = info.context.container.projects.position_of
            position = await anyio.to_thread.run_sync(locate, aggregate.id, aggregate.version)
            return dataclasses.replace(project_from(aggregate), position=position)  # as of its last event then
        # a merged (alias) code answers with its canonical project
        row = await anyio.to_thread.run_sync(canonical_row, info.context.projects.get, code)
        if row is None:
            return None
        check_visible(info, row["region_code"], row["owner_uscc"])
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
        await wait(info, at_least)
        f = filter or ProjectFilter()
        actor = actor_of(info)
        if f.owner_uscc and not may_see_personal_data(actor.role):  # would tell whose projects these are
            raise error(f"role {actor.role} may not filter by owner (personal data)", "FORBIDDEN", 403)
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
                first=page(first),
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
        await wait(info, at_least)
        try:
            case_id = UUID(str(id))
        except ValueError:
            raise error(f"not a case id: {id}", "BAD_USER_INPUT", 422) from None
        if as_of is not None or as_of_position is not None:
            events = await anyio.to_thread.run_sync(_replay, info, case_id, as_of, as_of_position)
            if not events:
                return None
            facts = case_facts(events)
            check_visible(info, facts.row["region_code"], facts.row["applicant_org"])
            facts = await anyio.to_thread.run_sync(_with_positions, info, case_id, facts)
            # 工作日历 as the log knew it then, not as it is now
            known = await anyio.to_thread.run_sync(calendar_as_of, _history(info), facts.clock, as_of, as_of_position)
            facts = dataclasses.replace(facts, clock=facts.clock.with_calendar(known))
            day = (as_of or events[-1].timestamp).astimezone().date() if as_of else None
            return case_node(facts, on=day)
        timeline = info.context.cases
        row = await anyio.to_thread.run_sync(timeline.get, str(case_id))
        if row is None:
            return None
        check_visible(info, row["region_code"], row["applicant_org"])
        transitions = await anyio.to_thread.run_sync(timeline.transitions, str(case_id))
        calendar = await anyio.to_thread.run_sync(timeline.calendar)  # 工作日历 from the log
        return case_node(CaseFacts(row, clock_of(row, calendar), [transition_node(t) for t in transitions]))

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
        await wait(info, at_least)
        f = filter or CaseFilter()
        actor = actor_of(info)
        timeline = info.context.cases
        fetch = partial(
            timeline.list,
            region_scope=_scope_region(info, f.region_code),
            applicant_org=actor.org if actor.role == "applicant" else None,
            item_code=f.item_code,
            status_code=f.status_code,
            stage=f.stage,
            after=decode_cursor(after),
            first=page(first),
        )
        if f.project_code is None:
            rows, has_next, total = await anyio.to_thread.run_sync(fetch)
        else:
            # a merged code answers with its canonical project: the cases filed under any of its codes
            codes = await anyio.to_thread.run_sync(family, info, f.project_code)
            rows, has_next, total = await anyio.to_thread.run_sync(
                family_page, lambda code: fetch(project_code=code), codes, "created_position", page(first)
            )
        ids = [r["case_id"] for r in rows]
        by_case = await anyio.to_thread.run_sync(timeline.transitions_of, ids)
        calendar = await anyio.to_thread.run_sync(timeline.calendar)  # 工作日历 from the log
        nodes = [
            (
                r["created_position"],
                case_node(
                    CaseFacts(r, clock_of(r, calendar), [transition_node(t) for t in by_case.get(r["case_id"], [])])
                ),
            )
            for r in rows
        ]
        return connection(nodes, has_next, total)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="审计追溯 — every event about a subject (project code, case id, licence number, seal id, document"
        " hash, archive package id, inquiry id, warning id, actor id …) in global order.",
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
        await wait(info, at_least)
        audit = info.context.audit

        def read() -> tuple[list[dict[str, Any]], bool, int]:  # the check and the three reads: one hop to a thread
            check_trail_visible(info, subject)  # first: 403 before any argument's 422, and no rows
            cursor, size, since, until = decode_cursor(after), page(first), utc(from_), utc(to)
            # a project code stands for its canonical project with every code merged into it
            subjects = family(info, subject)
            rows, has_next = audit.trail(subjects, after=cursor, first=size, since=since, until=until)
            return rows, has_next, audit.count(subjects)

        rows, has_next, total = await anyio.to_thread.run_sync(read)
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


# depth, aliases and cost (fields times page sizes, interfaces/graphql/limits.py) as one extension whose
# rule classes are made once: the limiters' constructors build a validator class per request
log = logging.getLogger(__name__)

RULES = [
    *QueryDepthLimiter(max_depth=10).validation_rules,
    *MaxAliasesLimiter(max_alias_count=30).validation_rules,
    QueryCost,
]


class Schema(strawberry.Schema):
    """Errors the client caused (syntax, validation, a coded 4xx) are its answer, not our failure: logged
    at INFO, with hostile text escaped (a lone surrogate cannot be written to a UTF-8 log); the rest
    as strawberry logs them, at ERROR with the traceback."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        server: list[GraphQLError] = []
        for e in errors:
            status = (e.extensions or {}).get("status")
            # a coded error says whose it is; an uncoded one is the client's unless code of ours raised it
            if status < 500 if isinstance(status, int) else e.original_error is None:
                log.info("GraphQL client error: %s", str(e).encode("utf-8", "backslashreplace").decode("utf-8"))
            else:
                server.append(e)
        super().process_errors(server, execution_context)


schema = Schema(
    query=merge_types(
        "Query",
        (
            Query,
            InquiriesQuery,
            RatingsQuery,
            FeedbackQuery,
            StatisticsQuery,
            WarningsQuery,
            LedgerQuery,
            ProvenanceQuery,
            LicencesQuery,
            DeliveriesQuery,
            BlueprintQuery,
            ParcelQuery,
            DuplicatesQuery,
            CatalogueQuery,
            IndustryQuery,
            IndustryListsQuery,
            IntermediariesQuery,
            UtilitiesQuery,
            WorkCalendarQuery,
        ),
    ),
    subscription=Subscription,
    extensions=[
        lambda: AddValidationRules(RULES),
        lambda: MaxTokensLimiter(max_token_count=2000),
        RefuseBadText,
        lambda: ParserCache(maxsize=512),
        WithheldNotice,  # extensions.personalData when personal fields were withheld
        KnownValid,  # last: a text that passed once is not validated again
    ],
)
use_leaf_fields(schema)  # plain leaf fields in one loop, not field by field (interfaces/graphql/execution.py)
