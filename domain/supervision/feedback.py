"""体验员反馈 — the Feedback aggregate: a problem reported by an experience officer (体验员, who
acts under the supervisor role) or by an applicant, about an item, a case or a window."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.shared.errors import InvalidValue
from domain.shared.events import AuditedEvent, Meta


class ReporterKind(StrEnum):
    EXPERIENCE_OFFICER = "experience_officer"  # 体验员 (role supervisor)
    SUPERVISOR = "supervisor"  # a supervisor's own observation (明察暗访)
    APPLICANT = "applicant"


class SubjectKind(StrEnum):
    ITEM = "item"
    CASE = "case"
    WINDOW = "window"


class FeedbackCategory(StrEnum):
    """反馈类别."""

    UNCLEAR_MATERIALS = "unclear_materials"  # 材料要求不清
    OVERDUE = "overdue"  # 超时
    ATTITUDE = "attitude"  # 态度
    SYSTEM_FAILURE = "system_failure"  # 系统故障
    OFFLINE_APPROVAL_CLUE = "offline_approval_clue"  # 体外循环线索
    OTHER = "other"  # 其他

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    FeedbackCategory.UNCLEAR_MATERIALS: "材料要求不清",
    FeedbackCategory.OVERDUE: "超时",
    FeedbackCategory.ATTITUDE: "态度",
    FeedbackCategory.SYSTEM_FAILURE: "系统故障",
    FeedbackCategory.OFFLINE_APPROVAL_CLUE: "体外循环线索",
    FeedbackCategory.OTHER: "其他",
}


def _enum(cls: type[StrEnum], value: str, field: str) -> str:
    try:
        return cls(value).value
    except ValueError:
        raise InvalidValue(field, f"one of {[m.value for m in cls]}", "enum") from None


class Feedback(Aggregate):
    """体验员反馈 — one problem report about an item, a case or a window."""

    class Event(AuditedEvent):
        pass

    class Submitted(Event, Aggregate.Created):
        """体验员反馈 — a problem was reported (counted with the 好差评 analysis)."""

        reporter_kind: str
        subject_kind: str
        case_id: UUID | None
        item_code: str | None
        department: str | None
        window: str | None
        region_code: str
        category: str
        description: str

    def __init__(self, subject_kind: str, category: str, region_code: str) -> None:
        self.subject_kind = subject_kind
        self.category = category
        self.region_code = region_code

    @classmethod
    def submit(
        cls,
        meta: Meta,
        *,
        feedback_id: UUID,
        reporter_kind: str,
        subject: dict[str, Any],
        category: str,
        description: str,
    ) -> Feedback:
        """`subject`: subject_kind, case_id, item_code, department, window, region_code — resolved
        by the service (a case's item, department and region come from the case)."""
        kind = SubjectKind(_enum(SubjectKind, subject["subject_kind"], "subject_kind"))
        required = {SubjectKind.ITEM: "item_code", SubjectKind.CASE: "case_id", SubjectKind.WINDOW: "window"}[kind]
        if not subject.get(required):
            raise InvalidValue(required, f"a feedback about a {kind.value} names its {required}", "required")
        if not description.strip():
            raise InvalidValue("description", "describe the problem", "required")
        return cls._create(
            cls.Submitted,
            id=feedback_id,
            reporter_kind=_enum(ReporterKind, reporter_kind, "reporter_kind"),
            subject_kind=kind.value,
            case_id=subject.get("case_id"),
            item_code=subject.get("item_code"),
            department=subject.get("department"),
            window=subject.get("window"),
            region_code=subject["region_code"],
            category=_enum(FeedbackCategory, category, "category"),
            description=description.strip(),
            **meta.fields(),
        )
