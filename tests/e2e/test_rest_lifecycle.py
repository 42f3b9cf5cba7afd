"""The approval scenario over HTTP, on SQLite and PostgreSQL: generate, receive, act, decide."""

from __future__ import annotations

import os
import socket
import time

import httpx

from tests.e2e.conftest import Server, auth, project_body

CLERK = auth("window_clerk", org="460100-zwfw")
REVIEWER = auth("reviewer", org="460100-zjj")
APPROVER = auth("approver", org="460100-zjj")
APPLICANT = auth("applicant")


def test_a_case_goes_from_receipt_to_approval_and_unlocks_the_next_item(server: Server, client: httpx.Client) -> None:
    # Step: the owner generates the project.
    body = project_body()
    code = body["code"]
    r = client.post("/api/v1/projects", json=body, headers=APPLICANT)
    assert r.status_code == 201, r.text
    assert r.json()["code"] == code
    positions = [r.json()["position"]]

    # Step: a case for an item without prerequisites is received at the window.
    r = client.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-02"}, headers=CLERK)
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    assert r.json()["status_code"] == 1
    positions.append(r.json()["position"])

    # Step: it moves through acceptance, correction, a special procedure and approval.
    steps = [
        ("accept", {}, CLERK, 3),
        ("request-correction", {"materials": ["建设工程规划许可申请表"], "note": "缺盖章"}, REVIEWER, 6),
        ("complete-correction", {"note": "已补正"}, APPLICANT, 7),
        (
            "start-special-procedure",
            {"procedure_type": "expert_review", "procedure_name": "专家评审", "limit_days": 5, "reason": "技术复杂"},
            REVIEWER,
            9,
        ),
        ("end-special-procedure", {"result": "评审通过"}, REVIEWER, 10),
        ("approve", {"document_number": "琼规字[2026]1号", "valid_until": "2028-12-31"}, APPROVER, 11),
    ]
    for action, payload, headers, status_code in steps:
        r = client.post(f"/api/v1/cases/{case_id}/{action}", json=payload, headers=headers)
        assert r.status_code == 200, (action, r.text)
        assert r.json()["id"] == case_id
        assert r.json()["status_code"] == status_code, action
        positions.append(r.json()["position"])
    assert positions == sorted(set(positions)), "every command answers a later position"
    assert positions[-1] == server.position()

    # Step: the next item (its prerequisite approved) is received; a later one is refused, naming what is missing.
    r = client.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-03"}, headers=CLERK)
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-2-01"}, headers=CLERK)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["missing"] == ["GJ-1-03"]
    assert "GJ-1-03" in r.json()["detail"]


def test_every_response_echoes_the_request_id_it_was_sent_or_a_new_one(client: httpx.Client) -> None:
    sent = client.get("/health", headers={"X-Request-ID": "req-abc-123"})
    fresh = client.get("/health")
    assert sent.headers["x-request-id"] == "req-abc-123"
    assert len(fresh.headers["x-request-id"]) == 36


def test_health_and_metrics_report_the_log_position(server: Server, client: httpx.Client) -> None:
    r = client.post("/api/v1/projects", json=project_body(), headers=APPLICANT)
    assert r.status_code == 201
    health = client.get("/health").json()
    assert health["status"] == "ok"
    assert health["position"] == r.json()["position"]
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'gongjian_http_requests_total{method="POST",route="/api/v1/projects",status="201"} 1' in metrics.text
    assert f"gongjian_log_position {health['position']}" in metrics.text


def test_health_lists_the_followers_of_the_log_with_their_state(server: Server, client: httpx.Client) -> None:
    assert client.get("/health").json()["followers"] == []  # nothing follows the log yet
    server.container.engine.start()
    try:
        assert server.container.engine.wait_for(server.position(), timeout=30)
        deadline = time.monotonic() + 30
        followers: list[dict[str, object]] = []
        while not followers and time.monotonic() < deadline:
            followers = client.get("/health").json()["followers"]
            time.sleep(0.05)
        (mine,) = followers
        assert mine["runner"] == f"{socket.gethostname()}:{os.getpid()}"
        assert mine["state"] == "following" and mine["reconnects"] == 0 and mine["last_error"] is None
    finally:
        server.container.engine.stop()
    (stopped,) = client.get("/health").json()["followers"]
    assert stopped["state"] == "stopped"
