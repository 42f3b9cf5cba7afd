"""`python -m bench.rebuild` — the rebuild figures alone, in a few minutes: the dataset of
GONGJIAN_BENCH_EVENTS events (default 20,000) into a fresh PostgreSQL schema, then `rebuild_all`
and each read model alone, as JSON lines like `python -m bench`. `--profile` adds the top
functions of a profiled `rebuild_all` (cumulative time) on stderr.

`--workers 1,2` (or GONGJIAN_BENCH_WORKERS) rebuilds with each of those worker counts in turn,
alternating, `--rounds N` times (GONGJIAN_BENCH_ROUNDS, default 1): one JSON line per rebuild, then
the median of each count and the ratio of the last to the first. The per-model rebuilds are skipped
then (and with GONGJIAN_BENCH_PER_MODEL=0). Profiling a parallel rebuild profiles this process's
group only (the costliest one; the others run in child processes).

`--breakdown` times the parts of those rebuilds in this process (no per-model rebuilds then): the
log's read and decoding, each read model's handler and the closing VACUUM (ANALYZE), one
`rebuild_cost` line each with µs per event (wall clock and this thread's CPU), then the whole; the
rest of the wall clock is the positions and the commits.

Reuse a dataset between runs with GONGJIAN_BENCH_KEEP=1 (prints the schema's URL) and
GONGJIAN_BENCH_STORE=<that URL>.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import resource
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

EVENTS = int(os.environ.get("GONGJIAN_BENCH_EVENTS", "20000"))


def _option(flag: str, env: str, default: str) -> str:
    if flag in sys.argv:
        return sys.argv[sys.argv.index(flag) + 1]
    return os.environ.get(env, default)


def _children_cpu() -> float:
    """CPU seconds of the ended child processes (the workers, once the rebuild has joined them)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Breakdown:
    """Wall and CPU seconds spent in the engine's `read` and in each read model's `handle`."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.spent: dict[str, list[float]] = {}
        self.saved: list[tuple[Any, str, Any]] = []

    def _timed(self, key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        spent = self.spent.setdefault(key, [0.0, 0.0])

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - t0
                spent[1] += time.thread_time() - c0

        return timed

    def __enter__(self) -> Breakdown:
        targets = [(self.engine, "read", "read and decode")]
        targets += [(m, "handle", name) for name, m in self.engine.models.items()]
        if hasattr(self.engine.db, "vacuum_analyze"):  # PostgreSQL, after a large rebuild
            targets.append((self.engine.db, "vacuum_analyze", "vacuum (analyze)"))
        for obj, attr, key in targets:
            self.saved.append((obj, attr, obj.__dict__.get(attr)))
            setattr(obj, attr, self._timed(key, getattr(obj, attr)))
        return self

    def __exit__(self, *exc: object) -> None:
        for obj, attr, old in self.saved:
            if old is None:
                delattr(obj, attr)
            else:
                setattr(obj, attr, old)
        self.saved = []

    def emit(self, events: int, wall: float, cpu: float, emit: Callable[..., None]) -> None:
        per = 1e6 / events
        for key, (w, c) in sorted(self.spent.items(), key=lambda kv: -kv[1][0]):
            emit("rebuild_cost", name=key, wall_us_per_event=round(w * per, 1), cpu_us_per_event=round(c * per, 1))
        emit(
            "rebuild_cost",
            name="total",
            wall_us_per_event=round(wall * per, 1),
            cpu_us_per_event=round(cpu * per, 1),
            other_wall_us_per_event=round((wall - sum(w for w, _ in self.spent.values())) * per, 1),
        )


def main() -> None:
    # imported here: a worker process of a parallel rebuild imports this module again (spawn)
    from bench.common import emit, fresh_schema, open_container
    from bench.dataset import Generator

    store = os.environ.get("GONGJIAN_BENCH_STORE")
    keep = os.environ.get("GONGJIAN_BENCH_KEEP") == "1"
    workers = [int(w) for w in _option("--workers", "GONGJIAN_BENCH_WORKERS", "1").split(",")]
    rounds = int(_option("--rounds", "GONGJIAN_BENCH_ROUNDS", "1"))
    per_model = (
        os.environ.get("GONGJIAN_BENCH_PER_MODEL", "1") != "0"
        and workers == [1]
        and rounds == 1
        and "--breakdown" not in sys.argv
    )
    with nullcontext(store) if store else fresh_schema(keep=keep) as url:
        c = open_container(url)
        try:
            if not store:
                Generator(c.app).run(EVENTS)
                if keep:
                    print(url, file=sys.stderr)
            n = c.app.max_position()
            profiler = cProfile.Profile() if "--profile" in sys.argv else None
            rates: dict[int, list[int]] = {w: [] for w in workers}
            breakdown = Breakdown(c.engine) if "--breakdown" in sys.argv else None
            spent = [0.0, 0.0]  # wall and this thread's CPU seconds of the rebuilds (for the breakdown)
            for _round in range(rounds):
                for w in workers:  # alternating: the machine's load falls on every count alike
                    t0, cpu0, kids0 = time.perf_counter(), time.process_time(), _children_cpu()
                    thread0 = time.thread_time()
                    if profiler is not None:
                        profiler.enable()
                    with breakdown if breakdown is not None else nullcontext():
                        c.engine.rebuild_all(workers=w, settings=c.settings)
                    if profiler is not None:
                        profiler.disable()
                    spent[0] += time.perf_counter() - t0
                    spent[1] += time.thread_time() - thread0
                    rate = round(n / (time.perf_counter() - t0))
                    rates[w].append(rate)
                    # CPU seconds of this process and of the workers (start-up included): on a loaded
                    # machine the wall clock says more about the neighbours than about the rebuild
                    cpu = {"cpu_s_here": round(time.process_time() - cpu0, 2)}
                    if w > 1:
                        cpu["cpu_s_workers"] = round(_children_cpu() - kids0, 2)
                    load = os.getloadavg()[0]
                    emit(
                        "rebuild",
                        events=n,
                        read_models=len(c.engine.models),
                        workers=w,
                        events_per_s=rate,
                        **cpu,
                        load=load,
                    )
            if len(workers) > 1 or rounds > 1:
                medians = {w: statistics.median(r) for w, r in rates.items()}
                emit(
                    "rebuild_workers",
                    events=n,
                    rounds=rounds,
                    medians={str(w): round(m) for w, m in medians.items()},
                    ratio=round(medians[workers[-1]] / medians[workers[0]], 2),
                    groups=c.engine.rebuild_groups(list(c.engine.models), max(workers), n),
                )
            if breakdown is not None:  # (a parallel rebuild's other groups run in children: not seen)
                breakdown.emit(n * rounds * len(workers), spent[0], spent[1], emit)
            if profiler is not None:
                pstats.Stats(profiler, stream=sys.stderr).sort_stats(
                    os.environ.get("GONGJIAN_BENCH_SORT", "cumulative")
                ).print_stats(45)
                return
            for name in c.engine.models if per_model else ():
                t0 = time.perf_counter()
                c.engine.rebuild(name)
                emit("rebuild_model", name=name, events=n, events_per_s=round(n / (time.perf_counter() - t0)))
        finally:
            c.close()


if __name__ == "__main__":
    main()
