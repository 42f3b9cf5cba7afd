"""工作日历 — `workCalendar(year)`: the working calendar in force for a year, as the case_timeline read
model has read it from the log (a published schedule), else the chinesecalendar package's, else
weekends only (estimated). Merged into the schema's Query in schema.py."""

from __future__ import annotations

import json
from datetime import date, datetime

import anyio.to_thread
import strawberry
from strawberry.types import Info

from application.history import History
from domain.approvals import CaseClock
from domain.shared.workdays import Calendar, package_schedule
from domain.work_calendar import WorkCalendar as WorkCalendarAggregate
from domain.work_calendar import work_calendar_id
from interfaces.graphql.common import error, wait
from interfaces.graphql.context import Context
from interfaces.graphql.router import IsAuthenticated


@strawberry.type(description="节假日 — one holiday of a published schedule.")
class WorkCalendarHoliday:
    name: str
    rest_days: list[date] = strawberry.field(description="放假 — days off (any day of the week)")
    working_days: list[date] = strawberry.field(description="调休上班 — weekend days that are working days")


@strawberry.type(description="工作日历 — the working calendar in force for one year.")
class WorkCalendar:
    year: int
    source: str = strawberry.field(
        description="published (a WorkCalendar event), package (chinesecalendar), estimated (weekends only)"
    )
    estimated: bool = strawberry.field(description="true: no schedule, deadlines count weekends only")
    notice_number: str | None = strawberry.field(description="the State Council notice's document number")
    notice_date: date | None
    notice_title: str | None
    version: int | None = strawberry.field(description="the WorkCalendar aggregate's version (2+: corrected)")
    position: int | None = strawberry.field(description="log position of the publication in force")
    rest_days: list[date] = strawberry.field(
        description="放假 — every day off of the holidays (weekend days of a holiday block included)"
    )
    working_days: list[date] = strawberry.field(description="adjusted working days (调休上班)")
    holidays: list[WorkCalendarHoliday]


def calendar_node(year: int, row: dict[str, object] | None) -> WorkCalendar:
    if row is not None:
        holidays = json.loads(str(row["holidays"]))
        return WorkCalendar(
            year=year,
            source="published",
            estimated=False,
            notice_number=str(row["notice_number"]),
            notice_date=date.fromisoformat(str(row["notice_date"])),
            notice_title=str(row["notice_title"]),
            version=int(str(row["version"])),
            position=int(str(row["position"])),
            rest_days=sorted(date.fromisoformat(d) for h in holidays for d in h["rest_days"]),
            working_days=sorted(date.fromisoformat(d) for h in holidays for d in h["working_days"]),
            holidays=[
                WorkCalendarHoliday(
                    name=h["name"],
                    rest_days=[date.fromisoformat(d) for d in h["rest_days"]],
                    working_days=[date.fromisoformat(d) for d in h["working_days"]],
                )
                for h in holidays
            ],
        )
    seeded = package_schedule(year)
    return WorkCalendar(
        year=year,
        source="package" if seeded else "estimated",
        estimated=seeded is None,
        notice_number=None,
        notice_date=None,
        notice_title=None,
        version=None,
        position=None,
        rest_days=sorted(seeded.rest_days) if seeded else [],
        working_days=sorted(seeded.working_days) if seeded else [],
        holidays=[],
    )


def calendar_as_of(
    history: History, clock: CaseClock, until_time: datetime | None, until_position: int | None
) -> Calendar:
    """工作日历 as the log knew it at a past time or position, for the years of a replayed case's clock
    (`case(id, asOf)`): each year's WorkCalendar folded from its events up to then."""
    if clock.accepted_on is None:
        return Calendar()
    last = clock.deadline(clock.stopped_on or clock.accepted_on) or clock.accepted_on
    schedules = []
    for year in range(clock.accepted_on.year, max(last, clock.stopped_on or last).year + 2):
        events = history.events(work_calendar_id(year), until_time=until_time, until_position=until_position)
        found = History.fold(events)
        if isinstance(found, WorkCalendarAggregate):
            schedules.append(found.schedule)
    return Calendar.of(schedules)


@strawberry.type
class WorkCalendarQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="工作日历 — the working calendar in force for a year: published, package or estimated.",
    )
    async def work_calendar(self, info: Info[Context, None], year: int, at_least: int | None = None) -> WorkCalendar:
        await wait(info, at_least)
        if not 1900 <= year <= 2200:
            raise error(f"not a year: {year}", "BAD_USER_INPUT", 422)
        row = await anyio.to_thread.run_sync(info.context.cases.calendar_row, year)
        return calendar_node(year, row)
