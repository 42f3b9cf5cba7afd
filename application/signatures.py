"""签章 — seals (印章), signing requests and countersigning (签章, 会签, 移动签章), verification (验真).

The services sign on behalf of a signer with the seal's private key from the key store: the key
never leaves the store and never enters an event; only public keys and signatures are recorded.
Mobile codes go out through a `CodeSender` (infrastructure/sms.py, an SMS gateway, in production;
`MemoryCodeSender` keeps them for development and tests), with retries until the code expires
(application/mobile_codes.py); only a salted hash of a code is recorded, and the delivery outcomes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from application.base import Service
from application.clock import Clock
from application.commands import Invocation
from application.commands.seals import (
    ChangeSigners,
    RegisterSeal,
    ResumeSeal,
    RevokeSeal,
    SealChange,
    SealChanged,
    SealRegistered,
    SuspendSeal,
)
from application.commands.signing import (
    AddSignature,
    CodeIssued,
    IssueSigningCode,
    RequestSigning,
    SignatureAdded,
    SigningRequested,
)
from application.commands.verification import VerificationOutcome, VerifySignatures
from application.mobile_codes import CodeDispatcher, CodeMessage
from application.mobile_codes import CodeSender as CodeSender  # the port, where it always was
from application.policy import Actor, authorize
from domain.shared.errors import Conflict, Forbidden, InvalidValue
from domain.shared.events import Meta
from domain.signatures import Seal, SignatureEntry, SigningRequest, Verification, check_signatures
from domain.signatures.crypto import check_hash, generate_keypair, sign
from domain.signatures.signing import code_digest, code_message_id, mask_phone
from domain.signatures.verification import overall_reason
from infrastructure.log import GongjianApplication

if TYPE_CHECKING:
    from infrastructure.keystore import KeyStore

CODE_TTL = timedelta(minutes=5)


class MemoryCodeSender:
    """Keeps the last code per (signer, request): development mode and tests read it here, never production."""

    def __init__(self) -> None:
        self.sent: dict[tuple[str, str], str] = {}

    def send(self, message: CodeMessage) -> str:
        self.sent[(message.signer, message.signing_request_id)] = message.code
        return f"memory-{message.message_id}"


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

    def register(self, by: Invocation, command: RegisterSeal) -> SealRegistered:
        """Generate a key pair in the key store and register the seal with its public key."""
        actor = by.actor
        authorize(actor, "seal.register")
        _check_own_org(actor, command.holder_org)
        seal_id = uuid4()
        pair = generate_keypair(command.algorithm)
        fields: dict[str, Any] = {**asdict(command), "signers": list(command.signers)}

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            seal = Seal.register(meta, **fields, public_key=pair.public_key, seal_id=seal_id)
            return [seal], {"id": str(seal.id), "algorithm": seal.algorithm, "public_key": seal.public_key}

        meta = self.meta(actor, by.request_id)
        Seal.register(meta, **fields, public_key=pair.public_key)  # a 422 before the key is stored
        self.keys.put(str(seal_id), pair.private_key)
        return SealRegistered.of(self.execute(meta, actor, by.key, work))

    def change(self, by: Invocation, command: SealChange) -> SealChanged:
        """Suspend, resume, revoke, or change the signers."""
        actor = by.actor
        authorize(actor, f"seal.{command.action}")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            seal = self.load(Seal, command.seal_id, "seal")
            _check_own_org(actor, seal.holder_org)
            match command:
                case SuspendSeal(reason=reason):
                    seal.suspend(meta, reason=reason)
                case ResumeSeal(reason=reason):
                    seal.resume(meta, reason=reason)
                case RevokeSeal(reason=reason, effective_at=effective_at):
                    seal.revoke(meta, reason=reason, effective_at=effective_at)
                case ChangeSigners(signers=signers):
                    seal.change_signers(meta, signers=list(signers))
            return [seal], {"id": str(seal.id), "status": seal.status.value}

        return SealChanged.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))


class SigningService(Service):
    def __init__(
        self,
        app: GongjianApplication,
        clock: Clock,
        position_of: Callable[[UUID, int], int | None],
        keys: KeyStore,
        codes: CodeDispatcher | None,
        reveal_codes: bool = False,
    ) -> None:
        super().__init__(app, clock, position_of)
        self.keys = keys
        self.codes = codes  # None: mobile signing is off on this deployment (GONGJIAN_MOBILE_SIGNING)
        self.reveal_codes = reveal_codes  # development mode only: the code is echoed for trying it out

    def request(self, by: Invocation, command: RequestSigning) -> SigningRequested:
        actor = by.actor
        fields: dict[str, Any] = {
            **asdict(command),
            "parties": [{k: str(v) if isinstance(v, UUID) else v for k, v in p.items()} for p in command.parties],
        }
        authorize(actor, "signing.request")
        if fields.get("mobile") and self.codes is None:
            raise InvalidValue(
                "mobile", "mobile signing is off on this deployment (GONGJIAN_MOBILE_SIGNING)", "mobile_signing_off"
            )
        request_uuid = uuid4()

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            request = SigningRequest.request(meta, **fields, request_id=request_uuid)
            for party in request.parties:
                self.load(Seal, UUID(party["seal_id"]), f"seal {party['seal_id']}")
            return [request], {"id": str(request.id), "parties": request.parties, "mode": request.mode.value}

        return SigningRequested.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def issue_code(self, by: Invocation, command: IssueSigningCode) -> CodeIssued:
        """移动签章: text the signer a fresh one-time code (replacing any earlier one) to the number the
        request names; one attempt now, retries in the background until the code expires."""
        actor, request_id, signing_request_id = by.actor, by.request_id, command.signing_request_id
        authorize(actor, "signing.sign")
        codes = self.codes
        if codes is None:
            raise Conflict("mobile signing is off on this deployment (GONGJIAN_MOBILE_SIGNING)")
        code = f"{secrets.randbelow(10**6):06d}"
        salt = secrets.token_hex(16)
        sent: dict[str, Any] = {}

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            request = self.load(SigningRequest, signing_request_id, "signing request")
            expires_at = meta.now + CODE_TTL
            request.issue_mobile_code(meta, actor.actor_id, salt, code_digest(salt, code), expires_at)
            sent.update(phone=request.phone_of(actor.actor_id), expires_at=expires_at)
            phone = sent["phone"]
            return [request], {
                "id": str(request.id),
                "expires_at": expires_at.isoformat(),
                "sent_to": mask_phone(phone) if phone else None,
            }

        result = self.execute(self.meta(actor, request_id), actor, None, work)
        message = CodeMessage(
            message_id=str(code_message_id(signing_request_id, actor.actor_id, salt)),
            signing_request_id=str(signing_request_id),
            signer=actor.actor_id,
            phone=sent["phone"],
            code=code,
            expires_at=sent["expires_at"],
            minutes=int(CODE_TTL.total_seconds() // 60),
        )
        outcome = codes.submit(message, request_id)
        result = {**result, "delivery": outcome.state, "attempts": outcome.attempts}
        return CodeIssued.of({**result, "code": code} if self.reveal_codes else result)

    def sign(self, by: Invocation, command: AddSignature) -> SignatureAdded:
        """The actor signs as a party of the request, with the seal's key from the store."""
        actor, signing_request_id, code = by.actor, command.signing_request_id, command.code
        seal_id = str(command.seal_id) if command.seal_id is not None else None
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

        return SignatureAdded.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))


