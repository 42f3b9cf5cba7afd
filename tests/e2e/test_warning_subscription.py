"""`warningRaised` over a websocket (graphql-transport-ws): a back-entry (W2) reaches a subscribed
client as soon as the warnings read model commits it — through Redis pub/sub, and in-process
when no Redis is configured."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from application.bootstrap import bootstrap
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import Server, auth, project_body, serving, token

SUBSCRIPTION = """subscription($f: WarningFilter) {
  warningRaised(filter: $f) { id rule caseId projectCode regionCode evidence explanation }
}"""


@pytest.fixture(params=["in_process", "redis"])
def live_server(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Server]:
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    container = bootstrap(Settings(database_url=sqlite_url, jwt_secret=JWT_SECRET, redis_url=redis_url))
    container.engine.start()
    try:
        with serving(container) as base_url:
            yield Server(base_url, container)
    finally:
        container.close()


def _open(base_url: str) -> ClientConnection:
    return connect(base_url.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"], open_timeout=10)


def _subscribe(ws: ClientConnection, role: str, region: str, rule: str) -> None:
    ws.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token(role, region=region)}"}})
    )
    assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
    ws.send(
        json.dumps(
            {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION, "variables": {"f": {"rule": rule}}}}
        )
    )


def test_a_back_entry_pushes_a_w2_warning_to_a_subscribed_client(live_server: Server) -> None:
    with _open(live_server.base_url) as ws, _open(live_server.base_url) as elsewhere:
        _subscribe(ws, "accountability_officer", "460000", "W2")
        _subscribe(elsewhere, "supervisor", "460200", "W2")  # Sanya sees no Haikou warning
        _raise_and_receive(live_server, ws, elsewhere)


def _raise_and_receive(live_server: Server, ws: ClientConnection, elsewhere: ClientConnection) -> None:
    time.sleep(0.3)
    redis_url = live_server.container.settings.redis_url
    if redis_url:  # the subscriptions really listen on Redis, not on the in-process fallback
        channel = "gongjian:live:offline_warnings"
        assert (
            dict(redis.Redis.from_url(redis_url).pubsub_numsub(channel))[channel.encode()] >= 2
        )  # let the subscriptions register before the command
    with httpx.Client(base_url=live_server.base_url, timeout=30) as client:
        code = client.post("/api/v1/projects", json=project_body(), headers=auth("window_clerk")).json()["code"]
        started = time.perf_counter()
        entry = client.post(
            "/api/v1/cases/offline-entries",
            json={
                "project_code": code,
                "item_code": "GJ-1-02",
                "decision": "approved",
                "decided_at": "2026-11-02T10:00:00+08:00",
                "reason": "系统故障期间线下办理",
            },
            headers=auth("approver"),
        )
        assert entry.status_code == 201, entry.text
    message = json.loads(ws.recv(timeout=10))
    latency = time.perf_counter() - started
    print(f"warningRaised latency: {latency * 1000:.0f} ms")
    assert message["type"] == "next"
    warning = message["payload"]["data"]["warningRaised"]
    assert warning["rule"] == "W2"
    assert warning["caseId"] == entry.json()["id"] and warning["projectCode"] == code
    assert warning["evidence"] and max(warning["evidence"]) <= entry.json()["position"]
    with pytest.raises(TimeoutError):
        elsewhere.recv(timeout=1)


def test_a_subscription_without_a_token_is_refused(live_server: Server) -> None:
    with _open(live_server.base_url) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(ConnectionClosed, match=r"4403"):
            ws.recv(timeout=10)
