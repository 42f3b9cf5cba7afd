"""数据月报 — the demo's monthly report: files with tables and charts, and figures equal to the
GraphQL statistics of the same month, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from application.bootstrap import Container, bootstrap
from application.clock import SimulatedClock
from application.commands import Invocation
from application.commands.cases import CASE_ACTIONS, SubmitCase
from application.commands.projects import GenerateProject
from application.commands.ratings import FEEDBACK_ACTIONS, RateCase, RecordFollowUp, RecordRectification, SubmitFeedback
from application.commands.spgl import ImportSpglTables
from application.commands.supervision import INQUIRY_ACTIONS, OpenInquiry
from application.policy import Actor
from application.reports import monthly_report
from application.statistics import GroupBy, StatisticsFilter, compute_statistics
from demo import demo_clock, load_demo
from demo.figures import count_overdue
from domain.catalog import CATALOG
from domain.shared.events import SHANGHAI
from infrastructure.settings import Settings
from interfaces.graphql.context import Context
from interfaces.graphql.schema import schema
from interfaces.report import write_report
from tests.conftest import JWT_SECRET, _conninfo
from tests.spgl_city_dump import Dump

MONTH = "2026-10"
SUPERVISOR = Actor("sup-1", "supervisor", "hn-sup", "460000")
FIELDS = """key label received accepted approved refused refusedAtAcceptance withdrawn revoked open decided
  overdue onTimeRate meanWorkingDays p90WorkingDays"""


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    """The demo (40 projects) loaded once per store for this module's read-only tests."""
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path_factory.mktemp('report')}/gongjian.db", None
    else:
        base = request.getfixturevalue("pg_base_url")
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_conninfo(base), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        url, drop = f"{base}?schema={name}", (base, name)
    clock = demo_clock()
    container = bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET), clock)
    load_demo(container, clock, projects=40, progress=False)
    container.engine.catch_up()
    yield container
    container.close()
    if drop:
        with psycopg.connect(_conninfo(drop[0]), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{drop[1]}" CASCADE')


def run(container: Container, query: str, **variables: Any) -> Any:
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=Context(container, SUPERVISOR)))
    assert result.errors is None, result.errors
    return result.data


def statistics(container: Container, by: str, region: str | None = None) -> list[dict[str, Any]]:
    query = f"""query($by: StatisticsGroupBy!, $f: StatisticsFilter) {{
      statistics(groupBy: $by, filter: $f) {{ {FIELDS} }} }}"""
    f = {"monthFrom": MONTH, "monthTo": MONTH, "regionCode": region}
    return list(run(container, query, by=by, f=f)["statistics"])


def test_the_monthly_report_equals_the_statistics_of_the_same_month(demo: Container) -> None:
    query = f"""query($m: String!, $r: String) {{ monthlyReport(month: $m, regionCode: $r) {{
      month regionCode regionName periodStart periodEnd summary {{ {FIELDS} }} byRegion {{ {FIELDS} }}
      byStage {{ {FIELDS} }} byItem {{ {FIELDS} }} byDay {{ day received }} }} }}"""
    for region in (None, "460100"):
        report = run(demo, query, m=MONTH, r=region)["monthlyReport"]
        assert report["periodStart"] == "2026-10-01" and report["periodEnd"] == "2026-10-31"
        (month,) = statistics(demo, "MONTH", region)
        assert {**report["summary"], "key": month["key"], "label": month["label"]} == month
        assert report["summary"]["received"] > 0
        assert report["byRegion"] == statistics(demo, "REGION", region)
        assert report["byStage"] == statistics(demo, "STAGE", region)
        assert report["byItem"] == statistics(demo, "ITEM", region)
        assert sum(d["received"] for d in report["byDay"]) == month["received"]
        assert len(report["byDay"]) == 31
    province = run(demo, query, m=MONTH, r=None)["monthlyReport"]
    assert province["regionName"] == "海南省" and len(province["byRegion"]) > 1
    assert all(
        g["key"] in ("460100", "460200", "460300", "460400") or g["key"].startswith("469") for g in province["byRegion"]
    )


