"""case_summary — statistics' counts of closed cases, kept by case_timeline in the batch's transaction.

A case whose figures no longer change with "today" (closed without a clock: withdrawn, not
accepted; or decided with its stop facts stored) counts here, once, under its group key: business
month of receipt, region, item (code and name), stage, department and the calendar that judged its
stop facts ('' for a case without a clock). `case_summary` holds per key the counts statistics
report (received, accepted, approved, refused, refused at acceptance, withdrawn, revoked, decided,
decided overdue, decided with a limit and working days, of those on time); `case_summary_days` per
key the decided cases by working days used (a histogram: mean and p90 need no more).

Every other case (open, or decided with no stored facts) is left to query time: `to_judge` reads
them through a partial index, with the stored cases decided after "today" (counted here, judged
again there). Statistics then cost O(groups), not O(cases).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.approvals.overdue import DECIDED, OPEN
from domain.approvals.selection import CaseSelection
from infrastructure.db import Cursor, Database
from projections.json_text import sorted_json

KEY = ("received_month", "region_code", "item_code", "item_name", "stage", "department", "calendar")
COUNTS = (
    "received", "accepted", "approved", "refused", "refused_at_acceptance", "withdrawn", "revoked", "decided",
    "overdue", "timed", "on_time",
)  # fmt: skip
TABLES = ("case_summary", "case_summary_days")
APPROVED = frozenset({11, 12})
CLOCKED = ", ".join(str(s) for s in sorted(OPEN | DECIDED))
DECIDED_SQL = ", ".join(str(s) for s in sorted(DECIDED))


def create_summary_tables(cur: Cursor, dialect: str) -> None:
    key = (
        "received_month TEXT NOT NULL, region_code TEXT NOT NULL, item_code TEXT NOT NULL, item_name TEXT NOT NULL,"
        " stage INTEGER NOT NULL, department TEXT NOT NULL, calendar TEXT NOT NULL"
    )
    counts = ", ".join(f"{c} INTEGER NOT NULL" for c in COUNTS)
    cur.execute(f"CREATE TABLE IF NOT EXISTS case_summary ({key}, {counts}, PRIMARY KEY ({', '.join(KEY)}))")
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS case_summary_days ({key}, days INTEGER NOT NULL, cases INTEGER NOT NULL,"
        f" PRIMARY KEY ({', '.join(KEY)}, days))"
    )
    # the cases left to query time: open ones and decided ones without stored facts (few)
    cur.execute("CREATE INDEX IF NOT EXISTS cases_unsummarised ON cases (status_code) WHERE stop_overdue IS NULL")
    # the stored ones decided after a "today" in the past; bytewise on PostgreSQL, as `to_judge` compares
    day = 'stopped_on COLLATE "C"' if dialect == "postgresql" else "stopped_on"
    cur.execute(f"CREATE INDEX IF NOT EXISTS cases_stopped ON cases ({day}) WHERE stop_overdue IS NOT NULL")


Key = tuple[Any, ...]


def contribution(row: dict[str, Any]) -> tuple[Key, tuple[int, ...], int | None] | None:
    """(group key, counts, working days or None) a `cases` row adds to the summary; None when
    statistics judge it at query time (open, or decided without stored stop facts)."""
    status = row["status_code"]
    decided = status in DECIDED
    if status in OPEN or (decided and row["stop_overdue"] is None):
        return None
    calendar = row["stop_calendar"] if decided else ""
    key = (*(row[c] for c in KEY[:-1]), calendar)
    days = row["stop_days"] if decided else None
    late = decided and bool(row["stop_overdue"])
    timed = decided and days is not None and row["limit_days"] is not None
    counts = (
        1,
        int(bool(row["accepted_on"])),
        int(status in APPROVED),
        int(status == 13),
        int(status in (4, 5)),
        int(status in (2, 14)),
        int(status == 15),
        int(decided),
        int(late),
        int(timed),
        int(timed and not late),
    )
    return key, counts, days


class SummaryDelta:
    """What a batch changes in the summary: each changed case's old contribution out, its new one in."""

    def __init__(self) -> None:
        self.counts: dict[Key, list[int]] = {}
        self.days: dict[tuple[Key, int], int] = {}

    def add(self, row: dict[str, Any] | None, sign: int) -> None:
        found = contribution(row) if row is not None else None
        if found is None:
            return
        key, counts, days = found
        total = self.counts.setdefault(key, [0] * len(COUNTS))
        for i, n in enumerate(counts):
            total[i] += sign * n
        if days is not None:
            self.days[key, days] = self.days.get((key, days), 0) + sign

    def write(self, cur: Cursor, dialect: str = "") -> None:
        # in key order: writers that share keys take their row locks in one order
        counts = sorted((*k, *v) for k, v in self.counts.items() if any(v))
        days = sorted((*k, d, n) for (k, d), n in self.days.items() if n)
        _upsert(cur, "case_summary", KEY, COUNTS, counts, dialect)
        _upsert(cur, "case_summary_days", (*KEY, "days"), ("cases",), days, dialect)
        emptied = [k for k, v in self.counts.items() if v[0] < 0]  # every case counts as received
        if emptied:
            sql = f"DELETE FROM case_summary WHERE {_key_is(KEY)} AND received = 0"  # noqa: S608
            cur.executemany(sql, emptied)
        emptied = [(*k, d) for (k, d), n in self.days.items() if n < 0]
        if emptied:
            sql = f"DELETE FROM case_summary_days WHERE {_key_is((*KEY, 'days'))} AND cases = 0"  # noqa: S608
            cur.executemany(sql, emptied)
        self.counts.clear()
        self.days.clear()


