"""工作日历 — a year's schedule as data: its validation rules, the calendar it makes (published over
the package over weekends), and an open case judged again when its year is published.

Every schedule here is MADE-UP TEST DATA for test years, not a State Council notice."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.approvals.case import Case
from domain.catalog import CATALOG
from domain.shared.errors import InvalidValue
from domain.shared.events import SHANGHAI, Channel, Meta
from domain.shared.workdays import (
    PACKAGE,
    Calendar,
    add_workdays,
    calendar_covers,
    is_workday,
    package_covers,
    workdays_between,
)
from domain.work_calendar import WorkCalendar, check_schedule, work_calendar_id

ITEM = CATALOG.item("GJ-1-02")  # promised 5 working days
YEAR = 2040  # far beyond the package: estimated until published


def schedule(**changes: Any) -> dict[str, Any]:
    """A test year's schedule (invented): 元旦 on Monday 2040-01-02, 春节 with a working Saturday."""
    base: dict[str, Any] = {
        "year": YEAR,
        "notice": {"number": "测试〔2039〕1号", "date": "2039-11-01"},
        "holidays": [
            {"name": "元旦 (test)", "rest_days": ["2040-01-01", "2040-01-02"], "working_days": []},
            {
                "name": "春节 (test)",
                "rest_days": ["2040-02-13", "2040-02-14", "2040-02-15"],
                "working_days": ["2040-02-18"],
            },
        ],
    }
    return {**base, **changes}


def published(raw: dict[str, Any] | None = None) -> WorkCalendar:
    return WorkCalendar.publish(meta(date(2039, 11, 2)), check_schedule(raw or schedule()))


def meta(day: date, channel: Channel = Channel.ONLINE) -> Meta:
    now = datetime.combine(day, time(10, 0), SHANGHAI)
    return Meta("admin-1", "admin", "460000-admin", channel, f"req-{uuid4().hex[:8]}", now)


def refused(raw: dict[str, Any]) -> InvalidValue:
    with pytest.raises(InvalidValue) as caught:
        check_schedule(raw)
    return caught.value


# --- validation ---------------------------------------------------------------------------------


def test_a_valid_schedule_is_normalised_with_the_default_notice_title() -> None:
    checked = check_schedule(schedule())
    assert checked["notice_title"] == "国务院办公厅关于2040年部分节假日安排的通知"
    assert checked["notice_date"] == date(2039, 11, 1)
    assert checked["holidays"][1]["working_days"] == ["2040-02-18"]


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"year": 1999}, "year", "year"),
        ({"notice": {"date": "2039-11-01"}}, "notice.number", "required"),
        ({"notice": {"number": "x", "date": "2041-01-01"}}, "notice.date", "notice_after_year"),
        ({"notice": {"number": "x", "date": "2039-13-01"}}, "notice.date", "date"),
        ({"holidays": []}, "holidays", "required"),
        ({"holidays": [{"name": "a", "rest_days": ["2041-01-01"]}]}, "holidays.0.rest_days.0", "date_outside_year"),
        ({"holidays": [{"name": "a", "rest_days": []}]}, "holidays.0.rest_days", "required"),
        (
            {"holidays": [{"name": "a", "rest_days": ["2040-01-02"], "working_days": ["2040-01-03"]}]},
            "holidays.0.working_days.0",
            "working_day_not_weekend",
        ),
        (
            {"holidays": [{"name": "a", "rest_days": ["2040-01-07"], "working_days": ["2040-01-07"]}]},
            "holidays.0.working_days.0",
            "rest_and_work",
        ),
        (
            {"holidays": [{"name": "a", "rest_days": ["2040-01-02"]}, {"name": "b", "rest_days": ["2040-01-02"]}]},
            "holidays.1.rest_days.0",
            "date_duplicate",
        ),
        (
            {"holidays": [{"name": "a", "rest_days": ["2040-01-02"]}, {"name": "a", "rest_days": ["2040-01-03"]}]},
            "holidays.1.name",
            "holiday_duplicate",
        ),
    ],
)
def test_a_bad_schedule_is_refused_naming_the_field_and_the_rule(change: dict[str, Any], field: str, rule: str) -> None:
    error = refused(schedule(**change))
    assert (error.field, error.rule) == (field, rule)


