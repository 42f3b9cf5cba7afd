"""`python -m bench.rows_ab [REF]` — do the read models' rows stay the same after a change to how
they are built? Every read model rebuilt on one store by the code committed at REF (default HEAD,
unpacked with `git archive`) and by the working tree, each in its own process with the same ledger
key (signatures are deterministic), then each table's rows, as text and sorted, hashed and compared.
One JSON line per differing table, then a summary; exit status 1 when any differs. For speed work
on projections (docs/benchmarks.md, "Rebuild CPU per event, round 2"): a change must keep every row.

The store: GONGJIAN_BENCH_STORE=<URL of a kept schema> (any history: the bench dataset, the city
dump), or a fresh one of GONGJIAN_BENCH_EVENTS (20,000) events, dropped afterwards. The tracking
tables (positions, runners' heartbeats: times of the rebuild) and the events table are left out.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

from bench.common import SECRET, conninfo, emit, fresh_schema, generate, unpack
from infrastructure.db import DatabaseURL

TREE = Path(__file__).resolve().parent.parent
SKIP = {"gongjian_events", "projection_tracking", "projection_runners"}

# run by each side's code: rebuild every read model, then print each table's digest
CHILD = """
import hashlib, json, os, sys
import psycopg
from application.bootstrap import bootstrap
from infrastructure.settings import Settings
url, keys, secret, info, schema, skip = sys.argv[1:7]
settings = Settings(
    database_url=url, jwt_secret=secret, keystore_passphrase="bench-keystore-passphrase", keystore_path=keys,
    ledger_key_file=os.path.join(keys, "ledger-ed25519.pem"), archive_path=os.path.join(keys, "archives"),
)
c = bootstrap(settings, None)
try:
    c.engine.rebuild_all()
finally:
    c.close()
digests = {}
with psycopg.connect(info) as conn:
    tables = [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))]
    for table in sorted(set(tables) - set(skip.split(","))):
        rows = sorted(r[0] for r in conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t'))
        digests[table] = [len(rows), hashlib.sha256("\\n".join(rows).encode()).hexdigest()]
print("DIGESTS" + json.dumps(digests))
"""


def side(directory: Path, url: str, keys: str) -> dict[str, list[object]]:
    args = [url, keys, SECRET, conninfo(url), DatabaseURL(url).schema]
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *args, ",".join(sorted(SKIP))],
        cwd=directory,
        env={**os.environ, "PYTHONPATH": str(directory)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in reversed(out.splitlines()) if x.startswith("DIGESTS"))
    digests: dict[str, list[object]] = json.loads(line.removeprefix("DIGESTS"))
    return digests


def main() -> None:
    ref = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    store = os.environ.get("GONGJIAN_BENCH_STORE")
    with (
        tempfile.TemporaryDirectory(prefix="gongjian-bench-ref-") as head,
        tempfile.TemporaryDirectory(prefix="gongjian-rows-keys-") as keys,
        nullcontext(store) if store else fresh_schema() as url,
    ):
        from infrastructure.ledger_key import generate_key

        generate_key(Path(keys) / "ledger-ed25519.pem")  # one key for both sides
        unpack(ref, head)
        if not store:
            generate(url)
        before, after = side(Path(head), url, keys), side(TREE, url, keys)
        differing = sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))
        for table in differing:
            emit("rows_ab_table", table=table, before=before.get(table), after=after.get(table))
        rows = sum(int(str(n)) for n, _ in after.values())
        fingerprint = hashlib.sha256(json.dumps(after, sort_keys=True).encode()).hexdigest()[:16]
        emit("rows_ab", ref=ref, tables=len(after), rows=rows, differing=len(differing), digest=fingerprint)
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
