"""承诺时限计时 — the working-day clock of a case.

Counting starts the day after acceptance (受理次日起算). A correction (补正) or special procedure
(特别程序) stops the clock: the working days in (pause start, pause end] are not counted, and the
deadline moves out by as many. Overdue is derived, never stored.

Working days are counted on the clock's `calendar` (工作日历, domain/shared/workdays.py): the
package's by default; read models pass the calendar they have read from the log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from domain.shared.workdays import PACKAGE, Calendar, add_workdays, workdays_between


@dataclass(frozen=True)
class Pause:
    kind: str  # "correction" | "special_procedure"
    start: date
    end: date | None = None
    procedure_type: str | None = None
    limit_days: int | None = None

    def paused_days(self, today: date, calendar: Calendar = PACKAGE) -> int:
        return workdays_between(self.start, self.end or today, calendar)


@dataclass(frozen=True)
class CaseClock:
    accepted_on: date | None
    limit_days: int | None
    pauses: tuple[Pause, ...] = field(default_factory=tuple)
    stopped_on: date | None = None  # decided or closed
    calendar: Calendar = PACKAGE

    def _end(self, today: date) -> date:
        return self.stopped_on or today

    def paused_days(self, today: date) -> int:
        end = self._end(today)
        return sum(p.paused_days(min(end, today), self.calendar) for p in self.pauses)

    def working_days_used(self, today: date) -> int | None:
        if self.accepted_on is None:
            return None
        end = self._end(today)
        return max(0, workdays_between(self.accepted_on, end, self.calendar) - self.paused_days(today))

    def deadline(self, today: date) -> date | None:
        """The last working day of the limit, pushed out by the pauses so far."""
        if self.accepted_on is None or self.limit_days is None:
            return None
        return add_workdays(self.accepted_on, self.limit_days + self.paused_days(today), self.calendar)

    def is_paused(self) -> bool:
        return any(p.end is None for p in self.pauses)

    def overdue(self, today: date) -> bool:
        used = self.working_days_used(today)
        return used is not None and self.limit_days is not None and used > self.limit_days

    def estimated(self, today: date) -> bool:
        """True when part of the span — acceptance to the later of today (or the stop) and the
        deadline — lies in a year the calendar only estimates (no published schedule, no package)."""
        if self.accepted_on is None:
            return False
        last = max(self._end(today), self.deadline(today) or self.accepted_on)
        return any(self.calendar.source(year) == "estimated" for year in range(self.accepted_on.year, last.year + 1))

    def with_calendar(self, calendar: Calendar) -> CaseClock:
        return replace(self, calendar=calendar)


def clock_of(row: dict[str, Any], calendar: Calendar = PACKAGE) -> CaseClock:
    """The domain clock for a `cases` row on a calendar (`read_calendar`): working days,
    deadline and overdue come from here."""
    pauses = tuple(
        Pause(
            p["kind"],
            date.fromisoformat(p["start"]),
            date.fromisoformat(p["end"]) if p["end"] else None,
            p.get("procedure_type"),
            p.get("limit_days"),
        )
        for p in json.loads(row["pauses"])
    )
    return CaseClock(
        date.fromisoformat(row["accepted_on"]) if row["accepted_on"] else None,
        row["limit_days"],
        pauses,
        date.fromisoformat(row["stopped_on"]) if row["stopped_on"] else None,
        calendar,
    )
