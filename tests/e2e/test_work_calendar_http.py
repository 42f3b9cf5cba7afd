"""工作日历 over HTTP — done when "publishing the 2027 schedule through the API moves a deadline": a
case accepted on Monday 2026-12-28 is estimated (weekends only); after an admin publishes a 2027
schedule through REST, its deadline in GraphQL moves, the recompute is an event in its timeline, and
a rebuilt case timeline answers the same.

The 2027 schedule is MADE-UP TEST DATA, not the State Council's notice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from application.bootstrap import bootstrap
from application.clock import SimulatedClock
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import Server, auth, project_body, serving

CLI = [sys.executable, "-m", "interfaces.cli"]
SCRATCH = ("GONGJIAN_KEYSTORE_PATH", "GONGJIAN_ARCHIVE_PATH")
PRODUCTION = {  # a store other than the embedded default needs these (docs/operations.md)
    "GONGJIAN_JWT_SECRET": "a-production-secret-of-at-least-32-chars!",
    "GONGJIAN_KEYSTORE_PASSPHRASE": "a-production-keystore-passphrase",
}
CLERK = auth("window_clerk", org="460100-zwfw")
APPLICANT = auth("applicant")
ADMIN = auth("admin", org="460000-admin", region="460000")
TEST_2027 = {
    "year": 2027,
    "notice": {"number": "测试〔2026〕99号 (test data)", "date": "2026-11-20"},
    "holidays": [{"name": "元旦 (test)", "rest_days": ["2027-01-01", "2027-01-04"], "working_days": ["2027-01-09"]}],
}
CASE = """query ($id: ID!, $at: Int) { case(id: $id, atLeast: $at) {
  deadline calendarEstimated workingDaysUsed timeline { eventType channel actorId detail } } }"""
CASE_AS_OF = """query ($id: ID!, $pos: Int) { case(id: $id, asOfPosition: $pos) { deadline calendarEstimated } }"""
CALENDAR = """query ($year: Int!, $at: Int) { workCalendar(year: $year, atLeast: $at) {
  year source estimated noticeNumber noticeDate version restDays workingDays holidays { name restDays } } }"""


@pytest.fixture
def server(store_url: str) -> Iterator[Server]:
    """The API on a clock set to Monday 2026-12-28, 09:00 in Hainan."""
    clock = SimulatedClock(datetime(2026, 12, 28, 1, 0, tzinfo=UTC))
    container = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET), clock)
    container.engine.start()  # read models follow the log: `atLeast` waits for them
    try:
        with serving(container) as base_url:
            yield Server(base_url, container)
    finally:
        container.close()


def gql(client: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    r = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=auth("supervisor", region="460000")
    )
    assert r.status_code == 200, r.text
    assert "errors" not in r.json(), r.json()["errors"]
    return r.json()["data"]  # type: ignore[no-any-return]


def accepted_case(client: httpx.Client) -> tuple[str, int]:
    body = project_body()
    assert client.post("/api/v1/projects", json=body, headers=APPLICANT).status_code == 201
    r = client.post("/api/v1/cases", json={"project_code": body["code"], "item_code": "GJ-1-02"}, headers=CLERK)
    assert r.status_code == 201, r.text
    case_id = str(r.json()["id"])
    accepted = client.post(f"/api/v1/cases/{case_id}/accept", json={}, headers=CLERK)
    assert accepted.status_code == 200, accepted.text
    return case_id, int(accepted.json()["position"])


def test_publishing_the_2027_schedule_through_the_api_moves_a_deadline(server: Server) -> None:
    with server.client() as client:
        # Step. a case accepted on 2026-12-28 with 5 working days: its deadline lies in 2027, estimated
        case_id, position = accepted_case(client)
        before = gql(client, CASE, id=case_id, at=position)["case"]
        assert (before["deadline"], before["calendarEstimated"]) == ("2027-01-04", True)
        assert gql(client, CALENDAR, year=2027)["workCalendar"]["source"] == "estimated"
        outlook = client.get("/health").json()["calendar"]
        assert outlook["next_year"] == 2027 and "2027" in outlook["warning"]  # December, nothing for 2027

        # Step. only an admin publishes: the role is refused before the (bad) body is looked at
        refused = client.post("/api/v1/work-calendars", json={"year": "x"}, headers=CLERK)
        assert refused.status_code == 403, refused.text
        # Step. a bad schedule is a 422 naming the field
        bad = {**TEST_2027, "holidays": [{"name": "元旦", "rest_days": ["2027-01-01"], "working_days": ["2027-01-05"]}]}
        invalid = client.post("/api/v1/work-calendars", json=bad, headers=ADMIN)
        assert invalid.status_code == 422, invalid.text
        assert invalid.json()["errors"][0]["loc"] == ["body", "holidays", "0", "working_days", "0"]
        outside = {**TEST_2027, "holidays": [{"name": "元旦", "rest_days": ["2026-12-31"]}]}
        assert client.post("/api/v1/work-calendars", json=outside, headers=ADMIN).status_code == 422

        # Step. the admin publishes 2027; a retry with the same key is answered from its receipt
        keyed = {**ADMIN, "Idempotency-Key": "calendar-2027"}
        published = client.post("/api/v1/work-calendars", json=TEST_2027, headers=keyed)
        assert published.status_code == 201, published.text
        assert published.json()["recomputed"] == [case_id] and published.json()["version"] == 1
        retry = client.post("/api/v1/work-calendars", json=TEST_2027, headers=keyed)
        assert retry.json()["position"] == published.json()["position"] and retry.json()["replayed"] is True
        at = int(published.json()["position"])

        # Step. the deadline moved in GraphQL, and the recompute is an event in the case's timeline
        after = gql(client, CASE, id=case_id, at=at)["case"]
        assert (after["deadline"], after["calendarEstimated"]) == ("2027-01-06", False)
        last = after["timeline"][-1]
        assert (last["eventType"], last["channel"], last["actorId"]) == (
            "Case.DeadlineRecomputed",
            "system_rule",
            "system:work-calendar",
        )
        assert last["detail"]["previous_deadline"] == "2027-01-04" and last["detail"]["deadline"] == "2027-01-06"
        calendar = gql(client, CALENDAR, year=2027, at=at)["workCalendar"]
        assert (calendar["source"], calendar["estimated"], calendar["version"]) == ("published", False, 1)
        assert calendar["noticeNumber"] == "测试〔2026〕99号 (test data)" and calendar["workingDays"] == ["2027-01-09"]
        assert client.get("/health").json()["calendar"]["warning"] is None

        # Step. replayed as known before the publication, the case counted weekends only
        then = gql(client, CASE_AS_OF, id=case_id, pos=position)["case"]
        assert (then["deadline"], then["calendarEstimated"]) == ("2027-01-04", True)
        now = gql(client, CASE_AS_OF, id=case_id, pos=at)["case"]
        assert (now["deadline"], now["calendarEstimated"]) == ("2027-01-06", False)

        # Step. the case timeline rebuilt from position 0 answers the same
        server.container.engine.rebuild("case_timeline")
        assert gql(client, CASE, id=case_id, at=at)["case"] == after
        assert gql(client, CALENDAR, year=2027, at=at)["workCalendar"] == calendar


def test_the_command_line_publishes_a_schedule_file_and_refuses_a_bad_one_naming_the_field(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GONGJIAN_") or k in SCRATCH},
        **PRODUCTION,
        "GONGJIAN_DATABASE_URL": f"sqlite:///{tmp_path}/store.db",
    }
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**TEST_2027, "holidays": [{"name": "x", "rest_days": ["2028-01-03"]}]}), "utf-8")
    refused = subprocess.run([*CLI, "calendar", "publish", str(bad)], env=env, capture_output=True, text=True)
    assert refused.returncode == 1 and "holidays.0.rest_days.0" in refused.stdout, refused.stdout + refused.stderr
    good = tmp_path / "2027.json"
    good.write_text(json.dumps(TEST_2027, ensure_ascii=False), "utf-8")
    done = subprocess.run([*CLI, "calendar", "publish", str(good)], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "calendar 2027 version 1" in done.stdout, done.stdout + done.stderr
    status = subprocess.run([*CLI, "calendar", "status"], env=env, capture_output=True, text=True)
    assert status.returncode == 0, status.stdout + status.stderr
    assert datetime.now(UTC).year > 2027 or "2027: published" in status.stdout, status.stdout
