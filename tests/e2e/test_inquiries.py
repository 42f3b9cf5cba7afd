"""问责 — from a warning to a closed inquiry over HTTP on both stores: the back-entry raises a W2
warning, an inquiry is opened on it, explained, found, sanctioned and closed; GraphQL shows it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from tests.e2e.conftest import Server, auth, project_body

OFFICER = {"role": "accountability_officer", "org": "460100-jw", "region": "460100"}
# the item GJ-2-01 (建设工程规划许可证核发) is handled by 自然资源和规划 (zrzy)
ZRZY_REVIEWER = {"role": "reviewer", "org": "460100-zrzy", "region": "460100"}


def post(client: httpx.Client, path: str, who: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    return client.post(path, json=body, headers=auth(who["role"], org=who["org"], region=who["region"]))


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def gql(client: httpx.Client, query: str, role: str = "supervisor", **variables: Any) -> dict[str, Any]:
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=auth(role, region="460000")
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def back_entered_warning(server: Server, client: httpx.Client) -> str:
    """A project with a back-entered approval (先批后录): rule W2 raises a warning for it."""
    project = ok(client.post("/api/v1/projects", json=project_body(), headers=auth("window_clerk")))
    entry = ok(
        client.post(
            "/api/v1/cases/offline-entries",
            json={
                "project_code": project["code"],
                "item_code": "GJ-2-01",
                "decision": "approved",
                "decided_at": "2026-01-20T15:00:00+08:00",
                "document_number": "建字第460100202600007号",
                "reason": "系统停机期间线下审批",
            },
            headers=auth("approver", org="460100-zrzy"),
        )
    )
    server.container.engine.start()
    assert server.container.engine.wait_for(entry["position"], 15)
    rows = server.container.db.query(
        "SELECT warning_id, status FROM warnings WHERE case_id = ? AND rule = 'W2'", (entry["id"],)
    )
    assert rows and rows[0]["status"] == "open", rows
    return str(rows[0]["warning_id"])


def warning_status(server: Server, warning_id: str, position: int) -> str:
    assert server.container.engine.wait_for(position, 15)
    rows = server.container.db.query("SELECT status FROM warnings WHERE warning_id = ?", (warning_id,))
    return str(rows[0]["status"])


INQUIRY_FIELDS = """
  edges { node { id status department regionCode warningIds finding findingSummary explanations
                 explanationOverdue pendingExplanations { department deadline overdue }
                 sanctions { sanctionType target decisionNumber } conclusion
                 timeline { eventType actorRole } } }
  totalCount
