"""外部推送 end to end, on SQLite and PostgreSQL, with a real receiver on loopback: it fails the
first attempts (500), is down for a while (connection refused), comes back, and dedupes by
Idempotency-Key; every message takes effect once. A worker process killed mid-delivery and
started again loses nothing and delivers nothing twice in effect."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from application.bootstrap import Container, bootstrap
from domain.exchange import Delivery, DeliveryState
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import Server, auth, project_body, serving
from tests.receiver import Receiver

pytestmark = pytest.mark.long_running(15)  # scheduled first (tests/conftest.py)

APPLICANT = auth("applicant")
APPROVER = auth("approver", org="460100-zjj")
ADMIN = auth("admin", org="460000-ops", region="460000")
SUPERVISOR = auth("supervisor", org="460000-jg", region="460000")
DESTINATIONS = ("real_estate_registration", "water", "power", "gas")
CLI = [sys.executable, "-m", "interfaces.cli"]


def delivery_settings(store_url: str, receiver: Receiver, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "database_url": store_url,
        "jwt_secret": JWT_SECRET,
        "delivery_urls": dict.fromkeys(DESTINATIONS, receiver.url),
        "delivery_retry_base_s": 0.05,
        "delivery_retry_cap_s": 0.2,
        "delivery_max_attempts": 100,
        "delivery_timeout_s": 2.0,
    }
    return Settings(**{**fields, **overrides})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=3)
    yield r
    r.stop()


def decisions(http: httpx.Client, projects: int) -> None:
    """Per project: a completion filing and a construction permit, back-entered (1 + 3 messages)."""
    for _ in range(projects):
        body = project_body()
        assert http.post("/api/v1/projects", json=body, headers=APPLICANT).status_code == 201
        for item in ("GJ-3-03", "GJ-4-03"):
            entry = {
                "project_code": body["code"],
                "item_code": item,
                "decision": "approved",
                "decided_at": "2026-04-01T10:00:00+08:00",
                "document_number": f"琼建{item}〔2026〕{body['code'][-6:]}号",
                "reason": "系统停机期间线下办理",
            }
            r = http.post("/api/v1/cases/offline-entries", json=entry, headers=APPROVER)
            assert r.status_code == 201, r.text


def message_ids(c: Container) -> list[UUID]:
    found = c.app.recorder.select_notifications(0, 10_000, topics=["domain.exchange.delivery:Delivery.Requested"])
    return [UUID(str(n.originator_id)) for n in found]


def deliveries_query(http: httpx.Client, state: str) -> dict[str, Any]:
    query = "query($s: DeliveryState) { deliveries(filter: {state: $s}, first: 50) { totalCount edges { node { id attempts lastError receipt } } } }"
    r = http.post("/graphql", json={"query": query, "variables": {"s": state}}, headers=SUPERVISOR)
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    return dict(r.json()["data"]["deliveries"])


def test_every_message_takes_effect_once_through_failures_and_downtime(store_url: str, receiver: Receiver) -> None:
    container = bootstrap(delivery_settings(store_url, receiver))
    try:
        with serving(container) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
            server = Server(base_url, container)
            # Step: decisions of 3 projects are recorded; the worker's first round makes 12 messages.
            decisions(http, 3)
            done = container.deliveries.run_once()
            assert len(done.requested) == 12
            ids = message_ids(container)
            # Step: the receiver failed the first 3 attempts (500); then it goes down for a while.
            assert sum(a["state"] == "retrying" for a in done.attempts) == 3
            receiver.stop()
            until = time.monotonic() + 0.8
            while time.monotonic() < until:
                container.deliveries.run_once()
                time.sleep(0.05)
            # Step: it comes back; the worker delivers the rest.
            receiver.start()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and any(
                container.deliveries.load(Delivery, i, "delivery").state != DeliveryState.DELIVERED for i in ids
            ):
                container.deliveries.run_once()
                time.sleep(0.05)
            # Step: every message took effect exactly once; each has one Delivered event.
            assert set(receiver.effects) == {str(i) for i in ids}
            for i in ids:
                names = [type(e).__name__ for e in container.app.events.get(i)]
                assert names.count("Delivered") == 1
            errors = {e.error.split(":")[0] for i in ids for e in container.app.events.get(i) if hasattr(e, "error")}
            assert any("HTTP 500" in e for e in errors) and any("unreachable" in e for e in errors), errors
            # Step: GraphQL over HTTP shows all 12 delivered, with the receiver's receipts.
            container.engine.catch_up(["deliveries"])
            delivered = deliveries_query(http, "DELIVERED")
            assert delivered["totalCount"] == 12
            assert all(e["node"]["receipt"].startswith('{"receipt": "R-') for e in delivered["edges"])
            assert deliveries_query(http, "RETRYING")["totalCount"] == 0
            # Step: requeue refuses a supervisor (403), a delivered message (409), an unknown id (404).
            some = str(ids[0])
            assert http.post(f"/api/v1/deliveries/{some}/requeue", headers=SUPERVISOR).status_code == 403
            r = http.post(f"/api/v1/deliveries/{some}/requeue", json={"reason": "again"}, headers=ADMIN)
            assert r.status_code == 409, r.text
            unknown = "00000000-0000-0000-0000-000000000001"
            assert http.post(f"/api/v1/deliveries/{unknown}/requeue", headers=ADMIN).status_code == 404
            assert server.position() > 0
    finally:
        container.close()


def worker_env(store_url: str, receiver: Receiver) -> dict[str, str]:
    keep = ("GONGJIAN_KEYSTORE_PATH", "GONGJIAN_ARCHIVE_PATH", "GONGJIAN_KEYSTORE_PASSPHRASE")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGJIAN_") or k in keep}
    env.update(
        GONGJIAN_DATABASE_URL=store_url,
        GONGJIAN_JWT_SECRET=JWT_SECRET,
        GONGJIAN_DELIVERY_URLS=json.dumps(dict.fromkeys(DESTINATIONS, receiver.url)),
        GONGJIAN_DELIVERY_RETRY_BASE_S="0.05",
        GONGJIAN_DELIVERY_RETRY_CAP_S="0.2",
        GONGJIAN_DELIVERY_MAX_ATTEMPTS="100",
    )
    return env


def test_a_worker_killed_mid_delivery_loses_nothing_and_delivers_nothing_twice_in_effect(
    store_url: str, tmp_path: Path
) -> None:
    receiver = Receiver(failures=0, delay_s=0.2)
    container = bootstrap(delivery_settings(store_url, receiver, archive_path=str(tmp_path / "archives")))
    log = tmp_path / "worker.log"
    try:
        with serving(container) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
            decisions(http, 2)  # 8 messages
        env = worker_env(store_url, receiver)
        command = [*CLI, "exchange", "deliver", "--every", "0.05"]
        # Step: the worker starts and is killed (SIGKILL) while its third call waits for the answer.
        with log.open("w") as out:
            worker = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 60
            while len(receiver.calls) < 3 and time.monotonic() < deadline and worker.poll() is None:
                time.sleep(0.01)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        assert len(receiver.calls) == 3, log.read_text()
        ids = message_ids(container)
        assert len(ids) == 8
        states = [container.deliveries.load(Delivery, i, "delivery").state for i in ids]
        assert states.count(DeliveryState.DELIVERED) == 2  # the third call's answer was never recorded

        # Step: started again, it resends the unrecorded message with the same key and finishes.
        with log.open("a") as out:
            worker = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and any(
                    container.deliveries.load(Delivery, i, "delivery").state != DeliveryState.DELIVERED for i in ids
                ):
                    assert worker.poll() is None, log.read_text()
                    time.sleep(0.1)
            finally:
                worker.send_signal(signal.SIGTERM)
                assert worker.wait(timeout=30) == 0, log.read_text()

        # Step: nothing lost, one effect per message, one resend deduped by the receiver.
        assert set(receiver.effects) == {str(i) for i in ids}
        assert len(receiver.calls) == 9 and receiver.duplicates() == 1
        for i in ids:
            assert [type(e).__name__ for e in container.app.events.get(i)].count("Delivered") == 1
    finally:
        receiver.stop()
        container.close()
