"""智能审批 (秒批) over HTTP, on SQLite and PostgreSQL: a rule-eligible case whose materials are all
shared data or valid licences is accepted and approved by the system in the request that receives
it, with the evidence, and raises no compressed-lifecycle warning (W3); when a rule fails, the case
stays received for a person and the evidence says why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from application.bootstrap import bootstrap
from domain.approvals import Case
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import OWNER_USCC, Server, auth, project_body, serving

DEPT = "460100-zrzy"
APPLICANT = auth("applicant")
CLERK = auth("window_clerk", org="460100-zwfw")
APPROVER = auth("approver", org=DEPT)
ADMIN = auth("admin", org="460000-admin", region="460000")
RED_LINE = {
    "type": "Polygon",
    "coordinates": [[[110.30, 20.02], [110.302, 20.02], [110.302, 20.022], [110.30, 20.022], [110.30, 20.02]]],
}
CASE_TIMELINE = """query($id: ID!) { case(id: $id) { status { code } timeline { eventType channel detail } } }"""
WARNINGS = """query($filter: WarningFilter) { warnings(filter: $filter) { edges { node { rule reason } } } }"""


@pytest.fixture
def rule_server(store_url: str, tmp_path: Path) -> Iterator[Server]:
    settings = Settings(database_url=store_url, jwt_secret=JWT_SECRET, keystore_path=str(tmp_path / "keys"))
    container = bootstrap(settings)
    try:
        with serving(container) as base_url:
            yield Server(base_url, container)
    finally:
        container.close()


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


def project_with_site_selection(
    http: httpx.Client,
    *,
    mode: str | None = "transfer",
    valid_until: date | None = None,
    investment: str = "enterprise",
    red_line: dict[str, Any] | None = RED_LINE,
    **declared: str,
) -> tuple[str, str]:
    """A project whose land was supplied (unless `mode` is None), GJ-1-02 approved and its
    site-selection opinion issued; `declared`: what it declares it will build (land use, plot ratio…)."""
    body = project_body(region_code="460106", red_line=red_line, investment_type=investment, **declared)
    code = body["code"]
    ok(http.post("/api/v1/projects", json=body, headers=APPLICANT), 201)
    if mode is not None:
        land = {"mode": mode, "red_line": red_line, "supplied_on": "2026-05-01"}
        if mode == "transfer":
            land["contract_number"] = f"HT-{code[-6:]}"
        ok(http.post(f"/api/v1/projects/{code}/land-supply", json=land, headers=APPROVER))
    case_id = ok(http.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-02"}, headers=CLERK), 201)
    ok(http.post(f"/api/v1/cases/{case_id['id']}/accept", json={}, headers=CLERK))
    number = f"琼选字{code[-6:]}"
    ok(http.post(f"/api/v1/cases/{case_id['id']}/approve", json={"document_number": number}, headers=APPROVER))
    now = datetime.now(UTC)
    seal = {
        "holder_org": DEPT,
        "name": "海口市自然资源和规划局行政审批专用章",
        "purpose": "licence",
        "valid_from": (now - timedelta(days=1)).isoformat(),
        "valid_until": (now + timedelta(days=365)).isoformat(),
        "signers": ["approver-1"],
    }
    seal_id = ok(http.post("/api/v1/seals", json=seal, headers=ADMIN), 201)["id"]
    today = date.today()
    licence = {
        "number": number,
        "licence_type": "site_selection_opinion",
        "holder_name": "海南测试建设有限公司",
        "holder_uscc": OWNER_USCC,
        "project_code": code,
        "item_code": "GJ-1-02",
        "case_id": case_id["id"],
        "region_code": "460106",
        "valid_from": (today - timedelta(days=30)).isoformat(),
        "valid_until": (valid_until or today + timedelta(days=365)).isoformat(),
        "topic": {"project_name": body["name"], "land_area": "40000"},
        "seal_id": seal_id,
    }
    ok(http.post("/api/v1/licenses", json=licence, headers=APPROVER), 201)
    return code, number


def warnings_of(http: httpx.Client, server: Server, case_id: str) -> list[dict[str, Any]]:
    server.container.engine.catch_up()
    query = {"query": WARNINGS, "variables": {"filter": {"caseId": case_id}}}
    body = ok(http.post("/graphql", json=query, headers=ADMIN))
    assert "errors" not in body, body
    return [e["node"] for e in body["data"]["warnings"]["edges"]]


def test_an_eligible_case_is_approved_by_rule_in_the_same_request_with_evidence_and_no_w3(
    rule_server: Server,
) -> None:
    with rule_server.client() as http:
        # Step: everything GJ-1-03 needs is on record: transfer contract, site-selection opinion.
        code, number = project_with_site_selection(http)
        # Step: the applicant submits; the answer already says approved (BLZT 11).
        result = ok(
            http.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-03"}, headers=APPLICANT), 201
        )
        assert result["status_code"] == 11
        evidence = result["rule_approval"]
        assert evidence["passed"] is True
        assert (evidence["conflicts"], evidence["missing_inputs"]) == ([], [])
        assert {r["name"]: r["passed"] for r in evidence["rules"]} == {
            "land_transferred": True,
            "enterprise_investment": True,
            "prerequisites_decided": True,
            "site_selection_valid": True,
        }
        [licence_rule] = [r for r in evidence["rules"] if r["kind"] == "licence"]
        assert licence_rule["licence"]["number"] == number and licence_rule["licence"]["position"] > 0
        assert all(m["satisfied"] for m in evidence["materials"])
        # Step: the decision is the system's, through system_rule, carrying the evidence.
        case = rule_server.container.cases.get(UUID(result["id"]))
        events = list(rule_server.container.app.repository.event_store.get(case.id))
        approved = next(e for e in events if isinstance(e, Case.Approved))
        accepted = next(e for e in events if isinstance(e, Case.Accepted))
        for event in (approved, accepted):
            assert (str(event.channel), event.actor_id) == ("system_rule", "system:rule-approval")
        assert approved.rule_evidence == evidence
        # Step: the offline-warning rules see a rule-based approval: no W3 on it.
        assert [w for w in warnings_of(http, rule_server, result["id"]) if w["rule"] == "W3"] == []


def test_a_person_approving_as_fast_raises_w3_so_the_exemption_is_the_channel(rule_server: Server) -> None:
    with rule_server.client() as http:
        code, _number = project_with_site_selection(http, mode="allocation")  # not eligible: allocated land
        result = ok(http.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-03"}, headers=CLERK), 201)
        assert result["status_code"] == 1
        assert result["rule_approval"]["passed"] is False
        ok(http.post(f"/api/v1/cases/{result['id']}/accept", json={}, headers=CLERK))
        ok(http.post(f"/api/v1/cases/{result['id']}/approve", json={}, headers=APPROVER))
        assert "W3" in {w["rule"] for w in warnings_of(http, rule_server, result["id"])}


def test_a_failed_rule_leaves_the_case_received_with_the_reason_recorded(rule_server: Server) -> None:
    with rule_server.client() as http:
        # Step: the site-selection opinion expired yesterday: the licence rule and material fail.
        code, number = project_with_site_selection(http, valid_until=date.today() - timedelta(days=1))
        result = ok(
            http.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-03"}, headers=APPLICANT), 201
        )
        assert result["status_code"] == 1
        failed = {r["name"]: r.get("reason") for r in result["rule_approval"]["rules"] if not r["passed"]}
        assert list(failed) == ["site_selection_valid"] and f"licence {number} expired" in str(
            failed["site_selection_valid"]
        )
        case = rule_server.container.cases.get(UUID(result["id"]))
        assert case.phase.value == "received"
        events = list(rule_server.container.app.repository.event_store.get(case.id))
        assert isinstance(events[-1], Case.RuleApprovalDeclined)
        # Step: a person takes it from there: the window accepts it as usual.
        ok(http.post(f"/api/v1/cases/{result['id']}/accept", json={}, headers=CLERK))


def test_a_revoked_licence_does_not_satisfy_the_rule(rule_server: Server) -> None:
    with rule_server.client() as http:
        code, number = project_with_site_selection(http)
        ok(http.post(f"/api/v1/licenses/{number}/revoke", json={"reason": "选址调整"}, headers=APPROVER))
        result = ok(
            http.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-03"}, headers=APPLICANT), 201
        )
        assert result["status_code"] == 1
        reasons = [r.get("reason", "") for r in result["rule_approval"]["rules"] if not r["passed"]]
        assert reasons == [f"licence {number} was revoked"]


def timeline_of(http: httpx.Client, server: Server, case_id: str) -> dict[str, Any]:
    server.container.engine.catch_up()
    body = ok(http.post("/graphql", json={"query": CASE_TIMELINE, "variables": {"id": case_id}}, headers=ADMIN))
    assert "errors" not in body, body
    return dict(body["data"]["case"])


def test_a_project_with_plan_conflicts_goes_to_manual_review_with_each_conflict_in_the_timeline(
    rule_server: Server,
) -> None:
    # Step: the blueprint holds a residential zone (07) at plot ratio 1.5, 24 m, under this red line.
    red_line = {
        "type": "Polygon",
        "coordinates": [[[110.35, 20.05], [110.352, 20.05], [110.352, 20.052], [110.35, 20.052], [110.35, 20.05]]],
    }
    zone = {
        "code": f"HK-RULE-{uuid4().hex[:8].upper()}",
        "name": "规则审批测试地块",
        "region_code": "460106",
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[110.349, 20.049], [110.353, 20.049], [110.353, 20.053], [110.349, 20.053], [110.349, 20.049]]
            ],
        },
        "land_uses": ["07"],
        "max_plot_ratio": "1.5",
        "height_limit_m": "24",
    }
    with rule_server.client() as http:
        ok(http.post("/api/v1/blueprint/zones", json=zone, headers=ADMIN))
        # Step: everything GJ-1-03 needs is on record, but the project declares industrial land
        # (10), plot ratio 3.0 and 80 m: three conflicts, listed by the blueprint check.
        code, _number = project_with_site_selection(
            http, red_line=red_line, planned_land_use="1001", plot_ratio="3.0", height_m="80"
        )
        result = ok(
            http.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-03"}, headers=APPLICANT), 201
        )
        # Step: every configured rule passed, yet the case went to a person, saying why.
        assert result["status_code"] == 1
        evidence = result["rule_approval"]
        assert evidence["passed"] is False and all(r["passed"] for r in evidence["rules"])
        assert evidence["missing_inputs"] == []
        conflicts = {c["kind"]: (c["subject"], c["declared"], c["limit"]) for c in evidence["conflicts"]}
        assert conflicts == {
            "land_use": (zone["code"], "1001", "07"),
            "plot_ratio": (zone["code"], "3.0", "1.5"),
            "height_limit": (zone["code"], "80", "24"),
        }
        # Step: the case timeline (GraphQL) shows the system's declined decision with the conflicts.
        case = timeline_of(http, rule_server, result["id"])
        assert case["status"]["code"] == 1
        declined = [t for t in case["timeline"] if t["eventType"] == "Case.RuleApprovalDeclined"]
        assert len(declined) == 1 and declined[0]["channel"] == "system_rule"
        assert declined[0]["detail"]["rule_evidence"]["conflicts"] == evidence["conflicts"]
        assert "Case.Approved" not in {t["eventType"] for t in case["timeline"]}


def test_a_missing_rule_input_goes_to_manual_review_naming_each_input(rule_server: Server) -> None:
    with rule_server.client() as http:
        # Step: no land supply and no red line on record: the rules cannot be judged.
        code, _number = project_with_site_selection(http, mode=None, red_line=None)
        result = ok(
            http.post("/api/v1/cases", json={"project_code": code, "item_code": "GJ-1-03"}, headers=APPLICANT), 201
        )
        assert result["status_code"] == 1
        missing = {(m["name"], m["needed_by"]) for m in result["rule_approval"]["missing_inputs"]}
        assert missing == {
            ("red_line", "plan_conformity"),
            ("land_supply_mode", "land_transferred"),
            ("land_supply", "GJ-1-03-M02"),
        }
        case = timeline_of(http, rule_server, result["id"])
        [declined] = [t for t in case["timeline"] if t["eventType"] == "Case.RuleApprovalDeclined"]
        assert declined["detail"]["rule_evidence"]["missing_inputs"] == result["rule_approval"]["missing_inputs"]
