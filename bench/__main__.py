"""`make bench` — append and projection throughput, as ratios against baselines of the same run.

1. append: commands through the application services (receive + accept a case: 3 events, one
   atomic save each) against raw psycopg inserts of the same stored rows, one transaction per
   command, into a plain table in the same database (same durability: synchronous commit).
2. projections: catching up every read model from zero against merely reading and decoding the
   same events from the log.
Run against PostgreSQL (GONGJIAN_BENCH_DATABASE_URL, default the test database, a fresh schema).
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import date
from decimal import Decimal

import psycopg

from application.bootstrap import bootstrap
from application.policy import Actor
from infrastructure.db import DatabaseURL
from infrastructure.settings import Settings

URL = os.environ.get("GONGJIAN_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
N = int(os.environ.get("GONGJIAN_BENCH_COMMANDS", "300"))
CLERK = Actor("bench-clerk", "window_clerk", "bench", "460000")
OWNER = "91460000MA5T0P3X64"


def main() -> None:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    conninfo = DatabaseURL(URL).conninfo
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        run(f"{URL}?schema={schema}", conninfo, schema)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run(url: str, conninfo: str, schema: str) -> None:
    c = bootstrap(
        Settings(
            database_url=url,
            jwt_secret="bench-secret-bench-secret-bench-secret!!",
            keystore_passphrase="bench-keystore-passphrase",
        )
    )
    code = "2611-460100-04-01-000001"
    c.projects.generate(
        CLERK,
        "bench",
        None,
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
    )
    start_pos = c.app.max_position()
    t0 = time.perf_counter()
    for _ in range(N):
        case_id = c.cases.submit(
            CLERK,
            "bench",
            None,
            project_code=code,
            item_code="GJ-1-02",
            situation_codes=[],
            materials=[],
            parallel_application_id=None,
            acceptance_mode=1,
        )["id"]
        c.cases.act(CLERK, "bench", None, uuid.UUID(case_id), "accept", {})
    app_s = time.perf_counter() - t0
    events = c.app.max_position() - start_pos
    saves = 2 * N

    # baseline: the same stored rows, inserted raw, one transaction per save
    with psycopg.connect(conninfo, options=f"-c search_path={schema}") as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM gongjian_events WHERE notification_id > %s "
            "ORDER BY notification_id",
            (start_pos,),
        ).fetchall()
        conn.execute(
            "CREATE TABLE raw_events (originator_id uuid, originator_version int, topic text, state bytea,"
            " id bigserial, PRIMARY KEY (originator_id, originator_version))"
        )
        conn.commit()
        per_save = len(rows) / saves
        batches = [rows[round(i * per_save) : round((i + 1) * per_save)] for i in range(saves)]
        t0 = time.perf_counter()
        for batch in batches:
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO raw_events (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)",
                    [(uuid.uuid4(), r[1], r[2], r[3]) for r in batch],
                )
            conn.commit()
        raw_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    decoded = 0
    pos = 0
    while True:
        notes = c.app.recorder.select_notifications(start=pos, limit=500, inclusive_of_start=False)
        if not notes:
            break
        for n in notes:
            c.app.mapper.to_domain_event(n)
            decoded += 1
        pos = notes[-1].id
    read_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    c.engine.catch_up()
    proj_s = time.perf_counter() - t0
    c.close()

    print(f"append: {events} events in {saves} atomic saves")
    print(f"  application layer : {events / app_s:8.0f} events/s  ({saves / app_s:6.0f} saves/s)")
    print(f"  raw psycopg       : {events / raw_s:8.0f} events/s  ({saves / raw_s:6.0f} saves/s)")
    print(f"  ratio app/raw     : {raw_s / app_s:8.2f}   (target >= 0.5)")
    print(f"projections: {decoded} events, {len(c.engine.models)} read models")
    print(f"  read + decode only: {decoded / read_s:8.0f} events/s")
    print(f"  catch up all      : {decoded / proj_s:8.0f} events/s")
    print(f"  ratio             : {read_s / proj_s:8.2f}")


if __name__ == "__main__":
    main()
