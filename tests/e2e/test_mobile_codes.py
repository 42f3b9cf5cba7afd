"""移动签章短信 over HTTP: the SMS adapter texts codes to a real local gateway (tests/receiver.py), through
an outage within the code's life and one longer than it, and a signature completes with the code the
gateway received — on SQLite and PostgreSQL. The clock is simulated only to let five minutes pass."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from application.bootstrap import bootstrap
from application.clock import SimulatedClock
from application.signatures import MemoryCodeSender
from domain.ledger import uuid_text
from infrastructure.settings import Settings
from infrastructure.sms import HttpCodeSender
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import Server, serving
from tests.e2e.test_signatures import PASSPHRASE, as_, register_seal, sign
from tests.e2e.test_signatures import signing_request as new_signing_request
from tests.receiver import Receiver

TOKEN = "Bearer sms-gateway-test-token"
TEMPLATE = "SMS_GJ_SIGNING_CODE"
PHONE = "13900139000"


@dataclass
class Gateway:
    server: Server
    receiver: Receiver
    clock: SimulatedClock


@pytest.fixture
def gateway(store_url: str, tmp_path: Path) -> Iterator[Gateway]:
    receiver = Receiver()
    clock = SimulatedClock(datetime.now(UTC))
    settings = Settings(
        database_url=store_url,
        jwt_secret=JWT_SECRET,
        keystore_path=str(tmp_path / "keys"),
        keystore_passphrase=PASSPHRASE,
        sms_url=receiver.url,
        sms_token=TOKEN,
        sms_template=TEMPLATE,
        sms_retry_base_s=0.1,
        sms_retry_cap_s=0.3,  # in real seconds; the simulated clock only stands for the code's 5 minutes
    )
    container = bootstrap(settings, clock)
    try:
        with serving(container) as base_url:
            yield Gateway(Server(base_url, container), receiver, clock)
    finally:
        container.close()
        receiver.stop()


def mobile_request(http: httpx.Client, signer: str) -> str:
    seal = register_seal(http, [signer])
    return new_signing_request(http, [(seal, signer)], {signer: PHONE}, mobile=True)


def ask_code(http: httpx.Client, request_id: str, signer: str) -> dict[str, Any]:
    response = http.post(f"/api/v1/signing-requests/{request_id}/mobile-codes", headers=as_(signer, "reviewer"))
    assert response.status_code == 201, response.text
    assert "code" not in response.json()  # not development mode: the code goes only to the phone
    return dict(response.json())


def outcomes(server: Server, request_id: str) -> list[Any]:
    """The request's delivery records, in order, as domain events."""
    app = server.container.app
    return [
        app.mapper.to_domain_event(n)
        for n in app.recorder.select_notifications(start=1, limit=100_000)
        if n.topic.endswith(("SigningRequest.MobileCodeSent", "SigningRequest.MobileCodeDeliveryFailed"))
        and uuid_text(n.originator_id) == request_id
    ]


