"""The issue's scenario, end to end over HTTP: commands through REST, answers through GraphQL."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import Server, auth, project_body


def gql(client: httpx.Client, query: str, role: str = "supervisor", **variables: Any) -> dict[str, Any]:
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=auth(role, region="460000")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body.get("errors")
    return body["data"]  # type: ignore[no-any-return]


def command(client: httpx.Client, path: str, role: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post(
        path, json=body or {}, headers=auth(role, **{"X-Request-ID": "req-" + path.rsplit("/", 1)[-1]})
    )
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_case_through_correction_and_special_procedure_is_traced_in_global_order(server: Server) -> None:
    server.container.engine.start()
    with server.client() as client:
        # Step: generate a project, receive a case, walk it to approval.
        project = command(client, "/api/v1/projects", "window_clerk", project_body())
        code = project["code"]
        case = command(
            client,
            "/api/v1/cases",
            "window_clerk",
            {"project_code": code, "item_code": "GJ-1-02", "acceptance_mode": 1},
        )
        case_id = case["id"]
        steps = [
            ("accept", "window_clerk", {}),
            ("request-correction", "reviewer", {"materials": ["选址论证报告"], "note": "缺少附图"}),
            ("complete-correction", "applicant", {"note": "已补交"}),
            (
                "start-special-procedure",
                "reviewer",
                {
                    "procedure_type": "expert_review",
                    "procedure_name": "专家评审",
                    "limit_days": 5,
                    "reason": "技术复杂",
                },
            ),
            ("end-special-procedure", "reviewer", {"result": "专家评审通过"}),
            ("approve", "approver", {"document_number": "海资规选〔2026〕7号", "document_title": "选址意见书"}),
        ]
        positions = [project["position"], case["position"]]
        for action, role, body in steps:
            positions.append(command(client, f"/api/v1/cases/{case_id}/{action}", role, body)["position"])
        assert positions == sorted(positions) and len(set(positions)) == len(positions)

        # Step: the audit trail of the project, once the read models reached the last position.
        trail = gql(
            client,
            """query($s: String!, $at: Int) { auditTrail(subject: $s, atLeast: $at, first: 100) {
                 edges { node { position eventType actorId actorRole channel requestId } } } }""",
            s=code,
            at=positions[-1],
        )["auditTrail"]["edges"]
        nodes = [e["node"] for e in trail]
        assert [n["eventType"] for n in nodes] == [
            "Project.Generated",
            "Case.Received",
            "Case.Accepted",
            "Case.CorrectionRequested",
            "Case.CorrectionCompleted",
            "Case.SpecialProcedureStarted",
            "Case.SpecialProcedureEnded",
            "Case.Approved",
            "Project.ItemApproved",
        ]
        assert [n["position"] for n in nodes] == sorted(n["position"] for n in nodes)
        assert [n["actorRole"] for n in nodes[:4]] == ["window_clerk", "window_clerk", "window_clerk", "reviewer"]
        assert nodes[0]["channel"] == "window" and nodes[3]["channel"] == "online"
        assert all(n["requestId"].startswith("req-") for n in nodes)

        # Step: the case shows working days, deadline and the clock's pauses.
        detail = gql(
            client,
            """query($id: ID!, $at: Int) { case(id: $id, atLeast: $at) {
                 status { code name } acceptedOn limitDays workingDaysUsed deadline overdue paused
                 pauses { kind start end procedureType limitDays pausedWorkingDays }
                 timeline { status { code } } } }""",
            id=case_id,
            at=positions[-1],
        )["case"]
        assert detail["status"] == {"code": 11, "name": "办结（通过）"}
        assert detail["limitDays"] == 5 and detail["workingDaysUsed"] == 0 and detail["overdue"] is False
        assert detail["deadline"] is not None and detail["paused"] is False
        assert [p["kind"] for p in detail["pauses"]] == ["correction", "special_procedure"]
        assert detail["pauses"][1]["procedureType"] == "expert_review"
        assert [t["status"]["code"] for t in detail["timeline"]] == [1, 3, 6, 7, 9, 10, 11]

        # Step: GraphiQL is served to a browser at /graphql.
        page = client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()


def test_graphql_without_a_token_answers_unauthenticated(server: Server) -> None:
    with server.client() as client:
        response = client.post("/graphql", json={"query": "{ projects { totalCount } }"})
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
