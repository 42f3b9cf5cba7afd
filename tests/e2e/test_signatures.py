"""Seals, countersigning and verification over HTTP, on SQLite and PostgreSQL, with the encrypted
file key store; and `gongjian seal verify` on the same store."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from application.bootstrap import bootstrap
from application.signatures import MemoryCodeSender
from domain.signatures.crypto import sm3
from infrastructure.keystore import EncryptedFileKeyStore, KeyStoreError
from infrastructure.settings import Settings
from infrastructure.tokens import issue
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import Server, serving

PASSPHRASE = "test-keystore-passphrase-0123456789"
DEPT = "460100-zjj"
DOCUMENT = "海口市某安置房项目施工许可决定书 第 2026-0042 号".encode()
DOC_HASH = sm3(DOCUMENT).hex()


@pytest.fixture
def signing_server(store_url: str, tmp_path: Path) -> Iterator[Server]:
    settings = Settings(
        database_url=store_url,
        jwt_secret=JWT_SECRET,
        keystore_path=str(tmp_path / "keys"),
        keystore_passphrase=PASSPHRASE,
    )
    container = bootstrap(settings, code_sender=MemoryCodeSender())  # SMS through a gateway: test_mobile_codes.py
    try:
        with serving(container) as base_url:
            yield Server(base_url, container)
    finally:
        container.close()


def as_(sub: str, role: str = "approver", org: str = DEPT) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue(JWT_SECRET, sub, role, org, '460100', name=sub, ttl_hours=1)}"}


def register_seal(http: httpx.Client, signers: list[str], **overrides: Any) -> str:
    now = datetime.now(UTC)
    body = {
        "holder_org": DEPT,
        "name": "海口市住房和城乡建设局行政审批专用章",
        "purpose": "approval",
        "valid_from": (now - timedelta(days=1)).isoformat(),
        "valid_until": (now + timedelta(days=365)).isoformat(),
        "signers": signers,
        **overrides,
    }
    response = http.post("/api/v1/seals", json=body, headers=as_("admin-1", "admin"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def signing_request(
    http: httpx.Client, parties: list[tuple[str, str]], phones: dict[str, str] | None = None, **overrides: Any
) -> str:
    """`phones`: each signer's mobile number, for mobile signing."""
    body = {
        "document_hash": DOC_HASH,
        "title": "施工许可决定书",
        "parties": [{"seal_id": s, "signer": who, **({"phone": phones[who]} if phones else {})} for s, who in parties],
        **overrides,
    }
    response = http.post("/api/v1/signing-requests", json=body, headers=as_("clerk-1", "window_clerk"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def sign(http: httpx.Client, request_id: str, signer: str, **body: Any) -> httpx.Response:
    return http.post(f"/api/v1/signing-requests/{request_id}/signatures", json=body, headers=as_(signer, "reviewer"))


def verify(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post("/api/v1/signatures/verify", json=body, headers=as_("sup-1", "supervisor"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_an_ordered_countersign_completes_and_verifies_and_a_changed_document_does_not(
    signing_server: Server,
) -> None:
    with signing_server.client() as http:
        # Step: two departments' seals, one request in order: housing first, then fire.
        housing, fire = register_seal(http, ["zhang"]), register_seal(http, ["li"], algorithm="ed25519")
        request_id = signing_request(http, [(housing, "zhang"), (fire, "li")], mode="ordered")
        # Step: out of turn is refused; in turn, the chain grows and completes.
        assert sign(http, request_id, "li").status_code == 409
        first = sign(http, request_id, "zhang")
        assert first.status_code == 201, first.text
        assert first.json()["completed"] is False
        last = sign(http, request_id, "li").json()
        assert last["completed"] is True
        assert last["signatures"][1]["previous_hash"] != "" and last["signatures"][0]["previous_hash"] == ""
        # Step: verification by the request and by the exported entries; then over a changed document.
        assert verify(http, document_hash=DOC_HASH, signing_request_id=request_id)["valid"] is True
        assert verify(http, document_hash=DOC_HASH, signatures=last["signatures"])["reason"] == "ok"
        changed = sm3(DOCUMENT + b" ").hex()
        answer = verify(http, document_hash=changed, signatures=last["signatures"])
        assert (answer["valid"], answer["reason"]) == (False, "hash_mismatch")
        # Step: a tampered signature byte is a bad signature; a dropped first entry breaks the chain.
        tampered = [dict(e) for e in last["signatures"]]
        raw = bytearray(base64.b64decode(tampered[0]["signature"]))
        raw[5] ^= 1
        tampered[0]["signature"] = base64.b64encode(bytes(raw)).decode()
        assert verify(http, document_hash=DOC_HASH, signatures=tampered)["reason"] == "bad_signature"
        assert verify(http, document_hash=DOC_HASH, signatures=last["signatures"][1:])["reason"] == "chain_broken"


def test_a_parallel_mobile_countersign_needs_the_right_code(signing_server: Server) -> None:
    with signing_server.client() as http:
        a, b = register_seal(http, ["wang"]), register_seal(http, ["zhao"])
        phones = {"wang": "13800138001", "zhao": "13800138002"}
        request_id = signing_request(http, [(a, "wang"), (b, "zhao")], phones, mode="parallel", mobile=True)
        # Step: without a code, and with a wrong one, the signature is refused.
        assert sign(http, request_id, "zhao").status_code == 403
        issued = http.post(f"/api/v1/signing-requests/{request_id}/mobile-codes", headers=as_("zhao", "reviewer"))
        assert issued.status_code == 201, issued.text
        code = sent(signing_server)[("zhao", request_id)]
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        refused = sign(http, request_id, "zhao", code=wrong)
        assert refused.status_code == 403 and "code wrong" in refused.json()["detail"]
        # Step: the right code signs; the second party signs with its own code; the request completes.
        assert sign(http, request_id, "zhao", code=code).status_code == 201
        assert sign(http, request_id, "zhao", code=code).status_code == 409  # already signed
        http.post(f"/api/v1/signing-requests/{request_id}/mobile-codes", headers=as_("wang", "reviewer"))
        code = sent(signing_server)[("wang", request_id)]
        assert sign(http, request_id, "wang", code=code).json()["completed"] is True


def sent(server: Server) -> dict[tuple[str, str], str]:
    codes = server.container.signing.codes
    assert codes is not None and isinstance(codes.sender, MemoryCodeSender)
    return codes.sender.sent


def test_an_unauthorised_signer_an_expired_and_a_revoked_seal_are_refused_with_the_reason(
    signing_server: Server,
) -> None:
    with signing_server.client() as http:
        seal = register_seal(http, ["zhang"])
        # Step: a party the seal does not authorise.
        request_id = signing_request(http, [(seal, "mallory")])
        refused = sign(http, request_id, "mallory")
        assert refused.status_code == 403 and "not authorised" in refused.json()["detail"]
        assert sign(http, signing_request(http, [(seal, "zhang")]), "outsider").status_code == 403
        # Step: a seal whose validity has ended.
        past = datetime.now(UTC) - timedelta(days=10)
        old = register_seal(
            http, ["zhang"], valid_from=(past - timedelta(days=30)).isoformat(), valid_until=past.isoformat()
        )
        expired = sign(http, signing_request(http, [(old, "zhang")]), "zhang")
        assert expired.status_code == 409 and "seal expired" in expired.json()["detail"]
        # Step: sign, then revoke back-dated to before the signature: signing is refused, and the
        # earlier signature now verifies invalid as made with a revoked seal.
        signed_request = signing_request(http, [(seal, "zhang")])
        entries = sign(http, signed_request, "zhang").json()["signatures"]
        revoked = http.post(
            f"/api/v1/seals/{seal}/revoke",
            json={"reason": "密钥泄露", "effective_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
            headers=as_("admin-1", "admin"),
        )
        assert revoked.status_code == 200, revoked.text
        refused = sign(http, signing_request(http, [(seal, "zhang")]), "zhang")
        assert refused.status_code == 409 and "seal revoked" in refused.json()["detail"]
        answer = verify(http, document_hash=DOC_HASH, signatures=entries)
        assert (answer["valid"], answer["reason"]) == (False, "seal_revoked")


def test_an_approver_manages_only_its_own_departments_seals_and_a_reviewer_none(signing_server: Server) -> None:
    with signing_server.client() as http:
        now = datetime.now(UTC)
        body = {"holder_org": "460200-zjj", "name": "三亚章", "purpose": "approval", "signers": ["x"],
                "valid_from": now.isoformat(), "valid_until": (now + timedelta(days=1)).isoformat()}  # fmt: skip
        assert http.post("/api/v1/seals", json=body, headers=as_("ap-1")).status_code == 403
        assert http.post("/api/v1/seals", json={**body, "holder_org": DEPT}, headers=as_("ap-1")).status_code == 201
        assert http.post("/api/v1/seals", json=body, headers=as_("rv-1", "reviewer")).status_code == 403


def test_no_private_key_appears_in_any_stored_event(signing_server: Server) -> None:
    with signing_server.client() as http:
        seals = [register_seal(http, ["zhang"], algorithm=a) for a in ("sm2-sm3", "ed25519", "ecdsa-p256-sha256")]
        for seal in seals:
            sign(http, signing_request(http, [(seal, "zhang")]), "zhang")
    keys = signing_server.container.seals.keys
    app = signing_server.container.app
    rows = app.recorder.select_notifications(start=1, limit=100_000)
    assert sum(n.topic.endswith("SigningRequest.Signed") for n in rows) == 3
    stored = b"".join(n.state for n in rows)
    for seal in seals:
        private = keys.get(seal)
        for form in (private, private.hex().encode(), base64.b64encode(private), private.hex().upper().encode()):
            assert form not in stored
        key_file = Path(signing_server.container.settings.keystore_path) / f"{seal}.key"
        assert private.hex().encode() not in key_file.read_bytes() and private not in key_file.read_bytes()


def test_the_key_store_refuses_the_development_passphrase_outside_the_embedded_default(tmp_path: Path) -> None:
    from infrastructure.keystore import DEV_PASSPHRASE

    with pytest.raises(KeyStoreError, match="GONGJIAN_KEYSTORE_PASSPHRASE"):
        EncryptedFileKeyStore(tmp_path, DEV_PASSPHRASE, allow_dev_passphrase=False).put("k1", b"secret")
    EncryptedFileKeyStore(tmp_path, PASSPHRASE, allow_dev_passphrase=False).put("k1", b"\x01" * 32)
    with pytest.raises(KeyStoreError, match="wrong passphrase"):
        EncryptedFileKeyStore(tmp_path, PASSPHRASE + "x", allow_dev_passphrase=False).get("k1")
    assert EncryptedFileKeyStore(tmp_path, PASSPHRASE, allow_dev_passphrase=False).get("k1") == b"\x01" * 32


def test_gongjian_seal_verify_checks_a_file_and_its_signatures_and_records_the_check_only_when_asked(
    signing_server: Server, tmp_path: Path
) -> None:
    with signing_server.client() as http:
        seal = register_seal(http, ["zhang"])
        response = sign(http, signing_request(http, [(seal, "zhang")]), "zhang").json()
    document, bundle = tmp_path / "decision.txt", tmp_path / "signatures.json"
    document.write_bytes(DOCUMENT)
    bundle.write_text(json.dumps(response), encoding="utf-8")
    settings = signing_server.container.settings
    env = {**os.environ, "GONGJIAN_DATABASE_URL": settings.database_url, "GONGJIAN_JWT_SECRET": JWT_SECRET,
           "GONGJIAN_KEYSTORE_PASSPHRASE": PASSPHRASE, "GONGJIAN_KEYSTORE_PATH": settings.keystore_path}  # fmt: skip
    cli = [sys.executable, "-m", "interfaces.cli", "seal", "verify", "--signatures", str(bundle)]
    ok = subprocess.run([*cli, "--file", str(document)], env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "VALID" in ok.stdout
    changed = tmp_path / "changed.txt"
    changed.write_bytes(DOCUMENT + b"!")
    bad = subprocess.run(
        [*cli, "--file", str(changed), "--record"], env=env, capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 1 and "hash_mismatch" in bad.stdout
    rows = signing_server.container.app.recorder.select_notifications(start=1, limit=100_000)
    assert sum(n.topic.endswith("Verification.Recorded") for n in rows) == 1  # the second, asked to record


def test_verifying_writes_nothing_from_any_role_and_an_official_records_one_check_only_when_asked(
    signing_server: Server,
) -> None:
    with signing_server.client() as http:
        seal = register_seal(http, ["zhang"])
        entries = sign(http, signing_request(http, [(seal, "zhang")]), "zhang").json()["signatures"]
        before = signing_server.position()
        # Step: every role checks, twice each: the answers come, the log does not grow.
        roles = ("applicant", "window_clerk", "reviewer", "approver", "supervisor", "analyst",
                 "accountability_officer", "integration", "admin")  # fmt: skip
        for role in roles:
            for _ in range(2):
                response = http.post(
                    "/api/v1/signatures/verify",
                    json={"document_hash": DOC_HASH, "signatures": entries},
                    headers=as_(f"{role}-1", role),
                )
                assert response.status_code == 200, (role, response.text)
                answer = response.json()
                assert (answer["valid"], answer["recorded"], answer["position"]) == (True, False, before)
        assert signing_server.position() == before
        # Step: an analyst or an applicant may not ask to record; an approver may: one event.
        body = {"document_hash": DOC_HASH, "signatures": entries, "record": True}
        for role in ("analyst", "applicant", "integration"):
            assert http.post("/api/v1/signatures/verify", json=body, headers=as_("x-1", role)).status_code == 403
        assert signing_server.position() == before
        recorded = http.post("/api/v1/signatures/verify", json=body, headers=as_("ap-1"))
        assert recorded.status_code == 200 and recorded.json()["recorded"] is True, recorded.text
        rows = signing_server.container.app.recorder.select_notifications(start=before + 1, limit=100)
        assert [n.topic.rsplit(":", 1)[1] for n in rows] == ["Verification.Recorded"]
        assert recorded.json()["position"] == rows[0].id


def test_the_trail_of_a_mobile_request_never_shows_a_codes_hash_but_to_auditors(signing_server: Server) -> None:
    with signing_server.client() as http:
        seal = register_seal(http, ["zhao"])
        request_id = signing_request(http, [(seal, "zhao")], {"zhao": "13800138002"}, mobile=True)
        issued = http.post(f"/api/v1/signing-requests/{request_id}/mobile-codes", headers=as_("zhao", "reviewer"))
        assert issued.status_code == 201, issued.text
        signing_server.container.engine.catch_up()
        query = """query($s: String!) { auditTrail(subject: $s) { edges { node { eventType data
          event { state } } } } }"""

        def entry(role: str) -> dict[str, Any]:
            token = issue(JWT_SECRET, f"{role}-1", role, "460000-x", "460000", name="x", ttl_hours=1)
            body = {"query": query, "variables": {"s": request_id}}
            response = http.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
            nodes = [e["node"] for e in response.json()["data"]["auditTrail"]["edges"]]
            [found] = [n for n in nodes if n["eventType"] == "SigningRequest.MobileCodeIssued"]
            return dict(found)

        # Step: an approver of province scope reads the trail: no salt, no hash, no stored bytes.
        shown = entry("approver")
        assert shown["data"]["signer"] == "zhao" and not {"code_salt", "code_hash"} & set(shown["data"])
        assert shown["event"] is None
        # Step: an auditor (ledger.raw) gets the stored event, which the ledger covers as it is.
        state = json.loads(base64.b64decode(entry("supervisor")["event"]["state"]))
        assert state["code_hash"] and state["code_salt"]
