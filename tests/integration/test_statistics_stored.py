"""Stored stop facts and the summary — case_timeline keeps a stopped clock's working days and
overdue flag, and counts every closed case in a summary per month, region and item
(projections/case_summary.py) that `compute_statistics` sums. On a generated log that runs from
2026 into 2027 (a year chinesecalendar only estimates), on SQLite and PostgreSQL: the stored facts
are the clock's own and the stored month of receipt the one statistics define, cases spanning an
estimated year are left to query time, the summary holds each closed case once as its row says
(live and rebuilt alike), facts judged under another calendar are not trusted, and every grouping,
filter and "today" gives the figures of judging every case row."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.bootstrap import Container, bootstrap
from application.clock import SimulatedClock
from application.commands import Invocation
from application.commands.cases import CASE_ACTIONS, SubmitCase
from application.commands.projects import GenerateProject
from application.policy import Actor
from application.statistics import (
    GroupBy,
    StatisticsFilter,
    aggregate,
    compute_statistics,
    matching_cases,
    received_month,
)
from bench.dataset import Generator
from domain.approvals.clock import clock_of
from domain.shared.workdays import PACKAGE_SOURCE, calendar_covers
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET

PUBLIC = (
    "key", "label", "received", "accepted", "approved", "refused", "refused_at_acceptance", "withdrawn",
    "revoked", "open", "decided", "overdue", "on_time_rate", "mean_working_days", "p90_working_days",
)  # fmt: skip
FILTERS = [
    StatisticsFilter(),
    StatisticsFilter(region_code="460100"),
    StatisticsFilter(month_from="2026-10"),
    StatisticsFilter(stage=2, month_to="2026-06"),
    StatisticsFilter(department="zrzy"),
]
# before most stops, mid-log, after every 2026 stop but before the 2027 ones, after all of them
TODAYS = [date(2026, 2, 10), date(2026, 9, 30), date(2026, 12, 31), date(2028, 1, 3)]


CLERK = Actor("clerk-1", "window_clerk", "hk-window", "460100")


@pytest.fixture
def container(store_url: str) -> Iterator[Container]:
    clock = SimulatedClock(datetime(2026, 11, 16, 2, 0, tzinfo=UTC))  # Monday 10:00 in Hainan
    c = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET, wait_timeout_s=5), clock)
    g = Generator(c.app)
    g.run(900)  # projects from January 2026
    for index in range(60_000, 60_012):  # projects from late October 2026: their cases run into 2027
        g.project(index)
    open_cases(c, clock)
    c.engine.catch_up()
    yield c
    c.close()


def open_cases(c: Container, clock: SimulatedClock) -> None:
    """Cases still open (the generated log decides all of its own): received, accepted, in correction."""
    code = "2611-460100-04-01-900001"
    c.projects.generate(
        Invocation(CLERK, "gen-open"),
        GenerateProject(
            code=code,
            name="统计汇总测试项目",
            owner_name="海南测试建设有限公司",
            owner_uscc="91460000MA5T0P3X64",
            region_code="460106",
            flow_type=3,
            investment_type="enterprise",
            category="房屋建筑",
            total_investment=Decimal("800"),
            planned_start=date(2027, 3, 1),
            planned_end=date(2028, 6, 30),
            red_line=None,
        ),
    )
    for n, (item, steps) in enumerate(
        [
            ("GJ-1-02", []),
            ("GJ-1-02", ["accept"]),
            ("GJ-1-02", ["accept"]),
            ("GJ-1-01", ["accept", "request-correction"]),
        ]
    ):
        case_id = str(
            c.cases.submit(
                Invocation(CLERK, f"sub-{n}"),
                SubmitCase(project_code=code, item_code=item),
            ).id
        )
        for step in steps:
            clock.advance(days=2)
            body = {"materials": ["营业执照"], "note": "补正"} if step == "request-correction" else {}
            c.cases.act(Invocation(CLERK, f"{step}-{n}"), CASE_ACTIONS[step](uuid.UUID(case_id), **body))


def figures(groups: list[Any]) -> list[list[Any]]:
    return [[getattr(g, k) for k in PUBLIC] for g in groups]


def assert_same_as_every_row(c: Container) -> None:
    for f in FILTERS:
        rows = matching_cases(c.figures, f)
        for today in TODAYS:
            for group_by in GroupBy:
                grouped = compute_statistics(c.figures, group_by, f, today)
                each = aggregate(rows, group_by, f.region_code or "460000", today)
                assert figures(grouped) == figures(each), (group_by, f, today)


def clock_dates(row: dict[str, Any]) -> list[date]:
    clock = clock_of(row)
    dates = [clock.accepted_on, clock.stopped_on, *(d for p in clock.pauses for d in (p.start, p.end))]
    return [d for d in dates if d is not None]


def test_stopped_cases_keep_their_clock_facts_unless_a_year_is_estimated_and_their_month(container: Container) -> None:
    rows = container.db.query("SELECT * FROM cases")
    stored = [r for r in rows if r["stop_overdue"] is not None]
    estimated = [r for r in rows if r["stopped_on"] and not all(calendar_covers(d) for d in clock_dates(r))]
    assert len(stored) > 100 and len(estimated) > 5  # the log covers both kinds
    for r in rows:
        assert r["received_month"] == received_month(r)  # what statistics group and filter by
        if r["stopped_on"] is None or r in estimated:
            assert (r["stop_days"], r["stop_overdue"], r["stop_calendar"]) == (None, None, None), r
            continue
        clock, stop = clock_of(r), date.fromisoformat(r["stopped_on"])
        assert (r["stop_days"], r["stop_overdue"], r["stop_calendar"]) == (
            clock.working_days_used(stop),
            int(clock.overdue(stop)),
            PACKAGE_SOURCE,
        ), r
    assert any(json.loads(r["pauses"]) for r in stored)  # corrections and special procedures included


def test_statistics_from_stored_facts_equal_judging_every_case_row(container: Container) -> None:
    assert_same_as_every_row(container)


# BLZT codes (reference/case_status.csv): still open, and decided (a revoked case was decided first)
OPEN_CODES = {1, 3, 6, 7, 8, 9, 10}
DECIDED_CODES = {11, 12, 13, 15}


def expected_summary(rows: list[dict[str, Any]]) -> tuple[dict[Any, list[int]], dict[Any, int]]:
    """The summary as the definitions say, from every case row: closed cases whose figures are fixed."""
    counts: dict[Any, list[int]] = {}
    days: dict[Any, int] = {}
    for r in rows:
        status, decided = r["status_code"], r["status_code"] in DECIDED_CODES
        if status in OPEN_CODES or (decided and r["stop_overdue"] is None):
            continue
        key = (r["received_month"], r["region_code"], r["item_code"], r["item_name"], r["stage"], r["department"])
        key = (*key, r["stop_calendar"] if decided else "")
        late = decided and r["stop_overdue"] == 1
        timed = decided and r["stop_days"] is not None and r["limit_days"] is not None
        flags = [
            True, r["accepted_on"] is not None, status in (11, 12), status == 13, status in (4, 5),
            status in (2, 14), status == 15, decided, late, timed, timed and not late,
        ]  # fmt: skip
        total = counts.setdefault(key, [0] * len(flags))
        for i, flag in enumerate(flags):
            total[i] += int(flag)
        if decided and r["stop_days"] is not None:
            days[(*key, r["stop_days"])] = days.get((*key, r["stop_days"]), 0) + 1
    return counts, days


def stored_summary(c: Container) -> tuple[dict[Any, list[int]], dict[Any, int]]:
    key = "received_month, region_code, item_code, item_name, stage, department, calendar"
    names = "received, accepted, approved, refused, refused_at_acceptance, withdrawn, revoked, decided, overdue"
    counts = {
        tuple(r.values())[:7]: list(tuple(r.values())[7:])
        for r in c.db.query(f"SELECT {key}, {names}, timed, on_time FROM case_summary")
    }
    days = {tuple(r.values())[:8]: r["cases"] for r in c.db.query(f"SELECT {key}, days, cases FROM case_summary_days")}
    return counts, days


def test_the_summary_holds_each_closed_case_once_as_its_row_says_live_and_rebuilt(container: Container) -> None:
    c = container
    expected = expected_summary(c.db.query("SELECT * FROM cases"))
    assert len(expected[0]) > 50 and sum(expected[1].values()) > 100  # many groups, many decided cases
    opened = c.db.query("SELECT COUNT(*) AS n FROM cases WHERE status_code IN (1, 3, 6)")[0]["n"]
    assert opened == 4  # left to query time
    assert stored_summary(c) == expected  # kept batch by batch as the cases changed
    c.engine.rebuild("case_timeline")
    assert stored_summary(c) == expected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    f=st.builds(
        StatisticsFilter,
        region_code=st.sampled_from([None, "460000", "460100", "460106", "460200", "469001"]),
        item_code=st.sampled_from([None, "GJ-1-01", "GJ-3-02", "GJ-4-03"]),
        stage=st.sampled_from([None, 1, 3]),
        department=st.sampled_from([None, "zrzy", "zjj"]),
        month_from=st.sampled_from([None, "2026-01", "2026-03", "2026-11"]),
        month_to=st.sampled_from([None, "2026-02", "2026-10", "2027-01"]),
    ),
    today=st.dates(date(2025, 12, 1), date(2028, 3, 1)),
    group_by=st.sampled_from(list(GroupBy)),
)
def test_any_filter_grouping_and_today_gives_the_figures_of_judging_every_case_row(
    container: Container, f: StatisticsFilter, today: date, group_by: GroupBy
) -> None:
    grouped = compute_statistics(container.figures, group_by, f, today)
    each = aggregate(matching_cases(container.figures, f), group_by, f.region_code or "460000", today)
    assert figures(grouped) == figures(each)


def test_facts_stored_under_another_calendar_are_judged_again_until_a_rebuild(container: Container) -> None:
    c = container
    # a store whose facts an older calendar judged (here: deliberately wrong ones) must not count
    with c.db.transaction() as cur:
        cur.execute(
            "UPDATE cases SET stop_calendar = 'chinesecalendar 0.0', stop_days = stop_days + 100, stop_overdue = 1"
            " WHERE stop_overdue IS NOT NULL"
        )
        # and its summary, keyed by the calendar that judged the facts
        cur.execute("UPDATE case_summary SET calendar = 'chinesecalendar 0.0', overdue = decided WHERE calendar <> ''")
        cur.execute("UPDATE case_summary_days SET calendar = 'chinesecalendar 0.0', days = days + 100")
    assert_same_as_every_row(c)
    c.engine.rebuild("case_timeline")
    stale = c.db.query("SELECT COUNT(*) AS n FROM cases WHERE stop_calendar <> ?", (PACKAGE_SOURCE,))
    assert stale[0]["n"] == 0
    assert_same_as_every_row(c)
