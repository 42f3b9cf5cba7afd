"""数据月报, the supervisor's part: warnings (预警) with their trend, inquiries and findings (问责),
好差评 with the follow-up of bad reviews, SPGL import errors by rule, experience officers' feedback
(体验员反馈) with its follow-up, and the window assessment (综合窗口考核).

Every figure is read through the port `SupervisionFacts` (application/ports.py), which
projections/supervision_facts.py fills from the query methods of the read model that owns it
(offline_warnings, inquiries, ratings, feedback, spgl_exchange, window_assessment); nothing here runs SQL.
Periods: warnings by the month they were raised (recorded, Asia/Shanghai), inquiries by the month
they were opened, ratings by the month rated, feedback by the month reported; the follow-up states
(rectification, inquiry and feedback status) are as the read models hold them on the report day.
Import errors carry no business date: they are counted as of the report day, all imports.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from application.ports import SupervisionFacts
from application.statistics import region_level_below
from domain.catalog import CATALOG
from domain.exchange.spgl import CHECK_TEXTS, rule_texts, wording
from domain.shared.events import SHANGHAI
from domain.shared.reference import REFERENCE, regions_within
from domain.supervision.feedback import CATEGORY_LABELS, FeedbackCategory

PROVINCE = "460000"
TREND_MONTHS = 6  # the report's month and the five before it
RULE_LABELS = {
    "W1": "体外循环",
    "W2": "先批后录",
    "W3": "压缩或虚构流程",
    "W4": "先后置倒挂",
    "W5": "前置文号悬空",
    "W6": "超期",
    "W7": "程序滥用",
    "W8": "重复赋码",
    "W9": "未策划生成",
    "W10": "隐形审批",
}
WARNING_STATUS = {
    "open": "待处理",
    "acknowledged": "已签收",
    "in_inquiry": "问责中",
    "closed_explained": "说明后关闭",
    "resolved": "已消除",
}
FINDINGS = {"violation_confirmed": "违规属实", "justified": "有正当理由", "false_alarm": "误报"}
INQUIRY_STATUS = {
    "opened": "已立案",
    "explanation_requested": "待说明",
    "explained": "已说明",
    "finding_recorded": "已认定",
    "sanctioned": "已处理",
    "closed": "已结案",
}
FEEDBACK_STATUS = {
    "submitted": "待登记",
    "listed": "已登记",
    "assigned": "已交办",
    "answered": "已答复",
    "closed": "已办结",
}
OUTCOMES = {"resolved": "已整改", "not_substantiated": "不属实", "explained": "已解释"}


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class WarningSection:
    total: int
    by_rule: list[Count]
    by_region: list[Count]
    by_department: list[Count]
    by_status: list[Count]
    months: list[str]  # the trend's months, oldest first; the report's month last
    trend: dict[str, list[int]]  # rule → warnings raised per month of `months`
    trend_total: list[int]


@dataclass(frozen=True)
class InquiryRow:
    opened_on: str
    subject: str
    department: str
    region: str
    status: str
    finding: str


@dataclass(frozen=True)
class InquirySection:
    opened: int
    by_finding: list[Count]  # of the month's inquiries: with a finding, per finding
    sanctions: int
    closed: int
    rows: list[InquiryRow]


@dataclass(frozen=True)
class RatingRow:
    label: str
    total: int
    bad: int
    bad_rate: float
    rectified_on_time: int
    rectification_overdue: int
    followed_up: int


@dataclass(frozen=True)
class BadReview:
    rated_on: str
    item: str
    department: str
    level: int
    due: str
    rectification: str  # 已按时整改 / 逾期整改 / 整改中 / 逾期未整改
    follow_up: str


@dataclass(frozen=True)
class RatingSection:
    total: int
    bad: int
    by_level: list[Count]
    by_department: list[RatingRow]
    bad_reviews: list[BadReview]


@dataclass(frozen=True)
class FeedbackRow:
    reported_on: str
    category: str
    subject: str
    department: str
    status: str
    outcome: str


@dataclass(frozen=True)
class FeedbackSection:
    total: int
    by_category: list[Count]
    by_status: list[Count]
    rows: list[FeedbackRow]


@dataclass(frozen=True)
class WindowRow:
    org: str
    accepted: int
    not_accepted: int
    refused_at_acceptance: int
    corrections_requested: int
    mean_hours_to_accept: float | None
    ratings: int
    mean_rating: float | None
    bad_reviews: int


@dataclass(frozen=True)
class SupervisionSections:
    warnings: WarningSection
    inquiries: InquirySection
    ratings: RatingSection
    import_errors: list[Count]  # per uploader rule (R1–R6) and code check, as of the report day
    feedback: FeedbackSection
    windows: list[WindowRow]


def previous_months(month: str, n: int) -> list[str]:
    """`n` months ending with `month` (YYYY-MM), oldest first."""
    year, mon = int(month[:4]), int(month[5:])
    out = []
    for _ in range(n):
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year, mon - 1) if mon > 1 else (year - 1, 12)
    return out[::-1]


def _month_start_utc(month: str) -> str:
    """The first instant of a Shanghai month as UTC ISO text (warnings' `raised_at` is UTC)."""
    start = datetime.combine(date(int(month[:4]), int(month[5:]), 1), time(), SHANGHAI)
    return start.astimezone(UTC).isoformat()


def _next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:])
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def _shanghai_month(moment: str) -> str:
    return datetime.fromisoformat(moment).astimezone(SHANGHAI).strftime("%Y-%m")


