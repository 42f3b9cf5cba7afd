"""feedback — experience officers' feedback (体验员反馈) and its follow-up (跟踪督办).

Answers: which reports are open where, about which department, what was answered and how each
was closed, and every step of each (who, when, through which channel). The `ratings` read model
keeps counting reports in the 好差评 analysis; this one follows their workflow.
Consumes: Feedback.Submitted, Feedback.Listed, Feedback.Assigned, Feedback.Answered, Feedback.Closed.
Tables: `feedback_reports`, `feedback_events`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from domain.shared.reference import regions_within
from domain.supervision.feedback import Feedback, FeedbackStatus
from infrastructure.db import Cursor
from projections.base import META_FIELDS, Envelope, Events, ReadModel, Rows, Where, bigint, grouped_rows, to_json

REPORT_COLUMNS = (
    "feedback_id", "reporter_kind", "reporter_id", "reporter_org", "subject_kind", "case_id", "item_code",
    "department", "window_org", "region_code", "category", "description", "status", "assigned_department",
    "assigned_region", "answer", "measures", "outcome", "conclusion", "submitted_at", "month", "listed_on",
    "assigned_on", "answered_on", "closed_on", "submitted_position", "last_position", "updated_at",
)  # fmt: skip
EVENT_COLUMNS = (
    "feedback_id", "seq", "position", "event_type", "business_time", "recorded_at", "actor_id", "actor_role",
    "actor_org", "channel", "request_id", "detail",
)  # fmt: skip
STEPS = (Feedback.Submitted, Feedback.Listed, Feedback.Assigned, Feedback.Answered, Feedback.Closed)


class FeedbackReports(ReadModel):
    name = "feedback"
    tables = ("feedback_events", "feedback_reports")
    reads = Events(*STEPS)

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        text = ", ".join(f"{c} TEXT" for c in REPORT_COLUMNS[1:-3])
        cur.execute(
            "CREATE TABLE IF NOT EXISTS feedback_reports (feedback_id TEXT PRIMARY KEY,"
            f" {text}, submitted_position {big} NOT NULL, last_position {big} NOT NULL, updated_at TEXT NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS feedback_events ("
            f" feedback_id TEXT NOT NULL, seq INTEGER NOT NULL, position {big} NOT NULL, event_type TEXT NOT NULL,"
            " business_time TEXT NOT NULL, recorded_at TEXT NOT NULL, actor_id TEXT NOT NULL,"
            " actor_role TEXT NOT NULL, actor_org TEXT NOT NULL, channel TEXT NOT NULL, request_id TEXT NOT NULL,"
            " detail TEXT NOT NULL, PRIMARY KEY (feedback_id, seq))"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS feedback_reports_month ON feedback_reports (month, region_code)")

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        """Per batch: the reports it touches read in one query, written back once."""
        batch = [env for env in batch if isinstance(env.event, STEPS)]
        reports = Rows("feedback_reports", "feedback_id", REPORT_COLUMNS)
        reports.load(cur, {str(cast(Any, env.event).originator_id) for env in batch})
        events = [self._apply(cur, reports, env) for env in batch]
        reports.flush(cur)
        cur.insert_rows("feedback_events", EVENT_COLUMNS, events)

    def _apply(self, cur: Cursor, reports: Rows, env: Envelope) -> tuple[Any, ...]:
        e: Any = env.event
        feedback_id = str(e.originator_id)
        day = e.business_date.isoformat()
        match e:
            case Feedback.Submitted():
                reports.insert(_submitted(env, e))
            case _:
                if reports.get(cur, feedback_id) is None:  # cannot happen when processing starts at position 0
                    raise LookupError(f"feedback {feedback_id} not in feedback_reports")
                updates = _updates(e, day)
                updates.update(last_position=env.position, updated_at=e.timestamp.isoformat())
                reports.update(feedback_id, updates)
        detail = {k: v for k, v in vars(e).items() if k not in META_FIELDS}
        return (
            feedback_id,
            e.originator_version,
            env.position,
            env.event_type,
            e.business_time.isoformat(),
            e.timestamp.isoformat(),
            e.actor_id,
            e.actor_role,
            e.actor_org,
            str(e.channel),
            e.request_id,
            to_json(detail),
        )

    # --- queries ----------------------------------------------------------------------------------

    def search(
        self,
        *,
        status: str | None = None,
        region_scope: str | None = None,
        department: str | None = None,
        month: str | None = None,
        category: str | None = None,
        after: int = 0,
        first: int = 50,
    ) -> tuple[list[dict[str, Any]], bool, int]:
        """Reports in submission order after `after`; (rows, has_next, total). `department` is the
        report's department or the one it was assigned to; `region_scope` likewise its region or
        the assigned one (an official sees what was assigned to its unit)."""
        where = _filters(status, region_scope, department, month, category)
        return where.page(self.db, "feedback_reports", "submitted_position", after, first)

    def events_of(self, feedback_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """The history of many reports in one query (no N+1 for lists)."""
        return grouped_rows(self.db, "feedback_events", "feedback_id", feedback_ids)

    def month_rows(self, month: str, region_scope: str | None) -> list[dict[str, Any]]:
        """Every report submitted in a month (YYYY-MM) in the scope, in submission order (数据月报)."""
        where = _filters(None, region_scope, None, month, None)
        return self.db.query(
            f"SELECT * FROM feedback_reports WHERE {' AND '.join(where.conditions)}"  # noqa: S608
            " ORDER BY submitted_position",
            where.params,
        )


def _submitted(env: Envelope, e: Any) -> dict[str, Any]:
    return {
        "feedback_id": str(e.originator_id),
        "reporter_kind": e.reporter_kind,
        "reporter_id": e.actor_id,
        "reporter_org": e.actor_org,
        "subject_kind": e.subject_kind,
        "case_id": str(e.case_id) if e.case_id else None,
        "item_code": e.item_code,
        "department": e.department,
        "window_org": e.window,
        "region_code": e.region_code,
        "category": e.category,
        "description": e.description,
        "status": FeedbackStatus.SUBMITTED.value,
        "assigned_department": None,
        "assigned_region": None,
        "answer": None,
        "measures": None,
        "outcome": None,
        "conclusion": None,
        "submitted_at": e.business_time.isoformat(),
        "month": e.business_date.isoformat()[:7],
        "listed_on": None,
        "assigned_on": None,
        "answered_on": None,
        "closed_on": None,
        "submitted_position": env.position,
        "last_position": env.position,
        "updated_at": e.timestamp.isoformat(),
    }


def _updates(e: Any, day: str) -> dict[str, Any]:
    match e:
        case Feedback.Listed():
            return {"status": FeedbackStatus.LISTED.value, "listed_on": day}
        case Feedback.Assigned():
            return {
                "status": FeedbackStatus.ASSIGNED.value,
                "assigned_department": e.department,
                "assigned_region": e.region_code,
                "assigned_on": day,
                "answer": None,  # a re-assignment waits for a new answer
                "answered_on": None,
            }
        case Feedback.Answered():
            return {
                "status": FeedbackStatus.ANSWERED.value,
                "answer": e.answer,
                "measures": e.measures,
                "answered_on": day,
            }
        case Feedback.Closed():
            return {
                "status": FeedbackStatus.CLOSED.value,
                "outcome": e.outcome,
                "conclusion": e.conclusion,
                "closed_on": day,
            }
    return {}


def _filters(
    status: str | None, region_scope: str | None, department: str | None, month: str | None, category: str | None
) -> Where:
    where = Where().equal("status", status).equal("month", month).equal("category", category)
    if department is not None:
        where.conditions.append("(department = ? OR assigned_department = ?)")
        where.params.extend([department, department])
    if region_scope and region_scope != "460000":
        codes = regions_within(region_scope)
        marks = ", ".join("?" for _ in codes)
        where.conditions.append(f"(region_code IN ({marks}) OR assigned_region IN ({marks}))")
        where.params.extend([*codes, *codes])
    if not where.conditions:
        where.conditions.append("1 = 1")
    return where
