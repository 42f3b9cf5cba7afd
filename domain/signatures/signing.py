"""签章/会签 — the SigningRequest aggregate: a document's hash to be signed by one or several
parties (seal + signer), in order or in parallel, optionally confirmed on a phone with a one-time
code (移动签章). Each signature is chained to the previous one by its hash; the request completes
when every required party has signed.

What a party signs (`signing_payload`) is canonical JSON binding the request, the document hash,
the seal, the signer, the signing time and the previous signature's hash, so a verifier rebuilds it
from a signature entry alone (see `SignatureEntry`).
"""

from __future__ import annotations

import base64
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.shared.errors import Conflict, Forbidden, IllegalTransition, InvalidValue
from domain.shared.events import AuditedEvent, Meta
from domain.signatures.crypto import HashAlgorithm, check_hash, digest, verify
from domain.signatures.seal import Seal

MAX_PARTIES = 20
# 手机号: a mainland mobile number, 11 digits from 13–19 (a leading +86 / 86 and separators are dropped)
PHONE = re.compile(r"1[3-9]\d{9}")


class Mode(StrEnum):
    """会签方式."""

    ORDERED = "ordered"  # 顺序会签: parties sign in the listed order
    PARALLEL = "parallel"  # 并行会签: any order


class MobileCodeRefused(Forbidden):
    """移动签章验证码错误 — the one-time code is missing, wrong, used or expired (maps to 403)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"mobile confirmation refused: {reason.replace('_', ' ')}")
        self.reason = reason


@dataclass(frozen=True)
class SignatureEntry:
    """One signature as exported and verified: everything needed to rebuild what was signed."""

    signing_request_id: str
    document_hash: str
    hash_algorithm: str
    seal_id: str
    signer: str
    algorithm: str
    signed_at: datetime
    previous_hash: str
    signature: str  # base64

    def payload(self) -> bytes:
        return signing_payload(
            self.signing_request_id,
            self.document_hash,
            self.hash_algorithm,
            self.seal_id,
            self.signer,
            self.signed_at,
            self.previous_hash,
        )

    def signature_bytes(self) -> bytes:
        return base64.b64decode(self.signature, validate=True)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "signed_at": self.signed_at.isoformat()}


def signing_payload(
    request_id: str,
    document_hash: str,
    hash_algorithm: str,
    seal_id: str,
    signer: str,
    signed_at: datetime,
    previous_hash: str,
) -> bytes:
    body = {
        "v": 1,
        "signing_request_id": request_id,
        "document_hash": document_hash,
        "hash_algorithm": hash_algorithm,
        "seal_id": seal_id,
        "signer": signer,
        "signed_at": signed_at.isoformat(),
        "previous_hash": previous_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain_hash(hash_algorithm: str, signature: bytes) -> str:
    """The link to a signature: its digest, hex (the first signature links to "")."""
    return digest(hash_algorithm, signature).hex()


def check_phone(value: str, field: str = "phone") -> str:
    """A mainland mobile number as 11 digits (`+86 138-0013-8000` → `13800138000`), else a 422."""
    digits = re.sub(r"[\s-]", "", value)
    digits = digits.removeprefix("+86") if digits.startswith("+86") else digits
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not PHONE.fullmatch(digits):
        raise InvalidValue(field, "a mainland mobile number: 11 digits starting 13–19", "phone_format")
    return digits


def mask_phone(phone: str) -> str:
    """What a response may show of a number: 138****8000."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "****"


def code_message_id(signing_request_id: UUID, signer: str, code_salt: str) -> UUID:
    """The id of one code's SMS (the gateway's Idempotency-Key): recomputable from `MobileCodeIssued`."""
    return uuid5(signing_request_id, f"{signer}/{code_salt}")


def code_digest(salt: str, code: str) -> str:
    """The stored form of a one-time code: a salted SM3 digest (the code itself is never stored)."""
    return digest(HashAlgorithm.SM3, bytes.fromhex(salt) + code.encode()).hex()


