"""办件 commands (application/approvals.py `CaseService`): receipt, a lifecycle action, back-entry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class SubmitCase:
    """收件 — a case for an item of a generated project (defaults as in the API's body)."""

    project_code: str
    item_code: str
    situation_codes: Sequence[str] = ()
    materials: Sequence[Mapping[str, Any]] = ()
    parallel_application_id: str | None = None
    acceptance_mode: int = 1  # 1 window, 4 fully online
    item_version: str | None = None  # 事项版本 expected (R1)


@dataclass(frozen=True)
class ActOnCase:
    """办件流转 — one lifecycle action (domain/approvals/status.py ACTIONS) with its body's fields,
    as the API's body model for that action has checked them (interfaces/rest/schemas.py)."""

    case_id: UUID
    action: str
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BackEnterCase:
    """补录 — a decision taken outside the system, entered afterwards; `decided_at` is its business time."""

    project_code: str
    item_code: str
    decision: str  # domain/approvals Decision value
    decided_at: datetime
    reason: str
    received_on: date | None = None
    accepted_on: date | None = None
    document_number: str | None = None


@dataclass(frozen=True, kw_only=True)
class CaseOutcome(Outcome):
    """The case and its status after the command; `status` (the label) on lifecycle actions,
    `rule_approval` (and the `document_number` of an approval) when 智能审批 judged a receipt."""

    id: UUID
    status_code: int
    status: str | None = None
    rule_approval: dict[str, Any] | None = None
    document_number: str | None = None
