"""intermediaries — the 中介超市 as it stands and how fast it serves: agencies with their service
types (the random draw's candidate pool), service orders with their times in working days
(ordered → selected → accepted → delivered), and expert reviews (评估评审) per case.

Working days follow the schedules published in the log (WorkCalendar.*, kept in `im_calendars`,
projections/calendars.py); when a year is published, the orders whose times reach into it are
counted again on it, so live and rebuilt rows agree.

Consumes: Agency.*, ServiceOrder.*, AssessmentReview.*, WorkCalendar.*.
Tables: `im_agencies`, `im_agency_services`, `im_orders`, `im_reviews`, `im_calendars`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.intermediaries.agency import Agency
from domain.intermediaries.order import ServiceOrder
from domain.intermediaries.review import AssessmentReview
from domain.shared.workdays import PACKAGE, Calendar, workdays_between
from infrastructure.db import Cursor
from projections.base import Envelope, Events, ReadModel, bigint
from projections.calendars import CALENDAR_EVENTS, calendar_in, calendar_table_sql, store_schedule

GROUPS = {"mode": "mode", "service_type": "service_type", "agency": "agency_uscc", "region": "region_code"}


def _days(start: str | None, end: str | None, calendar: Calendar = PACKAGE) -> int | None:
    if start is None or end is None:
        return None
    return workdays_between(date.fromisoformat(start), date.fromisoformat(end), calendar)


class Intermediaries(ReadModel):
    name = "intermediaries"
    tables = ("im_agencies", "im_agency_services", "im_orders", "im_reviews", "im_calendars")
    shape = 2  # 2: im_calendars, days counted on the published schedules
    reads = Events(Agency, ServiceOrder, AssessmentReview) | CALENDAR_EVENTS

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS im_agencies (uscc TEXT PRIMARY KEY, agency_id TEXT NOT NULL, name TEXT NOT NULL,"
            " region_code TEXT NOT NULL, qualifications TEXT NOT NULL, service_types TEXT NOT NULL,"
            f" suspended INTEGER NOT NULL, position {big} NOT NULL, last_position {big} NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS im_agency_services (service_type TEXT NOT NULL, uscc TEXT NOT NULL,"
            " PRIMARY KEY (service_type, uscc))"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS im_orders (order_id TEXT PRIMARY KEY, project_code TEXT NOT NULL,"
            " owner_uscc TEXT NOT NULL, region_code TEXT NOT NULL, service_type TEXT NOT NULL, mode TEXT NOT NULL,"
            " state TEXT NOT NULL, agency_uscc TEXT, agency_name TEXT, seed TEXT, candidates TEXT, bids INTEGER NOT NULL,"
            " bid_amount TEXT, ordered_on TEXT NOT NULL, selected_on TEXT, accepted_on TEXT, delivered_on TEXT,"
            " days_to_select INTEGER, days_to_deliver INTEGER, result_title TEXT, document_hash TEXT,"
            f" position {big} NOT NULL, last_position {big} NOT NULL)"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS im_orders_project ON im_orders (project_code)")
        cur.execute("CREATE INDEX IF NOT EXISTS im_agencies_id ON im_agencies (agency_id)")
        cur.execute(
            "CREATE TABLE IF NOT EXISTS im_reviews (review_id TEXT PRIMARY KEY, case_id TEXT NOT NULL,"
            " project_code TEXT NOT NULL, region_code TEXT NOT NULL, subject TEXT NOT NULL, panel TEXT NOT NULL,"
            " limit_days INTEGER NOT NULL, started_on TEXT NOT NULL, finished_on TEXT, result TEXT,"
            " conditions TEXT NOT NULL, summary TEXT, working_days_used INTEGER, opinions TEXT NOT NULL,"
            f" position {big} NOT NULL, last_position {big} NOT NULL)"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS im_reviews_case ON im_reviews (case_id)")
        cur.execute(calendar_table_sql("im_calendars", big))

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        self._calendar: Calendar | None = None  # read once per batch, when an order needs it
        for env in batch:
            if env.event_type in CALENDAR_EVENTS:
                self._recount(cur, store_schedule(cur, env, "im_calendars"))
                continue
            match env.event:
                case Agency.Event():
                    self._agency(cur, env)
                case ServiceOrder.Event():
                    self._order(cur, env)
                case AssessmentReview.Event():
                    self._review(cur, env)

    def _agency(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        if isinstance(e, Agency.Registered):
            cur.execute(
                "INSERT INTO im_agencies (uscc, agency_id, name, region_code, qualifications, service_types,"
                " suspended, position, last_position) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (e.uscc, str(e.originator_id), e.name, e.region_code, json.dumps(e.qualifications, ensure_ascii=False),
                 json.dumps(e.service_types), env.position, env.position),
            )  # fmt: skip
            cur.executemany(
                "INSERT INTO im_agency_services (service_type, uscc) VALUES (?, ?)",
                [(t, e.uscc) for t in e.service_types],
            )
        elif isinstance(e, Agency.Suspended | Agency.Reinstated):
            cur.execute(
                "UPDATE im_agencies SET suspended = ?, last_position = ? WHERE agency_id = ?",
                (1 if isinstance(e, Agency.Suspended) else 0, env.position, str(e.originator_id)),
            )

    def _order(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        order_id = str(e.originator_id)
        day = e.business_date.isoformat()
        if isinstance(e, ServiceOrder.Placed):
            cur.execute(
                "INSERT INTO im_orders (order_id, project_code, owner_uscc, region_code, service_type, mode, state,"
                " bids, ordered_on, position, last_position) VALUES (?, ?, ?, ?, ?, ?, 'placed', 0, ?, ?, ?)",
                (order_id, e.project_code, e.owner_uscc, e.region_code, e.service_type, e.mode, day,
                 env.position, env.position),
            )  # fmt: skip
            return
        cur.execute("SELECT ordered_on, selected_on FROM im_orders WHERE order_id = ?", (order_id,))
        row = cur.fetchone()
        assert row is not None, f"service order {order_id} not in intermediaries"
        changes: dict[str, Any]
        match e:
            case ServiceOrder.BidSubmitted():
                cur.execute("UPDATE im_orders SET bids = bids + 1 WHERE order_id = ?", (order_id,))
                changes = {}
            case ServiceOrder.AgencySelected():
                changes = {
                    "state": "selected", "agency_uscc": e.agency_uscc, "agency_name": e.agency_name,
                    "seed": e.seed, "candidates": json.dumps(e.candidates),
                    "bid_amount": None if e.bid_amount is None else str(e.bid_amount),
                    "selected_on": day, "days_to_select": _days(row["ordered_on"], day, self._working(cur)),
                }  # fmt: skip
            case ServiceOrder.Accepted():
                changes = {"state": "accepted", "accepted_on": day}
            case ServiceOrder.ResultDelivered():
                changes = {
                    "state": "delivered", "delivered_on": day, "result_title": e.title,
                    "document_hash": e.document_hash,
                    "days_to_deliver": _days(row["selected_on"], day, self._working(cur)),
                }  # fmt: skip
            case ServiceOrder.Cancelled():
                changes = {"state": "cancelled"}
            case _:
                return
        changes["last_position"] = env.position
        sets = ", ".join(f"{k} = ?" for k in changes)
        cur.execute(f"UPDATE im_orders SET {sets} WHERE order_id = ?", (*changes.values(), order_id))  # noqa: S608

    def _working(self, cur: Cursor) -> Calendar:
        if self._calendar is None:
            self._calendar = calendar_in(cur, "im_calendars")
        return self._calendar

    def _recount(self, cur: Cursor, year: int) -> None:
        """A year published: the orders whose spans reach into it, counted again on it."""
        self._calendar = calendar_in(cur, "im_calendars")
        first, last = f"{year}-01-01", f"{year}-12-31"
        cur.execute(
            "SELECT order_id, ordered_on, selected_on, delivered_on FROM im_orders"
            " WHERE selected_on IS NOT NULL AND ordered_on <= ?"
            " AND (selected_on >= ? OR (delivered_on IS NOT NULL AND delivered_on >= ?))",
            (last, first, first),
        )
        for r in cur.fetchall():
            cur.execute(
                "UPDATE im_orders SET days_to_select = ?, days_to_deliver = ? WHERE order_id = ?",
                (_days(r["ordered_on"], r["selected_on"], self._calendar),
                 _days(r["selected_on"], r["delivered_on"], self._calendar), r["order_id"]),
            )  # fmt: skip

    def _review(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        review_id = str(e.originator_id)
        if isinstance(e, AssessmentReview.Started):
            cur.execute(
                "INSERT INTO im_reviews (review_id, case_id, project_code, region_code, subject, panel, limit_days,"
                " started_on, conditions, opinions, position, last_position)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', '[]', ?, ?)",
                (review_id, str(e.case_id), e.project_code, e.region_code, e.subject,
                 json.dumps(e.panel, ensure_ascii=False), e.limit_days, e.business_date.isoformat(),
                 env.position, env.position),
            )  # fmt: skip
        elif isinstance(e, AssessmentReview.OpinionRecorded):
            cur.execute("SELECT opinions FROM im_reviews WHERE review_id = ?", (review_id,))
            row = cur.fetchone()
            assert row is not None
            opinions = [*json.loads(row["opinions"]), {"expert": e.expert, "opinion": e.opinion}]
            cur.execute(
                "UPDATE im_reviews SET opinions = ?, last_position = ? WHERE review_id = ?",
                (json.dumps(opinions, ensure_ascii=False), env.position, review_id),
            )
        elif isinstance(e, AssessmentReview.Finished):
            cur.execute(
                "UPDATE im_reviews SET finished_on = ?, result = ?, conditions = ?, summary = ?,"
                " working_days_used = ?, last_position = ? WHERE review_id = ?",
                (e.business_date.isoformat(), e.result, json.dumps(e.conditions, ensure_ascii=False), e.summary,
                 e.working_days_used, env.position, review_id),
            )  # fmt: skip

    # --- queries ----------------------------------------------------------------------

    def pool(self, service_type: str) -> list[str]:
        """USCCs of the active agencies offering a service type (each is checked again on its aggregate)."""
        rows = self.db.query(
            "SELECT s.uscc FROM im_agency_services s JOIN im_agencies a ON a.uscc = s.uscc"
            " WHERE s.service_type = ? AND a.suspended = 0 ORDER BY s.uscc",
            [service_type],
        )
        return [str(r["uscc"]) for r in rows]

    def orders(self, project_code: str | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE project_code = ?", [project_code]) if project_code else ("", [])
        return self.db.query(f"SELECT * FROM im_orders {where} ORDER BY position", params)  # noqa: S608

    def reviews(self, case_id: str) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT * FROM im_reviews WHERE case_id = ? ORDER BY position", [case_id])
        return [{**r, **{k: json.loads(r[k]) for k in ("panel", "conditions", "opinions")}} for r in rows]

    def statistics(self, group_by: str, region_codes: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Per group: orders, selected, delivered, cancelled, mean working days to select and to deliver."""
        column = GROUPS[group_by]
        where, params = "", list(region_codes or [])
        if region_codes:
            where = f"WHERE region_code IN ({', '.join('?' for _ in region_codes)})"
        sql = (
            f"SELECT {column} AS grp, COUNT(*) AS orders,"  # noqa: S608 — column from GROUPS
            " SUM(CASE WHEN selected_on IS NOT NULL THEN 1 ELSE 0 END) AS selected,"
            " SUM(CASE WHEN state = 'delivered' THEN 1 ELSE 0 END) AS delivered,"
            " SUM(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,"
            " AVG(days_to_select) AS mean_days_to_select, AVG(days_to_deliver) AS mean_days_to_deliver"
            f" FROM im_orders {where} GROUP BY {column} ORDER BY {column}"
        )
        return self.db.query(sql, params)
