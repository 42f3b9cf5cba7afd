"""audit_trail — every event about a subject, in global order.

Answers: what happened to this project / case / actor, who did it, through which channel, when
(business and recorded time). Consumes every Project and Case event (receipts are not facts about
a subject). Tables: `audit_events` (one row per event) and `audit_subjects` (subject → position).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from infrastructure.db import Cursor, Database
from projections.base import META_FIELDS, Envelope, ReadModel, bigint, to_json

AGGREGATES = ("Project.", "Case.")


class AuditTrail(ReadModel):
    name = "audit_trail"
    tables = ("audit_subjects", "audit_events")

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        # later events do not repeat the project code: aggregate id -> project code
        self._project_of: dict[str, str] = {}

    def subjects_of(self, envelope: Envelope) -> list[tuple[str, str]]:
        """(subject, kind) pairs an event is about."""
        e: Any = envelope.event
        found: list[tuple[str, str]] = [(e.actor_id, "actor")]
        if envelope.event_type.startswith("Case."):
            found.append((str(e.originator_id), "case"))
        code = self._project_of.get(str(e.originator_id))
        if code:
            found.append((code, "project"))
        for attr, kind in (("case_id", "case"), ("canonical_code", "project"), ("duplicate_code", "project")):
            value = getattr(e, attr, None)
            if value:
                found.append((str(value), kind))
        return list(dict.fromkeys(found))

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

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        events: list[tuple[Any, ...]] = []
        subjects: list[tuple[Any, ...]] = []
        for env in batch:
            if not env.event_type.startswith(AGGREGATES):
                continue
            e: Any = env.event
            self._remember(cur, env)
            data = {f.name: getattr(e, f.name) for f in dataclasses.fields(e) if f.name not in META_FIELDS}
            events.append(
                (
                    env.position,
                    str(e.originator_id),
                    e.originator_version,
                    env.event_type.split(".")[0],
                    env.event_type,
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
            subjects.extend((subject, kind, env.position) for subject, kind in self.subjects_of(env))
        if events:
            cur.executemany(
                "INSERT INTO audit_events (position, originator_id, originator_version, aggregate_type, event_type,"
                " actor_id, actor_role, actor_org, channel, request_id, occurred_at, recorded_at, business_time, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                events,
            )
            cur.executemany("INSERT INTO audit_subjects (subject, kind, position) VALUES (?, ?, ?)", subjects)

    def _remember(self, cur: Cursor, env: Envelope) -> None:
        """Keep the project code of each aggregate id (from its creation event, or from the table)."""
        e: Any = env.event
        oid = str(e.originator_id)
        if env.event_type == "Project.Generated":
            self._project_of[oid] = e.code
        elif env.event_type in ("Case.Received", "Case.BackEntered"):
            self._project_of[oid] = e.project_code
        elif oid not in self._project_of:
            cur.execute(
                "SELECT s.subject FROM audit_events a JOIN audit_subjects s ON s.position = a.position"
                " WHERE a.originator_id = ? AND a.originator_version = 1 AND s.kind = 'project'",
                (oid,),
            )
            row = cur.fetchone()
            if row:
                self._project_of[oid] = row["subject"]

    # --- queries ----------------------------------------------------------------------

    def trail(
        self,
        subject: str,
        *,
        after: int = 0,
        first: int = 50,
        since: str | None = None,
        until: str | None = None,
    ) -> tuple[list[dict[str, Any]], bool]:
        """Events about `subject` in global order after position `after`; (rows, has_next)."""
        sql = (
            "SELECT a.* FROM audit_subjects s JOIN audit_events a ON a.position = s.position"
            " WHERE s.subject = ? AND s.position > ?"
        )
        params: list[Any] = [subject, after]
        if since:
            sql += " AND a.recorded_at >= ?"
            params.append(since)
        if until:
            sql += " AND a.recorded_at < ?"
            params.append(until)
        sql += " ORDER BY s.position LIMIT ?"
        params.append(first + 1)
        rows = self.db.query(sql, params)
        return rows[:first], len(rows) > first

    def count(self, subject: str) -> int:
        rows = self.db.query("SELECT COUNT(*) AS n FROM audit_subjects WHERE subject = ?", (subject,))
        return int(rows[0]["n"])


def _utc(moment: datetime) -> str:
    """Stored in UTC so that time ranges compare as text on both databases."""
    return moment.astimezone(UTC).isoformat()
