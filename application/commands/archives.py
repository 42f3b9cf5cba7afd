"""电子档案 commands (application/archives.py `ArchiveService`): generate, receive, transfer a package."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class GenerateArchive:
    """归档 — the package of a decided or closed case."""

    case_id: UUID


@dataclass(frozen=True)
class ReceiveArchive:
    """档案接收 — an external package's bytes, verified offline before anything is recorded."""

    data: bytes
    source: str = "external"  # the system the package comes from


@dataclass(frozen=True)
class TransferArchive:
    """档案移交 — to the archive management system (the first attempt at once, the worker retries)."""

    archive_id: UUID


@dataclass(frozen=True, kw_only=True)
class ArchiveOutcome(Outcome):
    """The package after the command (after the first transfer attempt, for a transfer)."""

    id: UUID
    case_id: str  # a received package may carry another system's case id, no UUID of ours
    status: str
    manifest_hash: str
    package_hash: str
    hash_algorithm: str
    events: int
    tree_size: int
    attempts: int
    retry_at: str | None  # no default: answered as null while none is set
    receipt: str | None
