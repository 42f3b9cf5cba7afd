"""监管问责 commands (application/supervision.py `SupervisionService`): warning dispositions and inquiries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class AcknowledgeWarning:
    """签收 — a warning (offline_warnings' id) acknowledged."""

    warning_id: str
    note: str = ""


@dataclass(frozen=True)
class CloseWarning:
    """说明后关闭 — a warning closed with its explanation."""

    warning_id: str
    explanation: str


@dataclass(frozen=True)
class OpenInquiry:
    """问责 — an inquiry on warnings, the department asked to explain; `region_code` None: the first warning's."""

    warning_ids: Sequence[str]
    subject: str
    department: str
    reason: str
    region_code: str | None = None


@dataclass(frozen=True)
class ActOnInquiry:
    """One of an inquiry's steps (domain/supervision/inquiry.py ACTIONS) with its body's fields."""

    inquiry_id: UUID
    action: str
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class WarningDisposed(Outcome):
    id: str  # the warning's id, as the offline_warnings read model has it
    status: str


@dataclass(frozen=True, kw_only=True)
class InquiryOutcome(Outcome):
    id: UUID
    status: str  # the inquiry's phase
