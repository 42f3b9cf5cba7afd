"""评估评审 — expert reviews attached to a case. Starting one starts the case's special procedure
(type `expert_review`), finishing it ends that procedure with the result: the two aggregates are
saved together, so the case clock and the review agree on when the review ran (time not counted)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from application.base import Service
from application.commands import Invocation
from application.commands.reviews import (
    FinishAssessmentReview,
    RecordReviewOpinion,
    ReviewFinished,
    ReviewOpinionRecorded,
    ReviewStarted,
    StartAssessmentReview,
)
from application.policy import authorize
from domain.approvals import Case
from domain.intermediaries import AssessmentReview
from domain.intermediaries.review import PROCEDURE_NAME, PROCEDURE_TYPE
from domain.shared.events import SHANGHAI, Meta


class AssessmentReviewService(Service):
    def get(self, review_id: UUID) -> AssessmentReview:
        return self.load(AssessmentReview, review_id, f"assessment review {review_id}")

    def start(self, by: Invocation, command: StartAssessmentReview) -> ReviewStarted:
        actor, case_id = by.actor, command.case_id
        authorize(actor, "assessment-review.start")
        review_id = uuid4()

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            case = self.load(Case, case_id, f"case {case_id}")
            authorize(actor, "assessment-review.start", region_code=case.region_code)
            review = AssessmentReview.start(
                meta,
                review_id=review_id,
                case_id=case.id,
                project_code=case.project_code,
                region_code=case.region_code,
                subject=command.subject,
                panel=[dict(expert) for expert in command.panel],
                limit_days=int(command.limit_days),
            )
            reason = f"评估评审 {review.id}: {review.subject}"
            case.start_special_procedure(meta, PROCEDURE_TYPE, PROCEDURE_NAME, review.limit_days, reason)
            return [review, case], {"id": str(review.id), "case_id": str(case.id), "case_status_code": int(case.status)}

        return ReviewStarted.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def record_opinion(self, by: Invocation, command: RecordReviewOpinion) -> ReviewOpinionRecorded:
        actor, review_id, expert, opinion = by.actor, command.review_id, command.expert, command.opinion
        authorize(actor, "assessment-review.record-opinion")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            review = self.get(review_id)
            authorize(actor, "assessment-review.record-opinion", region_code=review.region_code)
            review.record_opinion(meta, expert, opinion)
            return [review], {"id": str(review.id), "opinions": len(review.opinions)}

        return ReviewOpinionRecorded.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def finish(self, by: Invocation, command: FinishAssessmentReview) -> ReviewFinished:
        actor, review_id, summary = by.actor, command.review_id, command.summary or ""
        authorize(actor, "assessment-review.finish")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            review = self.get(review_id)
            authorize(actor, "assessment-review.finish", region_code=review.region_code)
            calendar = self.work_calendar(
                range(review.started_on.year, meta.business_time.astimezone(SHANGHAI).year + 1)
            )
            review.finish(meta, command.result, list(command.conditions), summary, calendar)
            case = self.load(Case, review.case_id, f"case {review.case_id}")
            case.end_special_procedure(meta, f"评估评审 {review.result}: {summary}".strip())
            used = review.working_days_used
            return [review, case], {
                "id": str(review.id),
                "result": str(review.result),
                "working_days_used": used,
                "case_status_code": int(case.status),
            }

        return ReviewFinished.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))
