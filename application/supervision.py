"""监管问责 — dispositions of warnings (签收, 说明后关闭) and accountability inquiries (问责).

Warnings are rows of the offline_warnings read model, looked up through the port `WarningLookup`
(application/ports.py, which answers None for an unknown id); their dispositions and the inquiries are aggregates. Opening an
inquiry links every warning's disposition in the same atomic save.

Who may record an explanation: accountability officers and admins, and the officials (reviewer,
approver) of the department asked to explain — an official's `org` is its department code, bare
(`zjj`) or region-prefixed (`460100-zjj`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from application.base import Service
from application.clock import Clock
from application.commands import Invocation
from application.commands.supervision import (
    AcknowledgeWarning,
    CloseInquiry,
    CloseWarning,
    InquiryAction,
    InquiryOutcome,
    OpenInquiry,
    RecordExplanation,
    RecordFinding,
    RecordSanction,
    RequestExplanation,
    WarningDisposed,
)
from application.policy import Actor, authorize
from application.ports import WarningLookup
from domain.shared.errors import Forbidden, InvalidValue, NotFound
from domain.shared.events import Meta
from domain.supervision import Inquiry, WarningDisposition, warning_disposition_id
from domain.supervision.inquiry import validate_department
from infrastructure.log import GongjianApplication

DEPARTMENT_OFFICIALS = frozenset({"reviewer", "approver"})


def acts_for_department(actor: Actor, department: str) -> bool:
    return actor.org == department or actor.org.endswith(f"-{department}")


class SupervisionService(Service):
    def __init__(
        self,
        app: GongjianApplication,
        clock: Clock,
        position_of: Callable[[UUID, int], int | None],
        warnings: WarningLookup,
    ) -> None:
        super().__init__(app, clock, position_of)
        self.warnings = warnings

    # --- warnings ------------------------------------------------------------------------------

    def _warning(self, actor: Actor, action: str, warning_id: str) -> dict[str, Any]:
        """The warning's row, after checking the actor may act on it (404 unknown, 403 out of scope)."""
        row = self.warnings.warning(warning_id)
        if row is None:
            raise NotFound(f"warning {warning_id} not found")
        authorize(actor, action, region_code=row.get("region_code") or None)
        return row

    def _disposition(self, warning_id: str) -> WarningDisposition | None:
        return self.find(WarningDisposition, warning_disposition_id(warning_id))

    def acknowledge_warning(self, by: Invocation, command: AcknowledgeWarning) -> WarningDisposed:
        actor, warning_id, note = by.actor, command.warning_id, command.note

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            self._warning(actor, "warning.acknowledge", warning_id)
            disposition = WarningDisposition.acknowledge(self._disposition(warning_id), warning_id, meta, note)
            return [disposition], {"id": warning_id, "status": disposition.status.value}

        return WarningDisposed.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def close_warning(self, by: Invocation, command: CloseWarning) -> WarningDisposed:
        actor, warning_id, explanation = by.actor, command.warning_id, command.explanation

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            self._warning(actor, "warning.close", warning_id)
            disposition = WarningDisposition.close(self._disposition(warning_id), warning_id, meta, explanation)
            return [disposition], {"id": warning_id, "status": disposition.status.value}

        return WarningDisposed.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    # --- inquiries -----------------------------------------------------------------------------

    def open_inquiry(self, by: Invocation, command: OpenInquiry) -> InquiryOutcome:
        actor, region_code = by.actor, command.region_code
        authorize(actor, "inquiry.open")
        ids = list(dict.fromkeys(command.warning_ids))
        if not ids:
            raise InvalidValue("warning_ids", "an inquiry is opened on at least one warning", "required")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            rows = [self._warning(actor, "inquiry.open", w) for w in ids]
            region = region_code or rows[0].get("region_code") or actor.region
            authorize(actor, "inquiry.open", region_code=region)
            inquiry = Inquiry.open(
                meta,
                inquiry_id=uuid4(),
                warning_ids=ids,
                subject=command.subject,
                department=command.department,
                region_code=region,
                reason=command.reason,
            )
            links = [WarningDisposition.link(self._disposition(w), w, meta, inquiry.id) for w in ids]
            return [inquiry, *links], {"id": str(inquiry.id), "status": inquiry.phase.value}

        return InquiryOutcome.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def act(self, by: Invocation, command: InquiryAction) -> InquiryOutcome:
        """One of the inquiry's steps: request or record an explanation, a finding, a sanction, close."""
        actor, inquiry_id, action = by.actor, command.inquiry_id, command.action

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            inquiry = self.load(Inquiry, inquiry_id, f"inquiry {inquiry_id}")
            authorize(actor, f"inquiry.{action}", region_code=inquiry.region_code)
            match command:
                case RequestExplanation(department=department, deadline=deadline, questions=questions):
                    inquiry.request_explanation(meta, department, deadline, list(questions))
                case RecordExplanation(department=department, explanation=explanation):
                    own = actor.role not in DEPARTMENT_OFFICIALS or acts_for_department(
                        actor, validate_department(department)
                    )
                    if not own:
                        raise Forbidden(f"{actor.role} of {actor.org} may explain only for its own department")
                    inquiry.record_explanation(meta, department, explanation)
                case RecordFinding(finding=finding, summary=summary):
                    inquiry.record_finding(meta, finding, summary)
                case RecordSanction():
                    c = command
                    inquiry.record_sanction(meta, c.sanction_type, c.target, c.decision_number, c.detail)
                case CloseInquiry(conclusion=conclusion):
                    inquiry.close(meta, conclusion)
            return [inquiry], {"id": str(inquiry.id), "status": inquiry.phase.value}

        return InquiryOutcome.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))