# --- the calendar ---------------------------------------------------------------------------------


def test_a_published_year_is_covered_and_follows_its_schedule() -> None:
    calendar = PACKAGE.with_schedule(published().schedule)
    assert not calendar_covers(date(YEAR, 1, 2)) and calendar_covers(date(YEAR, 1, 2), calendar)
    assert is_workday(date(YEAR, 1, 2)) and not is_workday(date(YEAR, 1, 2), calendar)  # Monday, a holiday
    assert not is_workday(date(YEAR, 2, 18)) and is_workday(date(YEAR, 2, 18), calendar)  # Saturday, worked
    assert is_workday(date(YEAR, 1, 3), calendar)  # an ordinary Tuesday
    assert (calendar.source(YEAR), PACKAGE.source(YEAR), calendar.source(2026)) == ("published", "estimated", "package")


def test_a_published_schedule_overrides_the_package_for_a_year_it_covers() -> None:
    assert package_covers(2026) and not is_workday(date(2026, 10, 1))
    mine = check_schedule({**schedule(year=2026, notice={"number": "测试", "date": "2026-01-01"}), "holidays": [
        {"name": "test", "rest_days": ["2026-03-03"], "working_days": []}
    ]})  # fmt: skip
    calendar = PACKAGE.with_schedule(WorkCalendar.publish(meta(date(2026, 1, 2)), mine).schedule)
    assert is_workday(date(2026, 10, 1), calendar)  # the package's National Day no longer applies
    assert not is_workday(date(2026, 3, 3), calendar)


def test_publishing_a_year_again_is_a_correction_on_the_same_aggregate() -> None:
    calendar = published()
    assert calendar.id == work_calendar_id(YEAR)
    fixed = schedule(holidays=[{"name": "元旦 (test)", "rest_days": ["2040-01-02", "2040-01-03"]}])
    calendar.revise(meta(date(2039, 12, 1)), check_schedule(fixed), "通知更正")
    events = calendar.collect_events()
    assert [type(e).__name__ for e in events] == ["Published", "Revised"]
    assert calendar.version == 2 and calendar.schedule.version == 2
    assert not calendar.schedule.is_workday(date(YEAR, 1, 3)) and calendar.schedule.is_workday(date(YEAR, 2, 13))
    with pytest.raises(InvalidValue):
        calendar.revise(meta(date(2039, 12, 1)), check_schedule(schedule(year=2041, notice={
            "number": "x", "date": "2040-11-01"}, holidays=[{"name": "a", "rest_days": ["2041-01-01"]}])))  # fmt: skip


# --- a case judged again ------------------------------------------------------------------------------


def accepted(on: date) -> Case:
    case = Case.receive(
        meta(on), case_id=uuid4(), project_id=uuid4(), project_code="2603-460100-04-01-123456",
        region_code="460106", applicant_org="91460000MA5T0P3X64", item=ITEM, situation_codes=[], materials=[],
        parallel_application_id=None, acceptance_mode=4,
    )  # fmt: skip
    case.accept(meta(on), ITEM)
    return case


# MADE-UP TEST DATA for 2027 (the State Council's 2027 notice is not used here): Friday 01-01 and
# Monday 01-04 off, Saturday 01-09 worked
TEST_2027 = {
    "year": 2027,
    "notice": {"number": "测试〔2026〕99号 (test data)", "date": "2026-11-20"},
    "holidays": [{"name": "元旦 (test)", "rest_days": ["2027-01-01", "2027-01-04"], "working_days": ["2027-01-09"]}],
}


