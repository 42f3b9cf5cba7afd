"""工作日历 through the services, on SQLite and PostgreSQL: publishing a year judges its open cases
again (visible events), the case timeline counts on the calendar it read from the log, a correction
is a second event on the same aggregate, stop facts of a published year are judged at query time,
and every read model rebuilt from position 0 gives the same rows as the live one.

The 2027 schedule here is MADE-UP TEST DATA, not the State Council's notice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from application.bootstrap import Container, bootstrap
from application.clock import SimulatedClock
from application.commands import Invocation
from application.commands.calendars import PublishWorkCalendar
from application.commands.cases import AcceptCase, ApproveCase, SubmitCase
from application.commands.projects import GenerateProject
from application.policy import Actor
from domain.approvals.clock import clock_of
from domain.shared.errors import Forbidden, InvalidValue
from domain.shared.events import SHANGHAI
from domain.work_calendar import WorkCalendar, work_calendar_id
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET

ADMIN = Actor("admin-1", "admin", "460000-admin", "460000")
CLERK = Actor("clerk-1", "window_clerk", "hk-window", "460100")
APPROVER = Actor("approver-1", "approver", "460100-zrzy", "460100")
TEST_2027 = {
    "year": 2027,
    "notice": {"number": "测试〔2026〕99号 (test data)", "date": "2026-11-20"},
    "holidays": [{"name": "元旦 (test)", "rest_days": ["2027-01-01", "2027-01-04"], "working_days": ["2027-01-09"]}],
}


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2026, 12, 28, 1, 0, tzinfo=UTC))  # Monday 09:00 in Hainan


@pytest.fixture
def container(store_url: str, clock: SimulatedClock) -> Iterator[Container]:
    c = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET, wait_timeout_s=0.5), clock)
    yield c
    c.close()


def accepted_case(c: Container, clock: SimulatedClock, owner: int = 1) -> str:
    """A case of GJ-1-02 (promised 5 working days) received and accepted today."""
    code = f"2611-460100-04-01-{uuid.uuid4().int % 10**6:06d}"
    c.projects.generate(
        Invocation(CLERK, f"gen-{code}"),
        GenerateProject(
            code=code,
            name=f"工作日历测试项目{owner}",
            owner_name="海南测试建设有限公司",
            owner_uscc="91460000MA5T0P3X64",
            region_code="460106",
            flow_type=3,
            investment_type="enterprise",
            category="房屋建筑",
            total_investment=Decimal("1000"),
            planned_start=date(2027, 6, 1),
            planned_end=date(2028, 6, 30),
            red_line=None,
        ),
    )
    received = c.cases.submit(
        Invocation(CLERK, "sub"),
        SubmitCase(project_code=code, item_code="GJ-1-02"),
    )
    clock.advance(minutes=30)
    c.cases.act(Invocation(CLERK, "accept"), AcceptCase(received.id))
    return str(received.id)


def read_models(c: Container) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of every read model, in a stable order."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for model in c.engine.models.values():
        for table in model.tables:
            found = c.db.query(f"SELECT * FROM {table}")
            rows[table] = sorted(found, key=lambda r: sorted((k, str(v)) for k, v in r.items()))
    return rows


def today(clock: SimulatedClock) -> date:
    return clock.now().astimezone(SHANGHAI).date()


def test_publishing_a_year_moves_the_deadlines_of_its_open_cases_visibly_and_rebuilds_the_same(
    container: Container, clock: SimulatedClock
) -> None:
    # Step. two open cases accepted on Monday 2026-12-28 reach into 2027: estimated
    open_case = accepted_case(container, clock)
    decided = accepted_case(container, clock, owner=2)
    clock.advance(days=1)
    container.cases.act(Invocation(APPROVER, "approve"), ApproveCase(uuid.UUID(decided)))
    container.engine.catch_up()
    timeline: Any = container.engine.models["case_timeline"]
    clock_before = clock_of(timeline.get(open_case), timeline.calendar())
    assert clock_before.estimated(today(clock))
    assert clock_before.deadline(today(clock)) == date(2027, 1, 4)  # weekends only

    # Step. the admin publishes 2027: the open case is judged again, the decided one is not
    result = container.work_calendars.publish(Invocation(ADMIN, "publish-2027"), PublishWorkCalendar(TEST_2027))
    assert (result.year, result.version, result.recomputed) == (2027, 1, [open_case])
    container.engine.catch_up()
    after = clock_of(timeline.get(open_case), timeline.calendar())
    assert not after.estimated(today(clock)) and after.deadline(today(clock)) == date(2027, 1, 6)
    last = timeline.transitions(open_case)[-1]
    assert (last["event_type"], last["channel"], last["actor_id"]) == (
        "Case.DeadlineRecomputed",
        "system_rule",
        "system:work-calendar",
    )
    assert '"deadline": "2027-01-06"' in last["detail"] and '"previous_deadline": "2027-01-04"' in last["detail"]
    assert timeline.calendar_row(2027)["notice_number"] == "测试〔2026〕99号 (test data)"

    # Step. a correction is a second event on the same aggregate; nothing moved, nothing recorded
    again = container.work_calendars.publish(
        Invocation(ADMIN, "publish-2027-again"), PublishWorkCalendar(TEST_2027, reason="重发")
    )
    assert (again.version, again.recomputed) == (2, [])
    calendar = container.work_calendars.published(2027)
    assert isinstance(calendar, WorkCalendar) and calendar.id == work_calendar_id(2027)

    # Step. every read model rebuilt from position 0 equals the live one
    container.engine.catch_up()
    live = read_models(container)
    container.engine.rebuild_all()
    assert read_models(container) == live


def test_a_published_year_clears_the_stored_stop_facts_of_the_cases_that_reach_into_it(
    container: Container, clock: SimulatedClock
) -> None:
    case_id = accepted_case(container, clock)
    clock.advance(days=1)
    container.cases.act(Invocation(APPROVER, "approve"), ApproveCase(uuid.UUID(case_id)))
    container.engine.catch_up()
    timeline: Any = container.engine.models["case_timeline"]
    assert timeline.get(case_id)["stop_days"] == 1  # wholly in 2026: stored with the package's calendar
    replacement = {
        "year": 2026,
        "notice": {"number": "测试〔2025〕1号 (test data)", "date": "2025-11-01"},
        "holidays": [{"name": "test", "rest_days": ["2026-12-29"]}],
    }
    container.work_calendars.publish(Invocation(ADMIN, "publish-2026"), PublishWorkCalendar(replacement))
    container.engine.catch_up()
    row = timeline.get(case_id)
    assert (row["stop_days"], row["stop_calendar"]) == (None, None)  # judged at query time from now on
    assert clock_of(row, timeline.calendar()).working_days_used(today(clock)) == 0  # 12-29 is off now
    live = read_models(container)
    container.engine.rebuild("case_timeline")
    assert read_models(container) == live


def test_only_an_admin_publishes_and_a_bad_schedule_names_its_field(container: Container) -> None:
    with pytest.raises(Forbidden):
        container.work_calendars.publish(Invocation(CLERK, "nope"), PublishWorkCalendar(TEST_2027))
    bad = {**TEST_2027, "holidays": [{"name": "x", "rest_days": ["2027-01-01"], "working_days": ["2027-01-05"]}]}
    with pytest.raises(InvalidValue) as caught:
        container.work_calendars.publish(Invocation(ADMIN, "bad"), PublishWorkCalendar(bad))
    assert caught.value.field == "holidays.0.working_days.0"
    assert container.work_calendars.published(2027) is None


def test_the_outlook_warns_from_the_first_of_december_when_next_year_has_no_schedule(
    container: Container, clock: SimulatedClock
) -> None:
    november = container.work_calendars.outlook(date(2026, 11, 30))
    assert november["warning"] is None and november["next_year_source"] == "estimated"
    december = container.work_calendars.outlook()  # the container's clock: 2026-12-28
    assert december["year"] == 2026 and december["source"] == "package"
    assert "2027" in december["warning"]
    container.work_calendars.publish(Invocation(ADMIN, "publish-2027"), PublishWorkCalendar(TEST_2027))
    assert container.work_calendars.outlook()["warning"] is None
    clock.set(clock.now() + timedelta(days=400))  # 2028 without a schedule: warned all year
    assert "2028" in container.work_calendars.outlook()["warning"]
