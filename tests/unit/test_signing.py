"""Seals, signing requests and verification as pure aggregates: no store, no HTTP."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.shared.errors import Conflict, Forbidden, IllegalTransition, InvalidValue
from domain.shared.events import Channel, Meta
from domain.signatures import (
    MobileCodeRefused,
    Seal,
    SealNotUsable,
    SignerNotAuthorised,
    SigningRequest,
    check_signatures,
)
from domain.signatures.crypto import Algorithm, generate_keypair, sign
from domain.signatures.signing import check_phone, code_digest, code_message_id, mask_phone

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DOC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def meta(actor: str = "admin-1", now: datetime = T0) -> Meta:
    return Meta(actor, "admin", "460100-zjj", Channel.ONLINE, "req-1", now)


class Keys:
    """A hand-written key store: private keys by seal id."""

    def __init__(self) -> None:
        self.private: dict[str, bytes] = {}

    def seal(self, signers: list[str], algorithm: str = "sm2-sm3", days: int = 365) -> Seal:
        pair = generate_keypair(algorithm)
        seal = Seal.register(
            meta(),
            holder_org="460100-zjj",
            name="海口市住建局行政审批专用章",
            purpose="approval",
            algorithm=algorithm,
            public_key=pair.public_key,
            valid_from=T0 - timedelta(days=1),
            valid_until=T0 + timedelta(days=days),
            signers=signers,
        )
        self.private[str(seal.id)] = pair.private_key
        return seal

    def sign(self, request: SigningRequest, seal: Seal, signer: str, now: datetime, code: str | None = None) -> None:
        payload = request.payload_for(str(seal.id), signer, now)
        request.sign(meta(signer, now), seal, signer, sign(seal.algorithm, self.private[str(seal.id)], payload), code)


def new_request(parties: list[tuple[Seal, str]], mode: str = "ordered", mobile: bool = False) -> SigningRequest:
    return SigningRequest.request(
        meta(),
        document_hash=DOC,
        hash_algorithm="sm3",
        title="施工许可决定书",
        parties=[
            {"seal_id": str(s.id), "signer": who, **({"phone": f"1380013800{i}"} if mobile else {})}
            for i, (s, who) in enumerate(parties)
        ],
        mode=mode,
        mobile=mobile,
    )


@pytest.mark.parametrize("algorithm", [a.value for a in Algorithm])
def test_an_ordered_countersign_completes_after_the_last_party_in_order(algorithm: str) -> None:
    keys = Keys()
    city, fire = keys.seal(["alice"], algorithm), keys.seal(["bob"], algorithm)
    request = new_request([(city, "alice"), (fire, "bob")])
    with pytest.raises(IllegalTransition):
        keys.sign(request, fire, "bob", T0 + timedelta(minutes=1))
    keys.sign(request, city, "alice", T0 + timedelta(minutes=1))
    assert not request.completed
    keys.sign(request, fire, "bob", T0 + timedelta(minutes=2))
    assert request.completed
    assert request.signed[0].previous_hash == ""
    assert request.signed[1].previous_hash != ""
    results = check_signatures(DOC, "sm3", request.signed, {str(city.id): city, str(fire.id): fire})
    assert [r.reason for r in results] == ["ok", "ok"]


def test_a_parallel_countersign_completes_in_any_order_and_refuses_a_second_signature() -> None:
    keys = Keys()
    a, b, c = keys.seal(["a"]), keys.seal(["b"]), keys.seal(["c"])
    request = new_request([(a, "a"), (b, "b"), (c, "c")], mode="parallel")
    for seal, who in ((c, "c"), (a, "a")):
        keys.sign(request, seal, who, T0 + timedelta(minutes=1))
    with pytest.raises(Conflict):
        keys.sign(request, a, "a", T0 + timedelta(minutes=2))
    keys.sign(request, b, "b", T0 + timedelta(minutes=3))
    assert request.completed
    assert [e.signer for e in request.signed] == ["c", "a", "b"]


def test_a_signer_not_authorised_on_the_seal_is_refused() -> None:
    keys = Keys()
    seal = keys.seal(["alice"])
    request = new_request([(seal, "mallory")])
    with pytest.raises(SignerNotAuthorised):
        keys.sign(request, seal, "mallory", T0)
    with pytest.raises(Forbidden):  # not a party at all
        request.party_for("eve")


def test_an_expired_suspended_or_revoked_seal_is_refused_with_its_reason() -> None:
    keys = Keys()
    seal = keys.seal(["alice"], days=1)
    with pytest.raises(SealNotUsable) as expired:
        keys.sign(new_request([(seal, "alice")]), seal, "alice", T0 + timedelta(days=2))
    assert expired.value.reason == "seal_expired"
    seal.suspend(meta(now=T0 + timedelta(hours=1)), "印章遗失待查")
    assert seal.problem_at("alice", T0 + timedelta(hours=2)) == "seal_suspended"
    seal.resume(meta(now=T0 + timedelta(hours=3)), "已找回")
    assert seal.problem_at("alice", T0 + timedelta(hours=4)) is None
    seal.revoke(meta(now=T0 + timedelta(hours=5)), "密钥泄露", effective_at=T0 + timedelta(hours=3, minutes=30))
    assert seal.problem_at("alice", T0 + timedelta(hours=4)) == "seal_revoked"  # back-dated
    assert seal.problem_at("alice", T0 + timedelta(hours=3, minutes=10)) is None
    with pytest.raises(IllegalTransition):
        seal.resume(meta(now=T0 + timedelta(hours=6)), "不可恢复")


def test_a_signature_over_a_changed_document_or_altered_bytes_verifies_invalid() -> None:
    keys = Keys()
    seal = keys.seal(["alice"])
    request = new_request([(seal, "alice")])
    keys.sign(request, seal, "alice", T0)
    entry = request.signed[0]
    other = "0" * 64
    assert check_signatures(other, "sm3", [entry], {str(seal.id): seal})[0].reason == "hash_mismatch"
    forged = dataclasses.replace(entry, document_hash=other)
    assert check_signatures(other, "sm3", [forged], {str(seal.id): seal})[0].reason == "bad_signature"
    assert check_signatures(DOC, "sm3", [entry], {})[0].reason == "unknown_seal"


def test_a_signature_made_with_another_key_is_refused_at_signing() -> None:
    keys = Keys()
    seal = keys.seal(["alice"])
    request = new_request([(seal, "alice")])
    stranger = generate_keypair("sm2-sm3").private_key
    with pytest.raises(InvalidValue, match="does not verify"):
        request.sign(
            meta("alice"), seal, "alice", sign("sm2-sm3", stranger, request.payload_for(str(seal.id), "alice", T0))
        )


def test_mobile_signing_needs_the_right_code_before_it_expires() -> None:
    keys = Keys()
    seal = keys.seal(["alice"])
    request = new_request([(seal, "alice")], mobile=True)
    with pytest.raises(MobileCodeRefused, match="no code"):
        keys.sign(request, seal, "alice", T0)
    request.issue_mobile_code(
        meta("alice"), "alice", "ab" * 16, code_digest("ab" * 16, "123456"), T0 + timedelta(minutes=5)
    )
    assert "123456" not in repr(request.codes)  # only the salted hash is kept
    with pytest.raises(MobileCodeRefused, match="wrong"):
        keys.sign(request, seal, "alice", T0 + timedelta(minutes=1), code="654321")
    with pytest.raises(MobileCodeRefused, match="expired"):
        keys.sign(request, seal, "alice", T0 + timedelta(minutes=6), code="123456")
    keys.sign(request, seal, "alice", T0 + timedelta(minutes=2), code="123456")
    assert request.completed


def test_a_document_hash_must_be_64_hex_digits() -> None:
    with pytest.raises(InvalidValue):
        SigningRequest.request(
            meta(),
            document_hash="abc",
            hash_algorithm="sm3",
            title="x",
            parties=[{"seal_id": str(uuid4()), "signer": "a"}],
            mode="ordered",
            mobile=False,
        )


def test_a_mobile_request_names_each_signers_mainland_mobile_number_and_only_a_mobile_one() -> None:
    seal = Keys().seal(["alice"])
    party = {"seal_id": str(seal.id), "signer": "alice"}
    fields: dict[str, Any] = {"document_hash": DOC, "hash_algorithm": "sm3", "title": "x", "mode": "ordered"}
    with pytest.raises(InvalidValue, match="phone") as missing:
        SigningRequest.request(meta(), **fields, parties=[party], mobile=True)
    assert missing.value.field == "parties.0.phone"
    with pytest.raises(InvalidValue, match="only for mobile signing"):
        SigningRequest.request(meta(), **fields, parties=[{**party, "phone": "13800138000"}], mobile=False)
    for bad in ("12800138000", "1380013800", "138001380000", "+1 415 555 0100", "电话13800138000"):
        with pytest.raises(InvalidValue, match="mainland mobile number"):
            SigningRequest.request(meta(), **fields, parties=[{**party, "phone": bad}], mobile=True)
    request = SigningRequest.request(meta(), **fields, parties=[{**party, "phone": "+86 138-0013-8000"}], mobile=True)
    assert request.phone_of("alice") == "13800138000" and request.phone_of("bob") is None
    assert check_phone("8619912345678") == "19912345678" and mask_phone("13800138000") == "138****8000"


def test_a_codes_delivery_is_recorded_without_the_code_and_linked_to_its_issue_by_the_salt() -> None:
    keys = Keys()
    seal = keys.seal(["alice"])
    request = new_request([(seal, "alice")], mobile=True)
    salt = "cd" * 16
    request.issue_mobile_code(meta("alice"), "alice", salt, code_digest(salt, "424242"), T0 + timedelta(minutes=5))
    message_id = str(code_message_id(request.id, "alice", salt))
    assert request.code_salt_of("alice") == salt and request.code_delivery["alice"] == "sending"
    request.record_code_failure(meta("system:sms"), "alice", message_id, 1, "HTTP 503", T0 + timedelta(seconds=2))
    assert request.code_delivery["alice"] == "retrying"
    request.record_code_sent(meta("system:sms"), "alice", message_id, "SMS-0001", 2)
    assert request.code_delivery["alice"] == "sent"
    events = request.collect_events()
    assert [type(e).__name__ for e in events][-2:] == ["MobileCodeDeliveryFailed", "MobileCodeSent"]
    assert all("424242" not in repr(e) for e in events)
    keys.sign(request, seal, "alice", T0 + timedelta(minutes=1), code="424242")
    assert request.code_salt_of("alice") is None  # used: a pending retry of it is dropped
