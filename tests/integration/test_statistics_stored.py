"""Stored stop facts — case_timeline keeps a stopped clock's working days and overdue flag, and
`compute_statistics` sums and ranks those in SQL. On a generated log that runs from 2026 into 2027
(a year chinesecalendar only estimates), on SQLite and PostgreSQL: the stored facts are the clock's
own and the stored month of receipt the one statistics define, cases spanning an estimated year
are left to query time, facts judged under another calendar are not trusted, and every grouping
and filter gives the figures of judging every case row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from application.bootstrap import Container, bootstrap
from application.statistics import (
    GroupBy,
    StatisticsFilter,
    aggregate,
    compute_statistics,
    matching_cases,
    received_month,
)
from bench.dataset import Generator
from domain.shared.workdays import calendar_covers
from infrastructure.settings import Settings
from projections.case_timeline import CALENDAR, clock_of
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


@pytest.fixture
def container(store_url: str) -> Iterator[Container]:
    c = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET, wait_timeout_s=5))
    g = Generator(c.app)
    g.run(900)  # projects from January 2026
    for index in range(60_000, 60_012):  # projects from late October 2026: their cases run into 2027
        g.project(index)
    c.engine.catch_up()
    yield c
    c.close()


def figures(groups: list[Any]) -> list[list[Any]]:
    return [[getattr(g, k) for k in PUBLIC] for g in groups]


def assert_same_as_every_row(c: Container) -> None:
    for f in FILTERS:
        rows = matching_cases(c.db, f)
        for today in TODAYS:
            for group_by in GroupBy:
                grouped = compute_statistics(c.db, group_by, f, today)
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
            CALENDAR,
        ), r
    assert any(json.loads(r["pauses"]) for r in stored)  # corrections and special procedures included


def test_statistics_from_stored_facts_equal_judging_every_case_row(container: Container) -> None:
    assert_same_as_every_row(container)


def test_facts_stored_under_another_calendar_are_judged_again_until_a_rebuild(container: Container) -> None:
    c = container
    # a store whose facts an older calendar judged (here: deliberately wrong ones) must not count
    with c.db.transaction() as cur:
        cur.execute(
            "UPDATE cases SET stop_calendar = 'chinesecalendar 0.0', stop_days = stop_days + 100, stop_overdue = 1"
            " WHERE stop_overdue IS NOT NULL"
        )
    assert_same_as_every_row(c)
    c.engine.rebuild("case_timeline")
    stale = c.db.query("SELECT COUNT(*) AS n FROM cases WHERE stop_calendar <> ?", (CALENDAR,))
    assert stale[0]["n"] == 0
    assert_same_as_every_row(c)
