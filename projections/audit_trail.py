"""audit_trail — every event about a subject, in global order.

Answers: what happened to this project / case / licence / seal / document / archive / inquiry /
warning / official, who did it, through which channel, when (business and recorded time).
Consumes every event of every aggregate; which subjects an event is about is the table in
projections/audit_subjects.py (by event class). Tables: `audit_events` (one row per event),
`audit_subjects` (subject → position, with its kind) and `audit_aggregates` (each aggregate's
subjects its later events inherit, e.g. a licence's number for its revocation).
"""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from infrastructure.db import Cursor, Database
from infrastructure.store import events_table, position_column
from projections.audit_subjects import SECRET_FIELDS, Subject, subjects_of
from projections.base import META_FIELDS, Envelope, ReadModel, bigint, to_json
from projections.json_text import sorted_json

STICKY_CACHE = 50_000  # aggregates whose inherited subjects are kept between batches
EVENT_COLUMNS = (
    "position", "originator_id", "originator_version", "aggregate_type", "event_type", "actor_id", "actor_role",
    "actor_org", "channel", "request_id", "occurred_at", "recorded_at", "business_time", "data",
)  # fmt: skip


class _Sticky(OrderedDict[str, tuple[Subject, ...]]):
    """A bounded memo: aggregate id → the subjects its later events inherit (read again when pushed out)."""

    def remember(self, key: str, value: tuple[Subject, ...]) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > STICKY_CACHE:
            self.popitem(last=False)


