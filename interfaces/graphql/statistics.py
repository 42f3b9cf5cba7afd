"""统计 / 数据质量 / 数据月报 on GraphQL: thin resolvers over application.statistics,
application.data_quality and application.reports (one source of numbers)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import anyio.to_thread
import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from application.data_quality import QualityCount, compute_data_quality
from application.report_supervision import supervision_sections
from application.reports import MonthlyReport, monthly_report
from application.statistics import Group, GroupBy, StatisticsFilter, compute_statistics, scope_for
from domain.shared.errors import DomainError, Forbidden, InvalidValue
from domain.shared.events import SHANGHAI
from interfaces.graphql.common import wait
from interfaces.graphql.context import Context
from interfaces.graphql.report_supervision import MonthlySupervision, supervision_node
from interfaces.graphql.router import IsAuthenticated

T = TypeVar("T")

StatisticsGroupBy = strawberry.enum(GroupBy, name="StatisticsGroupBy", description="统计维度 — how cases are grouped.")


@strawberry.input(name="StatisticsFilter", description="Filters for `statistics` and `dataQuality`.")
class StatisticsFilterInput:
    region_code: str | None = strawberry.field(default=None, description="the region and everything below it")
    item_code: str | None = None
    stage: int | None = None
    department: str | None = None
    month_from: str | None = strawberry.field(default=None, description="YYYY-MM, business month of receipt")
    month_to: str | None = strawberry.field(default=None, description="YYYY-MM, inclusive")


@strawberry.type(description="统计 — one group's counts and durations (see docs/operations.md for the definitions).")
class StatisticsGroup:
    key: str
    label: str
    received: int
    accepted: int
    approved: int = strawberry.field(description="办结（通过）and 办结（容缺通过）: statuses 11, 12")
    refused: int = strawberry.field(description="办结（不通过）: status 13")
    refused_at_acceptance: int = strawberry.field(description="不受理 / 不予受理: statuses 4, 5")
    withdrawn: int = strawberry.field(description="已撤件 / 撤回: statuses 2, 14")
    revoked: int
    open: int
    decided: int = strawberry.field(description="statuses 11, 12, 13, 15")
    overdue: int
    on_time_rate: float | None = strawberry.field(description="decided within the limit / decided (0..1)")
    mean_working_days: float | None
    p90_working_days: int | None


@strawberry.type(description="数据质量 — one error-data category and rule, with up to five examples.")
class DataQualityCount:
    category: str
    rule: str
    description: str
    count: int
    examples: list[str]


@strawberry.type
class DayCount:
    day: date
    received: int


@strawberry.type(description="数据月报 — the figures of the monthly report (same as the HTML/PDF files).")
class MonthlyReportNode:
    month: str
    region_code: str
    region_name: str
    period_start: date
    period_end: date
    as_of: date
    summary: StatisticsGroup
    by_region: list[StatisticsGroup]
    by_stage: list[StatisticsGroup]
    by_item: list[StatisticsGroup]
    by_day: list[DayCount]

    @strawberry.field(description="the supervisor's part: warnings, inquiries, 好差评, error data, feedback, windows")
    async def supervision(self, info: Info[Context, None]) -> MonthlySupervision:
        sections = await anyio.to_thread.run_sync(
            supervision_sections, info.context.container.supervised, self.month, self.region_code, self.as_of
        )
        return supervision_node(sections)


def group_node(g: Group) -> StatisticsGroup:
    return StatisticsGroup(
        key=g.key,
        label=g.label,
        received=g.received,
        accepted=g.accepted,
        approved=g.approved,
        refused=g.refused,
        refused_at_acceptance=g.refused_at_acceptance,
        withdrawn=g.withdrawn,
        revoked=g.revoked,
        open=g.open,
        decided=g.decided,
        overdue=g.overdue,
        on_time_rate=g.on_time_rate,
        mean_working_days=g.mean_working_days,
        p90_working_days=g.p90_working_days,
    )


def _report_node(r: MonthlyReport) -> MonthlyReportNode:
    return MonthlyReportNode(
        month=r.month,
        region_code=r.region_code,
        region_name=r.region_name,
        period_start=r.period_start,
        period_end=r.period_end,
        as_of=r.as_of,
        summary=group_node(r.summary),
        by_region=[group_node(g) for g in r.by_region],
        by_stage=[group_node(g) for g in r.by_stage],
        by_item=[group_node(g) for g in r.by_item],
        by_day=[DayCount(day=d.day, received=d.received) for d in r.by_day],
    )


def _today(info: Info[Context, None]) -> date:
    """The container's clock (a simulated one in the demo and tests), as a Shanghai date."""
    return info.context.container.clock.now().astimezone(SHANGHAI).date()


async def _run(info: Info[Context, None], at_least: int | None, work: Callable[[], T]) -> T:
    await wait(info, at_least)
    try:
        return await anyio.to_thread.run_sync(work)
    except Forbidden as exc:
        raise GraphQLError(str(exc), extensions={"code": "FORBIDDEN", "status": 403}) from None
    except InvalidValue as exc:
        raise GraphQLError(str(exc), extensions={"code": "BAD_USER_INPUT", "status": 422}) from None
    except DomainError as exc:
        raise GraphQLError(str(exc), extensions={"code": "CONFLICT", "status": 409}) from None


def _filter(info: Info[Context, None], f: StatisticsFilterInput | None) -> StatisticsFilter:
    f = f or StatisticsFilterInput()
    if info.context.actor is None:
        raise GraphQLError("not authenticated", extensions={"code": "UNAUTHENTICATED", "status": 401})
    fields: dict[str, Any] = {k: getattr(f, k) for k in StatisticsFilter.__dataclass_fields__}
    fields["region_code"] = scope_for(info.context.actor, f.region_code)
    return StatisticsFilter(**fields)


@strawberry.type
class StatisticsQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="统计 — counts and durations of the cases in the actor's scope, grouped.",
    )
    async def statistics(
        self,
        info: Info[Context, None],
        group_by: StatisticsGroupBy,  # type: ignore[valid-type]
        filter: StatisticsFilterInput | None = None,
        at_least: int | None = None,
    ) -> list[StatisticsGroup]:
        def work() -> list[StatisticsGroup]:
            groups = compute_statistics(info.context.container.figures, group_by, _filter(info, filter), _today(info))
            return [group_node(g) for g in groups]

        return await _run(info, at_least, work)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="数据质量 — error data by category (what the log shows so far; see docs/operations.md).",
    )
    async def data_quality(
        self,
        info: Info[Context, None],
        filter: StatisticsFilterInput | None = None,
        at_least: int | None = None,
    ) -> list[DataQualityCount]:
        def work() -> list[DataQualityCount]:
            counts: list[QualityCount] = compute_data_quality(
                info.context.container.figures, info.context.container.quality, _filter(info, filter), _today(info)
            )
            return [
                DataQualityCount(
                    category=c.category, rule=c.rule, description=c.description, count=c.count, examples=c.examples
                )
                for c in counts
            ]

        return await _run(info, at_least, work)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="数据月报 — one month (YYYY-MM, by business month of receipt) in a region; the actor's scope by default.",
    )
    async def monthly_report(
        self,
        info: Info[Context, None],
        month: str,
        region_code: str | None = None,
        at_least: int | None = None,
    ) -> MonthlyReportNode:
        def work() -> MonthlyReportNode:
            scope = _filter(info, StatisticsFilterInput(region_code=region_code)).region_code
            c = info.context.container
            return _report_node(monthly_report(c.figures, c.supervised, month, scope, _today(info), supervision=False))

        return await _run(info, at_least, work)


__all__ = ["StatisticsQuery"]
