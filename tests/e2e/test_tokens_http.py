"""Tokens over HTTP in production mode (PostgreSQL, a JWKS file, HS256 off): RS256 tokens of the key
set work for REST and GraphQL; forged, expired and development tokens are 401 problem+json."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from application.bootstrap import bootstrap
from infrastructure.settings import DEV_SECRET, Settings
from infrastructure.tokens import issue
from tests.e2e.conftest import OWNER_USCC, project_body, serving
from tests.unit.test_tokens import RSA_KEY, _claims, _forged, _jwks

ME = "{ projects { totalCount } }"


@pytest.fixture
def production(pg_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    settings = Settings(
        database_url=pg_url, jwt_secret="", jwt_jwks_file=_jwks(tmp_path / "jwks.json", ("k1", RSA_KEY))
    )
    container = bootstrap(settings)
    try:
        with serving(container) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
            yield client
    finally:
        container.close()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _rs256(**overrides: object) -> str:
    claims = _claims(role="applicant", org=OWNER_USCC, region="460100", **overrides)
    return jwt.encode(claims, RSA_KEY, algorithm="RS256", headers={"kid": "k1"})


def test_an_rs256_token_of_the_key_set_works_for_rest_and_graphql(production: httpx.Client) -> None:
    created = production.post("/api/v1/projects", json=project_body(), headers=_bearer(_rs256()))
    assert created.status_code == 201, created.text
    read = production.post("/graphql", json={"query": ME}, headers=_bearer(_rs256()))
    assert "errors" not in read.json() and read.json()["data"]["projects"]["totalCount"] >= 0


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: issue(DEV_SECRET, "dev", "applicant", OWNER_USCC, "460100"), id="development-key"),
        pytest.param(lambda: _rs256(exp=int(time.time()) - 120), id="expired"),
        pytest.param(lambda: _rs256(nbf=int(time.time()) + 600), id="not-yet-valid"),
        pytest.param(
            lambda: _forged({"alg": "none", "kid": "k1"}, _claims(role="admin", region="460000"), None), id="alg-none"
        ),
    ],
)
def test_other_tokens_are_401_and_write_nothing(production: httpx.Client, token: object) -> None:
    value = token()  # type: ignore[operator]
    refused = production.post("/api/v1/projects", json=project_body(), headers=_bearer(value))
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["www-authenticate"] == "Bearer"
    graphql = production.post("/graphql", json={"query": ME}, headers=_bearer(value)).json()
    assert graphql["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert production.get("/health").json()["position"] == 0
