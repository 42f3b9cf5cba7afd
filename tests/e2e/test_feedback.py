"""体验员反馈 follow-up end to end over HTTP: reported, listed, assigned, answered, closed; the
refusals (409 out of order, 403 for a role or a department that may not, 422 bad input); the
GraphQL listing with its filters and each report's history."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import Server, auth, problem_of

FEEDBACK = """query($at: Int, $filter: FeedbackFilter) { feedback(filter: $filter, atLeast: $at) {
  totalCount edges { node { id status category departmentName regionCode assignedDepartment assignedRegion
  answer outcome conclusion listedOn assignedOn answeredOn closedOn month
  history { seq eventType actorId actorRole actorOrg channel requestId } } } } }"""


def post(
    client: httpx.Client, path: str, role: str, body: dict[str, Any], org: str = "460000-yshj", **headers: str
) -> httpx.Response:
    region = "460100" if org.startswith("460100") else "460000"
    return client.post(path, json=body, headers=auth(role, org=org, region=region, **headers))


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def listing(client: httpx.Client, at: int, role: str = "supervisor", **filter: Any) -> dict[str, Any]:
    response = client.post(
        "/graphql",
        json={"query": FEEDBACK, "variables": {"at": at, "filter": filter or None}},
        headers=auth(role, org="460000-yshj", region="460000"),
    )
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]["feedback"]  # type: ignore[no-any-return]


def test_a_report_is_listed_assigned_answered_and_closed_with_every_step_in_its_history(server: Server) -> None:
    server.container.engine.start()
    with server.client() as client:
        # Step: the experience officer reports a window problem in Haikou, and an item problem.
        window = {"subject_kind": "window", "window": "460100-zwfw", "region_code": "460100"}
        reported = ok(
            post(
                client,
                "/api/v1/feedback",
                "supervisor",
                {**window, "category": "attitude", "description": "窗口答复含糊"},
            )
        )
        item = {
            "subject_kind": "item",
            "item_code": "GJ-1-02",
            "region_code": "460100",
            "category": "unclear_materials",
        }
        other = ok(post(client, "/api/v1/feedback", "supervisor", {**item, "description": "材料清单不清"}))
        fid = reported["id"]

        # Step: out of order (409), a role that may not (403), bad input (422) — each changes nothing.
        problem_of(post(client, f"/api/v1/feedback/{fid}/assign", "supervisor", {"department": "zjj"}), 409)
        problem_of(post(client, f"/api/v1/feedback/{fid}/list", "reviewer", {}, org="460100-zjj"), 403)
        problem_of(post(client, f"/api/v1/feedback/{fid}/list", "analyst", {}), 403)
        listed = ok(
            post(
                client,
                f"/api/v1/feedback/{fid}/list",
                "supervisor",
                {"note": "列入督办"},
                **{"X-Request-ID": "req-list-1"},
            )
        )
        assert listed["status"] == "listed"
        unknown = problem_of(post(client, f"/api/v1/feedback/{fid}/assign", "supervisor", {"department": "nope"}), 422)
        assert unknown["errors"][0]["loc"] == ["body", "department"]

        # Step: assigned to Haikou's housing department; another department may not answer.
        ok(post(client, f"/api/v1/feedback/{fid}/assign", "supervisor", {"department": "zjj", "region_code": "460100"}))
        problem_of(post(client, f"/api/v1/feedback/{fid}/answer", "reviewer", {"answer": "x"}, org="460100-zrzy"), 403)
        problem_of(
            post(client, f"/api/v1/feedback/{fid}/close", "supervisor", {"outcome": "resolved", "conclusion": "x"}), 409
        )
        empty = problem_of(
            post(client, f"/api/v1/feedback/{fid}/answer", "reviewer", {"answer": ""}, org="460100-zjj"), 422
        )
        assert empty["errors"][0]["loc"] == ["body", "answer"]
        ok(
            post(
                client,
                f"/api/v1/feedback/{fid}/answer",
                "reviewer",
                {"answer": "已约谈窗口人员", "measures": "培训"},
                org="460100-zjj",
            )
        )
        bad_outcome = post(
            client, f"/api/v1/feedback/{fid}/close", "supervisor", {"outcome": "done", "conclusion": "x"}
        )
        assert problem_of(bad_outcome, 422)["errors"][0]["loc"] == ["body", "outcome"]
        closed = ok(
            post(client, f"/api/v1/feedback/{fid}/close", "supervisor", {"outcome": "resolved", "conclusion": "已整改"})
        )
        assert closed["status"] == "closed"
        problem_of(post(client, f"/api/v1/feedback/{fid}/assign", "supervisor", {"department": "zjj"}), 409)
        problem_of(post(client, "/api/v1/feedback/00000000-0000-0000-0000-000000000000/list", "supervisor", {}), 404)
        at = closed["position"]

        # Step: the listing with its history, and the filters.
        page = listing(client, at)
        assert page["totalCount"] == 2
        node = next(e["node"] for e in page["edges"] if e["node"]["id"] == fid)
        assert (node["status"], node["outcome"], node["assignedDepartment"], node["assignedRegion"]) == (
            "closed", "resolved", "zjj", "460100",
        )  # fmt: skip
        assert node["answer"] == "已约谈窗口人员" and node["conclusion"] == "已整改"
        assert node["listedOn"] and node["assignedOn"] and node["answeredOn"] and node["closedOn"]
        steps = [(s["eventType"], s["actorRole"], s["actorOrg"]) for s in node["history"]]
        assert steps == [
            ("Feedback.Submitted", "supervisor", "460000-yshj"),
            ("Feedback.Listed", "supervisor", "460000-yshj"),
            ("Feedback.Assigned", "supervisor", "460000-yshj"),
            ("Feedback.Answered", "reviewer", "460100-zjj"),
            ("Feedback.Closed", "supervisor", "460000-yshj"),
        ]
        assert node["history"][1]["requestId"] == "req-list-1"
        assert all(s["channel"] == "online" and s["actorId"] for s in node["history"])
        assert [e["node"]["id"] for e in listing(client, at, status="submitted")["edges"]] == [other["id"]]
        assert [e["node"]["id"] for e in listing(client, at, department="zjj")["edges"]] == [fid]
        assert listing(client, at, department="zjj", status="submitted")["totalCount"] == 0
        assert listing(client, at, month="1999-01")["totalCount"] == 0
        assert listing(client, at, regionCode="460200")["totalCount"] == 0

        # Step: analysts do not read reports (free text, names); a bad month is refused.
        as_analyst = client.post("/graphql", json={"query": FEEDBACK, "variables": {"at": at}}, headers=auth("analyst"))
        assert as_analyst.json()["errors"][0]["extensions"]["status"] == 403
        bad = client.post(
            "/graphql",
            json={"query": FEEDBACK, "variables": {"at": at, "filter": {"month": "2026-13x"}}},
            headers=auth("supervisor", region="460000"),
        )
        assert bad.json()["errors"][0]["extensions"]["status"] == 422


RATINGS = """query($at: Int, $f: RatingsFilter) { ratings(groupBy: DEPARTMENT, filter: $f, atLeast: $at) {
  key label total feedbackCount } }"""


def test_feedback_about_a_window_is_grouped_under_an_unassigned_department_not_a_blank_row(server: Server) -> None:
    server.container.engine.start()
    with server.client() as client:
        # Step: one report about a window (no department), one about an item of zrzy.
        window = {"subject_kind": "window", "window": "460100-zwfw", "region_code": "460100", "category": "attitude"}
        ok(post(client, "/api/v1/feedback", "supervisor", {**window, "description": "窗口答复含糊"}))
        item = {"subject_kind": "item", "item_code": "GJ-1-02", "region_code": "460100", "category": "other"}
        at = ok(post(client, "/api/v1/feedback", "supervisor", {**item, "description": "办事指南过期"}))["position"]

        def groups(**f: Any) -> list[dict[str, Any]]:
            response = client.post(
                "/graphql",
                json={"query": RATINGS, "variables": {"at": at, "f": f or None}},
                headers=auth("supervisor", org="460000-yshj", region="460000"),
            )
            return response.json()["data"]["ratings"]  # type: ignore[no-any-return]

        rows = {g["key"]: (g["label"], g["total"], g["feedbackCount"]) for g in groups()}
        assert rows == {"unassigned": ("未指定部门", 0, 1), "zrzy": ("自然资源和规划局", 0, 1)}
        assert [g["key"] for g in groups(department="unassigned")] == ["unassigned"]
