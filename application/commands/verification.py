"""验真 (application/signatures.py `VerificationService`): a check of signatures, recorded when asked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class VerifySignatures:
    """The signature entries given, or a signing request's; `record`: 用证留痕, one `Verification.Recorded`."""

    document_hash: str
    hash_algorithm: str = "sm3"
    signatures: Sequence[Mapping[str, Any]] | None = None
    signing_request_id: UUID | None = None
    record: bool = False


@dataclass(frozen=True, kw_only=True)
class VerificationOutcome(Outcome):
    """valid or not with the reason, per signature; `position`: the log position the seals were read at."""

    id: UUID
    valid: bool
    reason: str
    results: list[dict[str, Any]]
    recorded: bool
