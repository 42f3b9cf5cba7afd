"""评估评审 end to end, on SQLite and PostgreSQL: an expert review runs as the case's special
procedure (the case is suspended, its clock paused), records the panel's opinions and result with
the working days used; GraphQL shows it on the case; the intermediaries read model rebuilds to the
same rows."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import Server, auth, project_body

APPLICANT = auth("applicant")
CLERK = auth("window_clerk", org="460100-zwfw")
REVIEWER = auth("reviewer", org="460100-zrzy")
SANYA_REVIEWER = auth("reviewer", org="460200-zrzy", region="460200")
PANEL = [{"name": "王工", "title": "正高级工程师", "org": "海南省规划院"}, {"name": "李工"}, {"name": "陈工"}]
QUERY = """query($id: String!) { assessmentReviews(caseId: $id) {
  subject panel limitDays result conditions workingDaysUsed opinions { expert opinion } } }"""


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


def accepted_case(http: httpx.Client) -> str:
    body = project_body()
    ok(http.post("/api/v1/projects", json=body, headers=APPLICANT), 201)
    case = ok(
        http.post("/api/v1/cases", json={"project_code": body["code"], "item_code": "GJ-1-02"}, headers=CLERK), 201
    )
    ok(http.post(f"/api/v1/cases/{case['id']}/accept", json={}, headers=CLERK))
    return str(case["id"])


def test_an_expert_review_suspends_the_case_and_records_its_result(server: Server) -> None:
    with server.client() as http:
        case_id = accepted_case(http)
        # Step: the reviewer convenes a panel: the case enters its special procedure (BLZT 9).
        start = {"subject": "选址论证报告", "panel": PANEL, "limit_days": 10}
        assert (
            http.post(f"/api/v1/cases/{case_id}/assessment-reviews", json=start, headers=SANYA_REVIEWER).status_code
            == 403
        )
        review = ok(http.post(f"/api/v1/cases/{case_id}/assessment-reviews", json=start, headers=REVIEWER), 201)
        assert review["case_status_code"] == 9
        url = f"/api/v1/assessment-reviews/{review['id']}"
        # Step: a finish before any opinion is refused (409); an expert off the panel is refused (422).
        assert http.post(f"{url}/finish", json={"result": "pass"}, headers=REVIEWER).status_code == 409
        stranger = http.post(f"{url}/opinions", json={"expert": "赵工", "opinion": "同意"}, headers=REVIEWER)
        assert stranger.status_code == 422 and "not_on_panel" in stranger.text
        for expert in ("王工", "李工", "陈工"):
            ok(
                http.post(
                    f"{url}/opinions", json={"expert": expert, "opinion": "原则同意，补充交通分析"}, headers=REVIEWER
                )
            )
        # Step: the panel passes it with conditions; the case resumes (BLZT 10).
        bad = http.post(f"{url}/finish", json={"result": "pass_with_conditions"}, headers=REVIEWER)
        assert bad.status_code == 422 and "conditions" in bad.text
        done = ok(http.post(f"{url}/finish", json={"result": "pass_with_conditions", "conditions": ["补充交通影响分析"],
                                                  "summary": "修改后通过"}, headers=REVIEWER))  # fmt: skip
        assert (done["result"], done["working_days_used"], done["case_status_code"]) == ("pass_with_conditions", 0, 10)
        # Step: the case clock counts the review as a pause (time not counted).
        case = server.container.cases.get(__import__("uuid").UUID(case_id))
        [pause] = case.pauses
        assert (pause.kind, pause.procedure_type) == ("special_procedure", "expert_review") and pause.end is not None
        # Step: GraphQL shows the review on the case, before and after a rebuild from zero.
        server.container.engine.catch_up()
        r = ok(http.post("/graphql", json={"query": QUERY, "variables": {"id": case_id}}, headers=REVIEWER))
        assert "errors" not in r, r
        [shown] = r["data"]["assessmentReviews"]
        assert shown["panel"] == ["王工", "李工", "陈工"] and shown["result"] == "pass_with_conditions"
        assert shown["conditions"] == ["补充交通影响分析"] and len(shown["opinions"]) == 3
        on_case = (
            """query($id: ID!) { case(id: $id) { status { code } assessmentReviews { result workingDaysUsed } } }"""
        )
        shown_on_case = ok(
            http.post("/graphql", json={"query": on_case, "variables": {"id": case_id}}, headers=REVIEWER)
        )
        assert shown_on_case["data"]["case"]["assessmentReviews"] == [
            {"result": "pass_with_conditions", "workingDaysUsed": 0}
        ]
        server.container.engine.rebuild("intermediaries")
        again = ok(http.post("/graphql", json={"query": QUERY, "variables": {"id": case_id}}, headers=REVIEWER))
        assert again == r