def test_the_monthly_report_files_hold_the_tables_and_the_charts(demo: Container, tmp_path: Path) -> None:
    today = demo.clock.now().astimezone(SHANGHAI).date()
    report = monthly_report(demo.figures, demo.supervised, MONTH, "460100", today)
    html_path, pdf_path = write_report(report, tmp_path)
    assert html_path.name == "monthly-2026-10-460100.html" and pdf_path.name == "monthly-2026-10-460100.pdf"
    html = html_path.read_text(encoding="utf-8")
    assert html.count('<table class="report">') == 4  # summary, by district, by stage, by item
    assert html.count("<svg") == 6 and html.count('<figure class="chart"') == 6  # 3 throughput, 3 supervision
    assert html.count('<table class="supervision">') == 10
    assert report.by_region and report.by_item
    districts = [g.label for g in report.by_region]
    for label in ("海口市", "按区县", "按审批阶段", "按审批事项", "按时办结率", *districts):
        assert label in html
    assert f'<td>海口市</td><td class="n">{report.summary.received}</td>' in html
    pdf = pdf_path.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 1


def test_the_report_command_writes_html_and_pdf(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    clock = demo_clock()
    container = bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET), clock)
    load_demo(container, clock, projects=20, progress=False)
    container.close()
    # tests write keys and packages to scratch; a store other than the embedded default needs its secrets
    keep = ("GONGJIAN_KEYSTORE_PATH", "GONGJIAN_ARCHIVE_PATH", "GONGJIAN_KEYSTORE_PASSPHRASE")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGJIAN_") or k in keep}
    env.update(GONGJIAN_DATABASE_URL=url, GONGJIAN_JWT_SECRET=JWT_SECRET)
    out = tmp_path / "reports"
    cli = [sys.executable, "-m", "interfaces.cli", "report", "monthly"]
    done = subprocess.run([*cli, MONTH, "--out", str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["monthly-2026-10.html", "monthly-2026-10.pdf"]
    bad = subprocess.run([*cli, "2026-13", "--out", str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "YYYY-MM" in bad.stdout


# --- a hand-built October: overdue agrees everywhere; the supervisor's sections are exact ----------

OWNER = "91460000MA5T0P3X64"
CLERK = Actor("clerk-1", "window_clerk", "460100-zwfw", "460100")
REVIEWER = Actor("reviewer-1", "reviewer", "460100-zrzy", "460100")
APPROVER = Actor("approver-1", "approver", "460100-zrzy", "460100")
APPLICANT = Actor("owner-1", "applicant", OWNER, "460100")
OFFICER = Actor("officer-1", "supervisor", "460000-yshj", "460000")  # 体验员
ACCOUNTABILITY = Actor("acc-1", "accountability_officer", "460000-jw", "460000")
CITY = Actor("haikou-system", "integration", "460100-gongjian", "460100", "海口市工建系统")
ITEM = "GJ-1-02"  # 用地预审与选址意见书, zrzy, promised limit 5 working days


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), SHANGHAI).astimezone(UTC)


class October:
    """Cases of GJ-1-02 in Haikou (limit 5 working days), working days counted by hand on the 2026
    schedule (Mon 12 Oct … Fri 16, Mon 19 … Fri 23, Mon 26 … Fri 30):

    S  received and accepted Mon 14 Sep, approved Tue 22 Sep: 6 days, overdue (September; the trend);
    A  accepted Mon 12 Oct, approved Fri 16 Oct: 4 days, on time;
    B  accepted Mon 12 Oct, approved Tue 20 Oct: 6 days, overdue from that decision on;
    C  accepted Mon 12 Oct, left open: 5 days on Mon 19 (not yet), overdue from Tue 20;
    D  accepted Mon 12 Oct, expert review Tue 13 → Tue 27 (10 working days paused), open: 4 days on
       Fri 30, not overdue — counted without the pause it would be;
    E  accepted Tue 27 Oct, open: 3 days on Fri 30;
    F  accepted Mon 12 Oct, withdrawn Thu 29 Oct (after 12 days): a withdrawal is never overdue.
    Overdue of the October cases: 0 as of Mon 19, 2 (B, C) as of Tue 20 and as of Fri 30.
    """

    def __init__(self, c: Container, clock: SimulatedClock) -> None:
        self.c, self.clock = c, clock
        self.code = f"2609-460100-04-01-{uuid.uuid4().int % 10**6:06d}"
        clock.set(at(date(2026, 9, 14), 9))
        c.projects.generate(
            Invocation(CLERK, "gen"),
            GenerateProject(
                code=self.code,
                name="海口月报测试综合楼",
                owner_name="海南测试建设有限公司",
                owner_uscc=OWNER,
                region_code="460106",
                flow_type=3,
                investment_type="enterprise",
                category="房屋建筑",
                total_investment=Decimal("800"),
                planned_start=date(2026, 9, 1),
                planned_end=date(2027, 6, 30),
                red_line=None,
            ),
        )
        self.s = self.accepted(date(2026, 9, 14))
        self.act(date(2026, 9, 22), APPROVER, self.s, "approve", {"document_number": "海自然资选字〔2026〕9号"})
        monday = date(2026, 10, 12)
        self.a, self.b, self.c_, self.d, self.f = (self.accepted(monday) for _ in range(5))
        self.act(date(2026, 10, 13), REVIEWER, self.d, "start-special-procedure", EXPERT)
        self.act(date(2026, 10, 16), APPROVER, self.a, "approve", {"document_number": "海自然资选字〔2026〕11号"})
        self.act(date(2026, 10, 20), APPROVER, self.b, "approve", {"document_number": "海自然资选字〔2026〕12号"})
        self.act(date(2026, 10, 27), REVIEWER, self.d, "end-special-procedure", {"result": "通过"})
        self.e = self.accepted(date(2026, 10, 27))
        self.act(date(2026, 10, 29), CLERK, self.f, "withdraw", {"reason": "投资计划调整"})
        self.october = [self.a, self.b, self.c_, self.d, self.e, self.f]

    def accepted(self, day: date) -> uuid.UUID:
        self.clock.set(at(day, 9))
        body: dict[str, Any] = {"situation_codes": [], "materials": [], "parallel_application_id": None}
        case = self.c.cases.submit(
            Invocation(CLERK, "sub"), SubmitCase(project_code=self.code, item_code=ITEM, acceptance_mode=1, **body)
        )
        case_id = case.id
        self.act(day, CLERK, case_id, "accept")
        return case_id

    def act(self, day: date, who: Actor, case_id: uuid.UUID, action: str, body: dict[str, Any] | None = None) -> None:
        self.clock.set(at(day))
        self.c.cases.act(Invocation(who, f"{action}-{case_id}"), CASE_ACTIONS[action](case_id, **(body or {})))


EXPERT = {"procedure_type": "expert_review", "procedure_name": "专家评审", "limit_days": 20}


@pytest.fixture
def october(store_url: str) -> Iterator[tuple[Container, October]]:
    clock = SimulatedClock(at(date(2026, 9, 14), 8))
    container = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET, wait_timeout_s=5), clock)
    try:
        yield container, October(container, clock)
    finally:
        container.close()


