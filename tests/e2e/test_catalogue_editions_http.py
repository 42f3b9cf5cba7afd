"""事项库 as data through a real HTTP server (SQLite and PostgreSQL): an administrator publishes an edition
that adds an item handled by a department found only in Sanya, a new licence type with its topic
fields and Sanya's flow with the new item; guidance for a project in Sanya lists the item and its
materials and the smart form its field, a case for it runs to approval, the licence of the new type
is issued with its topic fields, a decision on it entered afterwards raises W2, the SPGL export carries
its national code, and the same item for a Haikou project is a clear 422. Bad files are refused row by row and
record nothing; the same file again is a 409."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from application.bootstrap import bootstrap
from application.policy import LICENCE_ISSUER
from demo.data import HAINAN_CATALOGUE
from domain.catalog import CATALOG, SEED_CATALOG, reset_to_seed
from domain.catalog.catalog import seed_tables
from domain.catalog.publication import CATALOGUE_ID
from domain.exchange import spgl
from domain.shared.codes import uscc_check_char
from infrastructure.catalogue_files import read_tables
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import OWNER_USCC, Server, auth, problem_of, project_body, serving
from tests.integration.test_spgl_exchange import NATIONAL

ADMIN = auth("admin", org="460000-admin", region="460000")
APPLICANT = auth("applicant")
SANYA_CLERK = auth("window_clerk", org="460200-zwfw", region="460200")
SANYA_APPROVER = auth("approver", org="460200-hyj", region="460200")
HAIKOU_CLERK = auth("window_clerk", org="460100-zwfw")
HYJ_USCC = "11460200MB0765432" + uscc_check_char("11460200MB0765432")  # 三亚市海洋局 (made up, check char valid)
NEW_ITEM = "GJ-2-09"
SEA_TYPE = "sea_use_certificate"


@pytest.fixture
def server(store_url: str, tmp_path: Path) -> Iterator[Server]:
    settings = Settings(database_url=store_url, jwt_secret=JWT_SECRET, keystore_path=str(tmp_path / "keys"))
    container = bootstrap(settings)
    container.engine.start()  # guidance reads the licence library: caught up before it answers
    try:
        with serving(container) as base_url:
            yield Server(base_url, container)
    finally:
        container.close()
        reset_to_seed()  # the next test's store starts from the packaged seed


def edition() -> dict[str, list[dict[str, Any]]]:
    """The packaged seed file plus: 海洋局 only in Sanya, the 海域使用权证书 type, item GJ-2-09, Sanya's flow."""
    tables = copy.deepcopy(seed_tables())
    tables["edition"] = [{"key": "version", "value": "2027.01-1"}, {"key": "title", "value": "e2e"}]
    tables["departments"].append(
        {"code": "hyj", "region_code": "460200", "name": "三亚市海洋局", "uscc": HYJ_USCC, "kind": "government"}
    )
    tables["licence_types"].append({"code": SEA_TYPE, "name": "海域使用权证书", "basis": "海域使用管理法 第十九条"})
    tables["licence_fields"].append(
        {"licence_type": SEA_TYPE, "name": "sea_area", "label": "用海面积（公顷）", "kind": "area", "required": "yes"}
    )
    tables["items"].append(
        {
            "code": NEW_ITEM,
            "national_code": "000131001000",
            "name": "海域使用权审批",
            "stage": "2",
            "department": "hyj",
            "category": "用海",
            "legal_basis": "海域使用管理法 第十六条",
            "legal_limit_days": "20",
            "promised_limit_days": "10",
            "milestone": "no",
            "licence_type": SEA_TYPE,
        }
    )
    tables["situations"].append({"item_code": NEW_ITEM, "code": "reclaim", "name": "围填海"})
    tables["materials"] += [
        {"item_code": NEW_ITEM, "code": "M-2-09-01", "name": "海域使用申请书", "class": "applicant"},
        {"item_code": NEW_ITEM, "code": "M-2-09-02", "name": "海域使用论证报告", "class": "intermediary"},
        {
            "item_code": NEW_ITEM,
            "code": "M-2-09-03",
            "name": "围填海项目审查意见",
            "class": "applicant",
            "situations": "reclaim",
        },
    ]
    tables["form_fields"].append(
        {"item_code": NEW_ITEM, "name": "sea_area", "label": "用海面积（公顷）", "type": "number", "required": "yes"}
    )
    items = ";".join([*SEED_CATALOG.items, NEW_ITEM])
    tables["flows"] = [
        {"flow_type": "3", "region_code": "460200", "items": items},
        {"flow_type": "3", "region_code": "460000", "items": items},  # the province's too: Haikou may ask
    ]
    return tables


