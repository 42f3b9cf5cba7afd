"""签名树头存档 — the ledger's signed checkpoints, durable: a table of their own, outside every read model.

`ledger_signed_checkpoints` (tree size → root hash, time, algorithm, last position, signature, public
key) is append-only like the events table (`refuse_changes`: UPDATE, DELETE and TRUNCATE refused, and
on SQLite an INSERT that would replace a stored row). The ledger read model appends each checkpoint it
cuts and, passing a size that was signed before (a rebuild, a replay after a new shape), compares its
recomputed root with the stored one instead of signing again (projections/ledger.py). No rebuild
clears this table: it is not among the read model's tables.

Before this table the checkpoints were rows of the read model (`ledger_checkpoints`), rewritten by
every rebuild; their rows are carried over once, then that table is dropped.

`origin` (issue 16): a checkpoint with an origin is signed in the C2SP tlog-checkpoint form (origin,
size, base64 root: domain/ledger/checkpoint.py); NULL for those signed before in the v1 lines (the
column is added to an older table; no stored row changes). `ledger_cosignatures` keeps the witnesses'
cosignatures of these checkpoints (tree size, witness → timestamp, signature line), append-only too.
"""

from __future__ import annotations

from typing import Any

from infrastructure.db import Cursor, Database, table_exists
from infrastructure.store import refuse_changes

TABLE = "ledger_signed_checkpoints"
LEGACY = "ledger_checkpoints"
LEGACY_COLUMNS = ("tree_size", "root_hash", "time", "algorithm", "last_position", "signature", "public_key")
COLUMNS = (*LEGACY_COLUMNS, "origin")
COSIGNATURES = "ledger_cosignatures"
COSIGNATURE_COLUMNS = ("tree_size", "witness", "key_id", "timestamp", "signature", "recorded_at")
INSERT_COSIGNATURE = (
    f"INSERT INTO {COSIGNATURES} ({', '.join(COSIGNATURE_COLUMNS)})"  # noqa: S608
    f" VALUES ({', '.join('?' * len(COSIGNATURE_COLUMNS))})"
)
INSERT = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"  # noqa: S608
_SIZE = "(SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM ledger_leaves)"  # the ledger's tree size
# the last checkpoint at or below the ledger's size (the cadence counts its time from it) ...
BEHIND = f"SELECT * FROM {TABLE} WHERE tree_size <= {_SIZE} ORDER BY tree_size DESC LIMIT 1"  # noqa: S608
# ... and the ones signed before that the next `?` leaves reach (a rebuild checks, never re-signs them)
AHEAD = f"SELECT * FROM {TABLE} WHERE tree_size > {_SIZE} AND tree_size <= {_SIZE} + ? ORDER BY tree_size"  # noqa: S608
# the hash algorithm of the first signed checkpoint, and the largest size ever signed
SIGNED = f"SELECT (SELECT algorithm FROM {TABLE} ORDER BY tree_size LIMIT 1) AS algorithm, MAX(tree_size) AS signed_size FROM {TABLE}"  # noqa: S608


def create_checkpoint_log(cur: Cursor, dialect: str) -> None:
    big = "INTEGER" if dialect == "sqlite" else "BIGINT"
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (tree_size {big} PRIMARY KEY, root_hash TEXT NOT NULL,"
        f" time TEXT NOT NULL, algorithm TEXT NOT NULL, last_position {big} NOT NULL, signature TEXT, public_key TEXT,"
        " origin TEXT)"
    )
    if not _has_column(cur, dialect, TABLE, "origin"):  # a table of before the C2SP form
        cur.execute(f"ALTER TABLE {TABLE} ADD COLUMN origin TEXT")
    refuse_changes(cur, dialect, TABLE, ("tree_size",))
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {COSIGNATURES} (tree_size {big} NOT NULL, witness TEXT NOT NULL,"
        f" key_id TEXT NOT NULL, timestamp {big} NOT NULL, signature TEXT NOT NULL, recorded_at TEXT NOT NULL,"
        " PRIMARY KEY (tree_size, witness))"
    )
    refuse_changes(cur, dialect, COSIGNATURES, ("tree_size", "witness"))
    if table_exists(cur, dialect, LEGACY):
        columns = ", ".join(COLUMNS if _has_column(cur, dialect, LEGACY, "origin") else LEGACY_COLUMNS)
        cur.execute(
            f"INSERT INTO {TABLE} ({columns}) SELECT {columns} FROM {LEGACY}"  # noqa: S608
            f" WHERE tree_size NOT IN (SELECT tree_size FROM {TABLE}) ORDER BY tree_size"
        )
        cur.execute(f"DROP TABLE {LEGACY}")


def _has_column(cur: Cursor, dialect: str, table: str, column: str) -> bool:
    if dialect == "sqlite":
        cur.execute(f"SELECT name FROM pragma_table_info('{table}') WHERE name = ?", (column,))  # noqa: S608
    else:
        cur.execute(
            "SELECT column_name AS name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?",
            (table, column),
        )
    return cur.fetchone() is not None


def cosignature_rows(db: Database) -> list[dict[str, Any]]:
    """Every stored cosignature, by tree size then witness."""
    return db.query(f"SELECT * FROM {COSIGNATURES} ORDER BY tree_size, witness")  # noqa: S608


def signed_rows(db: Database, up_to: int | None = None) -> list[dict[str, Any]]:
    """Every signed checkpoint in size order (those of at most `up_to` leaves)."""
    if up_to is None:
        return db.query(f"SELECT * FROM {TABLE} ORDER BY tree_size")  # noqa: S608
    return db.query(f"SELECT * FROM {TABLE} WHERE tree_size <= ? ORDER BY tree_size", (up_to,))  # noqa: S608


def latest_row(db: Database) -> dict[str, Any] | None:
    """The latest signed checkpoint the ledger's leaves reach (proofs can be given to its root)."""
    rows = db.query(BEHIND)
    return rows[0] if rows else None
