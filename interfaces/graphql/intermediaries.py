"""中介超市 and 评估评审 — `intermediaryStatistics(groupBy)`, `serviceOrders(projectCode)` and
`assessmentReviews(caseId)`, merged into the schema's Query in schema.py (projections/intermediaries.py)."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.types import Info

from application.policy import Actor, authorize
from domain.shared.errors import Forbidden
from domain.shared.reference import regions_within
from interfaces.graphql.common import actor_of, error, region_scope, wait
from interfaces.graphql.context import Context
from interfaces.graphql.router import IsAuthenticated
from projections.intermediaries import GROUPS, Intermediaries


@strawberry.type(description="中介服务统计 — orders of a group and their service times in working days.")
class IntermediaryStatistics:
    group: str | None = strawberry.field(description="the selection mode, service type, agency USCC or region")
    orders: int
    selected: int
    delivered: int
    cancelled: int
    mean_days_to_select: float | None = strawberry.field(description="ordered → selected, working days")
    mean_days_to_deliver: float | None = strawberry.field(description="selected → delivered, working days")


@strawberry.type(description="中介服务订单 — an order and where it stands.")
class ServiceOrderNode:
    id: strawberry.ID
    project_code: str
    service_type: str
    mode: str = strawberry.field(description="random, bidding or self_selected (自选)")
    state: str = strawberry.field(description="placed, selected, accepted, delivered or cancelled")
    agency_uscc: str | None
    agency_name: str | None
    seed: str | None = strawberry.field(description="随机抽取: the seed recorded with the draw")
    candidates: list[str] = strawberry.field(description="随机抽取: the agencies drawn among, by USCC")
    bids: int
    bid_amount: str | None
    ordered_on: date
    selected_on: date | None
    accepted_on: date | None
    delivered_on: date | None
    days_to_select: int | None
    days_to_deliver: int | None
    result_title: str | None
    document_hash: str | None = strawberry.field(description="the signed result's SM3 hash")


@strawberry.type(description="专家意见.")
class ExpertOpinion:
    expert: str
    opinion: str


@strawberry.type(description="评估评审 — an expert review run as the case's special procedure.")
class AssessmentReviewNode:
    id: strawberry.ID
    case_id: str
    subject: str
    panel: list[str] = strawberry.field(description="the experts' names")
    limit_days: int
    started_on: date
    finished_on: date | None
    result: str | None = strawberry.field(description="pass, pass_with_conditions or fail")
    conditions: list[str]
    summary: str | None
    working_days_used: int | None
    opinions: list[ExpertOpinion]


def _allowed(info: Info[Context, None], action: str, region_code: str | None = None) -> Actor:
    actor = actor_of(info)
    try:
        authorize(actor, action, region_code=region_code)
    except Forbidden as exc:
        raise error(str(exc), "FORBIDDEN", 403) from None
    return actor


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _order(r: dict[str, Any]) -> ServiceOrderNode:
    import json

    return ServiceOrderNode(
        id=strawberry.ID(r["order_id"]), project_code=r["project_code"], service_type=r["service_type"],
        mode=r["mode"], state=r["state"], agency_uscc=r["agency_uscc"], agency_name=r["agency_name"],
        seed=r["seed"], candidates=json.loads(r["candidates"] or "[]"), bids=int(r["bids"]),
        bid_amount=r["bid_amount"], ordered_on=date.fromisoformat(r["ordered_on"]),
        selected_on=_day(r["selected_on"]), accepted_on=_day(r["accepted_on"]),
        delivered_on=_day(r["delivered_on"]), days_to_select=r["days_to_select"],
        days_to_deliver=r["days_to_deliver"], result_title=r["result_title"], document_hash=r["document_hash"],
    )  # fmt: skip


def _review(r: dict[str, Any]) -> AssessmentReviewNode:
    return AssessmentReviewNode(
        id=strawberry.ID(r["review_id"]), case_id=r["case_id"], subject=r["subject"],
        panel=[e["name"] for e in r["panel"]], limit_days=int(r["limit_days"]),
        started_on=date.fromisoformat(r["started_on"]), finished_on=_day(r["finished_on"]), result=r["result"],
        conditions=list(r["conditions"]), summary=r["summary"], working_days_used=r["working_days_used"],
        opinions=[ExpertOpinion(expert=o["expert"], opinion=o["opinion"]) for o in r["opinions"]],
    )  # fmt: skip


@strawberry.type
class IntermediariesQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="中介服务统计 — groupBy: mode, service_type, agency or region; inside the reader's region.",
    )
    async def intermediary_statistics(
        self, info: Info[Context, None], group_by: str = "mode", region_code: str | None = None,
        at_least: int | None = None,
    ) -> list[IntermediaryStatistics]:  # fmt: skip
        actor = _allowed(info, "statistics.read")
        if group_by not in GROUPS:
            raise error(f"groupBy: one of {sorted(GROUPS)}", "BAD_USER_INPUT", 422)
        await wait(info, at_least)
        scope = region_scope(actor, region_code)
        regions = regions_within(scope) if scope and scope != "460000" else None
        view = Intermediaries(info.context.container.db)
        rows = await anyio.to_thread.run_sync(partial(view.statistics, group_by, regions))
        return [
            IntermediaryStatistics(
                group=r["grp"],
                orders=int(r["orders"]),
                selected=int(r["selected"] or 0),
                delivered=int(r["delivered"] or 0),
                cancelled=int(r["cancelled"] or 0),
                mean_days_to_select=None if r["mean_days_to_select"] is None else float(r["mean_days_to_select"]),
                mean_days_to_deliver=None if r["mean_days_to_deliver"] is None else float(r["mean_days_to_deliver"]),
            )
            for r in rows
        ]

    @strawberry.field(permission_classes=[IsAuthenticated], description="中介服务订单 — a project's service orders.")
    async def service_orders(
        self, info: Info[Context, None], project_code: str, at_least: int | None = None
    ) -> list[ServiceOrderNode]:
        await wait(info, at_least)
        rows = await anyio.to_thread.run_sync(Intermediaries(info.context.container.db).orders, project_code)
        actor = actor_of(info)
        for r in rows[:1]:
            try:
                authorize(actor, "read", owner_org=r["owner_uscc"], region_code=r["region_code"])
            except Forbidden as exc:
                raise error(str(exc), "FORBIDDEN", 403) from None
        return [_order(r) for r in rows]

    @strawberry.field(permission_classes=[IsAuthenticated], description="评估评审 — the expert reviews of a case.")
    async def assessment_reviews(
        self, info: Info[Context, None], case_id: str, at_least: int | None = None
    ) -> list[AssessmentReviewNode]:
        await wait(info, at_least)
        return await reviews_of(info, case_id)


async def reviews_of(info: Info[Context, None], case_id: str) -> list[AssessmentReviewNode]:
    """A case's reviews, in the reader's region (also the `assessmentReviews` field of `Case`)."""
    rows = await anyio.to_thread.run_sync(Intermediaries(info.context.container.db).reviews, case_id)
    for r in rows[:1]:
        _allowed(info, "read", region_code=r["region_code"])
    return [_review(r) for r in rows]
