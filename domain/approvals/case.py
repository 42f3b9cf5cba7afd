"""办件 — the Case aggregate: one application for one item by one project.

The lifecycle is reference/case_status.csv (BLZT 1–15) as an explicit state machine: `ALLOWED` (status.py)
maps each phase to the actions it permits; anything else raises IllegalTransition naming the state
and the action. A back-entry (补录) is its own creation event with the business time and a reason.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.approvals.checks import check_back_entry, pinned_fields, required
from domain.approvals.clock import CaseClock, Pause
from domain.approvals.follow_up import FollowUp, FollowUpCommands
from domain.approvals.status import (
    ALLOWED,
    CLOSED_STATUSES,
    DECIDED_STATUSES,
    CaseStatus,
    Decision,
    Phase,
)
from domain.catalog import Item
from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import SHANGHAI, AuditedEvent, Channel, Meta


class Case(FollowUpCommands, Aggregate):
    """办件 — a case: one application for one item by one project."""

    class Event(AuditedEvent):
        STATUS: ClassVar[CaseStatus | None] = None

        def apply(self, aggregate: Case) -> None:
            if self.STATUS is not None:
                aggregate.status = self.STATUS
            aggregate.history.append((self.business_date, type(self).__name__))

    class Received(Event, Aggregate.Created):
        """收件 — a case was received for a project and an item."""

        STATUS = CaseStatus.RECEIVED
        project_id: UUID
        project_code: str
        item_code: str
        item_name: str
        stage: int
        department: str
        region_code: str
        applicant_org: str
        situation_codes: list[str]
        materials: list[dict[str, Any]]
        parallel_application_id: str | None
        acceptance_mode: int
        # v2: the catalogue versions the case was received under (docs/catalogue.md); None: before versions
        flow_code: str | None = None
        flow_version: str | None = None
        item_version: str | None = None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """v1 cases were received before the catalogue had versions: they run under the seed."""
            for name in ("flow_code", "flow_version", "item_version"):
                state.setdefault(name, None)

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.pinned = (self.flow_code, self.flow_version, self.item_version)

    class BackEntered(Event, Aggregate.Created):
        """补录 — a decision taken outside the system, entered afterwards with its business time
        (occurred_at) and the reason it was not handled in the system."""

        project_id: UUID
        project_code: str
        item_code: str
        item_name: str
        stage: int
        department: str
        region_code: str
        applicant_org: str
        decision: str
        received_on: date | None
        accepted_on: date | None
        document_number: str | None
        reason: str
        # v2: the catalogue versions in force when it was entered (docs/catalogue.md); None: before versions
        flow_code: str | None = None
        flow_version: str | None = None
        item_version: str | None = None
        # v3: where a migrated approval (在建工程, domain/approvals/migration.py) comes from; None: a 补录
        provenance: dict[str, Any] | None = None

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """v1 back-entries were recorded before the catalogue had versions: they run under the seed."""
            for name in ("flow_code", "flow_version", "item_version"):
                state.setdefault(name, None)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """v2 back-entries were all offline decisions entered by an official: no provenance."""
            state.setdefault("provenance", None)

        def apply(self, aggregate: Case) -> None:
            aggregate.provenance = self.provenance
            aggregate.pinned = (self.flow_code, self.flow_version, self.item_version)
            aggregate.status = Decision(self.decision).status
            aggregate.back_entered = True
            aggregate.accepted_on = self.accepted_on
            aggregate.stopped_on = self.business_date
            aggregate.history.append((self.business_date, "BackEntered"))

    class Accepted(Event):
        """受理 — the case was accepted; the working-day clock starts the next day."""

        STATUS = CaseStatus.ACCEPTED
        promised_limit_days: int
        legal_limit_days: int

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.accepted_on = self.business_date
            aggregate.limit_days = self.promised_limit_days

    class NotAccepted(Event):
        """不受理 — the application is not for this department or item."""

        STATUS = CaseStatus.NOT_ACCEPTED
        reason: str

    class AcceptanceRefused(Event):
        """不予受理 — the application was refused at acceptance."""

        STATUS = CaseStatus.ACCEPTANCE_REFUSED
        reason: str

    class CorrectionRequested(Event):
        """补正开始 — materials must be corrected or supplemented (一次性告知); the clock stops."""

        STATUS = CaseStatus.CORRECTION_REQUESTED
        materials: list[str]
        note: str

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.corrections += 1
            if aggregate.accepted_on is not None:
                aggregate.pauses.append(Pause("correction", self.business_date))

    class CorrectionCompleted(Event):
        """补正结束 — the applicant completed the correction; the clock resumes."""

        STATUS = CaseStatus.CORRECTION_COMPLETED
        note: str

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.close_pause(self.business_date)

    class ReviewStarted(Event):
        """部门开始办理 — the department started its review."""

        STATUS = CaseStatus.REVIEW_STARTED

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.review_started = True

    class OpinionRecorded(Event):
        """审查意见 — a department recorded an opinion on the case (status unchanged)."""

        department: str
        opinion: str
        result: str  # agree | disagree | note

    class SpecialProcedureStarted(Event):
        """特别程序开始 — expert review, hearing, public notice…: the clock stops."""

        STATUS = CaseStatus.SPECIAL_PROCEDURE_STARTED
        procedure_type: str
        procedure_name: str
        limit_days: int
        reason: str

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.pauses.append(
                Pause("special_procedure", self.business_date, None, self.procedure_type, self.limit_days)
            )

    class SpecialProcedureEnded(Event):
        """特别程序结束 — the special procedure ended; the clock resumes."""

        STATUS = CaseStatus.SPECIAL_PROCEDURE_ENDED
        result: str

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.close_pause(self.business_date)

    class Approved(Event):
        """办结（通过）— approved; the approval document is issued."""

        STATUS = CaseStatus.APPROVED
        document_number: str | None
        document_title: str | None
        valid_until: date | None
        # v2: 智能审批 — the rules, materials and licences a rule-based approval rests on (None: by a person)
        rule_evidence: dict[str, Any] | None = None
        # v3: 告知承诺制 — the commitments approved on, due to be verified by then, and the basis (None: none)
        commitments: list[str] | None = None
        commitment_due_on: date | None = None
        commitment_basis: str | None = None

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """v1 approvals were all decided by people."""
            state.setdefault("rule_evidence", None)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """v2 approvals were never on commitment (告知承诺制 came with v3)."""
            for name in ("commitments", "commitment_due_on", "commitment_basis"):
                state.setdefault(name, None)

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.stopped_on = self.business_date
            aggregate.follow_up.commitments = list(self.commitments or [])
            aggregate.follow_up.commitment_due_on = self.commitment_due_on

    class ApprovedPendingMaterials(Event):
        """办结（容缺通过）— approved with materials to follow (容缺受理)."""

        STATUS = CaseStatus.APPROVED_PENDING_MATERIALS
        document_number: str | None
        pending_materials: list[str]
        materials_due_on: date | None = None  # v2: when the materials are due (None: v1, never recorded)

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """v1 recorded the materials to follow but no date they were due."""
            state.setdefault("materials_due_on", None)

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.stopped_on = self.business_date
            aggregate.follow_up.pending_materials = list(self.pending_materials)
            aggregate.follow_up.materials_due_on = self.materials_due_on

    class MaterialsSupplied(Event):
        """补齐容缺材料 — some or all of the materials to follow were supplied (status unchanged)."""

        supplied_materials: list[str]
        note: str

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            f = aggregate.follow_up
            f.pending_materials = [m for m in f.pending_materials if m not in self.supplied_materials]
            f.supplied.extend((m, self.business_date) for m in self.supplied_materials)

    class CommitmentVerified(Event):
        """承诺核查属实 — the commitments an approval rested on were verified true (status unchanged)."""

        finding: str

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.follow_up.commitment_checked_on = self.business_date

    class Refused(Event):
        """办结（不通过）— refused, with the reason and its legal basis."""

        STATUS = CaseStatus.REFUSED
        reason: str

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.stopped_on = self.business_date

    class Withdrawn(Event):
        """撤件/撤回 — withdrawn by the applicant (status 2 before acceptance, 14 after)."""

        status_code: int
        reason: str

        def apply(self, aggregate: Case) -> None:
            aggregate.status = CaseStatus(self.status_code)
            aggregate.close_pause(self.business_date)
            aggregate.stopped_on = self.business_date
            aggregate.history.append((self.business_date, "Withdrawn"))

    class Revoked(Event):
        """撤销 — a decision was revoked."""

        STATUS = CaseStatus.REVOKED
        reason: str
        false_commitments: list[str] | None = None  # v2: 告知承诺不实 — the commitments found false

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """v1 revocations were never for a false commitment."""
            state.setdefault("false_commitments", None)

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            if self.false_commitments:
                aggregate.follow_up.commitment_checked_on = self.business_date
                aggregate.follow_up.false_commitments = list(self.false_commitments)

    class RuleApprovalDeclined(Event):
        """智能审批未通过 — the item's rules did not all pass: the case stays received for a person to
        handle; the evidence says which rules and materials failed and why (status unchanged)."""

        rule_evidence: dict[str, Any]

    class DeadlineRecomputed(Event):
        """时限重新计算 — the year's working calendar (工作日历) was published or corrected, and this open
        case's deadline was judged again on it: the deadline before and after, and whether it is
        still estimated (status and transitions unchanged; recorded by the system, channel system_rule)."""

        year: int
        calendar_version: int
        notice_number: str
        previous_deadline: date | None
        deadline: date | None
        previously_estimated: bool
        estimated: bool

        def apply(self, aggregate: Case) -> None:  # no status, no business transition
            aggregate.calendars_judged[self.year] = self.calendar_version

    def __init__(
        self,
        project_id: UUID,
        project_code: str,
        item_code: str,
        item_name: str,
        stage: int,
        department: str,
        region_code: str,
        applicant_org: str,
    ) -> None:
        self.project_id = project_id
        self.project_code = project_code
        self.item_code = item_code
        self.item_name = item_name
        self.stage = stage
        self.department = department
        self.region_code = region_code
        self.applicant_org = applicant_org
        self.status = CaseStatus.RECEIVED
        self.accepted_on: date | None = None
        self.limit_days: int | None = None
        self.pauses: list[Pause] = []
        self.stopped_on: date | None = None
        self.corrections = 0
        self.review_started = False
        self.back_entered = False
        self.provenance: dict[str, Any] | None = None  # a migrated approval's source (BackEntered v3)
        self.history: list[tuple[date, str]] = []
        # (flow code, flow version, item version) received under; None for back-entries and v1 cases
        self.pinned: tuple[str | None, str | None, str | None] = (None, None, None)
        self.calendars_judged: dict[int, int] = {}  # year -> WorkCalendar version judged on
        self.follow_up = FollowUp()  # 容缺 materials and 告知承诺 commitments (follow_up.py)

    # --- creation -------------------------------------------------------------------

    @classmethod
    def receive(
        cls,
        meta: Meta,
        *,
        case_id: UUID,
        project_id: UUID,
        project_code: str,
        region_code: str,
        applicant_org: str,
        item: Item,
        situation_codes: list[str],
        materials: list[dict[str, Any]],
        parallel_application_id: str | None,
        acceptance_mode: int,
        pinned: tuple[str, str, str] | None = None,
    ) -> Case:
        if acceptance_mode not in (1, 4):
            raise InvalidValue("acceptance_mode", "1 (window) or 4 (fully online)", "enum")
        return cls._create(
            cls.Received,
            id=case_id,
            project_id=project_id,
            project_code=project_code,
            item_code=item.code,
            item_name=item.name,
            stage=item.stage,
            department=item.department,
            region_code=region_code,
            applicant_org=applicant_org,
            situation_codes=list(situation_codes),
            materials=list(materials),
            parallel_application_id=parallel_application_id,
            acceptance_mode=acceptance_mode,
            **pinned_fields(pinned),
            **meta.fields(),
        )

    @classmethod
    def back_enter(
        cls,
        meta: Meta,
        *,
        case_id: UUID,
        project_id: UUID,
        project_code: str,
        region_code: str,
        applicant_org: str,
        item: Item,
        decision: Decision,
        received_on: date | None,
        accepted_on: date | None,
        document_number: str | None,
        reason: str,
        pinned: tuple[str, str, str] | None = None,
    ) -> Case:
        reason = check_back_entry(meta, received_on, accepted_on, reason)
        return cls._create(
            cls.BackEntered,
            id=case_id,
            project_id=project_id,
            project_code=project_code,
            item_code=item.code,
            item_name=item.name,
            stage=item.stage,
            department=item.department,
            region_code=region_code,
            applicant_org=applicant_org,
            decision=decision.value,
            received_on=received_on,
            accepted_on=accepted_on,
            document_number=document_number,
            reason=reason,
            **pinned_fields(pinned),
            **meta.fields(),
        )

    # --- state ----------------------------------------------------------------------

    @property
    def phase(self) -> Phase:
        code = self.status.value
        if code in CLOSED_STATUSES:
            return Phase.CLOSED
        if code in DECIDED_STATUSES:
            return Phase.DECIDED
        if self.status == CaseStatus.CORRECTION_REQUESTED:
            return Phase.CORRECTION
        if self.status == CaseStatus.SPECIAL_PROCEDURE_STARTED:
            return Phase.SUSPENDED
        return Phase.RECEIVED if self.accepted_on is None else Phase.IN_REVIEW

    @property
    def clock(self) -> CaseClock:
        return CaseClock(self.accepted_on, self.limit_days, tuple(self.pauses), self.stopped_on)

    def close_pause(self, on: date) -> None:
        for i, pause in enumerate(self.pauses):
            if pause.end is None:
                self.pauses[i] = Pause(pause.kind, pause.start, on, pause.procedure_type, pause.limit_days)

    def check_allowed(self, action: str) -> None:
        if action not in ALLOWED[self.phase]:
            raise IllegalTransition(f"case {self.id}", f"{self.status.value} {self.status.label}", action)

    def _check_not_before_last(self, meta: Meta) -> None:
        """A transition's business time cannot precede the previous one's."""
        if self.history and meta.business_time.astimezone(SHANGHAI).date() < self.history[-1][0]:
            raise InvalidValue("occurred_at", "business time precedes the case's previous transition", "order")

    def _do(self, action: str, event_class: type[Event], meta: Meta, **fields: Any) -> None:
        self.check_allowed(action)
        self._check_not_before_last(meta)
        self.trigger_event(event_class, **fields, **meta.fields())

    # --- commands -------------------------------------------------------------------

    def accept(self, meta: Meta, item: Item) -> None:
        self._do(
            "accept",
            self.Accepted,
            meta,
            promised_limit_days=item.promised_limit_days,
            legal_limit_days=item.legal_limit_days,
        )

    def not_accept(self, meta: Meta, reason: str) -> None:
        self._do("not-accept", self.NotAccepted, meta, reason=required(reason, "reason"))

    def refuse_acceptance(self, meta: Meta, reason: str) -> None:
        self._do("refuse-acceptance", self.AcceptanceRefused, meta, reason=required(reason, "reason"))

    def request_correction(self, meta: Meta, materials: list[str], note: str) -> None:
        if not materials:
            raise InvalidValue("materials", "name the materials to correct (一次性告知)", "required")
        self._do("request-correction", self.CorrectionRequested, meta, materials=list(materials), note=note)

    def complete_correction(self, meta: Meta, note: str) -> None:
        self._do("complete-correction", self.CorrectionCompleted, meta, note=note)

    def start_review(self, meta: Meta) -> None:
        if self.review_started:
            raise IllegalTransition(
                f"case {self.id}", f"{self.status.value} {self.status.label} (review already started)", "start-review"
            )
        self._do("start-review", self.ReviewStarted, meta)

    def record_opinion(self, meta: Meta, department: str, opinion: str, result: str) -> None:
        if result not in ("agree", "disagree", "note"):
            raise InvalidValue("result", "one of agree, disagree, note", "enum")
        self._do(
            "record-opinion",
            self.OpinionRecorded,
            meta,
            department=required(department, "department"),
            opinion=required(opinion, "opinion"),
            result=result,
        )

    def start_special_procedure(
        self, meta: Meta, procedure_type: str, procedure_name: str, limit_days: int, reason: str
    ) -> None:
        if limit_days <= 0:
            raise InvalidValue("limit_days", "a special procedure needs a positive limit in working days", "positive")
        self._do(
            "start-special-procedure",
            self.SpecialProcedureStarted,
            meta,
            procedure_type=required(procedure_type, "procedure_type"),
            procedure_name=required(procedure_name, "procedure_name"),
            limit_days=limit_days,
            reason=reason,
        )

    def end_special_procedure(self, meta: Meta, result: str) -> None:
        self._do("end-special-procedure", self.SpecialProcedureEnded, meta, result=result)

    def approve(
        self,
        meta: Meta,
        document_number: str | None,
        document_title: str | None,
        valid_until: date | None,
        rule_evidence: dict[str, Any] | None = None,
    ) -> None:
        if (rule_evidence is not None) != (meta.channel == Channel.SYSTEM_RULE):
            raise InvalidValue("rule_evidence", "a rule-based approval, and only one, carries rule evidence", "rule")
        self._do(
            "approve",
            self.Approved,
            meta,
            document_number=document_number,
            document_title=document_title,
            valid_until=valid_until,
            rule_evidence=rule_evidence,
        )

    def refuse(self, meta: Meta, reason: str) -> None:
        self._do("refuse", self.Refused, meta, reason=required(reason, "reason"))

    def withdraw(self, meta: Meta, reason: str) -> None:
        code = CaseStatus.WITHDRAWN_BEFORE_ACCEPTANCE if self.accepted_on is None else CaseStatus.WITHDRAWN
        self._do("withdraw", self.Withdrawn, meta, status_code=int(code), reason=reason)

    def revoke(self, meta: Meta, reason: str) -> None:
        self._do("revoke", self.Revoked, meta, reason=required(reason, "reason"))

    @property
    def is_approved(self) -> bool:
        return self.status in (CaseStatus.APPROVED, CaseStatus.APPROVED_PENDING_MATERIALS)
