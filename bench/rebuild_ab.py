"""`python -m bench.rebuild_ab [REF]` — the rebuild of every read model before and after: the code as
committed at REF (default HEAD, unpacked with `git archive` into a temporary directory) and the
working tree, each `python -m bench.rebuild --breakdown` (this tree's script on that side's modules:
one process, a rebuild of every read model timed part by part) in turn on one store,
GONGJIAN_BENCH_ROUNDS (3) rounds, so that both see the same load on this shared machine. One JSON
line per side and round (events/s, this process's CPU seconds), then per part (the log's read and
decoding, each read model, the closing VACUUM) the medians of µs per event of each side, and the
medians of the whole and their ratios.
Engine, read models, recorder and decoding all change sides together (`bench.compare` swaps read
model classes only).

The store: GONGJIAN_BENCH_STORE=<URL of a kept schema>, or a fresh one of GONGJIAN_BENCH_EVENTS
(20,000) events, dropped afterwards.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from bench.common import emit, fresh_schema, generate, unpack

TREE = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("GONGJIAN_BENCH_ROUNDS", "3"))


def side(directory: Path, url: str) -> list[dict[str, Any]]:
    """A rebuild of every read model by the code of `directory` (this tree's bench/rebuild.py, that
    code's modules), then one timed per read model (`--breakdown`): their JSON lines."""
    run = (
        "import sys, runpy; sys.argv = ['bench.rebuild', '--breakdown'];"
        f" runpy.run_path({str(TREE / 'bench' / 'rebuild.py')!r}, run_name='__main__')"
    )
    out = subprocess.run(
        [sys.executable, "-c", run],
        cwd=directory,
        env={**os.environ, "PYTHONPATH": str(directory), "GONGJIAN_BENCH_STORE": url, "GONGJIAN_BENCH_ROUNDS": "1"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main() -> None:
    ref = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    store = os.environ.get("GONGJIAN_BENCH_STORE")
    with (
        tempfile.TemporaryDirectory(prefix="gongjian-bench-ref-") as head,
        nullcontext(store) if store else fresh_schema() as url,
    ):
        unpack(ref, head)
        if not store:
            generate(url)
        rates: dict[str, list[float]] = {"before": [], "after": []}
        cpu: dict[str, list[float]] = {"before": [], "after": []}
        costs: dict[str, dict[str, list[float]]] = {}  # name → side → CPU µs per event
        walls: dict[str, dict[str, list[float]]] = {}
        events = 0
        for r in range(ROUNDS):
            for label, directory in (("before", Path(head)), ("after", TREE)):
                lines = side(directory, url)
                for cost in (x for x in lines if x["figure"] == "rebuild_cost"):
                    costs.setdefault(cost["name"], {}).setdefault(label, []).append(cost["cpu_us_per_event"])
                    walls.setdefault(cost["name"], {}).setdefault(label, []).append(cost["wall_us_per_event"])
                for cost in (x for x in lines if x["figure"] == "rebuild_cost"):  # (a round's parts, as they come)
                    emit(
                        "rebuild_ab_cost_round", round=r, side=label, **{k: v for k, v in cost.items() if k != "figure"}
                    )
                line = next(x for x in lines if x["figure"] == "rebuild")
                events = line["events"]
                rates[label].append(line["events_per_s"])
                cpu[label].append(line["cpu_s_here"])
                emit(
                    "rebuild_ab_round",
                    round=r,
                    side=label,
                    ref=ref if label == "before" else "tree",
                    **{k: v for k, v in line.items() if k != "figure"},
                )
        for name, by_side in costs.items():
            emit(
                "rebuild_ab_cost",
                name=name,
                **{f"{k}_cpu_us_per_event": round(statistics.median(v), 1) for k, v in by_side.items()},
                **{f"{k}_wall_us_per_event": round(statistics.median(v), 1) for k, v in walls[name].items()},
            )
        rate = {k: statistics.median(v) for k, v in rates.items()}
        us = {k: statistics.median(v) * 1e6 / events for k, v in cpu.items()}
        emit(
            "rebuild_ab",
            ref=ref,
            events=events,
            rounds=ROUNDS,
            before_events_per_s=round(rate["before"]),
            after_events_per_s=round(rate["after"]),
            ratio=round(rate["after"] / rate["before"], 2),
            before_cpu_us_per_event=round(us["before"], 1),
            after_cpu_us_per_event=round(us["after"], 1),
            cpu_ratio=round(us["before"] / us["after"], 2),
        )


if __name__ == "__main__":
    main()