class SigningRequest(Aggregate):
    """签章 — a document hash to be signed by one or more parties (会签), ordered or parallel."""

    class Event(AuditedEvent):
        pass

    class Requested(Event, Aggregate.Created):
        """签章申请 — a document's hash was put up for signing by the listed parties."""

        document_hash: str
        hash_algorithm: str
        title: str
        parties: list[dict[str, str]]
        mode: str
        mobile: bool

        def apply(self, aggregate: SigningRequest) -> None:
            aggregate.signed = []

    class MobileCodeIssued(Event):
        """移动签章验证码 — a one-time code was sent to a signer's phone (only its salted hash is kept)."""

        signer: str
        code_salt: str
        code_hash: str
        expires_at: datetime

        def apply(self, aggregate: SigningRequest) -> None:
            aggregate.codes[self.signer] = (self.code_salt, self.code_hash, self.expires_at)
            aggregate.code_delivery[self.signer] = "sending"

    class MobileCodeSent(Event):
        """验证码已发送 — the SMS gateway accepted a signer's one-time code (the code is not recorded)."""

        signer: str
        message_id: str  # code_message_id(request, signer, code_salt): links it to its MobileCodeIssued
        gateway_message_id: str
        attempts: int

        def apply(self, aggregate: SigningRequest) -> None:
            aggregate.code_delivery[self.signer] = "sent"

    class MobileCodeDeliveryFailed(Event):
        """验证码发送失败 — an attempt to hand a code to the SMS gateway failed; tried again at
        `retry_at`, or given up (`retry_at` null: refused for good, or no try left before the code expires)."""

        signer: str
        message_id: str
        attempts: int
        error: str
        retry_at: datetime | None

        def apply(self, aggregate: SigningRequest) -> None:
            aggregate.code_delivery[self.signer] = "retrying" if self.retry_at is not None else "failed"

    class Signed(Event):
        """签章 — a party signed: the signature over the document hash, chained to the previous one."""

        seal_id: str
        signer: str
        algorithm: str
        signature: str
        signed_at: datetime
        previous_hash: str

        def apply(self, aggregate: SigningRequest) -> None:
            aggregate.signed.append(
                SignatureEntry(
                    str(aggregate.id),
                    aggregate.document_hash,
                    aggregate.hash_algorithm,
                    self.seal_id,
                    self.signer,
                    self.algorithm,
                    self.signed_at,
                    self.previous_hash,
                    self.signature,
                )
            )
            aggregate.codes.pop(self.signer, None)  # a code confirms one signature

    class Completed(Event):
        """会签完成 — every required party has signed; `final_hash` links to the last signature."""

        signatures: int
        final_hash: str

        def apply(self, aggregate: SigningRequest) -> None:
            aggregate.completed = True

    def __init__(
        self,
        document_hash: str,
        hash_algorithm: str,
        title: str,
        parties: list[dict[str, str]],
        mode: str,
        mobile: bool,
    ) -> None:
        self.document_hash = document_hash
        self.hash_algorithm = hash_algorithm
        self.title = title
        self.parties = parties
        self.mode = Mode(mode)
        self.mobile = mobile
        self.signed: list[SignatureEntry] = []
        self.codes: dict[str, tuple[str, str, datetime]] = {}
        self.code_delivery: dict[str, str] = {}  # signer → sending | sent | retrying | failed (latest code)
        self.completed = False

    @classmethod
    def request(
        cls,
        meta: Meta,
        *,
        document_hash: str,
        hash_algorithm: str,
        title: str,
        parties: list[dict[str, str]],
        mode: str,
        mobile: bool,
        request_id: UUID | None = None,
    ) -> SigningRequest:
        checked = check_hash(document_hash, hash_algorithm)
        try:
            how = Mode(mode)
        except ValueError:
            raise InvalidValue("mode", "ordered or parallel", "mode_unknown") from None
        if not title.strip():
            raise InvalidValue("title", "required", "required")
        return cls._create(
            cls.Requested,
            id=request_id,
            document_hash=checked,
            hash_algorithm=hash_algorithm,
            title=title.strip(),
            parties=_check_parties(parties, mobile),
            mode=how.value,
            mobile=mobile,
            **meta.fields(),
        )

    # — queries —

    def pending(self) -> list[dict[str, str]]:
        done = {(e.seal_id, e.signer) for e in self.signed}
        return [p for p in self.parties if (p["seal_id"], p["signer"]) not in done]

    def party_for(self, signer: str, seal_id: str | None = None) -> dict[str, str]:
        """The signer's next pending party (on the given seal, if several)."""
        if self.completed:
            raise IllegalTransition(f"signing request {self.id}", "completed", "sign")
        mine = [p for p in self.parties if p["signer"] == signer and (seal_id is None or p["seal_id"] == seal_id)]
        if not mine:
            raise Forbidden(f"{signer} is not a party of signing request {self.id}")
        pending = [p for p in self.pending() if p in mine]
        if not pending:
            raise Conflict(f"{signer} has already signed signing request {self.id}")
        party = pending[0]
        if self.mode == Mode.ORDERED and self.pending()[0] != party:
            turn = self.pending()[0]["signer"]
            raise IllegalTransition(f"signing request {self.id}", f"waiting for {turn}", f"sign by {signer}")
        return party

    def phone_of(self, signer: str) -> str | None:
        """The mobile number the request names for the signer (requests before numbers were kept: None)."""
        return next((p["phone"] for p in self.parties if p["signer"] == signer and p.get("phone")), None)

    def code_salt_of(self, signer: str) -> str | None:
        """The salt of the signer's current, unused code (None: none issued, or used by a signature)."""
        issued = self.codes.get(signer)
        return issued[0] if issued else None

    def previous_hash(self) -> str:
        return chain_hash(self.hash_algorithm, self.signed[-1].signature_bytes()) if self.signed else ""

    def payload_for(self, seal_id: str, signer: str, signed_at: datetime) -> bytes:
        return signing_payload(
            str(self.id),
            self.document_hash,
            self.hash_algorithm,
            seal_id,
            signer,
            signed_at,
            self.previous_hash(),
        )

    # — commands —

    def issue_mobile_code(self, meta: Meta, signer: str, salt: str, code_hash: str, expires_at: datetime) -> None:
        if not self.mobile:
            raise IllegalTransition(f"signing request {self.id}", "no mobile confirmation", "issue-code")
        self.party_for(signer)
        if expires_at <= meta.now:
            raise InvalidValue("expires_at", "a code must expire after it is issued", "expiry")
        self.trigger_event(
            self.MobileCodeIssued, signer=signer, code_salt=salt, code_hash=code_hash, expires_at=expires_at,
            **meta.fields(),
        )  # fmt: skip

    def record_code_sent(
        self, meta: Meta, signer: str, message_id: str, gateway_message_id: str, attempts: int
    ) -> None:
        self.trigger_event(
            self.MobileCodeSent, signer=signer, message_id=message_id, gateway_message_id=gateway_message_id[:200],
            attempts=attempts, **meta.fields(),
        )  # fmt: skip

    def record_code_failure(
        self, meta: Meta, signer: str, message_id: str, attempts: int, error: str, retry_at: datetime | None
    ) -> None:
        self.trigger_event(
            self.MobileCodeDeliveryFailed, signer=signer, message_id=message_id, attempts=attempts,
            error=error[:500], retry_at=retry_at, **meta.fields(),
        )  # fmt: skip

    def check_mobile_code(self, signer: str, code: str | None, now: datetime) -> None:
        if not self.mobile:
            return
        issued = self.codes.get(signer)
        if issued is None:
            raise MobileCodeRefused("no_code_issued")
        salt, expected, expires_at = issued
        if not code:
            raise MobileCodeRefused("code_required")
        if now > expires_at:
            raise MobileCodeRefused("code_expired")
        if not hmac.compare_digest(code_digest(salt, code), expected):
            raise MobileCodeRefused("code_wrong")

    def sign(self, meta: Meta, seal: Seal, signer: str, signature: bytes, code: str | None = None) -> None:
        """Record a party's signature, made at `meta.now`; completes the request with the last one."""
        party = self.party_for(signer, str(seal.id))
        self.check_mobile_code(signer, code, meta.now)
        seal.check_usable(signer, meta.now)
        if not verify(
            seal.algorithm, seal.public_key_bytes, self.payload_for(party["seal_id"], signer, meta.now), signature
        ):
            raise InvalidValue("signature", "does not verify with the seal's public key", "bad_signature")
        self.trigger_event(
            self.Signed,
            seal_id=party["seal_id"],
            signer=signer,
            algorithm=seal.algorithm,
            signature=base64.b64encode(signature).decode(),
            signed_at=meta.now,
            previous_hash=self.previous_hash(),
            **meta.fields(),
        )
        if not self.pending():
            self.trigger_event(
                self.Completed, signatures=len(self.signed), final_hash=self.previous_hash(), **meta.fields()
            )


