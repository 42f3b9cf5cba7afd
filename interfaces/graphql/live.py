"""GraphQL subscriptions: `warningRaised(filter)` pushes each new warning as its read model commits it.

Fed by the projection engine's post-commit outbox through `infrastructure.broadcast.Broadcaster`
(Redis pub/sub across processes, in-process without Redis). Scope rules are those of `warnings`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.types import Info

from application.policy import in_scope
from interfaces.graphql.context import Context
from interfaces.graphql.router import IsAuthenticated
from interfaces.graphql.warnings import BLIND_ROLES, Warning, WarningFilter, warning_node


def _wanted(row: dict[str, Any], f: WarningFilter) -> bool:
    pairs = (
        (f.rule, row["rule"]),
        (f.department, row["department"]),
        (f.status, row["status"]),
        (f.project_code, row["project_code"]),
        (f.case_id, row["case_id"]),
    )
    if any(want is not None and want != have for want, have in pairs):
        return False
    return not (f.region_code and not (row["region_code"] and _within(row["region_code"], f.region_code)))


def _within(region: str, scope: str) -> bool:
    from domain.shared.reference import REFERENCE

    return region in REFERENCE.regions and REFERENCE.within(region, scope)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="预警推送 — each new warning, as soon as the warnings read model commits it.",
    )
    async def warning_raised(
        self, info: Info[Context, None], filter: WarningFilter | None = None
    ) -> AsyncGenerator[Warning, None]:
        actor = info.context.actor
        assert actor is not None  # IsAuthenticated
        wanted = filter or WarningFilter()
        async for row in info.context.container.live.subscribe("offline_warnings"):
            if actor.role in BLIND_ROLES:
                continue
            province = actor.role == "admin" or actor.region in ("", "460000")
            visible = province or (bool(row["region_code"]) and in_scope(actor, row["region_code"]))
            if visible and _wanted(row, wanted):
                yield warning_node(row)