def wait_until(what: str, check: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def received(receiver: Receiver) -> list[dict[str, Any]]:
    """What the gateway took (applied once per Idempotency-Key)."""
    with receiver.lock:
        return [e["body"] for e in receiver.effects.values()]


def test_a_code_texted_through_a_gateway_outage_arrives_within_its_life_and_signs(gateway: Gateway) -> None:
    server, receiver = gateway.server, gateway.receiver
    with server.client() as http:
        request_id = mobile_request(http, "zhang")
        # Step: the gateway is down; asking for a code answers at once that it is being retried.
        receiver.stop()
        first = ask_code(http, request_id, "zhang")
        assert (first["delivery"], first["attempts"], first["sent_to"]) == ("retrying", 1, "139****9000")
        wait_until("three failed attempts", lambda: len(outcomes(server, request_id)) >= 3)
        # Step: it comes back; a retry delivers the code, once, to the named number, with the credentials.
        receiver.start()
        wait_until("the code sent", lambda: type(outcomes(server, request_id)[-1]).__name__ == "MobileCodeSent")
        [body] = received(receiver)
        assert (body["phone"], body["template_id"], body["params"]["minutes"]) == (PHONE, TEMPLATE, "5")
        assert receiver.calls[-1]["authorization"] == TOKEN and receiver.calls[-1]["key"] == body["message_id"]
        # Step: every attempt is recorded with its number; the last names the gateway's message id.
        records = outcomes(server, request_id)
        failures, sent = records[:-1], records[-1]
        assert [f.attempts for f in failures] == list(range(1, len(failures) + 1))
        assert all(f.retry_at is not None and "unreachable" in f.error for f in failures)
        assert (sent.attempts, sent.gateway_message_id, sent.message_id) == (len(records), "R-1", body["message_id"])
        assert all(r.request_id == failures[0].request_id and r.actor_id == "system:sms" for r in records)
        # Step: the code the gateway received signs; the code itself is in no stored event.
        signed = sign(http, request_id, "zhang", code=body["params"]["code"])
        assert signed.status_code == 201, signed.text
        assert signed.json()["completed"] is True
    stored = b"".join(n.state for n in server.container.app.recorder.select_notifications(start=1, limit=100_000))
    assert json.dumps(body["params"]["code"]).encode() not in stored and PHONE.encode() in stored


def test_an_outage_longer_than_the_codes_life_ends_in_a_recorded_failure_and_a_new_code_signs(
    gateway: Gateway,
) -> None:
    server, receiver = gateway.server, gateway.receiver
    with server.client() as http:
        request_id = mobile_request(http, "li")
        # Step: down for longer than the code lives (five minutes pass on the clock).
        receiver.stop()
        assert ask_code(http, request_id, "li")["delivery"] == "retrying"
        wait_until("a retry", lambda: len(outcomes(server, request_id)) >= 2)
        gateway.clock.advance(minutes=6)
        wait_until("the final failure", lambda: outcomes(server, request_id)[-1].retry_at is None)
        assert server.container.signing.codes is not None and server.container.signing.codes.waiting() == 0
        assert type(outcomes(server, request_id)[-1]).__name__ == "MobileCodeDeliveryFailed"
        assert sign(http, request_id, "li", code="000000").status_code == 403
        # Step: the gateway is back; the signer asks for a new code, which arrives at once and signs.
        receiver.start()
        again = ask_code(http, request_id, "li")
        assert (again["delivery"], again["attempts"]) == ("sent", 1)
        [body] = received(receiver)
        assert sign(http, request_id, "li", code=body["params"]["code"]).json()["completed"] is True


def test_a_refusal_by_the_gateway_is_final_at_once_and_recorded_without_the_code(gateway: Gateway) -> None:
    server, receiver = gateway.server, gateway.receiver
    receiver.refuse_with = 401  # wrong credentials: a resend cannot help
    with server.client() as http:
        request_id = mobile_request(http, "wu")
        answer = ask_code(http, request_id, "wu")
        assert (answer["delivery"], answer["attempts"]) == ("failed", 1)
    [failure] = outcomes(server, request_id)
    assert failure.retry_at is None and "HTTP 401" in failure.error
    assert server.container.signing.codes is not None and server.container.signing.codes.waiting() == 0


def test_a_gateway_answering_503_twice_gets_the_code_on_the_third_attempt(gateway: Gateway) -> None:
    server, receiver = gateway.server, gateway.receiver
    receiver.failures = 2
    with server.client() as http:
        request_id = mobile_request(http, "sun")
        assert ask_code(http, request_id, "sun")["delivery"] == "retrying"
        wait_until("the code sent", lambda: type(outcomes(server, request_id)[-1]).__name__ == "MobileCodeSent")
        assert [r.attempts for r in outcomes(server, request_id)] == [1, 2, 3]
        assert "HTTP 500" in outcomes(server, request_id)[0].error
        assert len({c["key"] for c in receiver.calls}) == 1  # one message id on every attempt
        [body] = received(receiver)
        assert sign(http, request_id, "sun", code=body["params"]["code"]).status_code == 201


def test_mobile_signing_on_without_a_gateway_refuses_to_start_outside_development_mode(tmp_path: Path) -> None:
    production: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'prod.db'}",
        "jwt_secret": JWT_SECRET,
        "keystore_passphrase": PASSPHRASE,
    }
    with pytest.raises(ValidationError, match="GONGJIAN_SMS_URL"):
        Settings(**production, mobile_signing=True)
    with pytest.raises(ValidationError, match="GONGJIAN_SMS_TEMPLATE"):
        Settings(**production, sms_url="http://127.0.0.1:9/sms")
    assert not Settings(**production).mobile_signing_on  # off by default in production ...
    assert Settings(**production, sms_url="http://127.0.0.1:9/sms", sms_template="T1").mobile_signing_on
    assert Settings(**{**production, "development": True}, mobile_signing=True).mobile_signing_on  # memory


def test_codes_stay_in_memory_only_in_development_mode_and_go_to_the_gateway_once_one_is_set(tmp_path: Path) -> None:
    dev: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'dev.db'}",
        "development": True,
        "keystore_path": str(tmp_path),
    }
    gateway: dict[str, Any] = {"sms_url": "http://127.0.0.1:9/sms", "sms_template": "T1"}
    for settings, sender in ((Settings(**dev), MemoryCodeSender), (Settings(**dev, **gateway), HttpCodeSender)):
        container = bootstrap(settings)
        try:
            assert container.signing.codes is not None and type(container.signing.codes.sender) is sender
        finally:
            container.close()


def test_with_mobile_signing_off_a_mobile_request_is_refused(tmp_path: Path, store_url: str) -> None:
    settings = Settings(
        database_url=store_url, jwt_secret=JWT_SECRET, keystore_path=str(tmp_path / "k"), keystore_passphrase=PASSPHRASE
    )
    container = bootstrap(settings)
    try:
        assert container.signing.codes is None
        with serving(container) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
            seal = register_seal(http, ["zhou"])
            body = {"document_hash": "a" * 64, "title": "t", "mobile": True,
                    "parties": [{"seal_id": seal, "signer": "zhou", "phone": PHONE}]}  # fmt: skip
            refused = http.post("/api/v1/signing-requests", json=body, headers=as_("clerk-1", "window_clerk"))
            assert refused.status_code == 422 and "GONGJIAN_MOBILE_SIGNING" in refused.text
    finally:
        container.close()
