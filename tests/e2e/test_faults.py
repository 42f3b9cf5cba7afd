"""Faults, bounded and on loopback only: a killed API worker, a restarted PostgreSQL, a stopped Redis,
a killed projection runner. Nothing acknowledged may be lost, nothing may be written twice.

The servers run as `gongjian` subprocesses (as in production) over a fresh PostgreSQL schema; the
restart of PostgreSQL is of a server of the test's own (`own_postgres`, tests/pgcluster.py), never of
the shared one the other tests use at the same time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import pytest

from application.bootstrap import bootstrap
from infrastructure.settings import Settings
from tests.conftest import IN_CI, JWT_SECRET
from tests.e2e.conftest import auth, project_body, token
from tests.pgcluster import Cluster

pytestmark = [pytest.mark.postgres, pytest.mark.long_running(90)]

CLI = [sys.executable, "-m", "interfaces.cli"]
APPLICANT = auth("applicant")
CLERK = auth("window_clerk", org="460100-zwfw")
KEEP = ("GONGJIAN_KEYSTORE_PATH", "GONGJIAN_ARCHIVE_PATH", "GONGJIAN_KEYSTORE_PASSPHRASE", "GONGJIAN_RATE_LIMIT")


def env_for(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGJIAN_") or k in KEEP}
    env.update(GONGJIAN_DATABASE_URL=database_url, GONGJIAN_JWT_SECRET=JWT_SECRET, **extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_api(env: dict[str, str], port: int, *args: str) -> subprocess.Popen[bytes]:
    output = tempfile.TemporaryFile()  # noqa: SIM115 — the server writes to it for its whole life
    proc = subprocess.Popen([*CLI, "serve", "--port", str(port), *args], env=env, stdout=output, stderr=output)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output.seek(0)
            tail = output.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"gongjian serve exited with {proc.returncode}:\n{tail}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("gongjian serve did not answer /health")


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def api(env: dict[str, str], port: int, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = start_api(env, port, *args)
    try:
        yield proc
    finally:
        stop(proc)


def events_by_request(database_url: str) -> dict[str, Counter[str]]:
    """Every event in the log, counted by request id and event class (the log is read, not a model)."""
    container = bootstrap(Settings(database_url=database_url, jwt_secret=JWT_SECRET))
    try:
        found: dict[str, Counter[str]] = {}
        start = 1
        while True:
            batch = container.app.recorder.select_notifications(start=start, limit=1000)
            if not batch:
                return found
            for notification in batch:
                event = container.app.mapper.to_domain_event(notification)
                found.setdefault(event.request_id, Counter())[type(event).__qualname__] += 1  # type: ignore[attr-defined]
            start = batch[-1].id + 1
    finally:
        container.close()


# -- 1. kill -9 of an API worker under load ------------------------------------------------------

COMMANDS = 2000
THREADS = 8


def test_an_api_worker_killed_under_load_loses_nothing_acknowledged_and_doubles_nothing(pg_url: str) -> None:
    env = env_for(pg_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    run = uuid.uuid4().hex[:8]
    # one project registration per command; the key doubles as the request id, to find it in the log
    bodies = {f"{run}-{n}": project_body(code=f"2611-460100-04-01-{n:06d}") for n in range(COMMANDS)}
    keys = list(bodies)
    acked: dict[str, int] = {}
    unacked: list[str] = []
    lock = threading.Lock()
    back = threading.Event()

    def send(client: httpx.Client, key: str) -> httpx.Response:
        headers = {**APPLICANT, "Idempotency-Key": key, "X-Request-ID": key}
        return client.post("/api/v1/projects", json=bodies[key], headers=headers)

    def worker(mine: list[str]) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            for key in mine:
                try:
                    r = send(client, key)
                except httpx.TransportError:
                    with lock:
                        unacked.append(key)
                    back.wait(timeout=90)  # a client backs off until the service is back
                    continue
                assert r.status_code == 201, r.text
                with lock:
                    acked[key] = int(r.json()["position"])

    server = start_api(env, port, "--no-projections-in-process")
    try:
        threads = [threading.Thread(target=worker, args=(keys[i::THREADS],)) for i in range(THREADS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acked) < COMMANDS // 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()  # SIGKILL: no shutdown, in-flight requests die with it
        server.wait(timeout=10)
        killed_at = len(acked)
        server = start_api(env, port, "--no-projections-in-process")  # the same port
        back.set()
        for t in threads:
            t.join(timeout=90)
        assert not any(t.is_alive() for t in threads)
        # retry every unacknowledged command with its own key
        retried: dict[str, httpx.Response] = {}
        with httpx.Client(base_url=base, timeout=30) as client:
            for key in unacked:
                retried[key] = send(client, key)
    finally:
        stop(server)

    assert killed_at < COMMANDS and unacked, "the kill happened while commands were in flight"
    assert all(r.status_code == 201 for r in retried.values()), [r.text for r in retried.values()]
    assert set(acked) | set(retried) == set(keys)
    found = events_by_request(pg_url)
    registered = {k: found.get(k, Counter()) for k in keys}
    once = {k for k, c in registered.items() if c["Project.Generated"] == 1 and c["Receipt.Issued"] == 1}
    print(
        f"\nkill -9 under load: sent {COMMANDS}, acknowledged before retry {len(acked)} "
        f"(at the kill {killed_at}), unacknowledged and retried {len(unacked)} "
        f"({sum(1 for r in retried.values() if r.json().get('replayed'))} had been written before the kill), "
        f"found exactly once {len(once)}"
    )
    assert once == set(keys), {k: dict(registered[k]) for k in set(keys) - once}
    # the retries did not write twice: nothing else carries these request ids
    assert all(sum(c.values()) == 2 for c in registered.values())


# -- 4. a projection runner killed mid-batch ------------------------------------------------------


def read_model_rows(database_url: str) -> dict[str, list[str]]:
    """Every row of every read model table, as sorted text: equal snapshots mean equal read models."""
    container = bootstrap(Settings(database_url=database_url, jwt_secret=JWT_SECRET))
    try:
        return {
            table: sorted(repr(sorted(row.items())) for row in container.db.query(f"SELECT * FROM {table}"))
            for model in container.engine.models.values()
            for table in model.tables
        }
    finally:
        container.close()


def test_a_projection_runner_killed_mid_batch_resumes_with_no_row_lost_or_doubled(pg_url: str) -> None:
    env = env_for(pg_url)
    demo = subprocess.run([*CLI, "demo", "--projects", "40"], env=env, capture_output=True, text=True, timeout=120)
    assert demo.returncode == 0, demo.stderr
    container = bootstrap(Settings(database_url=pg_url, jwt_secret=JWT_SECRET))
    try:
        log_position = container.app.max_position()

        def positions() -> dict[str, int]:
            return container.engine.positions()

        runner = subprocess.Popen(
            [*CLI, "projections", "run", "--batch-size", "25"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            # the demo left two models caught up (it uses them): wait for a third of the rest's catch-up
            before = positions()
            lag = sum(log_position - p for p in before.values())

            def done() -> int:
                return sum(p - before[name] for name, p in positions().items())

            while time.monotonic() < deadline and done() < lag // 3:
                time.sleep(0.005)
            runner.kill()  # SIGKILL during catch-up: some batch is half written, never committed
            runner.wait(timeout=10)
            at_kill = positions()
            moved = done()
            assert 0 < moved < lag, "the runner was killed during its catch-up"
            runner = subprocess.Popen(
                [*CLI, "projections", "run", "--batch-size", "25"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 90
            caught_up = 0  # a moment at which every read model had reached the end of the log
            while time.monotonic() < deadline:
                top = container.app.max_position()
                if min(positions().values()) >= top:
                    caught_up = top
                    break
                time.sleep(0.1)
        finally:
            stop(runner)
        assert caught_up >= log_position, "the resumed runner caught up with everything the kill interrupted"
        # The runner's automation and delivery retries keep writing on their own clocks (archives after
        # a checkpoint, retried utility notices): that tail was never interrupted; project it here so the
        # comparison with a clean rebuild covers the whole log.
        container.engine.catch_up()
        final_position = container.app.max_position()
        assert min(positions().values()) == final_position
    finally:
        container.close()
    resumed = read_model_rows(pg_url)
    container = bootstrap(Settings(database_url=pg_url, jwt_secret=JWT_SECRET))
    try:
        container.engine.rebuild_all()  # a clean rebuild of the same log
    finally:
        container.close()
    rebuilt = read_model_rows(pg_url)
    print(
        f"\nprojection kill: {log_position} events, killed after {moved} of {lag} event-model steps "
        f"(positions {sorted(set(at_kill.values()))}), "
        f"resumed to {final_position}; {sum(len(r) for r in rebuilt.values())} rows in {len(rebuilt)} tables"
    )
    assert {t: len(r) for t, r in resumed.items()} == {t: len(r) for t, r in rebuilt.items()}
    assert resumed == rebuilt


# -- 2. PostgreSQL restarted mid-load -------------------------------------------------------------


class Load:
    """A client sending project registrations with idempotency keys until told to stop."""

    def __init__(self, base: str, run: str) -> None:
        self.base = base
        self.run = run
        self.sent: dict[str, dict[str, Any]] = {}
        self.acked: set[str] = set()
        self.statuses: Counter[int | str] = Counter()
        self.retry_after: set[str] = set()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._send_all)

    def send(self, client: httpx.Client, key: str) -> int | str:
        headers = {**APPLICANT, "Idempotency-Key": key, "X-Request-ID": key}
        try:
            r = client.post("/api/v1/projects", json=self.sent[key], headers=headers)
        except httpx.TransportError:
            return "transport"
        if r.status_code == 201:
            self.acked.add(key)
        elif r.status_code == 503:
            assert r.headers["content-type"] == "application/problem+json"
            self.retry_after.add(r.headers["retry-after"])
        return r.status_code

    def _send_all(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            n = 0
            while not self.stopping.is_set():
                key = f"{self.run}-{n}"
                self.sent[key] = project_body(code=f"2611-460100-04-01-{n:06d}")
                self.statuses[self.send(client, key)] += 1
                n += 1
                if self.statuses[503]:
                    time.sleep(0.2)  # a polite client backs off while the service is unavailable

    def retry_unacknowledged(self, until: float) -> int:
        missing = [k for k in self.sent if k not in self.acked]
        with httpx.Client(base_url=self.base, timeout=60) as client:
            for key in missing:
                while self.send(client, key) != 201:
                    assert time.monotonic() < until, f"{key} never succeeded after the restart"
                    time.sleep(0.5)
        return len(missing)


def followed_and_rebuilt(pg_url: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Every read model's rows as the stopped runner left them (with what its own automation wrote
    last projected here), and the rows of a clean rebuild of the same log."""
    container = bootstrap(Settings(database_url=pg_url, jwt_secret=JWT_SECRET))
    try:
        container.engine.catch_up()
        followed = read_model_rows(pg_url)
        container.engine.rebuild_all()
    finally:
        container.close()
    return followed, read_model_rows(pg_url)


