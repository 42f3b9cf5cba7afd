"""Limits over HTTP: body size (413), red-line vertices, strings and lists (422), GraphQL page size and
cost, and the per-token rate limit (429 with Retry-After), counted in Redis and in-process."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import pytest

from application.bootstrap import bootstrap
from domain.shared.geometry import MAX_VERTICES
from infrastructure.settings import Settings
from infrastructure.tokens import issue
from interfaces.graphql.common import MAX_PAGE
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import problem_of, project_body, serving

TYPENAME = {"query": "{ __typename }"}


def _headers(role: str = "applicant", sub: str | None = None) -> dict[str, str]:
    token = issue(JWT_SECRET, sub or f"{role}-{uuid.uuid4().hex[:8]}", role, "91460000MA5T0P3X64", "460100")
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def api(url: str, **settings: Any) -> Iterator[httpx.Client]:
    container = bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET, **settings))
    try:
        with serving(container) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
            yield client
    finally:
        container.close()


def _ring(n: int) -> list[list[float]]:
    """A closed ring of n positions on a small circle in Haikou."""
    points = [
        [110.30 + 0.01 * math.cos(2 * math.pi * i / (n - 1)), 20.00 + 0.01 * math.sin(2 * math.pi * i / (n - 1))]
        for i in range(n - 1)
    ]
    return [*points, points[0]]


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """One server with the default limits."""
    with api(f"sqlite:///{tmp_path_factory.mktemp('limits')}/gongjian.db") as client:
        yield client


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """One server for the request-shape limits: bodies capped at 4 KiB, the SPGL import at 64 KiB."""
    url = f"sqlite:///{tmp_path_factory.mktemp('limits')}/gongjian.db"
    with api(url, max_body_bytes=4096, max_body_bytes_bulk=65536) as client:
        yield client


def test_a_body_over_the_cap_is_refused_with_413_problem_json(small: httpx.Client) -> None:
    body = project_body(name="项" * 1500)  # ~4.5 KB of UTF-8
    problem = problem_of(small.post("/api/v1/projects", json=body, headers=_headers()), 413)
    assert problem["type"].endswith("/problems/too-large")


def test_a_streamed_body_without_content_length_is_cut_at_the_cap(small: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    headers = {**_headers(), "content-type": "application/json"}
    r = small.post("/api/v1/projects", content=chunks(), headers=headers)
    assert problem_of(r, 413)["type"].endswith("/problems/too-large")  # our problem type, never about:blank


def test_the_spgl_import_takes_a_larger_body(small: httpx.Client) -> None:
    rows = [{"LSH": i, "XMDM": "x" * 50} for i in range(100)]  # ~8 KB: over the general cap, under the bulk one
    r = small.post(
        "/api/v1/exchange/spgl",
        json={"source_system": "测试", "tables": {"NOPE": rows}},
        headers=_headers("integration"),
    )
    assert r.status_code != 413, r.text


def test_a_red_line_with_too_many_vertices_is_refused_with_422() -> None:
    # checked in the domain (the HTTP body cap would refuse it first in a server's default settings)
    from domain.shared.errors import InvalidValue
    from domain.shared.geometry import validate_red_line

    with pytest.raises(InvalidValue) as refused:
        validate_red_line({"type": "Polygon", "coordinates": [_ring(MAX_VERTICES + 1)]})
    assert (refused.value.field, refused.value.rule) == ("red_line.coordinates", "red_line_vertices")


def test_a_red_line_with_too_many_vertices_is_422_over_http(default: httpx.Client) -> None:
    body = project_body(red_line={"type": "Polygon", "coordinates": [_ring(MAX_VERTICES + 1)]})
    problem = problem_of(default.post("/api/v1/projects", json=body, headers=_headers()), 422)
    assert [(e["loc"], e["type"]) for e in problem["errors"]] == [(["body", "red_line"], "red_line_vertices")]
    ok = project_body(region_code="460106", red_line={"type": "Polygon", "coordinates": [_ring(200)]})
    assert default.post("/api/v1/projects", json=ok, headers=_headers()).status_code == 201, ok


@pytest.mark.parametrize(
    ("path", "body", "loc", "rule"),
    [
        ("/api/v1/projects", {"category": "类" * 2001}, ["body", "category"], "string_too_long"),
        ("/api/v1/cases", {"situation_codes": ["S"] * 501}, ["body", "situation_codes"], "too_long"),
        (
            "/api/v1/cases",
            {"parallel_application_id": "p" * 201},
            ["body", "parallel_application_id"],
            "string_too_long",
        ),
    ],
    ids=["text-field", "list", "id-field"],
)
def test_long_strings_and_lists_are_refused_with_422_naming_the_field(
    default: httpx.Client, path: str, body: dict[str, Any], loc: list[str], rule: str
) -> None:
    full = project_body(**body) if path.endswith("projects") else {"project_code": "x", "item_code": "y", **body}
    problem = problem_of(default.post(path, json=full, headers=_headers("window_clerk")), 422)
    assert (loc, rule) in [(e["loc"], e["type"]) for e in problem["errors"]]


def test_graphql_pages_are_capped(small: httpx.Client) -> None:
    query = "query($n: Int!) { projects(first: $n) { totalCount } }"
    over = small.post("/graphql", json={"query": query, "variables": {"n": MAX_PAGE + 1}}, headers=_headers())
    assert over.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    at = small.post("/graphql", json={"query": query, "variables": {"n": MAX_PAGE}}, headers=_headers())
    assert "errors" not in at.json(), at.text


def test_a_graphql_query_over_the_cost_limit_is_refused_before_it_runs(small: httpx.Client) -> None:
    fields = "code name regionCode regionName unitCode flowType flowTypeName investmentType category stageReached"
    pages = " ".join(f"p{i}: projects(first: {MAX_PAGE}) {{ edges {{ node {{ {fields} }} }} }}" for i in range(20))
    r = small.post("/graphql", json={"query": "{ " + pages + " }"}, headers=_headers())
    errors = r.json()["errors"]
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", errors
    assert r.json().get("data") is None


def test_graphql_depth_and_aliases_are_limited(small: httpx.Client) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(31))
    r = small.post("/graphql", json={"query": "{ " + aliases + " }"}, headers=_headers())
    assert "aliases" in r.json()["errors"][0]["message"]


# --- rate limit ---------------------------------------------------------------------------


def _exhaust(client: httpx.Client, headers: dict[str, str], allowed: int) -> httpx.Response:
    for _ in range(allowed):
        assert client.post("/graphql", json=TYPENAME, headers=headers).status_code == 200
    return client.post("/graphql", json=TYPENAME, headers=headers)


def test_the_rate_limit_is_per_token_subject_in_process(tmp_path: Any) -> None:
    with api(f"sqlite:///{tmp_path}/g.db", rate_limit="3/minute", redis_url=None) as client:
        alice = _headers(sub=f"alice-{uuid.uuid4()}")
        refused = _exhaust(client, alice, 3)
        problem_of(refused, 429)
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # another subject has its own count; probes are not counted
        assert client.post("/graphql", json=TYPENAME, headers=_headers(sub=f"bob-{uuid.uuid4()}")).status_code == 200
        assert all(client.get("/health").status_code == 200 for _ in range(5))


@pytest.mark.redis
def test_workers_sharing_redis_share_one_count(tmp_path: Any, redis_url: str) -> None:
    with ExitStack() as stack:
        a = stack.enter_context(api(f"sqlite:///{tmp_path}/a.db", rate_limit="4/minute", redis_url=redis_url))
        b = stack.enter_context(api(f"sqlite:///{tmp_path}/b.db", rate_limit="4/minute", redis_url=redis_url))
        carol = _headers(sub=f"carol-{uuid.uuid4()}")
        for client in (a, b, a, b):
            assert client.post("/graphql", json=TYPENAME, headers=carol).status_code == 200
        refused = problem_of(b.post("/graphql", json=TYPENAME, headers=carol), 429)
        assert "rate limit" in refused["detail"]
        assert int(a.post("/graphql", json=TYPENAME, headers=carol).headers["retry-after"]) >= 1


def test_with_redis_unreachable_the_count_falls_back_to_the_process(tmp_path: Any) -> None:
    with api(f"sqlite:///{tmp_path}/g.db", rate_limit="2/minute", redis_url="redis://127.0.0.1:1/0") as client:
        dave = _headers(sub=f"dave-{uuid.uuid4()}")
        problem_of(_exhaust(client, dave, 2), 429)


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/api/v1/projects", project_body(name="海口\u0000项目"), ["body", "name"]),
        (
            "/api/v1/seals",
            {"holder_org": "460100-zjj", "name": "审批\u0000专用章", "purpose": "approval", "signers": ["a"]},
            ["body", "name"],
        ),
        ("/api/v1/licenses/X-1/revoke", {"reason": "错\u0000误"}, ["body", "reason"]),
    ],
    ids=["project", "seal", "licence-revocation"],
)
def test_a_nul_character_is_refused_with_422_on_every_router(
    default: httpx.Client, path: str, body: dict[str, Any], loc: list[str]
) -> None:
    """PostgreSQL text cannot hold NUL: a fact carrying one would stop a read model later."""
    problem = problem_of(default.post(path, json=body, headers=_headers("admin")), 422)
    assert (loc, "nul_character") in [(e["loc"], e["type"]) for e in problem["errors"]]
