"""签章 commands (application/signatures.py `SigningService`): a signing request and a signature."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class RequestSigning:
    """签章/会签 — a document hash to be signed by one or more parties (seal_id, signer[, phone])."""

    document_hash: str
    title: str
    parties: Sequence[Mapping[str, Any]]
    hash_algorithm: str = "sm3"
    mode: str = "ordered"  # ordered | parallel
    mobile: bool = False  # 移动签章: each signature needs a one-time code


@dataclass(frozen=True)
class AddSignature:
    """签章 — the caller signs as a party of the request (`seal_id`: which party, when several)."""

    signing_request_id: UUID
    seal_id: UUID | None = None
    code: str | None = None  # the one-time code (mobile signing)


@dataclass(frozen=True, kw_only=True)
class SigningRequested(Outcome):
    id: UUID
    parties: list[dict[str, Any]]
    mode: str


@dataclass(frozen=True, kw_only=True)
class SignatureAdded(Outcome):
    id: UUID
    signature: dict[str, Any]
    completed: bool
    pending: list[dict[str, Any]]
    signatures: list[dict[str, Any]]


@dataclass(frozen=True)
class IssueSigningCode:
    """移动签章 — a fresh one-time code texted to the caller as a signer of the request. Not keyed: each
    asks for a new code (an `Invocation`'s key is not used)."""

    signing_request_id: UUID


@dataclass(frozen=True, kw_only=True)
class CodeIssued(Outcome):
    """The code's expiry, the masked number it went to (null: none on the request) and its SMS delivery
    after the first attempt; `code` itself only in development mode (`reveal_codes`)."""

    id: UUID
    expires_at: str
    sent_to: str | None
    delivery: str
    attempts: int
    code: str | None = None
