"""ratings — the 好差评 analysis: ratings per item, department, region, month or window clerk, with
the rectification (整改) and follow-up (回访) of bad reviews and the experience officers' feedback.

Whether a rectification was on time (≤ 15 working days after the rating) is derived here from the
dates; whether an unrectified bad review is already late depends on today and is computed at
query time from the stored deadline. The case facts a rating is analysed by (item, department,
region, the clerk who accepted it) are kept in this model's own table, from the Case events.
Working days follow the schedules published in the log (`ratings_calendars`, projections/calendars.py):
a year's publication judges again the bad reviews whose 15 days reach into it.
Consumes: Case.Received, Case.BackEntered, Case.Accepted, Rating.*, Feedback.Submitted, WorkCalendar.*.
Tables: `ratings_case_facts`, `ratings`, `ratings_feedback`, `ratings_calendars`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, cast

from domain.approvals import Case
from domain.catalog import CATALOG
from domain.shared.reference import REFERENCE, regions_within
from domain.shared.workdays import Calendar
from domain.supervision.feedback import Feedback
from domain.supervision.rating import LEVELS, Rating, rectification_due, rectified_on_time
from domain.work_calendar import WorkCalendar
from infrastructure.db import Cursor
from projections.base import Envelope, Events, ReadModel, Rows, bigint, to_json
from projections.calendars import CALENDAR_EVENTS, calendar_in, calendar_table_sql, store_schedule

GROUP_COLUMNS = {
    "ITEM": "item_code",
    "DEPARTMENT": "department",
    "REGION": "region_code",
    "MONTH": "month",
    "CLERK": "clerk_id",
}
NO_CLERK = "未经窗口受理"
# feedback about a window names no item and no department: grouped under this key, not a blank row
# (the filter `department: "unassigned"` selects it); ratings always carry both
UNASSIGNED = "unassigned"
UNASSIGNED_LABELS = {"ITEM": "未指定事项", "DEPARTMENT": "未指定部门"}
LATER = (Rating.RectificationRecorded, Rating.FollowUpRecorded)
FACT_COLUMNS = ("case_id", "item_code", "item_name", "department", "region_code", "clerk_id", "clerk_org")
RATING_COLUMNS = (
    "rating_id", "case_id", "project_code", "item_code", "item_name", "department", "region_code",
    "applicant_org", "clerk_id", "clerk_org", "level", "bad", "evaluation_channel", "dimensions", "comment",
    "rated_on", "month", "rectification_due", "rectified_on", "rectified_on_time", "rectifications", "measures",
    "follow_up_result", "followed_up_on", "position", "last_position",
)  # fmt: skip
FEEDBACK_COLUMNS = (
    "feedback_id", "reporter_kind", "reporter_org", "subject_kind", "case_id", "item_code", "department",
    "window_org", "region_code", "clerk_id", "category", "month", "position",
)  # fmt: skip


def _case_ids(batch: Sequence[Envelope]) -> set[str]:
    """The cases whose facts a batch reads (accepted, rated, fed back on)."""
    found = set()
    for env in batch:
        e: Any = env.event
        if isinstance(env.event, Case.Accepted):
            found.add(str(e.originator_id))
        elif isinstance(env.event, Rating.Rated | Feedback.Submitted) and e.case_id:
            found.add(str(e.case_id))
    return found


class Ratings(ReadModel):
    name = "ratings"
    tables = ("ratings_case_facts", "ratings", "ratings_feedback", "ratings_calendars")
    shape = 2  # 2: ratings_calendars, 15 working days counted on the published schedules
    reads = Events(Case.Received, Case.BackEntered, Case.Accepted, Rating, Feedback.Submitted) | CALENDAR_EVENTS

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ratings_case_facts ("
            " case_id TEXT PRIMARY KEY, item_code TEXT NOT NULL, item_name TEXT NOT NULL,"
            " department TEXT NOT NULL, region_code TEXT NOT NULL, clerk_id TEXT, clerk_org TEXT)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ratings ("
            " rating_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, project_code TEXT NOT NULL,"
            " item_code TEXT NOT NULL, item_name TEXT NOT NULL, department TEXT NOT NULL,"
            " region_code TEXT NOT NULL, applicant_org TEXT NOT NULL, clerk_id TEXT, clerk_org TEXT,"
            " level INTEGER NOT NULL, bad INTEGER NOT NULL, evaluation_channel TEXT NOT NULL,"
            " dimensions TEXT NOT NULL, comment TEXT NOT NULL, rated_on TEXT NOT NULL, month TEXT NOT NULL,"
            " rectification_due TEXT, rectified_on TEXT, rectified_on_time INTEGER, rectifications INTEGER NOT NULL,"
            " measures TEXT, follow_up_result TEXT, followed_up_on TEXT,"
            f" position {big} NOT NULL, last_position {big} NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ratings_feedback ("
            " feedback_id TEXT PRIMARY KEY, reporter_kind TEXT NOT NULL, reporter_org TEXT NOT NULL,"
            " subject_kind TEXT NOT NULL, case_id TEXT, item_code TEXT, department TEXT, window_org TEXT,"
            " region_code TEXT NOT NULL, clerk_id TEXT, category TEXT NOT NULL, month TEXT NOT NULL,"
            f" position {big} NOT NULL)"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS ratings_region_month ON ratings (region_code, month)")
        cur.execute(calendar_table_sql("ratings_calendars", big))

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        """Per batch: case facts and ratings it touches read in a few queries, written back once."""
        facts = Rows("ratings_case_facts", "case_id", FACT_COLUMNS)
        ratings = Rows("ratings", "rating_id", RATING_COLUMNS)
        feedback: list[tuple[Any, ...]] = []
        facts.load(cur, _case_ids(batch))
        ratings.load(cur, [str(cast(Any, env.event).originator_id) for env in batch if isinstance(env.event, LATER)])
        self._calendar: Calendar | None = None  # read once per batch, when a rating needs it
        for env in batch:
            e: Any = env.event
            match env.event:
                case WorkCalendar.Published() | WorkCalendar.Revised():
                    ratings.flush(cur)
                    self._recount(cur, store_schedule(cur, env, "ratings_calendars"))
                    ratings = Rows("ratings", "rating_id", RATING_COLUMNS)  # the recount changed rows in the table
                case Case.Received() | Case.BackEntered():
                    facts.insert(
                        {
                            "case_id": str(e.originator_id),
                            "item_code": e.item_code,
                            "item_name": e.item_name,
                            "department": e.department,
                            "region_code": e.region_code,
                            "clerk_id": None,
                            "clerk_org": None,
                        }
                    )
                case Case.Accepted():
                    if facts.get(cur, str(e.originator_id)) is not None:
                        facts.update(str(e.originator_id), {"clerk_id": e.actor_id, "clerk_org": e.actor_org})
                case Rating.Rated():
                    ratings.insert(self._rated(cur, env, facts.get(cur, str(e.case_id)) or {}))
                case Rating.RectificationRecorded():
                    self._rectified(cur, ratings, env)
                case Rating.FollowUpRecorded():
                    if ratings.get(cur, str(e.originator_id)) is not None:
                        ratings.update(
                            str(e.originator_id),
                            {
                                "follow_up_result": e.result,
                                "followed_up_on": e.followed_up_on.isoformat(),
                                "last_position": env.position,
                            },
                        )
                case Feedback.Submitted():
                    feedback.append(self._feedback(env, (facts.get(cur, str(e.case_id)) or {}) if e.case_id else {}))
        facts.flush(cur)
        ratings.flush(cur)
        cur.insert_rows("ratings_feedback", FEEDBACK_COLUMNS, feedback)

    def _working(self, cur: Cursor) -> Calendar:
        if self._calendar is None:
            self._calendar = calendar_in(cur, "ratings_calendars")
        return self._calendar

    def _recount(self, cur: Cursor, year: int) -> None:
        """工作日历 published for a year: bad reviews whose 15 working days reach into it, judged again."""
        self._calendar = calendar_in(cur, "ratings_calendars")
        cur.execute(
            "SELECT rating_id, rated_on, rectified_on FROM ratings WHERE bad = 1 AND rated_on <= ?"
            " AND (rectification_due >= ? OR rectified_on >= ?)",
            (f"{year}-12-31", f"{year}-01-01", f"{year}-01-01"),
        )
        for r in cur.fetchall():
            rated_on = date.fromisoformat(r["rated_on"])
            on_time = None
            if r["rectified_on"] is not None:
                on_time = int(rectified_on_time(rated_on, date.fromisoformat(r["rectified_on"]), self._calendar))
            due = rectification_due(rated_on, self._calendar).isoformat()
            cur.execute(
                "UPDATE ratings SET rectification_due = ?, rectified_on_time = ? WHERE rating_id = ?",
                (due, on_time, r["rating_id"]),
            )

    def _rated(self, cur: Cursor, env: Envelope, facts: dict[str, Any]) -> dict[str, Any]:
        e: Any = env.event
        rated_on: date = e.business_date
        bad = LEVELS[e.level].is_bad
        return {
            "rating_id": str(e.originator_id),
            "case_id": str(e.case_id),
            "project_code": e.project_code,
            "item_code": e.item_code,
            "item_name": facts.get("item_name") or CATALOG.item(e.item_code).name,
            "department": e.department,
            "region_code": e.region_code,
            "applicant_org": e.applicant_org,
            "clerk_id": facts.get("clerk_id"),
            "clerk_org": facts.get("clerk_org"),
            "level": e.level,
            "bad": int(bad),
            "evaluation_channel": e.evaluation_channel,
            "dimensions": to_json(e.dimensions),
            "comment": e.comment,
            "rated_on": rated_on.isoformat(),
            "month": rated_on.isoformat()[:7],
            "rectification_due": rectification_due(rated_on, self._working(cur)).isoformat() if bad else None,
            "rectified_on": None,
            "rectified_on_time": None,
            "rectifications": 0,
            "measures": None,
            "follow_up_result": None,
            "followed_up_on": None,
            "position": env.position,
            "last_position": env.position,
        }

    def _rectified(self, cur: Cursor, ratings: Rows, env: Envelope) -> None:
        """The first rectification is the one measured against the 15 working days."""
        e: Any = env.event
        rating_id = str(e.originator_id)
        row = ratings.get(cur, rating_id)
        if row is None:  # cannot happen when processing starts at position 0
            raise LookupError(f"rating {rating_id} not in ratings")
        first = row["rectified_on"] or e.rectified_on.isoformat()
        on_time = rectified_on_time(date.fromisoformat(row["rated_on"]), date.fromisoformat(first), self._working(cur))
        ratings.update(
            rating_id,
            {
                "rectified_on": first,
                "rectified_on_time": int(on_time),
                "rectifications": row["rectifications"] + 1,
                "measures": e.measures,
                "last_position": env.position,
            },
        )

    def _feedback(self, env: Envelope, facts: dict[str, Any]) -> tuple[Any, ...]:
        e: Any = env.event
        return (
            str(e.originator_id),
            e.reporter_kind,
            e.actor_org,
            e.subject_kind,
            str(e.case_id) if e.case_id else None,
            e.item_code,
            e.department,
            e.window,
            e.region_code,
            facts.get("clerk_id"),
            e.category,
            e.business_date.isoformat()[:7],
            env.position,
        )

    # --- queries ----------------------------------------------------------------------

    def groups(
        self,
        group_by: str,
        *,
        today: date,
        region_scope: str | None = None,
        department: str | None = None,
        item_code: str | None = None,
        month: str | None = None,
        applicant_org: str | None = None,
    ) -> list[dict[str, Any]]:
        """One dict per group: counts by level, bad reviews, rectification and follow-up, feedback."""
        column = GROUP_COLUMNS[group_by]
        key = f"COALESCE({column}, '{UNASSIGNED if group_by in UNASSIGNED_LABELS else ''}')"
        where, params = _where(region_scope, department, item_code, month)
        rated = where + (["applicant_org = ?"] if applicant_org else [])
        rated_params = params + ([applicant_org] if applicant_org else [])
        clause = " AND ".join(rated) or "1 = 1"
        by_level = self.db.query(
            f"SELECT {key} AS k, level, COUNT(*) AS n FROM ratings WHERE {clause} GROUP BY {key}, level",  # noqa: S608
            rated_params,
        )
        bad = self.db.query(
            f"SELECT {key} AS k,"  # noqa: S608 — column from GROUP_COLUMNS
            " SUM(CASE WHEN rectified_on_time = 1 THEN 1 ELSE 0 END) AS on_time,"
            " SUM(CASE WHEN rectified_on_time = 0 OR (rectified_on IS NULL AND rectification_due < ?)"
            " THEN 1 ELSE 0 END) AS overdue,"
            " SUM(CASE WHEN followed_up_on IS NOT NULL THEN 1 ELSE 0 END) AS followed"
            f" FROM ratings WHERE bad = 1 AND {clause} GROUP BY {key}",
            [today.isoformat(), *rated_params],
        )
        reported = where + (["reporter_org = ?"] if applicant_org else [])
        feedback = self.db.query(
            f"SELECT {key} AS k, COUNT(*) AS n FROM ratings_feedback"  # noqa: S608
            f" WHERE {' AND '.join(reported) or '1 = 1'} GROUP BY {key}",
            rated_params,
        )
        return _assemble(group_by, by_level, bad, feedback)

    def bad_reviews(self, *, month: str, region_scope: str | None = None) -> list[dict[str, Any]]:
        """差评 rated in a month (YYYY-MM) in the scope, in rating order, with their rectification
        and follow-up columns (数据月报)."""
        where, params = _where(region_scope, None, None, month)
        return self.db.query(
            "SELECT rating_id, case_id, item_code, item_name, department, region_code, level, rated_on,"  # noqa: S608
            " rectification_due, rectified_on, rectified_on_time, rectifications, follow_up_result, followed_up_on"
            f" FROM ratings WHERE bad = 1 AND {' AND '.join(where)} ORDER BY position",
            params,
        )


def _where(
    region_scope: str | None, department: str | None, item_code: str | None, month: str | None
) -> tuple[list[str], list[Any]]:
    conditions: list[str] = []
    params: list[Any] = []
    for column, value in (("department", department), ("item_code", item_code), ("month", month)):
        if value == UNASSIGNED and column != "month":
            conditions.append(f"{column} IS NULL")
        elif value:
            conditions.append(f"{column} = ?")
            params.append(value)
    if region_scope and region_scope != "460000":
        codes = regions_within(region_scope)
        conditions.append(f"region_code IN ({', '.join('?' for _ in codes)})")
        params.extend(codes)
    return conditions, params


def _assemble(
    group_by: str, by_level: list[dict[str, Any]], bad: list[dict[str, Any]], feedback: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    keys = sorted({r["k"] for r in by_level} | {r["k"] for r in feedback})
    bad_of = {r["k"]: r for r in bad}
    feedback_of = {r["k"]: int(r["n"]) for r in feedback}
    groups = []
    for k in keys:
        counts = {int(r["level"]): int(r["n"]) for r in by_level if r["k"] == k}
        total = sum(counts.values())
        bad_count = sum(n for level, n in counts.items() if LEVELS[level].is_bad)
        b = bad_of.get(k, {})
        groups.append(
            {
                "key": k,
                "label": label(group_by, k),
                "total": total,
                "by_level": [(lv, LEVELS[lv].name, counts.get(lv, 0)) for lv in sorted(LEVELS, reverse=True)],
                "bad_count": bad_count,
                "bad_rate": round(bad_count / total, 4) if total else 0.0,
                "rectified_on_time": int(b.get("on_time") or 0),
                "rectification_overdue": int(b.get("overdue") or 0),
                "followed_up": int(b.get("followed") or 0),
                "feedback_count": feedback_of.get(k, 0),
            }
        )
    return groups


def label(group_by: str, key: str) -> str:
    if key == UNASSIGNED and group_by in UNASSIGNED_LABELS:
        return UNASSIGNED_LABELS[group_by]
    if group_by == "ITEM":
        return CATALOG.items[key].name if key in CATALOG.items else key
    if group_by == "DEPARTMENT":
        return CATALOG.departments.get(key, key)
    if group_by == "REGION":
        return REFERENCE.regions[key].name if key in REFERENCE.regions else key
    if group_by == "CLERK" and not key:
        return NO_CLERK
    return key
