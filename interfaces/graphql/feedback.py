"""GraphQL of experience officers' feedback (体验员反馈) and its follow-up (跟踪督办):
`feedback(filter, first, after, atLeast)`, merged into the schema's Query in schema.py.

Readers (policy `feedback.read`): supervisors, accountability officers and admins, and officials,
each inside its region (a report counts in the region it is about and in the one it was assigned
to). Reporters' and officials' ids, organisations and the free text are personal data.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import partial
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from application.policy import Actor, authorize
from domain.catalog import CATALOG
from domain.shared.errors import Forbidden
from domain.supervision.feedback import CATEGORY_LABELS, FeedbackCategory, FeedbackStatus
from interfaces.graphql.common import MAX_PAGE, error, region_scope, wait
from interfaces.graphql.context import Context
from interfaces.graphql.personal import personal
from interfaces.graphql.router import IsAuthenticated
from interfaces.graphql.types import Connection, connection, decode_cursor
from projections.feedback import FeedbackReports

STATUSES = [s.value for s in FeedbackStatus]


@strawberry.input(description="Filters for `feedback`; month is YYYY-MM of the report.")
class FeedbackFilter:
    status: str | None = strawberry.field(default=None, description=", ".join(STATUSES))
    region_code: str | None = None
    department: str | None = strawberry.field(
        default=None, description="the department the report is about, or the one it was assigned to"
    )
    month: str | None = None
    category: str | None = strawberry.field(default=None, description=", ".join(c.value for c in FeedbackCategory))


@strawberry.type(description="跟踪督办环节 — one event of a report: submitted, listed, assigned, answered, closed.")
class FeedbackStep:
    seq: int
    position: int
    event_type: str
    business_time: datetime
    recorded_at: datetime
    actor_id: str | None = personal()
    actor_role: str
    actor_org: str | None = personal()
    channel: str
    request_id: str | None = personal("the request that recorded it")
    detail: JSON | None = personal("the event's fields: descriptions, answers as written")


@strawberry.type(description="体验员反馈 — a problem report and its follow-up.")
class FeedbackReport:
    id: strawberry.ID
    reporter_kind: str = strawberry.field(description="experience_officer, supervisor or applicant")
    reporter_org: str | None = personal()
    subject_kind: str = strawberry.field(description="item, case or window")
    case_id: str | None
    item_code: str | None
    department: str | None
    department_name: str | None
    window_org: str | None
    region_code: str
    category: str
    category_label: str
    description: str | None = personal("as written")
    status: str = strawberry.field(description=", ".join(STATUSES))
    assigned_department: str | None
    assigned_region: str | None
    answer: str | None = personal("the department's answer as written")
    outcome: str | None = strawberry.field(description="resolved, not_substantiated, explained")
    conclusion: str | None = personal()
    submitted_at: datetime
    month: str
    listed_on: date | None
    assigned_on: date | None
    answered_on: date | None
    closed_on: date | None
    position: int = strawberry.field(description="the log position of its last step")
    history: list[FeedbackStep]


def _reader(info: Info[Context, None]) -> Actor:
    actor = info.context.actor
    if actor is None:
        raise error("not authenticated", "UNAUTHENTICATED", 401)
    try:
        authorize(actor, "feedback.read")
    except Forbidden as exc:
        raise error(str(exc), "FORBIDDEN", 403) from None
    return actor


def _check(f: FeedbackFilter) -> None:
    if f.month is not None and not (len(f.month) == 7 and f.month[4] == "-" and f.month.replace("-", "").isdigit()):
        raise error("month is YYYY-MM", "BAD_USER_INPUT", 422)
    if f.status is not None and f.status not in STATUSES:
        raise error(f"status is one of {STATUSES}", "BAD_USER_INPUT", 422)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _step(s: dict[str, Any]) -> FeedbackStep:
    return FeedbackStep(
        seq=s["seq"],
        position=s["position"],
        event_type=s["event_type"],
        business_time=datetime.fromisoformat(s["business_time"]),
        recorded_at=datetime.fromisoformat(s["recorded_at"]),
        actor_id=s["actor_id"],
        actor_role=s["actor_role"],
        actor_org=s["actor_org"],
        channel=s["channel"],
        request_id=s["request_id"],
        detail=json.loads(s["detail"]),
    )


def _node(row: dict[str, Any], steps: list[dict[str, Any]]) -> FeedbackReport:
    department = row["department"]
    return FeedbackReport(
        id=strawberry.ID(row["feedback_id"]),
        reporter_kind=row["reporter_kind"],
        reporter_org=row["reporter_org"],
        subject_kind=row["subject_kind"],
        case_id=row["case_id"],
        item_code=row["item_code"],
        department=department,
        department_name=CATALOG.departments.get(department, department) if department else None,
        window_org=row["window_org"],
        region_code=row["region_code"],
        category=row["category"],
        category_label=CATEGORY_LABELS.get(FeedbackCategory(row["category"]), row["category"]),
        description=row["description"],
        status=row["status"],
        assigned_department=row["assigned_department"],
        assigned_region=row["assigned_region"],
        answer=row["answer"],
        outcome=row["outcome"],
        conclusion=row["conclusion"],
        submitted_at=datetime.fromisoformat(row["submitted_at"]),
        month=row["month"],
        listed_on=_day(row["listed_on"]),
        assigned_on=_day(row["assigned_on"]),
        answered_on=_day(row["answered_on"]),
        closed_on=_day(row["closed_on"]),
        position=row["last_position"],
        history=[_step(s) for s in steps],
    )


@strawberry.type
class FeedbackQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="体验员反馈 — problem reports and their follow-up (跟踪督办) in the reader's scope.",
    )
    async def feedback(
        self,
        info: Info[Context, None],
        filter: FeedbackFilter | None = None,
        first: int = 20,
        after: str | None = None,
        at_least: int | None = None,
    ) -> Connection[FeedbackReport]:
        actor = _reader(info)
        await wait(info, at_least)
        if not 0 < first <= MAX_PAGE:
            raise error(f"first must be between 1 and {MAX_PAGE}", "BAD_USER_INPUT", 422)
        f = filter or FeedbackFilter()
        _check(f)
        view = FeedbackReports(info.context.container.db)
        rows, has_next, total = await anyio.to_thread.run_sync(
            partial(
                view.search,
                status=f.status,
                region_scope=region_scope(actor, f.region_code),
                department=f.department,
                month=f.month,
                category=f.category,
                after=decode_cursor(after),
                first=first,
            )
        )
        steps = await anyio.to_thread.run_sync(view.events_of, [r["feedback_id"] for r in rows])
        nodes = [(r["submitted_position"], _node(r, steps[r["feedback_id"]])) for r in rows]
        return connection(nodes, has_next, total)
