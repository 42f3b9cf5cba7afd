"""`make bench` — the benchmark suite: every figure one JSON line, with its baseline measured in the
same run on the same machine and database (docs/benchmarks.md explains each and holds the latest).

Figures, in the order they run, on a fresh PostgreSQL schema (GONGJIAN_BENCH_DATABASE_URL, default
the test database), dropped afterwards:

1. `append`: commands through the application services (submit + accept a case: one atomic save
   each) vs raw psycopg inserts of the same stored rows, one commit per save (same durability),
   alternating in blocks so that both see the same load.
2. `bulk_import`: the dataset generator's saves (bench/dataset.py: GONGJIAN_BENCH_EVENTS events,
   domain aggregates saved through the recorder) vs COPY of the same rows into a plain table.
3. `rebuild`: every read model from zero, events/s, as `gongjian projections rebuild --all` runs it
   (a process per core: GONGJIAN_BENCH_WORKERS, default the CPU count) and in one process
   (GONGJIAN_BENCH_ONE_PROCESS=0 skips that), vs a raw scan of the events table and vs the library's
   `ProjectionRunner` (one transaction per event) on the same events; `rebuild_model`: each read
   model alone.
4. `graphql`: p50/p95/p99 of the dashboard, audit-trail, warnings and statistics queries
   (schema.execute, no HTTP) vs the read-model calls that run the same SQL.
5. `ledger_verify`: `audit verify` of the store vs plain hashing of the same leaf bytes.
6. `read_your_writes`: command commit → visible, p50/p95: the engine in this process, the engine in
   another process (woken by NOTIFY), vs the library runner's `wait()`.
7. `rebuild_memory`: peak RSS of a rebuild of every read model in a separate process, at N and 2N
   events.
8. `detection_import`: the SPGL import of the labelled city dump (bench/detection.py,
   GONGJIAN_BENCH_DETECTION_ROWS rows, default 13,000; 0 skips it) with the off-system warnings
   caught up, as a ratio to the import alone, on fresh schemas of its own.
"""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

from application.bootstrap import Container
from application.commands import Invocation
from application.commands.cases import AcceptCase, SubmitCase
from application.commands.projects import GenerateProject
from application.ledger import _Verifier, ledger_leaf_rows, stored_pages, verify_store
from application.policy import Actor
from application.statistics import GroupBy, StatisticsFilter, compute_statistics
from bench import detection
from bench.common import RAW_EVENTS_DDL, SECRET, conninfo, emit, fresh_schema, open_container, percentile
from bench.dataset import Generator
from bench.ledger import plain as plain_hashes
from domain.ledger import leaf_data
from domain.ledger.checkpoint import checkpoint_of
from infrastructure.store import eventsourcing_env
from interfaces.graphql.context import Context
from interfaces.graphql.schema import schema
from projections.duplicates import Duplicates
from projections.ledger import Ledger

EVENTS = int(os.environ.get("GONGJIAN_BENCH_EVENTS", "20000"))
COMMANDS = int(os.environ.get("GONGJIAN_BENCH_COMMANDS", "300"))
SAMPLES = int(os.environ.get("GONGJIAN_BENCH_SAMPLES", "100"))
LIBRARY_SECONDS = float(os.environ.get("GONGJIAN_BENCH_LIBRARY_SECONDS", "30"))
# each read model rebuilt alone: 17 more rebuilds, most of the time of a 1M-event run
PER_MODEL = os.environ.get("GONGJIAN_BENCH_PER_MODEL", "1") != "0"
# the rebuild as the CLI runs it (`projections rebuild --all`: a process per core), and in one process
WORKERS = int(os.environ.get("GONGJIAN_BENCH_WORKERS") or os.cpu_count() or 1)
ONE_PROCESS = os.environ.get("GONGJIAN_BENCH_ONE_PROCESS", "1") != "0"
DETECTION_ROWS = int(os.environ.get("GONGJIAN_BENCH_DETECTION_ROWS", "13000"))
CLERK = Actor("bench-clerk", "window_clerk", "bench", "460000")
SUPERVISOR = Actor("bench-supervisor", "supervisor", "460000-yshj", "460000")
OWNER = "91460000MA5T0P3X64"


