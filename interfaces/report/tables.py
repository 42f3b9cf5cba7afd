"""The report's tables as rows of text: shared by the HTML and the PDF rendering."""

from __future__ import annotations

from application.reports import MonthlyReport
from application.statistics import Group

COLUMNS = (
    "收件",
    "受理",
    "办结（通过）",
    "不予许可",
    "不受理",
    "撤件",
    "在办",
    "超期",
    "按时办结率",
    "平均用时（工作日）",
    "P90用时（工作日）",
)


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def cells(g: Group) -> list[str]:
    return [
        str(g.received),
        str(g.accepted),
        str(g.approved),
        str(g.refused),
        str(g.refused_at_acceptance),
        str(g.withdrawn),
        str(g.open),
        str(g.overdue),
        _rate(g.on_time_rate),
        _num(g.mean_working_days),
        _num(g.p90_working_days),
    ]


def sections(report: MonthlyReport) -> list[tuple[str, str, list[list[str]]]]:
    """(title, first column header, rows) for each table, the summary first."""
    return [
        ("汇总", "范围", [[report.region_name, *cells(report.summary)]]),
        (
            f"按{report.region_level_label}",
            "地区",
            [[g.label, *cells(g)] for g in report.by_region],
        ),
        ("按审批阶段", "阶段", [[f"{g.key} {g.label}", *cells(g)] for g in report.by_stage]),
        ("按审批事项", "事项", [[f"{g.key} {g.label}", *cells(g)] for g in report.by_item]),
    ]
