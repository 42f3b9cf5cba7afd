"""`python -m bench.spgl_import [URL] [PROJECTS]` — the SPGL import on a synthetic Haikou dump
(tests/spgl_city_dump.py: every table, planted invalid rows, corrections): rows/s of the first
import, the same dump again (nothing written), an overlapping reordered dump (all rows present),
and the export. URL defaults to a fresh PostgreSQL schema in the test database; `sqlite` for a
temporary SQLite file. Run from the repository root (the dump generator lives under tests/)."""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid

import psycopg

from application.bootstrap import bootstrap
from application.commands import Invocation
from application.commands.spgl import ImportSpglTables
from application.policy import Actor
from infrastructure.db import DatabaseURL
from infrastructure.settings import Settings
from tests.spgl_city_dump import Dump

BASE = "postgresql://postgres@127.0.0.1:5432/test"
CITY = Actor("bench-city", "integration", "460100-gongjian", "460100")


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else BASE
    projects = int(sys.argv[2]) if len(sys.argv) > 2 else 150
    schema = None
    if target == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp()}/spgl.db"
    else:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(DatabaseURL(target).conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{target}?schema={schema}"
    try:
        run(url, projects)
    finally:
        if schema:
            with psycopg.connect(DatabaseURL(target).conninfo, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run(url: str, projects: int) -> None:
    c = bootstrap(
        Settings(database_url=url, jwt_secret="bench-spgl-secret-0f3c9a7e51d2b8c4", keystore_passphrase="bench-spgl")
    )
    try:
        dump = Dump(projects=projects)
        timed = []
        for label, tables in (
            ("first", dump.tables),
            ("same_dump", dump.tables),
            ("overlapping", {t: list(reversed(rows)) for t, rows in dump.tables.items()}),
        ):
            started = time.perf_counter()
            result = c.spgl.import_tables(Invocation(CITY, f"bench-{label}"), ImportSpglTables("haikou", tables))
            seconds = time.perf_counter() - started
            # the same dump again answers the first import's record: it wrote nothing itself
            counts = result.counts.values()
            written = 0 if result.unchanged else sum(v["imported"] + v["corrected"] + v["invalidated"] for v in counts)
            timed.append((label, seconds, written, result.rejected))
        started = time.perf_counter()
        exported = c.spgl.export(CITY)
        export_s = time.perf_counter() - started
        store = url.split(":", 1)[0]
        for label, seconds, written, rejected in timed:
            line = {
                "figure": "spgl_import",
                "store": store,
                "dump": label,
                "rows": dump.rows,
                "seconds": round(seconds, 3),
            }
            line |= {"rows_per_s": round(dump.rows / seconds), "written": written, "rejected": rejected}
            print(json.dumps(line))
        rows = sum(map(len, exported.values()))
        print(json.dumps({"figure": "spgl_export", "store": store, "rows": rows, "seconds": round(export_s, 3)}))
    finally:
        c.close()


if __name__ == "__main__":
    main()