class AuditTrail(ReadModel):
    name = "audit_trail"
    tables = ("audit_subjects", "audit_events", "audit_aggregates")
    shape = 2  # 2: every aggregate's events (was: Project and Case only), subjects by kind, inherited subjects

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._sticky = _Sticky()

    def subjects_of(self, envelope: Envelope) -> list[Subject]:
        """(subject, kind) pairs an event is about (with what its aggregate's earlier events passed on)."""
        oid = str(cast(Any, envelope.event).originator_id)
        return subjects_of(envelope.event, oid, self._sticky.get(oid, ()))[0]

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS audit_events ("
            f" position {big} PRIMARY KEY,"
            " originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL,"
            " aggregate_type TEXT NOT NULL, event_type TEXT NOT NULL,"
            " actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, actor_org TEXT NOT NULL,"
            " channel TEXT NOT NULL, request_id TEXT NOT NULL,"
            " occurred_at TEXT, recorded_at TEXT NOT NULL, business_time TEXT NOT NULL,"
            " data TEXT NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS audit_subjects ("
            f" subject TEXT NOT NULL, kind TEXT NOT NULL, position {big} NOT NULL,"
            " PRIMARY KEY (subject, position))"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS audit_aggregates (originator_id TEXT PRIMARY KEY, subjects TEXT NOT NULL)"
        )
        cur.execute(
            "CREATE INDEX IF NOT EXISTS audit_events_origin ON audit_events (originator_id, originator_version)"
        )

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        events: list[tuple[Any, ...]] = []
        subjects: list[tuple[Any, ...]] = []
        passed_on: list[tuple[str, str]] = []
        ids = [str(cast(Any, env.event).originator_id) for env in batch]  # once per event: str(UUID) is dear
        pairs = list(zip(batch, ids, strict=True))
        created = {oid for env, oid in pairs if env.event.originator_version == 1}
        # an aggregate created in this batch is remembered below: no look-up
        self._recall(cur, {oid for oid in ids if oid not in created})
        for env, oid in pairs:
            e: Any = env.event
            position = env.position
            about, sticky = subjects_of(e, oid, self._sticky.get(oid, ()))
            if e.originator_version == 1:  # what later events inherit comes from the creation: a fact
                self._sticky.remember(oid, tuple(sticky))
                if sticky:
                    passed_on.append((oid, _json_as_given(sticky)))
            event_type, aggregate_type, fields = _class_of(e.__class__)
            recorded = e.timestamp.isoformat()
            occurred = getattr(e, "occurred_at", None)
            occurred_at = occurred.isoformat() if occurred else None
            events.append(
                (
                    position,
                    oid,
                    e.originator_version,
                    aggregate_type,
                    event_type,
                    getattr(e, "actor_id", None) or "",
                    getattr(e, "actor_role", None) or "",
                    getattr(e, "actor_org", None) or "",
                    str(getattr(e, "channel", None) or ""),
                    getattr(e, "request_id", None) or "",
                    occurred_at,
                    recorded,
                    occurred_at if occurred else recorded,  # the business time
                    to_json({name: getattr(e, name) for name in fields}),
                )
            )
            subjects += [(subject, kind, position) for subject, kind in about]
        cur.insert_rows("audit_events", EVENT_COLUMNS, events)
        cur.insert_rows("audit_subjects", ("subject", "kind", "position"), subjects)
        cur.insert_rows("audit_aggregates", ("originator_id", "subjects"), passed_on)

    def _recall(self, cur: Cursor, ids: set[str]) -> None:
        """Read the inherited subjects of aggregates created in earlier batches (and not kept), one
        query per 500 ids; an aggregate without a row passes nothing on."""
        missing = [oid for oid in ids if oid not in self._sticky]
        for start in range(0, len(missing), 500):
            part = missing[start : start + 500]
            cur.execute(
                "SELECT originator_id, subjects FROM audit_aggregates"  # noqa: S608 — marks only
                f" WHERE originator_id IN ({', '.join('?' for _ in part)})",
                part,
            )
            found = {r["originator_id"]: r["subjects"] for r in cur.fetchall()}
            for oid in part:
                text = found.get(oid)
                self._sticky.remember(oid, tuple((s, k) for s, k in json.loads(text)) if text else ())

    # --- queries ----------------------------------------------------------------------

    def trail(
        self,
        subject: str | Sequence[str],
        *,
        after: int = 0,
        first: int = 50,
        since: str | None = None,
        until: str | None = None,
    ) -> tuple[list[dict[str, Any]], bool]:
        """Events about `subject` (or any of several: a project and its merged codes) in global order
        after position `after`; (rows, has_next)."""
        if isinstance(subject, str):
            sql = (
                "SELECT a.* FROM audit_subjects s JOIN audit_events a ON a.position = s.position"
                " WHERE s.subject = ? AND s.position > ?"
            )
            params: list[Any] = [subject, after]
        else:  # an event about two of them (a merge) is listed once
            sql = (
                "SELECT a.* FROM audit_events a WHERE a.position IN (SELECT s.position FROM audit_subjects s"  # noqa: S608
                f" WHERE s.subject IN ({', '.join('?' for _ in subject)})) AND a.position > ?"
            )
            params = [*subject, after]
        if since:
            sql += " AND a.recorded_at >= ?"
            params.append(since)
        if until:
            sql += " AND a.recorded_at < ?"
            params.append(until)
        sql += " ORDER BY a.position LIMIT ?"
        params.append(first + 1)
        rows = self.db.query(sql, params)
        return rows[:first], len(rows) > first

    def about(
        self,
        subjects: Sequence[str],
        *,
        event_types: Sequence[str] = (),
        originators: Sequence[str] = (),
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Events about any of `subjects`, optionally only of these types or aggregates, in global order."""
        if not subjects:
            return []
        sql = (
            "SELECT a.* FROM audit_events a WHERE a.position IN (SELECT s.position FROM audit_subjects s"  # noqa: S608
            f" WHERE s.subject IN ({', '.join('?' for _ in subjects)}))"
        )
        params: list[Any] = list(subjects)
        if event_types:
            sql += f" AND a.event_type IN ({', '.join('?' for _ in event_types)})"
            params.extend(event_types)
        if originators:
            sql += f" AND a.originator_id IN ({', '.join('?' for _ in originators)})"
            params.extend(originators)
        sql += " ORDER BY a.position LIMIT ?"
        params.append(limit)
        return self.db.query(sql, params)

    def stored(self, positions: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The events at these positions exactly as the store holds them (not this model's rows):
        position, originator id, version, topic, state bytes — the inputs of their ledger leaves."""
        if not positions:
            return {}
        marks = ", ".join("?" for _ in positions)
        return {int(r["position"]): r for r in stored_events(self.db, f"IN ({marks})", list(positions))}

    def count(self, subject: str | Sequence[str]) -> int:
        if isinstance(subject, str):
            rows = self.db.query("SELECT COUNT(*) AS n FROM audit_subjects WHERE subject = ?", (subject,))
        else:
            rows = self.db.query(
                "SELECT COUNT(DISTINCT position) AS n FROM audit_subjects"  # noqa: S608 — marks only
                f" WHERE subject IN ({', '.join('?' for _ in subject)})",
                list(subject),
            )
        return int(rows[0]["n"])


def stored_events(db: Database, where: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows of the events table (position, originator_id, originator_version, topic, state) whose
    position satisfies `where` (e.g. "BETWEEN ? AND ?"), in log order."""
    pos = position_column(db)
    return db.query(
        f"SELECT {pos} AS position, originator_id, originator_version, topic, state"  # noqa: S608 — fixed names
        f" FROM {events_table(db)} WHERE {pos} {where} ORDER BY {pos}",
        params,
    )


_FIELDS: dict[type, tuple[str, ...]] = {}


def _content_fields(cls: type) -> tuple[str, ...]:
    """An event class's content fields (looked up once per class, not per event)."""
    if cls not in _FIELDS:
        hidden = META_FIELDS | SECRET_FIELDS.get(cls, frozenset())
        _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.name not in hidden)
    return _FIELDS[cls]


@cache
def _class_of(cls: type) -> tuple[str, str, tuple[str, ...]]:
    """(event type, aggregate type, content fields) of an event class: once per class."""
    event_type = cls.__qualname__  # as `Envelope.event_type`
    return event_type, event_type.split(".")[0], _content_fields(cls)


_json_as_given = sorted_json(sort_keys=False)  # as json.dumps(value, ensure_ascii=False)


def _utc(moment: datetime) -> str:
    """Stored in UTC so that time ranges compare as text on both databases."""
    return moment.astimezone(UTC).isoformat()
