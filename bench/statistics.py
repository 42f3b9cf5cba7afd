"""`python -m bench.statistics [REF]` — the statistics query before and after in one process:
`compute_statistics` as committed at REF (default HEAD) against the working tree's, on one store,
in alternating blocks, both bare and through GraphQL (the resolver's function swapped per block).
One JSON line per block and a summary of the medians of the per-block p50/p95 and their ratio.

The store: GONGJIAN_BENCH_STORE=<URL of a kept schema>, or a fresh one of GONGJIAN_BENCH_EVENTS
events. GONGJIAN_BENCH_ROUNDS (3) rounds of GONGJIAN_BENCH_SAMPLES (100) calls per block.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import statistics as stats
import sys
from collections.abc import Callable
from datetime import date
from typing import Any

import interfaces.graphql.statistics as resolver
from application import statistics as current
from bench.__main__ import STATISTICS, SUPERVISOR, ms, timings
from bench.common import emit, filled_store, percentile
from bench.compare import committed_module
from interfaces.graphql.context import Context
from interfaces.graphql.schema import schema

ROUNDS = int(os.environ.get("GONGJIAN_BENCH_ROUNDS", "3"))
SAMPLES = int(os.environ.get("GONGJIAN_BENCH_SAMPLES", "100"))


def main() -> None:
    ref = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    before = committed_module(ref, "application/statistics.py")
    with filled_store() as c:
        c.engine.catch_up()
        n = c.app.max_position()
        today = c.clock.now().date()
        cases = c.db.query(
            "SELECT COUNT(*) AS n, COUNT(stop_overdue) AS stored,"
            " SUM(CASE WHEN stopped_on IS NULL OR stopped_on > ? THEN 1 ELSE 0 END) AS open_today FROM cases",
            (today.isoformat(),),
        )[0]
        emit("statistics_store", events=n, today=today, **cases)
        check(before, c, today)
        loop = asyncio.new_event_loop()

        def graphql() -> None:
            result = loop.run_until_complete(schema.execute(STATISTICS, context_value=Context(c, SUPERVISOR)))
            assert result.errors is None, result.errors

        versions = {"before": before, "after": current}
        ways: dict[str, Callable[[Any], Callable[[], Any]]] = {
            "bare": lambda m: (
                lambda: m.compute_statistics(_source(m, c), m.GroupBy.REGION, m.StatisticsFilter(), today)
            ),
            "graphql": lambda m: graphql,
        }
        p50: dict[tuple[str, str], list[float]] = {}
        p95: dict[tuple[str, str], list[float]] = {}
        for r in range(ROUNDS):
            for label, module in versions.items():
                resolver.compute_statistics = module.compute_statistics  # type: ignore[attr-defined]
                for way, make in ways.items():
                    fn = make(module)
                    fn()  # warm: the clock caches
                    t = timings(fn, SAMPLES)
                    p50.setdefault((way, label), []).append(ms(percentile(t, 50)))
                    p95.setdefault((way, label), []).append(ms(percentile(t, 95)))
                    emit("statistics_block", round=r + 1, way=way, version=label, p50_ms=p50[way, label][-1],
                         p95_ms=p95[way, label][-1])  # fmt: skip
        resolver.compute_statistics = current.compute_statistics  # type: ignore[attr-defined]
        loop.close()
        for way in ways:
            b50, a50 = stats.median(p50[way, "before"]), stats.median(p50[way, "after"])
            b95, a95 = stats.median(p95[way, "before"]), stats.median(p95[way, "after"])
            emit(
                "statistics_ab",
                way=way,
                events=n,
                ref=ref,
                before_p50_ms=p50[way, "before"],
                after_p50_ms=p50[way, "after"],
                before_p95_ms=p95[way, "before"],
                after_p95_ms=p95[way, "after"],
                median_before_p95_ms=b95,
                median_after_p95_ms=a95,
                ratio_p50=round(b50 / a50, 2),
                ratio_p95=round(b95 / a95, 2),
            )


def check(before: Any, c: Any, today: date) -> None:
    """Both versions give the same figures on this store (every grouping), or nothing is measured."""
    for group_by in current.GroupBy:
        old = before.compute_statistics(
            _source(before, c), before.GroupBy(group_by.value), before.StatisticsFilter(), today
        )
        new = current.compute_statistics(c.figures, group_by, current.StatisticsFilter(), today)
        assert [_public(g) for g in old] == [_public(g) for g in new], group_by


def _source(m: Any, c: Any) -> Any:
    """What a version's `compute_statistics` reads: the port (issue 19), or before it the database."""
    first = next(iter(inspect.signature(m.compute_statistics).parameters))
    return c.figures if first == "figures" else c.db


def _public(g: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(g).items() if not k.startswith("_")}


if __name__ == "__main__":
    main()
