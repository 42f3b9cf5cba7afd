"""电子档案 over HTTP, on SQLite and PostgreSQL: a decided case's package verifies offline and a
changed byte does not; transfer to a flaky archive system retries then succeeds; external
packages are received or refused with the reason."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from application.archives import verify_package
from application.bootstrap import bootstrap
from domain.archives import ArchivePackage
from infrastructure.ledger_key import generate_key
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import Server, auth, project_body, serving

CLERK = auth("window_clerk", org="460100-zwfw")
APPROVER = auth("approver", org="460100-zjj")
APPLICANT = auth("applicant")
INTEGRATION = auth("integration", org="460000-dag", region="460000")


class FlakyArchiveSystem:
    """A real HTTP receiver on 127.0.0.1 that answers 503 to the first `failures` calls."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.calls.append({"archive_id": self.headers["X-Archive-Id"], "body": body})
                if len(outer.calls) <= outer.failures:
                    self.send_response(503)
                    self.end_headers()
                    return
                answer = json.dumps({"receipt": f"DAG-{len(outer.calls)}"}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/packages"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def archive_system() -> Iterator[FlakyArchiveSystem]:
    system = FlakyArchiveSystem(failures=2)
    yield system
    system.close()


@pytest.fixture
def archiving_server(store_url: str, tmp_path: Path, archive_system: FlakyArchiveSystem) -> Iterator[Server]:
    """The API with a signed ledger cutting a checkpoint at every event, and archives under tmp."""
    key = tmp_path / "keys" / "ledger.pem"
    generate_key(key)
    settings = Settings(
        database_url=store_url,
        jwt_secret=JWT_SECRET,
        ledger_key_file=str(key),
        ledger_checkpoint_every=1,
        archive_path=str(tmp_path / "archives"),
        archive_transfer_url=archive_system.url,
        archive_retry_base_s=0.05,
        archive_max_attempts=5,
    )
    container = bootstrap(settings)
    try:
        with serving(container) as base_url:
            yield Server(base_url, container)
    finally:
        container.close()


def approved_case(client: httpx.Client) -> str:
    body = project_body()
    assert client.post("/api/v1/projects", json=body, headers=APPLICANT).status_code == 201
    r = client.post("/api/v1/cases", json={"project_code": body["code"], "item_code": "GJ-1-02"}, headers=CLERK)
    assert r.status_code == 201, r.text
    case_id = str(r.json()["id"])
    assert client.post(f"/api/v1/cases/{case_id}/accept", json={}, headers=CLERK).status_code == 200
    r = client.post(
        f"/api/v1/cases/{case_id}/approve",
        json={"document_number": "琼规字[2026]7号", "valid_until": "2028-12-31"},
        headers=APPROVER,
    )
    assert r.status_code == 200, r.text
    return case_id


def archived(server: Server, client: httpx.Client) -> tuple[str, bytes]:
    case_id = approved_case(client)
    server.container.engine.catch_up(["ledger"])
    r = client.post("/api/v1/archives", json={"case_id": case_id}, headers=APPROVER)
    assert r.status_code == 201, r.text
    archive_id = r.json()["id"]
    package = client.get(f"/api/v1/archives/{archive_id}/package", headers=APPROVER)
    assert package.status_code == 200
    return archive_id, package.content


def test_a_decided_cases_package_verifies_offline_and_one_changed_byte_does_not(archiving_server: Server) -> None:
    with archiving_server.client() as client:
        # Step: a case goes through approval; its package is generated and downloaded.
        archive_id, data = archived(archiving_server, client)

        # Step: the package verifies with nothing but its bytes.
        report = verify_package(data)
        assert report.ok, report.problems
        assert report.events == 3
        manifest = json.loads(data)["manifest"]
        assert [d["document_number"] for d in manifest["documents"]] == ["琼规字[2026]7号"]

        # Step: flipping one byte inside an event's stored bytes is named.
        doc = json.loads(data)
        state = doc["manifest"]["events"][1]["state"]
        at = data.index(state.encode()) + 10
        tampered = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]
        bad = verify_package(tampered)
        assert not bad.ok
        assert "position" in bad.reason, bad.problems
        assert any("manifest hash" in p for p in bad.problems)

        # Step: any single flipped byte is refused.
        for at in range(0, len(data), max(1, len(data) // 97)):
            assert not verify_package(data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1 :]).ok, at

        # Step: the stored package passes its fixity check; a second generation is a conflict.
        fixity = client.get(f"/api/v1/archives/{archive_id}/fixity", headers=APPROVER).json()
        assert fixity == {"id": archive_id, "ok": True, "reason": ""}
        case_id = doc["manifest"]["case"]["case_id"]
        assert client.post("/api/v1/archives", json={"case_id": case_id}, headers=APPROVER).status_code == 409

        # Step: a stored package changed on disk fails its fixity check: 409 with the reason, never a 200.
        store = archiving_server.container.archives.store
        (stored,) = [p for p in store.root.iterdir() if p.is_file() and not p.name.startswith(".")]
        stored.write_bytes(stored.read_bytes() + b" ")
        failed = client.get(f"/api/v1/archives/{archive_id}/fixity", headers=APPROVER)
        assert failed.status_code == 409 and failed.headers["content-type"] == "application/problem+json"
        assert "the stored bytes hash to" in failed.json()["detail"]


def test_a_case_still_under_review_is_not_archived(archiving_server: Server) -> None:
    with archiving_server.client() as client:
        body = project_body()
        client.post("/api/v1/projects", json=body, headers=APPLICANT)
        r = client.post("/api/v1/cases", json={"project_code": body["code"], "item_code": "GJ-1-02"}, headers=CLERK)
        r = client.post("/api/v1/archives", json={"case_id": r.json()["id"]}, headers=APPROVER)
        assert r.status_code == 409, r.text


def test_a_transfer_to_a_flaky_archive_system_retries_then_succeeds(
    archiving_server: Server, archive_system: FlakyArchiveSystem
) -> None:
    with archiving_server.client() as client:
        archive_id, data = archived(archiving_server, client)

        # Step: the transfer is requested; the first attempt fails at once (503).
        r = client.post(f"/api/v1/archives/{archive_id}/transfer", headers=APPROVER)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "transfer_pending"
        assert r.json()["attempts"] == 1

        # Step: the worker retries after the backoff until the system takes it.
        service = archiving_server.container.archives
        archive_uuid = UUID(archive_id)

        def status() -> str:
            package = service.find(ArchivePackage, archive_uuid)
            assert package is not None
            return package.status.value

        deadline = time.monotonic() + 10
        while status() != "transferred" and time.monotonic() < deadline:
            service.deliver_due()
            time.sleep(0.02)
        assert status() == "transferred"
        assert len(archive_system.calls) == 3
        assert archive_system.calls[-1] == {"archive_id": archive_id, "body": data}

        # Step: every attempt is an event; nothing is left pending.
        events = list(service.app.events.get(archive_uuid))
        assert [type(e).__name__ for e in events] == [
            "Generated",
            "TransferRequested",
            "TransferFailed",
            "TransferFailed",
            "TransferSucceeded",
        ]
        assert events[-1].receipt == '{"receipt": "DAG-3"}'  # type: ignore[attr-defined]
        assert service.deliver_due() == []


def test_a_good_external_package_is_received_and_a_tampered_one_refused_with_the_reason(
    archiving_server: Server,
) -> None:
    with archiving_server.client() as client:
        _, data = archived(archiving_server, client)
        # Step: a package from another system (here: ours) is received after verification.
        r = client.post("/api/v1/archives/received?source=市档案馆", content=data, headers=INTEGRATION)
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "received"
        assert client.post("/api/v1/archives/received", content=data, headers=INTEGRATION).status_code == 409

        # Step: a tampered one is refused with 422 naming what is wrong.
        doc = json.loads(data)
        doc["manifest"]["documents"][0]["document_number"] = "琼规字[2026]8号"
        tampered = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        r = client.post("/api/v1/archives/received", content=tampered, headers=INTEGRATION)
        assert r.status_code == 422, r.text
        assert "琼规字[2026]8号" in r.json()["detail"]
        assert r.json()["errors"][0]["type"] == "package_invalid"


def test_the_cli_verifies_a_downloaded_package_and_exits_1_on_a_changed_byte(
    archiving_server: Server, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from interfaces.cli import app

    with archiving_server.client() as client:
        _, data = archived(archiving_server, client)
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_bytes(data)
    bad.write_bytes(data.replace(b'"status_code":11', b'"status_code":13'))
    runner = CliRunner()
    ok = runner.invoke(app, ["archive", "verify", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "package intact" in ok.output
    refused = runner.invoke(app, ["archive", "verify", str(bad)])
    assert refused.exit_code == 1
    assert "manifest hash does not match" in refused.output
