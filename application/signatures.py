"""签章 — seals (印章), signing requests and countersigning (签章, 会签, 移动签章), verification (验真).

The services sign on behalf of a signer with the seal's private key from the key store: the key
never leaves the store and never enters an event; only public keys and signatures are recorded.
Mobile codes go out through a `CodeSender` (an SMS gateway in production; `MemoryCodeSender`
keeps them for development and tests); only a salted hash of a code is recorded.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID, uuid4

from application.app import GongjianApplication
from application.base import Service
from application.clock import Clock
from application.idempotency import IdempotencyKey
from application.policy import Actor, authorize
from domain.shared.errors import Forbidden, InvalidValue
from domain.shared.events import Meta
from domain.signatures import Seal, SignatureEntry, SigningRequest, Verification, check_signatures
from domain.signatures.crypto import HashAlgorithm, check_hash, generate_keypair, sign
from domain.signatures.signing import code_digest

if TYPE_CHECKING:
    from infrastructure.keystore import KeyStore

CODE_TTL = timedelta(minutes=5)


class CodeSender(Protocol):
    def send(self, signer: str, signing_request_id: str, code: str) -> None: ...


class MemoryCodeSender:
    """Keeps the last code per (signer, request): development and tests read it here."""

    def __init__(self) -> None:
        self.sent: dict[tuple[str, str], str] = {}

    def send(self, signer: str, signing_request_id: str, code: str) -> None:
        self.sent[(signer, signing_request_id)] = code


def _check_own_org(actor: Actor, holder_org: str) -> None:
    # an approver manages only the seals of their own department; admin any
    if actor.role != "admin" and actor.org != holder_org:
        raise Forbidden(f"{actor.role} of {actor.org} may manage only its own organisation's seals")


class SealService(Service):
    def __init__(
        self, app: GongjianApplication, clock: Clock, position_of: Callable[[UUID, int], int | None], keys: KeyStore
    ) -> None:
        super().__init__(app, clock, position_of)
        self.keys = keys

    def register(
        self, actor: Actor, request_id: str, key: IdempotencyKey | None, fields: dict[str, Any]
    ) -> dict[str, Any]:
        """Generate a key pair in the key store and register the seal with its public key."""
        authorize(actor, "seal.register")
        _check_own_org(actor, fields["holder_org"])
        seal_id = uuid4()
        pair = generate_keypair(fields["algorithm"])

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            seal = Seal.register(meta, **fields, public_key=pair.public_key, seal_id=seal_id)
            return [seal], {"id": str(seal.id), "algorithm": seal.algorithm, "public_key": seal.public_key}

        meta = self.meta(actor, request_id)
        Seal.register(meta, **fields, public_key=pair.public_key)  # a 422 before the key is stored
        self.keys.put(str(seal_id), pair.private_key)
        return self.execute(meta, actor, key, work)

    def change(
        self, actor: Actor, request_id: str, key: IdempotencyKey | None, seal_id: UUID, action: str, **args: Any
    ) -> dict[str, Any]:
        """action ∈ suspend, resume, revoke, change-signers."""
        authorize(actor, f"seal.{action}")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            seal = self.load(Seal, seal_id, "seal")
            _check_own_org(actor, seal.holder_org)
            getattr(seal, action.replace("-", "_"))(meta, **args)
            return [seal], {"id": str(seal.id), "status": seal.status.value}

        return self.execute(self.meta(actor, request_id), actor, key, work)


class SigningService(Service):
    def __init__(
        self,
        app: GongjianApplication,
        clock: Clock,
        position_of: Callable[[UUID, int], int | None],
        keys: KeyStore,
        sender: CodeSender,
        reveal_codes: bool = False,
    ) -> None:
        super().__init__(app, clock, position_of)
        self.keys = keys
        self.sender = sender
        self.reveal_codes = reveal_codes  # embedded default only: the code is echoed for trying it out

    def request(
        self, actor: Actor, request_id: str, key: IdempotencyKey | None, fields: dict[str, Any]
    ) -> dict[str, Any]:
        authorize(actor, "signing.request")
        request_uuid = uuid4()

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            request = SigningRequest.request(meta, **fields, request_id=request_uuid)
            for party in request.parties:
                self.load(Seal, UUID(party["seal_id"]), f"seal {party['seal_id']}")
            return [request], {"id": str(request.id), "parties": request.parties, "mode": request.mode.value}

        return self.execute(self.meta(actor, request_id), actor, key, work)

    def issue_code(self, actor: Actor, request_id: str, signing_request_id: UUID) -> dict[str, Any]:
        """移动签章: send the signer a fresh one-time code (replacing any earlier one)."""
        authorize(actor, "signing.sign")
        code = f"{secrets.randbelow(10**6):06d}"
        salt = secrets.token_hex(16)

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            request = self.load(SigningRequest, signing_request_id, "signing request")
            expires_at = meta.now + CODE_TTL
            request.issue_mobile_code(meta, actor.actor_id, salt, code_digest(salt, code), expires_at)
            return [request], {"id": str(request.id), "expires_at": expires_at.isoformat()}

        result = self.execute(self.meta(actor, request_id), actor, None, work)
        self.sender.send(actor.actor_id, str(signing_request_id), code)
        return {**result, "code": code} if self.reveal_codes else result

    def sign(
        self,
        actor: Actor,
        request_id: str,
        key: IdempotencyKey | None,
        signing_request_id: UUID,
        seal_id: str | None = None,
        code: str | None = None,
    ) -> dict[str, Any]:
        """The actor signs as a party of the request, with the seal's key from the store."""
        authorize(actor, "signing.sign")
        signer = actor.actor_id

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            request = self.load(SigningRequest, signing_request_id, "signing request")
            party = request.party_for(signer, seal_id)
            seal = self.load(Seal, UUID(party["seal_id"]), "seal")
            request.check_mobile_code(signer, code, meta.now)  # before the private key is touched
            seal.check_usable(signer, meta.now)
            payload = request.payload_for(party["seal_id"], signer, meta.now)
            request.sign(meta, seal, signer, sign(seal.algorithm, self.keys.get(str(seal.id)), payload), code)
            return [request], {
                "id": str(request.id),
                "signature": request.signed[-1].as_dict(),
                "completed": request.completed,
                "pending": request.pending(),
                "signatures": [e.as_dict() for e in request.signed],
            }

        return self.execute(self.meta(actor, request_id), actor, key, work)


