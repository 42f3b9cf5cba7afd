"""Load with every fault at once (issue 21), bounded to about two minutes, on loopback only.

Two API processes and one unsupervised `gongjian projections run` over a PostgreSQL server and a Redis
of the test's own (the shared ones, which other tests use at the same time, are never stopped). Clients drive projects and cases through their lifecycle (generate, submit,
accept, start review, approve), every command with its own Idempotency-Key, sent in four ways: plainly,
abandoned after 3 ms and retried, to both APIs at once, and sent again after its answer. Meanwhile one
API is killed with SIGKILL and restarted, PostgreSQL is restarted, and Redis is cut for a while.

Afterwards: nothing acknowledged is lost, nothing is applied twice, no retry of an applied command is
refused, no answer is a 500, the runner is alive, and every read model equals a rebuild of the log.
The table of the closing note is printed (pytest -s)."""

from __future__ import annotations

import random
import statistics
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import auth, new_project_code, project_body
from tests.e2e.test_faults import (
    CLI,
    caught_up,
    env_for,
    events_by_request,
    followed_and_rebuilt,
    free_port,
    own_redis,
    start_api,
    stop,
)
from tests.pgcluster import Cluster

pytestmark = [pytest.mark.postgres, pytest.mark.long_running(110)]

APPLICANT = auth("applicant")
CLERK = auth("window_clerk", org="460100-zwfw")
REVIEWER = auth("reviewer", org="460100-zjj")
APPROVER = auth("approver", org="460100-zjj")
CLIENTS = 6
LOAD_S = 75.0  # the faults happen inside this window
STYLES = ("plain", "abandoned", "both", "repeated")


@dataclass
class Command:
    key: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    style: str
    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # every definitive answer
    statuses: Counter[int | str] = field(default_factory=Counter)  # every answer, transport errors too
    latency_s: float | None = None  # from the first send to the first definitive answer


