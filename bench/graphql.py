"""`python -m bench.graphql [REF]` — the GraphQL figures of `python -m bench` (dashboard, audit trail,
warnings, statistics: schema.execute, no HTTP, vs the read-model calls that run the same SQL), before
and after: the code as committed at REF (default HEAD, unpacked with `git archive` into a temporary
directory) and the working tree, measured in alternating processes on one kept store, so that both
see the same load on this shared machine. One JSON line per query and side per round, then a summary
line per query with the medians over the rounds of p50/p95 and of the ratio to the bare SQL.

Two ways of driving the loop, both reported: `per_request` (a fresh root task per request, as
`python -m bench` does: anyio then starts a worker thread per request) and `server` (every request a
task under one long-lived root, as under uvicorn: worker threads are reused). Next to the wall-clock
percentiles, `*_cpu_ms` is this process's CPU time per request (every thread): on a loaded shared
machine the wall clock mostly measures the scheduler, CPU time what the code costs.

The store: GONGJIAN_BENCH_STORE=<URL of a kept schema>, or a fresh one of GONGJIAN_BENCH_EVENTS
(20,000) events, dropped afterwards. GONGJIAN_BENCH_ROUNDS (3) rounds of GONGJIAN_BENCH_SAMPLES (200)
requests per query and side. `python -m bench.graphql --once` measures this process's code once.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

ROUNDS = int(os.environ.get("GONGJIAN_BENCH_ROUNDS", "3"))
SAMPLES = int(os.environ.get("GONGJIAN_BENCH_SAMPLES", "200"))
TREE = Path(__file__).resolve().parent.parent


def once(url: str) -> None:
    """Every query in both loop modes, GraphQL and bare alternating in blocks; one JSON line each."""
    from bench.__main__ import SUPERVISOR, graphql_queries  # REF must have it (from round 5 on)
    from bench.common import open_container, percentile
    from interfaces.graphql.context import Context
    from interfaces.graphql.schema import schema

    c = open_container(url)
    try:
        queries = graphql_queries(c)
        loop = asyncio.new_event_loop()
        blocks = 4
        for name, (query, variables, direct) in queries.items():

            async def request(q: str = query, v: dict[str, Any] = variables) -> None:
                result = await schema.execute(q, variable_values=v, context_value=Context(c, SUPERVISOR))
                assert result.errors is None, result.errors

            async def served(n: int) -> list[float]:
                out = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    await request()
                    out.append(time.perf_counter() - t0)
                return out

            def per_request(n: int) -> list[float]:
                out = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    loop.run_until_complete(request())
                    out.append(time.perf_counter() - t0)
                return out

            def bare(n: int, direct: Callable[[], Any] = direct) -> list[float]:
                out = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    direct()
                    out.append(time.perf_counter() - t0)
                return out

            per_request(10)
            bare(10)
            samples: dict[str, list[float]] = {"per_request": [], "server": [], "bare": []}
            cpu: dict[str, float] = dict.fromkeys(samples, 0.0)  # this process's CPU (every thread): load-proof
            for _ in range(blocks):
                for mode, run in (
                    ("per_request", per_request),
                    ("server", lambda n: loop.run_until_complete(served(n))),
                    ("bare", bare),
                ):
                    c0 = time.process_time()
                    samples[mode] += run(SAMPLES // blocks)
                    cpu[mode] += time.process_time() - c0
            bare95 = percentile(samples["bare"], 95)
            print(
                json.dumps(
                    {
                        "query": name,
                        **{
                            f"{mode}_{p}_ms": round(percentile(values, int(p[1:])) * 1000, 2)
                            for mode, values in samples.items()
                            for p in ("p50", "p95")
                        },
                        **{
                            f"{mode}_ratio_p95": round(percentile(samples[mode], 95) / bare95, 2)
                            for mode in ("per_request", "server")
                        },
                        **{f"{mode}_cpu_ms": round(cpu[mode] * 1000 / len(samples[mode]), 3) for mode in cpu},
                    }
                ),
                flush=True,
            )
        loop.close()
    finally:
        c.close()


def side(directory: Path, url: str) -> list[dict[str, Any]]:
    """One `--once` run with the code of `directory` (this file's own text, that code's modules)."""
    run = f"import sys, runpy; sys.argv = ['bench.graphql', '--once']; runpy.run_path({str(__file__)!r}, run_name='__main__')"
    out = subprocess.run(
        [sys.executable, "-c", run],
        cwd=directory,
        env={**os.environ, "PYTHONPATH": str(directory), "GONGJIAN_BENCH_STORE": url},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main() -> None:
    if "--once" in sys.argv:
        once(os.environ["GONGJIAN_BENCH_STORE"])
        return
    ref = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    from bench.common import emit, fresh_schema, open_container
    from bench.dataset import Generator

    store = os.environ.get("GONGJIAN_BENCH_STORE")
    with (
        tempfile.TemporaryDirectory(prefix="gongjian-bench-head-") as head,
        nullcontext(store) if store else fresh_schema() as url,
    ):
        archive = subprocess.run(["git", "archive", ref], cwd=TREE, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", head], input=archive, check=True)
        if not store:
            c = open_container(url)
            try:
                Generator(c.app).run(int(os.environ.get("GONGJIAN_BENCH_EVENTS", "20000")))
                c.engine.catch_up()
            finally:
                c.close()
        results: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for r in range(ROUNDS):
            for label, directory in (("before", Path(head)), ("after", TREE)):
                for line in side(directory, url):
                    emit("graphql_ab_round", round=r, side=label, ref=ref if label == "before" else "tree", **line)
                    results.setdefault(line["query"], {}).setdefault(label, []).append(line)
        for query, by_side in results.items():
            summary: dict[str, Any] = {}
            for label, lines in by_side.items():
                for key in lines[0]:
                    if key != "query":
                        summary[f"{label}_{key}"] = round(statistics.median(x[key] for x in lines), 2)
            emit("graphql_ab", query=query, ref=ref, rounds=ROUNDS, samples=SAMPLES, **summary)


if __name__ == "__main__":
    main()
