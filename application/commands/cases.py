"""办件 commands (application/approvals.py `CaseService`): receipt, the lifecycle actions (one dataclass
each), back-entry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, get_args
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


# 办件流转: a case's lifecycle actions, one dataclass each (`action`: domain/approvals/status.py ACTIONS),
# taken by `CaseService.act`; the fields are those of the action's API body (interfaces/rest/schemas.py)


@dataclass(frozen=True)
class AcceptCase:
    """受理 — the time limits of the item version the case was received under start."""

    action: ClassVar[str] = "accept"
    case_id: UUID


@dataclass(frozen=True)
class NotAcceptCase:
    """不受理."""

    action: ClassVar[str] = "not-accept"
    case_id: UUID
    reason: str


@dataclass(frozen=True)
class RefuseAcceptance:
    """不予受理."""

    action: ClassVar[str] = "refuse-acceptance"
    case_id: UUID
    reason: str


@dataclass(frozen=True)
class RequestCorrection:
    """补正开始 — 一次性告知: every material to correct at once."""

    action: ClassVar[str] = "request-correction"
    case_id: UUID
    materials: Sequence[str]
    note: str = ""


@dataclass(frozen=True)
class CompleteCorrection:
    """补正结束."""

    action: ClassVar[str] = "complete-correction"
    case_id: UUID
    note: str = ""


@dataclass(frozen=True)
class StartReview:
    """部门开始办理."""

    action: ClassVar[str] = "start-review"
    case_id: UUID


@dataclass(frozen=True)
class RecordOpinion:
    """审查意见 — `result` agree, disagree or note."""

    action: ClassVar[str] = "record-opinion"
    case_id: UUID
    department: str
    opinion: str
    result: str = "note"


@dataclass(frozen=True)
class StartSpecialProcedure:
    """特别程序开始 — the case's clock stops for `limit_days` working days at most."""

    action: ClassVar[str] = "start-special-procedure"
    case_id: UUID
    procedure_type: str
    procedure_name: str
    limit_days: int
    reason: str = ""


@dataclass(frozen=True)
class EndSpecialProcedure:
    """特别程序结束."""

    action: ClassVar[str] = "end-special-procedure"
    case_id: UUID
    result: str = ""


@dataclass(frozen=True)
class ApproveCase:
    """办结（通过）."""

    action: ClassVar[str] = "approve"
    case_id: UUID
    document_number: str | None = None
    document_title: str | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class ApprovePendingMaterials:
    """办结（容缺通过） — `materials_due_on` None: the item's period after the decision, in working days."""

    action: ClassVar[str] = "approve-pending-materials"
    case_id: UUID
    pending_materials: Sequence[str]
    document_number: str | None = None
    materials_due_on: date | None = None


@dataclass(frozen=True)
class SupplyMaterials:
    """补齐容缺材料 — some or all of the materials to follow."""

    action: ClassVar[str] = "supply-materials"
    case_id: UUID
    supplied_materials: Sequence[str]
    note: str = ""


@dataclass(frozen=True)
class ApproveOnCommitment:
    """承诺制审批 — approved on the applicant's commitments (告知承诺制), to be verified."""

    action: ClassVar[str] = "approve-on-commitment"
    case_id: UUID
    commitments: Sequence[str]
    document_number: str | None = None
    document_title: str | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class VerifyCommitment:
    """承诺核查 — the commitments verified true, or false (the approval is revoked)."""

    action: ClassVar[str] = "verify-commitment"
    case_id: UUID
    verified: bool
    finding: str
    false_commitments: Sequence[str] = ()


@dataclass(frozen=True)
class RefuseCase:
    """办结（不通过）."""

    action: ClassVar[str] = "refuse"
    case_id: UUID
    reason: str


@dataclass(frozen=True)
class WithdrawCase:
    """撤件/撤回."""

    action: ClassVar[str] = "withdraw"
    case_id: UUID
    reason: str = ""


@dataclass(frozen=True)
class RevokeCase:
    """撤销."""

    action: ClassVar[str] = "revoke"
    case_id: UUID
    reason: str


CaseAction = (
    AcceptCase
    | NotAcceptCase
    | RefuseAcceptance
    | RequestCorrection
    | CompleteCorrection
    | StartReview
    | RecordOpinion
    | StartSpecialProcedure
    | EndSpecialProcedure
    | ApproveCase
    | ApprovePendingMaterials
    | SupplyMaterials
    | ApproveOnCommitment
    | VerifyCommitment
    | RefuseCase
    | WithdrawCase
    | RevokeCase
)
# the command of each action name (the REST route of each action builds its own)
CASE_ACTIONS: dict[str, type[CaseAction]] = {c.action: c for c in get_args(CaseAction)}


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
