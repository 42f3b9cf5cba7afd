"""审批 — case commands: receipt (收件), the lifecycle actions, and offline back-entry (补录).

Cross-aggregate rules live here: a case needs a generated project; an item needs its
prerequisite items approved for the project (a back-entry is accepted regardless and left to the
warning rules). Case and project are saved together, atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, assert_never
from uuid import UUID, uuid4

from application import rule_approval
from application.base import Service
from application.catalogue import Pin, PinMemory, Pins
from application.clock import Clock
from application.commands import Invocation
from application.commands.cases import (
    AcceptCase,
    ApproveCase,
    ApproveOnCommitment,
    ApprovePendingMaterials,
    BackEnterCase,
    CaseAction,
    CaseOutcome,
    CompleteCorrection,
    EndSpecialProcedure,
    NotAcceptCase,
    RecordOpinion,
    RefuseAcceptance,
    RefuseCase,
    RequestCorrection,
    RevokeCase,
    StartReview,
    StartSpecialProcedure,
    SubmitCase,
    SupplyMaterials,
    VerifyCommitment,
    WithdrawCase,
)
from application.intermediaries import check_cited_results
from application.policy import authorize
from application.rule_approval import LicenceFinder
from domain.approvals import Case, Decision
from domain.catalog import CATALOG, Item
from domain.projects import Project, project_id
from domain.shared.codes import validate_project_code
from domain.shared.errors import Conflict, InvalidValue, NotFound, PrerequisitesMissing
from domain.shared.events import SHANGHAI, Channel, Meta
from domain.shared.workdays import Calendar
from infrastructure.log import GongjianApplication


class CaseService(Service):
    remember_saved = True  # the next command on a case recalls it without a read (Service.recall)

    def __init__(
        self,
        app: GongjianApplication,
        clock: Clock,
        position_of: Callable[[UUID, int], int | None],
        find_licences: LicenceFinder | None = None,
        pins: PinMemory | None = None,
    ) -> None:
        super().__init__(app, clock, position_of)
        self.find_licences = find_licences  # 智能审批 looks licences up in the library
        self.pin_memory = pins  # flows in force and pinned items, without replaying Process aggregates

    @property
    def pins(self) -> Pins:
        return Pins(self.find, self.pin_memory)

    def get(self, case_id: UUID) -> Case:
        return self.load(Case, case_id, f"case {case_id}")

    def _pinned_item(self, case: Case) -> Item:
        flow_code, flow_version, _item_version = case.pinned
        return self.pins.pinned_item(flow_code, flow_version, case.item_code)

    def _calendar_from(self, meta: Meta) -> Calendar:
        """工作日历 for a due date counted from this command's business day (it may run into next year)."""
        year = meta.business_time.astimezone(SHANGHAI).year
        return self.work_calendar([year, year + 1])

    def _project(self, code: str) -> Project:
        validate_project_code(code, "project_code")
        try:
            return self.recall(Project, project_id(code), f"project {code}")
        except NotFound:
            # a well-formed code the system never generated: a conflict with the recorded facts (409)
            raise Conflict(f"project {code} has not been generated (未策划生成): generate it first") from None

    def submit(self, by: Invocation, command: SubmitCase) -> CaseOutcome:
        actor, item_code = by.actor, command.item_code
        CATALOG.item(item_code)  # an unknown code is a 422 (after a look for a newer edition in the log)
        situation_codes = list(command.situation_codes)
        materials = [dict(m) for m in command.materials]

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            project = self._project(command.project_code)
            authorize(actor, "case.submit", owner_org=project.owner_uscc, region_code=project.region_code)
            project.check_active("submit-case")
            # 流程版本锁定: the flow and item versions in force now (R1), kept for the case's life
            pin = self.pins.pin(project, item_code, command.item_version)
            pin.check_situations(situation_codes)
            item = pin.as_item()
            missing = project.missing_prerequisites(item.prerequisites)
            if missing:
                raise PrerequisitesMissing(item.code, missing)
            case = Case.receive(
                meta,
                case_id=uuid4(),
                project_id=project.id,
                project_code=project.code,
                region_code=project.region_code,
                applicant_org=project.owner_uscc,
                item=item,
                situation_codes=situation_codes,
                materials=materials,
                parallel_application_id=command.parallel_application_id,
                acceptance_mode=command.acceptance_mode,
                pinned=pin.key,
            )
            check_cited_results(self.find, project.code, materials)  # 中介成果: signed results of this project
            # 智能审批: an eligible item is decided by rule now (application/rule_approval.py)
            decided, evidence = rule_approval.decide(
                self.find, self.position_of, self.find_licences, meta, case, project, item, materials
            )
            # the project is read, not written (unless approved by rule): parallel applications do not collide
            return [case, *decided], {"id": str(case.id), "status_code": int(case.status), **evidence}

        return CaseOutcome.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def act(self, by: Invocation, command: CaseAction) -> CaseOutcome:
        """One lifecycle action on a case (办件流转); an approval or a revocation updates its project."""
        actor, case_id, action = by.actor, command.case_id, command.action

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            case = self.recall(Case, case_id, f"case {case_id}")  # the save checks it has not moved
            authorize(actor, f"case.{action}", owner_org=case.applicant_org, region_code=case.region_code)
            was_approved = case.is_approved
            changed: list[Any] = [case]
            _dispatch(case, command, meta, self._pinned_item, self._calendar_from)
            if case.is_approved and not was_approved:
                project = self.recall(Project, case.project_id, f"project {case.project_code}")
                project.record_item_approved(meta, case_id=case.id, item_code=case.item_code)
                changed.append(project)
            elif was_approved and not case.is_approved:
                project = self.recall(Project, case.project_id, f"project {case.project_code}")
                project.record_approval_revoked(meta, case_id=case.id, item_code=case.item_code)
                changed.append(project)
            return changed, {"id": str(case.id), "status_code": int(case.status), "status": case.status.label}

        if by.occurred_at is not None and actor.channel != Channel.IMPORT:
            raise InvalidValue(
                "occurred_at",
                "only imports carry a business time; use offline-entries to back-enter",
                "occurred_at_not_allowed",
            )
        meta = self.meta(actor, by.request_id, occurred_at=by.occurred_at)
        return CaseOutcome.of(self.execute(meta, actor, by.key, work))

    def back_enter(self, by: Invocation, command: BackEnterCase) -> CaseOutcome:
        """补录: the business time is the command's `decided_at` (an Invocation's `occurred_at` is not used)."""
        actor, c = by.actor, command
        item_code = c.item_code
        seed_item = CATALOG.item(item_code)
        try:
            outcome = Decision(c.decision)
        except ValueError:
            raise InvalidValue("decision", f"one of {[d.value for d in Decision]}", "enum") from None

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            project = self._project(c.project_code)
            authorize(actor, "case.offline-entry", owner_org=project.owner_uscc, region_code=project.region_code)
            # pinned to the version in force when entered (the log keeps no history of which version
            # was in force at an earlier business time); an item that version lacks stays on the seed
            try:
                pin: Pin | None = self.pins.pin(project, item_code)
            except (InvalidValue, Conflict):
                pin = None
            item = pin.as_item() if pin is not None else seed_item
            case = Case.back_enter(
                meta,
                case_id=uuid4(),
                project_id=project.id,
                project_code=project.code,
                region_code=project.region_code,
                applicant_org=project.owner_uscc,
                item=item,
                decision=outcome,
                received_on=c.received_on,
                accepted_on=c.accepted_on,
                document_number=c.document_number,
                reason=c.reason,
                pinned=pin.key if pin is not None else None,
            )
            changed: list[Any] = [case]
            if case.is_approved:
                project.record_item_approved(meta, case_id=case.id, item_code=item.code)
                changed.append(project)
            return changed, {"id": str(case.id), "status_code": int(case.status)}

        meta = self.meta(actor, by.request_id, channel=Channel.OFFLINE_BACKENTRY, occurred_at=c.decided_at)
        return CaseOutcome.of(self.execute(meta, actor, by.key, work))


