"""签章验真 — checking a document hash and its signatures, and the Verification aggregate that
records each check (who asked, what was checked, the answer and its reasons).

A signature is valid when: it is over this document hash; it links to the previous one in the
list; it verifies with the seal's public key; and at its signing time the seal was within its
validity, neither suspended nor revoked, and the signer was authorised. The first failing check
is the reason.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.shared.events import AuditedEvent, Meta
from domain.signatures.crypto import verify
from domain.signatures.seal import Seal
from domain.signatures.signing import SignatureEntry, chain_hash


@dataclass(frozen=True)
class SignatureCheck:
    seal_id: str
    signer: str
    signed_at: str
    valid: bool
    reason: str  # "ok" or the first failing check

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def check_signatures(
    document_hash: str, hash_algorithm: str, entries: Sequence[SignatureEntry], seals: Mapping[str, Seal]
) -> list[SignatureCheck]:
    """Each entry's verdict, in order; `seals` holds the seals found (a missing one is `unknown_seal`)."""
    results: list[SignatureCheck] = []
    previous = ""
    for entry in entries:
        reason = _first_problem(document_hash, hash_algorithm, entry, previous, seals.get(entry.seal_id))
        results.append(
            SignatureCheck(entry.seal_id, entry.signer, entry.signed_at.isoformat(), reason is None, reason or "ok")
        )
        try:
            previous = chain_hash(entry.hash_algorithm, entry.signature_bytes())
        except (binascii.Error, ValueError):
            previous = "unreadable"
    return results


def _first_problem(
    document_hash: str, hash_algorithm: str, entry: SignatureEntry, previous: str, seal: Seal | None
) -> str | None:
    if entry.document_hash != document_hash or entry.hash_algorithm != hash_algorithm:
        return "hash_mismatch"
    if entry.previous_hash != previous:
        return "chain_broken"
    if seal is None:
        return "unknown_seal"
    if entry.algorithm != seal.algorithm:
        return "algorithm_mismatch"
    try:
        signature = entry.signature_bytes()
    except (binascii.Error, ValueError):
        return "bad_signature"
    if not verify(seal.algorithm, seal.public_key_bytes, entry.payload(), signature):
        return "bad_signature"
    return seal.problem_at(entry.signer, entry.signed_at)


def overall_reason(results: Sequence[SignatureCheck], incomplete: bool = False) -> str:
    """The overall answer: "ok" (valid) when there is at least one signature, all valid, and the
    request (if any) complete; else the first signature's problem, `no_signatures` or `incomplete`."""
    bad = next((r.reason for r in results if not r.valid), None)
    return bad or ("no_signatures" if not results else "incomplete" if incomplete else "ok")


class Verification(Aggregate):
    """签章验真 — one check of a document hash against its signatures, as answered."""

    class Event(AuditedEvent):
        pass

    class Recorded(Event, Aggregate.Created):
        """验真记录 — a verification was asked and answered (valid or not, with each signature's reason)."""

        document_hash: str
        hash_algorithm: str
        signing_request_id: str | None
        valid: bool
        reason: str
        results: list[dict[str, Any]]

    def __init__(
        self,
        document_hash: str,
        hash_algorithm: str,
        signing_request_id: str | None,
        valid: bool,
        reason: str,
        results: list[dict[str, Any]],
    ) -> None:
        self.document_hash = document_hash
        self.valid = valid
        self.reason = reason

    @classmethod
    def record(
        cls,
        meta: Meta,
        *,
        document_hash: str,
        hash_algorithm: str,
        signing_request_id: str | None,
        results: list[SignatureCheck],
        incomplete: bool = False,
        verification_id: UUID | None = None,
    ) -> Verification:
        """The overall answer (`overall_reason`), recorded."""
        reason = overall_reason(results, incomplete)
        return cls._create(
            cls.Recorded,
            id=verification_id,
            document_hash=document_hash,
            hash_algorithm=hash_algorithm,
            signing_request_id=signing_request_id,
            valid=reason == "ok",
            reason=reason,
            results=[r.as_dict() for r in results],
            **meta.fields(),
        )
