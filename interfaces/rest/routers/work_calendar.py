"""工作日历 — publish a year's official holiday schedule (admin only; the role is checked before the
body is read). The file `gongjian calendar publish FILE` reads is this body (docs/operations.md)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import Field

from application.bootstrap import Container
from application.commands import Invocation
from application.commands.calendars import PublishWorkCalendar
from application.policy import Actor, authorize
from interfaces.rest.deps import ContainerDep, CurrentActor, IdemKey, RequestId, idempotency
from interfaces.rest.schemas import Body, CommandResult, Line, Short, Text

router = APIRouter(prefix="/api/v1", tags=["work calendar 工作日历"])


def calendar_publisher(actor: CurrentActor) -> Actor:
    """403 before the body is looked at: only an administrator publishes the calendar."""
    authorize(actor, "calendar.publish")
    return actor


Publisher = Annotated[Actor, Depends(calendar_publisher)]


class Notice(Body):
    """国务院办公厅通知 — the notice the schedule comes from."""

    number: Short = Field(description="document number (文号), as printed on the notice")
    date: dt.date = Field(description="the notice's date")
    title: Line | None = Field(None, description="default: 国务院办公厅关于<year>年部分节假日安排的通知")


class Holiday(Body):
    """节假日 — one holiday: its days off and the weekend days worked instead (调休上班)."""

    name: Short
    rest_days: list[dt.date] = Field(min_length=1, max_length=31)
    working_days: list[dt.date] = Field(default_factory=list, max_length=10)


class WorkCalendarPublication(Body):
    """工作日历发布 — one year's complete schedule; publishing a year again corrects it."""

    year: int = Field(ge=2000, le=2100)
    notice: Notice
    holidays: list[Holiday] = Field(min_length=1, max_length=20)
    reason: Text | None = Field(None, description="why a year is published again (a correction)")


@router.post(
    "/work-calendars",
    status_code=201,
    response_model=CommandResult,
    summary="工作日历发布 — publish (or correct) a year's holiday schedule; open cases are judged again",
)
def publish_work_calendar(
    actor: Publisher, body: WorkCalendarPublication, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    schedule = body.model_dump(mode="json", exclude={"reason"})
    by = Invocation(actor, request_id, idempotency(key, "calendar.publish", body))
    return c.work_calendars.publish(by, PublishWorkCalendar(schedule, body.reason)).to_json()


def calendar_outlook(c: Container) -> dict[str, Any] | None:
    """The `calendar` key of /health: this and next year's calendar source, and a warning (from
    1 December while next year has no schedule) — on the container's clock, not the wall clock."""
    service = getattr(c, "work_calendars", None)
    return service.outlook() if service is not None else None
