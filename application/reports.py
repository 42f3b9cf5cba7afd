"""数据月报 — the monthly report's figures: one month's cases (by business month of receipt) in a
region, summarised and broken down by region, stage and item, plus receipts per day.

Every figure comes from `application.statistics.aggregate` over the same rows that
`compute_statistics` reads, so the report, GraphQL `monthlyReport` and `statistics` agree.
The supervisor's part (warnings, inquiries, 好差评, import errors, feedback, window assessment) is
application/report_supervision.py. Rendering (HTML, PDF, charts) lives in interfaces/report/.
"""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from application.ports import CaseFigures, SupervisionFacts
from application.report_supervision import SupervisionSections, supervision_sections
from application.statistics import (
    MONTH_RE,
    PROVINCE,
    Group,
    GroupBy,
    StatisticsFilter,
    aggregate,
    matching_cases,
    received_on,
)
from domain.shared.errors import InvalidValue
from domain.shared.reference import REFERENCE


@dataclass(frozen=True)
class DayCount:
    day: date
    received: int


@dataclass(frozen=True)
class MonthlyReport:
    month: str  # YYYY-MM
    region_code: str
    region_name: str
    period_start: date
    period_end: date
    as_of: date  # open cases and overdue are judged on this day
    summary: Group
    by_region: list[Group]  # city/county units province-wide; districts inside a prefecture
    by_stage: list[Group]
    by_item: list[Group]
    by_day: list[DayCount]
    supervision: SupervisionSections | None = None  # the supervisor's sections (files; not GraphQL)

    @property
    def region_level_label(self) -> str:
        return "市县" if self.region_code == PROVINCE else "区县"

    @property
    def file_stem(self) -> str:
        return f"monthly-{self.month}" + ("" if self.region_code == PROVINCE else f"-{self.region_code}")


def month_filter(month: str, region_code: str | None) -> StatisticsFilter:
    if not MONTH_RE.match(month):
        raise InvalidValue("month", f"expected YYYY-MM, got {month!r}", "month_format")
    return StatisticsFilter(region_code=region_code or PROVINCE, month_from=month, month_to=month).check()


def monthly_report(
    figures: CaseFigures,
    supervised: SupervisionFacts,
    month: str,
    region_code: str | None,
    today: date,
    *,
    supervision: bool = True,
) -> MonthlyReport:
    """数据月报 — the figures of one month in one region (the whole province by default); with the
    supervisor's sections (read from `supervised`) unless `supervision` is false (GraphQL `monthlyReport` serves
    throughput)."""
    f = month_filter(month, region_code)
    scope = f.region_code or PROVINCE
    rows = matching_cases(figures, f)
    working = figures.calendar()  # 工作日历 as the read model has it from the log
    year, mon = int(month[:4]), int(month[5:])
    start = date(year, mon, 1)
    end = date(year, mon, calendar.monthrange(year, mon)[1])
    per_day = Counter(received_on(r) for r in rows)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return MonthlyReport(
        month=month,
        region_code=scope,
        region_name=REFERENCE.regions[scope].name,
        period_start=start,
        period_end=end,
        as_of=today,
        summary=aggregate(rows, GroupBy.ALL, scope, today, calendar=working)[0],
        by_region=aggregate(rows, GroupBy.REGION, scope, today, calendar=working),
        by_stage=aggregate(rows, GroupBy.STAGE, scope, today, calendar=working),
        by_item=aggregate(rows, GroupBy.ITEM, scope, today, calendar=working),
        by_day=[DayCount(d, per_day.get(d, 0)) for d in days],
        supervision=supervision_sections(supervised, month, scope, today) if supervision else None,
    )
