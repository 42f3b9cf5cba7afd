"""统计 — a hand-built month whose figures are known exactly, through GraphQL `statistics` and
`dataQuality`, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from application.bootstrap import Container, bootstrap
from application.clock import SimulatedClock
from application.commands import Invocation
from application.commands.cases import CASE_ACTIONS, SubmitCase
from application.commands.projects import GenerateProject
from application.policy import Actor
from domain.shared.events import SHANGHAI
from infrastructure.settings import Settings
from interfaces.graphql.context import Context
from interfaces.graphql.schema import schema
from tests.conftest import JWT_SECRET

OWNER = "91460000MA5T0P3X64"
ITEM = "GJ-1-02"  # 用地预审与选址意见书, promised limit 5 working days
CLERK = Actor("clerk-1", "window_clerk", "hk-window", "460100")
APPROVER = Actor("approver-1", "approver", "hk-zrzy", "460100")
ANALYST = Actor("analyst-1", "analyst", "hn-stat", "460000")


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), SHANGHAI).astimezone(UTC)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(at(date(2026, 3, 2), 9))


@pytest.fixture
def container(store_url: str, clock: SimulatedClock) -> Iterator[Container]:
    c = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET, wait_timeout_s=5), clock)
    yield c
    c.close()


def run(container: Container, query: str, actor: Actor = ANALYST, **variables: Any) -> Any:
    return asyncio.run(schema.execute(query, variable_values=variables, context_value=Context(container, actor)))


class Scenario:
    def __init__(self, container: Container, clock: SimulatedClock) -> None:
        self.c, self.clock = container, clock
        self.code = f"2603-460100-04-01-{uuid.uuid4().int % 10**6:06d}"
        container.projects.generate(
            Invocation(CLERK, "gen"),
            GenerateProject(
                code=self.code,
                name="海口统计测试综合楼",
                owner_name="海南测试建设有限公司",
                owner_uscc=OWNER,
                region_code="460106",
                flow_type=3,
                investment_type="enterprise",
                category="房屋建筑",
                total_investment=Decimal("800"),
                planned_start=date(2026, 3, 1),
                planned_end=date(2027, 6, 30),
                red_line=None,
            ),
        )

    def submit(self) -> uuid.UUID:
        body: dict[str, Any] = {
            "situation_codes": [],
            "materials": [],
            "parallel_application_id": None,
            "acceptance_mode": 1,
        }
        return self.c.cases.submit(
            Invocation(CLERK, "sub"), SubmitCase(project_code=self.code, item_code=ITEM, **body)
        ).id

    def act(self, day: date, who: Actor, case_id: uuid.UUID, action: str, body: dict[str, Any] | None = None) -> int:
        self.clock.set(at(day))
        return int(
            self.c.cases.act(
                Invocation(who, f"{action}-{case_id}"), CASE_ACTIONS[action](case_id, **(body or {}))
            ).position
        )


@pytest.fixture
def march(container: Container, clock: SimulatedClock) -> int:
    """March 2026: six cases received on Mon 2 March, one more in April. Returns the last position.

    A approved on day 4, B refused on day 2, D approved on day 8 (late: limit 5), E left open
    (late by April), C withdrawn before acceptance, F not accepted; G (April) withdrawn after acceptance.
    """
    s = Scenario(container, clock)
    monday = date(2026, 3, 2)
    a, b, c, d, e, f = (s.submit() for _ in range(6))
    for case_id in (a, b, d, e):
        s.act(monday, CLERK, case_id, "accept")
    s.act(monday, CLERK, c, "withdraw", {"reason": "申请人主动撤回"})
    s.act(monday, CLERK, f, "not-accept", {"reason": "不属于本部门职权范围"})
    s.act(date(2026, 3, 4), APPROVER, b, "refuse", {"reason": "不符合控制性详细规划"})
    s.act(date(2026, 3, 6), APPROVER, a, "approve", {"document_number": "海自然资选字〔2026〕1号"})
    s.act(date(2026, 3, 12), APPROVER, d, "approve", {"document_number": "海自然资选字〔2026〕2号"})
    clock.set(at(date(2026, 4, 1)))
    g = s.submit()
    s.act(date(2026, 4, 1), CLERK, g, "accept")
    position = s.act(date(2026, 4, 2), CLERK, g, "withdraw", {"reason": "投资计划调整"})
    container.engine.catch_up()
    return position


FIELDS = """key label received accepted approved refused refusedAtAcceptance withdrawn revoked open decided
  overdue onTimeRate meanWorkingDays p90WorkingDays"""
STATISTICS = f"""query($by: StatisticsGroupBy!, $f: StatisticsFilter, $at: Int) {{
  statistics(groupBy: $by, filter: $f, atLeast: $at) {{ {FIELDS} }} }}"""


def test_statistics_of_a_hand_built_month_are_exact(container: Container, march: int) -> None:
    result = run(container, STATISTICS, by="MONTH", f={"monthFrom": "2026-03", "monthTo": "2026-03"}, at=march)
    assert result.errors is None
    assert result.data["statistics"] == [
        {
            "key": "2026-03",
            "label": "2026-03",
            "received": 6,
            "accepted": 4,
            "approved": 2,
            "refused": 1,
            "refusedAtAcceptance": 1,
            "withdrawn": 1,
            "revoked": 0,
            "open": 1,
            "decided": 3,
            "overdue": 2,  # D decided after its deadline, E open and past it
            "onTimeRate": 0.6667,
            "meanWorkingDays": 4.67,  # (4 + 2 + 8) / 3
            "p90WorkingDays": 8,
        }
    ]


def test_statistics_group_by_month_stage_region_and_department(container: Container, march: int) -> None:
    def groups(by: str, **f: Any) -> list[dict[str, Any]]:
        result = run(container, STATISTICS, by=by, f=f or None, at=march)
        assert result.errors is None, result.errors
        return list(result.data["statistics"])

    months = groups("MONTH")
    assert [(g["key"], g["received"], g["withdrawn"], g["accepted"]) for g in months] == [
        ("2026-03", 6, 1, 4),
        ("2026-04", 1, 1, 1),
    ]
    assert [(g["key"], g["label"], g["received"]) for g in groups("STAGE")] == [("1", "立项用地规划许可", 7)]
    assert [(g["key"], g["label"], g["received"]) for g in groups("REGION")] == [("460100", "海口市", 7)]
    assert [(g["key"], g["label"]) for g in groups("REGION", regionCode="460100")] == [("460106", "龙华区")]
    assert [(g["key"], g["received"]) for g in groups("DEPARTMENT")] == [("zrzy", 7)]
    assert [(g["key"], g["received"]) for g in groups("ITEM_CATEGORY")] == [("用地规划", 7)]
    assert groups("ITEM", regionCode="460200") == []


def test_statistics_respect_the_actors_region_scope(container: Container, march: int) -> None:
    sanya = Actor("analyst-2", "analyst", "sy-stat", "460200")
    own = run(container, STATISTICS, sanya, by="ITEM", at=march)
    assert own.errors is None and own.data["statistics"] == []  # the Haikou cases are not in its scope
    outside = run(container, STATISTICS, sanya, by="ITEM", f={"regionCode": "460100"})
    assert outside.errors and outside.errors[0].extensions["code"] == "FORBIDDEN"
    applicant = Actor("owner", "applicant", OWNER, "")
    refused = run(container, STATISTICS, applicant, by="ITEM")
    assert refused.errors and refused.errors[0].extensions["code"] == "FORBIDDEN"
    bad = run(container, STATISTICS, by="MONTH", f={"monthFrom": "2026-3"})
    assert bad.errors and bad.errors[0].extensions["code"] == "BAD_USER_INPUT"


def test_data_quality_counts_stuck_cases_and_names_every_rule(container: Container, march: int) -> None:
    query = """query($at: Int) { dataQuality(atLeast: $at) { category rule count examples } }"""
    result = run(container, query, at=march)
    assert result.errors is None
    by_rule = {r["rule"]: r for r in result.data["dataQuality"]}
    imports = {r["rule"] for r in result.data["dataQuality"] if r["category"] == "import_errors"}
    assert set(by_rule) - imports == {
        "same_owner_same_name",
        "score_over_threshold",
        "legacy_project_code",
        "uscc_check_character",
        "case_on_merged_project",
        "open_over_30_working_days",
        "open_bim_findings",
        "survey_discrepancies",
    }
    assert {"R1", "R2", "R3", "R4", "R5", "R6"} <= imports
    assert all(by_rule[rule]["count"] == 0 for rule in imports)  # nothing was imported here
    assert by_rule["uscc_check_character"]["count"] == 0
    assert by_rule["open_over_30_working_days"]["count"] == 0  # E is open 24 working days on 2 April


@pytest.mark.parametrize("today", [date(2026, 2, 10), date(2026, 12, 31)])  # mid-log: open cases, later stops
def test_statistics_grouped_in_sql_equal_the_figures_of_every_case_row(container: Container, today: date) -> None:
    """`compute_statistics` lets the database group and count; `aggregate` over `matching_cases`
    looks at every case. On a varied generated log (every stage, corrections, refusals, months,
    regions) both give the same groups, for every grouping and filter."""
    from application.statistics import GroupBy, StatisticsFilter, aggregate, compute_statistics, matching_cases
    from bench.dataset import Generator

    Generator(container.app).run(1500)
    container.engine.catch_up()
    filters = [
        StatisticsFilter(),
        StatisticsFilter(region_code="460100"),
        StatisticsFilter(month_from="2026-02", month_to="2026-03"),
        StatisticsFilter(stage=2, month_to="2026-01"),
    ]
    public = ("key", "label", "received", "accepted", "approved", "refused", "refused_at_acceptance", "withdrawn")
    public += ("revoked", "open", "decided", "overdue", "on_time_rate", "mean_working_days", "p90_working_days")
    for f in filters:
        rows = matching_cases(container.figures, f)
        for group_by in GroupBy:
            grouped = compute_statistics(container.figures, group_by, f, today)
            each = aggregate(rows, group_by, f.region_code or "460000", today)
            assert [[getattr(g, k) for k in public] for g in grouped] == [
                [getattr(g, k) for k in public] for g in each
            ], (group_by, f)
    assert sum(g.received for g in compute_statistics(container.figures, GroupBy.ALL, filters[0], today)) > 100
