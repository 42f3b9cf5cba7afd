"""case_timeline — each case's current state and every status it went through.

Answers: where is this case, who moved it and when (business and recorded time), how much of its
limit is used. Working days, deadline and overdue are computed at query time by the domain's
CaseClock from the stored acceptance date, limit and pauses (so "today" is always today). Once a
case's clock has stopped (decided or closed) they never change: the row also keeps them as of its
stop day (`stop_days`, `stop_overdue`, with the calendar that judged them), so statistics sum and
rank stopped cases in SQL and judge only open ones at query time; and its month of receipt
(`received_month`, Asia/Shanghai), by which they group and filter.

工作日历: the working calendar the clocks count on is the one this read model has read from the log
(`case_calendars`, one row per published year, from WorkCalendar.Published/Revised in log order;
years without a row follow the chinesecalendar package, or weekends only). Queries build it with
`calendar()`; a rebuild reads the same events and so gets the same rows. Stop facts are stored only
for closed clocks wholly in package years no published schedule overrides; publishing a year clears
the stored stop facts of the cases that reach into it (judged at query time from then on).

统计汇总: the cases whose figures no longer change also count, in the same transaction, in the
summary of projections/case_summary.py (`case_summary`, `case_summary_days`), which statistics read.
Consumes: Case.*, WorkCalendar.* events. Tables: `cases`, `case_transitions`, `case_calendars`,
`case_summary`, `case_summary_days`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any, cast

from domain.approvals import Case, CaseStatus, Decision
from domain.approvals.clock import clock_of
from domain.approvals.overdue import OPEN
from domain.shared.events import SHANGHAI
from domain.shared.reference import regions_within
from domain.shared.workdays import PACKAGE_SOURCE, Calendar, package_covers
from infrastructure.db import Cursor, Database
from projections.base import META_FIELDS, Envelope, Events, ReadModel, Rows, Where, bigint, grouped_rows, to_json
from projections.calendars import CALENDAR_EVENTS, calendar_of, calendar_table_sql, published_years, store_schedule
from projections.case_summary import TABLES as SUMMARY_TABLES
from projections.case_summary import SummaryDelta, create_summary_tables

DETAIL_SKIP = META_FIELDS | {"materials", "project_id"}
CREATED = frozenset({Case.Received, Case.BackEntered})
CASE_EVENTS = Events(Case)
CASE_COLUMNS = (
    "case_id", "project_code", "item_code", "item_name", "stage", "department", "region_code", "applicant_org",
    "acceptance_mode", "parallel_application_id", "status_code", "status", "received_at", "accepted_on",
    "limit_days", "legal_limit_days", "pauses", "stopped_on", "corrections", "back_entered", "channel",
    "created_position", "last_position", "updated_at", "received_month", "stop_days", "stop_overdue",
    "stop_calendar",
)  # fmt: skip
STOP_COLUMNS = ("stop_days", "stop_overdue", "stop_calendar")
TRANSITION_COLUMNS = (
    "case_id", "seq", "position", "event_type", "status_code", "status", "business_time", "recorded_at",
    "actor_id", "actor_role", "actor_org", "channel", "request_id", "detail",
)  # fmt: skip


class CaseTimeline(ReadModel):
    name = "case_timeline"
    tables = ("case_transitions", "cases", "case_calendars", *SUMMARY_TABLES)
    # 2: received_month, stop_days, stop_overdue, stop_calendar; 3: case_calendars; 4: case_summary*
    shape = 4
    reads = CASE_EVENTS | CALENDAR_EVENTS

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS cases ("
            " case_id TEXT PRIMARY KEY, project_code TEXT NOT NULL, item_code TEXT NOT NULL,"
            " item_name TEXT NOT NULL, stage INTEGER NOT NULL, department TEXT NOT NULL,"
            " region_code TEXT NOT NULL, applicant_org TEXT NOT NULL, acceptance_mode INTEGER,"
            " parallel_application_id TEXT, status_code INTEGER NOT NULL, status TEXT NOT NULL,"
            " received_at TEXT NOT NULL, accepted_on TEXT, limit_days INTEGER, legal_limit_days INTEGER,"
            " pauses TEXT NOT NULL, stopped_on TEXT, corrections INTEGER NOT NULL, back_entered INTEGER NOT NULL,"
            f" channel TEXT NOT NULL, created_position {big} NOT NULL, last_position {big} NOT NULL,"
            " updated_at TEXT NOT NULL, received_month TEXT, stop_days INTEGER, stop_overdue INTEGER, stop_calendar TEXT)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS case_transitions ("
            f" case_id TEXT NOT NULL, seq INTEGER NOT NULL, position {big} NOT NULL,"
            " event_type TEXT NOT NULL, status_code INTEGER NOT NULL, status TEXT NOT NULL,"
            " business_time TEXT NOT NULL, recorded_at TEXT NOT NULL, actor_id TEXT NOT NULL,"
            " actor_role TEXT NOT NULL, actor_org TEXT NOT NULL, channel TEXT NOT NULL,"
            " request_id TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (case_id, seq))"
        )
        cur.execute(calendar_table_sql("case_calendars", big))
        cur.execute("CREATE INDEX IF NOT EXISTS cases_project ON cases (project_code)")
        cur.execute("CREATE INDEX IF NOT EXISTS cases_region_status ON cases (region_code, status_code)")
        # case lists page in creation order: without it every page sorts the whole table
        cur.execute("CREATE INDEX IF NOT EXISTS cases_created ON cases (created_position)")
        create_summary_tables(cur, dialect)

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        """Per batch: the cases it touches read in one query, changed in memory, written back once."""
        # the batch's case and calendar events in log order, in one pass (each class judged once)
        events: list[Envelope] = []
        published: list[Envelope] = []
        for env in batch:
            kind = _read(type(env.event))
            if kind is not None:
                (events if kind else published).append(env)
        years = [
            store_schedule(cur, env, "case_calendars") for env in published
        ]  # log order: a correction replaces its row
        if not events and not published:
            return
        cases = Rows("cases", "case_id", CASE_COLUMNS)
        ids = [str(cast(Any, env.event).originator_id) for env in events]  # once per event: str(UUID) is dear
        cases.load(cur, {oid for env, oid in zip(events, ids, strict=True) if type(env.event) not in CREATED})
        summary = SummaryDelta()
        for row in cases.rows.values():  # every case the batch changes, as it was: out of the summary
            summary.add(row, -1)
        transitions: list[tuple[Any, ...]] = []
        for env, oid in zip(events, ids, strict=True):
            e: Any = env.event
            # each time as text once per event (the business time is most often the recording time)
            recorded = e.timestamp.isoformat()
            at = e.business_time
            when = recorded if at is e.timestamp else at.isoformat()
            status = self._apply(cur, cases, env, oid, when, recorded)
            label = cases.rows[oid]["status"]  # type: ignore[index]  # its label, as `_apply` set it
            transitions.append(_transition(env, status, label, oid, when, recorded))
        overridden = published_years(cur, "case_calendars") if events else frozenset()
        for key in (*cases.new, *cases.dirty):  # a changed clock: its stop facts judged again
            row = cases.rows[key]
            assert row is not None
            row.update(zip(STOP_COLUMNS, stop_facts(row, overridden), strict=True))
        for row in cases.rows.values():  # and as they are now (new ones included): in
            summary.add(row, +1)
        cases.flush(cur)
        cur.insert_rows("case_transitions", TRANSITION_COLUMNS, transitions)
        for year in sorted(set(years)):
            _clear_stop_facts(cur, year, summary)
        summary.write(cur, self.db.dialect)

    def _apply(self, cur: Cursor, cases: Rows, env: Envelope, case_id: str, when: str, recorded: str) -> CaseStatus:
        e: Any = env.event
        kind = e.__class__
        day = e.business_date.isoformat() if _dated(kind) else ""  # only for the events that use it
        if kind in CREATED:
            back_entry = kind is Case.BackEntered
            status = _decision_status(e.decision) if back_entry else CaseStatus.RECEIVED
            received_at = e.received_on.isoformat() if back_entry and e.received_on else when
            cases.insert(
                {
                    "case_id": case_id,
                    "project_code": e.project_code,
                    "item_code": e.item_code,
                    "item_name": e.item_name,
                    "stage": e.stage,
                    "department": e.department,
                    "region_code": e.region_code,
                    "applicant_org": e.applicant_org,
                    "acceptance_mode": getattr(e, "acceptance_mode", None),
                    "parallel_application_id": getattr(e, "parallel_application_id", None),
                    "status_code": int(status),
                    "status": status.label,
                    "received_at": received_at,
                    "accepted_on": (e.accepted_on.isoformat() if back_entry and e.accepted_on else None),
                    "limit_days": None,
                    "legal_limit_days": None,
                    "pauses": "[]",
                    "stopped_on": (day if back_entry else None),
                    "corrections": 0,
                    "back_entered": 1 if back_entry else 0,
                    "channel": str(e.channel),
                    "created_position": env.position,
                    "last_position": env.position,
                    "updated_at": recorded,
                    "received_month": received_month_of(received_at),
                    "stop_days": None,
                    "stop_overdue": None,
                    "stop_calendar": None,
                }
            )
            return status
        current = cases.get(cur, case_id)
        if current is None:  # cannot happen when processing starts at position 0
            raise LookupError(f"case {case_id} not in case_timeline")
        status = CaseStatus(current["status_code"])
        # most events leave the pauses alone: parsed and written again only by those that change them
        pausing = kind in PAUSING
        pauses: list[dict[str, Any]] = json.loads(current["pauses"]) if pausing else []
        updates: dict[str, Any] = {}
        match e:
            case Case.Accepted():
                updates = {
                    "accepted_on": day,
                    "limit_days": e.promised_limit_days,
                    "legal_limit_days": e.legal_limit_days,
                }
            case Case.CorrectionRequested():
                updates = {"corrections": current["corrections"] + 1}
                if current["accepted_on"]:
                    pauses.append({"kind": "correction", "start": day, "end": None})
            case Case.SpecialProcedureStarted():
                pauses.append(
                    {
                        "kind": "special_procedure",
                        "start": day,
                        "end": None,
                        "procedure_type": e.procedure_type,
                        "limit_days": e.limit_days,
                    }
                )
            case Case.CorrectionCompleted() | Case.SpecialProcedureEnded():
                _close(pauses, day)
            case (
                Case.Approved()
                | Case.ApprovedPendingMaterials()
                | Case.Refused()
                | Case.NotAccepted()
                | Case.AcceptanceRefused()
            ):
                updates = {"stopped_on": day}
            case Case.Withdrawn():
                _close(pauses, day)
                updates = {"stopped_on": day}
        new_status = CaseStatus(e.status_code) if kind is Case.Withdrawn else (type(e).STATUS or status)
        updates.update(
            status_code=int(new_status),
            status=new_status.label,
            last_position=env.position,
            updated_at=recorded,
        )
        if pausing:
            updates["pauses"] = json.dumps(pauses)
        cases.update(case_id, updates)
        return new_status

    # --- queries ----------------------------------------------------------------------

    def calendar(self) -> Calendar:
        """工作日历 — the working calendar as this read model has read it from the log."""
        return read_calendar(self.db)

    def calendar_row(self, year: int) -> dict[str, Any] | None:
        rows = self.db.query("SELECT * FROM case_calendars WHERE year = ?", (year,))
        return rows[0] if rows else None

    def open_cases(self, year: int) -> list[str]:
        """Accepted cases not stopped, accepted on or before the end of `year` (recompute candidates)."""
        rows = self.db.query(
            "SELECT case_id FROM cases WHERE accepted_on IS NOT NULL AND stopped_on IS NULL AND accepted_on <= ?"
            " ORDER BY created_position",
            (f"{year}-12-31",),
        )
        return [r["case_id"] for r in rows]

    def get(self, case_id: str) -> dict[str, Any] | None:
        rows = self.db.query("SELECT * FROM cases WHERE case_id = ?", (case_id,))
        return rows[0] if rows else None

    def transitions(self, case_id: str) -> list[dict[str, Any]]:
        return self.db.query("SELECT * FROM case_transitions WHERE case_id = ? ORDER BY seq", (case_id,))

    def transitions_of(self, case_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Transitions of many cases in one query (no N+1 for lists)."""
        return grouped_rows(self.db, "case_transitions", "case_id", case_ids)

    def list(
        self,
        *,
        project_code: str | None = None,
        region_scope: str | None = None,
        applicant_org: str | None = None,
        item_code: str | None = None,
        status_code: int | None = None,
        stage: int | None = None,
        after: int = 0,
        first: int = 50,
    ) -> tuple[list[dict[str, Any]], bool, int]:
        """Cases ordered by creation position after `after`; (rows, has_next, total)."""
        where = (
            Where()
            .equal("project_code", project_code)
            .equal("applicant_org", applicant_org)
            .equal("item_code", item_code)
            .equal("status_code", status_code)
            .equal("stage", stage)
        )
        if region_scope and region_scope != "460000":
            where.any_of("region_code", regions_within(region_scope))
        return where.page(self.db, "cases", "created_position", after, first)


