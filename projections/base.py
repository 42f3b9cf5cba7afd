"""What a read model is: a name, its tables, and a batch handler that writes rows inside the
transaction the engine opens (the engine writes the tracking position in the same transaction)."""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEventProtocol

from infrastructure.db import Cursor, Database
from projections.json_text import sorted_json

# Fields every event carries (identity, recording time, who/channel/request); the rest is its content.
META_FIELDS = frozenset(
    {
        "originator_id",
        "originator_version",
        "timestamp",
        "originator_topic",
        "actor_id",
        "actor_role",
        "actor_org",
        "channel",
        "request_id",
        "occurred_at",
    }
)


@dataclass(frozen=True)
class Envelope:
    """One event of the log with its global position (notification id)."""

    position: int
    event: DomainEventProtocol[Any]

    @property
    def event_type(self) -> str:
        """`Aggregate.Event` — the stored class name without its module."""
        return type(self.event).__qualname__


def event_name(cls: type[Any]) -> str:
    """The name the log's events of `cls` carry (`Envelope.event_type`): `Case.Accepted` for
    `Case.Accepted`. Only an event class nested in its aggregate has one: anything else is a
    TypeError, raised where a read model declares what it reads (at import)."""
    owner_name, _, own = cls.__qualname__.rpartition(".") if isinstance(cls, type) else ("", "", "")
    owner = getattr(sys.modules.get(cls.__module__), owner_name, None) if owner_name else None
    if not (
        isinstance(owner, type)
        and issubclass(owner, Aggregate)
        and issubclass(cls, Aggregate.Event)
        and vars(owner).get(own) is cls
        and own != "Event"  # the aggregate's base class: never stored
    ):
        raise TypeError(f"{cls!r} is not an event class of an aggregate")
    return cls.__qualname__


class Events:
    """Events named by class (an aggregate class: every event of it), resolved once to the names
    envelopes carry: `Events(Case, WorkCalendar.Published)`. A misspelt class fails at import and
    in mypy; `env.event_type in events` is then one set look-up (and a prefix test per aggregate)."""

    __slots__ = ("names", "prefixes")

    def __init__(self, *classes: type[Any]) -> None:
        self.names = frozenset(event_name(c) for c in classes if not (isinstance(c, type) and issubclass(c, Aggregate)))
        self.prefixes = tuple(f"{c.__qualname__}." for c in classes if isinstance(c, type) and issubclass(c, Aggregate))

    def __contains__(self, name: object) -> bool:
        return name in self.names or (bool(self.prefixes) and isinstance(name, str) and name.startswith(self.prefixes))

    def __or__(self, other: Events) -> Events:
        joined = Events()
        joined.names = self.names | other.names
        joined.prefixes = self.prefixes + other.prefixes
        return joined

    def of(self, batch: Iterable[Envelope]) -> list[Envelope]:
        """The envelopes of these events, in log order."""
        names, prefixes = self.names, self.prefixes
        if not prefixes:
            return [env for env in batch if env.event_type in names]
        return [env for env in batch if (kind := env.event_type) in names or kind.startswith(prefixes)]


class ReadModel:
    """Base class of read models. Subclasses set `name`, `tables`, `reads`, DDL and `handle`."""

    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]
    # the events its handler dispatches on, by class (`Events`); None: every event (audit trail, ledger)
    reads: ClassVar[Events | None] = None
    # tables it creates but never drops nor clears: records, not derived rows (the ledger's signed checkpoints)
    durable: ClassVar[tuple[str, ...]] = ()
    # 1 + the number of times its tables or the meaning of its rows changed: a store built under
    # another shape is dropped and rebuilt from position 0 when the engine starts (engine.setup)
    shape: ClassVar[int] = 1
    # PostgreSQL: batches of any size go in pipeline mode (writes not waited for; no COPY), for a
    # handler that writes row by row between few reads (offline_warnings); others only small batches
    pipelined: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.reads is not None and not isinstance(cls.reads, Events):  # names never checked: refused
            raise TypeError(f"{cls.__name__}.reads: declare the events by class, Events(...), not {cls.reads!r}")

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        raise NotImplementedError

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        """Write the rows for a batch of events (in global order). No commit: the engine does it."""
        raise NotImplementedError

    def drop_tables(self, cur: Cursor) -> None:
        """Drop every table (a new shape creates them afresh)."""
        for table in self.tables:
            cur.execute(f"DROP TABLE IF EXISTS {table}")  # fixed table names

    def clear(self, cur: Cursor) -> None:
        """Delete every row (for rebuild from zero)."""
        for table in self.tables:
            cur.execute(f"DELETE FROM {table}")  # noqa: S608 — fixed table names

    def __init__(self, db: Database) -> None:
        self.db = db
        # live messages of the batch being handled; the engine publishes them after the commit
        self.outbox: list[dict[str, Any]] = []


