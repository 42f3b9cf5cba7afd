"""`python -m bench.rebuild` — the rebuild figures alone, in a few minutes: the dataset of
GONGJIAN_BENCH_EVENTS events (default 20,000) into a fresh PostgreSQL schema, then `rebuild_all`
and each read model alone, as JSON lines like `python -m bench`. `--profile` adds the top
functions of a profiled `rebuild_all` (cumulative time) on stderr.

Reuse a dataset between runs with GONGJIAN_BENCH_KEEP=1 (prints the schema's URL) and
GONGJIAN_BENCH_STORE=<that URL>.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import time
from contextlib import nullcontext

from bench.common import emit, fresh_schema, open_container
from bench.dataset import Generator

EVENTS = int(os.environ.get("GONGJIAN_BENCH_EVENTS", "20000"))


def main() -> None:
    store = os.environ.get("GONGJIAN_BENCH_STORE")
    keep = os.environ.get("GONGJIAN_BENCH_KEEP") == "1"
    with nullcontext(store) if store else fresh_schema(keep=keep) as url:
        c = open_container(url)
        try:
            if not store:
                Generator(c.app).run(EVENTS)
                if keep:
                    print(url, file=sys.stderr)
            n = c.app.max_position()
            profiler = cProfile.Profile() if "--profile" in sys.argv else None
            t0 = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            c.engine.rebuild_all()
            if profiler is not None:
                profiler.disable()
            seconds = time.perf_counter() - t0
            emit("rebuild", events=n, read_models=len(c.engine.models), events_per_s=round(n / seconds))
            if profiler is not None:
                pstats.Stats(profiler, stream=sys.stderr).sort_stats(
                    os.environ.get("GONGJIAN_BENCH_SORT", "cumulative")
                ).print_stats(45)
                return
            for name in c.engine.models:
                t0 = time.perf_counter()
                c.engine.rebuild(name)
                emit("rebuild_model", name=name, events=n, events_per_s=round(n / (time.perf_counter() - t0)))
        finally:
            c.close()


if __name__ == "__main__":
    main()
