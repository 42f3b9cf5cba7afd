"""容缺 and 告知承诺 over HTTP, on SQLite and PostgreSQL: decisions that leave something to follow,
the commands that follow them up (REST), and what GraphQL shows of them.

The server's clock stands at Monday 2026-03-02, 09:00 in Hainan: every decision is dated that day.
March 2026 has no public holiday, so 10 working days after it is 2026-03-16 and 20 is 2026-03-30.
GraphQL judges `overdue` on the real date, which is after those days."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from application.bootstrap import bootstrap
from application.clock import SimulatedClock
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import Server, auth, problem_of, project_body, serving

CLERK = auth("window_clerk", org="460100-zwfw")
REVIEWER = auth("reviewer", org="460100-zjj")
APPROVER = auth("approver", org="460100-zjj")
APPLICANT = auth("applicant")
FOLLOW_UPS = """query ($id: ID!, $at: Int) { case(id: $id, atLeast: $at) {
  status { code }
  pendingMaterials { materials dueOn outstanding supplied { material suppliedOn } overdue }
  commitment { commitments dueOn basis result checkedOn falseCommitments overdue }
  timeline { eventType actorRole channel requestId } } }"""
AS_OF = (
    """query ($id: ID!, $pos: Int) { case(id: $id, asOfPosition: $pos) { pendingMaterials { outstanding dueOn } } }"""
)


@pytest.fixture
def server(store_url: str) -> Iterator[Server]:
    clock = SimulatedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    container = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET), clock)
    container.engine.start()  # read models follow the log: `atLeast` waits for them
    try:
        with serving(container) as base_url:
            yield Server(base_url, container)
    finally:
        container.close()


def post(
    client: httpx.Client, path: str, headers: dict[str, str], body: dict[str, Any] | None = None
) -> httpx.Response:
    return client.post(path, json=body or {}, headers=headers)


def accepted_case(client: httpx.Client, code: str, item_code: str) -> str:
    r = post(client, "/api/v1/cases", CLERK, {"project_code": code, "item_code": item_code})
    assert r.status_code == 201, r.text
    case_id: str = r.json()["id"]
    assert post(client, f"/api/v1/cases/{case_id}/accept", CLERK).status_code == 200
    return case_id


def case_view(client: httpx.Client, case_id: str, at: int) -> dict[str, Any]:
    r = client.post(
        "/graphql",
        json={"query": FOLLOW_UPS, "variables": {"id": case_id, "at": at}},
        headers=auth("supervisor", region="460000"),
    )
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    return r.json()["data"]["case"]  # type: ignore[no-any-return]


@pytest.fixture
def project(client: httpx.Client) -> str:
    r = post(client, "/api/v1/projects", APPLICANT, project_body())
    assert r.status_code == 201, r.text
    return str(r.json()["code"])


def test_materials_to_follow_are_due_then_supplied_in_parts(client: httpx.Client, project: str) -> None:
    case_id = accepted_case(client, project, "GJ-5-03")
    act = f"/api/v1/cases/{case_id}"
    materials = ["燃气管线施工图", "消防安全承诺书"]

    # Step: a due date past the item's maximum (60 working days) is refused, naming the field.
    r = post(
        client,
        f"{act}/approve-pending-materials",
        APPROVER,
        {"pending_materials": materials, "materials_due_on": "2026-12-31"},
    )
    error = problem_of(r, 422)["errors"][0]
    assert error["loc"] == ["body", "materials_due_on"] and error["type"] == "range"

    # Step: the approval with materials to follow, due by the item's default period.
    r = post(client, f"{act}/approve-pending-materials", APPROVER, {"pending_materials": materials})
    assert r.status_code == 200 and r.json()["status_code"] == 12, r.text
    view = case_view(client, case_id, r.json()["position"])
    assert view["pendingMaterials"] == {
        "materials": materials, "dueOn": "2026-03-30", "outstanding": materials, "supplied": [], "overdue": True,
    }  # fmt: skip
    assert view["commitment"] is None

    # Step: the applicant brings one; a reviewer may not record it; an unknown material is refused.
    assert problem_of(
        post(client, f"{act}/supply-materials", REVIEWER, {"supplied_materials": ["燃气管线施工图"]}), 403
    )
    r = post(client, f"{act}/supply-materials", APPLICANT, {"supplied_materials": ["竣工图"]})
    assert problem_of(r, 422)["errors"][0]["type"] == "not_pending"
    r = post(
        client, f"{act}/supply-materials", APPLICANT, {"supplied_materials": ["燃气管线施工图"], "note": "网上提交"}
    )
    assert r.status_code == 200 and r.json()["status_code"] == 12, r.text
    view = case_view(client, case_id, r.json()["position"])
    assert view["pendingMaterials"]["outstanding"] == ["消防安全承诺书"] and view["pendingMaterials"]["overdue"] is True
    # the log replayed as of the approval (asOf) knows nothing of the supply yet
    r = client.post(
        "/graphql",
        json={"query": AS_OF, "variables": {"id": case_id, "pos": r.json()["position"] - 1}},
        headers=auth("supervisor", region="460000"),
    )
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    assert r.json()["data"]["case"]["pendingMaterials"] == {"outstanding": materials, "dueOn": "2026-03-30"}

    # Step: the clerk records the last one at the window: nothing outstanding, supplied in time, status 12.
    r = post(client, f"{act}/supply-materials", CLERK, {"supplied_materials": ["消防安全承诺书"]})
    assert r.status_code == 200 and r.json()["status_code"] == 12, r.text
    view = case_view(client, case_id, r.json()["position"])
    pending = view["pendingMaterials"]
    assert pending["outstanding"] == [] and pending["overdue"] is False
    assert pending["supplied"] == [
        {"material": "燃气管线施工图", "suppliedOn": "2026-03-02"},
        {"material": "消防安全承诺书", "suppliedOn": "2026-03-02"},
    ]
    assert [t["eventType"] for t in view["timeline"][-3:]] == [
        "Case.ApprovedPendingMaterials", "Case.MaterialsSupplied", "Case.MaterialsSupplied",
    ]  # fmt: skip
    assert [t["actorRole"] for t in view["timeline"][-2:]] == ["applicant", "window_clerk"]

    # Step: nothing more to supply is a conflict.
    assert problem_of(post(client, f"{act}/supply-materials", CLERK, {"supplied_materials": ["消防安全承诺书"]}), 409)


def test_a_pending_case_whose_materials_never_came_is_revoked(client: httpx.Client, project: str) -> None:
    case_id = accepted_case(client, project, "GJ-1-02")
    act = f"/api/v1/cases/{case_id}"
    r = post(
        client,
        f"{act}/approve-pending-materials",
        APPROVER,
        {"pending_materials": ["选址论证报告"], "materials_due_on": "2026-03-09"},
    )
    assert r.status_code == 200, r.text
    assert case_view(client, case_id, r.json()["position"])["pendingMaterials"]["dueOn"] == "2026-03-09"
    r = post(client, f"{act}/revoke", APPROVER, {"reason": "容缺材料逾期未补齐"})
    assert r.status_code == 200 and r.json()["status_code"] == 15, r.text
    assert problem_of(post(client, f"{act}/supply-materials", APPLICANT, {"supplied_materials": ["选址论证报告"]}), 409)


def test_an_approval_on_commitment_is_verified_true(client: httpx.Client, project: str) -> None:
    case_id = accepted_case(client, project, "GJ-5-01")
    act = f"/api/v1/cases/{case_id}"
    commitments = ["已取得供水管线施工许可", "用水性质与申报一致"]

    # Step: the wrong role, no commitment: refused, nothing recorded.
    assert problem_of(post(client, f"{act}/approve-on-commitment", REVIEWER, {"commitments": commitments}), 403)
    error = problem_of(post(client, f"{act}/approve-on-commitment", APPROVER, {"commitments": []}), 422)["errors"][0]
    assert error["loc"][:2] == ["body", "commitments"]
    assert problem_of(post(client, f"{act}/verify-commitment", APPROVER, {"verified": True, "finding": "x"}), 409)

    # Step: approved on commitment: status 11, verification due 10 working days later (the seed edition).
    r = post(
        client,
        f"{act}/approve-on-commitment",
        APPROVER,
        {"commitments": commitments, "document_number": "琼水〔2026〕3号"},
    )
    assert r.status_code == 200 and r.json()["status_code"] == 11, r.text
    view = case_view(client, case_id, r.json()["position"])
    commitment = view["commitment"]
    assert (commitment["commitments"], commitment["dueOn"], commitment["result"]) == (
        commitments,
        "2026-03-16",
        "pending",
    )
    assert "assumption" in commitment["basis"] and commitment["overdue"] is True

    # Step: the applicant may not verify; the approver finds it true; a second verification conflicts.
    assert problem_of(post(client, f"{act}/verify-commitment", APPLICANT, {"verified": True, "finding": "属实"}), 403)
    r = post(client, f"{act}/verify-commitment", APPROVER, {"verified": True, "finding": "现场核查属实"})
    assert r.status_code == 200 and r.json()["status_code"] == 11, r.text
    view = case_view(client, case_id, r.json()["position"])
    assert view["commitment"]["result"] == "verified" and view["commitment"]["checkedOn"] == "2026-03-02"
    assert view["commitment"]["overdue"] is False
    assert view["timeline"][-1]["eventType"] == "Case.CommitmentVerified"
    assert problem_of(post(client, f"{act}/verify-commitment", APPROVER, {"verified": True, "finding": "再核"}), 409)


def test_a_false_commitment_revokes_the_approval_and_an_item_without_it_refuses(
    client: httpx.Client, project: str
) -> None:
    case_id = accepted_case(client, project, "GJ-5-02")
    act = f"/api/v1/cases/{case_id}"
    r = post(client, f"{act}/approve-on-commitment", APPROVER, {"commitments": ["用电负荷与申报一致"]})
    assert r.status_code == 200, r.text
    body = {"verified": False, "finding": "实测负荷超出申报一倍", "false_commitments": ["用电负荷与申报一致"]}
    r = post(client, f"{act}/verify-commitment", APPROVER, body)
    assert r.status_code == 200 and r.json()["status_code"] == 15, r.text
    view = case_view(client, case_id, r.json()["position"])
    assert view["status"]["code"] == 15
    assert (view["commitment"]["result"], view["commitment"]["falseCommitments"]) == ("false", ["用电负荷与申报一致"])
    assert view["timeline"][-1]["eventType"] == "Case.Revoked"

    # an item whose catalogue entry does not allow it: a conflict with the configuration
    other = accepted_case(client, project, "GJ-1-01")
    r = post(client, f"/api/v1/cases/{other}/approve-on-commitment", APPROVER, {"commitments": ["承诺"]})
    assert "does not allow approval on commitment" in problem_of(r, 409)["detail"]
