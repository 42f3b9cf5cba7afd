"""Hostile input over HTTP (issue 21): JSON nested thousands of levels deep, lone surrogates, `atLeast`
far past the log, LIKE wildcards in filters, and text or dates no record should hold. Each is answered
with a code (a GraphQL `extensions.code`, or problem+json naming the field and the rule), never a 500."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from application.bootstrap import bootstrap
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import Server, auth, problem_of, project_body, serving

WAIT_TIMEOUT_S = 60.0  # long, so that an answer well before it cannot be the wait running out
PROJECTS = (
    "query($f: ProjectFilter, $at: Int) { projects(filter: $f, atLeast: $at, first: 100) { edges { node { name } } } }"
)
ANALYST = auth("analyst", region="460000")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    url = f"sqlite:///{tmp_path_factory.mktemp('hygiene')}/gongjian.db"
    container = bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET, wait_timeout_s=WAIT_TIMEOUT_S))
    try:
        with serving(container) as base_url, httpx.Client(base_url=base_url, timeout=2 * WAIT_TIMEOUT_S) as c:
            yield c
    finally:
        container.close()


def _codes(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [e.get("extensions", {}).get("code") for e in r.json()["errors"]]


# --- JSON depth ------------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [3_000, 10_000, 100_000])
def test_graphql_variables_nested_thousands_deep_are_refused_with_400_problem_json(
    client: httpx.Client, levels: int
) -> None:
    body = '{"query": "query($f: ProjectFilter) { projects(filter: $f) { totalCount } }", "variables": {"f": '
    body += "[" * levels + "]" * levels + "}}"
    r = client.post("/graphql", content=body, headers={**ANALYST, "content-type": "application/json"})
    assert problem_of(r, 400)["type"].endswith("/too-deep")


def test_unclosed_nesting_and_variables_in_a_query_string_are_refused_too(client: httpx.Client) -> None:
    r = client.post(
        "/graphql", content=b'{"variables": ' + b"{" * 50_000, headers={**ANALYST, "content-type": "application/json"}
    )
    assert problem_of(r, 400)["type"].endswith("/too-deep")
    params = {"query": "query($f: ProjectFilter) { projects(filter: $f) { totalCount } }", "variables": "[" * 5000}
    assert problem_of(client.get("/graphql", params=params, headers=ANALYST), 400)["type"].endswith("/too-deep")


def test_a_rest_body_nested_thousands_deep_is_refused_with_400_problem_json(client: httpx.Client) -> None:
    materials = '{"a": ' * 3000 + "1" + "}" * 3000
    body = '{"project_code": "x", "item_code": "y", "materials": [' + materials + "]}"
    r = client.post("/api/v1/cases", content=body, headers={**auth("window_clerk"), "content-type": "application/json"})
    assert problem_of(r, 400)["type"].endswith("/too-deep")


@pytest.mark.parametrize("levels", [3_000, 10_000])
def test_a_graphql_literal_nested_thousands_deep_is_a_coded_parse_error(client: httpx.Client, levels: int) -> None:
    query = "{ projects(filter: " + "{a: " * levels + "1" + "}" * levels + ") { totalCount } }"
    assert _codes(client.post("/graphql", json={"query": query}, headers=ANALYST)) == ["GRAPHQL_PARSE_FAILED"]


def test_shallow_bodies_still_reach_graphql(client: httpx.Client) -> None:
    r = client.post("/graphql", json={"query": PROJECTS, "variables": {"f": {"nameContains": "海口"}}}, headers=ANALYST)
    assert r.status_code == 200 and "errors" not in r.json(), r.text


# --- GraphQL strings and atLeast -------------------------------------------------------------


def test_a_lone_surrogate_in_a_graphql_variable_is_a_coded_error(client: httpx.Client) -> None:
    # json.dumps writes the lone surrogate as the escape \ud800, as a hostile client would
    body = json.dumps({"query": PROJECTS, "variables": {"f": {"nameContains": "海\ud800口"}}})
    r = client.post("/graphql", content=body, headers={**ANALYST, "content-type": "application/json"})
    (error,) = r.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "status": 422, "rule": "lone_surrogate"}
    assert r.json()["data"] is None


@pytest.mark.parametrize("escape", ["\\\\ud800", "\\ud800"], ids=["graphql-escape", "raw-in-query-text"])
def test_a_lone_surrogate_in_a_graphql_literal_is_a_coded_parse_error(client: httpx.Client, escape: str) -> None:
    # the GraphQL escape \ud800 in the query text, or a raw lone surrogate (JSON's escape) in it
    body = '{"query": "{ projects(filter: {nameContains: \\"a' + escape + '\\"}) { totalCount } }"}'
    r = client.post("/graphql", content=body, headers={**ANALYST, "content-type": "application/json"})
    assert _codes(r) == ["GRAPHQL_PARSE_FAILED"]


@pytest.mark.parametrize(("char", "rule"), [("\u202e", "bidi_control"), ("\x07", "control_character")])
def test_forbidden_code_points_in_graphql_arguments_are_coded_errors(
    client: httpx.Client, char: str, rule: str
) -> None:
    as_variable = {"query": PROJECTS, "variables": {"f": {"nameContains": f"海{char}口"}}}
    as_literal = {"query": '{ projects(filter: {nameContains: "海' + char + '口"}) { totalCount } }'}
    for body in (as_variable, as_literal):
        r = client.post("/graphql", json=body, headers=ANALYST)
        assert [e["extensions"]["rule"] for e in r.json()["errors"]] == [rule], r.text


def test_at_least_far_past_the_log_answers_at_once_with_a_coded_error(client: httpx.Client) -> None:
    started = time.monotonic()
    r = client.post("/graphql", json={"query": PROJECTS, "variables": {"at": 2_147_483_647}}, headers=ANALYST)
    elapsed = time.monotonic() - started
    assert _codes(r) == ["BAD_USER_INPUT"]
    assert elapsed < WAIT_TIMEOUT_S / 2  # it did not wait for the position (the wait would last 60 s)


# --- LIKE wildcards ----------------------------------------------------------------------------


def test_name_contains_matches_percent_and_underscore_literally(server: Server) -> None:
    server.container.engine.start()
    names = ["海口100%安置房", "三亚_一期工程", "儋州市普通项目", "文昌市学校项目"]
    with server.client() as c:
        positions = []
        for name in names:
            r = c.post("/api/v1/projects", json=project_body(name=name), headers=auth("applicant"))
            assert r.status_code == 201, r.text
            positions.append(r.json()["position"])
        for fragment in ("%", "_", "项目"):
            variables = {"f": {"nameContains": fragment}, "at": max(positions)}
            r = c.post("/graphql", json={"query": PROJECTS, "variables": variables}, headers=ANALYST)
            assert "errors" not in r.json(), r.text
            found = {e["node"]["name"] for e in r.json()["data"]["projects"]["edges"]}
            assert found == {n for n in names if fragment in n}, fragment


# --- text and dates in REST bodies -----------------------------------------------------------

FORBIDDEN_IN_A_NAME = [
    ("\x01", "control_character"),
    ("\x7f", "control_character"),
    ("\x85", "control_character"),
    ("\u202e", "bidi_control"),
    ("\u2066", "bidi_control"),
    ("\u200f", "bidi_control"),
    ("\ufffe", "noncharacter"),
    ("\ufdd0", "noncharacter"),
    ("\U0010ffff", "noncharacter"),
    ("\ud800", "lone_surrogate"),
    ("\t", "single_line"),
    ("\n", "single_line"),
    ("\r\n", "single_line"),
]


def _post(client: httpx.Client, path: str, body: dict[str, Any], role: str = "applicant") -> httpx.Response:
    # json.dumps escapes everything (a lone surrogate too) as \\uXXXX
    return client.post(path, content=json.dumps(body), headers={**auth(role), "content-type": "application/json"})


@pytest.mark.parametrize(("char", "rule"), FORBIDDEN_IN_A_NAME, ids=[r for _, r in FORBIDDEN_IN_A_NAME])
def test_a_project_name_with_a_forbidden_character_is_422_naming_the_field_and_rule(
    client: httpx.Client, char: str, rule: str
) -> None:
    problem = problem_of(_post(client, "/api/v1/projects", project_body(name=f"海口{char}项目")), 422)
    assert [(e["loc"], e["type"]) for e in problem["errors"]] == [(["body", "name"], rule)]


def test_a_nested_name_is_named_by_its_path(client: httpx.Client) -> None:
    owner = {"name": "海南\u202e建设有限公司", "uscc": "91460000MA5T0P3X64"}
    problem = problem_of(_post(client, "/api/v1/projects", project_body(owner=owner)), 422)
    assert [(e["loc"], e["type"]) for e in problem["errors"]] == [(["body", "owner", "name"], "bidi_control")]


def test_a_reason_is_multi_line_but_refuses_a_bare_carriage_return(client: httpx.Client) -> None:
    path = "/api/v1/licenses/NO-SUCH-LICENCE/revoke"
    accepted = _post(client, path, {"reason": "证照信息有误：\r\n\t1. 持证主体\n\t2. 有效期"}, role="admin")
    assert accepted.status_code == 404, accepted.text  # past validation: the licence is unknown
    problem = problem_of(_post(client, path, {"reason": "证照信息\r有误"}, role="admin"), 422)
    assert [(e["loc"], e["type"]) for e in problem["errors"]] == [(["body", "reason"], "bare_carriage_return")]


def test_free_text_anywhere_in_a_body_refuses_controls(client: httpx.Client) -> None:
    body = {"project_code": "x", "item_code": "y", "materials": [{"name": "附图\x1b[31m"}]}
    problem = problem_of(_post(client, "/api/v1/cases", body, role="window_clerk"), 422)
    assert (["body", "materials"], "control_character") in [(e["loc"], e["type"]) for e in problem["errors"]]


@pytest.mark.parametrize(
    ("path", "body", "loc", "role"),
    [
        (
            "/api/v1/inquiries",
            {"warning_ids": ["w"], "subject": "先批后录\u2067", "department": "zrzy", "reason": "补录"},
            ["body", "subject"],
            "accountability_officer",
        ),
        (
            "/api/v1/seals",
            {
                "holder_org": "460100-zjj",
                "name": "审批\u202d专用章",
                "purpose": "approval",
                "valid_from": "2026-01-01T00:00:00+08:00",
                "valid_until": "2027-01-01T00:00:00+08:00",
                "signers": ["a"],
            },
            ["body", "name"],
            "admin",
        ),
    ],
    ids=["inquiry-subject", "seal-name"],
)
def test_bidi_controls_are_refused_on_other_routers(
    client: httpx.Client, path: str, body: dict[str, Any], loc: list[str], role: str
) -> None:
    problem = problem_of(_post(client, path, body, role=role), 422)
    assert (loc, "bidi_control") in [(e["loc"], e["type"]) for e in problem["errors"]]


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"planned_start": "0001-01-01"}, ["body", "planned_start"]),
        ({"planned_start": "1949-09-30"}, ["body", "planned_start"]),
        ({"planned_end": "2101-01-01"}, ["body", "planned_end"]),
    ],
    ids=["year-1", "before-1949-10-01", "after-2100"],
)
def test_a_business_date_out_of_range_is_422_naming_the_field(
    client: httpx.Client, overrides: dict[str, str], loc: list[str]
) -> None:
    problem = problem_of(_post(client, "/api/v1/projects", project_body(**overrides)), 422)
    assert (loc, "date_out_of_range") in [(e["loc"], e["type"]) for e in problem["errors"]]


def test_business_dates_at_the_ends_of_the_range_are_accepted(client: httpx.Client) -> None:
    body = project_body(planned_start="1949-10-01", planned_end="2100-12-31")
    assert _post(client, "/api/v1/projects", body).status_code == 201


def test_a_business_time_out_of_range_is_422_naming_the_field(client: httpx.Client) -> None:
    body = {"project_code": "2611-460100-04-01-000001", "item_code": "GJ-1-02", "decision": "approved",
            "decided_at": "1900-01-01T00:00:00+08:00", "reason": "补录"}  # fmt: skip
    problem = problem_of(_post(client, "/api/v1/cases/offline-entries", body, role="window_clerk"), 422)
    assert (["body", "decided_at"], "date_out_of_range") in [(e["loc"], e["type"]) for e in problem["errors"]]


def test_a_client_error_is_logged_as_the_clients_with_its_hostile_text_escaped(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    # a raw lone surrogate in the query text: the parse error quotes it back
    body = '{"query": "{ projects(filter: {nameContains: \\"a\\ud800\\"}) { totalCount } }"}'
    with caplog.at_level(logging.INFO):
        r = client.post("/graphql", content=body, headers={**ANALYST, "content-type": "application/json"})
    assert _codes(r) == ["GRAPHQL_PARSE_FAILED"]
    mine = [rec for rec in caplog.records if rec.getMessage().startswith("GraphQL client error")]
    assert [rec.levelno for rec in mine] == [logging.INFO]
    assert "\\ud800" in mine[0].getMessage()
    mine[0].getMessage().encode("utf-8")  # a UTF-8 log file can hold it
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