def _clear_stop_facts(cur: Cursor, year: int, summary: SummaryDelta) -> None:
    """A stopped clock that reaches into a newly published year is judged at query time from now on
    (and leaves the summary: its counts there were those of its stored facts)."""
    reaching = "stop_calendar IS NOT NULL AND stopped_on >= ? AND (accepted_on IS NULL OR accepted_on <= ?)"
    span = (f"{year}-01-01", f"{year}-12-31")
    cur.execute(f"SELECT * FROM cases WHERE {reaching}", span)  # noqa: S608
    for row in cur.fetchall():
        summary.add(row, -1)
        summary.add({**row, **dict.fromkeys(STOP_COLUMNS)}, +1)
    cur.execute(f"UPDATE cases SET stop_days = NULL, stop_overdue = NULL, stop_calendar = NULL WHERE {reaching}", span)  # noqa: S608


def read_calendar(db: Database) -> Calendar:
    """工作日历 — the calendar in force as case_timeline has read it from the log."""
    return calendar_of(db.query("SELECT * FROM case_calendars ORDER BY year"))


# the events that open or close a pause (the match in `_apply`)
PAUSING = frozenset(
    {
        Case.CorrectionRequested,
        Case.SpecialProcedureStarted,
        Case.CorrectionCompleted,
        Case.SpecialProcedureEnded,
        Case.Withdrawn,
    }
)


