"""体验员反馈 — the Feedback aggregate: a problem reported by an experience officer (体验员, who
acts under the supervisor role) or by an applicant, about an item, a case or a window, and its
follow-up (跟踪督办): listed (登记), assigned to a department (交办), answered by it (答复), closed
by the supervisor (办结). `ALLOWED` maps each status to the actions it permits; anything else
raises IllegalTransition (409). An answer the supervisor finds insufficient is assigned again.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.catalog import CATALOG
from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import AuditedEvent, Meta
from domain.shared.reference import REFERENCE


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


class FeedbackStatus(StrEnum):
    SUBMITTED = "submitted"  # 已提交
    LISTED = "listed"  # 已登记 (on the supervisor's list)
    ASSIGNED = "assigned"  # 已交办 (a department must answer)
    ANSWERED = "answered"  # 已答复
    CLOSED = "closed"  # 已办结


class Outcome(StrEnum):
    """办结结论."""

    RESOLVED = "resolved"  # 问题属实，已整改
    NOT_SUBSTANTIATED = "not_substantiated"  # 经核实不属实
    EXPLAINED = "explained"  # 已解释说明


ACTIONS: tuple[str, ...] = ("list", "assign", "answer", "close")
ALLOWED: dict[FeedbackStatus, frozenset[str]] = {
    FeedbackStatus.SUBMITTED: frozenset({"list"}),
    FeedbackStatus.LISTED: frozenset({"assign"}),
    FeedbackStatus.ASSIGNED: frozenset({"assign", "answer"}),  # re-assigned to another department
    FeedbackStatus.ANSWERED: frozenset({"assign", "close"}),  # an insufficient answer goes back
    FeedbackStatus.CLOSED: frozenset(),
}


def _required(value: str, field: str) -> str:
    if not value.strip():
        raise InvalidValue(field, f"{field} is required", "required")
    return value.strip()


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

    class Listed(Event):
        """反馈登记 — the supervisor put the report on the list to follow up."""

        note: str

        def apply(self, aggregate: Feedback) -> None:
            aggregate.status = FeedbackStatus.LISTED

    class Assigned(Event):
        """反馈交办 — a department (of a region) was asked to answer the report."""

        department: str
        region_code: str
        note: str

        def apply(self, aggregate: Feedback) -> None:
            aggregate.status = FeedbackStatus.ASSIGNED
            aggregate.assigned_department = self.department
            aggregate.assigned_region = self.region_code

    class Answered(Event):
        """反馈答复 — the assigned department's answer and the measures it took."""

        answer: str
        measures: str

        def apply(self, aggregate: Feedback) -> None:
            aggregate.status = FeedbackStatus.ANSWERED

    class Closed(Event):
        """反馈办结 — the supervisor closed the report with its outcome."""

        outcome: str
        conclusion: str

        def apply(self, aggregate: Feedback) -> None:
            aggregate.status = FeedbackStatus.CLOSED

    def __init__(self, subject_kind: str, category: str, region_code: str) -> None:
        self.subject_kind = subject_kind
        self.category = category
        self.region_code = region_code
        self.status = FeedbackStatus.SUBMITTED
        self.assigned_department: str | None = None
        self.assigned_region: str | None = None

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

    # --- follow-up -------------------------------------------------------------------------------

    def check_allowed(self, action: str) -> None:
        if action not in ALLOWED[self.status]:
            raise IllegalTransition(f"feedback {self.id}", self.status.value, action)

    def put_on_list(self, meta: Meta, note: str = "") -> None:
        self.check_allowed("list")
        self.trigger_event(self.Listed, note=note.strip(), **meta.fields())

    def assign(self, meta: Meta, department: str, region_code: str | None = None, note: str = "") -> None:
        """To a department of the catalogue, in the report's region unless another is named."""
        self.check_allowed("assign")
        code = department.strip()
        if code not in CATALOG.departments:
            raise InvalidValue("department", f"unknown department {code!r}", "department")
        region = region_code or self.region_code
        if region not in REFERENCE.regions:
            raise InvalidValue("region_code", f"unknown region {region}", "region_unknown")
        self.trigger_event(self.Assigned, department=code, region_code=region, note=note.strip(), **meta.fields())

    def answer(self, meta: Meta, answer: str, measures: str = "") -> None:
        self.check_allowed("answer")
        self.trigger_event(
            self.Answered, answer=_required(answer, "answer"), measures=measures.strip(), **meta.fields()
        )

    def close(self, meta: Meta, outcome: str, conclusion: str) -> None:
        self.check_allowed("close")
        self.trigger_event(
            self.Closed,
            outcome=_enum(Outcome, outcome, "outcome"),
            conclusion=_required(conclusion, "conclusion"),
            **meta.fields(),
        )

    def summary(self) -> dict[str, Any]:
        return {"id": str(self.id), "status": self.status.value, "region_code": self.region_code}
