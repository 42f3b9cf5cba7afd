"""GraphQL of accountability inquiries (问责): `inquiries(filter, first, after, atLeast)` and
`violationRates(groupBy, filter, atLeast)`, merged into the schema's Query in schema.py.

Readers: supervisors, accountability officers and admins (policy `inquiry.read`: inquiries name
officials), each inside its region; analysts too for `violationRates` (`inquiry.rates`, aggregates). Whether an explanation is overdue is decided here, at query time, from today.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum
from functools import partial
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from application.policy import Actor, authorize
from domain.catalog import CATALOG
from domain.shared.errors import Forbidden
from domain.shared.reference import REFERENCE
from interfaces.graphql.common import MAX_PAGE, error, region_scope, wait
from interfaces.graphql.context import Context
from interfaces.graphql.personal import personal
from interfaces.graphql.router import IsAuthenticated
from interfaces.graphql.types import Connection, connection, decode_cursor, today
from projections.inquiries import Inquiries


@strawberry.enum(description="How to group violation rates.")
class ViolationRateGroup(Enum):
    DEPARTMENT = "department"
    REGION = "region"


@strawberry.input(description="Filters for `inquiries` and `violationRates` (dates are opening dates, inclusive).")
class InquiryFilter:
    status: str | None = strawberry.field(
        default=None,
        description="opened, explanation_requested, explained, finding_recorded, sanctioned, closed",
    )
    region_code: str | None = None
    department: str | None = None
    finding: str | None = strawberry.field(default=None, description="violation_confirmed, justified, false_alarm")
    opened_from: date | None = None
    opened_to: date | None = None


@strawberry.type(description="要求说明 — an explanation asked of a department and not yet recorded.")
class PendingExplanation:
    department: str
    deadline: date
    overdue: bool


@strawberry.type(description="问责处理 — a sanction decided on a confirmed violation.")
class InquirySanction:
    sanction_type: str
    target: str | None = personal("who is sanctioned")
    decision_number: str
    detail: str | None = personal()
    recorded_on: date


@strawberry.type(description="问责环节 — one event of an inquiry.")
class InquiryStep:
    seq: int
    position: int
    event_type: str
    business_time: datetime
    recorded_at: datetime
    actor_id: str | None = personal()
    actor_role: str
    actor_org: str | None = personal()
    channel: str
    detail: JSON | None = personal("the event's fields: explanations, findings as written")


@strawberry.type(description="问责 — an accountability inquiry on warnings, and its outcome.")
class Inquiry:
    id: strawberry.ID
    subject: str
    department: str
    department_name: str
    region_code: str
    reason: str
    warning_ids: list[str]
    status: str
    pending_explanations: list[PendingExplanation]
    explanation_overdue: bool = strawberry.field(description="an explanation is past its deadline (as of today)")
    explanations: int
    finding: str | None
    finding_summary: str | None
    sanctions: list[InquirySanction]
    conclusion: str | None
    opened_at: datetime
    opened_by: str | None = personal()
    closed_at: datetime | None
    position: int
    timeline: list[InquiryStep]


@strawberry.type(description="违规确认率 — inquiries of a department or region and how many confirmed a violation.")
class ViolationRate:
    key: str
    name: str
    inquiries: int
    decided: int = strawberry.field(description="inquiries with a finding")
    confirmed: int
    rate: float | None = strawberry.field(description="confirmed / decided; null while none is decided")


def _reader(info: Info[Context, None], action: str = "inquiry.read") -> Actor:
    actor = info.context.actor
    if actor is None:
        raise error("not authenticated", "UNAUTHENTICATED", 401)
    try:
        authorize(actor, action)
    except Forbidden as exc:
        raise error(str(exc), "FORBIDDEN", 403) from None
    return actor


def _node(row: dict[str, Any], steps: list[dict[str, Any]], on: date) -> Inquiry:
    pending = [
        PendingExplanation(department=d, deadline=date.fromisoformat(v), overdue=date.fromisoformat(v) < on)
        for d, v in sorted(json.loads(row["pending"]).items())
    ]
    return Inquiry(
        id=strawberry.ID(row["inquiry_id"]),
        subject=row["subject"],
        department=row["department"],
        department_name=CATALOG.departments.get(row["department"], row["department"]),
        region_code=row["region_code"],
        reason=row["reason"],
        warning_ids=json.loads(row["warning_ids"]),
        status=row["status"],
        pending_explanations=pending,
        explanation_overdue=any(p.overdue for p in pending),
        explanations=row["explanations"],
        finding=row["finding"],
        finding_summary=row["finding_summary"],
        sanctions=[
            InquirySanction(**{**s, "recorded_on": date.fromisoformat(s["recorded_on"])})
            for s in json.loads(row["sanctions"])
        ],
        conclusion=row["conclusion"],
        opened_at=datetime.fromisoformat(row["opened_at"]),
        opened_by=row["opened_by"],
        closed_at=datetime.fromisoformat(row["closed_at"]) if row["closed_at"] else None,
        position=row["last_position"],
        timeline=[
            InquiryStep(
                seq=s["seq"],
                position=s["position"],
                event_type=s["event_type"],
                business_time=datetime.fromisoformat(s["business_time"]),
                recorded_at=datetime.fromisoformat(s["recorded_at"]),
                actor_id=s["actor_id"],
                actor_role=s["actor_role"],
                actor_org=s["actor_org"],
                channel=s["channel"],
                detail=json.loads(s["detail"]),
            )
            for s in steps
        ],
    )


def _group_name(group_by: ViolationRateGroup, key: str) -> str:
    if group_by == ViolationRateGroup.DEPARTMENT:
        return CATALOG.departments.get(key, key)
    region = REFERENCE.regions.get(key)
    return region.name if region else key


@strawberry.type
class InquiriesQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated], description="问责 — accountability inquiries in the reader's scope."
    )
    async def inquiries(
        self,
        info: Info[Context, None],
        filter: InquiryFilter | None = None,
        first: int = 20,
        after: str | None = None,
        at_least: int | None = None,
    ) -> Connection[Inquiry]:
        actor = _reader(info)
        await wait(info, at_least)
        if not 0 < first <= MAX_PAGE:
            raise error(f"first must be between 1 and {MAX_PAGE}", "BAD_USER_INPUT", 422)
        f = filter or InquiryFilter()
        view = Inquiries(info.context.container.db)
        rows, has_next, total = await anyio.to_thread.run_sync(
            partial(
                view.search,
                status=f.status,
                region_scope=region_scope(actor, f.region_code),
                department=f.department,
                finding=f.finding,
                opened_from=f.opened_from,
                opened_to=f.opened_to,
                after=decode_cursor(after),
                first=first,
            )
        )
        steps = await anyio.to_thread.run_sync(view.events_of, [r["inquiry_id"] for r in rows])
        on = today()
        nodes = [(r["opened_position"], _node(r, steps[r["inquiry_id"]], on)) for r in rows]
        return connection(nodes, has_next, total)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="违规确认率 — confirmed-violation rates of inquiries by department or region.",
    )
    async def violation_rates(
        self,
        info: Info[Context, None],
        group_by: ViolationRateGroup,
        filter: InquiryFilter | None = None,
        at_least: int | None = None,
    ) -> list[ViolationRate]:
        actor = _reader(info, "inquiry.rates")
        await wait(info, at_least)
        f = filter or InquiryFilter()
        view = Inquiries(info.context.container.db)
        rows = await anyio.to_thread.run_sync(
            partial(
                view.violation_rates,
                group_by.value,
                status=f.status,
                region_scope=region_scope(actor, f.region_code),
                department=f.department,
                opened_from=f.opened_from,
                opened_to=f.opened_to,
            )
        )
        return [
            ViolationRate(
                key=r["key"],
                name=_group_name(group_by, r["key"]),
                inquiries=int(r["inquiries"]),
                decided=int(r["decided"] or 0),
                confirmed=int(r["confirmed"] or 0),
                rate=(int(r["confirmed"] or 0) / int(r["decided"])) if r["decided"] else None,
            )
            for r in rows
        ]
