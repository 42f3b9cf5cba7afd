"""评估评审 — the AssessmentReview aggregate: an expert review (专家评审) of a case's reports, with its
panel, opinions, time used and result. It runs as the case's special procedure (特别程序, type
`expert_review`): the service starts and ends both together, so the review's time is not counted
against the case's limit, and the case clock shows it as a pause."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import SHANGHAI, AuditedEvent, Meta
from domain.shared.workdays import PACKAGE, Calendar, workdays_between

PROCEDURE_TYPE = "expert_review"
PROCEDURE_NAME = "专家评审"
MAX_PANEL = 50


class ReviewResult(StrEnum):
    """评审结论."""

    PASS = "pass"  # noqa: S105 — 通过, a result, not a secret
    PASS_WITH_CONDITIONS = "pass_with_conditions"  # noqa: S105 — 修改后通过
    FAIL = "fail"  # 不通过


def check_panel(panel: list[dict[str, Any]]) -> list[dict[str, str]]:
    if not 3 <= len(panel) <= MAX_PANEL or len(panel) % 2 == 0:
        raise InvalidValue("panel", "an expert panel has an odd number of experts, at least 3", "panel_size")
    checked = []
    for i, expert in enumerate(panel):
        name = str(expert.get("name", "")).strip()
        if not name:
            raise InvalidValue(f"panel.{i}.name", "each expert is named", "required")
        checked.append(
            {"name": name, "title": str(expert.get("title", "")).strip(), "org": str(expert.get("org", "")).strip()}
        )
    if len({e["name"] for e in checked}) != len(checked):
        raise InvalidValue("panel", "an expert sits on the panel once", "panel_duplicate")
    return checked


class AssessmentReview(Aggregate):
    """评估评审 — an expert review attached to a case, run as its special procedure."""

    class Event(AuditedEvent):
        pass

    class Started(Event, Aggregate.Created):
        """评审开始 — the panel was convened for a case's subject (report, scheme …)."""

        case_id: UUID
        project_code: str
        region_code: str
        subject: str
        panel: list[dict[str, str]]
        limit_days: int

        def apply(self, aggregate: AssessmentReview) -> None:
            aggregate.started_on = self.business_date

    class OpinionRecorded(Event):
        """专家意见 — one expert's opinion."""

        expert: str
        opinion: str

        def apply(self, aggregate: AssessmentReview) -> None:
            aggregate.opinions.append((self.expert, self.opinion))

    class Finished(Event):
        """评审结束 — the panel's result, its conditions and the working days the review took."""

        result: str
        conditions: list[str]
        summary: str
        working_days_used: int

        def apply(self, aggregate: AssessmentReview) -> None:
            aggregate.result = ReviewResult(self.result)
            aggregate.working_days_used = self.working_days_used

    def __init__(
        self,
        case_id: UUID,
        project_code: str,
        region_code: str,
        subject: str,
        panel: list[dict[str, str]],
        limit_days: int,
    ) -> None:
        self.case_id = case_id
        self.project_code = project_code
        self.region_code = region_code
        self.subject = subject
        self.panel = panel
        self.limit_days = limit_days
        self.opinions: list[tuple[str, str]] = []
        self.result: ReviewResult | None = None
        self.started_on = date.min  # set by Started.apply
        self.working_days_used: int | None = None

    @classmethod
    def start(
        cls,
        meta: Meta,
        *,
        review_id: UUID,
        case_id: UUID,
        project_code: str,
        region_code: str,
        subject: str,
        panel: list[dict[str, Any]],
        limit_days: int,
    ) -> AssessmentReview:
        if not subject.strip():
            raise InvalidValue("subject", "what is reviewed is required", "required")
        if not 0 < limit_days <= 60:
            raise InvalidValue("limit_days", "1..60 working days", "range")
        return cls._create(
            cls.Started,
            id=review_id,
            case_id=case_id,
            project_code=project_code,
            region_code=region_code,
            subject=subject.strip(),
            panel=check_panel(panel),
            limit_days=limit_days,
            **meta.fields(),
        )

    def record_opinion(self, meta: Meta, expert: str, opinion: str) -> None:
        if self.result is not None:
            raise IllegalTransition(f"assessment review {self.id}", "finished", "record-opinion")
        if expert not in {e["name"] for e in self.panel}:
            raise InvalidValue("expert", f"{expert} is not on the panel", "not_on_panel")
        if not opinion.strip():
            raise InvalidValue("opinion", "the opinion is required", "required")
        self.trigger_event(self.OpinionRecorded, expert=expert, opinion=opinion.strip(), **meta.fields())

    def finish(
        self, meta: Meta, result: str, conditions: list[str], summary: str, calendar: Calendar = PACKAGE
    ) -> None:
        """`calendar`: the working calendar as published when the review ends (working_days_used)."""
        if self.result is not None:
            raise IllegalTransition(f"assessment review {self.id}", "finished", "finish")
        try:
            outcome = ReviewResult(result)
        except ValueError:
            raise InvalidValue("result", f"one of {[r.value for r in ReviewResult]}", "enum") from None
        kept = [c.strip() for c in conditions if c.strip()]
        if (outcome == ReviewResult.PASS_WITH_CONDITIONS) != bool(kept):
            raise InvalidValue("conditions", "conditions go with, and only with, pass_with_conditions", "conditions")
        if not self.opinions:
            raise IllegalTransition(f"assessment review {self.id}", "no expert opinion yet", "finish")
        used = workdays_between(self.started_on, meta.business_time.astimezone(SHANGHAI).date(), calendar)
        self.trigger_event(
            self.Finished, result=outcome.value, conditions=kept, summary=summary.strip(), working_days_used=used,
            **meta.fields(),
        )  # fmt: skip
