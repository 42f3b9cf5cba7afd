"""Followers of the log, as heard from: each running engine records a heartbeat in
`projection_runners` (state, outages survived, last error), so that `projections status` and
`/health` in any process can say which followers are following, reconnecting, stopped or silent."""

from __future__ import annotations

import os
import socket
import time
from datetime import UTC, datetime
from typing import Any

from infrastructure.db import Cursor, Database
from infrastructure.follower import Follower

HEARTBEAT_S = 10.0  # a running follower records that it is alive this often
STALE_AFTER_S = 3 * HEARTBEAT_S  # a follower silent for longer is reported stale (killed, or hung)
FORGET_AFTER_S = 86_400.0  # rows of followers silent for a day are removed


def runner_id() -> str:
    """This process (asked each time: a forked worker is another runner)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def create_table(cur: Cursor) -> None:
    cur.execute(
        "CREATE TABLE IF NOT EXISTS projection_runners ("
        " runner TEXT PRIMARY KEY, state TEXT NOT NULL, since TEXT NOT NULL, reconnects INTEGER NOT NULL,"
        " last_error TEXT, heartbeat_at TEXT NOT NULL, beat DOUBLE PRECISION NOT NULL)"
    )


def beat(db: Database, follower: Follower) -> None:
    """Record that this process's follower is alive, in its present state."""
    now = time.time()
    with db.transaction() as cur:
        cur.execute("DELETE FROM projection_runners WHERE beat < ?", (now - FORGET_AFTER_S,))
        cur.execute(
            "INSERT INTO projection_runners (runner, state, since, reconnects, last_error, heartbeat_at, beat)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (runner) DO UPDATE SET state = excluded.state,"
            " since = excluded.since, reconnects = excluded.reconnects, last_error = excluded.last_error,"
            " heartbeat_at = excluded.heartbeat_at, beat = excluded.beat",
            (
                runner_id(),
                follower.state,
                follower.as_dict()["since"],
                follower.reconnects,
                follower.last_error,
                datetime.now(UTC).isoformat(),
                now,
            ),
        )


def heard(db: Database, running_here: Follower | None = None) -> list[dict[str, Any]]:
    """Every follower that recorded itself in the last day, in this process or another: its state
    (following, reconnecting as last heard, stopped, or stale when silent too long), outages
    survived and the last error. `running_here`: this process's live follower, fresher than its row."""
    now = time.time()
    rows = db.query(
        "SELECT runner, state, since, reconnects, last_error, heartbeat_at, beat FROM projection_runners"
        " ORDER BY runner"
    )
    found = []
    for r in rows:
        age = now - float(r.pop("beat"))
        if r["state"] != "stopped" and age > STALE_AFTER_S:
            r["state"] = "stale"
        if running_here is not None and r["runner"] == runner_id():
            r.update(state=running_here.state, reconnects=running_here.reconnects)
        found.append({**r, "heartbeat_age_s": round(age, 1)})
    return found
