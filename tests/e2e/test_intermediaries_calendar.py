"""中介服务时限 on the published calendar: an order delivered across New Year is counted on the
package calendar while 2027 has no published schedule (weekends only), and again on the schedule
once an admin publishes it; a rebuilt read model answers the same. The 2027 schedule is the
MADE-UP TEST DATA of test_work_calendar_http.py, not the State Council's notice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from application.bootstrap import bootstrap
from application.clock import SimulatedClock
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import Server, serving
from tests.e2e.test_intermediaries_http import APPLICANT, STATISTICS, SUPERVISOR, accept_and_deliver, ok, open_market
from tests.e2e.test_work_calendar_http import ADMIN, TEST_2027


@pytest.fixture
def market(store_url: str, tmp_path: Path) -> Iterator[tuple[Server, SimulatedClock]]:
    clock = SimulatedClock(datetime(2026, 12, 31, 2, 0, tzinfo=UTC))  # Thursday 10:00 in Hainan
    settings = Settings(database_url=store_url, jwt_secret=JWT_SECRET, keystore_path=str(tmp_path / "keys"))
    container = bootstrap(settings, clock)
    try:
        with serving(container) as base_url:
            yield Server(base_url, container), clock
    finally:
        container.close()


def mean_days_to_deliver(market: Server) -> Any:
    with market.client() as http:
        body = {"query": STATISTICS, "variables": {"groupBy": "mode"}}
        data = ok(http.post("/graphql", json=body, headers=SUPERVISOR))
    assert "errors" not in data, data
    [row] = data["data"]["intermediaryStatistics"]
    return row["meanDaysToDeliver"]


def test_service_days_across_new_year_follow_the_schedule_once_it_is_published(
    market: tuple[Server, SimulatedClock],
) -> None:
    server, clock = market
    with server.client() as http:
        code, seals = open_market(http)
        body = {"project_code": code, "service_type": "surveying", "mode": "self_selected",
                "agency_uscc": "91460100MA5T0AAA10"}  # fmt: skip
        order = ok(http.post("/api/v1/service-orders", json=body, headers=APPLICANT), 201)  # selected on 12-31
        clock.set(datetime(2027, 1, 5, 2, 0, tzinfo=UTC))  # Tuesday
        assert accept_and_deliver(http, order, seals)["state"] == "delivered"
    server.container.engine.catch_up()
    # (12-31, 01-05] without a 2027 schedule: Fri 1, Mon 4, Tue 5 are working days (weekends only)
    assert mean_days_to_deliver(server) == 3.0
    with server.client() as http:
        ok(http.post("/api/v1/work-calendars", json=TEST_2027, headers=ADMIN), 201)
    server.container.engine.catch_up()
    # the test schedule rests on Fri 1 and Mon 4: only Tue 5 is left
    assert mean_days_to_deliver(server) == 1.0
    server.container.engine.rebuild("intermediaries")
    assert mean_days_to_deliver(server) == 1.0
