"""问责 — the Inquiry aggregate: an accountability inquiry opened on one or more warnings.

An explicit state machine like the Case's: `ALLOWED` maps each phase to the actions it permits,
anything else raises IllegalTransition naming the state and the action. A sanction needs a
confirmed violation; a finding is final; an inquiry is closed only once it has a finding.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.catalog import CATALOG
from domain.shared.errors import Conflict, IllegalTransition, InvalidValue
from domain.shared.events import SHANGHAI, AuditedEvent, Meta
from domain.shared.reference import REFERENCE


class Finding(StrEnum):
    """调查结论."""

    VIOLATION_CONFIRMED = "violation_confirmed"  # 违规属实
    JUSTIFIED = "justified"  # 情况属实但有正当理由
    FALSE_ALARM = "false_alarm"  # 误报


class Phase(StrEnum):
    OPENED = "opened"
    EXPLANATION_REQUESTED = "explanation_requested"  # at least one explanation outstanding
    EXPLAINED = "explained"  # every requested explanation recorded
    FINDING_RECORDED = "finding_recorded"
    SANCTIONED = "sanctioned"
    CLOSED = "closed"


ALLOWED: dict[Phase, frozenset[str]] = {
    Phase.OPENED: frozenset({"request-explanation", "record-finding"}),
    # a finding may come without the explanation once the deadline passed unanswered
    Phase.EXPLANATION_REQUESTED: frozenset({"request-explanation", "record-explanation", "record-finding"}),
    Phase.EXPLAINED: frozenset({"request-explanation", "record-finding"}),
    Phase.FINDING_RECORDED: frozenset({"record-sanction", "close"}),
    Phase.SANCTIONED: frozenset({"record-sanction", "close"}),
    Phase.CLOSED: frozenset(),
}

ACTIONS: tuple[str, ...] = ("request-explanation", "record-explanation", "record-finding", "record-sanction", "close")


def validate_department(department: str, field: str = "department") -> str:
    code = department.strip()
    if code not in CATALOG.departments:
        raise InvalidValue(field, f"unknown department {code!r}; one of {sorted(CATALOG.departments)}", "department")
    return code


class Inquiry(Aggregate):
    """问责 — an accountability inquiry into one or more warnings."""

    class Event(AuditedEvent):
        pass

    class Opened(Event, Aggregate.Created):
        """问责立案 — an inquiry was opened on warnings, about a subject and a department."""

        warning_ids: list[str]
        subject: str
        department: str
        region_code: str
        reason: str

    class ExplanationRequested(Event):
        """要求说明 — a department was asked to explain, by a deadline."""

        department: str
        deadline: date
        questions: list[str]

        def apply(self, aggregate: Inquiry) -> None:
            aggregate.pending[self.department] = self.deadline
            aggregate.phase = Phase.EXPLANATION_REQUESTED

    class ExplanationRecorded(Event):
        """情况说明 — the department's explanation was recorded."""

        department: str
        explanation: str

        def apply(self, aggregate: Inquiry) -> None:
            aggregate.pending.pop(self.department, None)
            if not aggregate.pending:
                aggregate.phase = Phase.EXPLAINED

    class FindingRecorded(Event):
        """调查结论 — the finding: violation confirmed, justified, or false alarm."""

        finding: str
        summary: str

        def apply(self, aggregate: Inquiry) -> None:
            aggregate.finding = Finding(self.finding)
            aggregate.phase = Phase.FINDING_RECORDED

    class SanctionRecorded(Event):
        """问责处理 — a sanction decided on a confirmed violation."""

        sanction_type: str
        target: str
        decision_number: str
        detail: str

        def apply(self, aggregate: Inquiry) -> None:
            aggregate.sanctions += 1
            aggregate.phase = Phase.SANCTIONED

    class Closed(Event):
        """问责结案 — the inquiry was closed with its conclusion."""

        conclusion: str

        def apply(self, aggregate: Inquiry) -> None:
            aggregate.phase = Phase.CLOSED

    def __init__(self, warning_ids: list[str], subject: str, department: str, region_code: str) -> None:
        self.warning_ids = list(warning_ids)
        self.subject = subject
        self.department = department
        self.region_code = region_code
        self.phase = Phase.OPENED
        self.pending: dict[str, date] = {}
        self.finding: Finding | None = None
        self.sanctions = 0

    # --- creation ------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        meta: Meta,
        *,
        inquiry_id: UUID,
        warning_ids: list[str],
        subject: str,
        department: str,
        region_code: str,
        reason: str,
    ) -> Inquiry:
        ids = list(dict.fromkeys(w.strip() for w in warning_ids if w.strip()))
        if not ids:
            raise InvalidValue("warning_ids", "an inquiry is opened on at least one warning", "required")
        if region_code not in REFERENCE.regions:
            raise InvalidValue("region_code", f"unknown region {region_code}", "region_unknown")
        return cls._create(
            cls.Opened,
            id=inquiry_id,
            warning_ids=ids,
            subject=_required(subject, "subject"),
            department=validate_department(department),
            region_code=region_code,
            reason=_required(reason, "reason"),
            **meta.fields(),
        )

    # --- state ---------------------------------------------------------------------------------

    def state(self) -> str:
        if self.phase == Phase.FINDING_RECORDED and self.finding is not None:
            return f"{self.phase.value} ({self.finding.value})"
        return self.phase.value

    def check_allowed(self, action: str) -> None:
        if action not in ALLOWED[self.phase]:
            raise IllegalTransition(f"inquiry {self.id}", self.state(), action)

    def outstanding(self, department: str) -> bool:
        return department in self.pending

    # --- commands ------------------------------------------------------------------------------

    def request_explanation(self, meta: Meta, department: str, deadline: date, questions: list[str]) -> None:
        self.check_allowed("request-explanation")
        code = validate_department(department)
        if deadline <= meta.now.astimezone(SHANGHAI).date():
            raise InvalidValue("deadline", "the deadline must lie after today", "deadline_past")
        asked = [q.strip() for q in questions if q.strip()]
        if not asked:
            raise InvalidValue("questions", "ask at least one question", "required")
        self.trigger_event(
            self.ExplanationRequested, department=code, deadline=deadline, questions=asked, **meta.fields()
        )

    def record_explanation(self, meta: Meta, department: str, explanation: str) -> None:
        self.check_allowed("record-explanation")
        code = validate_department(department)
        if code not in self.pending:
            raise Conflict(f"no explanation is outstanding from department {code} on inquiry {self.id}")
        self.trigger_event(
            self.ExplanationRecorded,
            department=code,
            explanation=_required(explanation, "explanation"),
            **meta.fields(),
        )

    def record_finding(self, meta: Meta, finding: str, summary: str) -> None:
        self.check_allowed("record-finding")
        try:
            outcome = Finding(finding)
        except ValueError:
            raise InvalidValue("finding", f"one of {[f.value for f in Finding]}", "enum") from None
        self.trigger_event(
            self.FindingRecorded, finding=outcome.value, summary=_required(summary, "summary"), **meta.fields()
        )

    def record_sanction(self, meta: Meta, sanction_type: str, target: str, decision_number: str, detail: str) -> None:
        self.check_allowed("record-sanction")
        if self.finding != Finding.VIOLATION_CONFIRMED:
            raise IllegalTransition(
                f"inquiry {self.id} (sanction needs violation_confirmed)", self.state(), "record-sanction"
            )
        self.trigger_event(
            self.SanctionRecorded,
            sanction_type=_required(sanction_type, "sanction_type"),
            target=_required(target, "target"),
            decision_number=_required(decision_number, "decision_number"),
            detail=detail.strip(),
            **meta.fields(),
        )

    def close(self, meta: Meta, conclusion: str) -> None:
        self.check_allowed("close")
        self.trigger_event(self.Closed, conclusion=_required(conclusion, "conclusion"), **meta.fields())


def _required(value: str, field: str) -> str:
    if not value or not value.strip():
        raise InvalidValue(field, "required", "required")
    return value.strip()


def dispatch(inquiry: Inquiry, action: str, meta: Meta, body: dict[str, Any]) -> None:
    """Map an API action name onto the Inquiry method that records it."""
    b = body
    match action:
        case "request-explanation":
            deadline = b.get("deadline")
            if not isinstance(deadline, date):
                raise InvalidValue("deadline", "a date (YYYY-MM-DD)", "required")
            inquiry.request_explanation(meta, b.get("department", ""), deadline, b.get("questions") or [])
        case "record-explanation":
            inquiry.record_explanation(meta, b.get("department", ""), b.get("explanation", ""))
        case "record-finding":
            inquiry.record_finding(meta, b.get("finding", ""), b.get("summary", ""))
        case "record-sanction":
            inquiry.record_sanction(
                meta, b.get("sanction_type", ""), b.get("target", ""), b.get("decision_number", ""), b.get("detail", "")
            )
        case "close":
            inquiry.close(meta, b.get("conclusion", ""))
        case _:
            raise InvalidValue("action", f"unknown inquiry action {action}; one of {list(ACTIONS)}", "action_unknown")
