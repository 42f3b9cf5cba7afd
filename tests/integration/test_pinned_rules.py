"""Warnings judge a case by the flow version it was pinned to (docs/catalogue.md, Pinning): a city
flow's version 2 with a shorter stage limit does not make a stage begun under version 1 overdue,
and a stage received under version 2 is judged by it, with its milestone rule (all / any); on
SQLite and PostgreSQL, equal after a rebuild from zero."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest

from application.bootstrap import Container, bootstrap
from application.clock import SimulatedClock
from application.commands import Invocation
from application.commands.cases import BackEnterCase
from application.commands.catalogue import PublishFlow
from application.policy import Actor
from domain.catalog.seed import seed_definition
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.integration.test_offline_warnings import APPROVER, CLERK, MON, REVIEWER, World, at, warnings


@pytest.fixture
def container(store_url: str) -> Iterator[Container]:
    c = bootstrap(
        Settings(database_url=store_url, jwt_secret=JWT_SECRET, wait_timeout_s=0.5),
        SimulatedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC)),  # Monday 09:00 in Hainan
    )
    yield c
    c.close()


@pytest.fixture
def world(container: Container) -> World:
    return World(container, cast(SimulatedClock, container.clock))


ADMIN = Actor("admin-1", "admin", "460000-admin", "460000")
HAIKOU_FLOW = "GJ-LC-03-460100"


def haikou(version: str, stage_one_limit: int = 15, rule: str = "all") -> dict[str, Any]:
    definition = copy.deepcopy(seed_definition(3))
    definition["version"] = version
    definition["stages"][0].update(limit_days=stage_one_limit, milestone_rule=rule)
    return definition


def publish(c: Container, definition: dict[str, Any]) -> None:
    c.catalogue.publish(Invocation(ADMIN, f"pub-{definition['version']}"), PublishFlow("460100", 3, definition))


def step(w: World, case_id: str, day: date, hour: int, minute: int, action: str) -> int:
    at(w, day, hour, minute)
    who = {"accept": CLERK, "start-review": REVIEWER}.get(action, APPROVER)
    body = {"document_number": f"版本测试字{uuid.uuid4().hex[:8]}号"} if action == "approve" else {}
    return w.act(case_id, action, body, who)


def two_projects(w: World, rule: str) -> tuple[str, str, dict[str, int]]:
    """Project A's stage 1 begins under Haikou 1.0 (limit 15), project B's under 2.0 (limit 8 and
    `rule`); both take 10 working days in the departments' hands: GJ-1-02 Mar 9 → 16, GJ-1-03
    Mar 16 → 23, each within its own promised limit of 5."""
    publish(w.c, haikou("1.0"))
    a, b = w.project("版本一阶段项目", 501), w.project("版本二阶段项目", 502)
    at(w, MON, 9, 13)
    a1 = w.submit(a, "GJ-1-02")["id"]
    at(w, MON, 9, 30)
    publish(w.c, haikou("2.0", stage_one_limit=8, rule=rule))
    at(w, MON, 9, 41)
    b1 = w.submit(b, "GJ-1-02")["id"]
    positions = {}
    for n, case in enumerate((a1, b1)):
        step(w, case, MON, 10, 7 * n + 1, "accept")
        step(w, case, MON, 14, 7 * n + 2, "start-review")
    for n, case in enumerate((a1, b1)):
        positions[f"first-{n}"] = step(w, case, MON + timedelta(days=7), 10, 9 * n + 3, "approve")
    second = MON + timedelta(days=7)
    cases = []
    for n, code in enumerate((a, b)):
        at(w, second, 11, 5 * n + 1)
        cases.append(w.submit(code, "GJ-1-03")["id"])
    for n, case in enumerate(cases):
        step(w, case, second, 11, 5 * n + 31, "accept")
        step(w, case, second, 14, 5 * n + 4, "start-review")
    for n, case in enumerate(cases):
        positions[f"closing-{n}"] = step(w, case, second + timedelta(days=7), 10, 11 * n + 2, "approve")
    return a, b, positions


def pins(c: Container, code: str) -> list[tuple[str, str]]:
    rows = c.db.query("SELECT flow_code, flow_version FROM ow_cases WHERE project_code = ? ORDER BY 1, 2", [code])
    return [(r["flow_code"], r["flow_version"]) for r in rows]


def test_a_shorter_limit_in_version_2_spares_stages_begun_under_version_1(container: Container, world: World) -> None:
    a, b, positions = two_projects(world, "all")
    assert warnings(container, project_code=a) == []
    [w6] = warnings(container, project_code=b)
    assert (w6["reason"], w6["raised_position"]) == ("W6.stage_overdue", positions["closing-1"])
    assert "在办10个工作日，超过阶段时限8个工作日" in w6["explanation"]
    # A's second case was received under 2.0 too: the stage is judged by the version it began under
    assert pins(container, a) == [(HAIKOU_FLOW, "1.0"), (HAIKOU_FLOW, "2.0")]
    assert pins(container, b) == [(HAIKOU_FLOW, "2.0"), (HAIKOU_FLOW, "2.0")]
    before = {r["warning_id"]: (r["status"], r["evidence"], r["raised_position"]) for r in warnings(container)}
    container.engine.rebuild("offline_warnings")
    after = {r["warning_id"]: (r["status"], r["evidence"], r["raised_position"]) for r in warnings(container)}
    assert after == before


@pytest.mark.parametrize(("rule", "overdue"), [("all", True), ("any", False)])
def test_the_milestone_rule_of_the_pinned_version_decides_when_a_stage_closes(
    container: Container, world: World, rule: str, overdue: bool
) -> None:
    """`any`: the first milestone approval (GJ-1-02, 5 working days) closes stage 1 within 8;
    `all`: only GJ-1-03's (10 working days) does, past it."""
    _, b, _ = two_projects(world, rule)
    assert [r["reason"] for r in warnings(container, project_code=b)] == (["W6.stage_overdue"] if overdue else [])


def test_unpinned_cases_fall_back_to_the_seed(container: Container, world: World) -> None:
    code = world.project("种子规则项目", 503)
    at(world, MON, 9, 13)
    case = world.submit(code, "GJ-1-02")["id"]
    step(world, case, MON, 10, 1, "accept")
    container.engine.catch_up()
    # the province's flow is still the seed: the case is pinned to it, and ow_flows holds nothing
    assert pins(container, code) == [("GJ-LC-03", "1.0")]
    assert container.db.query("SELECT COUNT(*) AS n FROM ow_flows", [])[0]["n"] == 0
    row = container.db.query("SELECT limit_days FROM ow_cases WHERE case_id = ?", [case])[0]
    assert json.dumps(row["limit_days"]) == "5"


def test_a_back_entry_is_pinned_to_the_version_in_force_when_entered(container: Container, world: World) -> None:
    publish(container, haikou("1.0"))
    publish(container, haikou("1.1", stage_one_limit=10))
    code = world.project("补录版本项目", 504)
    decided = world.clock.now() - timedelta(days=3)
    container.cases.back_enter(
        Invocation(CLERK, "be"),
        BackEnterCase(
            project_code=code,
            item_code="GJ-1-02",
            decision="approved",
            decided_at=decided,
            received_on=None,
            accepted_on=None,
            document_number="补录字〔2026〕9号",
            reason="系统故障期间线下办理",
        ),
    )
    container.engine.catch_up()
    assert pins(container, code) == [(HAIKOU_FLOW, "1.1")]