"""


def test_a_warning_is_inquired_into_from_opening_to_a_sanctioned_close(server: Server) -> None:
    with server.client() as client:
        warning_id = back_entered_warning(server, client)

        # Step: the accountability officer opens an inquiry on the warning; the warning is linked.
        opened = ok(
            post(
                client,
                "/api/v1/inquiries",
                OFFICER,
                {
                    "warning_ids": [warning_id],
                    "subject": "先批后录：建设工程规划许可证",
                    "department": "zrzy",
                    "reason": "补录办件，决定早于录入",
                },
            )
        )
        inquiry = f"/api/v1/inquiries/{opened['id']}"
        assert warning_status(server, warning_id, opened["position"]) == "in_inquiry"

        # Step: explanation requested of the department and recorded by one of its reviewers.
        deadline = (date.today() + timedelta(days=10)).isoformat()
        ok(post(client, f"{inquiry}/request-explanation", OFFICER, {"department": "zrzy", "deadline": deadline,
                                                                   "questions": ["为何线下审批"]}))  # fmt: skip
        ok(post(client, f"{inquiry}/record-explanation", ZRZY_REVIEWER, {"department": "zrzy",
                                                                        "explanation": "停机期间应急审批"}))  # fmt: skip

        # Step: finding, sanction, close.
        ok(post(client, f"{inquiry}/record-finding", OFFICER, {"finding": "violation_confirmed",
                                                              "summary": "停机记录不存在，属体外循环"}))  # fmt: skip
        ok(post(client, f"{inquiry}/record-sanction", OFFICER, {"sanction_type": "通报批评", "target": "规划审批科",
                                                               "decision_number": "海纪〔2026〕12号"}))  # fmt: skip
        closed = ok(post(client, f"{inquiry}/close", OFFICER, {"conclusion": "已问责并整改"}))
        assert closed["status"] == "closed"

        # Step: an action after closing is an illegal transition.
        late = post(client, f"{inquiry}/record-finding", OFFICER, {"finding": "justified", "summary": "改判"})
        assert late.status_code == 409 and late.json()["state"] == "closed", late.text

        # Step: GraphQL shows the inquiry and the confirmed-violation rates (fields resolve
        # concurrently, so each waits for the position itself).
        data = gql(
            client,
            f"""query($at: Int) {{
                 inquiries(filter: {{department: "zrzy", finding: "violation_confirmed"}}, atLeast: $at) {{
                   {INQUIRY_FIELDS} }}
                 byDepartment: violationRates(groupBy: DEPARTMENT, atLeast: $at) {{ key name inquiries decided confirmed rate }}
                 byRegion: violationRates(groupBy: REGION, atLeast: $at) {{ key inquiries confirmed rate }} }}""",
            at=closed["position"],
        )
        assert "errors" not in data, data["errors"]
        (edge,) = data["data"]["inquiries"]["edges"]
        node = edge["node"]
        assert node["id"] == opened["id"] and node["status"] == "closed" and node["regionCode"] == "460106"
        assert node["warningIds"] == [warning_id] and node["explanations"] == 1
        assert node["pendingExplanations"] == [] and node["explanationOverdue"] is False
        assert node["sanctions"] == [{"sanctionType": "通报批评", "target": "规划审批科",
                                      "decisionNumber": "海纪〔2026〕12号"}]  # fmt: skip
        assert [s["eventType"] for s in node["timeline"]] == [
            "Inquiry.Opened",
            "Inquiry.ExplanationRequested",
            "Inquiry.ExplanationRecorded",
            "Inquiry.FindingRecorded",
            "Inquiry.SanctionRecorded",
            "Inquiry.Closed",
        ]
        assert node["timeline"][2]["actorRole"] == "reviewer"
        assert data["data"]["byDepartment"] == [
            {"key": "zrzy", "name": data["data"]["byDepartment"][0]["name"], "inquiries": 1, "decided": 1,
             "confirmed": 1, "rate": 1.0}
        ]  # fmt: skip
        assert data["data"]["byRegion"] == [{"key": "460106", "inquiries": 1, "confirmed": 1, "rate": 1.0}]


def test_roles_that_may_not_run_an_inquiry_are_refused(server: Server) -> None:
    with server.client() as client:
        warning_id = back_entered_warning(server, client)
        opening = {"warning_ids": [warning_id], "subject": "s", "department": "zrzy", "reason": "r"}
        for who in ({"role": "supervisor", "org": "x", "region": "460100"}, ZRZY_REVIEWER):
            assert post(client, "/api/v1/inquiries", who, opening).status_code == 403
        sanya_officer = {**OFFICER, "region": "460200"}
        assert post(client, "/api/v1/inquiries", sanya_officer, opening).status_code == 403

        opened = ok(post(client, "/api/v1/inquiries", OFFICER, opening))
        inquiry = f"/api/v1/inquiries/{opened['id']}"
        deadline = (date.today() + timedelta(days=5)).isoformat()
        ok(post(client, f"{inquiry}/request-explanation", OFFICER,
                {"department": "zrzy", "deadline": deadline, "questions": ["说明"]}))  # fmt: skip
        # a reviewer of another department may not explain for zrzy; the supervisor may not find
        other_reviewer = {**ZRZY_REVIEWER, "org": "460100-zjj"}
        explanation = {"department": "zrzy", "explanation": "说明"}
        assert post(client, f"{inquiry}/record-explanation", other_reviewer, explanation).status_code == 403
        finding = {"finding": "false_alarm", "summary": "误报"}
        assert post(client, f"{inquiry}/record-finding", {**OFFICER, "role": "supervisor"}, finding).status_code == 403
        # a sanction without a confirmed violation is an illegal transition
        ok(post(client, f"{inquiry}/record-finding", OFFICER, finding))
        sanction = {"sanction_type": "警告", "target": "科室", "decision_number": "1"}
        refused = post(client, f"{inquiry}/record-sanction", OFFICER, sanction)
        assert refused.status_code == 409 and "false_alarm" in refused.json()["state"], refused.text

        # applicants do not read inquiries
        answer = gql(client, "{ inquiries { totalCount } }", role="applicant")
        assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_warning_is_acknowledged_and_closed_as_explained_once(server: Server) -> None:
    with server.client() as client:
        warning_id = back_entered_warning(server, client)
        supervisor = {"role": "supervisor", "org": "460100-jd", "region": "460100"}
        path = f"/api/v1/warnings/{warning_id}"

        assert post(client, "/api/v1/warnings/W2-unknown/acknowledge", supervisor, {}).status_code == 404
        assert post(client, f"{path}/acknowledge", {**supervisor, "region": "460200"}, {}).status_code == 403
        assert post(client, f"{path}/acknowledge", {**supervisor, "role": "analyst"}, {}).status_code == 403

        acknowledged = ok(post(client, f"{path}/acknowledge", supervisor, {"note": "已签收，核查中"}))
        assert warning_status(server, warning_id, acknowledged["position"]) == "acknowledged"
        assert post(client, f"{path}/acknowledge", supervisor, {}).status_code == 409

        closed = ok(post(client, f"{path}/close", supervisor, {"explanation": "停机公告可查，补录合规"}))
        assert warning_status(server, warning_id, closed["position"]) == "closed_explained"
        again = post(client, f"{path}/close", supervisor, {"explanation": "再次关闭"})
        assert again.status_code == 409, again.text
        # a closed warning cannot be taken into an inquiry
        opening = {"warning_ids": [warning_id], "subject": "s", "department": "zrzy", "reason": "r"}
        assert post(client, "/api/v1/inquiries", OFFICER, opening).status_code == 409
