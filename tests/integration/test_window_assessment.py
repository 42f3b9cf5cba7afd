"""综合窗口考核 and 好差评 read sides against a hand computation, on SQLite and PostgreSQL.

The scenario runs on a SimulatedClock, so every time to accept is an exact number of hours.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from application.bootstrap import Container, bootstrap
from application.clock import SimulatedClock
from application.commands import Invocation
from application.commands.cases import CASE_ACTIONS, SubmitCase
from application.commands.projects import GenerateProject
from application.commands.ratings import RateCase, RecordRectification
from application.policy import Actor
from demo import demo_clock, load_demo
from domain.supervision.rating import rating_id, rectification_due, rectified_on_time
from infrastructure.settings import Settings
from interfaces.graphql.context import Context
from interfaces.graphql.schema import schema
from tests.conftest import JWT_SECRET

OWNER = "91460000MA5T0P3X64"
T0 = datetime(2026, 10, 12, 0, 0, tzinfo=UTC)  # Monday 12 October 2026, 08:00 in Shanghai
CLERK_A = Actor("clerk-a", "window_clerk", "460100-zwfw", "460100")
CLERK_B = Actor("clerk-b", "window_clerk", "460100-zwfw", "460100")
CLERK_C = Actor("clerk-c", "window_clerk", "460200-zwfw", "460200")
CITY_SYSTEM = Actor("hk-system", "integration", "460100-city", "460000")
REVIEWER = Actor("rev-1", "reviewer", "460100-zrzy", "460100")
APPROVER = Actor("app-1", "approver", "460100-zrzy", "460100")
APPLICANT = Actor("applicant-1", "applicant", OWNER, "460100")
SUPERVISOR = Actor("sup-1", "supervisor", "hn-sup", "460000")

WINDOWS = """query($f: WindowAssessmentFilter, $g: WindowGroupBy! = CLERK) {
  windowAssessment(filter: $f, groupBy: $g) { clerkId org regionCode accepted notAccepted refusedAtAcceptance
    correctionsRequested meanHoursToAccept p90HoursToAccept ratings meanRating badReviews } }"""
RATINGS = """query($g: RatingsGroupBy!) { ratings(groupBy: $g) {
  key label total badCount badRate rectifiedOnTime rectificationOverdue followedUp feedbackCount } }"""


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(T0 - timedelta(hours=1))


@pytest.fixture
def container(store_url: str, clock: SimulatedClock) -> Iterator[Container]:
    c = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET), clock)
    yield c
    c.close()


def query(container: Container, text: str, actor: Actor = SUPERVISOR, **variables: Any) -> Any:
    container.engine.catch_up()
    result = asyncio.run(schema.execute(text, variable_values=variables, context_value=Context(container, actor)))
    assert result.errors is None, result.errors
    return result.data


def project(container: Container, who: Actor, region_code: str) -> str:
    code = f"2610-{region_code}-04-01-{uuid.uuid4().int % 10**6:06d}"
    container.projects.generate(
        Invocation(who, "req-gen"),
        GenerateProject(
            code=code,
            name="测试综合楼",
            owner_name="海南测试建设有限公司",
            owner_uscc=OWNER,
            region_code=region_code,
            flow_type=3,
            investment_type="enterprise",
            category="房屋建筑",
            total_investment=Decimal("1000"),
            planned_start=date(2026, 1, 1),
            planned_end=date(2027, 6, 30),
            red_line=None,
        ),
    )
    return code


def scenario(container: Container, clock: SimulatedClock) -> dict[str, str]:
    """Nine cases by three clerks, an integration and a reviewer; three ratings."""
    haikou = project(container, CLERK_A, "460106")
    sanya = project(container, CLERK_C, "460202")
    cases: dict[str, str] = {}

    def receive(name: str, code: str = haikou, who: Actor = CLERK_A) -> None:
        cases[name] = str(
            container.cases.submit(
                Invocation(who, f"req-{name}"),
                SubmitCase(project_code=code, item_code="GJ-1-02"),
            ).id
        )

    def act(name: str, who: Actor, action: str, **body: Any) -> Callable[[], Any]:
        return lambda: container.cases.act(
            Invocation(who, f"req-{action}"), CASE_ACTIONS[action](uuid.UUID(cases[name]), **body)
        )

    def rate(name: str, level: int) -> Callable[[], Any]:
        return lambda: container.ratings.rate(
            Invocation(APPLICANT, "req-rate"),
            RateCase(case_id=uuid.UUID(cases[name]), level=level, evaluation_channel="pc", dimensions={}, comment=""),
        )

    steps: list[tuple[float, Callable[[], Any]]] = [
        (0, lambda: receive("c1")),
        (1, lambda: receive("c2")),
        (1, lambda: receive("c7", sanya, CLERK_C)),
        (1.5, act("c2", CLERK_A, "request-correction", materials=["附图"])),  # at the window, before acceptance
        (2, act("c1", CLERK_A, "accept")),  # c1: 2 h
        (2, lambda: receive("c3")),
        (2.5, act("c7", CLERK_C, "accept")),  # c7: 1.5 h
        (3, act("c2", APPLICANT, "complete-correction")),
        (3, lambda: receive("c4")),
        (3, lambda: receive("c5")),
        (3, lambda: receive("c6")),
        (4, act("c4", CLERK_B, "not-accept", reason="不属于本部门")),
        (5, act("c2", CLERK_A, "accept")),  # c2: received at 1 h, 4 h
        (6, act("c5", CLERK_B, "refuse-acceptance", reason="不符合受理条件")),
        (7, act("c6", CITY_SYSTEM, "accept")),  # not a window clerk: not counted
        (26, act("c3", CLERK_A, "accept")),  # c3: 24 h
        (30, act("c2", REVIEWER, "request-correction", materials=["说明"])),  # in review: not at the window
        (48, act("c1", APPROVER, "approve")),
        (49, act("c3", APPROVER, "approve")),
        (50, rate("c1", 5)),
        (51, rate("c3", 1)),  # 2026-10-14, a bad review
        (52, rate("c5", 2)),  # refused at acceptance: no clerk accepted it
        (18 * 24, lambda: receive("c8")),  # Friday 30 October
        (21 * 24 + 1, act("c8", CLERK_A, "accept")),  # Monday 2 November: 73 h, in November
    ]
    for hours, step in steps:
        clock.set(T0 + timedelta(hours=hours))
        step()
    return cases


def row(clerk: str | None, org: str, region: str, **numbers: Any) -> dict[str, Any]:
    zero = dict.fromkeys(("accepted", "notAccepted", "refusedAtAcceptance", "correctionsRequested", "ratings"), 0)
    empty = {"meanHoursToAccept": None, "p90HoursToAccept": None, "meanRating": None, "badReviews": 0}
    return {"clerkId": clerk, "org": org, "regionCode": region, **zero, **empty, **numbers}


def test_window_assessment_equals_a_hand_computation(container: Container, clock: SimulatedClock) -> None:
    scenario(container, clock)
    # clerk-a accepted c1 (2 h), c2 (4 h), c3 (24 h), c8 (73 h): mean 25.75, p90 = the 4th of 4
    everything = query(container, WINDOWS)["windowAssessment"]
    assert everything == [
        row(
            "clerk-a",
            "460100-zwfw",
            "460106",
            accepted=4,
            correctionsRequested=1,
            meanHoursToAccept=25.75,
            p90HoursToAccept=73.0,
            ratings=2,
            meanRating=3.0,
            badReviews=1,
        ),
        row("clerk-b", "460100-zwfw", "460106", notAccepted=1, refusedAtAcceptance=1),
        row("clerk-c", "460200-zwfw", "460202", accepted=1, meanHoursToAccept=1.5, p90HoursToAccept=1.5),
    ]
    # October in Haikou: c8 was accepted in November; p90 of (2, 4, 24) is the 3rd of 3
    october = query(container, WINDOWS, f={"month": "2026-10", "regionCode": "460100"})["windowAssessment"]
    assert [r["clerkId"] for r in october] == ["clerk-a", "clerk-b"]
    assert (october[0]["accepted"], october[0]["meanHoursToAccept"], october[0]["p90HoursToAccept"]) == (3, 10.0, 24.0)
    windows = query(container, WINDOWS, f={"month": "2026-10"}, g="WINDOW")["windowAssessment"]
    assert windows[0] == row(
        None,
        "460100-zwfw",
        "460106",
        accepted=3,
        notAccepted=1,
        refusedAtAcceptance=1,
        correctionsRequested=1,
        meanHoursToAccept=10.0,
        p90HoursToAccept=24.0,
        ratings=2,
        meanRating=3.0,
        badReviews=1,
    )
    assert [w["org"] for w in windows] == ["460100-zwfw", "460200-zwfw"]
    # a Sanya official sees Sanya only, whatever it asks for
    sanya = Actor("sup-sy", "supervisor", "460200-sup", "460200")
    assert [r["clerkId"] for r in query(container, WINDOWS, sanya, f={"regionCode": "460100"})["windowAssessment"]] == [
        "clerk-c"
    ]


def test_an_unrectified_bad_review_becomes_overdue_with_time_and_a_late_one_stays_late(
    container: Container, clock: SimulatedClock
) -> None:
    cases = scenario(container, clock)
    rated_on = date(2026, 10, 14)
    assert rectification_due(rated_on) == date(2026, 11, 4)  # 15 working days: Oct 15–30 (12), Nov 2–4
    (region,) = query(container, RATINGS, g="REGION")["ratings"]
    assert region == {
        "key": "460106",
        "label": "龙华区",
        "total": 3,
        "badCount": 2,
        "badRate": 0.6667,
        "rectifiedOnTime": 0,
        "rectificationOverdue": 0,  # 2 November: both bad reviews still within their 15 working days
        "followedUp": 0,
        "feedbackCount": 0,
    }
    # Step: 5 November — c5's review is rectified one working day late, c3's not at all.
    clock.set(datetime(2026, 11, 5, 2, 0, tzinfo=UTC))
    assert not rectified_on_time(rated_on, date(2026, 11, 5))
    container.ratings.record_rectification(
        Invocation(REVIEWER, "req-fix"),
        RecordRectification(rating_id(uuid.UUID(cases["c5"])), measures="加强受理培训", rectified_on=None),
    )
    (region,) = query(container, RATINGS, g="REGION")["ratings"]
    assert (region["rectifiedOnTime"], region["rectificationOverdue"]) == (0, 2)
    by_clerk = {
        g["key"]: (g["label"], g["total"], g["badCount"]) for g in query(container, RATINGS, g="CLERK")["ratings"]
    }
    assert by_clerk == {"": ("未经窗口受理", 1, 1), "clerk-a": ("clerk-a", 2, 1)}


def test_both_read_models_rebuild_from_zero_to_the_same_rows(container: Container, clock: SimulatedClock) -> None:
    scenario(container, clock)
    before = (query(container, WINDOWS), query(container, RATINGS, g="CLERK"))
    for name in ("ratings", "window_assessment"):
        container.engine.rebuild(name)
    assert (query(container, WINDOWS), query(container, RATINGS, g="CLERK")) == before


def test_the_demo_loads_and_the_window_assessment_covers_its_clerks(sqlite_url: str) -> None:
    clock = demo_clock()
    container = bootstrap(Settings(database_url=sqlite_url, jwt_secret=JWT_SECRET), clock)
    try:
        load_demo(container, clock, projects=30, progress=False)
        rows = query(container, WINDOWS)["windowAssessment"]
        assert rows and all(r["clerkId"].startswith("clerk-") for r in rows)
        assert sum(r["accepted"] for r in rows) > 0
        assert all(r["p90HoursToAccept"] is not None and r["meanHoursToAccept"] > 0 for r in rows if r["accepted"])
        # the demo's applicants rate most decided cases; the satisfaction of the windows follows
        by_department = query(container, RATINGS, g="DEPARTMENT")["ratings"]
        rated = [g for g in by_department if g["total"]]
        assert rated and sum(g["total"] for g in rated) > 0
        assert all(0 <= g["badRate"] <= 1 for g in rated)
        assert sum(r["ratings"] for r in rows) > 0
    finally:
        container.close()
