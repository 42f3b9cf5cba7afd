"""The OpenAPI document tells the truth (issue 21): every error a client meets is documented for its
operation as application/problem+json with the Problem schema. The fuzzing (test_fuzz.py) checks
status codes and content types of generated requests; here each kind of error is provoked on purpose."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.e2e.conftest import Server, auth, project_body

PROBLEM = "application/problem+json"


def _documented(spec: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    responses = spec["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} does not document {status}"
    return dict(responses[str(status)]["content"])


def test_every_operation_documents_its_problem_responses_and_nothing_else_as_an_error_schema(
    server: Server, client: httpx.Client
) -> None:
    spec = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert spec["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail"]
    operations = [(m, p, op) for p, ops in spec["paths"].items() for m, op in ops.items()]
    assert len(operations) > 50
    for method, path, op in operations:
        expected = {429, 503} if path in ("/health", "/metrics") else {400, 401, 403, 404, 409, 413, 422, 429, 503}
        errors = {int(s) for s in op["responses"] if int(s) >= 400}
        assert errors == expected, (method, path, errors)
        for status in errors:
            content = op["responses"][str(status)]["content"]
            assert list(content) == [PROBLEM], (method, path, status)
            assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_each_error_met_over_http_is_the_documented_one(server: Server, client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    clerk = auth("window_clerk", org="460100-zwfw")
    code = project_body()["code"]
    assert client.post("/api/v1/projects", json=project_body(code=code), headers=auth("applicant")).status_code == 201
    case_id = client.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-02"}, headers=clerk).json()[
        "id"
    ]
    seen = [
        ("post", "/api/v1/projects", client.post("/api/v1/projects", json=project_body())),  # no token
        ("post", "/api/v1/projects", client.post("/api/v1/projects", json=project_body(), headers=auth("analyst"))),
        ("post", "/api/v1/projects", client.post("/api/v1/projects", json={"code": 1}, headers=auth("applicant"))),
        (
            "post",
            "/api/v1/projects",
            client.post(
                "/api/v1/projects",
                content=b"[" * 5000 + b"]" * 5000,  # nested past the depth limit: 400
                headers={**auth("applicant"), "content-type": "application/json"},
            ),
        ),
        (
            "post",
            "/api/v1/cases/{case_id}/accept",
            client.post(f"/api/v1/cases/{uuid.uuid4()}/accept", json={}, headers=clerk),
        ),
        (
            "post",
            "/api/v1/cases/{case_id}/approve",
            client.post(f"/api/v1/cases/{case_id}/approve", json={}, headers=auth("approver", org="460100-zrzy")),
        ),
    ]
    statuses = set()
    for method, path, response in seen:
        assert response.headers["content-type"] == PROBLEM, response.text
        assert PROBLEM in _documented(spec, method, path, response.status_code)
        assert response.json()["status"] == response.status_code
        assert not response.json()["type"].endswith("about:blank")
        statuses.add(response.status_code)
    assert {400, 401, 403, 404, 409, 422} <= statuses, statuses
