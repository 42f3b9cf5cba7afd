"""`python -m bench.scaling` — what the single ordered log allows: commands/s with N concurrent
clients appending through the services against PostgreSQL, and the ceiling of the log's write lock
alone (N connections doing the same one-row EXCLUSIVE-locked insert transactions, no Python work).

Every figure is one JSON line. Clients are processes (each with its own container, as API workers
are), each on its own project so that only the log's lock is shared, never an aggregate.
GONGJIAN_BENCH_CLIENTS="1,2,4,8" and GONGJIAN_BENCH_SECONDS=5 choose the runs; docs/scaling.md
holds the latest figures.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

from application.commands import Invocation
from application.commands.cases import AcceptCase, SubmitCase
from application.commands.projects import GenerateProject
from application.policy import Actor
from bench.common import conninfo, emit, fresh_schema, open_container, percentile

CLIENTS = [int(n) for n in os.environ.get("GONGJIAN_BENCH_CLIENTS", "1,2,4,8").split(",")]
SECONDS = float(os.environ.get("GONGJIAN_BENCH_SECONDS", "5"))
CLERK = Actor("bench-clerk", "window_clerk", "bench", "460000")


def _client(url: str, n: int, opening: Any, start: Any, results: Any) -> None:
    with opening:  # one at a time: bootstrap replaces the store's functions, which races
        c = open_container(url)
    try:
        code = f"2611-460100-04-01-{n:06d}"
        c.projects.generate(
            Invocation(CLERK, f"scaling-{n}"),
            GenerateProject(
                code=code,
                name="扩展基准项目",
                owner_name="基准公司",
                owner_uscc="91460000MA5T0P3X64",
                region_code="460106",
                flow_type=3,
                investment_type="enterprise",
                category="房屋建筑",
                total_investment=Decimal(1),
                planned_start=date(2026, 1, 1),
                planned_end=date(2027, 1, 1),
                red_line=None,
            ),
        )
        start.wait()
        latencies: list[float] = []
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            case_id = c.cases.submit(
                Invocation(CLERK, f"scaling-{uuid.uuid4()}"),
                SubmitCase(project_code=code, item_code="GJ-1-02"),
            ).id
            t1 = time.perf_counter()
            c.cases.act(Invocation(CLERK, f"scaling-{uuid.uuid4()}"), AcceptCase(case_id))
            latencies += [t1 - t0, time.perf_counter() - t1]
        results.put(latencies)
    finally:
        c.close()


def services(url: str, clients: int) -> None:
    ctx = mp.get_context("spawn")
    opening = ctx.Lock()
    start = ctx.Barrier(clients + 1, timeout=120)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_client, args=(url, n + clients * 100, opening, start, results)) for n in range(clients)
    ]
    for p in procs:
        p.start()
    start.wait()
    t0 = time.perf_counter()
    latencies: list[float] = []
    for _ in procs:
        latencies += results.get(timeout=SECONDS + 120)
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join(timeout=30)
    emit(
        "scaling_services",
        clients=clients,
        commands=len(latencies),
        seconds=round(elapsed, 2),
        commands_per_s=round(len(latencies) / elapsed, 1),
        p50_ms=round(percentile(latencies, 50) * 1000, 1),
        p95_ms=round(percentile(latencies, 95) * 1000, 1),
    )


def lock_ceiling(url: str, clients: int) -> None:
    """The log's write path without the application: lock, insert one row, commit, in a loop."""
    schema = url.split("schema=")[1]
    with psycopg.connect(conninfo(), autocommit=True, options=f"-c search_path={schema}") as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS lock_log (id bigserial PRIMARY KEY, state bytea)")
    counts = [0] * clients
    stop = time.monotonic() + SECONDS

    def loop(i: int) -> None:
        with psycopg.connect(conninfo(), options=f"-c search_path={schema}") as conn:
            while time.monotonic() < stop:
                with conn.transaction():
                    conn.execute("LOCK TABLE lock_log IN EXCLUSIVE MODE")
                    conn.execute("INSERT INTO lock_log (state) VALUES (%s)", (os.urandom(300),))
                counts[i] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    emit("scaling_lock_ceiling", clients=clients, saves=sum(counts), saves_per_s=round(sum(counts) / elapsed, 1))


def main() -> None:
    emit("machine", nproc=os.cpu_count(), seconds=SECONDS)
    with fresh_schema("scaling") as url:
        open_container(url).close()  # tables first, once
        for clients in CLIENTS:
            services(url, clients)
        for clients in CLIENTS:
            lock_ceiling(url, clients)


if __name__ == "__main__":
    main()
