"""电子证照 commands (application/licences.py `LicenceService`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class IssueLicence:
    """证照签发 — the content (domain/licences `prepare` checks it), signed with the department's seal."""

    number: str
    licence_type: str
    holder_name: str
    holder_uscc: str
    project_code: str
    item_code: str
    region_code: str
    valid_from: date
    seal_id: UUID  # the caller must be one of its authorised signers
    valid_until: date | None = None
    topic: Mapping[str, Any] = field(default_factory=dict)
    case_id: UUID | None = None  # the approved case the licence is issued on


@dataclass(frozen=True)
class RevokeLicence:
    """证照注销."""

    number: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class LicenceIssued(Outcome):
    id: UUID
    number: str
    document_hash: str
    hash_algorithm: str
    signature: dict[str, Any]  # the signature entry (seal, signer, algorithm, value, signed_at)


@dataclass(frozen=True, kw_only=True)
class LicenceRevoked(Outcome):
    id: UUID
    number: str
    status: str
