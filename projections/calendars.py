"""工作日历 as a read model sees it: each read model that counts working days keeps the schedules
published in the log (WorkCalendar.Published / Revised) in a table of its own, in log order, so
a rebuild of that read model alone reads the same events and gets the same days as the live run.
Years without a row follow the chinesecalendar package (or weekends only)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from domain.shared.workdays import PACKAGE, Calendar
from domain.work_calendar import WorkCalendar, schedule_of
from infrastructure.db import Cursor
from projections.base import Envelope, Events

CALENDAR_EVENTS = Events(WorkCalendar.Published, WorkCalendar.Revised)
CALENDAR_COLUMNS = (
    "year", "calendar_id", "version", "notice_number", "notice_date", "notice_title", "holidays", "position",
    "recorded_at",
)  # fmt: skip


def calendar_table_sql(table: str, big: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {table} ("
        " year INTEGER PRIMARY KEY, calendar_id TEXT NOT NULL, version INTEGER NOT NULL, notice_number TEXT NOT NULL,"
        f" notice_date TEXT NOT NULL, notice_title TEXT NOT NULL, holidays TEXT NOT NULL, position {big} NOT NULL,"
        " recorded_at TEXT NOT NULL)"
    )


def store_schedule(cur: Cursor, env: Envelope, table: str) -> int:
    """The year's row replaced by the published schedule; returns the year."""
    e: Any = env.event
    calendar_id = str(e.originator_id)
    if isinstance(e, WorkCalendar.Published):
        year = int(e.year)
    else:
        cur.execute(f"SELECT year FROM {table} WHERE calendar_id = ?", (calendar_id,))  # noqa: S608 — our names
        found = cur.fetchone()
        if found is None:  # cannot happen when processing starts at position 0
            raise LookupError(f"work calendar {calendar_id} not in {table}")
        year = int(found["year"])
    cur.execute(f"DELETE FROM {table} WHERE year = ?", (year,))  # noqa: S608 — our names
    values = (
        year,
        calendar_id,
        e.originator_version,
        e.notice_number,
        e.notice_date.isoformat(),
        e.notice_title,
        json.dumps(e.holidays, ensure_ascii=False, sort_keys=True),
        env.position,
        e.timestamp.isoformat(),
    )
    cur.insert_rows(table, CALENDAR_COLUMNS, [values])
    return year


def published_years(cur: Cursor, table: str) -> frozenset[int]:
    cur.execute(f"SELECT year FROM {table}")  # noqa: S608 — our names
    return frozenset(int(r["year"]) for r in cur.fetchall())


def calendar_of(rows: Sequence[dict[str, Any]]) -> Calendar:
    """The calendar in force from calendar rows (package years without a row)."""
    if not rows:
        return PACKAGE
    return Calendar.of(
        schedule_of(int(r["year"]), json.loads(r["holidays"]), r["notice_number"], int(r["version"])) for r in rows
    )


def calendar_in(cur: Cursor, table: str) -> Calendar:
    cur.execute(f"SELECT * FROM {table} ORDER BY year")  # noqa: S608 — our names
    return calendar_of(cur.fetchall())