def _check_parties(parties: list[dict[str, str]], mobile: bool = False) -> list[dict[str, str]]:
    if not parties:
        raise InvalidValue("parties", "at least one party (seal_id, signer)", "required")
    if len(parties) > MAX_PARTIES:
        raise InvalidValue("parties", f"at most {MAX_PARTIES} parties", "too_many")
    cleaned: list[dict[str, str]] = []
    for i, party in enumerate(parties):
        seal_id, signer = str(party.get("seal_id", "")).strip(), str(party.get("signer", "")).strip()
        if not seal_id or not signer:
            raise InvalidValue(f"parties.{i}", "seal_id and signer are required", "required")
        try:
            seal_id = str(UUID(seal_id))
        except ValueError:
            raise InvalidValue(f"parties.{i}.seal_id", "a seal id (UUID)", "uuid") from None
        entry = {"seal_id": seal_id, "signer": signer}
        if any(c["seal_id"] == seal_id and c["signer"] == signer for c in cleaned):
            raise InvalidValue(f"parties.{i}", "the same party twice", "duplicate_party")
        phone = str(party.get("phone") or "").strip()
        if mobile and not phone:
            raise InvalidValue(f"parties.{i}.phone", "mobile signing sends the code to the signer's phone", "required")
        if phone and not mobile:  # personal data is kept only where it is needed
            raise InvalidValue(f"parties.{i}.phone", "only for mobile signing (mobile: true)", "phone_not_needed")
        if phone:
            entry["phone"] = check_phone(phone, f"parties.{i}.phone")
        cleaned.append(entry)
    return cleaned
