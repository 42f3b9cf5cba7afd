"""印章 commands (application/signatures.py `SealService`). A seal's changes are one dataclass each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class RegisterSeal:
    """印章登记 — a key pair is made in the key store; the seal keeps the public key."""

    holder_org: str
    name: str
    purpose: str
    algorithm: str  # sm2-sm3 | ed25519 | ecdsa-p256-sha256
    valid_from: datetime
    valid_until: datetime
    signers: Sequence[str]  # the authorised signers' actor ids


@dataclass(frozen=True)
class SuspendSeal:
    action: ClassVar[str] = "suspend"
    seal_id: UUID
    reason: str


@dataclass(frozen=True)
class ResumeSeal:
    action: ClassVar[str] = "resume"
    seal_id: UUID
    reason: str


@dataclass(frozen=True)
class RevokeSeal:
    """印章注销 — from now, or from an earlier time (`effective_at`): signatures after it are invalid."""

    action: ClassVar[str] = "revoke"
    seal_id: UUID
    reason: str
    effective_at: datetime | None = None


@dataclass(frozen=True)
class ChangeSigners:
    """授权签章人 — the seal's authorised signers replaced."""

    action: ClassVar[str] = "change-signers"
    seal_id: UUID
    signers: Sequence[str]


SealChange = SuspendSeal | ResumeSeal | RevokeSeal | ChangeSigners


@dataclass(frozen=True, kw_only=True)
class SealRegistered(Outcome):
    id: UUID
    algorithm: str
    public_key: str


@dataclass(frozen=True, kw_only=True)
class SealChanged(Outcome):
    id: UUID
    status: str
