"""The report's tables as rows of text: shared by the HTML and the PDF rendering."""

from __future__ import annotations

from dataclasses import dataclass

from application.report_supervision import RULE_LABELS
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


@dataclass(frozen=True)
class Table:
    """A table of the supervisor's part: a title, its column headers, rows of text (the first
    `text_columns` left-aligned, the rest numbers), and a note under it."""

    title: str
    headers: tuple[str, ...]
    rows: list[list[str]]
    text_columns: int = 1
    note: str = ""


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def key_figures(report: MonthlyReport) -> list[str]:
    """The supervisor's part in a few lines (the report's first page); none without it."""
    s = report.supervision
    if s is None:
        return []
    w, q, r, f = s.warnings, s.inquiries, s.ratings, s.feedback
    bad_open = sum(1 for b in r.bad_reviews if b.rectification in ("整改中", "逾期未整改"))
    return [
        f"预警 {w.total} 条（" + ("，".join(f"{c.label} {c.count}" for c in w.by_rule) or "无") + "）",
        f"问责立案 {q.opened} 件，结案 {q.closed} 件，问责处理 {q.sanctions} 项",
        f"好差评 {r.total} 件，差评 {r.bad} 件（待整改 {bad_open} 件）",
        f"体验员反馈 {f.total} 件（已办结 {sum(c.count for c in f.by_status if c.key == 'closed')} 件）",
        f"SPGL 导入错误数据 {sum(c.count for c in s.import_errors)} 行（截至报告日）",
    ]


def supervision_tables(report: MonthlyReport) -> list[Table]:
    """The supervisor's tables in reading order; none without the supervision sections."""
    s = report.supervision
    if s is None:
        return []
    w, q, r, f = s.warnings, s.inquiries, s.ratings, s.feedback
    trend_head = ("规则", *(m[2:] for m in w.months))
    return [
        Table(
            f"预警（本月 {w.total} 条）— 按规则",
            ("规则", "预警数"),
            [[c.label, str(c.count)] for c in w.by_rule] or [["（无）", "0"]],
            note="按预警产生（记录）的月份统计；状态为报告日的处置状态。",
        ),
        Table(
            f"预警 — 按{report.region_level_label}",
            ("地区", "预警数"),
            [[c.label, str(c.count)] for c in w.by_region] or [["（无）", "0"]],
        ),
        Table(
            "预警 — 按部门与处置状态",
            ("部门", "预警数"),
            [[c.label, str(c.count)] for c in w.by_department]
            + [[f"状态：{c.label}", str(c.count)] for c in w.by_status]
            or [["（无）", "0"]],
        ),
        Table(
            "预警趋势（近六个月）",
            trend_head,
            [[f"{rule} {RULE_LABELS.get(rule, '')}", *map(str, counts)] for rule, counts in w.trend.items()]
            + [["合计", *map(str, w.trend_total)]],
        ),
        Table(
            f"问责（本月立案 {q.opened} 件，结案 {q.closed} 件，问责处理 {q.sanctions} 项）",
            ("立案日期", "事由", "部门", "地区", "状态", "调查结论"),
            [[i.opened_on, i.subject, i.department, i.region, i.status, i.finding] for i in q.rows]
            or [["（无）"] + [""] * 5],
            text_columns=6,
            note="调查结论：" + ("，".join(f"{c.label} {c.count} 件" for c in q.by_finding) or "尚无"),
        ),
        Table(
            f"好差评（本月评价 {r.total} 件，差评 {r.bad} 件）— 按部门",
            ("部门", "评价", "差评", "差评率", "按时整改", "逾期整改或未整改", "已回访"),
            [
                [
                    g.label,
                    str(g.total),
                    str(g.bad),
                    _rate(g.bad_rate),
                    str(g.rectified_on_time),
                    str(g.rectification_overdue),
                    str(g.followed_up),
                ]
                for g in r.by_department
            ]
            or [["（无）"] + [""] * 6],
            note="各等级：" + "，".join(f"{c.label} {c.count}" for c in r.by_level),
        ),
        Table(
            "差评整改跟踪",
            ("评价日期", "事项", "部门", "等级", "整改期限", "整改情况", "回访"),
            [
                [b.rated_on, b.item, b.department, str(b.level), b.due, b.rectification, b.follow_up]
                for b in r.bad_reviews
            ]
            or [["（无）"] + [""] * 6],
            text_columns=7,
            note="差评须在评价后 15 个工作日内整改；整改情况为报告日的状态。",
        ),
        Table(
            "错误数据 — SPGL 导入被拒的行，按上传规则",
            ("规则", "说明", "行数"),
            [[c.key, c.label, str(c.count)] for c in s.import_errors],
            text_columns=2,
            note="导入错误不带业务日期：截至报告日的全部导入。",
        ),
        Table(
            f"体验员反馈（本月 {f.total} 件）",
            ("反馈日期", "类别", "对象", "责任部门", "督办状态", "办结结论"),
            [[x.reported_on, x.category, x.subject, x.department, x.status, x.outcome] for x in f.rows]
            or [["（无）"] + [""] * 5],
            text_columns=6,
            note="按类别："
            + ("，".join(f"{c.label} {c.count}" for c in f.by_category) or "无")
            + "；按状态："
            + ("，".join(f"{c.label} {c.count}" for c in f.by_status) or "无"),
        ),
        Table(
            "综合窗口考核（按窗口）",
            ("窗口", "受理", "不受理", "不予受理", "要求补正", "平均受理用时（小时）", "评价", "平均评分", "差评"),
            [
                [
                    x.org,
                    str(x.accepted),
                    str(x.not_accepted),
                    str(x.refused_at_acceptance),
                    str(x.corrections_requested),
                    _hours(x.mean_hours_to_accept),
                    str(x.ratings),
                    _num(x.mean_rating),
                    str(x.bad_reviews),
                ]
                for x in s.windows
            ]
            or [["（无）"] + [""] * 8],
        ),
    ]
