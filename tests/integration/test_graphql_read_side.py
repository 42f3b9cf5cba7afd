"""GraphQL resolvers through schema.execute (no HTTP) on SQLite and PostgreSQL read models."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from application.bootstrap import Container, bootstrap
from application.commands import Invocation
from application.commands.cases import CASE_ACTIONS, SubmitCase
from application.commands.projects import GenerateProject
from application.policy import Actor
from infrastructure.settings import Settings
from interfaces.graphql.context import Context
from interfaces.graphql.schema import schema
from tests.conftest import JWT_SECRET

OWNER = "91460000MA5T0P3X64"
CLERK = Actor("clerk-1", "window_clerk", "hk-window", "460100")
APPROVER = Actor("approver-1", "approver", "hk-zrzy", "460100")
SUPERVISOR = Actor("sup-1", "supervisor", "hn-sup", "460000")


@pytest.fixture
def container(store_url: str) -> Iterator[Container]:
    c = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET, wait_timeout_s=0.5))
    yield c
    c.engine.stop()
    c.close()


def run(container: Container, query: str, actor: Actor | None = SUPERVISOR, **variables: Any) -> Any:
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=Context(container, actor)))
    return result


def approved_case(container: Container) -> tuple[str, str, list[int]]:
    code = f"2611-460100-04-01-{uuid.uuid4().int % 10**6:06d}"
    container.projects.generate(
        Invocation(CLERK, "req-gen"),
        GenerateProject(
            code=code,
            name="海口测试综合楼",
            owner_name="海南测试建设有限公司",
            owner_uscc=OWNER,
            region_code="460106",
            flow_type=3,
            investment_type="enterprise",
            category="房屋建筑",
            total_investment=Decimal("1200.50"),
            planned_start=date(2026, 1, 1),
            planned_end=date(2027, 6, 30),
            red_line=None,
        ),
    )
    case_id = str(
        container.cases.submit(
            Invocation(CLERK, "req-sub"),
            SubmitCase(project_code=code, item_code="GJ-1-02"),
        ).id
    )
    positions = []
    for who, action, body in (
        (CLERK, "accept", {}),
        (APPROVER, "request-correction", {"materials": ["选址论证报告"]}),
        (CLERK, "complete-correction", {}),
        (APPROVER, "approve", {"document_number": "海自然资选字〔2026〕1号"}),
    ):
        positions.append(
            container.cases.act(
                Invocation(who, f"req-{action}"), CASE_ACTIONS[action](uuid.UUID(case_id), **body)
            ).position
        )
    return code, case_id, positions


CASE_QUERY = """query($id: ID!, $at: Int, $asOf: Int) {
  now: case(id: $id, atLeast: $at) { status { code name } corrections deadline
    timeline { seq eventType status { code } actorId actorRole channel requestId } }
  then: case(id: $id, asOfPosition: $asOf) { status { code } timeline { eventType position } }
}"""


def test_case_shows_its_timeline_now_and_as_it_was_known_at_an_earlier_position(container: Container) -> None:
    _, case_id, positions = approved_case(container)
    container.engine.catch_up()
    result = run(container, CASE_QUERY, id=case_id, at=positions[-1], asOf=positions[1])
    assert result.errors is None
    now, then = result.data["now"], result.data["then"]
    assert now["status"] == {"code": 11, "name": "办结（通过）"}
    assert [t["status"]["code"] for t in now["timeline"]] == [1, 3, 6, 7, 11]
    assert now["timeline"][1]["actorId"] == "clerk-1" and now["timeline"][1]["channel"] == "window"
    assert now["timeline"][3]["requestId"] == "req-approve" or now["timeline"][4]["requestId"] == "req-approve"
    assert now["corrections"] == 1
    assert then["status"]["code"] == 6  # as known when the correction had just been requested
    assert [t["eventType"] for t in then["timeline"]] == ["Case.Received", "Case.Accepted", "Case.CorrectionRequested"]
    # a replayed timeline carries the same global positions as the live one
    assert [t["position"] for t in then["timeline"]][1:] == positions[:2]


def test_a_project_as_of_a_position_carries_the_position_of_its_last_event_then(container: Container) -> None:
    code, _, positions = approved_case(container)
    container.engine.catch_up()
    query = """query($c: String!, $p: Int) { then: project(code: $c, asOfPosition: $p) { position approvedItems }
      now: project(code: $c) { position approvedItems } }"""
    before = run(container, query, c=code, p=positions[0])
    assert before.errors is None
    assert before.data["then"]["approvedItems"] == [] and isinstance(before.data["then"]["position"], int)
    assert before.data["then"]["position"] < positions[0]  # generated before the case was accepted
    after = run(container, query, c=code, p=positions[-1])
    assert after.data["then"]["approvedItems"] == ["GJ-1-02"]
    assert after.data["then"]["position"] == positions[-1]  # the approval recorded on the project


def test_audit_trail_lists_every_event_of_a_project_in_global_order(container: Container) -> None:
    code, case_id, _ = approved_case(container)
    container.engine.catch_up()
    query = """query($s: String!) { auditTrail(subject: $s, first: 100) { totalCount
      edges { node { position eventType actorId actorRole actorOrg channel requestId recordedAt businessTime } } } }"""
    result = run(container, query, s=code)
    assert result.errors is None
    nodes = [e["node"] for e in result.data["auditTrail"]["edges"]]
    assert [n["position"] for n in nodes] == sorted(n["position"] for n in nodes)
    assert [n["eventType"] for n in nodes] == [
        "Project.Generated",
        "Case.Received",
        "Case.Accepted",
        "Case.CorrectionRequested",
        "Case.CorrectionCompleted",
        "Case.Approved",
        "Project.ItemApproved",
    ]
    assert result.data["auditTrail"]["totalCount"] == len(nodes)
    assert all(n["actorId"] and n["actorRole"] and n["channel"] and n["requestId"] for n in nodes)
    by_case = run(container, query, s=case_id).data["auditTrail"]["edges"]
    assert by_case[0]["node"]["eventType"] == "Case.Received"
    by_actor = run(container, query, s="approver-1").data["auditTrail"]["edges"]
    assert {e["node"]["actorId"] for e in by_actor} == {"approver-1"}


def test_at_least_waits_for_the_read_models_and_times_out_when_none_runs(container: Container) -> None:
    code, _, positions = approved_case(container)
    query = "query($c: String!, $at: Int) { project(code: $c, atLeast: $at) { code approvedItems } }"
    result = run(container, query, c=code, at=positions[-1])
    assert result.errors and result.errors[0].extensions["code"] == "TIMEOUT"
    container.engine.start()
    result = run(container, query, c=code, at=positions[-1])
    assert result.errors is None
    assert result.data["project"]["approvedItems"] == ["GJ-1-02"]


def test_lists_page_with_cursors_and_stay_inside_the_actors_region(container: Container) -> None:
    codes = [approved_case(container)[0] for _ in range(3)]
    container.engine.catch_up()
    query = """query($after: String) { projects(first: 2, after: $after) { totalCount
      pageInfo { hasNextPage endCursor } edges { node { code stageReached } } } }"""
    page1 = run(container, query).data["projects"]
    page2 = run(container, query, after=page1["pageInfo"]["endCursor"]).data["projects"]
    seen = [e["node"]["code"] for e in page1["edges"] + page2["edges"]]
    assert seen == codes and page1["pageInfo"]["hasNextPage"] and not page2["pageInfo"]["hasNextPage"]
    sanya = Actor("rev-sy", "reviewer", "sy-zrzy", "460200")
    assert run(container, query, actor=sanya).data["projects"]["totalCount"] == 0
    denied = run(container, "query($c: String!) { project(code: $c) { code } }", actor=sanya, c=codes[0])
    assert denied.errors and denied.errors[0].extensions["code"] == "FORBIDDEN"


def test_queries_without_a_token_are_refused(container: Container) -> None:
    result = run(container, "{ projects { totalCount } }", actor=None)
    assert result.errors and result.errors[0].extensions["code"] == "UNAUTHENTICATED"