def project(http: httpx.Client, region: str) -> str:
    code = f"2611-{region[:4]}00-04-01-{random.randrange(10**6):06d}"
    body = project_body(code=code, region_code=region, name="三亚测试用海项目")
    r = http.post("/api/v1/projects", json=body, headers=APPLICANT)
    assert r.status_code == 201, r.text
    return code


def test_an_edition_over_rest_drives_guidance_forms_a_case_a_licence_a_warning_and_the_export(server: Server) -> None:
    with server.client() as http:
        # Step: only an administrator publishes; a bad file is 422 with every bad row, and records nothing.
        assert (
            http.post("/api/v1/catalogue/editions", json={"tables": edition()}, headers=SANYA_CLERK).status_code == 403
        )
        bad = edition()
        bad["items"][-1]["promised_limit_days"] = "30"  # over the legal 20
        bad["materials"][-1]["situations"] = "dredge"  # not a situation of the item
        before = server.position()
        problem = problem_of(http.post("/api/v1/catalogue/editions", json={"tables": bad}, headers=ADMIN), 422)
        assert [(e["path"], e["row"], e["type"]) for e in problem["errors"]] == [
            (
                f"tables.items[{len(bad['items']) - 1}].promised_limit_days",
                len(bad["items"]) + 1,
                "promised_over_legal",
            ),
            (
                f"tables.materials[{len(bad['materials']) - 1}].situations",
                len(bad["materials"]) + 1,
                "situation_unknown",
            ),
        ]
        assert server.position() == before and NEW_ITEM not in CATALOG.items
        # Step: the good file is published with its flows in one save; the same file again is a 409.
        r = http.post("/api/v1/catalogue/editions", json={"tables": edition(), "file_name": "e2e.json"}, headers=ADMIN)
        assert r.status_code == 201, r.text
        assert r.json()["version"] == "2027.01-1"
        assert {(f["code"], f["version"]) for f in r.json()["flows"]} == {
            ("GJ-LC-03-460200", "1.0"),
            ("GJ-LC-03", "2.0"),
        }
        problem_of(http.post("/api/v1/catalogue/editions", json={"tables": edition()}, headers=ADMIN), 409)
        # Step: guidance for a Sanya project lists the new item with its materials for the situation.
        sanya = project(http, "460202")
        g = http.get("/api/v1/guidance", params={"project_code": sanya, "situations": "reclaim"}, headers=APPLICANT)
        assert g.status_code == 200, g.text
        [item] = [i for s in g.json()["stages"] for i in s["items"] if i["code"] == NEW_ITEM]
        assert [m["code"] for m in item["materials"]] == ["M-2-09-01", "M-2-09-02", "M-2-09-03"]
        # Step: the smart form asks the new item's own field.
        f = http.get("/api/v1/forms", params={"project_code": sanya, "item_codes": [NEW_ITEM]}, headers=APPLICANT)
        assert f.status_code == 200, f.text
        assert "sea_area" in f.json()["schema"]["properties"], f.text
        # Step: a case for it is received, accepted and approved by Sanya's 海洋局.
        r = http.post("/api/v1/cases", json={"project_code": sanya, "item_code": NEW_ITEM}, headers=SANYA_CLERK)
        assert r.status_code == 201, r.text
        case_id = r.json()["id"]
        assert http.post(f"/api/v1/cases/{case_id}/accept", json={}, headers=SANYA_CLERK).status_code == 200
        number = "琼三亚海域[2027]1号"
        r = http.post(f"/api/v1/cases/{case_id}/approve", json={"document_number": number}, headers=SANYA_APPROVER)
        assert r.status_code == 200, r.text
        assert server.container.engine.wait_for(server.position(), timeout=30)
        case = graphql(http, "query($id: ID!) { case(id: $id) { departmentName status { code } } }", id=case_id)
        assert case["case"]["departmentName"] == "三亚市海洋局" and case["case"]["status"]["code"] == 11
        # Step: the licence of the new type is issued with its topic fields, checked against the edition's.
        seal = register_seal(http)
        licence = licence_body(sanya, case_id, number, seal)
        missing = http.post(
            "/api/v1/licenses", json={**licence, "topic": {"project_name": "x"}}, headers=SANYA_APPROVER
        )
        assert problem_of(missing, 422)["errors"][0]["loc"] == ["body", "topic", "sea_area"]
        r = http.post("/api/v1/licenses", json=licence, headers=SANYA_APPROVER)
        assert r.status_code == 201, r.text
        assert server.container.licences.get(number).content()["topic"]["sea_area"] == "12.5"
        # Step: a decision on it taken outside the system and entered afterwards is a W2 warning.
        late = project(http, "460202")
        entry = {"project_code": late, "item_code": NEW_ITEM, "decision": "approved", "reason": "系统停机期间线下办理",
                 "decided_at": "2026-11-02T10:00:00+08:00", "document_number": "琼三亚海域[2026]9号"}  # fmt: skip
        r = http.post("/api/v1/cases/offline-entries", json=entry, headers=SANYA_APPROVER)
        assert r.status_code == 201, r.text
        assert server.container.engine.wait_for(server.position(), timeout=30)
        query = "query($p: String) { warnings(filter: {projectCode: $p}) { edges { node { rule reason } } } }"
        found = graphql(http, query, p=late)["warnings"]["edges"]
        assert "W2.back_entry" in {e["node"]["reason"] for e in found}, found  # (W3, W8 too: no acceptance, same name)
        # Step: the SPGL export carries the item with the national code the edition gave it.
        rows = server.container.spgl.export(NATIONAL)
        mine = [r for r in rows[spgl.STAGE_ITEM] if r["SPSXBM"] == NEW_ITEM]
        assert mine and {r["DYBZSPSXBM"] for r in mine} == {"000131001000"}
        assert any(r["SPSXBM"] == NEW_ITEM for r in rows[spgl.CASE])
        # Step: the same item for a Haikou project is refused: no 海洋局 in Haikou or above it.
        haikou = project(http, "460106")
        r = http.post("/api/v1/cases", json={"project_code": haikou, "item_code": NEW_ITEM}, headers=HAIKOU_CLERK)
        refused = problem_of(r, 422)
        assert refused["errors"][0]["type"] == "department_unavailable" and "460106" in refused["detail"]


