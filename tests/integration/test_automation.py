"""The process manager (application/automation.py), on SQLite and PostgreSQL: an approval issues its
licence with the department's seal, or records why not; a concluded case gets its archive package
once a signed checkpoint covers it; a restart from an old position issues and archives nothing twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from application.archives import verify_package
from application.automation import Automation
from application.bootstrap import Container, bootstrap
from application.policy import ARCHIVER, LICENCE_ISSUER
from domain.archives import ArchivePackage, archive_id_for_case
from domain.licences import License, licence_id
from infrastructure.ledger_key import generate_key, load_key
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import Server, auth, project_body, serving

CLERK = auth("window_clerk", org="460100-zwfw")
APPROVER = auth("approver", org="460100-zrzy")
APPLICANT = auth("applicant")
ADMIN = auth("admin", org="460000-admin", region="460000")
SUPERVISOR = auth("supervisor", org="460000-jg", region="460000")
DEPT = "460100-zrzy"  # zrzy (natural resources) of 海口 issues GJ-1-02; the project lies in its district 460108
RED_LINE = {
    "type": "Polygon",
    "coordinates": [[[110.40, 20.02], [110.402, 20.02], [110.402, 20.022], [110.40, 20.022], [110.40, 20.02]]],
}


@pytest.fixture
def server(store_url: str, tmp_path: Path) -> Iterator[Server]:
    """The API with a signed ledger that checkpoints every event; nothing runs in the background:
    the test drives the projection engine and the process manager itself."""
    key = tmp_path / "keys" / "ledger.pem"
    generate_key(key)
    settings = Settings(
        database_url=store_url,
        jwt_secret=JWT_SECRET,
        keystore_path=str(tmp_path / "seal-keys"),
        ledger_key_file=str(key),
        ledger_checkpoint_every=1,
        archive_path=str(tmp_path / "archives"),
    )
    container = bootstrap(settings)
    try:
        with serving(container) as base_url:
            yield Server(base_url, container)
    finally:
        container.close()


def register_seal(http: httpx.Client, signers: list[str]) -> str:
    now = datetime.now(UTC)
    body = {
        "holder_org": DEPT,
        "name": "海口市美兰区自然资源和规划局行政审批专用章",
        "purpose": "licence",
        "valid_from": (now - timedelta(days=1)).isoformat(),
        "valid_until": (now + timedelta(days=365)).isoformat(),
        "signers": signers,
    }
    response = http.post("/api/v1/seals", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def accepted_case(http: httpx.Client) -> str:
    body = project_body(region_code="460108", red_line=RED_LINE)
    assert http.post("/api/v1/projects", json=body, headers=APPLICANT).status_code == 201
    r = http.post("/api/v1/cases", json={"project_code": body["code"], "item_code": "GJ-1-02"}, headers=CLERK)
    assert r.status_code == 201, r.text
    case_id = str(r.json()["id"])
    assert http.post(f"/api/v1/cases/{case_id}/accept", json={}, headers=CLERK).status_code == 200
    return case_id


def approve(http: httpx.Client, case_id: str, number: str) -> None:
    r = http.post(
        f"/api/v1/cases/{case_id}/approve",
        json={"document_number": number, "valid_until": "2028-12-31"},
        headers=APPROVER,
    )
    assert r.status_code == 200, r.text


def fresh_manager(container: Container) -> Automation:
    """A restarted manager that lost its position (a crash before it was saved)."""
    with container.db.transaction() as cur:  # its row of the engine's tracking table (issue 19)
        cur.execute("UPDATE projection_tracking SET position = 0 WHERE read_model = 'automation'")
    c = container
    return Automation(c.app, c.db, c.clock, c.licences, c.archives, c.engine.managers)


def test_an_approval_issues_its_licence_signed_with_the_departments_seal_once(server: Server) -> None:
    c = server.container
    with server.client() as http:
        # Step: the department authorises the system signer on its seal; an approval follows.
        register_seal(http, ["zhang", LICENCE_ISSUER.actor_id])
        case_id = accepted_case(http)
        number = "琼自然资规预字[2026]12号"
        approve(http, case_id, number)
        # Step: the manager issues the licence by itself, as the system, through the system_rule channel.
        done = c.automation.run_until_idle()
        assert done.licences == [number] and done.skipped == []
        licence = c.licences.get(number)
        assert (licence.case_id, licence.item_code, licence.signer) == (case_id, "GJ-1-02", LICENCE_ISSUER.actor_id)
        assert licence.valid_until is not None and licence.valid_until.isoformat() == "2028-12-31"
        assert float(licence.topic["land_area"]) > 40_000  # from the project's red line
        [stored] = c.app.recorder.select_events(licence.id)
        assert b'"channel":"system_rule"' in stored.state.replace(b" ", b"")
        # Step: it is in the licence library and its signature verifies through 验真.
        c.engine.catch_up()
        rows = c.db.query("SELECT * FROM licences WHERE number = ?", (number,))
        assert len(rows) == 1 and rows[0]["case_id"] == case_id
        verified = http.post(
            "/api/v1/signatures/verify",
            json={"document_hash": licence.document_hash, "signatures": [licence.signature_entry().as_dict()]},
            headers=SUPERVISOR,
        )
        assert verified.status_code == 200 and verified.json()["valid"] is True, verified.text
        # Step: restarted from position 0, the manager issues nothing twice.
        again = fresh_manager(c).run_until_idle()
        assert again.licences == [] and again.skipped == []
        assert len(c.app.recorder.select_events(licence_id(number))) == 1
        assert c.licences.find(License, licence_id(number)) is not None


def test_without_a_usable_seal_nothing_is_issued_and_the_skip_is_recorded_with_its_reason(server: Server) -> None:
    c = server.container
    with server.client() as http:
        # Step: the department's seal does not authorise the system signer (no opt-in).
        seal_id = register_seal(http, ["zhang"])
        case_id = accepted_case(http)
        number = "琼自然资规预字[2026]13号"
        approve(http, case_id, number)
        done = c.automation.run_until_idle()
        # Step: nothing is issued; the skip names the seal and the reason, and survives a restart once.
        assert done.licences == []
        [(kind, skipped_case, reason)] = done.skipped
        assert (kind, skipped_case) == ("licence", case_id)
        assert DEPT in reason and seal_id in reason and "signer not authorised" in reason
        assert c.licences.find(License, licence_id(number)) is None
        fresh_manager(c).run_until_idle()
        [row] = [r for r in c.automation.skips() if r["case_id"] == case_id]
        assert row["kind"] == "licence" and row["reason"] == reason
        assert c.automation.status()["skipped"] == {"licence": 1}


def test_a_concluded_case_gets_its_archive_package_once_a_checkpoint_covers_it(server: Server) -> None:
    c = server.container
    with server.client() as http:
        approved = accepted_case(http)
        approve(http, approved, "琼自然资规预字[2026]14号")
        refused = accepted_case(http)
        r = http.post(f"/api/v1/cases/{refused}/refuse", json={"reason": "不符合国土空间规划"}, headers=APPROVER)
        assert r.status_code == 200, r.text
        # Step: no checkpoint covers the cases yet (the ledger has not run): they wait.
        first = c.automation.run_until_idle()
        assert first.archives == [] and first.waiting == 2
        assert [kind for kind, _case, _reason in first.skipped] == ["licence"]  # no seal registered here
        # Step: the ledger cuts its checkpoints; the next round archives both, once.
        c.engine.catch_up(["ledger"])
        second = c.automation.run_until_idle()
        assert sorted(second.archives) == sorted([approved, refused]) and second.waiting == 0
        # Step: each package verifies offline against the ledger's key; one changed byte does not.
        public_key = load_key(Path(str(c.settings.ledger_key_file))).public_key().public_bytes_raw()
        for case_id in (approved, refused):
            archive_id = archive_id_for_case(UUID(case_id))
            package = c.archives.load(ArchivePackage, archive_id, "archive package")
            data = c.archives.package(ARCHIVER, archive_id)
            report = verify_package(data, public_key)
            assert report.ok, report.problems
            assert report.case_id == case_id and report.events == package.events
            middle = len(data) // 2
            assert not verify_package(data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :]).ok
        # Step: restarted from position 0, nothing is generated twice.
        again = fresh_manager(c).run_until_idle()
        assert again.archives == [] and again.skipped == [] and again.waiting == 0
        for case_id in (approved, refused):
            assert len(c.app.recorder.select_events(archive_id_for_case(UUID(case_id)))) == 1


def test_the_engines_runner_issues_the_licence_and_builds_the_archive_by_itself(server: Server) -> None:
    """The runner `gongjian serve` and `projections run` start: read models, then the managers."""
    c = server.container
    with server.client() as http:
        register_seal(http, ["zhang", LICENCE_ISSUER.actor_id])
        case_id = accepted_case(http)
        number = "琼自然资规预字[2026]15号"
        c.engine.start(idle_timeout=0.05, managers=True)
        try:
            approve(http, case_id, number)
            deadline = time.monotonic() + 30
            archive_id = archive_id_for_case(UUID(case_id))
            while time.monotonic() < deadline and not (
                c.licences.find(License, licence_id(number)) and c.archives.exists(archive_id)
            ):
                time.sleep(0.05)
        finally:
            c.engine.stop()
        # Step: the licence on the approval and, once the ledger's checkpoint covered it, the package.
        assert c.licences.get(number).signer == LICENCE_ISSUER.actor_id
        assert c.archives.exists(archive_id)
        assert c.automation.position() > 0 and c.automation.status()["skipped"] == {}


def test_the_runners_turn_makes_one_archive_package_and_comes_again_at_once(server: Server) -> None:
    """A checkpoint covering many concluded cases: the runner's own-clock turn makes one package (≈ 0.1 s)
    and says it did something, so the next round comes at once, within the idle second; between two
    packages the read models have their turn (before, a turn made up to 200, seconds of no read-your-writes)."""
    c = server.container
    with server.client() as http:
        cases = []
        for _ in range(3):
            case_id = accepted_case(http)
            r = http.post(f"/api/v1/cases/{case_id}/refuse", json={"reason": "不符合国土空间规划"}, headers=APPROVER)
            assert r.status_code == 200, r.text
            cases.append(case_id)
    c.engine.catch_up()  # the read models, the ledger's signed checkpoints among them

    def packages() -> int:
        return sum(c.archives.exists(archive_id_for_case(UUID(case_id))) for case_id in cases)

    # Step: each round, one right after the other, makes one package and reports work done.
    for made in (1, 2, 3):
        assert c.engine.managers.round() > 0
        assert packages() == made
    # Step: nothing left to archive; a round asked for on the user's behalf still makes them all at once.
    assert c.automation.run_until_idle().archives == []
