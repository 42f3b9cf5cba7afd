"""The process catalogue, guidance (智能引导) and smart forms (智能表单) through real HTTP and GraphQL,
on SQLite and PostgreSQL: refusals name the rule as problem+json, the guidance follows the
situations, a form for three items gives three cases with one parallel id, a case pins its version."""

from __future__ import annotations

import copy
import os
import subprocess
from typing import Any
from uuid import UUID

import httpx

from application.bootstrap import bootstrap
from domain.catalog.seed import seed_definition
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import Server, auth, project_body
from tests.e2e.test_cli import CLI, SCRATCH

ADMIN = auth("admin", org="460000-admin", region="460000")
APPLICANT = auth("applicant")
CLERK = auth("window_clerk", org="460100-zwfw")


def new_project(http: httpx.Client) -> str:
    body = project_body(region_code="460108")
    response = http.post("/api/v1/projects", json=body, headers=APPLICANT)
    assert response.status_code == 201, response.text
    return str(body["code"])


def graphql(http: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    response = http.post("/graphql", json={"query": query, "variables": variables}, headers=APPLICANT)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


def publication(version: str = "2.0", **stage_limits: int) -> dict[str, Any]:
    definition = copy.deepcopy(seed_definition(3))
    definition["version"] = version
    for stage in definition["stages"]:
        stage["limit_days"] = stage_limits.get(f"s{stage['stage']}", stage["limit_days"])
    item = next(i for i in definition["items"] if i["code"] == "GJ-1-02")
    item.update(version="1.1", promised_limit_days=3)
    return {"region_code": "460000", "flow_type": 3, "definition": definition}


def test_bad_catalogue_changes_are_422_naming_the_rule_and_only_admin_publishes(client: httpx.Client) -> None:
    r = client.post("/api/v1/catalogue/flows", json=publication(s2=60), headers=ADMIN)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"] == [
        {"loc": ["body", "definition", "stages", "1", "limit_days"], "msg": r.json()["errors"][0]["msg"], "type": "R4"}
    ]
    county = {**publication(), "region_code": "460106"}
    r = client.post("/api/v1/catalogue/flows", json=county, headers=ADMIN)
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "R6"
    cyclic = publication()
    next(i for i in cyclic["definition"]["items"] if i["code"] == "GJ-1-02")["prerequisites"] = ["GJ-1-03"]
    r = client.post("/api/v1/catalogue/flows", json=cyclic, headers=ADMIN)
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "prerequisite_cycle"
    assert "GJ-1-02 → GJ-1-03 → GJ-1-02" in r.json()["errors"][0]["msg"]
    assert client.post("/api/v1/catalogue/flows", json=publication(), headers=CLERK).status_code == 403


def test_a_case_keeps_its_version_after_a_new_one_is_published(client: httpx.Client, server: Server) -> None:
    project = new_project(client)
    old = client.post("/api/v1/cases", json={"project_code": project, "item_code": "GJ-1-02"}, headers=CLERK)
    assert old.status_code == 201, old.text
    # Step: version 2.0 of the province's flow; the catalogue reads it back with the seed.
    published = client.post("/api/v1/catalogue/flows", json=publication(), headers=ADMIN)
    assert published.status_code == 201, published.text
    new = client.post(
        "/api/v1/cases", json={"project_code": project, "item_code": "GJ-1-02", "item_version": "1.0"}, headers=CLERK
    )
    assert new.status_code == 422 and new.json()["errors"][0]["type"] == "R1"
    new = client.post("/api/v1/cases", json={"project_code": project, "item_code": "GJ-1-02"}, headers=CLERK)
    for case in (old, new):
        assert client.post(f"/api/v1/cases/{case.json()['id']}/accept", json={}, headers=CLERK).status_code == 200
    limits = [server.container.cases.get(UUID(case.json()["id"])).limit_days for case in (old, new)]
    assert limits == [5, 3]
    server.container.engine.catch_up(["process_catalogue"])
    data = graphql(
        client,
        "query { catalogue(flowType: 3) { code latestVersion recorded versions }"
        ' v1: flow(code: "GJ-LC-03", version: "1.0") { version items { code version promisedLimitDays } } }',
    )
    assert {"code": "GJ-LC-03", "latestVersion": "2.0", "recorded": True, "versions": ["1.0", "2.0"]} in data[
        "catalogue"
    ]
    assert {"code": "GJ-1-02", "version": "1.0", "promisedLimitDays": 5} in data["v1"]["items"]


