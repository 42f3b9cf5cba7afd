"""统计分析 — case counts and durations, grouped, from `case_timeline`'s summary and open cases as of "today".

One source of numbers: the GraphQL `statistics` and `monthlyReport` fields, the monthly report
files and the tests all call `compute_statistics`. "Today" is passed in (overdue and working days
of open cases depend on it). Closed cases count from the summary case_timeline keeps per month,
region and item (projections/case_summary.py, which also holds the queries); open ones are judged here.

Definitions (of the cases matching the filter, by business month of receipt, Asia/Shanghai):
received every case; accepted ever accepted (受理); approved current status 11 or 12; refused 13;
refused_at_acceptance 4 or 5; withdrawn 2 or 14; revoked 15; open not yet closed (1, 3, 6–10);
decided 11, 12, 13 or 15 (a revoked case was decided first); overdue per domain/approvals/overdue.py
(decided after its deadline, or open and past it today); on-time rate decided within the limit / decided with a known limit;
mean and p90 (nearest rank) working days used by decided cases, clock pauses excluded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from application.policy import Actor, authorize, in_scope
from application.ports import CaseFigures
from domain.approvals import CaseClock
from domain.approvals.clock import clock_of
from domain.approvals.overdue import DECIDED, OPEN, is_overdue
from domain.approvals.selection import CaseSelection
from domain.catalog import CATALOG
from domain.shared.errors import Forbidden, InvalidValue
from domain.shared.events import SHANGHAI
from domain.shared.reference import REFERENCE, regions_within
from domain.shared.workdays import PACKAGE, PACKAGE_SOURCE, Calendar

PROVINCE = "460000"
APPROVED = frozenset({11, 12})
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class GroupBy(StrEnum):
    ITEM = "item"
    ITEM_CATEGORY = "item_category"
    STAGE = "stage"
    REGION = "region"  # the level below the scope: city/county units province-wide, districts in a prefecture
    DEPARTMENT = "department"
    MONTH = "month"
    ALL = "all"  # one group: the whole selection


@dataclass(frozen=True)
class StatisticsFilter:
    region_code: str | None = None  # scope: the region and everything below it
    item_code: str | None = None
    stage: int | None = None
    department: str | None = None
    month_from: str | None = None  # YYYY-MM, inclusive
    month_to: str | None = None

    def check(self) -> StatisticsFilter:
        for name in ("month_from", "month_to"):
            value = getattr(self, name)
            if value is not None and not MONTH_RE.match(value):
                raise InvalidValue(name, f"expected YYYY-MM, got {value!r}", "month_format")
        if self.region_code is not None and not REFERENCE.is_region(self.region_code):
            raise InvalidValue("region_code", f"unknown region {self.region_code}", "region_code")
        return self


@dataclass
class Group:
    key: str
    label: str
    received: int = 0
    accepted: int = 0
    approved: int = 0
    refused: int = 0
    refused_at_acceptance: int = 0
    withdrawn: int = 0
    revoked: int = 0
    open: int = 0
    decided: int = 0
    overdue: int = 0
    on_time_rate: float | None = None
    mean_working_days: float | None = None
    p90_working_days: int | None = None
    _on_time: int = field(default=0, repr=False)
    _timed: int = field(default=0, repr=False)
    _days: dict[int, int] = field(default_factory=dict, repr=False)  # working days -> cases

    def add(
        self,
        row: dict[str, Any],
        today: date,
        n: int = 1,
        accepted: bool | None = None,
        today_iso: str | None = None,
        calendar: Calendar = PACKAGE,
    ) -> None:
        """Count `n` cases sharing this row's status, acceptance and clock (n = 1: one case)."""
        status = row["status_code"]
        self._count(status, n, bool(row["accepted_on"]) if accepted is None else accepted)
        if status not in OPEN and status not in DECIDED:
            return
        late, used = clock_facts(row, today, today_iso, calendar)
        self.overdue += n * late
        if status in OPEN:
            return
        self._decided(n, used, late, row["limit_days"] is not None)

    def add_stopped(self, status: int, n: int, accepted: bool, used: int | None, late: bool, limited: bool) -> None:
        """Count `n` decided cases whose clock stopped by today, with their stored facts."""
        self._count(status, n, accepted)
        self.overdue += n * late
        self._decided(n, used, late, limited)

    def add_counts(self, counts: dict[str, Any]) -> None:
        """Add the summary's counts of closed cases (projections/case_summary.py)."""
        for name in ("received", "accepted", "approved", "refused", "refused_at_acceptance", "withdrawn"):
            setattr(self, name, getattr(self, name) + counts[name])
        self.revoked += counts["revoked"]
        self.decided += counts["decided"]
        self.overdue += counts["overdue"]
        self._timed += counts["timed"]
        self._on_time += counts["on_time"]

    def add_days(self, days: int, n: int) -> None:
        """`n` decided cases of the summary that used `days` working days."""
        self._days[days] = self._days.get(days, 0) + n

    def _count(self, status: int, n: int, accepted: bool) -> None:
        self.received += n
        self.accepted += n if accepted else 0
        self.approved += n * (status in APPROVED)
        self.refused += n * (status == 13)
        self.refused_at_acceptance += n * (status in (4, 5))
        self.withdrawn += n * (status in (2, 14))
        self.revoked += n * (status == 15)
        self.open += n * (status in OPEN)

    def _decided(self, n: int, used: int | None, late: bool, limited: bool) -> None:
        self.decided += n
        if used is not None:
            self._days[used] = self._days.get(used, 0) + n
            if limited:
                self._timed += n
                self._on_time += n * (not late)

    def finish(self) -> Group:
        self.on_time_rate = round(self._on_time / self._timed, 4) if self._timed else None
        counted = {d: k for d, k in self._days.items() if k}  # a case taken out of the summary leaves 0
        if counted:
            total = sum(counted.values())
            self.mean_working_days = round(sum(d * k for d, k in counted.items()) / total, 2)
            rank, seen = math.ceil(0.9 * total), 0  # nearest rank in the ordered days
            for days in sorted(counted):
                seen += counted[days]
                if seen >= rank:
                    self.p90_working_days = days
                    break
        return self


