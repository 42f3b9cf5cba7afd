"""The event store: builds the eventsourcing environment from GONGJIAN_DATABASE_URL and makes
the events table append-only (triggers refuse UPDATE, DELETE and TRUNCATE, and on SQLite an INSERT
that would replace a stored row); the ledger's signed checkpoints get the same triggers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.catalog import install
from domain.catalog.publication import CATALOGUE_ID, Catalogue
from infrastructure.db import Cursor, Database, DatabaseURL
from infrastructure.log import GongjianApplication

# Long-lived aggregates (a project collects every case's link) are kept in an LRU cache and
# fast-forwarded from the store on each get, so loading them stays cheap and never stale.
CACHE = {"AGGREGATE_CACHE_MAXSIZE": "10000", "AGGREGATE_CACHE_FASTFORWARD": "y"}


def eventsourcing_env(url: DatabaseURL, lock_timeout_s: int = 10) -> dict[str, str]:
    return {**CACHE, **_persistence_env(url, lock_timeout_s)}


def _persistence_env(url: DatabaseURL, lock_timeout_s: int) -> dict[str, str]:
    if url.scheme == "sqlite":
        if url.path != ":memory:":
            Path(url.path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": url.path if url.path != ":memory:" else "file::memory:?cache=shared",
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.dbname,
        "POSTGRES_HOST": url.host,
        "POSTGRES_PORT": str(url.port),
        "POSTGRES_USER": url.user,
        "POSTGRES_PASSWORD": url.password,
        "POSTGRES_SCHEMA": url.schema,
        # writers queue for the table lock at most this long, then fail (never wait forever)
        "POSTGRES_LOCK_TIMEOUT": str(lock_timeout_s),
        "POSTGRES_POOL_SIZE": "5",
        # a connection is waited for this long (per attempt of the library's 10): with PostgreSQL down
        # a command fails within seconds and the API answers 503 (tests/e2e/test_faults.py)
        "POSTGRES_CONNECT_TIMEOUT": "1",
        "POSTGRES_MAX_OVERFLOW": "10",
        # one round trip per save, table lock kept (infrastructure/recorder.py)
        "APPLICATION_RECORDER_TOPIC": "infrastructure.recorder:LockingFunctionRecorder",
    }


SETUP_LOCK = 0x67_6A_70_72  # an advisory lock shared by every process that creates or replaces schema objects


def events_table(db: Database) -> str:
    return "stored_events" if db.dialect == "sqlite" else f"{GongjianApplication.name}_events"


def position_column(db: Database) -> str:
    return "rowid" if db.dialect == "sqlite" else "notification_id"


def make_append_only(db: Database) -> None:
    """Install the triggers that refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL) on the events table."""
    with db.transaction() as cur:
        if db.dialect == "postgresql":
            # processes starting together (an API and a runner) would collide on CREATE OR REPLACE
            cur.execute("SELECT pg_advisory_xact_lock(?)", (SETUP_LOCK,))
        refuse_changes(cur, db.dialect, events_table(db), ("originator_id", "originator_version"))


def refuse_changes(cur: Cursor, dialect: str, table: str, key: Sequence[str]) -> None:
    """Make `table` append-only: UPDATE and DELETE refused, and TRUNCATE on PostgreSQL (a statement
    trigger). On SQLite also an INSERT of a row whose `key` or rowid is already there: INSERT OR
    REPLACE, REPLACE and upserts resolve such a conflict by deleting the old row, which fires no
    DELETE trigger (unless `recursive_triggers` is on), so they are refused before they start."""
    if dialect == "sqlite":
        for op in ("UPDATE", "DELETE"):
            cur.execute(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the event log is append-only: {op} refused'); END"
            )
        same_key = " AND ".join(f"{column} = NEW.{column}" for column in key)
        cur.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table} "  # noqa: S608 — fixed names
            f"WHEN EXISTS (SELECT 1 FROM {table} WHERE rowid = NEW.rowid) "
            f"OR EXISTS (SELECT 1 FROM {table} WHERE {same_key}) "
            "BEGIN SELECT RAISE(ABORT, 'the event log is append-only: a stored row is never replaced'); END"
        )
        return
    cur.execute(
        "CREATE OR REPLACE FUNCTION gongjian_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'the event log is append-only: % refused on %', TG_OP, TG_TABLE_NAME "
        "USING ERRCODE = 'insufficient_privilege'; END $$"
    )
    cur.execute(
        f"CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION gongjian_refuse_change()"
    )
    cur.execute(
        f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION gongjian_refuse_change()"
    )


def position_of(db: Database, originator_id: UUID, version: int) -> int | None:
    """The global position of one stored event (used to answer an idempotent retry exactly)."""
    oid: object = originator_id.hex if db.dialect == "sqlite" else originator_id
    rows = db.query(
        f"SELECT {position_column(db)} AS position FROM {events_table(db)} "  # noqa: S608 — fixed names
        "WHERE originator_id = ? AND originator_version = ?",
        (oid, version),
    )
    return int(rows[0]["position"]) if rows else None


def install_latest_edition(app: GongjianApplication, position_of: Callable[[UUID, int], int | None]) -> bool:
    """Put the latest published edition of the item catalogue in force in this process: the
    composition root at start and after a publication, a process meeting an item it does not know
    (an API worker beside the one that published), a rebuild worker before it replays. False when
    none is published or the one in force is as new."""
    try:
        catalogue: Any = app.repository.get(CATALOGUE_ID)
    except AggregateNotFoundError:
        return False
    assert isinstance(catalogue, Catalogue)
    position = position_of(CATALOGUE_ID, catalogue.version)
    return position is not None and install(catalogue.edition, position)


def open_store(url: DatabaseURL, lock_timeout_s: int = 10) -> GongjianApplication:
    return GongjianApplication(env=eventsourcing_env(url, lock_timeout_s))


def version_at(db: Database, originator_id: UUID, position: int) -> int | None:
    """The aggregate's last version stored at or before a global position (for `asOf` replays)."""
    oid: object = originator_id.hex if db.dialect == "sqlite" else originator_id
    rows = db.query(
        f"SELECT MAX(originator_version) AS v FROM {events_table(db)} "  # noqa: S608 — fixed names
        f"WHERE originator_id = ? AND {position_column(db)} <= ?",
        (oid, position),
    )
    return int(rows[0]["v"]) if rows and rows[0]["v"] is not None else None


def stored_versions(db: Database, originator_ids: Sequence[UUID]) -> dict[UUID, int]:
    """The last stored version of each of these aggregates (absent: none stored), in one query:
    the write side checks whether what it remembers of them is still current."""
    if not originator_ids:
        return {}
    sqlite = db.dialect == "sqlite"
    ids: list[object] = [i.hex if sqlite else i for i in originator_ids]
    rows = db.query(
        f"SELECT originator_id AS id, MAX(originator_version) AS v FROM {events_table(db)} "  # noqa: S608 — fixed names
        f"WHERE originator_id IN ({', '.join('?' * len(ids))}) GROUP BY originator_id",
        ids,
    )
    return {r["id"] if isinstance(r["id"], UUID) else UUID(str(r["id"])): int(r["v"]) for r in rows}
