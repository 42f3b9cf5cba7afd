"""工作日 — working-day arithmetic on the official Chinese holiday and adjusted-workday calendar.

The calendar comes from the `chinesecalendar` package (State Council notices, updated each year).
For a year the package does not cover yet, weekends are the only rest days and
`calendar_covers(day)` says so; the case clock reports it as `calendar_estimated`.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

_FIRST = min(chinese_calendar.holidays).year
_LAST = max(chinese_calendar.holidays).year


def calendar_covers(day: date) -> bool:
    return _FIRST <= day.year <= _LAST


@lru_cache(maxsize=8192)
def is_workday(day: date) -> bool:
    if calendar_covers(day):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


def workdays_between(start: date, end: date) -> int:
    """Working days in (start, end]: the start day itself does not count (受理次日起算)."""
    if end <= start:
        return 0
    return sum(1 for n in range(1, (end - start).days + 1) if is_workday(start + timedelta(days=n)))


def add_workdays(start: date, days: int) -> date:
    """The day on which `days` working days after `start` have passed (start excluded)."""
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_workday(day):
            remaining -= 1
    return day
