"""监管问责 commands (application/supervision.py `SupervisionService`): warning dispositions and inquiries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import ClassVar
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


# an inquiry's steps, one dataclass each (`action`: domain/supervision/inquiry.py ACTIONS), taken by
# `SupervisionService.act`


@dataclass(frozen=True)
class RequestExplanation:
    """要求说明 — the department explains by the deadline (a later business day)."""

    action: ClassVar[str] = "request-explanation"
    inquiry_id: UUID
    department: str
    deadline: date
    questions: Sequence[str]


@dataclass(frozen=True)
class RecordExplanation:
    """情况说明 — a department asked answers."""

    action: ClassVar[str] = "record-explanation"
    inquiry_id: UUID
    department: str
    explanation: str


@dataclass(frozen=True)
class RecordFinding:
    """调查结论 — violation_confirmed, justified or false_alarm."""

    action: ClassVar[str] = "record-finding"
    inquiry_id: UUID
    finding: str
    summary: str


@dataclass(frozen=True)
class RecordSanction:
    """问责处理 — after a confirmed violation."""

    action: ClassVar[str] = "record-sanction"
    inquiry_id: UUID
    sanction_type: str
    target: str
    decision_number: str
    detail: str = ""


@dataclass(frozen=True)
class CloseInquiry:
    """问责结案."""

    action: ClassVar[str] = "close"
    inquiry_id: UUID
    conclusion: str


InquiryAction = RequestExplanation | RecordExplanation | RecordFinding | RecordSanction | CloseInquiry
# the command of each action name (the REST route of each action builds its own)
INQUIRY_ACTIONS: dict[str, type[InquiryAction]] = {
    c.action: c for c in (RequestExplanation, RecordExplanation, RecordFinding, RecordSanction, CloseInquiry)
}


@dataclass(frozen=True, kw_only=True)
class WarningDisposed(Outcome):
    id: str  # the warning's id, as the offline_warnings read model has it
    status: str


@dataclass(frozen=True, kw_only=True)
class InquiryOutcome(Outcome):
    id: UUID
    status: str  # the inquiry's phase
