"""Electronic licences (电子证照) over HTTP and GraphQL, on SQLite and PostgreSQL: issue with the
department's seal, match in the library by topic fields, verify the signature, revoke."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from application.bootstrap import bootstrap
from domain.licences import canonical_content, content_hash
from domain.signatures.crypto import sm3
from infrastructure.settings import Settings
from infrastructure.tokens import issue
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import Server, new_project_code, serving

PASSPHRASE = "test-keystore-passphrase-0123456789"
DEPT = "460100-zjj"
HOLDER = "91460000MA5T0P3X64"

LICENSES = """
query($filter: LicenseFilter, $atLeast: Int) {
  licenses(filter: $filter, atLeast: $atLeast) {
    totalCount
    edges { node { number type typeName holderUscc status documentHash signature topic { field value } } }
  }
}"""
LICENSE = "query($n: String!) { license(number: $n) { number status revocationReason } }"


@pytest.fixture
def licence_server(store_url: str, tmp_path: Path) -> Iterator[Server]:
    settings = Settings(
        database_url=store_url,
        jwt_secret=JWT_SECRET,
        keystore_path=str(tmp_path / "keys"),
        keystore_passphrase=PASSPHRASE,
    )
    container = bootstrap(settings)
    container.engine.start()  # the library is a read model: `atLeast` waits for it
    try:
        with serving(container) as base_url:
            yield Server(base_url, container)
    finally:
        container.close()


def as_(sub: str, role: str = "approver", org: str = DEPT, region: str = "460100") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue(JWT_SECRET, sub, role, org, region, name=sub, ttl_hours=1)}"}


def register_seal(http: httpx.Client, signers: list[str]) -> str:
    now = datetime.now(UTC)
    body = {
        "holder_org": DEPT,
        "name": "海口市住房和城乡建设局行政审批专用章",
        "purpose": "licence",
        "valid_from": (now - timedelta(days=1)).isoformat(),
        "valid_until": (now + timedelta(days=365)).isoformat(),
        "signers": signers,
    }
    response = http.post("/api/v1/seals", json=body, headers=as_("admin-1", "admin"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def licence_body(seal_id: str, number: str, **overrides: Any) -> dict[str, Any]:
    today = date.today()
    return {
        "number": number,
        "licence_type": "construction_permit",
        "holder_name": "海南某某置业有限公司（海口）",
        "holder_uscc": HOLDER,
        "project_code": new_project_code(),
        "item_code": "GJ-3-03",
        "region_code": "460100",
        "valid_from": (today - timedelta(days=1)).isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "topic": {
            "project_name": "海口市某安置房项目",
            "building_area": "12500.50",
            "contract_price": "8600",
            "construction_org": "海南某建工集团有限公司",
        },
        "seal_id": seal_id,
        **overrides,
    }


def graphql(http: httpx.Client, query: str, headers: dict[str, str], **variables: Any) -> dict[str, Any]:
    response = http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


def test_a_licence_is_issued_matched_by_topic_verified_and_revoked(licence_server: Server) -> None:
    with licence_server.client() as http:
        # Step: the department's seal; the approver issues a construction permit signed with it.
        seal_id = register_seal(http, ["zhang"])
        body = licence_body(seal_id, "建施460100202600001")
        issued = http.post("/api/v1/licenses", json=body, headers=as_("zhang"))
        assert issued.status_code == 201, issued.text
        result = issued.json()
        # Step: the hash is SM3 of the canonical content anyone can rebuild from the licence.
        licence = licence_server.container.licences.get(body["number"])
        assert result["document_hash"] == sm3(canonical_content(licence.content())).hex()
        assert content_hash(licence.content()) == licence.document_hash
        # Step: the library matches it by a normalised name and an exact code, only for today's status.
        match = {
            "projectCode": body["project_code"],
            "status": "VALID",
            "topic": [
                {"field": "holder_name", "value": " 海南某某置业 有限公司(海口)"},
                {"field": "building_area", "value": "12500.5"},
            ],
        }
        found = graphql(http, LICENSES, as_("sup-1", "supervisor"), filter=match, atLeast=result["position"])
        [edge] = found["licenses"]["edges"]
        assert edge["node"]["number"] == body["number"] and edge["node"]["typeName"] == "建筑工程施工许可证"
        assert {"field": "project_name", "value": "海口市某安置房项目"} in edge["node"]["topic"]
        miss = {**match, "topic": [{"field": "holder_name", "value": "海南另一家公司"}]}
        assert graphql(http, LICENSES, as_("sup-1", "supervisor"), filter=miss)["licenses"]["totalCount"] == 0
        # Step: the licence's signature verifies through the ordinary 验真 endpoint.
        node = edge["node"]
        verified = http.post(
            "/api/v1/signatures/verify",
            json={"document_hash": node["documentHash"], "signatures": [node["signature"]]},
            headers=as_("sup-1", "supervisor"),
        )
        assert verified.status_code == 200 and verified.json()["valid"] is True, verified.text
        # Step: the holder (applicant) sees its licence; another company does not.
        mine = graphql(http, LICENSE, as_("app-1", "applicant", org=HOLDER), n=body["number"])
        assert mine["license"]["status"] == "VALID"
        other = as_("app-2", "applicant", org="91460100MA5T0P3X6X")
        assert graphql(http, LICENSE, other, n=body["number"])["license"] is None
        # Step: revocation; the library shows it revoked; a second revocation is a conflict.
        path = f"/api/v1/licenses/{body['number']}/revoke"
        revoked = http.post(path, json={"reason": "以欺骗手段取得，依法撤销"}, headers=as_("zhang"))
        assert revoked.status_code == 200, revoked.text
        graphql(http, LICENSES, as_("sup-1", "supervisor"), atLeast=revoked.json()["position"])
        after = graphql(http, LICENSE, as_("sup-1", "supervisor"), n=body["number"])["license"]
        assert (after["status"], after["revocationReason"]) == ("REVOKED", "以欺骗手段取得，依法撤销")
        assert http.post(path, json={"reason": "again"}, headers=as_("zhang")).status_code == 409


def test_a_number_is_issued_once_bad_topics_are_422_and_other_roles_403(licence_server: Server) -> None:
    with licence_server.client() as http:
        seal_id = register_seal(http, ["zhang", "integration-1"])
        body = licence_body(seal_id, "建施460100202600002")
        assert http.post("/api/v1/licenses", json=body, headers=as_("zhang")).status_code == 201
        # Step: the same number again, even for another project, is a conflict.
        again = http.post("/api/v1/licenses", json={**body, "project_code": new_project_code()}, headers=as_("zhang"))
        assert again.status_code == 409, again.text
        # Step: topic fields are checked per type.
        before = licence_server.position()
        for topic, rule in (
            ({"project_name": "x", "building_area": "0", "contract_price": "1", "construction_org": "y"}, "range"),
            ({"project_name": "x", "building_area": "10", "contract_price": "1"}, "required"),
            ({**body["topic"], "floors": "3"}, "topic_field_unknown"),
        ):
            bad = http.post(
                "/api/v1/licenses", json=licence_body(seal_id, "建施-bad", topic=topic), headers=as_("zhang")
            )
            assert bad.status_code == 422, bad.text
            assert bad.json()["errors"][0]["type"] == rule
        # Step: roles that may not issue, and a signer the seal does not authorise, are refused.
        fresh = licence_body(seal_id, "建施460100202600003")
        for role in ("applicant", "window_clerk", "reviewer", "supervisor", "admin"):
            refused = http.post("/api/v1/licenses", json=fresh, headers=as_(f"{role}-1", role))
            assert refused.status_code == 403, (role, refused.text)
        assert http.post("/api/v1/licenses", json=fresh, headers=as_("wang")).status_code == 403
        other_dept = as_("zhang", org="460100-zrzy")
        assert http.post("/api/v1/licenses", json=fresh, headers=other_dept).status_code == 403
        revoke = http.post(
            f"/api/v1/licenses/{body['number']}/revoke", json={"reason": "x"}, headers=as_("r", "reviewer")
        )
        assert revoke.status_code == 403
        assert licence_server.position() == before
        # Step: the integration account may issue when it is an authorised signer.
        assert http.post("/api/v1/licenses", json=fresh, headers=as_("integration-1", "integration")).status_code == 201


def test_a_licence_past_its_validity_is_expired_at_query_time(licence_server: Server) -> None:
    with licence_server.client() as http:
        seal_id = register_seal(http, ["zhang"])
        old = date.today() - timedelta(days=400)
        body = licence_body(
            seal_id,
            "选址460100202500009",
            licence_type="site_selection_opinion",
            item_code="GJ-1-02",
            valid_from=old.isoformat(),
            valid_until=(old + timedelta(days=365)).isoformat(),
            topic={"project_name": "某产业园项目", "land_area": "50000"},
        )
        issued = http.post("/api/v1/licenses", json=body, headers=as_("zhang"))
        assert issued.status_code == 201, issued.text
        found = graphql(
            http,
            LICENSES,
            as_("sup-1", "supervisor"),
            filter={"type": "site_selection_opinion", "status": "EXPIRED"},
            atLeast=issued.json()["position"],
        )
        assert [e["node"]["number"] for e in found["licenses"]["edges"]] == [body["number"]]
        valid = graphql(http, LICENSES, as_("sup-1", "supervisor"), filter={"status": "VALID"})
        assert body["number"] not in [e["node"]["number"] for e in valid["licenses"]["edges"]]
