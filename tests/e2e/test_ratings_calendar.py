"""好差评 整改时限 (15 working days) on the published calendar: a bad review of Monday 2026-12-21
rectified on Tuesday 2027-01-12 is late while 2027 has no published schedule (weekends only: the
15th working day is 01-11) and on time once an admin publishes one that rests on 01-01 and 01-04
and works on Saturday 01-09 (the 15th working day is then 01-12); a rebuilt read model agrees.
The 2027 schedule is the MADE-UP TEST DATA of test_work_calendar_http.py, not the State Council's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from application.bootstrap import bootstrap
from application.clock import SimulatedClock
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import Server, project_body, serving
from tests.e2e.test_ratings import RATINGS, gql, ok, post, received_case
from tests.e2e.test_work_calendar_http import ADMIN, TEST_2027


@pytest.fixture
def server(store_url: str) -> Iterator[tuple[Server, SimulatedClock]]:
    clock = SimulatedClock(datetime(2026, 12, 21, 2, 0, tzinfo=UTC))  # Monday 10:00 in Hainan
    container = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET), clock)
    container.engine.start()
    try:
        with serving(container) as base_url:
            yield Server(base_url, container), clock
    finally:
        container.close()


def test_a_rectification_across_new_year_is_judged_again_when_the_year_is_published(
    server: tuple[Server, SimulatedClock],
) -> None:
    live, clock = server
    with live.client() as client:
        code = ok(post(client, "/api/v1/projects", "window_clerk", project_body()))["code"]
        case_id = received_case(client, code)
        ok(post(client, f"/api/v1/cases/{case_id}/accept", "window_clerk", {}))
        ok(post(client, f"/api/v1/cases/{case_id}/approve", "approver", {"document_number": "海资规选〔2026〕9号"}))
        rating = {"case_id": case_id, "level": 2, "channel": "mobile", "dimensions": {"efficiency": 1}}
        rated = ok(post(client, "/api/v1/ratings", "applicant", rating))
        clock.set(datetime(2027, 1, 12, 2, 0, tzinfo=UTC))
        body = {"measures": "一次性告知材料清单", "rectified_on": "2027-01-12"}
        done = ok(post(client, f"/api/v1/ratings/{rated['id']}/rectification", "reviewer", body))
        (group,) = gql(client, RATINGS, at=done["position"])["ratings"]
        assert (group["rectifiedOnTime"], group["rectificationOverdue"]) == (0, 1)

        published = ok(client.post("/api/v1/work-calendars", json=TEST_2027, headers=ADMIN))
        (group,) = gql(client, RATINGS, at=published["position"])["ratings"]
        assert (group["rectifiedOnTime"], group["rectificationOverdue"]) == (1, 0)
        live.container.engine.rebuild("ratings")
        (group,) = gql(client, RATINGS, at=published["position"])["ratings"]
        assert (group["rectifiedOnTime"], group["rectificationOverdue"]) == (1, 0)
