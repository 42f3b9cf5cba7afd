"""`python -m bench.ledger` — the ledger's costs on the demo log (a few thousand events).

1. in memory (compute only, the events and leaves already read): `audit verify`'s hashing, chains,
   tree and every signed root compared (`_Verifier` with the checkpoints' signatures left out), then
   with the Ed25519 signatures checked too — against plain hashing (the ledger's algorithm, one
   OpenSSL call per event) of the same leaf bytes;
2. end to end: `verify_store` on the store (reading included, every signature checked; also shown
   without the time of the signature checks, which `Report.signature_seconds` gives) — against
   reading the same events from the store with the same query (`stored_rows`) and hashing their
   stored bytes plainly;
3. projection: rebuilding the ledger read model from zero, in events/s.
The demo's events are hours apart in simulated time, so the default cadence (a checkpoint 60 s
after the last one, or every 1000 events) signs almost every size: ≈ 0.8 signed roots to recompute
per event, each ≈ 5 node hashes. The per-event work alone is shown too (only the last signed root
compared); GONGJIAN_LEDGER_CHECKPOINT_SECONDS=3600 (the setting) cuts one an hour, as before.
Each pair is timed alternately, best of N (GONGJIAN_BENCH_ROUNDS, 25 in memory, a third of it end
to end), so that both sides see the same load on a shared machine: compare the ratios, not the ms.
Store: GONGJIAN_BENCH_DATABASE_URL (default: a temporary SQLite file); GONGJIAN_BENCH_PROJECTS (60).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

from application.bootstrap import bootstrap
from application.demo import demo_clock, load_demo
from application.ledger import Report, StoredEvent, _Verifier, stored_rows, verify_store
from domain.ledger import leaf_data
from infrastructure.settings import Settings
from projections.ledger import Ledger, checkpoint_of

PROJECTS = int(os.environ.get("GONGJIAN_BENCH_PROJECTS", "60"))
ROUNDS = int(os.environ.get("GONGJIAN_BENCH_ROUNDS", "25"))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def alternate(rounds: int, *fns: Callable[[], Any]) -> list[list[tuple[float, Any]]]:
    """Each function once per round, in turn; every (seconds, result) by function."""
    runs: list[list[tuple[float, Any]]] = [[] for _ in fns]
    for _ in range(rounds):
        for fn, times in zip(fns, runs, strict=True):
            times.append(timed(fn))
    return runs


def best(runs: list[tuple[float, Any]]) -> float:
    return min(seconds for seconds, _ in runs)


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
        events: list[StoredEvent] = list(stored_rows(ledger.db))
        leaves = list(ledger.leaves())
        rows = ledger.checkpoint_rows()
        checkpoints = [checkpoint_of(r) for r in rows]
        unsigned = [checkpoint_of({**r, "signature": None}) for r in rows]
        key = bytes.fromhex(rows[0]["public_key"]) if rows and rows[0].get("public_key") else None
        algorithm = ledger.algorithm()
        blobs = [leaf_data(e.position, e.originator_id, e.originator_version, e.topic, e.state) for e in events]
        size = sum(map(len, blobs))
        assert _Verifier(algorithm, checkpoints, key).run(events, leaves).ok

        plain, per_event, hashing, verify = alternate(
            ROUNDS,
            lambda: [hashlib.new(algorithm, b).digest() for b in blobs],
            lambda: _Verifier(algorithm, unsigned[-1:], None).run(events, leaves),
            lambda: _Verifier(algorithm, unsigned, None).run(events, leaves),
            lambda: _Verifier(algorithm, checkpoints, key).run(events, leaves),
        )
        read_plain, end_to_end = alternate(
            max(3, ROUNDS // 3),
            lambda: [hashlib.new(algorithm, e.state).digest() for e in stored_rows(ledger.db)],
            lambda: verify_store(c.app, ledger),
        )
        report: Report = end_to_end[0][1]
        assert report.ok, report.summary()
        without_signatures = min(seconds - r.signature_seconds for seconds, r in end_to_end)
        p, o, h, v = best(plain), best(per_event), best(hashing), best(verify)
        rp, e2e = best(read_plain), best(end_to_end)
        print(f"store {url.split('?')[0]}: {n} events, {size / 1e6:.1f} MB of leaf data, algorithm {algorithm},")
        print(
            f"{len(checkpoints)} checkpoints ({report.signatures_verified} Ed25519 signatures checked);"
            f" best of {ROUNDS} in memory, {max(3, ROUNDS // 3)} end to end"
        )
        print(f"in memory  plain {algorithm} of the leaf bytes           {p * 1e3:8.1f} ms")
        print(f"           leaves, chains, tree, the last root   {o * 1e3:8.1f} ms  ratio {p / o:.2f}")
        print(f"           hashing, chains, tree, signed roots   {h * 1e3:8.1f} ms  ratio {p / h:.2f}")
        print(f"           the same + Ed25519 signatures         {v * 1e3:8.1f} ms  ratio {p / v:.2f}")
        print(f"end to end read + plain {algorithm} from the store       {rp * 1e3:8.1f} ms")
        print(f"           verify_store                          {e2e * 1e3:8.1f} ms  ratio {rp / e2e:.2f}")
        print(
            f"           verify_store without the signatures   {without_signatures * 1e3:8.1f} ms"
            f"  ratio {rp / without_signatures:.2f}"
        )
        print(f"ledger projection rebuild                        {rebuild * 1e3:8.1f} ms  {n / rebuild:,.0f} events/s")
    finally:
        c.close()


if __name__ == "__main__":
    main()
