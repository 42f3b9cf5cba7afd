"""承诺时限计时 — the working-day clock of a case.

Counting starts the day after acceptance (受理次日起算). A correction (补正) or special procedure
(特别程序) stops the clock: the working days in (pause start, pause end] are not counted, and the
deadline moves out by as many. Overdue is derived, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from domain.shared.workdays import add_workdays, calendar_covers, workdays_between


@dataclass(frozen=True)
class Pause:
    kind: str  # "correction" | "special_procedure"
    start: date
    end: date | None = None
    procedure_type: str | None = None
    limit_days: int | None = None

    def paused_days(self, today: date) -> int:
        return workdays_between(self.start, self.end or today)


@dataclass(frozen=True)
class CaseClock:
    accepted_on: date | None
    limit_days: int | None
    pauses: tuple[Pause, ...] = field(default_factory=tuple)
    stopped_on: date | None = None  # decided or closed

    def _end(self, today: date) -> date:
        return self.stopped_on or today

    def paused_days(self, today: date) -> int:
        end = self._end(today)
        return sum(p.paused_days(min(end, today)) for p in self.pauses)

    def working_days_used(self, today: date) -> int | None:
        if self.accepted_on is None:
            return None
        end = self._end(today)
        return max(0, workdays_between(self.accepted_on, end) - self.paused_days(today))

    def deadline(self, today: date) -> date | None:
        """The last working day of the limit, pushed out by the pauses so far."""
        if self.accepted_on is None or self.limit_days is None:
            return None
        return add_workdays(self.accepted_on, self.limit_days + self.paused_days(today))

    def is_paused(self) -> bool:
        return any(p.end is None for p in self.pauses)

    def overdue(self, today: date) -> bool:
        used = self.working_days_used(today)
        return used is not None and self.limit_days is not None and used > self.limit_days

    def estimated(self, today: date) -> bool:
        """True when part of the span lies in a year the holiday calendar does not cover yet."""
        if self.accepted_on is None:
            return False
        return not (calendar_covers(self.accepted_on) and calendar_covers(self._end(today)))
