"""好差评 end to end over HTTP: a bad review, its rectification and follow-up, and the analysis."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import Server, auth, project_body

OTHER_USCC = "91460100MA5T0P3X6X"
RATINGS = """query($at: Int) { ratings(groupBy: DEPARTMENT, atLeast: $at) {
  key label total badCount badRate rectifiedOnTime rectificationOverdue followedUp feedbackCount
  byLevel { level name count } } }"""
WINDOWS = """query($at: Int) { windowAssessment(atLeast: $at) {
  clerkId org regionCode accepted notAccepted refusedAtAcceptance correctionsRequested
  meanHoursToAccept ratings meanRating badReviews } }"""


def post(client: httpx.Client, path: str, role: str, body: dict[str, Any], org: str | None = None) -> httpx.Response:
    headers = auth(role, org) if org else auth(role)
    return client.post(path, json=body, headers=headers)


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def gql(client: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=auth("supervisor", region="460000")
    )
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]  # type: ignore[no-any-return]


def received_case(client: httpx.Client, code: str) -> str:
    body = {"project_code": code, "item_code": "GJ-1-02", "acceptance_mode": 1}
    return str(ok(post(client, "/api/v1/cases", "window_clerk", body))["id"])


def test_a_bad_review_is_rectified_on_time_and_followed_up_and_the_analysis_shows_it(server: Server) -> None:
    server.container.engine.start()
    with server.client() as client:
        # Step: a project, a decided case and a case still open.
        code = ok(post(client, "/api/v1/projects", "window_clerk", project_body()))["code"]
        case_id = received_case(client, code)
        ok(post(client, f"/api/v1/cases/{case_id}/accept", "window_clerk", {}))
        ok(post(client, f"/api/v1/cases/{case_id}/approve", "approver", {"document_number": "海资规选〔2026〕9号"}))
        open_case = received_case(client, code)

        # Step: the refusals — another applicant, an open case, a level outside 1–5.
        rating = {"case_id": case_id, "level": 2, "channel": "mobile", "dimensions": {"efficiency": 1}}
        other = post(client, "/api/v1/ratings", "applicant", rating, org=OTHER_USCC)
        assert other.status_code == 403, other.text
        still_open = post(client, "/api/v1/ratings", "applicant", {**rating, "case_id": open_case})
        assert still_open.status_code == 409, still_open.text
        level_six = post(client, "/api/v1/ratings", "applicant", {**rating, "level": 6})
        assert level_six.status_code == 422, level_six.text
        assert level_six.json()["errors"][0]["loc"] == ["body", "level"]

        # Step: the applicant's bad review, then a second rating of the same case.
        rated = ok(post(client, "/api/v1/ratings", "applicant", {**rating, "comment": "材料反复退回"}))
        assert rated["bad_review"] is True and rated["level_name"] == "不满意"
        again = post(client, "/api/v1/ratings", "applicant", {**rating, "level": 5})
        assert again.status_code == 409, again.text

        # Step: follow-up before rectification is refused; rectification, then follow-up.
        early = post(client, f"/api/v1/ratings/{rated['id']}/follow-up", "supervisor", {"result": "satisfied"})
        assert early.status_code == 409, early.text
        by_applicant = post(client, f"/api/v1/ratings/{rated['id']}/rectification", "applicant", {"measures": "x"})
        assert by_applicant.status_code == 403
        ok(post(client, f"/api/v1/ratings/{rated['id']}/rectification", "reviewer", {"measures": "一次性告知材料清单"}))
        followed = ok(post(client, f"/api/v1/ratings/{rated['id']}/follow-up", "supervisor", {"result": "satisfied"}))

        # Step: an experience officer reports a problem about the case.
        feedback = {
            "subject_kind": "case",
            "case_id": case_id,
            "category": "unclear_materials",
            "description": "清单不清",
        }
        reported = ok(post(client, "/api/v1/feedback", "supervisor", feedback))
        assert reported["reporter_kind"] == "experience_officer"
        at = max(followed["position"], reported["position"])

        # Step: the analysis by department and the window assessment.
        (group,) = gql(client, RATINGS, at=at)["ratings"]
        assert group["key"] == "zrzy" and group["total"] == 1 and group["badCount"] == 1
        assert group["badRate"] == 1.0 and group["rectifiedOnTime"] == 1 and group["rectificationOverdue"] == 0
        assert group["followedUp"] == 1 and group["feedbackCount"] == 1
        assert {lv["level"]: lv["count"] for lv in group["byLevel"]} == {5: 0, 4: 0, 3: 0, 2: 1, 1: 0}
        (clerk,) = gql(client, WINDOWS, at=at)["windowAssessment"]
        assert clerk["clerkId"] == "window_clerk-1" and clerk["accepted"] == 1
        assert clerk["ratings"] == 1 and clerk["meanRating"] == 2.0 and clerk["badReviews"] == 1


def test_rectification_is_only_for_bad_reviews_and_feedback_needs_a_known_category(server: Server) -> None:
    with server.client() as client:
        code = ok(post(client, "/api/v1/projects", "window_clerk", project_body()))["code"]
        case_id = received_case(client, code)
        ok(post(client, f"/api/v1/cases/{case_id}/refuse-acceptance", "window_clerk", {"reason": "不符合受理条件"}))
        rated = ok(post(client, "/api/v1/ratings", "applicant", {"case_id": case_id, "level": 4, "channel": "pc"}))
        rectify = post(client, f"/api/v1/ratings/{rated['id']}/rectification", "reviewer", {"measures": "无"})
        assert rectify.status_code == 409, rectify.text
        bad_channel = post(client, "/api/v1/ratings", "applicant", {"case_id": case_id, "level": 4, "channel": "fax"})
        assert bad_channel.status_code == 422
        feedback = {"subject_kind": "window", "window": "460100-zwfw", "category": "rude", "description": "x"}
        assert post(client, "/api/v1/feedback", "supervisor", feedback).status_code == 422
        as_applicant = {**feedback, "category": "attitude", "reporter_kind": "experience_officer"}
        assert post(client, "/api/v1/feedback", "applicant", as_applicant).status_code == 422
        assert post(client, "/api/v1/feedback", "reviewer", {**feedback, "category": "attitude"}).status_code == 403