def main() -> None:
    with psycopg.connect(conninfo(), autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()
    emit(
        "machine",
        nproc=os.cpu_count(),
        postgresql=version[0] if version else None,
        python=platform.python_version(),
        events=EVENTS,
    )
    with fresh_schema() as url:
        c = open_container(url)
        try:
            code = project(c)
            append(c, url, code)
            generator = Generator(c.app)
            bulk_import(c, url, generator)
            rebuild(c, url)
            graphql(c)
            ledger_verify(c)
            read_your_writes(c, url, code)
            rebuild_memory(c, url, generator)
        finally:
            c.close()
    if DETECTION_ROWS:
        detection.run("postgresql", DETECTION_ROWS)


# --- 1. appends ------------------------------------------------------------------------------


def project(c: Container) -> str:
    code = "2611-460100-04-01-000001"
    c.projects.generate(
        Invocation(CLERK, "bench"),
        GenerateProject(
            code=code,
            name="基准测试项目",
            owner_name="基准公司",
            owner_uscc=OWNER,
            region_code="460106",
            flow_type=3,
            investment_type="enterprise",
            category="房屋建筑",
            total_investment=Decimal(1),
            planned_start=date(2026, 1, 1),
            planned_end=date(2027, 1, 1),
            red_line=None,
        ),
    )
    return code


def command(c: Container, code: str) -> int:
    """Submit and accept a case: two commands, two atomic saves; returns the last position."""
    case_id = c.cases.submit(
        Invocation(CLERK, f"bench-{uuid.uuid4()}"),
        SubmitCase(project_code=code, item_code="GJ-1-02"),
    ).id
    return int(c.cases.act(Invocation(CLERK, f"bench-{uuid.uuid4()}"), AcceptCase(case_id)).position)


def append(c: Container, url: str, code: str, rounds: int = 10) -> None:
    """Commands and raw inserts alternate in `rounds` blocks, so both see the same load on this
    shared machine; the raw inserts replay the rows the commands stored (fresh ids)."""
    block = max(1, COMMANDS // rounds)
    app_s = raw_s = 0.0
    saves = stored = 0
    with psycopg.connect(conninfo(), options=f"-c search_path={schema_of(url)}") as conn:
        conn.execute(RAW_EVENTS_DDL)
        conn.commit()
        for _ in range(rounds):
            start = c.app.max_position()
            t0 = time.perf_counter()
            for _ in range(block):
                command(c, code)
            app_s += time.perf_counter() - t0
            rows = conn.execute(
                "SELECT originator_id, originator_version, topic, state FROM gongjian_events"
                " WHERE notification_id > %s ORDER BY notification_id",
                (start,),
            ).fetchall()
            conn.commit()
            per_save = len(rows) / (2 * block)  # 1 event per save here; the same rows split evenly
            batches = [rows[round(i * per_save) : round((i + 1) * per_save)] for i in range(2 * block)]
            t0 = time.perf_counter()
            for batch in batches:
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO raw_events (originator_id, originator_version, topic, state)"
                        " VALUES (%s, %s, %s, %s)",
                        [(uuid.uuid4(), r[1], r[2], r[3]) for r in batch],
                    )
                conn.commit()
            raw_s += time.perf_counter() - t0
            saves += 2 * block
            stored += len(rows)
    emit(
        "append",
        saves=saves,
        events=stored,
        saves_per_s=round(saves / app_s),
        baseline="raw psycopg inserts of the same rows, one commit per save, in alternating blocks",
        baseline_saves_per_s=round(saves / raw_s),
        ratio=round(raw_s / app_s, 2),
        target=">= 0.5",
    )


# --- 2. bulk import --------------------------------------------------------------------------


def bulk_import(c: Container, url: str, generator: Generator) -> None:
    start = c.app.max_position()
    t0 = time.perf_counter()
    generator.run(EVENTS)
    total_s = time.perf_counter() - t0
    with psycopg.connect(conninfo(), options=f"-c search_path={schema_of(url)}") as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM gongjian_events WHERE notification_id > %s",
            (start,),
        ).fetchall()
        conn.execute(
            "CREATE TABLE copied_events (originator_id uuid, originator_version int, topic text, state bytea,"
            " id bigserial, PRIMARY KEY (originator_id, originator_version))"
        )
        conn.commit()
        t0 = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy("COPY copied_events (originator_id, originator_version, topic, state) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        conn.commit()
        copy_s = time.perf_counter() - t0
        conn.execute("DROP TABLE copied_events")
        conn.commit()
    emit(
        "bulk_import",
        events=generator.saved,
        projects=generator.projects,
        events_per_s=round(generator.saved / generator.seconds),
        with_domain_events_per_s=round(generator.saved / total_s),
        baseline="COPY of the same rows",
        baseline_events_per_s=round(len(rows) / copy_s),
        ratio=round(copy_s / generator.seconds, 3),
    )


# --- 3. rebuild ------------------------------------------------------------------------------


def rebuild(c: Container, url: str) -> None:
    n = c.app.max_position()
    with psycopg.connect(conninfo(), options=f"-c search_path={schema_of(url)}") as conn:
        t0 = time.perf_counter()
        with conn.cursor(name="scan") as cur:  # server-side: bounded memory like the engine
            cur.itersize = 5000
            cur.execute("SELECT notification_id, originator_id, originator_version, topic, state FROM gongjian_events")
            scanned = sum(1 for _ in cur)
        scan_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    c.engine.rebuild_all(workers=WORKERS, settings=c.settings)
    all_s = time.perf_counter() - t0
    one: dict[str, Any] = {}
    if ONE_PROCESS and WORKERS > 1:
        t0 = time.perf_counter()
        c.engine.rebuild_all()
        one = {"one_process_events_per_s": round(n / (time.perf_counter() - t0))}
    library = library_rebuild(url, n)
    emit(
        "rebuild",
        events=n,
        read_models=len(c.engine.models),
        workers=WORKERS,
        events_per_s=round(n / all_s),
        **one,
        baseline_scan_events_per_s=round(scanned / scan_s),
        baseline_library_runner_events_per_s=round(library),
        ratio_to_scan=round(scan_s / all_s, 3),
        ratio_to_library=round(n / all_s / library, 2),
        target=">= 25000 events/s and >= 10x the library runner",
    )
    for name in c.engine.models if PER_MODEL else ():
        t0 = time.perf_counter()
        c.engine.rebuild(name)
        emit("rebuild_model", name=name, events=n, events_per_s=round(n / (time.perf_counter() - t0)))


def library_runner(url: str, name: str, start: int | None = None) -> Any:
    """eventsourcing's ProjectionRunner with the smallest useful view: one row per event, written
    with the tracking record in one transaction per event (how the library's runner works)."""
    from eventsourcing.persistence import InfrastructureFactory, Tracking
    from eventsourcing.postgres import PostgresTrackingRecorder
    from eventsourcing.projection import Projection, ProjectionRunner
    from psycopg.sql import SQL, Identifier

    from infrastructure.db import DatabaseURL
    from infrastructure.log import GongjianApplication

    class SeenView(PostgresTrackingRecorder):
        def __init__(self, datastore: Any, **kwargs: Any) -> None:
            super().__init__(datastore, **kwargs)
            self.table = SQL("{0}.{1}").format(Identifier(datastore.schema), Identifier(f"{name}_seen"))
            self.sql_create_statements.append(
                SQL("CREATE TABLE IF NOT EXISTS {0} (position bigint PRIMARY KEY, topic text)").format(self.table)
            )

        def seen(self, topic: str, tracking: Tracking) -> None:
            with self.datastore.transaction(commit=True) as curs:
                curs.execute(
                    SQL("INSERT INTO {0} VALUES (%s, %s)").format(self.table), (tracking.notification_id, topic)
                )
                self._insert_tracking(curs, tracking)

    class Seen(Projection[SeenView]):
        def process_event(self, domain_event: Any, tracking: Tracking) -> None:
            self.view.seen(type(domain_event).__qualname__, tracking)

    Seen.name = name
    env = eventsourcing_env(DatabaseURL(url))
    if start is not None:  # begin at the log's end (read-your-writes), not at position 0
        factory = InfrastructureFactory[SeenView].construct(env=ProjectionRunner._construct_env(name, env))
        factory.tracking_recorder(SeenView).insert_tracking(Tracking(GongjianApplication.name, start))
    return ProjectionRunner(application_class=GongjianApplication, projection_class=Seen, view_class=SeenView, env=env)


def library_rebuild(url: str, n: int) -> float:
    """Events/s of the library runner from position 0, for at most LIBRARY_SECONDS."""
    runner = library_runner(url, "library_rebuild")
    with runner:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < LIBRARY_SECONDS:
            done = runner.view.max_tracking_id(runner.app_name) or 0
            if done >= n:
                break
            time.sleep(0.2)
        done = runner.view.max_tracking_id(runner.app_name) or 0
        elapsed = time.perf_counter() - t0
    return done / elapsed


# --- 4. GraphQL ------------------------------------------------------------------------------

DASHBOARD = "{ projects(first: 20) { totalCount edges { node { code name stageReached } } } }"
AUDIT = """query($s: String!) { auditTrail(subject: $s, first: 50) { totalCount
  edges { node { position eventType actorId actorRole channel recordedAt businessTime } } } }"""
WARNINGS = "{ warnings(first: 20) { totalCount edges { node { id rule severity subject status } } } }"
STATISTICS = "{ statistics(groupBy: REGION) { key received accepted approved overdue onTimeRate } }"


def graphql_queries(c: Container) -> dict[str, tuple[str, dict[str, Any], Callable[[], Any]]]:
    """Each timed query: its text, its variables, and the read-model call running the same SQL."""
    models: Any = c.engine.models
    subject = c.db.query("SELECT code FROM projects ORDER BY created_position DESC LIMIT 1")[0]["code"]
    today = c.clock.now().date()
    return {
        "dashboard": (DASHBOARD, {}, lambda: models["project_overview"].list(first=20)),
        "audit_trail": (AUDIT, {"s": subject}, lambda: audit_sql(c, subject)),
        "warnings": (WARNINGS, {}, lambda: models["offline_warnings"].list(first=20)),
        "statistics": (
            STATISTICS,
            {},
            lambda: compute_statistics(c.figures, GroupBy.REGION, StatisticsFilter(), today),
        ),
    }


def audit_sql(c: Container, subject: str) -> Any:
    """The audit trail's SQL as the resolver runs it: a project code stands for its canonical project
    and every code merged into it (one look-up), then the page and the count of that family."""
    audit: Any = c.engine.models["audit_trail"]
    subjects = Duplicates(c.db).family(subject)
    return audit.trail(subjects, first=50), audit.count(subjects)


def graphql(c: Container) -> None:
    queries = graphql_queries(c)
    loop = asyncio.new_event_loop()  # one loop for every request, as in the server (not one per request)
    for name, (query, variables, direct) in queries.items():
        result = loop.run_until_complete(
            schema.execute(query, variable_values=variables, context_value=Context(c, SUPERVISOR))
        )
        assert result.errors is None, result.errors

        async def served(q: str = query, v: dict[str, Any] = variables) -> list[float]:
            # every request inside one long-lived task, as under uvicorn: a root task per request
            # would have anyio start a worker thread per request, which the server does not
            out = []
            for _ in range(SAMPLES):
                t0 = time.perf_counter()
                await schema.execute(q, variable_values=v, context_value=Context(c, SUPERVISOR))
                out.append(time.perf_counter() - t0)
            return out

        gql = loop.run_until_complete(served())
        bare = timings(direct)
        emit(
            "graphql",
            query=name,
            p50_ms=ms(percentile(gql, 50)),
            p95_ms=ms(percentile(gql, 95)),
            p99_ms=ms(percentile(gql, 99)),
            baseline="the read-model call running the same SQL",
            baseline_p50_ms=ms(percentile(bare, 50)),
            baseline_p95_ms=ms(percentile(bare, 95)),
            baseline_p99_ms=ms(percentile(bare, 99)),
            ratio_p95=round(percentile(gql, 95) / percentile(bare, 95), 2),
            target="p95 <= 20 ms and <= 3x the bare SQL",
        )
    loop.close()


def timings(fn: Callable[[], Any], samples: int = SAMPLES) -> list[float]:
    out = []
    for _ in range(samples):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


# --- 5. ledger verification ------------------------------------------------------------------


def ledger_verify(c: Container) -> None:
    ledger = c.engine.models["ledger"]
    assert isinstance(ledger, Ledger)
    # in memory: the rows `audit verify` reads (as tuples, a page at a time), already read
    pages = list(stored_pages(c.db))
    leaves = list(ledger_leaf_rows(c.db))
    checkpoints = [checkpoint_of(r) for r in ledger.checkpoint_rows()]
    algorithm = ledger.algorithm()
    blobs = [leaf_data(*e) for rows in pages for e in rows]
    hashes = plain_hashes(algorithm)  # the fastest plain call, as the verifier's leaves (bench/ledger.py)
    plain = best(lambda: hashes(blobs))
    verify = best(lambda: _Verifier(algorithm, checkpoints, None).run_pages(pages, leaves))
    # the same rows verify_store reads (one query a page), hashed plainly
    read_plain = best(lambda: [d for rows in stored_pages(c.db) for d in hashes([e[4] for e in rows])], 2)
    end_to_end = best(lambda: verify_store(c.app, ledger), 2)
    emit(
        "ledger_verify",
        events=len(blobs),
        checkpoints=len(checkpoints),
        algorithm=algorithm,
        in_memory_ms=ms(verify),
        baseline_plain_hash_ms=ms(plain),
        ratio=round(plain / verify, 2),
        store_end_to_end_ms=ms(end_to_end),
        baseline_read_and_hash_ms=ms(read_plain),
        ratio_end_to_end=round(read_plain / end_to_end, 2),
        target=">= 0.5",
    )


def best(fn: Callable[[], Any], repeat: int = 3) -> float:
    return min(timings(fn, repeat))


# --- 6. read-your-writes ---------------------------------------------------------------------


def read_your_writes(c: Container, url: str, code: str) -> None:
    c.engine.catch_up()
    samples = max(10, SAMPLES // 2)

    def ours() -> list[float]:
        out = []
        for _ in range(samples):
            position = command(c, code)
            t0 = time.perf_counter()
            assert c.engine.wait_for(position, timeout=10)
            out.append(time.perf_counter() - t0)
        return out

    c.engine.start()
    try:
        in_process = ours()
    finally:
        c.engine.stop()
    # The generated history went in below the services: the process managers (licences on approval,
    # archives on conclusion, delivery messages) would spend the whole figure following it in the
    # runner. A running system's managers are at the log's end; start these there too.
    with c.db.transaction() as cur:
        cur.execute(
            "UPDATE projection_tracking SET position = ? WHERE read_model IN ('automation', 'delivery_producer')",
            (c.app.max_position(),),
        )
    runner = subprocess.Popen(
        [sys.executable, "-m", "interfaces.cli", "projections", "run"],
        env={
            **os.environ,
            "GONGJIAN_DATABASE_URL": url,
            "GONGJIAN_JWT_SECRET": SECRET,
            "GONGJIAN_KEYSTORE_PASSPHRASE": "bench-keystore-passphrase",
            "GONGJIAN_KEYSTORE_PATH": c.settings.keystore_path,
            "GONGJIAN_ARCHIVE_PATH": c.settings.archive_path,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert c.engine.wait_for(c.app.max_position(), timeout=60)
        other_process = ours()
    finally:
        runner.terminate()
        runner.wait(30)

    lib = library_runner(url, "library_ryw", start=c.app.max_position())
    with lib:
        library = []
        for _ in range(max(10, samples // 5)):  # each wait costs ~0.1 s or more
            position = command(c, code)
            t0 = time.perf_counter()
            lib.wait(position, timeout=10)
            library.append(time.perf_counter() - t0)
    emit(
        "read_your_writes",
        samples=samples,
        in_process_p50_ms=ms(percentile(in_process, 50)),
        in_process_p95_ms=ms(percentile(in_process, 95)),
        other_process_p50_ms=ms(percentile(other_process, 50)),
        other_process_p95_ms=ms(percentile(other_process, 95)),
        baseline="library ProjectionRunner.wait()",
        baseline_p50_ms=ms(percentile(library, 50)),
        baseline_p95_ms=ms(percentile(library, 95)),
        target="p95 <= 20 ms",
    )


# --- 7. memory -------------------------------------------------------------------------------


def rebuild_memory(c: Container, url: str, generator: Generator) -> None:
    """Peak RSS of a rebuild in a fresh process, at N events and after adding N more."""
    figures = {}
    for label in ("N", "2N"):
        if label == "2N":
            generator.run(2 * generator.saved)
        out = subprocess.run(
            [sys.executable, "-m", "bench.memory", url],
            env={**os.environ, "GONGJIAN_KEYSTORE_PATH": c.settings.keystore_path},
            capture_output=True,
            text=True,
            check=True,
        )
        figures[label] = dict(part.split("=") for part in out.stdout.split())
    n, n2 = figures["N"], figures["2N"]
    heap_n, heap_2n = heap(n), heap(n2)
    emit(
        "rebuild_memory",
        events_n=int(n["events"]),
        peak_rss_mb_n=float(n["peak_rss_mb"]),
        events_2n=int(n2["events"]),
        peak_rss_mb_2n=float(n2["peak_rss_mb"]),
        heap_peak_mb_n=heap_n,
        heap_peak_mb_2n=heap_2n,
        baseline_rss_mb_after_imports=float(n["base_rss_mb"]),
        ratio=round(float(n2["peak_rss_mb"]) / float(n["peak_rss_mb"]), 3),
        ratio_heap=round(heap_2n / heap_n, 3) if heap_n and heap_2n else None,
        target="the same at N and 2N",
    )


def heap(figures: dict[str, str]) -> float | None:
    """The traced heap peak, absent when GONGJIAN_BENCH_HEAP=0."""
    return float(figures["heap_peak_mb"]) if "heap_peak_mb" in figures else None


def schema_of(url: str) -> str:
    return url.split("schema=")[1]


if __name__ == "__main__":
    main()