def _transition(
    env: Envelope, status: CaseStatus, label: str, case_id: str, when: str, recorded: str
) -> tuple[Any, ...]:
    e: Any = env.event
    detail = {k: v for k, v in vars(e).items() if k not in DETAIL_SKIP}
    return (
        case_id,
        e.originator_version,
        env.position,
        env.event_type,
        int(status),
        label,
        when,
        recorded,
        e.actor_id,
        e.actor_role,
        e.actor_org,
        str(e.channel),
        e.request_id,
        to_json(detail),
    )


# the events whose handling reads their business day (the match in `_apply`, and a back entry)
_DAY_EVENTS = (
    Case.BackEntered, Case.Accepted, Case.CorrectionRequested, Case.SpecialProcedureStarted, Case.CorrectionCompleted,
    Case.SpecialProcedureEnded, Case.Approved, Case.ApprovedPendingMaterials, Case.Refused, Case.NotAccepted,
    Case.AcceptanceRefused, Case.Withdrawn,
)  # fmt: skip


@cache
def _dated(kind: type[Any]) -> bool:
    return issubclass(kind, _DAY_EVENTS)


@cache
def _read(kind: type[Any]) -> bool | None:
    """True: a case event (`CASE_EVENTS`); False: a calendar's (`CALENDAR_EVENTS`); None: neither."""
    name = kind.__qualname__  # as `Envelope.event_type`
    return True if name in CASE_EVENTS else False if name in CALENDAR_EVENTS else None


