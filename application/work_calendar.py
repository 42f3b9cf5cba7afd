"""工作日历 — publish a year's official holiday schedule (admin), and judge the open cases again on it.

A publication is one atomic save: the year's `WorkCalendar.Published` (or `Revised`, a correction)
and, for each open case whose clock reaches into that year and was estimated or whose deadline
moves, a `Case.DeadlineRecomputed` recorded by the system (CALENDAR_RULE, channel system_rule, the
publication's request id). The candidates come through a port (`OpenCases`, implemented by the
caught-up case_timeline read model); each is judged on its own aggregate, so a stale candidate is
harmless. Read models do not ask this service for the calendar: they read WorkCalendar events from
the log, in log order (projections/case_timeline.py).

`outlook(today)` is what /health and `gongjian calendar status` show: the source of this year's and
next year's calendar, with a warning from 1 December while next year has none (and all year long
while the current year has none).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Any

from application.base import Service
from application.commands import Invocation
from application.commands.calendars import PublishWorkCalendar, WorkCalendarPublished
from application.policy import CALENDAR_RULE, authorize
from application.ports import OpenCases
from domain.approvals import Case
from domain.shared.events import SHANGHAI, Channel, Meta
from domain.shared.workdays import Calendar, YearSchedule
from domain.work_calendar import WorkCalendar, check_schedule, work_calendar_id

WARN_FROM_MONTH = 12


class WorkCalendarService(Service):
    def __init__(self, *args: Any, open_cases: OpenCases | None = None) -> None:
        super().__init__(*args)
        self.open_cases = open_cases

    def calendar(self, years: Iterable[int]) -> Calendar:
        """The calendar with the schedules published for these years (the package below them)."""
        return self.work_calendar(years)

    def published(self, year: int) -> WorkCalendar | None:
        return self.find(WorkCalendar, work_calendar_id(year))

    def publish(self, by: Invocation, command: PublishWorkCalendar) -> WorkCalendarPublished:
        """工作日历发布 — the year's schedule (a correction if the year has one), and the open cases
        judged again on it."""
        authorize(by.actor, "calendar.publish")
        checked = check_schedule(dict(command.schedule))
        reason = command.reason
        year: int = checked["year"]
        candidates = self.open_cases.open_cases(year) if self.open_cases is not None else []

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            calendar = self.published(year)
            if calendar is None:
                calendar = WorkCalendar.publish(meta, checked)
            else:
                calendar.revise(meta, checked, reason)
            cases = [c for c in (self.find(Case, case_id) for case_id in candidates) if c is not None]
            first = min([year, *(c.accepted_on.year for c in cases if c.accepted_on is not None)])
            before = self.calendar(range(first, year + 3))
            after = before.with_schedule(calendar.schedule)
            system = replace(
                meta,
                actor_id=CALENDAR_RULE.actor_id,
                actor_role=CALENDAR_RULE.role,
                actor_org=CALENDAR_RULE.org,
                channel=Channel.SYSTEM_RULE,
            )
            judged = [
                c
                for c in cases
                if c.recompute_deadline(
                    system,
                    year=year,
                    calendar_version=calendar.version,
                    notice_number=checked["notice_number"],
                    before=c.clock.with_calendar(before),
                    after=c.clock.with_calendar(after),
                )
            ]
            response = {
                "id": str(calendar.id),
                "year": year,
                "version": calendar.version,
                "recomputed": sorted(str(c.id) for c in judged),
            }
            return [calendar, *judged], response

        return WorkCalendarPublished.of(self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work))

    def outlook(self, today: date | None = None) -> dict[str, Any]:
        """Which calendar is in force this year and next, and a warning when one is missing."""
        day = today or self.clock.now().astimezone(SHANGHAI).date()
        this, following = day.year, day.year + 1
        calendar = self.calendar([this, following])
        warning = None
        if calendar.source(this) == "estimated":
            warning = f"no working calendar for {this}: deadlines count weekends only (calendarEstimated)"
        elif day.month >= WARN_FROM_MONTH and calendar.source(following) == "estimated":
            warning = (
                f"no working calendar for {following} yet: from {following}-01-01 deadlines count weekends only "
                "(calendarEstimated) until the State Council notice is published with `gongjian calendar publish`"
            )
        return {
            "year": this,
            "source": calendar.source(this),
            "next_year": following,
            "next_year_source": calendar.source(following),
            "warning": warning,
        }


def describe(schedule: YearSchedule | None, year: int, source: str) -> dict[str, Any]:
    """A year's calendar as plain data (CLI, REST): rest days and adjusted working days."""
    return {
        "year": year,
        "source": source,
        "notice_number": schedule.notice_number if schedule else None,
        "version": schedule.version if schedule else None,
        "rest_days": sorted(d.isoformat() for d in schedule.rest_days) if schedule else [],
        "working_days": sorted(d.isoformat() for d in schedule.working_days) if schedule else [],
    }