class Lru(OrderedDict[str, str]):
    """A bounded memo of immutable facts (an aggregate's project code): memory stays the same
    however long the log; a fact pushed out is read again from the table."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def remember(self, key: str, value: str) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


class Rows:
    """The rows of one table (keyed by one column) that a batch reads and changes: each read once
    (`load` many keys in one query), changed in memory, written back once (`flush`: new rows by
    COPY/executemany, changed rows by one executemany). Rows are complete (every column), so a
    read after a change sees it without a flush. Per batch only: another runner may write the
    table between two batches, and a flush must come before any SQL that reads the table."""

    chunk = 500  # keys per IN (...) list

    def __init__(self, table: str, key: str, columns: Sequence[str]) -> None:
        self.table = table
        self.key = key
        self.columns = tuple(columns)
        self.rows: dict[Any, dict[str, Any] | None] = {}
        self.new: dict[Any, None] = {}  # insertion-ordered sets
        self.dirty: dict[Any, None] = {}

    def load(self, cur: Cursor, keys: Iterable[Any]) -> None:
        missing = [k for k in dict.fromkeys(keys) if k not in self.rows]
        for start in range(0, len(missing), self.chunk):
            part = missing[start : start + self.chunk]
            cur.execute(
                f"SELECT * FROM {self.table} WHERE {self.key} IN ({', '.join('?' for _ in part)})",  # noqa: S608
                part,
            )
            for row in cur.fetchall():
                self.rows[row[self.key]] = row
        for k in missing:
            self.rows.setdefault(k, None)

    def load_by(self, cur: Cursor, column: str, values: Iterable[Any]) -> list[dict[str, Any]]:
        """The rows whose `column` is one of `values`, read in chunks (a row already held wins)."""
        wanted = list(dict.fromkeys(values))
        found = []
        for start in range(0, len(wanted), self.chunk):
            part = wanted[start : start + self.chunk]
            cur.execute(
                f"SELECT * FROM {self.table} WHERE {column} IN ({', '.join('?' for _ in part)})",  # noqa: S608
                part,
            )
            for row in cur.fetchall():
                held = self.rows.get(row[self.key])
                if held is None:
                    self.rows[row[self.key]] = held = row
                found.append(held)
        return found

    def get(self, cur: Cursor, key: Any) -> dict[str, Any] | None:
        if key not in self.rows:
            self.load(cur, [key])
        return self.rows[key]

    def insert(self, row: dict[str, Any]) -> dict[str, Any]:
        key = row[self.key]
        self.rows[key] = row
        self.new[key] = None
        self.dirty.pop(key, None)
        return row

    def update(self, key: Any, changes: dict[str, Any]) -> None:
        row = self.rows[key]
        assert row is not None, f"{self.table}: update of a row not loaded"
        row.update(changes)
        if key not in self.new:
            self.dirty[key] = None

    def flush(self, cur: Cursor) -> None:
        """Write what changed; the rows stay cached (they now match the table)."""
        if self.new:
            cur.insert_rows(
                self.table,
                self.columns,
                [tuple(self.rows[k][c] for c in self.columns) for k in self.new],  # type: ignore[index]
            )
        if self.dirty:
            others = [c for c in self.columns if c != self.key]
            cur.executemany(
                f"UPDATE {self.table} SET {', '.join(f'{c} = ?' for c in others)} WHERE {self.key} = ?",  # noqa: S608
                [(*(self.rows[k][c] for c in others), k) for k in self.dirty],  # type: ignore[index]
            )
        self.new.clear()
        self.dirty.clear()


def handle_batch(model: ReadModel, cur: Cursor, batch: Sequence[Envelope]) -> None:
    """`model.handle`, in pipeline mode on PostgreSQL when the read model asks for it (`pipelined`)
    even inside a batch that other read models take without (they keep COPY)."""
    part = getattr(cur, "pipelined_part", None) if model.pipelined else None
    if part is None:
        model.handle(cur, batch)
        return
    with part() as piped:
        model.handle(piped, batch)


def fetch_together(cur: Cursor, queries: Sequence[tuple[str, Sequence[Any]]]) -> list[list[dict[str, Any]]]:
    """The rows of several look-ups that do not depend on each other. On PostgreSQL each goes on a
    sibling cursor of the transaction, all sent before any is read: in a pipelined (live) batch
    that is one round trip for all of them. Elsewhere one after the other on `cur`."""
    sibling = getattr(cur, "sibling", None)
    if sibling is None:
        found = []
        for sql, params in queries:
            cur.execute(sql, params)
            found.append(cur.fetchall())
        return found
    cursors = []
    for sql, params in queries:
        other = sibling()
        other.execute(sql, params)
        cursors.append(other)
    return [other.fetchall() for other in cursors]


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value)}")


# one C encoder for every call: json.dumps, and JSONEncoder.encode too, build a new one each time
to_json = sorted_json(_default)


def grouped_rows(
    db: Database, table: str, key: str, ids: Sequence[str], order: str = "seq"
) -> dict[str, list[dict[str, Any]]]:
    """The rows of many ids of one history table in one query (no N+1 for lists), in `order` per id."""
    found: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return found
    marks = ", ".join("?" for _ in ids)
    sql = f"SELECT * FROM {table} WHERE {key} IN ({marks}) ORDER BY {key}, {order}"  # noqa: S608 — our names
    for row in db.query(sql, list(ids)):
        found[row[key]].append(row)
    return found


def bigint(dialect: str) -> str:
    return "INTEGER" if dialect == "sqlite" else "BIGINT"


def like_escape(fragment: str) -> str:
    """A LIKE pattern that matches `fragment` literally, with `\\` as the escape character."""
    return fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Where:
    """Conditions and their parameters for a read-model query, built filter by filter."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[Any] = []

    def equal(self, column: str, value: Any) -> Where:
        if value is not None:
            self.conditions.append(f"{column} = ?")
            self.params.append(value)
        return self

    def any_of(self, column: str, values: Sequence[Any]) -> Where:
        self.conditions.append(f"{column} IN ({', '.join('?' for _ in values)})")
        self.params.extend(values)
        return self

    def like(self, column: str, fragment: str | None) -> Where:
        """Rows whose column contains `fragment` literally: its `%`, `_` and `\\` are escaped, not
        wildcards (the ESCAPE clause is the same on SQLite and PostgreSQL)."""
        if fragment:
            self.conditions.append(f"{column} LIKE ? ESCAPE '\\'")
            self.params.append(f"%{like_escape(fragment)}%")
        return self

    def page(
        self, db: Database, table: str, position_column: str, after: int, first: int
    ) -> tuple[list[dict[str, Any]], bool, int]:
        """Rows after a position in position order; (rows, has_next, total matching)."""
        clause = " AND ".join([f"{position_column} > ?", *self.conditions])
        rows = db.query(
            f"SELECT * FROM {table} WHERE {clause} ORDER BY {position_column} LIMIT ?",  # noqa: S608 — fixed names
            [after, *self.params, first + 1],
        )
        count_clause = " AND ".join(self.conditions) or "1 = 1"
        total = db.query(f"SELECT COUNT(*) AS n FROM {table} WHERE {count_clause}", self.params)  # noqa: S608
        return rows[:first], len(rows) > first, int(total[0]["n"])
