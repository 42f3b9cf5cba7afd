"""Idempotency-Key over HTTP, and concurrent commands on one case (PostgreSQL)."""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

import httpx
import pytest

from tests.e2e.conftest import Server, auth, project_body

CLERK = auth("window_clerk", org="460100-zwfw")
APPLICANT = auth("applicant")


def _received_case(client: httpx.Client) -> str:
    code = project_body()["code"]
    assert client.post("/api/v1/projects", json=project_body(code=code), headers=APPLICANT).status_code == 201
    r = client.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-02"}, headers=CLERK)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_a_retry_with_the_same_key_and_body_returns_the_first_response_and_writes_nothing(
    server: Server, client: httpx.Client
) -> None:
    body = project_body()
    headers = {**APPLICANT, "Idempotency-Key": "gen-1"}
    first = client.post("/api/v1/projects", json=body, headers=headers)
    assert first.status_code == 201, first.text
    position = server.position()
    retry = client.post("/api/v1/projects", json=body, headers=headers)
    assert retry.status_code == 201, retry.text
    assert retry.json()["id"] == first.json()["id"]
    assert retry.json()["position"] == first.json()["position"]
    assert retry.json()["replayed"] is True
    assert server.position() == position


def test_a_retried_case_action_is_answered_from_its_receipt(server: Server, client: httpx.Client) -> None:
    case_id = _received_case(client)
    headers = {**CLERK, "Idempotency-Key": "accept-1"}
    first = client.post(f"/api/v1/cases/{case_id}/accept", json={}, headers=headers)
    assert first.status_code == 200, first.text
    position = server.position()
    retry = client.post(f"/api/v1/cases/{case_id}/accept", json={}, headers=headers)
    assert retry.status_code == 200, retry.text  # without the key this would be an illegal transition
    assert retry.json()["position"] == first.json()["position"]
    assert server.position() == position


def test_the_same_key_with_a_different_body_is_a_conflict(server: Server, client: httpx.Client) -> None:
    headers = {**APPLICANT, "Idempotency-Key": "gen-2"}
    assert client.post("/api/v1/projects", json=project_body(), headers=headers).status_code == 201
    position = server.position()
    r = client.post("/api/v1/projects", json=project_body(), headers=headers)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "Idempotency-Key" in r.json()["detail"]
    assert server.position() == position


def _race(server: Server, case_id: str, actions: tuple[str, str]) -> list[int]:
    """Send both actions at once (a barrier releases them together); returns the two statuses."""
    bodies: dict[str, dict[str, Any]] = {"accept": {}, "not-accept": {"reason": "不属于本部门事项"}}
    barrier = threading.Barrier(len(actions))
    statuses: list[int] = []

    def send(action: str) -> None:
        with server.client() as own:
            barrier.wait(timeout=10)
            r = own.post(f"/api/v1/cases/{case_id}/{action}", json=bodies[action], headers=CLERK)
            statuses.append(r.status_code)

    threads = [threading.Thread(target=send, args=(action,)) for action in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return statuses


@pytest.mark.postgres
@pytest.mark.parametrize("actions", [("accept", "accept"), ("accept", "not-accept")], ids=["same", "different"])
def test_two_concurrent_commands_on_one_case_give_one_success_and_one_conflict(
    pg_server: Server, actions: tuple[str, str]
) -> None:
    with pg_server.client() as client:
        for _ in range(4):
            case_id = _received_case(client)
            assert sorted(_race(pg_server, case_id, actions)) == [200, 409]
            assert pg_server.container.cases.get(UUID(case_id)).version == 2  # exactly one transition recorded