class VerificationService(Service):
    """验真 is a read: it answers and writes nothing, from any role, however often it is asked. Only an
    official who relies on the check in their work (用证留痕: the check becomes part of the file) asks
    for it to be recorded (`record=True`, `signature.record-check`): one `Verification.Recorded`."""

    def verify(self, by: Invocation, command: VerifySignatures) -> VerificationOutcome:
        """Answer valid or invalid with the reason (and the log position the seals were read at);
        record the check only when asked."""
        actor, document_hash, hash_algorithm = by.actor, command.document_hash, command.hash_algorithm
        signing_request_id, record = command.signing_request_id, command.record
        signatures = [dict(s) for s in command.signatures] if command.signatures is not None else None
        authorize(actor, "signature.verify")
        if record:
            authorize(actor, "signature.record-check")
        checked_hash = check_hash(document_hash, hash_algorithm)
        if signatures is None and signing_request_id is None:
            raise InvalidValue("signatures", "give the signatures or a signing_request_id", "required")

        def check() -> tuple[list[Any], bool]:
            incomplete = False
            if signatures is not None:
                entries = parse_entries(signatures)
            else:
                assert signing_request_id is not None
                request = self.load(SigningRequest, signing_request_id, "signing request")
                entries, incomplete = list(request.signed), not request.completed
            return check_signatures(checked_hash, hash_algorithm, entries, self._seals(entries)), incomplete

        if not record:
            position = self.app.max_position()  # the seals are read at (at least) this log position
            results, incomplete = check()
            reason = overall_reason(results, incomplete)
            answer = {"valid": reason == "ok", "reason": reason, "results": [r.as_dict() for r in results]}
            return VerificationOutcome.of({"id": str(uuid4()), "position": position, "recorded": False, **answer})

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            results, incomplete = check()
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
            results_out = [r.as_dict() for r in results]
            return [verification], {"id": str(verification.id), **answer, "results": results_out, "recorded": True}

        return VerificationOutcome.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

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
