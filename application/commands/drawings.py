"""图纸电子化交付 commands (application/drawings.py `DrawingService`): deliver a set, review it, revise,
approve, check files against the approved hashes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class DeliverDrawings:
    """图纸交付 — version 1 of a discipline's set for a case, signed by the design institute (a
    completed signing request over the set hash)."""

    case_id: UUID
    discipline: str  # domain/industry/drawings Discipline value
    design_institute: str
    institute_uscc: str
    sheets: Sequence[Mapping[str, Any]]  # number, title, sha256[, size]
    signing_request_id: UUID


@dataclass(frozen=True)
class CommentSheet:
    """审查意见 — on one sheet of the current version."""

    set_id: UUID
    sheet_number: str
    comment: str


@dataclass(frozen=True)
class RequestDrawingRevision:
    """退回修改."""

    set_id: UUID
    reason: str


@dataclass(frozen=True)
class ReviseDrawings:
    """图纸修改版交付 — a new version superseding the current one, signed again."""

    set_id: UUID
    sheets: Sequence[Mapping[str, Any]]
    signing_request_id: UUID


@dataclass(frozen=True)
class ApproveDrawings:
    """图纸审查合格 — fixes the current version."""

    set_id: UUID


@dataclass(frozen=True)
class CheckDrawingFiles:
    """图纸一致性核验 — each file as `{number, content}` (bytes) or `{number, sha256}`."""

    set_id: UUID
    files: Sequence[Mapping[str, Any]]


@dataclass(frozen=True, kw_only=True)
class DrawingSetOutcome(Outcome):
    """The set after the command; `approved_version` is null until one is approved."""

    id: UUID
    case_id: str
    project_code: str
    discipline: str
    status: str
    version: int
    set_hash: str
    approved_version: int | None
    open_comments: int


@dataclass(frozen=True, kw_only=True)
class DrawingFilesChecked(Outcome):
    """The approved version checked; the sheets whose file changed (with both hashes) or is missing."""

    id: UUID
    version: int
    intact: bool
    changed: list[dict[str, Any]]
    missing: list[str]
