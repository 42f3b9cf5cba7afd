"""水电气报装 — `utilityConnections(projectCode)`: per utility, when the project's data was pushed to
the provider and the progress it reported (projections/utility_connections.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.types import Info

from application.policy import authorize
from domain.shared.codes import validate_project_code
from domain.shared.errors import Forbidden, InvalidValue
from domain.shared.workdays import workdays_between
from interfaces.graphql.common import actor_of, error, wait
from interfaces.graphql.context import Context
from interfaces.graphql.router import IsAuthenticated
from projections.utility_connections import UtilityConnections


@strawberry.type(description="水电气报装 — one utility's connection of a project.")
class UtilityConnection:
    utility: str = strawberry.field(description="water, power or gas")
    notified_at: datetime | None = strawberry.field(description="the project notice was queued (outbox)")
    notice_delivered_at: datetime | None = strawberry.field(description="the provider acknowledged the notice")
    accepted_on: date | None = strawberry.field(description="受理 — the provider accepted the application")
    surveyed_on: date | None = strawberry.field(description="勘察 — the site was surveyed")
    connected_on: date | None = strawberry.field(description="接入 — connected")
    status: str = strawberry.field(description="notified, accepted, surveyed or connected (the furthest stage)")
    working_days_to_connect: int | None = strawberry.field(description="notice → connected, working days")
    source_ids: list[str] = strawberry.field(description="the provider's records (external records' source ids)")


def _node(r: dict[str, Any]) -> UtilityConnection:
    def day(name: str) -> date | None:
        return date.fromisoformat(r[name]) if r[name] else None

    def moment(name: str) -> datetime | None:
        return datetime.fromisoformat(r[name]) if r[name] else None

    stages = [s for s in ("connected", "surveyed", "accepted") if r[f"{s}_on"]]
    notified, connected = moment("notified_at"), day("connected_on")
    return UtilityConnection(
        utility=r["utility"], notified_at=notified, notice_delivered_at=moment("notice_delivered_at"),
        accepted_on=day("accepted_on"), surveyed_on=day("surveyed_on"), connected_on=connected,
        status=stages[0] if stages else "notified",
        working_days_to_connect=workdays_between(notified.date(), connected) if notified and connected else None,
        source_ids=list(r["source_ids"]),
    )  # fmt: skip


@strawberry.type
class UtilitiesQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated], description="水电气报装 — the project's water, power and gas connections."
    )
    async def utility_connections(
        self, info: Info[Context, None], project_code: str, at_least: int | None = None
    ) -> list[UtilityConnection]:
        try:
            code = validate_project_code(project_code, "projectCode")
        except InvalidValue as exc:
            raise error(str(exc), "BAD_USER_INPUT", 422) from None
        try:
            authorize(actor_of(info), "read", region_code=code.split("-")[1])
        except Forbidden as exc:
            raise error(str(exc), "FORBIDDEN", 403) from None
        await wait(info, at_least)
        rows = await anyio.to_thread.run_sync(UtilityConnections(info.context.container.db).of_project, code)
        return [_node(r) for r in rows]
