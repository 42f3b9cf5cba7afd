"""What a read model is: a name, its tables, and a batch handler that writes rows inside the
transaction the engine opens (the engine writes the tracking position in the same transaction)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from infrastructure.db import Cursor, Database

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


class ReadModel:
    """Base class of read models. Subclasses set `name`, `tables`, DDL and `handle`."""

    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        raise NotImplementedError

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        """Write the rows for a batch of events (in global order). No commit: the engine does it."""
        raise NotImplementedError

    def clear(self, cur: Cursor) -> None:
        """Delete every row (for rebuild from zero)."""
        for table in self.tables:
            cur.execute(f"DELETE FROM {table}")  # noqa: S608 — fixed table names

    def __init__(self, db: Database) -> None:
        self.db = db
        # live messages of the batch being handled; the engine publishes them after the commit
        self.outbox: list[dict[str, Any]] = []


def to_json(value: Any) -> str:
    return json.dumps(value, default=_default, ensure_ascii=False, sort_keys=True)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value)}")


def bigint(dialect: str) -> str:
    return "INTEGER" if dialect == "sqlite" else "BIGINT"


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
        if fragment:
            self.conditions.append(f"{column} LIKE ?")
            self.params.append(f"%{fragment}%")
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
