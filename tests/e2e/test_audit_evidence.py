"""Complete audit trails and proofs that bind what is shown (issue 16, parts 5 and 6), over HTTP on
SQLite and PostgreSQL.

A licence issued by the automation on an approval is in the trails of its number, its case, its
project, its document hash, its seal and its signer, and `provenance` gives its chain with proofs.
Every entry is checked by the client-side snippet of docs/evidence.md — run here as it stands in the
docs, with nothing of ours — against the checkpoints and the ledger key read from the key file
(obtained outside the API). An edited read-model row is caught by it; so is a changed stored event.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from application.policy import LICENCE_ISSUER
from domain.archives import archive_id_for_case
from infrastructure.ledger_key import generate_key, load_key
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import Server, auth, serving
from tests.e2e.test_inquiries import OFFICER, back_entered_warning, post
from tests.integration.test_automation import accepted_case, approve, register_seal
from tests.integration.test_ledger_tamper import Insider

ROOT = Path(__file__).resolve().parents[2]
SUPERVISOR = auth("supervisor", org="460000-jg", region="460000")
ENTRY = """position eventType actorId actorRole actorOrg channel requestId
  event { position originatorId originatorVersion topic state } proof { leafIndex treeSize leafHash auditPath rootHash }"""
TRAIL = "query($s: String!) { auditTrail(subject: $s, first: 100) { totalCount edges { node { " + ENTRY + " } } } }"
CHECKPOINTS = """query($after: Int!) { ledger { checkpoints(after: $after, first: 1000) {
  treeSize rootHash time algorithm signature origin signedText } } }"""
PROVENANCE = (
    "query($s: String!) { provenance(subject: $s) { caseIds projectCodes licenceNumbers documentHashes sealIds"
    " steps { stage entry { " + ENTRY + " } } } }"
)


def snippet() -> dict[str, Any]:
    """The `audit-entry-check` block of docs/evidence.md, executed on its own."""
    text = (ROOT / "docs" / "evidence.md").read_text(encoding="utf-8")
    [code] = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if b.startswith("# audit-entry-check")]
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/evidence.md", "exec"), namespace)  # our own documentation
    return namespace


@pytest.fixture
def server(store_url: str, tmp_path: Path) -> Iterator[Server]:
    """A signed ledger that checkpoints every event; the test drives the engine and the automation."""
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
    from application.bootstrap import bootstrap

    container = bootstrap(settings)
    try:
        with serving(container) as base_url:
            yield Server(base_url, container)
    finally:
        container.close()


def gql(http: httpx.Client, query: str, headers: dict[str, str] = SUPERVISOR, **variables: Any) -> Any:
    response = http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def data(http: httpx.Client, query: str, **variables: Any) -> Any:
    body = gql(http, query, **variables)
    assert "errors" not in body, body
    return body["data"]


def trail(http: httpx.Client, subject: str) -> list[dict[str, Any]]:
    return [e["node"] for e in data(http, TRAIL, s=subject)["auditTrail"]["edges"]]


class Client:
    """The third party: the snippet, the checkpoints from the API, the key from outside it."""

    def __init__(self, http: httpx.Client, server: Server) -> None:
        self.check: Callable[..., list[str]] = snippet()["check_entry"]
        self.key = load_key(Path(str(server.container.settings.ledger_key_file))).public_key().public_bytes_raw()
        rows = data(http, CHECKPOINTS, after=0)["ledger"]["checkpoints"]
        self.checkpoints = {c["treeSize"]: c for c in rows}

    def problems(self, entry: dict[str, Any]) -> list[str]:
        return list(self.check(entry, self.checkpoints[entry["proof"]["treeSize"]], self.key))


def issued_licence(server: Server) -> tuple[str, str, str]:
    """(licence number, case id, seal id): approved, issued by the automation, archived, all ledgered."""
    c = server.container
    with server.client() as http:
        seal_id = register_seal(http, ["zhang", LICENCE_ISSUER.actor_id])
        case_id = accepted_case(http)
        number = f"琼自然资规预字[2026]{UUID(case_id).int % 10**6}号"
        approve(http, case_id, number)
    assert c.automation.run_until_idle().licences == [number]
    c.engine.catch_up()
    assert c.automation.run_until_idle().archives == [case_id]
    c.engine.catch_up()
    return number, case_id, seal_id


def test_a_licence_issued_on_approval_is_in_every_trail_it_concerns_with_proofs_a_client_accepts(
    server: Server,
) -> None:
    number, case_id, seal_id = issued_licence(server)
    licence = server.container.licences.get(number)
    with server.client() as http:
        client = Client(http, server)
        # Step: the issue event is in the trail of each subject it concerns.
        project_code, document_hash = licence.project_code, licence.document_hash
        for subject in (number, case_id, project_code, document_hash, seal_id, LICENCE_ISSUER.actor_id):
            entries = trail(http, subject)
            assert "License.Issued" in [e["eventType"] for e in entries], subject
            # Step: every entry of every trail passes the independent check.
            for entry in entries:
                assert client.problems(entry) == [], (subject, entry["eventType"])
        assert "Seal.Registered" in [e["eventType"] for e in trail(http, seal_id)]
        archive_id = str(archive_id_for_case(UUID(case_id)))
        assert "ArchivePackage.Generated" in [e["eventType"] for e in trail(http, archive_id)]
        assert "ArchivePackage.Generated" in [e["eventType"] for e in trail(http, case_id)]
        # Step: the provenance of the licence, of its hash and of its case: the same chain, in stages.
        chains = [data(http, PROVENANCE, s=s)["provenance"] for s in (number, document_hash, case_id)]
        assert chains[0] == chains[1] == chains[2]
        chain = chains[0]
        assert (chain["caseIds"], chain["projectCodes"], chain["licenceNumbers"]) == (
            [case_id],
            [project_code],
            [number],
        )
        assert (chain["documentHashes"], chain["sealIds"]) == ([document_hash], [seal_id])
        stages = [s["stage"] for s in chain["steps"]]
        assert list(dict.fromkeys(stages)) == ["generation", "case", "decision", "licence", "signature", "archive"]
        kinds = {(s["stage"], s["entry"]["eventType"]) for s in chain["steps"]}
        assert {("generation", "Project.Generated"), ("case", "Case.Received"), ("decision", "Case.Approved"),
                ("licence", "License.Issued"), ("signature", "Seal.Registered"),
                ("archive", "ArchivePackage.Generated")} <= kinds  # fmt: skip
        for step in chain["steps"]:
            assert client.problems(step["entry"]) == [], step["entry"]["eventType"]
        # Step: the issue event's stored state is the licence the library shows.
        [issued] = [s["entry"] for s in chain["steps"] if s["entry"]["eventType"] == "License.Issued"]
        state = json.loads(base64.b64decode(issued["event"]["state"]))
        assert (state["number"], state["document_hash"], state["actor_id"]) == (
            number,
            document_hash,
            LICENCE_ISSUER.actor_id,
        )


def test_an_edited_audit_row_and_a_changed_stored_event_are_caught_by_the_client(
    server: Server, store_url: str
) -> None:
    number, case_id, _ = issued_licence(server)
    with server.client() as http:
        client = Client(http, server)
        [before] = [e for e in trail(http, number) if e["eventType"] == "License.Issued"]
        assert client.problems(before) == []
        # Step: an insider edits the read model's row: the trail now shows another actor.
        with server.container.db.transaction() as cur:
            cur.execute("UPDATE audit_events SET actor_id = 'approver-9' WHERE position = ?", (before["position"],))
        [shown] = [e for e in trail(http, number) if e["eventType"] == "License.Issued"]
        assert shown["actorId"] == "approver-9"
        assert client.problems(shown) == [
            f"shown actorId 'approver-9' differs from the stored {LICENCE_ISSUER.actor_id!r}"
        ]
        # Step: an insider changes the stored event itself: its leaf no longer reaches the signed root.
        insider = Insider(store_url)
        try:
            insider.change_one_byte(before["position"])
        finally:
            insider.close()
        [changed] = [e for e in trail(http, case_id) if e["eventType"] == "License.Issued"]
        assert f"the stored event at {before['position']} is not in the signed tree" in client.problems(changed)


def test_raw_events_are_for_auditors_and_their_leaves_and_every_checkpoint_check_out(server: Server) -> None:
    issued_licence(server)
    raw = """query($from: Int!, $to: Int!) { ledger { events(from: $from, to: $to) {
      leafIndex leafHash prevLeafHash event { position originatorId originatorVersion topic state } } } }"""
    with server.client() as http:
        size = server.container.app.max_position()
        # Step: an approver and an analyst are refused; a supervisor reads the range.
        for role in ("approver", "analyst"):
            refused = gql(http, raw, auth(role, region="460000"), **{"from": 1, "to": size})
            assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused
        events = data(http, raw, **{"from": 1, "to": size})["ledger"]["events"]
        assert [e["event"]["position"] for e in events] == list(range(1, size + 1))
        leaf_hash = snippet()["leaf_hash"]
        checkpoints = data(http, CHECKPOINTS, after=0)["ledger"]["checkpoints"]
        algorithm = checkpoints[0]["algorithm"]
        for e in events:
            assert leaf_hash(algorithm, e["event"]).hex() == e["leafHash"]
        # Step: every signed checkpoint is listed and its signature is over the text a client rebuilds.
        assert [c["treeSize"] for c in checkpoints] == list(range(1, size + 1))
        text = snippet()["checkpoint_text"]
        assert all(text(c) == c["signedText"] for c in checkpoints)
        proof = data(http, f"{{ ledger {{ consistencyProof(from: 2, to: {size}) {{ fromRoot toRoot }} }} }}")
        assert proof["ledger"]["consistencyProof"]["fromRoot"] == checkpoints[1]["rootHash"]
        assert proof["ledger"]["consistencyProof"]["toRoot"] == checkpoints[-1]["rootHash"]


def test_a_warnings_disposition_and_its_inquiry_are_in_the_trails_of_the_warning_the_inquiry_and_the_officer(
    server: Server,
) -> None:
    with server.client() as http:
        warning_id = back_entered_warning(server, http)
        # Step: a supervisor acknowledges the warning; an accountability officer opens an inquiry on it.
        ack = http.post(f"/api/v1/warnings/{warning_id}/acknowledge", json={"note": "已知悉"}, headers=SUPERVISOR)
        assert ack.status_code == 200, ack.text
        body = {"warning_ids": [warning_id], "subject": "先批后录", "department": "zrzy", "reason": "补录办件"}
        opened = post(http, "/api/v1/inquiries", OFFICER, body)
        assert opened.status_code == 201, opened.text
        inquiry_id = opened.json()["id"]
        asked = {"department": "zrzy", "deadline": "2099-12-31", "questions": ["为何线下审批"]}
        done = post(http, f"/api/v1/inquiries/{inquiry_id}/request-explanation", OFFICER, asked)
        assert done.status_code == 200, done.text
        assert server.container.engine.wait_for(done.json()["position"], 15)
        # Step: each trail holds what concerns it, and each entry checks out.
        client = Client(http, server)
        by_warning = [e["eventType"] for e in trail(http, warning_id)]
        assert {"WarningDisposition.Acknowledged", "WarningDisposition.LinkedToInquiry", "Inquiry.Opened",
                "Inquiry.ExplanationRequested"} <= set(by_warning)  # fmt: skip
        by_inquiry = [e["eventType"] for e in trail(http, inquiry_id)]
        assert {"Inquiry.Opened", "Inquiry.ExplanationRequested", "WarningDisposition.LinkedToInquiry"} <= set(
            by_inquiry
        )
        officer = trail(http, "accountability_officer-1")
        assert {"Inquiry.Opened", "Inquiry.ExplanationRequested"} <= {e["eventType"] for e in officer}
        for entry in [*officer, *trail(http, warning_id)]:
            assert client.problems(entry) == []
