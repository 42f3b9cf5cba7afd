"""签章 — seals (印章), signing requests and countersigning (会签, 移动签章), verification (验真)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import Field

from application.commands import Invocation
from application.commands.seals import ChangeSigners, RegisterSeal, ResumeSeal, RevokeSeal, SuspendSeal
from application.commands.signing import AddSignature, IssueSigningCode, RequestSigning
from application.commands.verification import VerifySignatures
from interfaces.rest.deps import ContainerDep, CurrentActor, IdemKey, RequestId, idempotency, role_may
from interfaces.rest.schemas import Checked, CommandResult, Line, Note

router = APIRouter(prefix="/api/v1", tags=["signatures 签章"])


class SealRegistration(Checked):
    holder_org: str = Field(description="USCC or department code of the holder organisation")
    name: Line = Field(description="印章名称, e.g. 海口市住房和城乡建设局行政审批专用章")
    purpose: str = Field(description="用途: approval, licence, contract …")
    algorithm: Literal["sm2-sm3", "ed25519", "ecdsa-p256-sha256"] = "sm2-sm3"
    valid_from: datetime
    valid_until: datetime
    signers: list[str] = Field(description="actor ids allowed to sign with the seal")


class SealChange(Checked):
    reason: Note


class SealRevocation(SealChange):
    effective_at: datetime | None = Field(None, description="when the revocation took effect (default now)")


class SealSigners(Checked):
    signers: list[str]


class Party(Checked):
    seal_id: UUID
    signer: str
    phone: str | None = Field(
        None,
        description="签章人手机号, mobile signing only (required then): where the one-time code is texted; "
        "a mainland mobile number (13800138000, +86 allowed); personal data",
        max_length=20,
    )


class SigningRequestBody(Checked):
    document_hash: str = Field(description="hex digest of the document (64 hex digits)")
    hash_algorithm: Literal["sm3", "sha256"] = "sm3"
    title: Line
    parties: list[Party]
    mode: Literal["ordered", "parallel"] = "ordered"
    mobile: bool = Field(False, description="移动签章: each signature needs a one-time code")


class SignatureBody(Checked):
    seal_id: UUID | None = Field(None, description="which of the signer's parties, when there are several")
    code: str | None = Field(None, description="the one-time code (mobile signing)")


class VerifyBody(Checked):
    document_hash: str
    hash_algorithm: Literal["sm3", "sha256"] = "sm3"
    signatures: list[dict[str, Any]] | None = Field(
        None, description="signature entries as the signing responses give them"
    )
    signing_request_id: UUID | None = Field(None, description="or: verify the request's recorded signatures")
    record: bool = Field(
        False,
        description="用证留痕: record this check as one Verification.Recorded (officials only: window clerk, reviewer,"
        " approver, supervisor, accountability officer, admin); by default a check writes nothing",
    )


@router.post(
    "/seals",
    dependencies=[role_may("seal.register")],
    status_code=201,
    response_model=CommandResult,
    summary="印章 — register a seal; its key pair is generated in the key store",
)
def register_seal(
    body: SealRegistration, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    by = Invocation(actor, request_id, idempotency(key, "seal.register", body))
    return c.seals.register(by, RegisterSeal(**body.model_dump())).to_json()


@router.post(
    "/seals/{seal_id}/revoke",
    dependencies=[role_may("seal.revoke")],
    response_model=CommandResult,
    summary="印章注销 — revoke a seal, optionally from an earlier time",
)
def revoke_seal(
    seal_id: UUID, body: SealRevocation, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "seal.revoke", body, seal_id=seal_id)
    command = RevokeSeal(seal_id, body.reason, body.effective_at)
    return c.seals.change(Invocation(actor, request_id, idem), command).to_json()


@router.post(
    "/seals/{seal_id}/{action}",
    dependencies=[role_may("seal.{action}")],
    response_model=CommandResult,
    summary="印章暂停/恢复 — action ∈ suspend, resume",
)
def suspend_or_resume_seal(
    seal_id: UUID,
    action: Literal["suspend", "resume"],
    body: SealChange,
    actor: CurrentActor,
    request_id: RequestId,
    key: IdemKey,
    c: ContainerDep,
) -> dict[str, Any]:
    idem = idempotency(key, f"seal.{action}", body, seal_id=seal_id)
    command = SuspendSeal(seal_id, body.reason) if action == "suspend" else ResumeSeal(seal_id, body.reason)
    return c.seals.change(Invocation(actor, request_id, idem), command).to_json()


@router.put(
    "/seals/{seal_id}/signers",
    dependencies=[role_may("seal.change-signers")],
    response_model=CommandResult,
    summary="授权签章人 — replace the seal's authorised signers",
)
def change_signers(
    seal_id: UUID, body: SealSigners, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "seal.change-signers", body, seal_id=seal_id)
    return c.seals.change(Invocation(actor, request_id, idem), ChangeSigners(seal_id, body.signers)).to_json()


@router.post(
    "/signing-requests",
    dependencies=[role_may("signing.request")],
    status_code=201,
    response_model=CommandResult,
    summary="签章/会签 — a document hash to be signed by one or more parties",
)
def request_signing(
    body: SigningRequestBody, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    by = Invocation(actor, request_id, idempotency(key, "signing.request", body))
    return c.signing.request(by, RequestSigning(**body.model_dump(mode="json"))).to_json()


@router.post(
    "/signing-requests/{signing_request_id}/mobile-codes",
    dependencies=[role_may("signing.sign")],
    status_code=201,
    response_model=CommandResult,
    summary="移动签章 — text the signer a one-time code (delivery: sent, retrying or failed; retried until it expires)",
)
def issue_mobile_code(
    signing_request_id: UUID, actor: CurrentActor, request_id: RequestId, c: ContainerDep
) -> dict[str, Any]:
    return c.signing.issue_code(Invocation(actor, request_id), IssueSigningCode(signing_request_id)).to_json()


@router.post(
    "/signing-requests/{signing_request_id}/signatures",
    dependencies=[role_may("signing.sign")],
    status_code=201,
    response_model=CommandResult,
    summary="签章 — the caller signs as a party of the request",
)
def add_signature(
    signing_request_id: UUID,
    body: SignatureBody,
    actor: CurrentActor,
    request_id: RequestId,
    key: IdemKey,
    c: ContainerDep,
) -> dict[str, Any]:
    idem = idempotency(key, "signing.sign", body, signing_request_id=signing_request_id)
    command = AddSignature(signing_request_id, body.seal_id, body.code)
    return c.signing.sign(Invocation(actor, request_id, idem), command).to_json()


# no role_may: 验真 is open to every role (signature.verify); `record: true` also needs
# signature.record-check, which the service checks: refusing it here would need the body
@router.post(
    "/signatures/verify",
    response_model=CommandResult,
    summary="验真 — valid or invalid with the reason; recorded only on an official's `record: true`",
)
def verify_signatures(
    body: VerifyBody, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    return c.verifications.verify(
        Invocation(actor, request_id, idempotency(key, "signature.verify", body)),
        VerifySignatures(
            body.document_hash, body.hash_algorithm, body.signatures, body.signing_request_id, body.record
        ),
    ).to_json()