def clock_facts(
    row: dict[str, Any], today: date, today_iso: str | None = None, calendar: Calendar = PACKAGE
) -> tuple[bool, int | None]:
    """(overdue, working days used) of a `cases` row as of `today`, on the working calendar read
    from the log (`CaseFigures.calendar`; the package's by default). Cases sharing acceptance,
    limit, pauses and stop share them, and a case stopped by `today` keeps them for good: judged
    on its stop day instead, the answer is the same and cached across queries."""
    stopped = row["stopped_on"]
    if stopped is not None and stopped <= (today_iso or today.isoformat()):
        return _clock_facts(row["accepted_on"], row["limit_days"], row["pauses"], stopped, stopped, calendar)
    return _clock_facts(row["accepted_on"], row["limit_days"], row["pauses"], stopped, today, calendar)


@lru_cache(maxsize=65536)
def _clock_facts(
    accepted_on: str | None,
    limit_days: int | None,
    pauses: str,
    stopped_on: str | None,
    on: date | str,
    calendar: Calendar,
) -> tuple[bool, int | None]:
    clock: CaseClock = clock_of(
        {"accepted_on": accepted_on, "limit_days": limit_days, "pauses": pauses, "stopped_on": stopped_on}, calendar
    )
    today = date.fromisoformat(on) if isinstance(on, str) else on
    return is_overdue(clock, today), clock.working_days_used(today)


def scope_for(actor: Actor, requested: str | None) -> str:
    """The region an actor's statistics cover: the requested one if inside the actor's scope."""
    authorize(actor, "statistics.read")
    own = actor.region or PROVINCE
    if requested is None:
        return PROVINCE if actor.role == "admin" else own
    if actor.role == "admin" or in_scope(actor, requested):
        return requested
    raise Forbidden(f"region {requested} is outside the actor's scope {own}")


def received_on(row: dict[str, Any]) -> date:
    """The business date of receipt (a back-entered case may carry a date only)."""
    value: str = row["received_at"]
    if "T" in value:
        return datetime.fromisoformat(value).astimezone(SHANGHAI).date()
    return date.fromisoformat(value[:10])


def received_month(row: dict[str, Any]) -> str:
    return f"{received_on(row):%Y-%m}"


def matching_cases(figures: CaseFigures, f: StatisticsFilter) -> list[dict[str, Any]]:
    """Every `cases` row matching `f`, in creation order (the months by each row's receipt)."""
    return [r for r in figures.cases(_selection(f, months=False)) if _in_months(received_month(r), f)]


def _in_months(month: str, f: StatisticsFilter) -> bool:
    return (f.month_from is None or month >= f.month_from) and (f.month_to is None or month <= f.month_to)


def region_level_below(scope: str, region_code: str) -> str:
    """The region directly below `scope` that contains region_code (itself at the scope's level)."""
    code = region_code
    while code in REFERENCE.regions and code != scope:
        parent = REFERENCE.regions[code].parent_code
        if parent == scope or parent is None:
            return code
        code = parent
    return region_code


def _region_label(code: str, scope: str) -> str:
    name = REFERENCE.regions[code].name if code in REFERENCE.regions else code
    return f"{name}（本级）" if code == scope and scope != PROVINCE else name


def _department_name(code: str) -> str:
    return CATALOG.departments.get(code, code)


