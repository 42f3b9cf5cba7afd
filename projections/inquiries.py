"""inquiries — accountability inquiries (问责) and their outcome.

Answers: which inquiries are open where and about which department, what was found and decided,
and the confirmed-violation rates by department and region. Whether an explanation is overdue
depends on today, so it is computed at query time from the stored deadlines (`pending`).
Consumes: Inquiry.* events. Tables: `inquiries`, `inquiry_events`.

Also here: `find_warning`, the lookup of a warning row in the offline_warnings read model's
`warnings` table that the supervision service needs (None while unknown).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import date
from typing import Any, cast

import psycopg

from domain.shared.reference import regions_within
from domain.supervision.inquiry import Inquiry
from infrastructure.db import Cursor, Database
from projections.base import META_FIELDS, Envelope, Events, ReadModel, Rows, Where, bigint, to_json

DETAIL_SKIP = META_FIELDS
GROUP_COLUMNS = {"department": "department", "region": "region_code"}
INQUIRY_COLUMNS = (
    "inquiry_id", "subject", "department", "region_code", "reason", "warning_ids", "status", "pending",
    "explanations", "finding", "finding_summary", "sanctions", "conclusion", "opened_at", "opened_on", "opened_by",
    "closed_at", "opened_position", "last_position", "updated_at",
)  # fmt: skip
EVENT_COLUMNS = (
    "inquiry_id", "seq", "position", "event_type", "business_time", "recorded_at", "actor_id", "actor_role",
    "actor_org", "channel", "detail",
)  # fmt: skip


def find_warning(db: Database, warning_id: str) -> dict[str, Any] | None:
    try:
        rows = db.query("SELECT * FROM warnings WHERE warning_id = ?", (warning_id,))
    except (sqlite3.OperationalError, psycopg.errors.UndefinedTable):
        return None  # the warnings read model is not installed: no warning is known
    return rows[0] if rows else None


INQUIRY_EVENTS = Events(Inquiry)


class Inquiries(ReadModel):
    name = "inquiries"
    tables = ("inquiry_events", "inquiries")
    reads = INQUIRY_EVENTS

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS inquiries ("
            " inquiry_id TEXT PRIMARY KEY, subject TEXT NOT NULL, department TEXT NOT NULL,"
            " region_code TEXT NOT NULL, reason TEXT NOT NULL, warning_ids TEXT NOT NULL, status TEXT NOT NULL,"
            " pending TEXT NOT NULL, explanations INTEGER NOT NULL, finding TEXT, finding_summary TEXT,"
            " sanctions TEXT NOT NULL, conclusion TEXT, opened_at TEXT NOT NULL, opened_on TEXT NOT NULL,"
            " opened_by TEXT NOT NULL, closed_at TEXT,"
            f" opened_position {big} NOT NULL, last_position {big} NOT NULL, updated_at TEXT NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS inquiry_events ("
            f" inquiry_id TEXT NOT NULL, seq INTEGER NOT NULL, position {big} NOT NULL, event_type TEXT NOT NULL,"
            " business_time TEXT NOT NULL, recorded_at TEXT NOT NULL, actor_id TEXT NOT NULL,"
            " actor_role TEXT NOT NULL, actor_org TEXT NOT NULL, channel TEXT NOT NULL, detail TEXT NOT NULL,"
            " PRIMARY KEY (inquiry_id, seq))"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS inquiries_region_status ON inquiries (region_code, status)")

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        """Per batch: the inquiries it touches read in one query, written back once."""
        batch = INQUIRY_EVENTS.of(batch)
        inquiries = Rows("inquiries", "inquiry_id", INQUIRY_COLUMNS)
        inquiries.load(cur, {str(cast(Any, env.event).originator_id) for env in batch})
        events = [self._apply(cur, inquiries, env) for env in batch]
        inquiries.flush(cur)
        cur.insert_rows("inquiry_events", EVENT_COLUMNS, events)

    def _apply(self, cur: Cursor, inquiries: Rows, env: Envelope) -> tuple[Any, ...]:
        e: Any = env.event
        inquiry_id = str(e.originator_id)
        if isinstance(e, Inquiry.Opened):
            inquiries.insert(
                {
                    "inquiry_id": inquiry_id,
                    "subject": e.subject,
                    "department": e.department,
                    "region_code": e.region_code,
                    "reason": e.reason,
                    "warning_ids": json.dumps(e.warning_ids),
                    "status": "opened",
                    "pending": "{}",
                    "explanations": 0,
                    "finding": None,
                    "finding_summary": None,
                    "sanctions": "[]",
                    "conclusion": None,
                    "opened_at": e.business_time.isoformat(),
                    "opened_on": e.business_date.isoformat(),
                    "opened_by": e.actor_id,
                    "closed_at": None,
                    "opened_position": env.position,
                    "last_position": env.position,
                    "updated_at": e.timestamp.isoformat(),
                }
            )
        else:
            row = inquiries.get(cur, inquiry_id)
            if row is None:  # cannot happen when processing starts at position 0
                raise LookupError(f"inquiry {inquiry_id} not in inquiries")
            updates = _updates(e, row)
            updates.update(last_position=env.position, updated_at=e.timestamp.isoformat())
            inquiries.update(inquiry_id, updates)
        detail = {k: v for k, v in vars(e).items() if k not in DETAIL_SKIP}
        return (
            inquiry_id,
            e.originator_version,
            env.position,
            env.event_type,
            e.business_time.isoformat(),
            e.timestamp.isoformat(),
            e.actor_id,
            e.actor_role,
            e.actor_org,
            str(e.channel),
            to_json(detail),
        )

    # --- queries ----------------------------------------------------------------------------------

    def get(self, inquiry_id: str) -> dict[str, Any] | None:
        rows = self.db.query("SELECT * FROM inquiries WHERE inquiry_id = ?", (inquiry_id,))
        return rows[0] if rows else None

    def events_of(self, inquiry_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Events of many inquiries in one query (no N+1 for lists)."""
        found: dict[str, list[dict[str, Any]]] = {i: [] for i in inquiry_ids}
        if not inquiry_ids:
            return found
        marks = ", ".join("?" for _ in inquiry_ids)
        for row in self.db.query(
            f"SELECT * FROM inquiry_events WHERE inquiry_id IN ({marks}) ORDER BY inquiry_id, seq",  # noqa: S608
            list(inquiry_ids),
        ):
            found[row["inquiry_id"]].append(row)
        return found

    def search(
        self,
        *,
        status: str | None = None,
        region_scope: str | None = None,
        department: str | None = None,
        finding: str | None = None,
        opened_from: date | None = None,
        opened_to: date | None = None,
        after: int = 0,
        first: int = 50,
    ) -> tuple[list[dict[str, Any]], bool, int]:
        """Inquiries ordered by opening position after `after`; (rows, has_next, total)."""
        where = Where()
        where.conditions, where.params = _filters(status, region_scope, department, finding, opened_from, opened_to)
        return where.page(self.db, "inquiries", "opened_position", after, first)

    def violation_rates(
        self,
        group_by: str,
        *,
        status: str | None = None,
        region_scope: str | None = None,
        department: str | None = None,
        opened_from: date | None = None,
        opened_to: date | None = None,
    ) -> list[dict[str, Any]]:
        """Per department or region: inquiries, those with a finding, confirmed violations."""
        column = GROUP_COLUMNS[group_by]
        conditions, params = _filters(status, region_scope, department, None, opened_from, opened_to)
        where = " AND ".join(conditions) or "1 = 1"
        return self.db.query(
            f"SELECT {column} AS key, COUNT(*) AS inquiries,"  # noqa: S608 — column from GROUP_COLUMNS
            " SUM(CASE WHEN finding IS NOT NULL THEN 1 ELSE 0 END) AS decided,"
            " SUM(CASE WHEN finding = 'violation_confirmed' THEN 1 ELSE 0 END) AS confirmed"
            f" FROM inquiries WHERE {where} GROUP BY {column} ORDER BY {column}",
            params,
        )