def caught_up(pg_url: str, timeout: float) -> int:
    """Wait until every read model has reached the log's end; the position, or 0 after `timeout`."""
    container = bootstrap(Settings(database_url=pg_url, jwt_secret=JWT_SECRET))
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            top = container.app.max_position()
            if min(container.engine.positions().values()) >= top:
                return top
            time.sleep(0.2)
        return 0
    finally:
        container.close()


def test_postgresql_restarted_mid_load_answers_503_then_recovers_and_loses_nothing(
    own_postgres: Cluster, tmp_path: Any
) -> None:
    pg_url = own_postgres.url
    env = env_for(pg_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    load = Load(base, uuid.uuid4().hex[:8])
    runner_log = (tmp_path / "runner.log").open("w")
    # the read models follow in a runner of their own, with no supervisor to restart it
    runner = subprocess.Popen(
        [*CLI, "projections", "run", "--batch-size", "50"], env=env, stdout=runner_log, stderr=subprocess.STDOUT
    )
    try:
        with api(env, port, "--no-projections-in-process"):
            load.thread.start()
            try:
                deadline = time.monotonic() + 60
                while len(load.acked) < 100 and time.monotonic() < deadline:
                    time.sleep(0.01)
                acked_before = len(load.acked)
                try:
                    own_postgres.stop()
                    stopped_at = time.monotonic()
                    # while it is down: 503 problem+json with Retry-After, never a hang or a 500
                    with httpx.Client(base_url=base, timeout=60) as client:
                        down = client.post(
                            "/api/v1/projects", json=project_body(), headers={**APPLICANT, "Idempotency-Key": "down"}
                        )
                        deadline = time.monotonic() + 30
                        while not load.statuses[503] and time.monotonic() < deadline:
                            time.sleep(0.05)
                finally:
                    own_postgres.start()
                    started_at = time.monotonic()
                assert down.status_code == 503, down.text
                assert down.headers["content-type"] == "application/problem+json"
                assert int(down.headers["retry-after"]) > 0
                # recovery: the pools reconnect, commands succeed again
                recovered_from = len(load.acked)
                deadline = time.monotonic() + 60
                while len(load.acked) < recovered_from + 50 and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert len(load.acked) >= recovered_from + 50, load.statuses
                first_ack_after = time.monotonic() - started_at
            finally:
                load.stopping.set()
                load.thread.join(timeout=90)
            retried = load.retry_unacknowledged(time.monotonic() + 60)
        # Step: the unsupervised runner outlived the restart and brought every read model to the end.
        at = caught_up(pg_url, 90)
        assert runner.poll() is None, f"the runner exited with {runner.returncode}"
        assert at > 0, "every read model reached the end of the log after the restart"
        status = subprocess.run(
            [*CLI, "projections", "status"], env={**env, "COLUMNS": "250"}, capture_output=True, text=True, timeout=60
        )
    finally:
        stop(runner)
        runner_log.close()
    assert runner.returncode == 0, (tmp_path / "runner.log").read_text()[-3000:]
    assert status.returncode == 0, status.stderr
    follower = next(line for line in status.stdout.splitlines() if f":{runner.pid} " in line)
    assert " following " in follower and " 1 " in follower, status.stdout  # one outage survived, and said so
    found = events_by_request(pg_url)
    once = {k for k in load.sent if found.get(k, Counter())["Project.Generated"] == 1}
    print(
        f"\nPostgreSQL restart: sent {len(load.sent)}, acknowledged before the stop {acked_before}, "
        f"answers {dict(load.statuses)}, Retry-After {sorted(load.retry_after)}, retried {retried}, "
        f"found exactly once {len(once)}; down {started_at - stopped_at:.1f} s, 50 acknowledgements "
        f"{first_ack_after:.1f} s after the start; runner caught up at {at}"
    )
    assert load.statuses[500] == 0
    assert once == set(load.sent)
    assert all(sum(found[k].values()) == 2 for k in load.sent)
    followed, rebuilt = followed_and_rebuilt(pg_url)
    assert followed == rebuilt  # every read model the runner kept equals a clean rebuild of the log


# -- 3. Redis stopped ------------------------------------------------------------------------------

WARNINGS = """subscription { warningRaised(filter: {rule: "W2"}) { rule caseId projectCode } }"""


@contextmanager
def own_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Redis of this test's own on a free port (the machine's Redis on 6379 is never touched)."""
    import redis

    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
                break
            except redis.RedisError:
                assert time.monotonic() < deadline and proc.poll() is None, "redis-server did not start"
                time.sleep(0.05)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


@contextmanager
def subscribed(base: str, query: str) -> Iterator[Any]:
    from websockets.sync.client import connect

    with connect(base.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:
        officer = token("accountability_officer", region="460000")
        ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {officer}"}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        yield ws


@pytest.mark.redis
def test_with_redis_stopped_every_feature_keeps_working(pg_url: str) -> None:
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("redis-server is needed (CI=true: this fault test must run)")
        pytest.skip("redis-server is needed")
    with own_redis() as (redis_url, redis_proc):
        env = env_for(pg_url, GONGJIAN_REDIS_URL=redis_url, GONGJIAN_RATE_LIMIT="40/minute")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with api(env, port), httpx.Client(base_url=base, timeout=30) as client, ExitStack() as stack:
            # with Redis up, once: the shared rate-limit count and wake-ups are in use
            assert client.post("/api/v1/projects", json=project_body(), headers=APPLICANT).status_code == 201
            redis_proc.kill()
            redis_proc.wait(timeout=10)
            live = stack.enter_context(subscribed(base, WARNINGS))  # opened now: falls back to in-process
            time.sleep(0.3)
            # commands
            code = client.post("/api/v1/projects", json=project_body(), headers=APPLICANT).json()["code"]
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
            # read-your-writes: atLeast waits for the read models (in-process wake-ups, no Redis)
            query = "query($c: String!, $p: Int) { project(code: $c, atLeast: $p) { code } }"
            answer = client.post(
                "/graphql",
                json={"query": query, "variables": {"c": code, "p": entry.json()["position"]}},
                headers=auth("supervisor", region="460000"),
            ).json()
            assert answer.get("errors") is None and answer["data"]["project"]["code"] == code, answer
            # the live subscription still delivers, without an error
            message = json.loads(live.recv(timeout=15))
            assert message["type"] == "next", message
            assert message["payload"]["data"]["warningRaised"]["projectCode"] == code
            # the rate limit falls back to counting in-process: still enforced
            burst = auth("analyst")
            statuses = [
                client.post("/graphql", json={"query": "{ projects(first: 1) { totalCount } }"}, headers=burst)
                for _ in range(45)
            ]
            codes = Counter(r.status_code for r in statuses)
            limited = [r for r in statuses if r.status_code == 429]
            assert codes[500] == 0 and codes[200] >= 30 and limited, codes
            assert int(limited[0].headers["retry-after"]) > 0
            print(f"\nRedis stopped: commands 201, atLeast read answered, warning pushed, burst answers {dict(codes)}")


# -- 5. more than one machine: API workers and a projection runner as separate processes -----------


@pytest.mark.redis
def test_two_apis_with_workers_and_a_separate_projection_runner_stay_consistent(pg_url: str) -> None:
    with own_redis() as (redis_url, _redis):
        env = env_for(pg_url, GONGJIAN_REDIS_URL=redis_url)
        ports = free_port(), free_port()
        runner = subprocess.Popen(
            [*CLI, "projections", "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            # one API with two uvicorn workers, one with a single worker; neither runs the read models
            with (
                api(env, ports[0], "--workers", "2"),
                api(env, ports[1], "--no-projections-in-process"),
                httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}", timeout=30) as first,
                httpx.Client(base_url=f"http://127.0.0.1:{ports[1]}", timeout=30) as second,
            ):
                apis = (first, second)
                query = """query($c: String!, $id: ID!, $p: Int) {
                  project(code: $c, atLeast: $p) { code }
                  case(id: $id, atLeast: $p) { id status { code name } }
                }"""
                rounds = 20
                for n in range(rounds):
                    write, other = apis[n % 2], apis[(n + 1) % 2]
                    code = project_body()["code"]
                    assert write.post("/api/v1/projects", json=project_body(code=code), headers=APPLICANT).is_success
                    case = other.post(
                        "/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-02"}, headers=CLERK
                    )
                    assert case.status_code == 201, case.text
                    case_id = case.json()["id"]
                    accepted = write.post(f"/api/v1/cases/{case_id}/accept", json={}, headers=CLERK)
                    assert accepted.status_code == 200, accepted.text
                    # read-your-writes on the API that did not take the last command
                    answer = other.post(
                        "/graphql",
                        json={
                            "query": query,
                            "variables": {"c": code, "id": case_id, "p": accepted.json()["position"]},
                        },
                        headers=auth("supervisor", region="460000"),
                    ).json()
                    assert answer.get("errors") is None, answer
                    assert answer["data"]["project"]["code"] == code
                    assert answer["data"]["case"]["status"]["code"] == 3, answer  # accepted (受理)
                # both APIs see the same totals
                totals = [
                    api_.post(
                        "/graphql",
                        json={"query": "{ projects { totalCount } cases { totalCount } }"},
                        headers=auth("supervisor", region="460000"),
                    ).json()["data"]
                    for api_ in apis
                ]
                assert totals[0] == totals[1], totals
                assert totals[0]["cases"]["totalCount"] == rounds
                print(f"\nthree API processes (2 + 1 workers) and a projection runner: {rounds} rounds, {totals[0]}")
        finally:
            stop(runner)
