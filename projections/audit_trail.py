"""audit_trail — every event about a subject, in global order.

Answers: what happened to this project / case / actor, who did it, through which channel, when
(business and recorded time). Consumes every Project and Case event (receipts are not facts about
a subject). Tables: `audit_events` (one row per event) and `audit_subjects` (subject → position).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from infrastructure.db import Cursor, Database
from projections.base import META_FIELDS, Envelope, Lru, ReadModel, bigint, to_json

AGGREGATES = ("Project.", "Case.")
CREATED = frozenset({"Project.Generated", "Case.Received", "Case.BackEntered"})
SUBJECT_FIELDS = (("case_id", "case"), ("canonical_code", "project"), ("duplicate_code", "project"))
PROJECT_CACHE = 50_000  # aggregates whose project code is kept between batches
EVENT_COLUMNS = (
    "position", "originator_id", "originator_version", "aggregate_type", "event_type", "actor_id", "actor_role",
    "actor_org", "channel", "request_id", "occurred_at", "recorded_at", "business_time", "data",
)  # fmt: skip


class AuditTrail(ReadModel):
    name = "audit_trail"
    tables = ("audit_subjects", "audit_events")

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        # later events do not repeat the project code: aggregate id -> project code (bounded)
        self._project_of = Lru(PROJECT_CACHE)

    def subjects_of(self, envelope: Envelope) -> list[tuple[str, str]]:
        """(subject, kind) pairs an event is about."""
        return list(self._subjects(envelope.event, envelope.event_type, str(envelope.event.originator_id)))

    def _subjects(self, e: Any, event_type: str, oid: str) -> dict[tuple[str, str], None]:
        """`subjects_of` with the aggregate id already as text; an insertion-ordered set."""
        found: list[tuple[str, str]] = [(e.actor_id, "actor")]
        if event_type.startswith("Case."):
            found.append((oid, "case"))
        code = self._project_of.get(oid)
        if code:
            found.append((code, "project"))
        for attr, kind in SUBJECT_FIELDS:
            value = getattr(e, attr, None)
            if value:
                found.append((str(value), kind))
        return dict.fromkeys(found)

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
            "CREATE INDEX IF NOT EXISTS audit_events_origin ON audit_events (originator_id, originator_version)"
        )
        # `_recall` finds an older aggregate's project by its first event's position: without this a
        # command on a case no longer remembered scanned every subject (20 ms a batch at 1M events)
        cur.execute(
            "CREATE INDEX IF NOT EXISTS audit_subjects_project_position ON audit_subjects (position)"
            " WHERE kind = 'project'"
        )

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        events: list[tuple[Any, ...]] = []
        subjects: list[tuple[Any, ...]] = []
        batch = [env for env in batch if env.event_type.startswith(AGGREGATES)]
        ids = [str(cast(Any, env.event).originator_id) for env in batch]  # once per event: str(UUID) is dear
        pairs = list(zip(batch, ids, strict=True))
        created = {oid for env, oid in pairs if env.event_type in CREATED}
        # an aggregate created in this batch (a submit and its accept) is remembered below: no look-up
        self._recall(cur, {oid for env, oid in pairs if env.event_type not in CREATED and oid not in created})
        for env, oid in pairs:
            e: Any = env.event
            event_type = env.event_type
            position = env.position
            self._remember(e, event_type, oid)
            data = {name: getattr(e, name) for name in _content_fields(type(e))}
            events.append(
                (
                    position,
                    oid,
                    e.originator_version,
                    event_type.split(".")[0],
                    event_type,
                    e.actor_id,
                    e.actor_role,
                    e.actor_org,
                    str(e.channel),
                    e.request_id,
                    e.occurred_at.isoformat() if e.occurred_at else None,
                    e.timestamp.isoformat(),
                    e.business_time.isoformat(),
                    to_json(data),
                )
            )
            subjects.extend((subject, kind, position) for subject, kind in self._subjects(e, event_type, oid))
        cur.insert_rows("audit_events", EVENT_COLUMNS, events)
        cur.insert_rows("audit_subjects", ("subject", "kind", "position"), subjects)

    def _remember(self, e: Any, event_type: str, oid: str) -> None:
        """Keep the project code of each aggregate id from its creation event."""
        if event_type == "Project.Generated":
            self._project_of.remember(oid, e.code)
        elif event_type in ("Case.Received", "Case.BackEntered"):
            self._project_of.remember(oid, e.project_code)

    def _recall(self, cur: Cursor, ids: set[str]) -> None:
        """Read the project codes of aggregates created in earlier batches (and not kept), in one query."""
        missing = [oid for oid in ids if oid not in self._project_of]
        for start in range(0, len(missing), 500):
            part = missing[start : start + 500]
            cur.execute(
                "SELECT a.originator_id, s.subject FROM audit_events a JOIN audit_subjects s"  # noqa: S608 — marks only
                f" ON s.position = a.position WHERE a.originator_id IN ({', '.join('?' for _ in part)})"
                " AND a.originator_version = 1 AND s.kind = 'project'",
                part,
            )
            for row in cur.fetchall():
                self._project_of.remember(row["originator_id"], row["subject"])

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


_FIELDS: dict[type, tuple[str, ...]] = {}


def _content_fields(cls: type) -> tuple[str, ...]:
    """An event class's content fields (looked up once per class, not per event)."""
    if cls not in _FIELDS:
        _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.name not in META_FIELDS)
    return _FIELDS[cls]


def _utc(moment: datetime) -> str:
    """Stored in UTC so that time ranges compare as text on both databases."""
    return moment.astimezone(UTC).isoformat()
