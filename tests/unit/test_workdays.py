"""工作日 — the official 2026 calendar (from chinesecalendar) and working-day arithmetic."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.shared.workdays import add_workdays, calendar_covers, is_workday, workdays_between

NATIONAL_DAY_2026 = [date(2026, 10, d) for d in range(1, 8)]
# Weekend days of 2026 that the State Council made working days (调休上班), read from the package.
ADJUSTED_2026 = sorted(d for d in chinese_calendar.workdays if d.year == 2026 and d.weekday() >= 5)

days_2025_2026 = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31))


def test_the_2026_national_day_holiday_has_no_working_day() -> None:
    assert not any(is_workday(d) for d in NATIONAL_DAY_2026)


def test_the_spring_festival_weekdays_of_2026_are_holidays() -> None:
    assert not is_workday(date(2026, 2, 17))  # 春节 (Tuesday)
    assert not is_workday(date(2026, 1, 1))  # 元旦 (Thursday)


def test_the_package_knows_2026_adjusted_working_weekends() -> None:
    # 2026-01-04 (Sun), 02-14 (Sat), 02-28 (Sat), 05-09 (Sat), 09-20 (Sun), 10-10 (Sat) in 1.11.0
    assert date(2026, 10, 10) in ADJUSTED_2026
    assert len(ADJUSTED_2026) >= 4


@pytest.mark.parametrize("day", ADJUSTED_2026)
def test_an_adjusted_working_weekend_day_is_a_workday(day: date) -> None:
    assert day.weekday() >= 5
    assert is_workday(day)


def test_an_ordinary_saturday_is_not_a_workday() -> None:
    assert not is_workday(date(2026, 3, 7))


def test_counting_starts_the_day_after_acceptance() -> None:
    assert workdays_between(date(2026, 9, 28), date(2026, 9, 28)) == 0
    assert workdays_between(date(2026, 9, 28), date(2026, 9, 29)) == 1
    # across National Day: 9-30 Wed, then 10-01..07 off, 10-08 Thu, 10-09 Fri, 10-10 Sat (adjusted)
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)


def test_a_year_beyond_the_calendar_falls_back_to_weekends() -> None:
    far = date(2040, 1, 2)  # a Monday
    assert not calendar_covers(far)
    assert is_workday(far)
    assert not is_workday(far + timedelta(days=5))


@given(start=days_2025_2026, n=st.integers(min_value=1, max_value=60))
def test_adding_working_days_lands_on_a_workday(start: date, n: int) -> None:
    assert is_workday(add_workdays(start, n))


@given(start=days_2025_2026, n=st.integers(min_value=0, max_value=60))
def test_counting_back_the_added_working_days_gives_the_same_number(start: date, n: int) -> None:
    assert workdays_between(start, add_workdays(start, n)) == n


@given(a=days_2025_2026, b=days_2025_2026, c=days_2025_2026)
def test_working_days_add_up_over_consecutive_spans(a: date, b: date, c: date) -> None:
    a, b, c = sorted((a, b, c))
    assert workdays_between(a, c) == workdays_between(a, b) + workdays_between(b, c)
    assert workdays_between(c, a) == 0