def _close(pauses: list[dict[str, Any]], day: str) -> None:
    for pause in pauses:
        if pause["end"] is None:
            pause["end"] = day


def _decision_status(decision: str) -> CaseStatus:
    return Decision(decision).status


def received_month_of(received_at: str) -> str:
    """The business month of receipt (statistics group and filter by it): the Asia/Shanghai month
    of a timestamp, or the month of a date-only value (a back-entered case)."""
    if "T" in received_at:
        return f"{datetime.fromisoformat(received_at).astimezone(SHANGHAI):%Y-%m}"
    return received_at[:7]


NOT_STORED: tuple[None, None, None] = (None, None, None)


def stop_facts(
    row: dict[str, Any], overridden: frozenset[int] = frozenset()
) -> tuple[int | None, int | None, str | None]:
    """(working days used, overdue 0/1, calendar) of a stopped clock as of its stop day, the figures
    statistics would judge for it on any later day; NOT_STORED while open, and when a year of the
    clock is only estimated (weekends only) or has a published schedule (`overridden`): a later
    publication or correction would change them, so such cases are judged at query time instead.
    An open case keeps none (statistics judge every open case at query time)."""
    if row["stopped_on"] is None or row["status_code"] in OPEN:
        return NOT_STORED
    return _stop_facts(row["accepted_on"], row["limit_days"], row["pauses"], row["stopped_on"], overridden)


@lru_cache(maxsize=8192)  # many cases share a clock; bounded, so a rebuild's memory stays flat
def _stop_facts(
    accepted_on: str | None, limit_days: int | None, pauses: str, stopped_on: str, overridden: frozenset[int]
) -> tuple[int | None, int | None, str | None]:
    clock = clock_of({"accepted_on": accepted_on, "limit_days": limit_days, "pauses": pauses, "stopped_on": stopped_on})
    dates = [clock.accepted_on, clock.stopped_on, *(d for p in clock.pauses for d in (p.start, p.end))]
    years = [d.year for d in dates if d is not None]
    if not all(package_covers(y) and y not in overridden for y in range(min(years), max(years) + 1)):
        return NOT_STORED
    stop = date.fromisoformat(stopped_on)
    # the holiday calendar that judged it: a newer chinesecalendar may correct a year, so stored facts
    # count only while this matches (statistics judge the others at query time, same figures, slower)
    # and `projections rebuild case_timeline` stores them afresh
    return clock.working_days_used(stop), int(clock.overdue(stop)), PACKAGE_SOURCE