def _department(code: str | None) -> str:
    return CATALOG.departments.get(code, code) if code else "未指定部门"


def _region(code: str | None) -> str:
    return REFERENCE.regions[code].name if code and code in REFERENCE.regions else (code or "未知")


def _unit(code: str | None, scope: str) -> str:
    """The region one level below the scope (a city/county unit province-wide)."""
    if not code:
        return ""
    return REFERENCE.unit_of(code) if scope == PROVINCE else region_level_below(scope, code)


def _counts(counter: Counter[str], label: dict[str, str] | None = None, order: list[str] | None = None) -> list[Count]:
    keys = order if order is not None else sorted(counter, key=lambda k: (-counter[k], k))
    return [Count(k, (label or {}).get(k, k), counter[k]) for k in keys if counter[k]]


def _rule_order(rules: set[str]) -> list[str]:
    return sorted(rules, key=lambda r: (len(r), r))


def warning_section(facts: SupervisionFacts, month: str, scope: str) -> WarningSection:
    months = previous_months(month, TREND_MONTHS)
    rows = facts.warnings(scope, _month_start_utc(months[0]), _month_start_utc(_next_month(month)))
    by_month = [(r, _shanghai_month(r["raised_at"])) for r in rows]
    this = [r for r, m in by_month if m == month]
    rules = _rule_order({r["rule"] for r, _m in by_month})
    per_month = Counter((r["rule"], m) for r, m in by_month)
    regions = Counter(_unit(r["region_code"], scope) for r in this)
    return WarningSection(
        total=len(this),
        by_rule=[Count(k, f"{k} {RULE_LABELS.get(k, '')}".strip(), n) for k, n in _rule_counts(this)],
        by_region=[Count(k, _region(k), n) for k, n in sorted(regions.items(), key=lambda kv: (-kv[1], kv[0]))],
        by_department=_counts(
            Counter(r["department"] or "" for r in this), {"": "未指定部门"} | dict(CATALOG.departments)
        ),
        by_status=_counts(Counter(r["status"] for r in this), WARNING_STATUS, list(WARNING_STATUS)),
        months=months,
        trend={rule: [per_month[(rule, m)] for m in months] for rule in rules},
        trend_total=[sum(per_month[(rule, m)] for rule in rules) for m in months],
    )


def _rule_counts(rows: list[dict[str, object]]) -> list[tuple[str, int]]:
    counts = Counter(str(r["rule"]) for r in rows)
    return [(rule, counts[rule]) for rule in _rule_order(set(counts))]


def inquiry_section(facts: SupervisionFacts, month: str, scope: str) -> InquirySection:
    start = date(int(month[:4]), int(month[5:]), 1)
    end = date.fromisoformat(f"{_next_month(month)}-01")
    rows = facts.inquiries(scope, start, date.fromordinal(end.toordinal() - 1))
    findings = Counter(r["finding"] for r in rows if r["finding"])
    return InquirySection(
        opened=len(rows),
        by_finding=_counts(findings, FINDINGS, list(FINDINGS)),
        sanctions=sum(len(json.loads(r["sanctions"])) for r in rows),
        closed=sum(1 for r in rows if r["status"] == "closed"),
        rows=[
            InquiryRow(
                opened_on=r["opened_on"],
                subject=r["subject"],
                department=_department(r["department"]),
                region=_region(r["region_code"]),
                status=INQUIRY_STATUS.get(r["status"], r["status"]),
                finding=FINDINGS.get(r["finding"] or "", "—"),
            )
            for r in rows
        ],
    )


