"""A thin SQL layer for read models and log look-ups, the same on SQLite and PostgreSQL.

SQL is written once with `?` placeholders; the PostgreSQL side rewrites them to `%s`.
Rows come back as dicts. A transaction either commits everything or nothing.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

import psycopg
from psycopg.rows import dict_row, tuple_row
from psycopg_pool import ConnectionPool


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any: ...
    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Plain inserts of many rows at once: COPY on PostgreSQL, executemany on SQLite."""
        ...

    def fetchall(self) -> list[dict[str, Any]]: ...
    def fetchone(self) -> dict[str, Any] | None: ...


class Database(Protocol):
    dialect: str

    @contextmanager
    def transaction(self) -> Iterator[Cursor]: ...
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...
    def query_tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """As `query`, rows as tuples in column order (no dict per row: long scans)."""
        ...

    def close(self) -> None: ...


class _SQLiteCursor:
    def __init__(self, cur: sqlite3.Cursor) -> None:
        self._cur = cur

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cur.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        return self._cur.executemany(sql, [tuple(r) for r in rows])

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            marks = ", ".join("?" for _ in columns)
            self._cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)  # noqa: S608

    def fetchall(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._cur.fetchall()]

    def fetchone(self) -> dict[str, Any] | None:
        row = self._cur.fetchone()
        return dict(row) if row is not None else None


class SQLiteDatabase:
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        conn = self._conn()
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield _SQLiteCursor(cur)
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()
        finally:
            cur.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self._conn().execute(sql, tuple(params))
        try:
            return [dict(r) for r in cur.fetchall()]
        finally:
            cur.close()

    def query_tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self._conn().cursor()
        cur.row_factory = None  # plain tuples (the connection's factory makes sqlite3.Row)
        try:
            return cur.execute(sql, tuple(params)).fetchall()
        finally:
            cur.close()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _pg(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


COPY_FROM = 64  # rows; below this, inserts are pipelined instead


class _PGCursor:
    def __init__(self, cur: psycopg.Cursor[dict[str, Any]], pipelined: bool = False) -> None:
        self._cur = cur
        self._pipelined = pipelined  # COPY is not allowed in pipeline mode

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    def sibling(self) -> _PGCursor:
        """Another cursor in the same transaction: in pipeline mode each cursor keeps the result of
        its own last statement, so a statement sent early can be read late, after other cursors'."""
        return _PGCursor(self._cur.connection.cursor(), self._pipelined)

    @contextmanager
    def pipelined_part(self) -> Iterator[_PGCursor]:
        """This transaction in pipeline mode for a while (one read model's handler in a batch that is
        not pipelined as a whole): its writes are not waited for; its errors surface by the end."""
        if self._pipelined:
            yield self
            return
        with self._cur.connection.pipeline():
            yield _PGCursor(self._cur, pipelined=True)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cur.execute(_pg(sql), tuple(params))  # type: ignore[arg-type]

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        return self._cur.executemany(_pg(sql), [tuple(r) for r in rows])  # type: ignore[arg-type]

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        # COPY is several times faster than executemany for many rows (bench/: rebuilds); for a few
        # (live tailing) a pipelined executemany is one round trip where COPY takes two
        if 0 < len(rows) < COPY_FROM or (rows and self._pipelined):
            marks = ", ".join("%s" for _ in columns)
            self._cur.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # type: ignore[arg-type]  # noqa: S608
                [tuple(r) for r in rows],
            )
        elif rows:
            with self._cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[arg-type]
                for row in rows:
                    copy.write_row(row)

    def fetchall(self) -> list[dict[str, Any]]:
        return list(self._cur.fetchall())

    def fetchone(self) -> dict[str, Any] | None:
        return self._cur.fetchone()


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(self, conninfo: str, schema: str = "public", max_size: int = 8) -> None:
        self.schema = schema
        self.conninfo = conninfo
        self.pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_size,
            kwargs={"row_factory": dict_row, "options": f"-c search_path={schema}", "autocommit": True},
            open=True,
            timeout=5,  # waiting for a connection (PostgreSQL down): fail soon, the API answers 503
        )

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield _PGCursor(cur)

    @contextmanager
    def pipelined_transaction(self) -> Iterator[Cursor]:
        """A transaction in pipeline mode: statements whose results nobody reads (the writes) are
        sent without waiting, so a run of them costs one round trip, taken at the next read
        (fetch) or at the commit. An error surfaces there, not at its own statement. No COPY."""
        with self.pool.connection() as conn, conn.pipeline(), conn.transaction(), conn.cursor() as cur:
            yield _PGCursor(cur, pipelined=True)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.execute(_pg(sql), tuple(params))  # type: ignore[arg-type]
            return list(cur.fetchall())

    def query_tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(_pg(sql), tuple(params))  # type: ignore[arg-type]
            return cur.fetchall()

    def vacuum_analyze(self, tables: Sequence[str]) -> None:
        """VACUUM (ANALYZE) the tables, outside any transaction (the pool's connections autocommit),
        in one statement (one command for the lot, not one per table: ≈ 15 ms each on this machine,
        most of the tables a rebuild loads being small or empty). After a bulk load the planner has
        no statistics and the visibility map is empty (no index-only counts) until autovacuum comes
        round, if it is on at all."""
        if tables:
            with self.pool.connection() as conn:
                conn.execute(f"VACUUM (ANALYZE) {', '.join(dict.fromkeys(tables))}")  # type: ignore[arg-type]  # fixed names

    def close(self) -> None:
        self.pool.close()


class DatabaseURL:
    """`sqlite:///relative/path.db`, `sqlite:////absolute/path.db`, `sqlite:///:memory:`, or
    `postgresql://user[:password]@host[:port]/dbname[?schema=name]`."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = urlparse(url)
        self.scheme = parsed.scheme.split("+")[0]
        if self.scheme == "sqlite":
            self.path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else parsed.path
        elif self.scheme in ("postgresql", "postgres"):
            self.scheme = "postgresql"
            self.host = parsed.hostname or "127.0.0.1"
            self.port = parsed.port or 5432
            self.user = parsed.username or "postgres"
            self.password = parsed.password or ""
            self.dbname = (parsed.path or "/postgres").lstrip("/") or "postgres"
            self.schema = parse_qs(parsed.query).get("schema", ["public"])[0]
        else:
            raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")

    @property
    def conninfo(self) -> str:
        parts = [f"host={self.host}", f"port={self.port}", f"user={self.user}", f"dbname={self.dbname}"]
        if self.password:
            parts.append(f"password={self.password}")
        return " ".join(parts)

    def open(self) -> Database:
        if self.scheme == "sqlite":
            return SQLiteDatabase(self.path)
        return PostgresDatabase(self.conninfo, self.schema)


def table_exists(cur: Cursor, dialect: str, table: str) -> bool:
    """Whether the table exists (in the connection's schema on PostgreSQL), without locking it."""
    if dialect == "sqlite":
        cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
    else:
        cur.execute("SELECT to_regclass(?) AS name", (table,))
    row = cur.fetchone()
    return row is not None and row["name"] is not None
