"""`python -m bench.pins [ROUNDS BLOCK]` — the append figure A/B in one process: case commands
with the flow-in-force memory (after) and without it (before: each region's Process replayed per
submit, the pinned flow per accept), alternating blocks, against raw inserts of the same rows."""

import sys
import time
import uuid

import psycopg

from bench.__main__ import command, project, schema_of
from bench.common import RAW_EVENTS_DDL, conninfo, emit, fresh_schema, open_container


def main() -> None:
    ROUNDS, BLOCK = (int(a) for a in (sys.argv[1:] or ["10", "20"]))
    with fresh_schema() as url:
        c = open_container(url)
        memory = c.cases.pin_memory
        try:
            code = project(c)
            for _ in range(20):
                command(c, code)
            t = {"before": 0.0, "after": 0.0, "raw": 0.0}
            with psycopg.connect(conninfo(), options=f"-c search_path={schema_of(url)}") as conn:
                conn.execute(RAW_EVENTS_DDL)
                conn.commit()
                for _ in range(ROUNDS):
                    for label, mem in (("before", None), ("after", memory)):
                        c.cases.pin_memory = mem
                        start = c.app.max_position()
                        t0 = time.perf_counter()
                        for _ in range(BLOCK):
                            command(c, code)
                        t[label] += time.perf_counter() - t0
                    rows = conn.execute(
                        "SELECT originator_id, originator_version, topic, state FROM gongjian_events WHERE notification_id > %s ORDER BY notification_id",
                        (start,),
                    ).fetchall()
                    conn.commit()
                    t0 = time.perf_counter()
                    for r in rows:
                        conn.execute(
                            "INSERT INTO raw_events (originator_id, originator_version, topic, state) VALUES (%s,%s,%s,%s)",
                            (uuid.uuid4(), r[1], r[2], r[3]),
                        )
                        conn.commit()
                    t["raw"] += time.perf_counter() - t0
            saves = 2 * BLOCK * ROUNDS
            raw = t["raw"] / (len(rows) * ROUNDS) * saves  # per-save raw time scaled to the same saves
            emit(
                "append_pin_memory",
                saves=saves,
                before_saves_per_s=round(saves / t["before"]),
                after_saves_per_s=round(saves / t["after"]),
                baseline="raw psycopg inserts of the same rows, one commit per save",
                baseline_saves_per_s=round(saves / raw),
                ratio_before=round(raw / t["before"], 2),
                ratio_after=round(raw / t["after"], 2),
            )
        finally:
            c.close()


if __name__ == "__main__":
    main()