def _rectification(r: dict[str, object], today: date) -> str:
    if r["rectified_on"]:
        return "已按时整改" if r["rectified_on_time"] else "逾期整改"
    return "逾期未整改" if str(r["rectification_due"]) < today.isoformat() else "整改中"


def rating_section(facts: SupervisionFacts, month: str, scope: str, today: date) -> RatingSection:
    months = facts.rating_groups("MONTH", today, scope, month)  # one group, or none
    summary = months[0] if months else None
    departments = facts.rating_groups("DEPARTMENT", today, scope, month)
    bad = facts.bad_reviews(month, scope)
    return RatingSection(
        total=summary["total"] if summary else 0,
        bad=summary["bad_count"] if summary else 0,
        by_level=[Count(str(lv), name, n) for lv, name, n in summary["by_level"]] if summary else [],
        by_department=[
            RatingRow(
                g["label"],
                g["total"],
                g["bad_count"],
                g["bad_rate"],
                g["rectified_on_time"],
                g["rectification_overdue"],
                g["followed_up"],
            )
            for g in departments
            if g["total"]
        ],
        bad_reviews=[
            BadReview(
                rated_on=r["rated_on"],
                item=f"{r['item_code']} {r['item_name']}",
                department=_department(r["department"]),
                level=int(r["level"]),
                due=r["rectification_due"] or "—",
                rectification=_rectification(r, today),
                follow_up={"satisfied": "满意", "unsatisfied": "不满意"}.get(r["follow_up_result"] or "", "未回访"),
            )
            for r in bad
        ],
    )


def import_error_section(facts: SupervisionFacts, scope: str) -> list[Count]:
    """导入错误数据 — rows SPGL imports kept out, per uploader rule and code check (all imports)."""
    within = None if scope == PROVINCE else set(regions_within(scope))
    counts = Counter(e["rule"] for e in facts.import_errors() if within is None or e["region_code"] in within)
    order = [*rule_texts(), *CHECK_TEXTS]
    return [Count(rule, wording(rule), counts[rule]) for rule in order]


def feedback_section(facts: SupervisionFacts, month: str, scope: str) -> FeedbackSection:
    rows = facts.feedback(month, scope)
    categories = {c.value: label for c, label in CATEGORY_LABELS.items()}
    return FeedbackSection(
        total=len(rows),
        by_category=_counts(Counter(r["category"] for r in rows), categories, [c.value for c in FeedbackCategory]),
        by_status=_counts(Counter(r["status"] for r in rows), FEEDBACK_STATUS, list(FEEDBACK_STATUS)),
        rows=[
            FeedbackRow(
                reported_on=datetime.fromisoformat(r["submitted_at"]).astimezone(SHANGHAI).date().isoformat(),
                category=categories.get(r["category"], r["category"]),
                subject=_subject(r),
                department=_department(r["assigned_department"] or r["department"]),
                status=FEEDBACK_STATUS.get(r["status"], r["status"]),
                outcome=OUTCOMES.get(r["outcome"] or "", "—"),
            )
            for r in rows
        ],
    )


def _subject(r: dict[str, object]) -> str:
    if r["subject_kind"] == "window":
        return f"窗口 {r['window_org']}"
    if r["subject_kind"] == "case":
        return f"办件 {str(r['case_id'])[:8]}"
    item = CATALOG.items.get(str(r["item_code"]))
    return f"事项 {r['item_code']} {item.name if item else ''}".strip()


def window_section(facts: SupervisionFacts, month: str, scope: str) -> list[WindowRow]:
    rows = facts.windows(month, scope)
    return [
        WindowRow(
            org=r["org"],
            accepted=r["accepted"],
            not_accepted=r["not_accepted"],
            refused_at_acceptance=r["refused_at_acceptance"],
            corrections_requested=r["corrections_requested"],
            mean_hours_to_accept=r["mean_hours_to_accept"],
            ratings=r["ratings"],
            mean_rating=r["mean_rating"],
            bad_reviews=r["bad_reviews"],
        )
        for r in rows
    ]


def supervision_sections(facts: SupervisionFacts, month: str, scope: str, today: date) -> SupervisionSections:
    return SupervisionSections(
        warnings=warning_section(facts, month, scope),
        inquiries=inquiry_section(facts, month, scope),
        ratings=rating_section(facts, month, scope, today),
        import_errors=import_error_section(facts, scope),
        feedback=feedback_section(facts, month, scope),
        windows=window_section(facts, month, scope),
    )