def test_a_case_whose_deadline_falls_in_an_unpublished_year_is_estimated_until_it_is_published() -> None:
    case = accepted(date(2026, 12, 28))  # a Monday; 5 working days reach into 2027
    calendar = PACKAGE.with_schedule(published(TEST_2027).schedule)
    before, after = case.clock, case.clock.with_calendar(calendar)
    today = date(2026, 12, 29)
    assert before.estimated(today) and not after.estimated(today)
    assert before.deadline(today) == date(2027, 1, 4)  # 12-29, 12-30, 12-31, 01-01, 01-04 (weekends only)
    assert after.deadline(today) == date(2027, 1, 6)  # 12-29, 12-30, 12-31, 01-05, 01-06


def test_publication_records_the_recompute_on_an_open_case_once_per_calendar_version() -> None:
    case = accepted(date(2026, 12, 28))
    calendar = PACKAGE.with_schedule(published(TEST_2027).schedule)
    system = meta(date(2026, 12, 29), Channel.SYSTEM_RULE)

    def judge(version: int) -> bool:
        after = case.clock.with_calendar(calendar)
        return case.recompute_deadline(
            system, year=2027, calendar_version=version, notice_number="测试", before=case.clock, after=after
        )

    assert judge(1)
    assert not judge(1)  # once per version
    event = case.collect_events()[-1]
    assert isinstance(event, Case.DeadlineRecomputed)
    assert (event.previous_deadline, event.deadline) == (date(2027, 1, 4), date(2027, 1, 6))
    assert event.previously_estimated and not event.estimated and event.channel == Channel.SYSTEM_RULE
    assert case.status.value == 3 and case.history[-1][1] == "Accepted"  # no business transition
    assert judge(2)  # a correction judges again


def test_a_stopped_case_or_one_whose_clock_stays_in_an_earlier_year_is_not_judged_again() -> None:
    calendar = PACKAGE.with_schedule(published(TEST_2027).schedule)
    system = meta(date(2026, 12, 29), Channel.SYSTEM_RULE)
    early = accepted(date(2026, 12, 1))  # deadline 2026-12-08, today 12-29: never reaches 2027
    decided = accepted(date(2026, 12, 28))
    decided.approve(meta(date(2026, 12, 29)), None, None, None)
    for case in (early, decided):
        after = case.clock.with_calendar(calendar)
        assert not case.recompute_deadline(
            system, year=2027, calendar_version=1, notice_number="测试", before=case.clock, after=after
        )


# --- properties of the arithmetic on any calendar ----------------------------------------------------


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    """A random test schedule for 2040: some days off, some weekend days worked."""
    days = [date(YEAR, 1, 1) + timedelta(days=n) for n in range(366)]
    rest = draw(st.sets(st.sampled_from(days), max_size=25))
    weekends = [d for d in days if d.weekday() >= 5 and d not in rest]
    work = draw(st.sets(st.sampled_from(weekends), max_size=6))
    holidays = [{"name": "test", "rest_days": sorted(d.isoformat() for d in rest) or ["2040-01-01"],
                 "working_days": sorted(d.isoformat() for d in work - {date(YEAR, 1, 1)})}]  # fmt: skip
    return PACKAGE.with_schedule(published(schedule(holidays=holidays)).schedule)


days_2040 = st.dates(min_value=date(YEAR, 1, 1), max_value=date(YEAR, 11, 30))


@given(calendar=calendars(), start=days_2040, n=st.integers(min_value=0, max_value=40))
def test_on_any_calendar_counting_back_added_working_days_gives_the_same_number(
    calendar: Calendar, start: date, n: int
) -> None:
    end = add_workdays(start, n, calendar)
    assert workdays_between(start, end, calendar) == n
    assert n == 0 or is_workday(end, calendar)


@given(calendar=calendars(), a=days_2040, b=days_2040, c=days_2040)
def test_on_any_calendar_working_days_add_up_over_consecutive_spans(
    calendar: Calendar, a: date, b: date, c: date
) -> None:
    a, b, c = sorted((a, b, c))
    assert workdays_between(a, c, calendar) == workdays_between(a, b, calendar) + workdays_between(b, c, calendar)
