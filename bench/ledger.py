"""`python -m bench.ledger` — the ledger's costs on the demo log (a few thousand events).

1. in memory (compute only, the event pages and leaf rows already read): `audit verify`'s hashing,
   chains, leaf comparison, tree and every signed root compared (`_Verifier` with the checkpoints'
   signatures left out), then with the Ed25519 signatures checked too — against plain hashing (the
   ledger's algorithm, the same OpenSSL SM3 through hashlib, one digest per event) of the same leaf
   bytes, called the fastest way we know (`plain`: as the verifier does, a state made once and copied
   per event; `hashlib.new` per event, the baseline of before, is shown too and is ≈ 20 % slower);
2. end to end: `verify_store` on the store (reading included, every signature checked; also shown
   without the time of the signature checks, which `Report.signature_seconds` gives) — against
   reading the same events from the store with the same query (`stored_pages`: one query per 5,000
   rows, tuples) and hashing their stored bytes plainly (`plain` again);
3. projection: rebuilding the ledger read model from zero, in events/s.
The demo's events are hours apart in simulated time, so the default cadence (a checkpoint 60 s
after the last one, or every 1000 events) signs almost every size: ≈ 0.8 signed roots to recompute
per event, each ≈ 5 node hashes. The per-event work alone is shown too (only the last signed root
compared); GONGJIAN_LEDGER_CHECKPOINT_SECONDS=3600 (the setting) cuts one an hour, as before.
The count of SM3 calls is printed too: one per leaf, one per node of the tree (n - popcount(n)), and
popcount(s) - 1 per signed size s (its root, folded from the tree's right edge at s; no other size
shares these nodes): each node hash is two SM3 blocks and a call, which bounds the ratio.
Each pair is timed alternately, best of N (GONGJIAN_BENCH_ROUNDS, 25 in memory, a third of it end
to end), so that both sides see the same load on a shared machine: compare the ratios, not the ms.
Store: GONGJIAN_BENCH_DATABASE_URL (default: a temporary SQLite file); GONGJIAN_BENCH_PROJECTS (60).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from itertools import repeat
from typing import Any

from application.bootstrap import bootstrap
from application.ledger import Report, _Verifier, ledger_leaf_rows, signed_checkpoints, stored_pages, verify_store
from demo import demo_clock, load_demo
from domain.ledger import leaf_data
from infrastructure.settings import Settings
from projections.ledger import Ledger

PROJECTS = int(os.environ.get("GONGJIAN_BENCH_PROJECTS", "60"))
ROUNDS = int(os.environ.get("GONGJIAN_BENCH_ROUNDS", "25"))


Run = tuple[float, float, Any]  # wall seconds, this thread's CPU seconds, the result


def timed(fn: Callable[[], Any]) -> Run:
    started, cpu = time.perf_counter(), time.thread_time()
    result = fn()
    return time.perf_counter() - started, time.thread_time() - cpu, result


def alternate(rounds: int, *fns: Callable[[], Any]) -> list[list[Run]]:
    """Each function once per round, in turn; every (wall, CPU, result) by function."""
    runs: list[list[Run]] = [[] for _ in fns]
    for _ in range(rounds):
        for fn, times in zip(fns, runs, strict=True):
            times.append(timed(fn))
    return runs


def best(runs: list[Run]) -> float:
    return min(wall for wall, _, _ in runs)


def best_cpu(runs: list[Run]) -> float:
    return min(cpu for _, cpu, _ in runs)


def plain(algorithm: str) -> Callable[[Iterable[bytes]], list[bytes]]:
    """Plain hashing, one digest per message, the fastest way through hashlib (measured against
    `hashlib.new(algorithm, m).digest()` per message and a Python loop over copies): an empty state
    made once, copied per message, every call driven by `map` (no name look-up, no digest fetched per
    call). The verifier's leaves use the same copied state, so the baseline gets the same help."""
    empty = hashlib.new(algorithm)
    kind = type(empty)
    copy, update, digest = kind.copy, kind.update, kind.digest

    def run(messages: Iterable[bytes]) -> list[bytes]:
        data = list(messages)
        states = list(map(copy, repeat(empty, len(data))))
        for _ in map(update, states, data):
            pass
        return list(map(digest, states))

    return run


def node_hashes(n: int, sizes: Iterable[int]) -> tuple[int, int]:
    """SM3 node hashes of the tree of n leaves (each complete subtree once) and of the signed roots
    at `sizes` (popcount(s) - 1 each, from the right edge at s)."""
    return n - n.bit_count(), sum(s.bit_count() - 1 for s in sizes if s <= n)


