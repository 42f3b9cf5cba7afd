"""`python -m bench.ledger` — the ledger's costs on the demo log (a few thousand events).

1. verification vs plain hashing: `audit verify` (recompute every leaf, chain and root, compare with
   the held leaves and checkpoints) against plain SHA-256 of the same leaf bytes, both over events
   already in memory (compute only), and end to end from the store (reading included);
2. projection: rebuilding the ledger read model from zero, in events/s.
Store: GONGJIAN_BENCH_DATABASE_URL (default: a temporary SQLite file); GONGJIAN_BENCH_PROJECTS (60).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time

from application.bootstrap import bootstrap
from application.demo import demo_clock, load_demo
from application.ledger import StoredEvent, _Verifier, stored_events, verify_store
from domain.ledger import leaf_data
from infrastructure.settings import Settings
from projections.ledger import Ledger, checkpoint_of

PROJECTS = int(os.environ.get("GONGJIAN_BENCH_PROJECTS", "60"))


def best(fn: object, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


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
        rebuild = best(lambda: c.engine.rebuild("ledger"), repeat=2)
        events: list[StoredEvent] = list(stored_events(c.app))
        leaves = list(ledger.leaves())
        checkpoints = [checkpoint_of(r) for r in ledger.checkpoint_rows()]
        key = bytes.fromhex(ledger.checkpoint_rows()[0]["public_key"]) if checkpoints else None
        blobs = [leaf_data(e.position, e.originator_id, e.originator_version, e.topic, e.state) for e in events]
        size = sum(map(len, blobs))
        plain = best(lambda: [hashlib.sha256(b).digest() for b in blobs])
        plain_sm3 = best(lambda: [hashlib.new("sm3", b).digest() for b in blobs])
        algorithm = ledger.algorithm()
        verify = best(lambda: _Verifier(algorithm, checkpoints, key).run(events, leaves))
        unsigned = [checkpoint_of({**r, "signature": None}) for r in ledger.checkpoint_rows()]
        hashing = best(lambda: _Verifier(algorithm, unsigned, None).run(events, leaves))
        end_to_end = best(lambda: verify_store(c.app, ledger), repeat=3)
        read_plain = best(lambda: [hashlib.sha256(e.state).digest() for e in stored_events(c.app)], repeat=3)
        print(f"store {url.split('?')[0]}: {n} events, {size / 1e6:.1f} MB of leaf data, algorithm {algorithm}")
        print(f"plain SHA-256 of the leaf bytes    {plain * 1e3:8.1f} ms")
        print(f"plain SM3 of the leaf bytes        {plain_sm3 * 1e3:8.1f} ms")
        print(
            f"verification (in memory)           {verify * 1e3:8.1f} ms  speed ratio vs plain SHA-256 {plain / verify:.2f}, vs plain SM3 {plain_sm3 / verify:.2f}"
        )
        print(
            f"  of which hashing, chains, roots  {hashing * 1e3:8.1f} ms  speed ratio vs plain SHA-256 {plain / hashing:.2f}, vs plain SM3 {plain_sm3 / hashing:.2f}"
        )
        print(f"  and {len(checkpoints)} Ed25519 checkpoint signatures checked")
        print(f"read + plain SHA-256 from store    {read_plain * 1e3:8.1f} ms")
        print(
            f"audit verify (store, end to end)   {end_to_end * 1e3:8.1f} ms  speed ratio {read_plain / end_to_end:.2f}"
        )
        print(f"ledger projection rebuild          {rebuild * 1e3:8.1f} ms  {n / rebuild:,.0f} events/s")
    finally:
        c.close()


if __name__ == "__main__":
    main()