class VerificationService(Service):
    def verify(
        self,
        actor: Actor,
        request_id: str,
        key: IdempotencyKey | None,
        *,
        document_hash: str,
        hash_algorithm: str = HashAlgorithm.SM3.value,
        signatures: Sequence[dict[str, Any]] | None = None,
        signing_request_id: UUID | None = None,
    ) -> dict[str, Any]:
        """Answer valid or invalid with the reason, and record the check (`Verification.Recorded`)."""
        authorize(actor, "signature.verify")
        checked_hash = check_hash(document_hash, hash_algorithm)
        if signatures is None and signing_request_id is None:
            raise InvalidValue("signatures", "give the signatures or a signing_request_id", "required")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            incomplete = False
            if signatures is not None:
                entries = parse_entries(signatures)
            else:
                assert signing_request_id is not None
                request = self.load(SigningRequest, signing_request_id, "signing request")
                entries, incomplete = list(request.signed), not request.completed
            results = check_signatures(checked_hash, hash_algorithm, entries, self._seals(entries))
            verification = Verification.record(
                meta,
                document_hash=checked_hash,
                hash_algorithm=hash_algorithm,
                signing_request_id=str(signing_request_id) if signing_request_id else None,
                results=results,
                incomplete=incomplete,
                verification_id=uuid4(),
            )
            answer = {"valid": verification.valid, "reason": verification.reason}
            return [verification], {"id": str(verification.id), **answer, "results": [r.as_dict() for r in results]}

        return self.execute(self.meta(actor, request_id), actor, key, work)

    def _seals(self, entries: Sequence[SignatureEntry]) -> dict[str, Seal]:
        seals: dict[str, Seal] = {}
        for entry in entries:
            try:
                found = self.find(Seal, UUID(entry.seal_id))
            except ValueError:
                found = None
            if found is not None:
                seals[entry.seal_id] = found
        return seals


ENTRY_FIELDS = (
    "signing_request_id",
    "document_hash",
    "hash_algorithm",
    "seal_id",
    "signer",
    "algorithm",
    "signed_at",
    "previous_hash",
    "signature",
)


def parse_entries(signatures: Sequence[dict[str, Any]]) -> list[SignatureEntry]:
    """Signature entries as exported by the signing responses (`signature`, `signatures`)."""
    entries = []
    for i, raw in enumerate(signatures):
        missing = [f for f in ENTRY_FIELDS if f not in raw]
        if missing:
            raise InvalidValue(f"signatures.{i}", f"missing fields {missing}", "required")
        values = {f: str(raw[f]) for f in ENTRY_FIELDS}
        try:
            signed_at = datetime.fromisoformat(values.pop("signed_at"))
        except ValueError:
            raise InvalidValue(f"signatures.{i}.signed_at", "an ISO 8601 time with offset", "datetime") from None
        if signed_at.tzinfo is None:
            raise InvalidValue(f"signatures.{i}.signed_at", "needs a UTC offset", "naive_datetime")
        entries.append(SignatureEntry(signed_at=signed_at, **values))
    return entries