def _upsert(
    cur: Cursor, table: str, key: Sequence[str], added: Sequence[str], rows: Sequence[Sequence[Any]], dialect: str = ""
) -> None:
    """Add `rows` (key values, then the amounts to add) to `table`: INSERT … ON CONFLICT, one
    executemany (pipelined by psycopg; a multi-row VALUES statement measured 3 times slower to rebuild);
    on PostgreSQL one statement that reads the rows from JSON in their order (a tenth of the CPU per row)."""
    if not rows:
        return
    columns = (*key, *added)
    conflict = (
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(f'{c} = {table}.{c} + excluded.{c}' for c in added)}"
    )
    if dialect == "postgresql":
        cur.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)}"  # noqa: S608
            f" FROM json_populate_recordset(NULL::{table}, ?::json){conflict}",
            (_json([dict(zip(columns, row, strict=True)) for row in rows]),),
        )
        return
    cur.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}){conflict}",  # noqa: S608
        rows,
    )


_json = sorted_json()


def _key_is(key: Sequence[str]) -> str:
    return " AND ".join(f"{c} = ?" for c in key)


# --- queries (statistics) -----------------------------------------------------------------


def selection_where(selection: CaseSelection, db: Database) -> tuple[str, list[Any]]:
    """The selection as a WHERE clause of `cases` (or the summary) and its parameters."""
    conditions: list[str] = []
    params: list[Any] = []
    s = selection
    for column, value in (("item_code", s.item_code), ("stage", s.stage), ("department", s.department)):
        if value is not None:
            conditions.append(f"{column} = ?")
            params.append(value)
    if s.regions is not None:
        conditions.append(f"region_code IN ({', '.join('?' for _ in s.regions)})")
        params.extend(s.regions)
    month = 'received_month COLLATE "C"' if db.dialect == "postgresql" else "received_month"
    for op, value in ((">=", s.month_from), ("<=", s.month_to)):
        if value is not None:
            conditions.append(f"{month} {op} ?")
            params.append(value)
    return " AND ".join(conditions) or "1 = 1", params


# the columns of `statistics_rows`, after the grouping ones: (name, SQL type of its NULL)
PARTS = (
    *((c, "INTEGER") for c in COUNTS),
    ("days", "INTEGER"), ("n", "INTEGER"), ("status_code", "INTEGER"), ("accepted_on", "TEXT"),
    ("limit_days", "INTEGER"), ("pauses", "TEXT"), ("stopped_on", "TEXT"), ("stop_days", "INTEGER"),
    ("stop_overdue", "INTEGER"),
)  # fmt: skip
CLOCK = ("status_code", "accepted_on", "limit_days", "pauses", "stopped_on")


def statistics_rows(
    db: Database, by: Sequence[str], selection: CaseSelection, calendar: str, today: str
) -> list[dict[str, Any]]:
    """What statistics read, in one statement (one round trip), per value of the `by` columns
    (of KEY), each row tagged with its `part`:

    0. the summary's counts, per calendar (facts of another calendar than `calendar`: not to trust);
    1. its decided cases judged under `calendar` by working days used (`days`, `n` cases);
    2. the cases it leaves to query time (open, decided without stored facts: `stop_overdue` NULL),
       by clock (`n` cases each), through the partial index `cases_unsummarised`;
    3. the stored ones decided after `today`, by clock and stored facts: the summary counts them
       as of their stop day, statistics as of `today`."""
    where, params = selection_where(selection, db)
    day = 'stopped_on COLLATE "C"' if db.dialect == "postgresql" else "stopped_on"
    grouped = ", ".join([*by, "calendar"])

    def select(part: int, calendar_sql: str, values: dict[str, str]) -> str:
        columns = [*by, f"{part} AS part", f"{calendar_sql} AS calendar"]
        columns += [f"{values[c]} AS {c}" if c in values else f"CAST(NULL AS {t}) AS {c}" for c, t in PARTS]
        return f"SELECT {', '.join(columns)}"

    clock = {c: c for c in CLOCK}
    judged = ", ".join([*by, *CLOCK])
    stored = {**clock, "stop_days": "stop_days", "stop_overdue": "stop_overdue"}
    sql = (
        f"{select(0, 'calendar', {c: f'SUM({c})' for c in COUNTS})} FROM case_summary WHERE {where}"
        f" GROUP BY {grouped}"
        f" UNION ALL {select(1, 'calendar', {'days': 'days', 'n': 'SUM(cases)'})} FROM case_summary_days"
        f" WHERE calendar = ? AND {where} GROUP BY {grouped}, days"
        f" UNION ALL {select(2, 'CAST(NULL AS TEXT)', {**clock, 'n': 'COUNT(*)'})} FROM cases"
        f" WHERE stop_overdue IS NULL AND status_code IN ({CLOCKED}) AND {where} GROUP BY {judged}"
        f" UNION ALL {select(3, 'stop_calendar', {**stored, 'n': 'COUNT(*)'})} FROM cases"
        f" WHERE stop_overdue IS NOT NULL AND status_code IN ({DECIDED_SQL}) AND {day} > ? AND {where}"
        f" GROUP BY {judged}, stop_calendar, stop_days, stop_overdue"
    )
    return db.query(sql, [*params, calendar, *params, *params, today, *params])


def cases_selected(db: Database, selection: CaseSelection) -> list[dict[str, Any]]:
    """Every `cases` row of the selection, in creation order (statistics judged case by case)."""
    where, params = selection_where(selection, db)
    return db.query(f"SELECT * FROM cases WHERE {where} ORDER BY created_position", params)  # noqa: S608