def test_the_banner_statistics_and_the_report_agree_on_overdue(october: tuple[Container, October]) -> None:
    container, scenario = october
    container.engine.catch_up()
    for today, expected in ((date(2026, 10, 19), 0), (date(2026, 10, 20), 2), (date(2026, 10, 30), 2)):
        # Step: the demo banner's count, statistics and the monthly report, each as of the same day.
        banner = count_overdue(container, scenario.october, today, 2026)
        (month,) = compute_statistics(
            container.figures, GroupBy.MONTH, StatisticsFilter(month_from=MONTH, month_to=MONTH), today
        )
        report = monthly_report(container.figures, container.supervised, MONTH, None, today, supervision=False)
        assert (banner, month.overdue, report.summary.overdue) == (expected, expected, expected), today
    # the September case, decided late, stays overdue whenever it is judged
    assert count_overdue(container, [scenario.s], date(2026, 12, 31), 2026) == 1


WARNINGS = """query($after: String) { warnings(first: 100, after: $after) { pageInfo { hasNextPage endCursor }
  edges { node { id rule caseId regionCode department status raisedAt } } } }"""


def all_warnings(container: Container) -> list[dict[str, Any]]:
    found, after = [], None
    while True:
        page = run(container, WARNINGS, after=after)["warnings"]
        found += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def shanghai_month(moment: str) -> str:
    return datetime.fromisoformat(moment).astimezone(SHANGHAI).strftime("%Y-%m")


