"""中介超市 end to end over HTTP, on SQLite and PostgreSQL: each selection mode — random draw
(reproducible from the recorded seed, only among qualified active agencies), bidding (award to
the lowest bid), self-selected (自选) — through acceptance and a result signed with the agency's
seal, which verifies through 验真 and which a later case cites as a material."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from application.bootstrap import bootstrap
from domain.intermediaries import draw
from infrastructure.settings import Settings
from infrastructure.tokens import issue
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import Server, auth, project_body, serving

APPLICANT = auth("applicant")
ADMIN = auth("admin", org="460000-admin", region="460000")
SUPERVISOR = auth("supervisor", org="460000-jg", region="460000")
AGENCIES = {  # USCC → name; all offer surveying, the last one's qualification has expired
    "91460100MA5T0AAA10": "海南甲测绘有限公司",
    "91460100MA5T0BBB21": "海南乙测绘有限公司",
    "91460100MA5T0CCC32": "海南丙测绘有限公司",
    "91460100MA5T0DDD43": "海南丁测绘有限公司",
}
EXPIRED = "91460100MA5T0DDD43"
STATISTICS = """query($groupBy: String!) { intermediaryStatistics(groupBy: $groupBy) {
  group orders selected delivered meanDaysToSelect meanDaysToDeliver } }"""


def as_agency(uscc: str) -> dict[str, str]:
    token = issue(JWT_SECRET, f"agent-{uscc[-4:]}", "integration", uscc, "460000", name="中介经办人", ttl_hours=1)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def market(store_url: str, tmp_path: Path) -> Iterator[Server]:
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


def uscc_valid() -> None:
    from domain.shared.codes import validate_uscc

    for code in AGENCIES:
        validate_uscc(code, "uscc")


def open_market(http: httpx.Client) -> tuple[str, dict[str, str]]:
    """Four surveying agencies (one with an expired qualification), each with its seal; a project."""
    seals = {}
    for uscc, name in AGENCIES.items():
        until = date.today() - timedelta(days=1) if uscc == EXPIRED else date.today() + timedelta(days=700)
        body = {
            "uscc": uscc,
            "name": name,
            "region_code": "460100",
            "qualifications": [{"type": "surveying", "level": "甲级", "valid_until": until.isoformat()}],
            "service_types": ["surveying"],
        }
        ok(http.post("/api/v1/agencies", json=body, headers=ADMIN), 201)
        now = datetime.now(UTC)
        seal = {
            "holder_org": uscc,
            "name": f"{name}成果专用章",
            "purpose": "intermediary_result",
            "valid_from": (now - timedelta(days=1)).isoformat(),
            "valid_until": (now + timedelta(days=365)).isoformat(),
            "signers": [f"agent-{uscc[-4:]}"],
        }
        seals[uscc] = ok(http.post("/api/v1/seals", json=seal, headers=ADMIN), 201)["id"]
    project = project_body()
    ok(http.post("/api/v1/projects", json=project, headers=APPLICANT), 201)
    return project["code"], seals


def accept_and_deliver(http: httpx.Client, order: dict[str, Any], seals: dict[str, str]) -> dict[str, Any]:
    agency = order["agency_uscc"]
    ok(http.post(f"/api/v1/service-orders/{order['id']}/accept", headers=as_agency(agency)))
    document = f"测绘成果报告 {order['id']}".encode()
    body = {"title": "建设工程测绘成果报告", "document_hash": hashlib.sha256(document).hexdigest(),
            "seal_id": seals[agency]}  # fmt: skip
    # the hash here is of our choosing (64 hex digits); SM3 is the algorithm the seal signs it under
    return ok(http.post(f"/api/v1/service-orders/{order['id']}/deliver", json=body, headers=as_agency(agency)))


def test_a_random_draw_is_reproducible_from_its_seed_and_skips_the_unqualified(market: Server) -> None:
    uscc_valid()
    with market.client() as http:
        code, seals = open_market(http)
        # Step: a supervisor suspends one agency; the owner orders a survey by random draw.
        suspended = "91460100MA5T0CCC32"
        ok(http.post(f"/api/v1/agencies/{suspended}/suspend", json={"reason": "成果质量不合格"}, headers=SUPERVISOR))
        body = {"project_code": code, "service_type": "surveying", "mode": "random"}
        order = ok(http.post("/api/v1/service-orders", json=body, headers=APPLICANT), 201)
        selection = order["selection"]
        # Step: only the qualified, active agencies were candidates, and anyone can redraw from the seed.
        assert selection["candidates"] == ["91460100MA5T0AAA10", "91460100MA5T0BBB21"]
        redrawn = selection["candidates"][draw(selection["seed"], UUID(order["id"]), selection["candidates"])]
        assert order["agency_uscc"] == redrawn and order["state"] == "selected"
        # Step: another agency may not accept it; the drawn one accepts and delivers a signed result.
        other = next(u for u in selection["candidates"] if u != redrawn)
        assert http.post(f"/api/v1/service-orders/{order['id']}/accept", headers=as_agency(other)).status_code == 409
        delivered = accept_and_deliver(http, order, seals)
        assert delivered["state"] == "delivered"
        material = delivered["material"]
        verified = ok(http.post("/api/v1/signatures/verify", json={
            "document_hash": material["signature"]["document_hash"], "signatures": [material["signature"]]},
            headers=APPLICANT))  # fmt: skip
        assert verified["valid"] is True, verified
        # Step: a later case cites the signed result as a material; a forged hash is refused (422).
        case = {"project_code": code, "item_code": "GJ-1-02", "materials": [material]}
        ok(http.post("/api/v1/cases", json=case, headers=APPLICANT), 201)
        forged = {**material, "signature": {**material["signature"], "document_hash": "0" * 64}}
        refused = http.post("/api/v1/cases", json={**case, "materials": [forged]}, headers=APPLICANT)
        assert refused.status_code == 422 and "result_hash_mismatch" in refused.text


def test_bidding_awards_the_lowest_bid_and_refuses_an_unqualified_bidder(market: Server) -> None:
    with market.client() as http:
        code, seals = open_market(http)
        body = {"project_code": code, "service_type": "surveying", "mode": "bidding", "budget": "50000"}
        order = ok(http.post("/api/v1/service-orders", json=body, headers=APPLICANT), 201)
        assert order["state"] == "placed" and order["agency_uscc"] is None
        url = f"/api/v1/service-orders/{order['id']}"
        ok(http.post(f"{url}/bid", json={"amount": "42000", "days": 10}, headers=as_agency("91460100MA5T0AAA10")))
        ok(http.post(f"{url}/bid", json={"amount": "38000.50", "days": 15}, headers=as_agency("91460100MA5T0BBB21")))
        expired = http.post(f"{url}/bid", json={"amount": "1000", "days": 5}, headers=as_agency(EXPIRED))
        assert expired.status_code == 409 and "qualification" in expired.text
        # Step: the owner awards without naming a bidder: the lowest bid wins.
        awarded = ok(http.post(f"{url}/award", json={}, headers=APPLICANT))
        assert awarded["agency_uscc"] == "91460100MA5T0BBB21" and awarded["selection"]["bid_amount"] == "38000.50"
        assert accept_and_deliver(http, awarded, seals)["state"] == "delivered"


def test_a_self_selected_agency_must_be_qualified_and_then_serves(market: Server) -> None:
    with market.client() as http:
        code, seals = open_market(http)
        body = {"project_code": code, "service_type": "surveying", "mode": "self_selected", "agency_uscc": EXPIRED}
        refused = http.post("/api/v1/service-orders", json=body, headers=APPLICANT)
        assert refused.status_code == 409 and "qualification" in refused.text
        body["agency_uscc"] = "91460100MA5T0AAA10"
        order = ok(http.post("/api/v1/service-orders", json=body, headers=APPLICANT), 201)
        assert (order["state"], order["agency_uscc"], order["mode"]) == (
            "selected",
            body["agency_uscc"],
            "self_selected",
        )
        assert accept_and_deliver(http, order, seals)["state"] == "delivered"
        # Step: the service times are counted in the statistics, per selection mode.
        market.container.engine.catch_up()
        stats = ok(
            http.post("/graphql", json={"query": STATISTICS, "variables": {"groupBy": "mode"}}, headers=SUPERVISOR)
        )
        assert "errors" not in stats, stats
        [row] = stats["data"]["intermediaryStatistics"]
        assert (row["group"], row["orders"], row["selected"], row["delivered"]) == ("self_selected", 1, 1, 1)
        assert row["meanDaysToSelect"] == 0.0 and row["meanDaysToDeliver"] == 0.0
        # Step: rebuilt from position 0, the read model answers the same.
        market.container.engine.rebuild("intermediaries")
        again = ok(
            http.post("/graphql", json={"query": STATISTICS, "variables": {"groupBy": "mode"}}, headers=SUPERVISOR)
        )
        assert again == stats


def test_only_the_owner_orders_and_only_an_admin_registers_agencies(market: Server) -> None:
    with market.client() as http:
        code, _seals = open_market(http)
        body = {"project_code": code, "service_type": "surveying", "mode": "random"}
        other_owner = auth("applicant", org="91460100MA5T0P3X6X")
        assert http.post("/api/v1/service-orders", json=body, headers=other_owner).status_code == 403
        agency = {"uscc": "91460100MA5T0EEE54", "name": "某所", "region_code": "460100",
                  "qualifications": [{"type": "design", "level": "乙级", "valid_until": "2030-01-01"}],
                  "service_types": ["design"]}  # fmt: skip
        assert http.post("/api/v1/agencies", json=agency, headers=SUPERVISOR).status_code == 403
        bad = {**agency, "service_types": ["surveying"]}
        refused = http.post("/api/v1/agencies", json=bad, headers=ADMIN)
        assert refused.status_code == 422 and "unqualified_service" in refused.text
