"""好差评 and 体验员反馈 — rating a case, rectifying and following up a bad review, reporting problems.

Cross-aggregate rules live here: only the case's applicant rates it, once (the rating id is uuid5
of the case id), and only once it is decided or closed; feedback about a case takes the case's
item, department and region.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from application.base import Service
from application.commands import Invocation
from application.commands.ratings import (
    AnswerFeedback,
    AssignFeedback,
    CloseFeedback,
    FeedbackAction,
    FeedbackOutcome,
    FeedbackSubmitted,
    ListFeedback,
    RateCase,
    RatingOutcome,
    RecordFollowUp,
    RecordRectification,
    SubmitFeedback,
)
from application.policy import Actor, authorize
from application.supervision import acts_for_department
from domain.approvals import Case
from domain.catalog import CATALOG
from domain.shared.codes import validate_region
from domain.shared.errors import Conflict, Forbidden, InvalidValue
from domain.shared.events import Meta
from domain.supervision.feedback import Feedback, ReporterKind
from domain.supervision.rating import Rating, rating_id


class RatingService(Service):
    def get(self, rid: UUID) -> Rating:
        return self.load(Rating, rid, f"rating {rid}")

    def rate(self, by: Invocation, command: RateCase) -> RatingOutcome:
        actor, case_id = by.actor, command.case_id

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            case = self.load(Case, case_id, f"case {case_id}")
            authorize(actor, "rating.rate", owner_org=case.applicant_org, region_code=case.region_code)
            if self.exists(rating_id(case_id)):
                raise Conflict(f"case {case_id} has already been rated (one rating a case)")
            rating = Rating.rate(
                meta,
                case_id=case.id,
                case_status=int(case.status),
                case_facts={
                    "project_code": case.project_code,
                    "item_code": case.item_code,
                    "department": case.department,
                    "region_code": case.region_code,
                    "applicant_org": case.applicant_org,
                },
                level=command.level,
                evaluation_channel=command.evaluation_channel,
                dimensions=dict(command.dimensions),
                comment=command.comment,
            )
            return [rating], rating.summary()

        return RatingOutcome.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def record_rectification(self, by: Invocation, command: RecordRectification) -> RatingOutcome:
        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            rating = self.get(command.rating_id)
            authorize(by.actor, "rating.rectify", region_code=rating.region_code)
            rating.record_rectification(meta, command.measures, command.rectified_on)
            return [rating], rating.summary()

        return RatingOutcome.of(self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work))

    def record_follow_up(self, by: Invocation, command: RecordFollowUp) -> RatingOutcome:
        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            rating = self.get(command.rating_id)
            authorize(by.actor, "rating.follow-up", region_code=rating.region_code)
            rating.record_follow_up(meta, command.result, command.note, command.followed_up_on)
            return [rating], rating.summary()

        return RatingOutcome.of(self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work))


class FeedbackService(Service):
    def submit(self, by: Invocation, command: SubmitFeedback) -> FeedbackSubmitted:
        actor, subject_kind, case_id, window = by.actor, command.subject_kind, command.case_id, command.window
        item_code, region_code, category, description = (
            command.item_code,
            command.region_code,
            command.category,
            command.description,
        )
        kind = _reporter_kind(actor, command.reporter_kind)

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            subject: dict[str, Any] = {"subject_kind": subject_kind, "window": window, "case_id": None}
            owner: str | None = None
            if subject_kind == "case" and case_id is not None:
                case = self.load(Case, case_id, f"case {case_id}")
                owner = case.applicant_org
                subject.update(
                    case_id=case.id, item_code=case.item_code, department=case.department, region_code=case.region_code
                )
            else:
                item = CATALOG.item(item_code) if item_code else None
                subject.update(
                    item_code=item.code if item else None,
                    department=item.department if item else None,
                    region_code=validate_region(region_code or actor.region),
                )
            authorize(actor, "feedback.submit", owner_org=owner, region_code=subject["region_code"])
            feedback = Feedback.submit(
                meta,
                feedback_id=uuid4(),
                reporter_kind=kind,
                subject=subject,
                category=category,
                description=description,
            )
            return [feedback], {"id": str(feedback.id), "reporter_kind": kind, "region_code": feedback.region_code}

        return FeedbackSubmitted.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def act(self, by: Invocation, command: FeedbackAction) -> FeedbackOutcome:
        """跟踪督办 — list, assign, answer or close a report (domain/supervision/feedback.py).

        Supervisors list, assign and close in their region; the assigned department's officials
        (window clerk, reviewer, approver of that department, in the assigned region) answer."""
        actor, feedback_id, action = by.actor, command.feedback_id, command.action

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            feedback = self.load(Feedback, feedback_id, f"feedback {feedback_id}")
            if isinstance(command, AnswerFeedback):
                region = feedback.assigned_region or feedback.region_code
                authorize(actor, "feedback.answer", region_code=region)
                department = feedback.assigned_department
                if actor.role != "admin" and (department is None or not acts_for_department(actor, department)):
                    raise Forbidden(f"{actor.role} of {actor.org} may answer only what its department was assigned")
                feedback.answer(meta, command.answer, command.measures)
                return [feedback], feedback.summary()
            authorize(actor, f"feedback.{action}", region_code=feedback.region_code)
            match command:
                case ListFeedback(note=note):
                    feedback.put_on_list(meta, note)
                case AssignFeedback(department=department, region_code=region_code, note=note):
                    feedback.assign(meta, department, region_code, note)
                case CloseFeedback(outcome=outcome, conclusion=conclusion):
                    feedback.close(meta, outcome, conclusion)
            return [feedback], feedback.summary()

        return FeedbackOutcome.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))


def _reporter_kind(actor: Actor, requested: str | None) -> str:
    """An applicant reports as an applicant; a supervisor as an experience officer unless it says otherwise."""
    if actor.role == "applicant":
        if requested not in (None, ReporterKind.APPLICANT):
            raise InvalidValue("reporter_kind", "an applicant reports as `applicant`", "reporter_kind")
        return ReporterKind.APPLICANT.value
    kind = requested or ReporterKind.EXPERIENCE_OFFICER.value
    if kind == ReporterKind.APPLICANT:
        raise InvalidValue("reporter_kind", "only applicants report as `applicant`", "reporter_kind")
    return kind