class Load:
    def __init__(self, bases: list[str], run: str) -> None:
        self.bases = bases
        self.run = run
        self.commands: list[Command] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.acks: list[float] = []  # when each definitive 2xx answer came (for recovery times)

    def _post(self, base: str, command: Command, timeout: float) -> httpx.Response | str:
        headers = {**command.headers, "Idempotency-Key": command.key, "X-Request-ID": command.key}
        try:
            with httpx.Client(base_url=base, timeout=timeout) as client:
                return client.post(command.path, json=command.body, headers=headers)
        except httpx.TransportError as exc:
            return type(exc).__name__

    def _record(self, command: Command, answer: httpx.Response | str) -> bool:
        """True when the answer is definitive (not a transport error, 503 or 429)."""
        with self.lock:
            if isinstance(answer, str):
                command.statuses[answer] += 1
                return False
            command.statuses[answer.status_code] += 1
            if answer.status_code in (429, 503):
                return False
            command.answers.append((answer.status_code, answer.json()))
            if answer.status_code < 300:
                self.acks.append(time.monotonic())
            return True

    def send(self, command: Command) -> dict[str, Any]:
        """Until a definitive answer (bounded): the way the command's style says."""
        with self.lock:
            self.commands.append(command)
        started = time.monotonic()
        if command.style == "abandoned":  # the client gives up at once, then retries
            self._record(command, self._post(random.choice(self.bases), command, 0.003))
        elif command.style == "both":  # the same keyed request to both APIs at the same moment
            results: list[httpx.Response | str] = []
            threads = [
                threading.Thread(target=lambda b=b: results.append(self._post(b, command, 30))) for b in self.bases
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            for r in results:
                self._record(command, r)
        deadline = time.monotonic() + 120
        while not command.answers:
            assert time.monotonic() < deadline, f"{command.key} never got an answer: {command.statuses}"
            if not self._record(command, self._post(random.choice(self.bases), command, 30)):
                time.sleep(0.2)  # a polite client backs off while the service is unavailable
        command.latency_s = time.monotonic() - started
        if command.style == "repeated":  # sent again after its answer
            while not self._record(command, self._post(random.choice(self.bases), command, 30)):
                assert time.monotonic() < deadline, f"{command.key}: the repeat never got an answer"
                time.sleep(0.2)
        status, body = command.answers[0]
        assert status < 300, (command.key, command.path, status, body)
        return body

    def lifecycle(self, n: int) -> None:
        style: Callable[[int], str] = lambda i: STYLES[(n + i) % len(STYLES)]  # noqa: E731
        key = f"{self.run}-{n}"
        code = new_project_code()
        self.send(Command(f"{key}-p", "/api/v1/projects", project_body(code=code), APPLICANT, style(0)))
        body = {"project_code": code, "item_code": "GJ-1-02"}
        case = self.send(Command(f"{key}-c", "/api/v1/cases", body, CLERK, style(1)))["id"]
        steps = [
            ("accept", {}, CLERK),
            ("start-review", {}, REVIEWER),
            ("approve", {"document_number": f"琼规字[2026]{n}号", "valid_until": "2028-12-31"}, APPROVER),
        ]
        for i, (action, payload, headers) in enumerate(steps, start=2):
            self.send(Command(f"{key}-{action}", f"/api/v1/cases/{case}/{action}", payload, headers, style(i)))

    def client(self, first: int) -> None:
        n = first
        while not self.stopping.is_set():
            self.lifecycle(n)
            n += CLIENTS


def _recovery(acks: list[float], after: float) -> float:
    """Seconds from a fault's end to the first acknowledgement after it."""
    later = [t for t in acks if t >= after]
    return round(min(later) - after, 2) if later else float("inf")


def test_load_with_an_api_killed_postgresql_restarted_and_redis_cut_loses_nothing_and_doubles_nothing(
    own_postgres: Cluster,
) -> None:
    pg_url = own_postgres.url
    with own_redis() as (redis_url, redis_proc):
        env = env_for(pg_url, GONGJIAN_REDIS_URL=redis_url)
        ports = [free_port(), free_port()]
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        runner = subprocess.Popen(
            [*CLI, "projections", "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        apis = [start_api(env, p, "--no-projections-in-process") for p in ports]
        load = Load(bases, uuid.uuid4().hex[:8])
        clients = [threading.Thread(target=load.client, args=(i,), daemon=True) for i in range(CLIENTS)]
        faults: dict[str, tuple[float, float]] = {}
        redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        try:
            started = time.monotonic()
            for c in clients:
                c.start()
            # Step: SIGKILL of one API, restarted on its port a second later.
            time.sleep(12)
            apis[0].kill()
            apis[0].wait(timeout=10)
            killed = time.monotonic()
            time.sleep(1)
            apis[0] = start_api(env, ports[0], "--no-projections-in-process")
            faults["API SIGKILL"] = (killed, time.monotonic())
            # Step: PostgreSQL stopped for about 5 s, with the runner unsupervised.
            time.sleep(10)
            try:
                own_postgres.stop()
                down = time.monotonic()
                time.sleep(5)
            finally:
                own_postgres.start()
            faults["PostgreSQL restart"] = (down, time.monotonic())
            # Step: Redis cut for 15 s, then back on its port.
            time.sleep(8)
            redis_proc.kill()
            redis_proc.wait(timeout=10)
            cut = time.monotonic()
            time.sleep(15)
            redis_proc = subprocess.Popen(
                ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            faults["Redis cut"] = (cut, time.monotonic())
            time.sleep(max(0.0, LOAD_S - (time.monotonic() - started)))
        finally:
            load.stopping.set()
            for c in clients:
                c.join(timeout=180)
        assert not any(c.is_alive() for c in clients), "every client finished its lifecycle"
        # Step: the runner outlived everything and brings every read model to the end of the log.
        at = caught_up(pg_url, 120)
        runner_alive = runner.poll() is None
        for api in apis:
            stop(api)
        stop(runner)
        if redis_proc.poll() is None:
            redis_proc.kill()
    assert runner_alive, "the unsupervised runner survived the faults"
    assert at > 0, "every read model reached the end of the log"

    commands = load.commands
    found = events_by_request(pg_url)
    written = {c.key: found.get(c.key, Counter()) for c in commands}
    lost = [c.key for c in commands if written[c.key]["Receipt.Issued"] == 0]
    doubled = [c.key for c in commands if written[c.key]["Receipt.Issued"] > 1]
    # a definitive answer other than the first attempt's (a retry refused although the first was applied)
    refused = [c.key for c in commands if any(status >= 300 for status, _ in c.answers)]
    disagreeing = [c.key for c in commands if len({(b.get("id"), b.get("position")) for _, b in c.answers}) > 1]
    statuses: Counter[int | str] = Counter()
    for c in commands:
        statuses.update(c.statuses)
    latencies = sorted(c.latency_s for c in commands if c.latency_s is not None)
    p50 = statistics.median(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    by_style = Counter(c.style for c in commands)
    print(
        "\n| sent (commands) | requests | acknowledged | lost | doubled | refused after applied | 500s |"
        "\n| --- | --- | --- | --- | --- | --- | --- |"
        f"\n| {len(commands)} ({dict(by_style)}) | {sum(statuses.values())} | "
        f"{sum(1 for c in commands if c.answers)} | {len(lost)} | {len(doubled)} | {len(refused)} | "
        f"{statuses[500]} |"
        f"\nanswers by status: {dict(statuses)}; latency to a definitive answer p50 {p50 * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms"
        + "".join(
            f"\n{name}: {end - start:.1f} s, first acknowledgement {_recovery(load.acks, end)} s after"
            for name, (start, end) in faults.items()
        )
    )
    assert statuses[500] == 0
    assert lost == [] and doubled == [] and refused == [] and disagreeing == []
    # each command's own event is in the log once: a receipt and the command's facts, nothing twice
    assert all(sum(written[c.key].values()) >= 2 for c in commands)
    followed, rebuilt = followed_and_rebuilt(pg_url)
    assert followed == rebuilt  # every read model the runner kept equals a clean rebuild of the log
