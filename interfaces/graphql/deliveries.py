"""外部推送 — `delivery(id)`, `deliveries(filter, first, after, atLeast)` and
`biddingReport(projectCode)`, merged into the schema's Query in schema.py.

Deliveries (messages to other systems, archive transfers included) are read by supervisors,
admins and integration accounts (policy `delivery.read`). The bidding report answers whether
public resource trading reported the project's tender result, which stands in for the written
bidding report (招标投标情况书面报告); officials read it inside their region.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from functools import partial
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.types import Info

from application.policy import Actor, authorize
from domain.shared.codes import validate_project_code
from domain.shared.errors import Forbidden, InvalidValue
from interfaces.graphql.common import actor_of, error, page, wait
from interfaces.graphql.context import Context
from interfaces.graphql.personal import personal
from interfaces.graphql.router import IsAuthenticated
from interfaces.graphql.types import Connection, connection, decode_cursor
from projections.deliveries import WRITTEN_REPORT, Deliveries


@strawberry.enum(description="推送状态 — retrying: failed, next try due at nextRetryAt; dead_letter: no more tries.")
class DeliveryState(Enum):
    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    DEAD_LETTER = "dead_letter"


@strawberry.input(description="Filters for `deliveries`; all given conditions must hold.")
class DeliveryFilter:
    state: DeliveryState | None = None
    destination: str | None = strawberry.field(
        default=None, description="real_estate_registration, archive_management, water, power, gas …"
    )
    topic: str | None = None
    subject: str | None = None
    project_code: str | None = None


@strawberry.type(description="外部推送 — one message to another system and where it stands.")
class Delivery:
    id: strawberry.ID = strawberry.field(description="the message id, sent as its Idempotency-Key")
    kind: str = strawberry.field(description="message, or archive_transfer (an archive package's own outbox)")
    destination: str
    topic: str
    subject: str = strawberry.field(description="what it is about: a case id, a project code, an archive id")
    project_code: str | None
    source: str | None = strawberry.field(description="the source event: aggregate id @ version")
    body_hash: str | None = strawberry.field(description="SHA-256 of the canonical JSON body")
    state: DeliveryState
    attempts: int
    requeues: int
    last_error: str | None
    next_retry_at: datetime | None
    receipt: str | None = strawberry.field(description="the destination's answer to the attempt that succeeded")
    requested_at: datetime
    delivered_at: datetime | None
    dead_lettered_at: datetime | None
    position: int = strawberry.field(description="log position of the request")


@strawberry.type(description="中标结果 — a tender award public resource trading reported.")
class TenderAward:
    source: str
    source_id: str
    number: str = strawberry.field(description="中标通知书编号 (ZBTZSBH)")
    issued_on: date | None
    winning_bidder: str | None = personal("中标人")
    bid_price: str | None = strawberry.field(description="中标价 as reported (万元)")
    reported_at: datetime
    position: int


@strawberry.type(description=f"{WRITTEN_REPORT} — satisfied by a tender result from public resource trading.")
class BiddingReport:
    project_code: str
    requirement: str
    satisfied: bool = strawberry.field(description="a tender award was received: no written report is required")
    tender_awards: list[TenderAward]


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _node(row: dict[str, Any]) -> Delivery:
    return Delivery(
        id=strawberry.ID(row["delivery_id"]),
        kind=row["kind"],
        destination=row["destination"],
        topic=row["topic"],
        subject=row["subject"],
        project_code=row["project_code"],
        source=row["source"],
        body_hash=row["body_hash"],
        state=DeliveryState(row["state"]),
        attempts=int(row["attempts"]),
        requeues=int(row["requeues"]),
        last_error=row["last_error"],
        next_retry_at=_time(row["next_retry_at"]),
        receipt=row["receipt"],
        requested_at=datetime.fromisoformat(row["requested_at"]),
        delivered_at=_time(row["delivered_at"]),
        dead_lettered_at=_time(row["dead_lettered_at"]),
        position=int(row["requested_position"]),
    )


def _award(row: dict[str, Any]) -> TenderAward:
    return TenderAward(
        source=row["source"],
        source_id=row["source_id"],
        number=row["number"],
        issued_on=date.fromisoformat(row["issued_on"]) if row["issued_on"] else None,
        winning_bidder=row["winning_bidder"],
        bid_price=row["bid_price"],
        reported_at=datetime.fromisoformat(row["reported_at"]),
        position=int(row["position"]),
    )


def _allowed(info: Info[Context, None], action: str, region_code: str | None = None) -> Actor:
    actor = actor_of(info)
    try:
        authorize(actor, action, region_code=region_code)
    except Forbidden as exc:
        raise error(str(exc), "FORBIDDEN", 403) from None
    return actor


@strawberry.type
class DeliveriesQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated], description="外部推送 — one message (or archive transfer) by id."
    )
    async def delivery(
        self, info: Info[Context, None], id: strawberry.ID, at_least: int | None = None
    ) -> Delivery | None:
        _allowed(info, "delivery.read")
        await wait(info, at_least)
        row = await anyio.to_thread.run_sync(Deliveries(info.context.container.db).get, str(id))
        return _node(row) if row is not None else None

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="外部推送 — messages to other systems in request order; dead letters with state DEAD_LETTER.",
    )
    async def deliveries(
        self,
        info: Info[Context, None],
        filter: DeliveryFilter | None = None,
        first: int = 20,
        after: str | None = None,
        at_least: int | None = None,
    ) -> Connection[Delivery]:
        _allowed(info, "delivery.read")
        await wait(info, at_least)
        f = filter or DeliveryFilter()
        view = Deliveries(info.context.container.db)
        rows, has_next, total = await anyio.to_thread.run_sync(
            partial(
                view.search,
                state=f.state.value if f.state else None,
                destination=f.destination,
                topic=f.topic,
                subject=f.subject,
                project_code=f.project_code,
                after=decode_cursor(after),
                first=page(first),
            )
        )
        return connection([(int(r["requested_position"]), _node(r)) for r in rows], has_next, total)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description=f"{WRITTEN_REPORT} — whether public resource trading reported the project's tender result.",
    )
    async def bidding_report(
        self, info: Info[Context, None], project_code: str, at_least: int | None = None
    ) -> BiddingReport:
        try:
            code = validate_project_code(project_code, "projectCode")
        except InvalidValue as exc:
            raise error(str(exc), "BAD_USER_INPUT", 422) from None
        _allowed(info, "tender-award.read", region_code=code.split("-")[1])
        await wait(info, at_least)
        rows = await anyio.to_thread.run_sync(Deliveries(info.context.container.db).tender_awards, code)
        awards = [_award(r) for r in rows]
        return BiddingReport(
            project_code=code, requirement=WRITTEN_REPORT, satisfied=bool(awards), tender_awards=awards
        )
