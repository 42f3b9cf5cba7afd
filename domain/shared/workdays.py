"""工作日 — working-day arithmetic on the official Chinese holiday and adjusted-workday calendar.

A `Calendar` says, for every day, whether it is a working day (工作日):
- a year with a published schedule (工作日历, `WorkCalendar` events, domain/work_calendar/) follows it:
  its rest days (节假日及调休放假) are off, its adjusted working days (调休上班) are on, other days
  by the weekend;
- else a year the `chinesecalendar` package covers follows the package (the seed: no event needed);
- else weekends are the only rest days, and `covers(day)` is False: the case clock reports it as
  `calendar_estimated`.

`PACKAGE` is the calendar with no published schedule. Read models build theirs from the events
they have seen, in log order (projections/case_timeline.py), never from a process-wide setting;
the module functions take the calendar as an argument and default to `PACKAGE`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

_FIRST = min(chinese_calendar.holidays).year
_LAST = max(chinese_calendar.holidays).year
PACKAGE_SOURCE = f"chinesecalendar {chinese_calendar.__version__}"


def package_covers(year: int) -> bool:
    return _FIRST <= year <= _LAST


@lru_cache(maxsize=8192)
def _package_workday(day: date) -> bool:
    if package_covers(day.year):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


@dataclass(frozen=True)
class YearSchedule:
    """节假日安排 — one year's official schedule: rest days off, adjusted working days on."""

    year: int
    rest_days: frozenset[date]
    working_days: frozenset[date]
    source: str  # "published" (a WorkCalendar event) or "package" (chinesecalendar)
    notice_number: str | None = None
    version: int | None = None  # the WorkCalendar aggregate's version that published it

    def is_workday(self, day: date) -> bool:
        if day in self.working_days:
            return True
        return day not in self.rest_days and day.weekday() < 5


def package_schedule(year: int) -> YearSchedule | None:
    """The package's schedule of a year it covers: its holidays and its working weekend days."""
    if not package_covers(year):
        return None
    rest = frozenset(d for d in chinese_calendar.holidays if d.year == year)
    work = frozenset(d for d in chinese_calendar.workdays if d.year == year and d.weekday() >= 5)
    return YearSchedule(year, rest, work, PACKAGE_SOURCE)


@dataclass(frozen=True)
class Calendar:
    """工作日历 — the calendar in force: the published schedules, the package below them."""

    published: tuple[YearSchedule, ...] = ()
    _by_year: dict[int, YearSchedule] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_year.update({s.year: s for s in self.published})

    @classmethod
    def of(cls, schedules: Iterable[YearSchedule]) -> Calendar:
        return cls(tuple(sorted(schedules, key=lambda s: s.year)))

    def with_schedule(self, schedule: YearSchedule) -> Calendar:
        """This calendar with one year's schedule published (or replaced: a correction)."""
        return Calendar.of([*(s for s in self.published if s.year != schedule.year), schedule])

    @property
    def published_years(self) -> frozenset[int]:
        return frozenset(self._by_year)

    def schedule(self, year: int) -> YearSchedule | None:
        """The schedule in force for a year: published, else the package's, else None (estimated)."""
        return self._by_year.get(year) or package_schedule(year)

    def source(self, year: int) -> str:
        """ "published", "package" or "estimated" (weekends only)."""
        if year in self._by_year:
            return "published"
        return "package" if package_covers(year) else "estimated"

    def covers(self, day: date) -> bool:
        return day.year in self._by_year or package_covers(day.year)

    def is_workday(self, day: date) -> bool:
        found = self._by_year.get(day.year)
        if found is not None:
            return found.is_workday(day)
        return _package_workday(day)


PACKAGE = Calendar()


def calendar_covers(day: date, calendar: Calendar = PACKAGE) -> bool:
    return calendar.covers(day)


def is_workday(day: date, calendar: Calendar = PACKAGE) -> bool:
    return calendar.is_workday(day)


def workdays_between(start: date, end: date, calendar: Calendar = PACKAGE) -> int:
    """Working days in (start, end]: the start day itself does not count (受理次日起算)."""
    if end <= start:
        return 0
    check = calendar.is_workday
    return sum(1 for n in range(1, (end - start).days + 1) if check(start + timedelta(days=n)))


def add_workdays(start: date, days: int, calendar: Calendar = PACKAGE) -> date:
    """The day on which `days` working days after `start` have passed (start excluded)."""
    check = calendar.is_workday
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if check(day):
            remaining -= 1
    return day
