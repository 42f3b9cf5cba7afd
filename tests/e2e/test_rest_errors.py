"""Errors over HTTP: problem+json with the field path, the right status, and nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from domain.shared.codes import uscc_check_char
from infrastructure.tokens import issue
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import Server, auth, project_body

PROBLEM = "application/problem+json"
OTHER_USCC = "91460100MA5T0P3X6" + uscc_check_char("91460100MA5T0P3X6")
CLERK = auth("window_clerk", org="460100-zwfw")
APPLICANT = auth("applicant")

# asymmetric, so its two lobes do not cancel to zero area: the self-intersection is what is refused
BOW_TIE = {
    "type": "Polygon",
    "coordinates": [[[110.30, 20.00], [110.32, 20.02], [110.32, 20.00], [110.30, 20.01], [110.30, 20.00]]],
}
OPEN_RING = {"type": "Polygon", "coordinates": [[[110.30, 20.00], [110.31, 20.00], [110.31, 20.01], [110.30, 20.01]]]}


def _assert_problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = r.json()
    assert problem["status"] == status
    assert {"type", "title", "detail"} <= problem.keys()
    return problem


def _generate(client: httpx.Client, **overrides: Any) -> httpx.Response:
    return client.post("/api/v1/projects", json=project_body(**overrides), headers=APPLICANT)


@pytest.mark.parametrize(
    ("overrides", "loc", "rule"),
    [
        (
            {"owner": {"name": "某公司", "uscc": "91460000MA5T0P3X65"}},
            ["body", "owner", "uscc"],
            "uscc_check_character",
        ),
        ({"code": "2611-460100-04-01-12345"}, ["body", "code"], "project_code_format"),
        ({"region_code": "469003"}, ["body", "region_code"], "region_unknown"),
        ({"red_line": BOW_TIE}, ["body", "red_line"], "red_line_invalid"),
        ({"red_line": OPEN_RING}, ["body", "red_line"], "red_line_open"),
        ({"total_investment": "-1"}, ["body", "total_investment"], "greater_than_equal"),
        ({"planned_start": "2027-01-01", "planned_end": "2026-12-31"}, ["body", "planned_end"], "end_before_start"),
    ],
    ids=["uscc-check-character", "project-code", "region", "bow-tie", "open-ring", "negative-investment", "end-first"],
)
def test_an_invalid_project_is_refused_with_422_naming_the_field_and_nothing_is_written(
    server: Server, client: httpx.Client, overrides: dict[str, Any], loc: list[str], rule: str
) -> None:
    before = server.position()
    problem = _assert_problem(_generate(client, **overrides), 422)
    assert [e["loc"] for e in problem["errors"]] == [loc]
    assert problem["errors"][0]["type"] == rule
    assert server.position() == before


def test_a_case_for_an_unknown_item_is_422_for_an_ungenerated_project_409_and_nothing_is_written(
    server: Server, client: httpx.Client
) -> None:
    code = project_body()["code"]
    assert _generate(client, code=code).status_code == 201
    before = server.position()
    unknown_item = client.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-9-99"}, headers=CLERK)
    assert _assert_problem(unknown_item, 422)["errors"][0]["loc"] == ["body", "item_code"]
    # a well-formed code of a project never generated: a conflict with the recorded facts
    unknown_project = client.post(
        "/api/v1/cases", json={"project_code": "2611-460100-04-01-000001", "item_code": "GJ-1-02"}, headers=CLERK
    )
    problem = _assert_problem(unknown_project, 409)  # well-formed, but never generated (未策划生成)
    assert "not been generated" in problem["detail"]
    assert server.position() == before


def test_an_unknown_field_is_refused(client: httpx.Client) -> None:
    problem = _assert_problem(_generate(client, colour="red"), 422)
    assert problem["errors"][0]["loc"] == ["body", "colour"]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer not-a-jwt",
        "Bearer " + issue("another-secret-of-at-least-32-characters!", "u", "applicant", "x", "460100"),
        "Bearer "
        + issue(JWT_SECRET, "u", "applicant", "x", "460100", ttl_hours=1, now=datetime.now(UTC) - timedelta(hours=2)),
        "Bearer " + issue(JWT_SECRET, "u", "superuser", "x", "460100"),
    ],
    ids=["missing", "malformed", "wrong-signature", "expired", "unknown-role"],
)
def test_a_request_without_a_valid_token_gets_401_with_a_bearer_challenge(
    server: Server, client: httpx.Client, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    before = server.position()
    r = client.post("/api/v1/projects", json=project_body(), headers=headers)
    _assert_problem(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"
    assert server.position() == before


def test_a_role_or_scope_that_may_not_act_gets_403(server: Server, client: httpx.Client) -> None:
    before = server.position()
    _assert_problem(client.post("/api/v1/projects", json=project_body(), headers=auth("analyst")), 403)
    other_owner = project_body(owner={"name": "另一家公司", "uscc": OTHER_USCC})
    _assert_problem(client.post("/api/v1/projects", json=other_owner, headers=APPLICANT), 403)
    assert server.position() == before

    code = project_body()["code"]
    assert _generate(client, code=code).status_code == 201
    stranger = auth("applicant", org=OTHER_USCC)
    r = client.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-02"}, headers=stranger)
    _assert_problem(r, 403)
    out_of_region = auth("window_clerk", org="460200-zwfw", region="460200")
    r = client.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-02"}, headers=out_of_region)
    _assert_problem(r, 403)


def test_an_unknown_case_gets_404(client: httpx.Client) -> None:
    problem = _assert_problem(client.post(f"/api/v1/cases/{uuid4()}/accept", headers=CLERK), 404)
    assert "not found" in problem["detail"]


def test_approving_a_case_that_is_only_received_is_an_illegal_transition(server: Server, client: httpx.Client) -> None:
    code = project_body()["code"]
    assert _generate(client, code=code).status_code == 201
    case = client.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-02"}, headers=CLERK)
    assert case.status_code == 201
    before = server.position()
    r = client.post(f"/api/v1/cases/{case.json()['id']}/approve", json={}, headers=auth("approver", org="460100-zjj"))
    problem = _assert_problem(r, 409)
    assert problem["action"] == "approve"
    assert problem["state"].startswith("1 ")
    assert server.position() == before


@pytest.mark.parametrize(("action", "field"), [("not-accept", "reason"), ("request-correction", "materials")])
def test_an_action_sent_without_a_body_is_422_naming_the_field_it_lacks(
    server: Server, client: httpx.Client, action: str, field: str
) -> None:
    code = project_body()["code"]
    assert _generate(client, code=code).status_code == 201
    case = client.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-02"}, headers=CLERK)
    before = server.position()
    problem = _assert_problem(client.post(f"/api/v1/cases/{case.json()['id']}/{action}", headers=CLERK), 422)
    assert problem["errors"][0]["loc"] == ["body", field]
    assert server.position() == before


def test_only_an_import_may_carry_a_business_time_on_an_action(server: Server, client: httpx.Client) -> None:
    code = project_body()["code"]
    assert _generate(client, code=code).status_code == 201
    case = client.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-02"}, headers=CLERK)
    # a business time before now but not before the receipt (the domain keeps transitions in order)
    earlier = datetime.now(UTC).isoformat()
    before = server.position()
    r = client.post(f"/api/v1/cases/{case.json()['id']}/accept", json={"occurred_at": earlier}, headers=CLERK)
    assert _assert_problem(r, 422)["errors"][0]["loc"] == ["body", "occurred_at"]
    assert server.position() == before
    imported = auth("integration", org="460000-xzspj", region="460000")
    r = client.post(f"/api/v1/cases/{case.json()['id']}/accept", json={"occurred_at": earlier}, headers=imported)
    assert r.status_code == 200, r.text


def test_an_unknown_route_is_a_problem_too(client: httpx.Client) -> None:
    _assert_problem(client.post(f"/api/v1/cases/{uuid4()}/teleport", headers=CLERK), 404)
