"""window_assessment — 综合窗口考核: what each window clerk, and each window (the clerks'
organisation), did at acceptance, how fast, and how satisfied the applicants of their cases were.

Counts the acceptance decisions and window corrections recorded by the role `window_clerk`: cases
accepted, not accepted (不受理), refused at acceptance (不予受理), corrections requested at the window
(补正), the time from receipt to acceptance (business times, in hours: mean and p90 by nearest rank)
and the ratings of the cases each clerk accepted (mean level, bad reviews; the month of a rating is
the month it was given). Keeps its own case facts (receipt time, accepting clerk).
Consumes: Case.Received, Case.Accepted, Case.NotAccepted, Case.AcceptanceRefused,
Case.CorrectionRequested, Rating.Rated.
Tables: `window_assessment_cases`, `window_assessment_acts`, `window_assessment_ratings`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from domain.approvals import Case
from domain.shared.reference import REFERENCE, regions_within
from domain.supervision.rating import LEVELS, Rating
from infrastructure.db import Cursor
from projections.base import Envelope, Events, ReadModel, Rows, bigint

ACTS: dict[type[Any], str] = {
    Case.Accepted: "accepted",
    Case.NotAccepted: "not_accepted",
    Case.AcceptanceRefused: "refused_at_acceptance",
    Case.CorrectionRequested: "corrections_requested",
}
CLERK_ROLE = "window_clerk"
CASE_COLUMNS = ("case_id", "region_code", "received_at", "clerk_id", "clerk_org")
ACT_COLUMNS = ("position", "case_id", "clerk_id", "clerk_org", "region_code", "kind", "month", "seconds_to_accept")
RATING_COLUMNS = (
    "rating_id", "case_id", "clerk_id", "clerk_org", "region_code", "month", "level", "bad", "position",
)  # fmt: skip


class WindowAssessment(ReadModel):
    name = "window_assessment"
    tables = ("window_assessment_cases", "window_assessment_acts", "window_assessment_ratings")
    reads = Events(Case.Received, *ACTS, Rating.Rated)

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS window_assessment_cases ("
            " case_id TEXT PRIMARY KEY, region_code TEXT NOT NULL, received_at TEXT NOT NULL,"
            " clerk_id TEXT, clerk_org TEXT)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS window_assessment_acts ("
            f" position {big} PRIMARY KEY, case_id TEXT NOT NULL, clerk_id TEXT NOT NULL, clerk_org TEXT NOT NULL,"
            f" region_code TEXT NOT NULL, kind TEXT NOT NULL, month TEXT NOT NULL, seconds_to_accept {big})"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS window_assessment_ratings ("
            " rating_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, clerk_id TEXT NOT NULL, clerk_org TEXT NOT NULL,"
            f" region_code TEXT NOT NULL, month TEXT NOT NULL, level INTEGER NOT NULL, bad INTEGER NOT NULL,"
            f" position {big} NOT NULL)"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS window_assessment_acts_month ON window_assessment_acts (month)")

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        """Per batch: the case facts it needs read in one query, new rows written at once."""
        cases = Rows("window_assessment_cases", "case_id", CASE_COLUMNS)
        cases.load(cur, [str(cast(Any, env.event).originator_id) for env in batch if type(env.event) in ACTS])
        cases.load(cur, [str(cast(Any, env.event).case_id) for env in batch if isinstance(env.event, Rating.Rated)])
        acts: list[tuple[Any, ...]] = []
        ratings: list[tuple[Any, ...]] = []
        for env in batch:
            e: Any = env.event
            if isinstance(e, Case.Received):
                cases.insert(
                    {
                        "case_id": str(e.originator_id),
                        "region_code": e.region_code,
                        "received_at": e.business_time.isoformat(),
                        "clerk_id": None,
                        "clerk_org": None,
                    }
                )
            elif type(e) in ACTS and e.actor_role == CLERK_ROLE:
                self._act(cur, cases, acts, env, ACTS[type(e)])
            elif isinstance(e, Rating.Rated):
                self._rated(cur, cases, ratings, env)
        cases.flush(cur)
        cur.insert_rows("window_assessment_acts", ACT_COLUMNS, acts)
        cur.insert_rows("window_assessment_ratings", RATING_COLUMNS, ratings)

    def _act(self, cur: Cursor, cases: Rows, acts: list[tuple[Any, ...]], env: Envelope, kind: str) -> None:
        e: Any = env.event
        case_id = str(e.originator_id)
        case = cases.get(cur, case_id)
        if case is None:  # a back-entered case has no window acts; cannot happen otherwise
            return
        seconds = None
        if kind == "accepted":
            seconds = round((e.business_time - datetime.fromisoformat(case["received_at"])).total_seconds())
            cases.update(case_id, {"clerk_id": e.actor_id, "clerk_org": e.actor_org})
        acts.append(
            (
                env.position,
                case_id,
                e.actor_id,
                e.actor_org,
                case["region_code"],
                kind,
                e.business_date.isoformat()[:7],
                seconds,
            )
        )

    def _rated(self, cur: Cursor, cases: Rows, ratings: list[tuple[Any, ...]], env: Envelope) -> None:
        e: Any = env.event
        case = cases.get(cur, str(e.case_id))
        if case is None or case["clerk_id"] is None:  # not accepted at a window: no clerk to credit
            return
        ratings.append(
            (
                str(e.originator_id),
                str(e.case_id),
                case["clerk_id"],
                case["clerk_org"],
                case["region_code"],
                e.business_date.isoformat()[:7],
                e.level,
                int(LEVELS[e.level].is_bad),
                env.position,
            )
        )

    # --- queries ----------------------------------------------------------------------

    def assess(
        self,
        *,
        by_window: bool = False,
        region_scope: str | None = None,
        month: str | None = None,
        org: str | None = None,
    ) -> list[dict[str, Any]]:
        """One dict per clerk (or per window when `by_window`), ordered by organisation and clerk."""
        clause, params = _where(region_scope, month, org)
        acts = self.db.query(
            "SELECT clerk_id, clerk_org, region_code, kind, COUNT(*) AS n FROM window_assessment_acts"  # noqa: S608
            f" WHERE {clause} GROUP BY clerk_id, clerk_org, region_code, kind",
            params,
        )
        waits = self.db.query(
            "SELECT clerk_id, clerk_org, seconds_to_accept AS s FROM window_assessment_acts"  # noqa: S608
            f" WHERE kind = 'accepted' AND {clause}",
            params,
        )
        ratings = self.db.query(
            "SELECT clerk_id, clerk_org, region_code, COUNT(*) AS n, SUM(level) AS levels, SUM(bad) AS bad"  # noqa: S608
            f" FROM window_assessment_ratings WHERE {clause} GROUP BY clerk_id, clerk_org, region_code",
            params,
        )
        rows: dict[tuple[str | None, str], dict[str, Any]] = {}

        def row(r: dict[str, Any]) -> dict[str, Any]:
            key = (None if by_window else r["clerk_id"], r["clerk_org"])
            if key not in rows:
                rows[key] = {"clerk_id": key[0], "org": key[1], "regions": set(), "seconds": [], "levels": 0}
                rows[key].update(dict.fromkeys((*ACTS.values(), "ratings", "bad_reviews"), 0))
            return rows[key]

        for r in acts:
            target = row(r)
            target[r["kind"]] += int(r["n"])
            target["regions"].add(r["region_code"])
        for r in waits:
            row(r)["seconds"].append(int(r["s"]))
        for r in ratings:
            target = row(r)
            target["ratings"] += int(r["n"])
            target["levels"] += int(r["levels"])
            target["bad_reviews"] += int(r["bad"])
            target["regions"].add(r["region_code"])
        return [_finish(rows[k]) for k in sorted(rows, key=lambda k: (k[1], k[0] or ""))]


def _where(region_scope: str | None, month: str | None, org: str | None) -> tuple[str, list[Any]]:
    conditions: list[str] = []
    params: list[Any] = []
    for column, value in (("month", month), ("clerk_org", org)):
        if value:
            conditions.append(f"{column} = ?")
            params.append(value)
    if region_scope and region_scope != "460000":
        codes = regions_within(region_scope)
        conditions.append(f"region_code IN ({', '.join('?' for _ in codes)})")
        params.extend(codes)
    return " AND ".join(conditions) or "1 = 1", params


def _finish(r: dict[str, Any]) -> dict[str, Any]:
    hours = sorted(s / 3600 for s in r.pop("seconds"))
    levels = r.pop("levels")
    r["region_code"] = common_region(r.pop("regions"))
    r["mean_hours_to_accept"] = round(sum(hours) / len(hours), 2) if hours else None
    r["p90_hours_to_accept"] = round(p90(hours), 2) if hours else None
    r["mean_rating"] = round(levels / r["ratings"], 2) if r["ratings"] else None
    return r


def p90(sorted_values: list[float]) -> float:
    """The 90th percentile by nearest rank: the ⌈0.9·n⌉-th smallest value."""
    return sorted_values[math.ceil(0.9 * len(sorted_values)) - 1]


def common_region(codes: set[str]) -> str:
    """The narrowest region containing every case a clerk handled (a city window serves its districts)."""
    if not codes:
        return ""
    chains = []
    for code in codes:
        chain: list[str] = []
        current: str | None = code
        while current:
            chain.append(current)
            current = REFERENCE.regions[current].parent_code if current in REFERENCE.regions else None
        chains.append(chain[::-1])
    common = "460000"
    for level in zip(*chains, strict=False):
        if len(set(level)) > 1:
            break
        common = level[0]
    return common