def _updates(e: Any, row: dict[str, Any]) -> dict[str, Any]:
    pending: dict[str, str] = json.loads(row["pending"])
    match e:
        case Inquiry.ExplanationRequested():
            pending[e.department] = e.deadline.isoformat()
            return {"pending": json.dumps(pending, sort_keys=True), "status": "explanation_requested"}
        case Inquiry.ExplanationRecorded():
            pending.pop(e.department, None)
            return {
                "pending": json.dumps(pending, sort_keys=True),
                "explanations": row["explanations"] + 1,
                "status": "explanation_requested" if pending else "explained",
            }
        case Inquiry.FindingRecorded():
            return {"finding": e.finding, "finding_summary": e.summary, "status": "finding_recorded"}
        case Inquiry.SanctionRecorded():
            sanctions = json.loads(row["sanctions"])
            sanctions.append(
                {
                    "sanction_type": e.sanction_type,
                    "target": e.target,
                    "decision_number": e.decision_number,
                    "detail": e.detail,
                    "recorded_on": e.business_date.isoformat(),
                }
            )
            return {"sanctions": to_json(sanctions), "status": "sanctioned"}
        case Inquiry.Closed():
            return {"conclusion": e.conclusion, "closed_at": e.business_time.isoformat(), "status": "closed"}
    return {}


def _filters(
    status: str | None,
    region_scope: str | None,
    department: str | None,
    finding: str | None,
    opened_from: date | None,
    opened_to: date | None,
) -> tuple[list[str], list[Any]]:
    conditions: list[str] = []
    params: list[Any] = []
    for column, value in (("status", status), ("department", department), ("finding", finding)):
        if value is not None:
            conditions.append(f"{column} = ?")
            params.append(value)
    if opened_from is not None:
        conditions.append("opened_on >= ?")
        params.append(opened_from.isoformat())
    if opened_to is not None:
        conditions.append("opened_on <= ?")
        params.append(opened_to.isoformat())
    if region_scope and region_scope != "460000":
        codes = regions_within(region_scope)
        conditions.append(f"region_code IN ({', '.join('?' for _ in codes)})")
        params.extend(codes)
    return conditions, params
