"""数据月报, the supervisor's part in GraphQL: `monthlyReport { supervision { … } }`, the same
sections as the HTML/PDF files (application/report_supervision.py), computed only when asked for.

The lists that name subjects (inquiries, bad reviews, feedback reports) are personal data: null
for readers without personal-data.read (analysts read the counts)."""

from __future__ import annotations

from dataclasses import asdict

import strawberry

from application.report_supervision import Count, SupervisionSections
from interfaces.graphql.personal import personal


@strawberry.type(description="A labelled count of the monthly report.")
class ReportCount:
    key: str
    label: str
    count: int


@strawberry.type(description="One rule's warnings per month of the trend (`months`).")
class RuleTrend:
    rule: str
    counts: list[int]


@strawberry.type(description="预警 — warnings raised in the month (recorded, Asia/Shanghai), and their trend.")
class ReportWarnings:
    total: int
    by_rule: list[ReportCount]
    by_region: list[ReportCount]
    by_department: list[ReportCount]
    by_status: list[ReportCount] = strawberry.field(description="disposition status on the report day")
    months: list[str] = strawberry.field(description="the trend's months, oldest first, the report's month last")
    trend: list[RuleTrend]
    trend_total: list[int]


@strawberry.type(description="问责 — one inquiry opened in the month.")
class ReportInquiry:
    opened_on: str
    subject: str
    department: str
    region: str
    status: str
    finding: str


@strawberry.type(description="问责 — inquiries opened in the month, their findings, sanctions and closure.")
class ReportInquiries:
    opened: int
    by_finding: list[ReportCount]
    sanctions: int
    closed: int
    rows: list[ReportInquiry] | None = personal("each inquiry")


@strawberry.type(description="好差评 of one department in the month.")
class ReportRatingRow:
    label: str
    total: int
    bad: int
    bad_rate: float
    rectified_on_time: int
    rectification_overdue: int
    followed_up: int


@strawberry.type(description="差评 — a bad review of the month and its rectification and follow-up.")
class ReportBadReview:
    rated_on: str
    item: str
    department: str
    level: int
    due: str
    rectification: str = strawberry.field(description="已按时整改, 逾期整改, 整改中 or 逾期未整改 on the report day")
    follow_up: str


@strawberry.type(description="好差评 — ratings of the month.")
class ReportRatings:
    total: int
    bad: int
    by_level: list[ReportCount]
    by_department: list[ReportRatingRow]
    bad_reviews: list[ReportBadReview] | None = personal("each bad review")


@strawberry.type(description="体验员反馈 — one report of the month and its follow-up.")
class ReportFeedbackRow:
    reported_on: str
    category: str
    subject: str
    department: str
    status: str
    outcome: str


@strawberry.type(description="体验员反馈 — reports of the month by category and follow-up status.")
class ReportFeedback:
    total: int
    by_category: list[ReportCount]
    by_status: list[ReportCount]
    rows: list[ReportFeedbackRow] | None = personal("each report")


@strawberry.type(description="综合窗口考核 — one window in the month.")
class ReportWindow:
    org: str
    accepted: int
    not_accepted: int
    refused_at_acceptance: int
    corrections_requested: int
    mean_hours_to_accept: float | None
    ratings: int
    mean_rating: float | None
    bad_reviews: int


@strawberry.type(
    description="数据月报 — the supervisor's part: warnings, inquiries, 好差评, error data, feedback, windows."
)
class MonthlySupervision:
    warnings: ReportWarnings
    inquiries: ReportInquiries
    ratings: ReportRatings
    import_errors: list[ReportCount] = strawberry.field(
        description="SPGL rows kept out per uploader rule and code check (all imports, as of the report day)"
    )
    feedback: ReportFeedback
    windows: list[ReportWindow]


def _counts(counts: list[Count]) -> list[ReportCount]:
    return [ReportCount(key=c.key, label=c.label, count=c.count) for c in counts]


def supervision_node(s: SupervisionSections) -> MonthlySupervision:
    w, q, r, f = s.warnings, s.inquiries, s.ratings, s.feedback
    return MonthlySupervision(
        warnings=ReportWarnings(
            total=w.total,
            by_rule=_counts(w.by_rule),
            by_region=_counts(w.by_region),
            by_department=_counts(w.by_department),
            by_status=_counts(w.by_status),
            months=w.months,
            trend=[RuleTrend(rule=rule, counts=counts) for rule, counts in w.trend.items()],
            trend_total=w.trend_total,
        ),
        inquiries=ReportInquiries(
            opened=q.opened,
            by_finding=_counts(q.by_finding),
            sanctions=q.sanctions,
            closed=q.closed,
            rows=[ReportInquiry(**asdict(i)) for i in q.rows],
        ),
        ratings=ReportRatings(
            total=r.total,
            bad=r.bad,
            by_level=_counts(r.by_level),
            by_department=[ReportRatingRow(**asdict(g)) for g in r.by_department],
            bad_reviews=[ReportBadReview(**asdict(b)) for b in r.bad_reviews],
        ),
        import_errors=_counts(s.import_errors),
        feedback=ReportFeedback(
            total=f.total,
            by_category=_counts(f.by_category),
            by_status=_counts(f.by_status),
            rows=[ReportFeedbackRow(**asdict(x)) for x in f.rows],
        ),
        windows=[ReportWindow(**asdict(x)) for x in s.windows],
    )
