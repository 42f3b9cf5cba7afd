"""W7 after the decision, raised as stored warnings: a 容缺 approval whose materials are still missing
the day after their due day, and an approval on commitment not verified by its day, are open
warnings once the log's clock (SupervisionClock.Ticked) passes the day; materials that came in time
raise nothing; a late verification keeps the finding and names the day; a rebuild gives the same
warnings. The server's clock starts on Monday 2026-03-02, 09:00 in Hainan."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from application.clock import SimulatedClock
from tests.e2e.conftest import Server, auth
from tests.e2e.test_follow_ups_http import APPLICANT, APPROVER, accepted_case, post, project, server  # noqa: F401

WARNINGS = """query($code: String!, $at: Int) { warnings(filter: {projectCode: $code}, first: 50, atLeast: $at) {
  edges { node { id rule reason status subject caseId explanation } } } }"""


def tick(live: Server, clock: SimulatedClock, day: int) -> None:
    """The log's clock reaches 2026-03-`day` (written as the automation worker writes it)."""
    clock.set(datetime(2026, 3, day, 1, 0, tzinfo=UTC))
    live.container.automation.ticker.tick()


def open_w7(client: httpx.Client, live: Server, code: str) -> dict[str, dict[str, Any]]:
    at = live.container.app.max_position()
    r = client.post(
        "/graphql",
        json={"query": WARNINGS, "variables": {"code": code, "at": at}},
        headers=auth("supervisor", region="460000"),
    )
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    nodes = [e["node"] for e in r.json()["data"]["warnings"]["edges"]]
    return {n["caseId"]: n for n in nodes if n["rule"] == "W7" and n["status"] == "open"}


def test_follow_ups_past_their_day_are_warnings_and_a_rebuild_agrees(
    server: Server,  # noqa: F811 — the fixture of test_follow_ups_http.py
    client: httpx.Client,
    project: str,  # noqa: F811
) -> None:
    clock = server.container.clock
    assert isinstance(clock, SimulatedClock)
    materials = ["燃气管线施工图"]
    late = accepted_case(client, project, "GJ-5-03")
    body = {"pending_materials": materials, "materials_due_on": "2026-03-06"}
    assert post(client, f"/api/v1/cases/{late}/approve-pending-materials", APPROVER, body).status_code == 200
    in_time = accepted_case(client, project, "GJ-5-02")
    assert post(client, f"/api/v1/cases/{in_time}/approve-pending-materials", APPROVER, body).status_code == 200
    promised = accepted_case(client, project, "GJ-5-01")
    r = post(
        client, f"/api/v1/cases/{promised}/approve-on-commitment", APPROVER, {"commitments": ["用水性质与申报一致"]}
    )
    assert r.status_code == 200, r.text  # due 10 working days after 03-02: Monday 03-16

    # Step: before any due day, and the in-time case supplied on Wednesday 03-04: nothing.
    clock.set(datetime(2026, 3, 4, 1, 0, tzinfo=UTC))
    supplied = post(client, f"/api/v1/cases/{in_time}/supply-materials", APPLICANT, {"supplied_materials": materials})
    assert supplied.status_code == 200, supplied.text
    tick(server, clock, 5)
    assert open_w7(client, server, project) == {}

    # Step: Monday 03-09: the late materials are a finding; the commitment is not due yet.
    tick(server, clock, 9)
    found = open_w7(client, server, project)
    assert set(found) == {late}
    assert found[late]["reason"] == "W7.materials_not_supplied" and "2026-03-06" in found[late]["explanation"]

    # Step: Tuesday 03-17: the commitment was not verified by 03-16; verified late on 03-18, it stays.
    tick(server, clock, 17)
    assert set(open_w7(client, server, project)) == {late, promised}
    verified = post(
        client, f"/api/v1/cases/{promised}/verify-commitment", APPROVER, {"verified": True, "finding": "核查属实"}
    )
    assert verified.status_code == 200, verified.text
    found = open_w7(client, server, project)
    assert found[promised]["reason"] == "W7.commitment_unverified"
    assert "2026-03-17" in found[promised]["explanation"]  # settled on the verification's business day

    # Step: rebuilt from position 0, the same warnings.
    server.container.engine.rebuild("offline_warnings")
    assert open_w7(client, server, project) == found