def _key_of(group_by: GroupBy, scope: str) -> Callable[[dict[str, Any]], tuple[str, str]]:
    def item_category(r: dict[str, Any]) -> tuple[str, str]:
        item = CATALOG.items.get(r["item_code"])
        category = item.category if item else "未知"
        return category, category

    def region(r: dict[str, Any]) -> tuple[str, str]:
        code = REFERENCE.unit_of(r["region_code"]) if scope == PROVINCE else region_level_below(scope, r["region_code"])
        return code, _region_label(code, scope)

    def month(r: dict[str, Any]) -> tuple[str, str]:
        value = r.get("received_month") or received_month(r)  # stored by case_timeline, or computed
        return value, value

    keys: dict[GroupBy, Callable[[dict[str, Any]], tuple[str, str]]] = {
        GroupBy.ITEM: lambda r: (r["item_code"], r["item_name"]),
        GroupBy.ITEM_CATEGORY: item_category,
        GroupBy.STAGE: lambda r: (str(r["stage"]), REFERENCE.stages.get(r["stage"], str(r["stage"]))),
        GroupBy.REGION: region,
        GroupBy.DEPARTMENT: lambda r: (r["department"], _department_name(r["department"])),
        GroupBy.MONTH: month,
        GroupBy.ALL: lambda r: ("all", "合计"),
    }
    return keys[group_by]


def aggregate(
    rows: Iterable[dict[str, Any]],
    group_by: GroupBy,
    scope: str,
    today: date,
    *,
    all_label: str = "合计",
    calendar: Calendar = PACKAGE,
) -> list[Group]:
    key_of = _key_of(group_by, scope)
    groups: dict[str, Group] = {}
    for row in rows:
        key, label = key_of(row)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(key, label)
        group.add(row, today, calendar=calendar)
    if group_by is GroupBy.ALL and not groups:
        groups["all"] = Group("all", all_label)
    return [groups[k].finish() for k in sorted(groups, key=_sort_key(group_by))]


def _sort_key(group_by: GroupBy) -> Callable[[str], Any]:
    if group_by is GroupBy.STAGE:
        return int
    return str


BY: dict[GroupBy, list[str]] = {  # the summary's key columns each grouping reads
    GroupBy.ITEM: ["item_code", "item_name"],
    GroupBy.ITEM_CATEGORY: ["item_code"],
    GroupBy.STAGE: ["stage"],
    GroupBy.REGION: ["region_code"],
    GroupBy.DEPARTMENT: ["department"],
    GroupBy.MONTH: ["received_month"],
    GroupBy.ALL: [],
}


def compute_statistics(figures: CaseFigures, group_by: GroupBy, filter: StatisticsFilter, today: date) -> list[Group]:
    """统计 — the groups of the cases matching `filter`, as of `today`.

    Closed cases count from the summary case_timeline keeps (projections/case_summary.py: counts
    and a histogram of working days per month, region and item), summed per group in SQL: the cost
    is that of the groups, not of the cases. The others are judged here, each distinct clock once
    (`clock_facts`): open cases, cases decided after `today` (out of the summary, judged as of
    `today`), and decided cases without stored facts (a year the holiday calendar only estimates or
    a published schedule overrides). Facts judged under another chinesecalendar version are not
    trusted: the selection is then judged case by case (`aggregate`) until case_timeline is rebuilt.
    The figures are those of `aggregate` over `matching_cases` (tests/integration/test_statistics*.py
    compare both)."""
    f = filter.check()
    scope = f.region_code or PROVINCE
    selection = _selection(f)
    by = BY[group_by]
    rows = figures.summary_rows(by, selection, PACKAGE_SOURCE, today.isoformat())
    if any(row["part"] == 0 and row["calendar"] not in ("", PACKAGE_SOURCE) for row in rows):
        return aggregate(matching_cases(figures, f), group_by, scope, today, calendar=figures.calendar())
    today_iso = today.isoformat()
    key_of = _key_of(group_by, scope)
    group_of: dict[tuple[Any, ...], Group] = {}  # many rows share a key: look it up once
    groups: dict[str, Group] = {}
    # read only when a clock is to judge (most often none: a decided case counts from the summary)
    calendar = figures.calendar() if any(row["part"] >= 2 for row in rows) else PACKAGE
    for row in rows:
        group = group_of.get(values := tuple(row[k] for k in by))
        if group is None:
            key, label = key_of(row)
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group(key, label)
            group_of[values] = group
        part, n = row["part"], row["n"]
        if part == 0:
            group.add_counts(row)
        elif part == 1:
            group.add_days(row["days"], n)
        else:
            if part == 3:  # in the summary as of its stop day: out, judged as of today
                late, limited = bool(row["stop_overdue"]), row["limit_days"] is not None
                group.add_stopped(row["status_code"], -n, bool(row["accepted_on"]), row["stop_days"], late, limited)
            group.add(row, today, n, today_iso=today_iso, calendar=calendar)
    if group_by is GroupBy.ALL and not groups:
        groups["all"] = Group("all", "合计")
    return [groups[k].finish() for k in sorted(groups, key=_sort_key(group_by))]


def _selection(f: StatisticsFilter, months: bool = True) -> CaseSelection:
    scope = f.region_code or PROVINCE
    return CaseSelection(
        item_code=f.item_code,
        stage=f.stage,
        department=f.department,
        regions=None if scope == PROVINCE else regions_within(scope),
        month_from=f.month_from if months else None,
        month_to=f.month_to if months else None,
    )