def _dispatch(
    case: Case,
    command: CaseAction,
    meta: Meta,
    item_of: Callable[[Case], Item],
    calendar_of: Callable[[Meta], Calendar],
) -> None:
    """Map an action onto the Case method that records it."""
    c = command
    match c:
        case AcceptCase():
            case.accept(meta, item_of(case))  # the limits of the version the case was received under
        case NotAcceptCase():
            case.not_accept(meta, c.reason)
        case RefuseAcceptance():
            case.refuse_acceptance(meta, c.reason)
        case RequestCorrection():
            case.request_correction(meta, list(c.materials), c.note)
        case CompleteCorrection():
            case.complete_correction(meta, c.note)
        case StartReview():
            case.start_review(meta)
        case RecordOpinion():
            case.record_opinion(meta, c.department, c.opinion, c.result)
        case StartSpecialProcedure():
            case.start_special_procedure(meta, c.procedure_type, c.procedure_name, c.limit_days, c.reason)
        case EndSpecialProcedure():
            case.end_special_procedure(meta, c.result)
        case ApproveCase():
            case.approve(meta, c.document_number, c.document_title, c.valid_until)
        case ApprovePendingMaterials():  # due dates in working days of the published calendar
            case.approve_pending_materials(
                meta,
                c.document_number,
                list(c.pending_materials),
                item=item_of(case),
                calendar=calendar_of(meta),
                materials_due_on=c.materials_due_on,
            )
        case SupplyMaterials():
            case.supply_materials(meta, list(c.supplied_materials), c.note)
        case ApproveOnCommitment():
            case.approve_on_commitment(
                meta,
                item_of(case),
                list(c.commitments),
                document_number=c.document_number,
                document_title=c.document_title,
                valid_until=c.valid_until,
                calendar=calendar_of(meta),
            )
        case VerifyCommitment():
            case.verify_commitment(meta, c.verified, c.finding, list(c.false_commitments))
        case RefuseCase():
            case.refuse(meta, c.reason)
        case WithdrawCase():
            case.withdraw(meta, c.reason)
        case RevokeCase():
            case.revoke(meta, c.reason)
        case _:
            assert_never(c)
