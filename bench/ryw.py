"""`python -m bench.ryw [REF path …]` — read-your-writes in this process, before and after in one
run: blocks of commands (submit + accept a case, as `python -m bench`), each timed from the accept's
commit until every read model has it (`engine.wait_for`, the engine running in a thread), alternating
"before" (the read models of the named paths as committed at REF; for projections/engine.py, the
committed engine's methods on the running engine) with "after" (the working tree), so that both see
the same load on this shared machine. Prints one JSON line with p50/p95 of each side.

    python -m bench.ryw HEAD projections/engine.py projections/ledger.py

The dataset: GONGJIAN_BENCH_STORE=<URL of a kept schema>, or a fresh one of GONGJIAN_BENCH_EVENTS
events (default 3,000). GONGJIAN_BENCH_BLOCKS (8) blocks of GONGJIAN_BENCH_SAMPLES (40) commands.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import nullcontext
from inspect import isfunction
from types import MethodType
from typing import Any

from bench.__main__ import command, ms, project
from bench.common import emit, fresh_schema, open_container, percentile
from bench.compare import committed_models, committed_module
from bench.dataset import Generator
from projections.base import ReadModel

BLOCKS = int(os.environ.get("GONGJIAN_BENCH_BLOCKS", "8"))
SAMPLES = int(os.environ.get("GONGJIAN_BENCH_SAMPLES", "40"))
ENGINE = "projections/engine.py"


def main() -> None:
    ref, paths = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("HEAD", [])
    store = os.environ.get("GONGJIAN_BENCH_STORE")
    with nullcontext(store) if store else fresh_schema() as url:
        c = open_container(url)
        try:
            code = project(c)
            if not store:
                Generator(c.app).run(int(os.environ.get("GONGJIAN_BENCH_EVENTS", "3000")))
            c.engine.catch_up()
            after: dict[str, ReadModel] = dict(c.engine.models)
            before = dict(after)
            engine_methods: dict[str, dict[str, Any]] = {"before": {}, "after": {}}
            if ENGINE in paths:
                committed = committed_module(ref, ENGINE).ProjectionEngine
                engine_methods["before"] = {
                    k: MethodType(v, c.engine) for k, v in vars(committed).items() if isfunction(v)
                }
            for path in (p for p in paths if p != ENGINE):
                for name, cls in committed_models(ref, path).items():
                    config = getattr(after[name], "config", None)  # the ledger's settings
                    before[name] = cls(c.db, config) if config is not None else cls(c.db)  # type: ignore[call-arg]
            sides = {"before": before, "after": after}
            samples: dict[str, list[float]] = {"before": [], "after": []}
            c.engine.start()
            try:
                for block in range(BLOCKS):
                    label = ("before", "after")[block % 2]
                    c.engine.models.update(sides[label])
                    for k in engine_methods["before"]:
                        vars(c.engine).pop(k, None)  # the class's (working tree's) own
                    vars(c.engine).update(engine_methods[label])
                    for _ in range(SAMPLES):
                        position = command(c, code)
                        t0 = time.perf_counter()
                        assert c.engine.wait_for(position, timeout=10)
                        samples[label].append(time.perf_counter() - t0)
            finally:
                c.engine.stop()
                c.engine.models.update(after)
                for k in engine_methods["before"]:
                    vars(c.engine).pop(k, None)
            emit(
                "read_your_writes_ab",
                events=c.app.max_position(),
                ref=ref,
                paths=paths,
                samples=len(samples["after"]),
                **{
                    f"{label}_{p}_ms": ms(percentile(values, int(p[1:])))
                    for label, values in samples.items()
                    for p in ("p50", "p95")
                },
                target="p95 <= 20 ms",
            )
        finally:
            c.close()


if __name__ == "__main__":
    main()