def test_guidance_follows_the_situations_over_rest_and_graphql(client: httpx.Client) -> None:
    project = new_project(client)
    plain = client.get("/api/v1/guidance", params={"project_code": project}, headers=APPLICANT)
    both = client.get(
        "/api/v1/guidance", params={"project_code": project, "situations": "special_fire,farmland"}, headers=APPLICANT
    )
    assert plain.status_code == both.status_code == 200, plain.text
    items = lambda g: [i["code"] for s in g["stages"] for i in s["items"]]  # noqa: E731
    assert "GJ-3-02" in items(both.json()) and "GJ-3-02" not in items(plain.json())
    assert both.json()["materials_total"] > plain.json()["materials_total"]
    assert plain.json()["materials_saved"] >= 1  # the internally shared ones
    bad = client.get("/api/v1/guidance", params={"project_code": project, "situations": "nope"}, headers=APPLICANT)
    assert bad.status_code == 422 and bad.json()["errors"][0]["type"] == "situation_unknown"
    stranger = auth("applicant", org="91460100MA5T0P3X6X")
    assert client.get("/api/v1/guidance", params={"project_code": project}, headers=stranger).status_code == 403
    data = graphql(
        client,
        'query($p: String!) { guidance(projectCode: $p, situations: ["special_fire"]) { flowVersion materialsSaved'
        " stages { stage items { code materials { code needed reason } } } } }",
        p=project,
    )
    codes = [i["code"] for s in data["guidance"]["stages"] for i in s["items"]]
    assert "GJ-4-02" in codes and data["guidance"]["flowVersion"] == "1.0"


def test_a_form_for_three_items_asks_shared_fields_once_and_makes_three_cases(client: httpx.Client) -> None:
    project = new_project(client)
    utilities = ["GJ-5-01", "GJ-5-02", "GJ-5-03"]
    form = client.get("/api/v1/forms", params={"project_code": project, "item_codes": utilities}, headers=APPLICANT)
    assert form.status_code == 200, form.text
    schema = form.json()["schema"]
    assert schema["properties"]["contact_phone"]["x-items"] == utilities
    assert schema["properties"]["project_name"]["default"] == "海口市测试安置房项目"
    values = {name: prop.get("default") for name, prop in schema["properties"].items()}
    values.update(location="海口市美兰区", contact_person="王工", contact_phone="0898-66660000")
    values.update(water_demand=120, power_capacity=2500, gas_demand=40)
    body = {"project_code": project, "item_codes": utilities, "values": {**values, "power_capacity": -1}}
    bad = client.post("/api/v1/forms", json=body, headers=APPLICANT)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "values", "power_capacity"]
    assert bad.json()["errors"][0]["type"] == "form_minimum"
    done = client.post("/api/v1/forms", json={**body, "values": values}, headers=APPLICANT)
    assert done.status_code == 201, done.text
    result = done.json()
    assert [c["item_code"] for c in result["cases"]] == utilities and result["position"] > 0
    again = client.post("/api/v1/forms", json={**body, "values": values}, headers=APPLICANT)
    assert again.json()["parallel_application_id"] != result["parallel_application_id"]  # no key: a new application


def test_the_seed_command_records_each_provincial_flow_once(store_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGJIAN_") or k in SCRATCH}
    env["GONGJIAN_DATABASE_URL"] = store_url
    # a store other than the embedded default is production: no development secrets
    env["GONGJIAN_JWT_SECRET"] = "a-production-secret-of-at-least-32-chars!"
    env["GONGJIAN_KEYSTORE_PASSPHRASE"] = "a-production-keystore-passphrase"
    first = subprocess.run([*CLI, "catalogue", "seed"], env=env, capture_output=True, text=True, check=True)
    assert "10 flows recorded" in first.stdout
    again = subprocess.run([*CLI, "catalogue", "seed"], env=env, capture_output=True, text=True, check=True)
    assert "every seed flow is recorded" in again.stdout
    container = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET))
    try:
        process = container.catalogue.pins.process("GJ-LC-05")
        assert process is not None and process.definition_at("1.0") == seed_definition(5)
    finally:
        container.close()