def test_the_runner_and_a_fresh_process_put_the_published_edition_in_force(server: Server) -> None:
    with server.client() as http:
        r = http.post("/api/v1/catalogue/editions", json={"tables": edition()}, headers=ADMIN)
        assert r.status_code == 201, r.text
    engine = server.container.engine
    engine.stop()  # this test drives the engine itself
    # a process that has not met the edition: the runner puts it in force as it reads the event
    reset_to_seed()
    assert NEW_ITEM not in CATALOG.items
    engine.read(0, 10_000)
    assert CATALOG.version == "2027.01-1" and NEW_ITEM in CATALOG.items
    # an API worker that did not publish it finds the edition in the log when a case asks for its item
    reset_to_seed()
    with server.client() as http:
        sanya = project(http, "460203")
        r = http.post("/api/v1/cases", json={"project_code": sanya, "item_code": NEW_ITEM}, headers=SANYA_CLERK)
        assert r.status_code == 201, r.text
    # a rebuild reads it too, and a new process finds it in the log at start
    reset_to_seed()
    engine.rebuild("process_catalogue")
    assert NEW_ITEM in CATALOG.items
    reset_to_seed()
    other = bootstrap(server.container.settings)
    try:
        assert CATALOG.department_for(NEW_ITEM, "460203") is not None
        assert other.catalogue_editions.latest() is not None and other.catalogue_editions.latest().id == CATALOGUE_ID
    finally:
        other.close()