def test_the_report_shows_the_supervisors_sections_as_the_events_made_them(
    october: tuple[Container, October], tmp_path: Path
) -> None:
    container, s = october
    c, clock = container, s.clock
    c.engine.catch_up()
    thu, fri = date(2026, 10, 29), date(2026, 10, 30)  # the steps below follow the cases' last (Thu 10:00)
    # Step: an inquiry on B's overdue decision: violation confirmed, sanctioned, closed.
    (w6_b,) = [w["id"] for w in all_warnings(c) if w["rule"] == "W6" and w["caseId"] == str(s.b)]
    clock.set(at(thu, 11))
    inquiry = c.supervision.open_inquiry(
        Invocation(ACCOUNTABILITY, "inq"),
        OpenInquiry(warning_ids=[w6_b], subject="超期办结", department="zrzy", reason="超期"),
    )
    iid = inquiry.id
    for hour, action, body in (
        (12, "record-finding", {"finding": "violation_confirmed", "summary": "无正当理由超期"}),
        (
            13,
            "record-sanction",
            {"sanction_type": "诫勉谈话", "target": "经办人", "decision_number": "琼监〔2026〕1号"},
        ),
        (14, "close", {"conclusion": "已处理"}),
    ):
        clock.set(at(thu, hour))
        c.supervision.act(Invocation(ACCOUNTABILITY, action), INQUIRY_ACTIONS[action](iid, **body))
    # Step: the applicant rates A 5 and B 1 (bad: rectified the next day, followed up satisfied).
    for hour, case_id, level in ((15, s.a, 5), (16, s.b, 1)):
        clock.set(at(thu, hour))
        rated = c.ratings.rate(
            Invocation(APPLICANT, "rate"),
            RateCase(case_id=case_id, level=level, evaluation_channel="pc", dimensions={}, comment=""),
        )
    # Step: the experience officer's two reports; the first followed up to its close.
    clock.set(at(thu, 17))
    window = c.feedback.submit(
        Invocation(OFFICER, "fb"),
        SubmitFeedback(
            subject_kind="window",
            case_id=None,
            item_code=None,
            window="460100-zwfw",
            region_code="460100",
            reporter_kind=None,
            category="attitude",
            description="窗口答复含糊",
        ),
    )
    c.feedback.submit(
        Invocation(OFFICER, "fb2"),
        SubmitFeedback(
            subject_kind="item",
            case_id=None,
            item_code=ITEM,
            window=None,
            region_code="460100",
            reporter_kind=None,
            category="unclear_materials",
            description="材料清单不清",
        ),
    )
    clock.set(at(fri, 9))
    c.ratings.record_rectification(
        Invocation(REVIEWER, "fix"),
        RecordRectification(rated.id, measures="一次性告知", rectified_on=None),
    )
    clock.set(at(fri, 10))
    c.ratings.record_follow_up(
        Invocation(OFFICER, "visit"),
        RecordFollowUp(rated.id, result="satisfied", note="", followed_up_on=None),
    )
    fid = window.id
    for hour, who, action, body in (
        (11, OFFICER, "list", {"note": ""}),
        (12, OFFICER, "assign", {"department": "zrzy", "region_code": "460100"}),
        (14, REVIEWER, "answer", {"answer": "已约谈窗口人员"}),
        (15, OFFICER, "close", {"outcome": "resolved", "conclusion": "已整改"}),
    ):
        clock.set(at(fri, hour))
        c.feedback.act(Invocation(who, action), FEEDBACK_ACTIONS[action](fid, **body))
    # Step: a city system's SPGL dump with rows planted to break the uploaders' rules.
    clock.set(at(fri, 16))
    dump = Dump(projects=3)
    c.spgl.import_tables(Invocation(CITY, "import"), ImportSpglTables("haikou", dump.tables))
    c.engine.catch_up()

    report = monthly_report(c.figures, c.supervised, MONTH, None, date(2026, 10, 30))
    sup = report.supervision
    assert sup is not None

    # Warnings: as listed by GraphQL, counted here by the Shanghai month they were raised.
    listed = all_warnings(c)
    months = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert sup.warnings.months == months
    per = Counter((w["rule"], shanghai_month(w["raisedAt"])) for w in listed)
    this = [w for w in listed if shanghai_month(w["raisedAt"]) == MONTH]
    assert {x.key: x.count for x in sup.warnings.by_rule} == dict(Counter(w["rule"] for w in this))
    assert sup.warnings.total == len(this) and sum(x.count for x in sup.warnings.by_region) == len(this)
    assert sup.warnings.trend == {rule: [per[(rule, m)] for m in months] for rule in sup.warnings.trend}
    assert sup.warnings.trend["W6"][-2] >= 1 and sup.warnings.trend["W6"][-1] >= 1  # S late in September, B in October
    assert {x.key: x.count for x in sup.warnings.by_status}.get("in_inquiry", 0) >= 1  # B's, linked to the inquiry

    # Inquiries.
    assert (sup.inquiries.opened, sup.inquiries.sanctions, sup.inquiries.closed) == (1, 1, 1)
    assert [(x.key, x.count) for x in sup.inquiries.by_finding] == [("violation_confirmed", 1)]
    (row,) = sup.inquiries.rows
    assert (row.opened_on, row.subject, row.department) == ("2026-10-29", "超期办结", CATALOG.departments["zrzy"])

    # 好差评: October's two ratings; the bad review due 15 working days after Thu 29 Oct: Thu 19 Nov.
    r = sup.ratings
    assert (r.total, r.bad) == (2, 1)
    assert {x.key: x.count for x in r.by_level} == {"5": 1, "4": 0, "3": 0, "2": 0, "1": 1}
    (dept,) = r.by_department
    assert (dept.label, dept.total, dept.bad, dept.bad_rate) == (CATALOG.departments["zrzy"], 2, 1, 0.5)
    assert (dept.rectified_on_time, dept.rectification_overdue, dept.followed_up) == (1, 0, 1)
    (bad,) = r.bad_reviews
    assert (bad.rated_on, bad.level, bad.due, bad.rectification, bad.follow_up) == (
        "2026-10-29", 1, "2026-11-19", "已按时整改", "满意",
    )  # fmt: skip

    # Import errors by rule: exactly the rows the dump planted.
    assert {x.key: x.count for x in sup.import_errors if x.count} == dict(dump.planted)

    # 体验员反馈 and its follow-up.
    f = sup.feedback
    assert f.total == 2
    assert {x.key: x.count for x in f.by_category} == {"attitude": 1, "unclear_materials": 1}
    assert {x.key: x.count for x in f.by_status} == {"closed": 1, "submitted": 1}
    assert [(x.reported_on, x.status, x.outcome) for x in f.rows] == [
        ("2026-10-29", "已办结", "已整改"), ("2026-10-29", "待登记", "—"),
    ]  # fmt: skip

    # 综合窗口考核: the window accepted six cases in October (A–F) and was rated twice (5 and 1).
    (window_row,) = sup.windows
    assert (window_row.org, window_row.accepted, window_row.ratings, window_row.bad_reviews) == ("460100-zwfw", 6, 2, 1)
    assert window_row.mean_rating == 3.0

    # The files hold every section and its charts.
    html_path, pdf_path = write_report(report, tmp_path)
    html = html_path.read_text(encoding="utf-8")
    for title in ("预警", "预警趋势", "问责", "好差评", "差评整改跟踪", "错误数据", "体验员反馈", "综合窗口考核"):
        assert f"<h2>{title}" in html, title
    assert html.count("<svg") == 6
    assert "诫勉谈话" not in html  # sanctions are counted, not named
    assert pdf_path.read_bytes().startswith(b"%PDF")

    # GraphQL `monthlyReport { supervision }` answers the same sections; analysts get the counts only.
    query = """query { monthlyReport(month: "2026-10") { asOf supervision {
      warnings { total byRule { key count } trend { rule counts } }
      inquiries { opened sanctions closed byFinding { key count } rows { subject finding } }
      ratings { total bad badReviews { ratedOn rectification followUp } }
      importErrors { key count } feedback { total byStatus { key count } rows { status } }
      windows { org accepted ratings badReviews } } } }"""
    clock.set(at(fri, 17))  # the report is made as of the container's today
    answer = run(c, query)["monthlyReport"]
    assert answer["asOf"] == "2026-10-30"
    g = answer["supervision"]
    assert {x["key"]: x["count"] for x in g["warnings"]["byRule"]} == {x.key: x.count for x in sup.warnings.by_rule}
    assert {t["rule"]: t["counts"] for t in g["warnings"]["trend"]} == sup.warnings.trend
    assert (g["inquiries"]["opened"], g["inquiries"]["sanctions"], g["inquiries"]["closed"]) == (1, 1, 1)
    assert g["inquiries"]["rows"] == [{"subject": "超期办结", "finding": "违规属实"}]
    assert g["ratings"]["badReviews"] == [{"ratedOn": "2026-10-29", "rectification": "已按时整改", "followUp": "满意"}]
    assert {x["key"]: x["count"] for x in g["importErrors"] if x["count"]} == dict(dump.planted)
    assert [x["status"] for x in g["feedback"]["rows"]] == ["已办结", "待登记"]
    assert g["windows"] == [{"org": "460100-zwfw", "accepted": 6, "ratings": 2, "badReviews": 1}]
    analyst = Actor("analyst-1", "analyst", "hn-stat", "460000")
    result = asyncio.run(schema.execute(query, context_value=Context(c, analyst)))
    assert result.errors is None, result.errors
    counted = result.data["monthlyReport"]["supervision"]  # type: ignore[index]
    assert counted["inquiries"]["rows"] is None and counted["feedback"]["rows"] is None
    assert counted["ratings"]["badReviews"] is None and counted["inquiries"]["opened"] == 1
