"""Fuzzing: schemathesis sends generated requests to a real server (uvicorn), on SQLite and PostgreSQL,
from the OpenAPI schema and from the GraphQL schema. No request may cause a server error, every REST
response must match its documented schema, and every event the fuzzed commands wrote must project
(a fact a read model cannot take would stop it for good). Examples per operation are bounded
(GONGJIAN_FUZZ_EXAMPLES, default EXAMPLES) so the whole file stays well under a minute and a half."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from application.bootstrap import bootstrap
from application.policy import ROLES
from infrastructure.settings import Settings
from infrastructure.tokens import issue
from tests.conftest import JWT_SECRET, _conninfo
from tests.e2e.conftest import OWNER_USCC, Server, auth, project_body, serving

pytestmark = pytest.mark.long_running(55)  # scheduled first (tests/conftest.py)

EXAMPLES = int(os.environ.get("GONGJIAN_FUZZ_EXAMPLES", "20"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests every run: a failure here is reproducible
    suppress_health_check=list(HealthCheck),
    database=None,
)
# the role that may perform most of what a path does (application/policy.py), so that requests get
# past authorisation into validation and the services; integration covers the rest
ROLE_BY_PATH = (
    ("/blueprint", "admin"),
    ("/catalogue", "admin"),
    ("/merge", "admin"),
    ("/seals", "admin"),
    ("/warnings", "supervisor"),
    ("/inquiries", "accountability_officer"),
    ("/ratings", "applicant"),
    ("/feedback", "applicant"),
)
KNOWN: dict[str, str] = {}  # ids of seeded objects, put into every other generated request


def _headers(role: str) -> dict[str, str]:
    org = OWNER_USCC if role == "applicant" else f"fuzz-{role}"
    return {"Authorization": "Bearer " + issue(JWT_SECRET, f"fuzz-{role}", role, org, "460000", ttl_hours=1)}


def _role_for(path: str) -> str:
    return next((r for p, r in ROLE_BY_PATH if p in path), "integration")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzzed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/gongjian.db", None
    else:
        base = request.getfixturevalue("pg_base_url")
        schema = f"fuzz_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_conninfo(base), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url, drop = f"{base}?schema={schema}", (base, schema)
    # `atLeast: <huge>` waits this long for a position that never comes
    container = bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET, wait_timeout_s=0.05))
    try:
        with serving(container) as base_url:
            _seed(base_url)
            yield Server(base_url, container)
    finally:
        container.close()
        if drop:
            with psycopg.connect(_conninfo(drop[0]), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{drop[1]}" CASCADE')


def _seed(base: str) -> None:
    """A project and a case to aim at: random ids alone would only ever reach 404."""
    with httpx.Client(base_url=base, timeout=30) as client:
        body = project_body()
        assert client.post("/api/v1/projects", json=body, headers=auth("applicant")).status_code == 201
        case = client.post(
            "/api/v1/cases",
            json={"project_code": body["code"], "item_code": "GJ-1-02"},
            headers=_headers("integration"),
        )
        assert case.status_code == 201, case.text
    KNOWN.update(project_code=body["code"], canonical_code=body["code"], case_id=case.json()["id"])
    KNOWN.update(item_code="GJ-1-02")


def _aim(case: Any, n: int) -> None:
    """Every other example: known ids in the path and the body, the rest as generated."""
    if n % 2 == 0:
        return
    for name in case.path_parameters or {}:
        if name in KNOWN:
            case.path_parameters[name] = KNOWN[name]
    if isinstance(case.body, dict):
        for name in case.body:
            if name in KNOWN:
                case.body[name] = KNOWN[name]


def _fuzz(schema: Any, check: Callable[[Any, int], None]) -> tuple[int, list[str]]:
    """Every operation of the schema with EXAMPLES generated cases; returns (cases sent, failures).

    One hypothesis run per operation inside one test (schemathesis' lazy pytest loader fails under
    pytest 9), failures collected so that one run names them all."""
    sent, failures = 0, []
    for result in schema.get_all_operations():
        operation = result.ok()

        @FUZZ
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            nonlocal sent
            sent += 1
            _aim(case, sent)
            check(case, sent)

        try:
            run()
        except Exception as exc:  # hypothesis re-raises the minimal failing example's error
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:2000]}")
    return sent, failures


def test_no_rest_request_causes_a_server_error_or_breaks_its_schema(fuzzed: Server) -> None:
    def check(case: Any, n: int) -> None:
        case.call_and_validate(
            headers=_headers(_role_for(case.path)),
            # the answer's status, content type and body are each the ones documented (issue 21)
            checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
            timeout=30,
        )

    sent, failures = _fuzz(schemathesis.openapi.from_url(f"{fuzzed.base_url}/openapi.json"), check)
    print(f"REST: {sent} requests fuzzed, log at {fuzzed.position()}")
    assert not failures, "\n\n".join(failures)
    # every fact the fuzzed commands recorded is one each read model can take
    fuzzed.container.engine.catch_up()
    assert {s["name"]: s["lag"] for s in fuzzed.container.engine.status() if s["lag"]} == {}


def test_no_graphql_query_causes_a_server_error(fuzzed: Server) -> None:
    def check(case: Any, n: int) -> None:
        response = case.call(headers=_headers(ROLES[n % len(ROLES)]), timeout=30)
        assert response.status_code < 500, response.text
        for error in response.json().get("errors") or []:
            # expected errors carry a code (interfaces/graphql/common.py) or are validation errors (no
            # path); an exception escaping a resolver has a path and no code
            assert "code" in (error.get("extensions") or {}) or not error.get("path"), (case.body, error)

    fuzzed.container.engine.catch_up()  # the read models hold what the REST fuzzing wrote
    sent, failures = _fuzz(schemathesis.graphql.from_url(f"{fuzzed.base_url}/graphql"), check)
    print(f"GraphQL: {sent} queries fuzzed")
    assert not failures, "\n\n".join(failures)