def line(label: str, runs: list[Run], base: list[Run] | None = None, signatures: bool = True) -> str:
    """ms (wall, best), and the ratio to `base` by wall time and by CPU time (SQLite runs in this
    thread, so its CPU time hardly depends on the load of the machine); `signatures=False`: each
    run's time of the signature checks (`Report.signature_seconds`, `signature_cpu_seconds`) left out."""
    wall = min(w - (0 if signatures else r.signature_seconds) for w, _, r in runs)
    text = f"{label:<46}{wall * 1e3:8.1f} ms"
    if base is not None:
        cpu = min(c - (0 if signatures else r.signature_cpu_seconds) for _, c, r in runs)
        text += f"  ratio {best(base) / wall:.2f} (CPU {best_cpu(base) / cpu:.2f})"
    return text


def main() -> None:
    url = os.environ.get("GONGJIAN_BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    clock = demo_clock()
    # a scratch store: development mode generates the ledger key beside it, so checkpoints are signed
    c = bootstrap(Settings(database_url=url, development=True), clock)
    try:
        load_demo(c, clock, projects=PROJECTS, progress=False)
        c.engine.catch_up()
        ledger = c.engine.models["ledger"]
        assert isinstance(ledger, Ledger)
        n = c.app.max_position()
        rebuild = best(alternate(2, lambda: c.engine.rebuild("ledger"))[0])
        pages = list(stored_pages(ledger.db))
        leaves = list(ledger_leaf_rows(ledger.db))
        checkpoints, keys = signed_checkpoints(ledger.db)
        unsigned = [replace(cp, signature=None) for cp in checkpoints]
        key = bytes.fromhex(next(iter(keys))) if keys else None
        algorithm = ledger.algorithm()
        blobs = [leaf_data(*e) for rows in pages for e in rows]
        size = sum(map(len, blobs))
        assert _Verifier(algorithm, checkpoints, key).run_pages(pages, leaves).ok

        hashes = plain(algorithm)
        assert hashes(blobs[:3]) == [hashlib.new(algorithm, b).digest() for b in blobs[:3]]
        plain_new, plain_runs, per_event, hashing, verify = alternate(
            ROUNDS,
            lambda: [hashlib.new(algorithm, b).digest() for b in blobs],
            lambda: hashes(blobs),
            lambda: _Verifier(algorithm, unsigned[-1:], None).run_pages(pages, leaves),
            lambda: _Verifier(algorithm, unsigned, None).run_pages(pages, leaves),
            lambda: _Verifier(algorithm, checkpoints, key).run_pages(pages, leaves),
        )
        read_new, read_plain, end_to_end = alternate(
            max(3, ROUNDS // 3),
            lambda: [hashlib.new(algorithm, e[4]).digest() for rows in stored_pages(ledger.db) for e in rows],
            lambda: [d for rows in stored_pages(ledger.db) for d in hashes([e[4] for e in rows])],
            lambda: verify_store(c.app, ledger),
        )
        tree_nodes, root_nodes = node_hashes(n, (cp.tree_size for cp in checkpoints))
        report: Report = end_to_end[0][2]
        assert report.ok, report.summary()
        print(f"store {url.split('?')[0]}: {n} events, {size / 1e6:.1f} MB of leaf data, algorithm {algorithm},")
        print(
            f"{len(checkpoints)} checkpoints ({report.signatures_verified} Ed25519 signatures checked);"
            f" best of {ROUNDS} in memory, {max(3, ROUNDS // 3)} end to end"
        )
        print(
            f"{algorithm} calls: {len(blobs)} leaves, {tree_nodes} tree nodes,"
            f" {root_nodes} nodes of the {len(checkpoints)} signed roots"
        )
        print(line(f"in memory  plain {algorithm}, hashlib.new per event", plain_new))
        print(line(f"           plain {algorithm} of the leaf bytes", plain_runs))
        print(line("           leaves, chains, tree, the last root", per_event, plain_runs))
        print(line("           hashing, chains, tree, signed roots", hashing, plain_runs))
        print(line("           the same + Ed25519 signatures", verify, plain_runs))
        print(line(f"end to end read + {algorithm}, hashlib.new per event", read_new))
        print(line(f"           read + plain {algorithm} from the store", read_plain))
        print(line("           verify_store", end_to_end, read_plain))
        print(line("           verify_store without the signatures", end_to_end, read_plain, signatures=False))
        print(f"ledger projection rebuild                        {rebuild * 1e3:8.1f} ms  {n / rebuild:,.0f} events/s")
    finally:
        c.close()


if __name__ == "__main__":
    main()
