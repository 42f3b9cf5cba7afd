"""A read replica: GraphQL reads from a PostgreSQL streaming standby (GONGJIAN_READ_DATABASE_URL,
docs/scaling.md). Commands and projection runners stay on the primary.

`atLeast` is answered from the replica's own copy of `projection_tracking`: a read model's rows and
its position commit together, so once the standby has replayed a position its rows are there too.
It is polled: a hot standby cannot LISTEN, and the primary's NOTIFY of a batch arrives before the
standby has replayed that batch."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from infrastructure.db import Database, DatabaseURL, PostgresDatabase

log = logging.getLogger(__name__)
POLL_FIRST_S = 0.002  # the standby usually replays within milliseconds of the primary's commit
POLL_MAX_S = 0.05
HEALTH_WAIT_S = 1.0  # /health waits this long for a replica connection, then reports it unreachable


def lsn_value(lsn: str | None) -> int | None:
    """A pg_lsn's text (`16/B374D848`) as the byte offset it names."""
    if not lsn:
        return None
    high, _, low = str(lsn).partition("/")
    return (int(high, 16) << 32) + int(low, 16)


class ReadReplica:
    """The replica's pool (its `db` is what GraphQL reads) and what it has replayed."""

    def __init__(self, url: str, primary: Database, max_size: int = 8) -> None:
        parsed = DatabaseURL(url)
        if parsed.scheme != "postgresql" or primary.dialect != "postgresql":
            raise ValueError(
                "GONGJIAN_READ_DATABASE_URL needs PostgreSQL on both sides: a streaming replica of "
                "GONGJIAN_DATABASE_URL's server (postgresql://…)"
            )
        self.url = parsed
        self.primary = primary
        self.db = PostgresDatabase(parsed.conninfo, parsed.schema, max_size)

    def _query(self, sql: str, timeout: float | None = None) -> list[dict[str, Any]]:
        """A fixed statement on the replica, waiting at most `timeout` for a connection (the pool's 5 s
        otherwise): /health answers soon with the replica down."""
        with self.db.pool.connection(timeout=timeout) as conn, conn.cursor() as cur:
            cur.execute(sql)  # type: ignore[arg-type]  # fixed statements
            return list(cur.fetchall())

    def positions(self, names: Sequence[str], timeout: float | None = None) -> dict[str, int]:
        """Each read model's position as the replica has it (0 when not replayed yet)."""
        rows = self._query("SELECT read_model, position FROM projection_tracking", timeout)
        found = {r["read_model"]: int(r["position"]) for r in rows}
        return {name: found.get(name, 0) for name in names}

    def wait_for(self, position: int, timeout: float, names: Sequence[str]) -> bool:
        """True once the replica's copy of every named read model has reached `position`, False
        after `timeout` (the replica lags, or its replay is paused or broken)."""
        deadline = time.monotonic() + timeout
        interval = POLL_FIRST_S
        while True:
            try:
                if all(p >= position for p in self.positions(names).values()):
                    return True
            except Exception:  # the replica is away (restarting, failing over): try again until the deadline
                log.debug("replica positions unavailable", exc_info=True)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(interval, remaining))
            interval = min(interval * 2, POLL_MAX_S)

    def status(self, primary_positions: dict[str, int]) -> dict[str, Any]:
        """For /health: is it a standby, how far behind its replay is in WAL bytes, and how far
        behind each read model is in log positions (only the ones that lag are listed)."""
        try:
            (replica,) = self._query(
                "SELECT pg_is_in_recovery() AS in_recovery, pg_last_wal_replay_lsn()::text AS replay_lsn,"
                " pg_last_xact_replay_timestamp() AS replayed_at,"
                " CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() END AS pause_state",
                HEALTH_WAIT_S,
            )
            replica_positions = self.positions(list(primary_positions), HEALTH_WAIT_S)
        except Exception as exc:  # the replica is down: /health says so instead of failing
            return {"status": "unreachable", "error": str(exc).strip()[:200]}
        primary_lsn = None
        try:
            (primary,) = self.primary.query(
                "SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS lsn"
            )
            primary_lsn = primary["lsn"]
        except Exception:  # the primary is down: the replica's own figures are still worth showing
            primary_lsn = None
        replay, current = lsn_value(replica["replay_lsn"]), lsn_value(primary_lsn)
        behind = {
            name: primary_positions[name] - pos
            for name, pos in replica_positions.items()
            if primary_positions[name] > pos
        }
        return {
            "status": "replica" if replica["in_recovery"] else "not_in_recovery",
            "in_recovery": bool(replica["in_recovery"]),
            "replay_paused": replica["pause_state"] not in (None, "not paused"),
            "replay_lsn": replica["replay_lsn"],
            "primary_lsn": primary_lsn,
            "lag_bytes": max(0, current - replay) if current is not None and replay is not None else None,
            "last_replayed_at": replica["replayed_at"],
            "read_model_lag": max(behind.values(), default=0),
            "read_models_behind": behind,
        }

    def close(self) -> None:
        self.db.close()
