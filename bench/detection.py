"""`python -m bench.detection [sqlite|postgresql] [ROWS]` — the SPGL import of the labelled city dump
(tests/city_dump: nightly batches and certificates, about ROWS rows, default 13,000) with the
off-system warnings caught up, as a ratio to the import alone (target: at most twice).

Both runs feed the same deliveries through the application services on a fresh store each:
- `import_only`: every batch and certificate, nothing read;
- `warnings_at_end`: the same, then `offline_warnings` caught up from zero (a nightly job);
- `warnings_following`: the same, `offline_warnings` caught up after every delivery (the live
  engine following the log).
PostgreSQL: a fresh schema of GONGJIAN_BENCH_DATABASE_URL. The figure also gives the warnings
model's events/s and the recall and precision it reached."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from application.bootstrap import Container
from bench.common import emit, fresh_schema, open_container
from projections.offline_warnings import OfflineWarnings
from tests.city_dump import build
from tests.city_dump.model import Dump
from tests.city_dump.run import clock, feed, open_warnings, score

WARNINGS = OfflineWarnings.name
ROWS_PER_PROJECT = 52  # about, at the generator's mix (fixed part: planted and look-alike projects)


@contextmanager
def store(target: str) -> Iterator[str]:
    if target == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/detection.db"
    else:
        with fresh_schema("bench_detection") as url:
            yield url


def sized(rows: int) -> Dump:
    """The smallest dump (in clean projects) with at least `rows` rows."""
    projects = max(10, (rows - 4_600) // ROWS_PER_PROJECT)
    while True:
        d = build(projects)
        if len(d.rows) >= rows:
            return d
        projects += max(5, (rows - len(d.rows)) // ROWS_PER_PROJECT)


def timed(target: str, d: Dump, follow: Callable[[Container], Any] | None, end: bool) -> dict[str, Any]:
    with store(target) as url:
        clk = clock()
        c = open_container(url, clk)
        try:
            started = time.perf_counter()
            feed(c, clk, d, catch_up=False, after_each=follow)
            imported = time.perf_counter() - started
            caught = c.engine.catch_up([WARNINGS]) if end else 0
            seconds = time.perf_counter() - started
            result = {"seconds": seconds, "import_s": imported, "events": c.app.max_position()}
            if end:
                result |= {"caught_up_events": caught, "catch_up_s": seconds - imported}
                s = score(d, open_warnings(c))
                result |= {"recall": s.recall, "precision": s.precision}
            return result
        finally:
            c.close()


def main() -> None:
    run(sys.argv[1] if len(sys.argv) > 1 else "postgresql", int(sys.argv[2]) if len(sys.argv) > 2 else 13_000)


def run(target: str, rows: int) -> None:
    """`target`: "sqlite", or anything else for a fresh schema of GONGJIAN_BENCH_DATABASE_URL."""
    d = sized(rows)
    kind = "sqlite" if target == "sqlite" else "postgresql"
    base = timed(target, d, None, end=False)
    at_end = timed(target, d, None, end=True)
    following = timed(target, d, lambda c: c.engine.catch_up([WARNINGS]), end=True)
    common = {"store": kind, "rows": len(d.rows), "certificates": len(d.certificates), "events": base["events"]}
    # the import alone was timed twice (alone, and as the first phase of warnings_at_end): the
    # faster one is the baseline, so that load from others on a shared machine does not flatter the ratio
    baseline = min(base["seconds"], at_end["import_s"])
    emit("detection_import", **common, import_s=round(base["seconds"], 2), import_again_s=round(at_end["import_s"], 2),
         rows_per_s=round(len(d.rows) / baseline))  # fmt: skip
    for label, r in (("warnings_at_end", at_end), ("warnings_following", following)):
        seconds = baseline + r["catch_up_s"] if label == "warnings_at_end" else r["seconds"]
        emit(
            "detection_import_with_warnings", **common, mode=label, seconds=round(seconds, 2),
            baseline_import_s=round(baseline, 2), ratio=round(seconds / baseline, 2),
            target_ratio=2.0, warnings_catch_up_s=round(r["catch_up_s"], 2),
            warnings_events_per_s=round(r["events"] / max(r["catch_up_s"], 1e-9)) if label == "warnings_at_end" else None,
            recall=r["recall"], precision=r["precision"],
        )  # fmt: skip


if __name__ == "__main__":
    main()