def register_seal(http: httpx.Client) -> str:
    now = datetime.now(UTC)
    body = {
        "holder_org": "460200-hyj",
        "name": "三亚市海洋局行政审批专用章",
        "purpose": "licence",
        "valid_from": (now - timedelta(days=1)).isoformat(),
        "valid_until": (now + timedelta(days=365)).isoformat(),
        "signers": ["approver-1", LICENCE_ISSUER.actor_id],
    }
    r = http.post("/api/v1/seals", json=body, headers=ADMIN)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def licence_body(project_code: str, case_id: str, number: str, seal_id: str) -> dict[str, Any]:
    return {
        "number": number,
        "licence_type": SEA_TYPE,
        "holder_name": "海南测试建设有限公司",
        "holder_uscc": OWNER_USCC,
        "project_code": project_code,
        "item_code": NEW_ITEM,
        "region_code": "460202",
        "valid_from": date.today().isoformat(),
        "topic": {"project_name": "三亚测试用海项目", "sea_area": "12.50"},
        "case_id": case_id,
        "seal_id": seal_id,
    }


def graphql(http: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    r = http.post("/graphql", json={"query": query, "variables": variables}, headers=ADMIN)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body
    return dict(body["data"])


def test_a_park_of_the_province_file_hosts_projects_under_its_own_bureau(server: Server) -> None:
    """The province's file adds 洋浦经济开发区 (a park with approval powers, our code under 儋州): a
    project is generated in it, its case is handled by the park's 规划建设局, its statistics count with
    儋州, and the national tables carry 儋州's GB/T 2260 code."""
    tables = read_tables(HAINAN_CATALOGUE)
    [park] = [r for r in tables["regions"] if r["level"] == "park"]
    [bureau] = [d for d in tables["departments"] if d["region_code"] == park["code"]]
    [flow] = [f for f in tables["flows"] if f["flow_type"] == "3" and f["region_code"] == "460000"]
    item = next(
        i["code"] for i in tables["items"]
        if i["department"] == bureau["code"] and not i["prerequisites"] and i["code"] in flow["items"].split(";")
    )  # fmt: skip
    clerk = auth("window_clerk", org=f"{park['code']}-zwfw", region=park["code"])
    with server.client() as http:
        r = http.post("/api/v1/catalogue/editions", json={"tables": tables, "file_name": "hainan"}, headers=ADMIN)
        assert r.status_code == 201, r.text
        code = f"2611-{park['parent_code']}-04-01-{random.randrange(10**6):06d}"
        body = project_body(code=code, region_code=park["code"], name="洋浦测试仓储项目")
        r = http.post("/api/v1/projects", json=body, headers=APPLICANT)
        assert r.status_code == 201, r.text
        r = http.post("/api/v1/cases", json={"project_code": code, "item_code": item}, headers=clerk)
        assert r.status_code == 201, r.text
        case_id = r.json()["id"]
        assert server.container.engine.wait_for(server.position(), timeout=30)
        case = graphql(http, "query($id: ID!) { case(id: $id) { departmentName } }", id=case_id)
        assert case["case"]["departmentName"] == bureau["name"]
        groups = graphql(http, "{ statistics(groupBy: REGION) { key received } }")["statistics"]
        assert {g["key"]: g["received"] for g in groups}.get(park["parent_code"]) == 1
    rows = server.container.spgl.export(NATIONAL)
    [project_row] = [r for r in rows[spgl.PROJECT] if r["XMDM"] == code]
    [case_row] = [r for r in rows[spgl.CASE] if r["SPSXSLBM"] == case_id]
    assert project_row["XZQHDM"] == case_row["XZQHDM"] == park["parent_code"]
