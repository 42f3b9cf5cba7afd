"""好差评 — ratings of cases, rectification (整改) and follow-up (回访) of bad reviews, and
experience officers' feedback (体验员反馈).

The body's `channel` is where the applicant rated (pc, mobile, window_device, sms, hotline); it is
stored as `evaluation_channel`, since an event's `channel` is the system channel of its metadata.
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import AfterValidator, Field

from application.commands import Invocation
from application.commands.ratings import RateCase, RecordFollowUp, RecordRectification, SubmitFeedback
from domain.supervision.feedback import FeedbackCategory, ReporterKind, SubjectKind
from domain.supervision.rating import DIMENSIONS, EvaluationChannel, FollowUpResult, check_dimensions, check_level
from interfaces.rest.deps import ContainerDep, CurrentActor, IdemKey, RequestId, idempotency, role_may
from interfaces.rest.schemas import Body, BusinessDate, CommandResult, ItemCode, RegionCode, Text, domain_rule

router = APIRouter(prefix="/api/v1", tags=["ratings 好差评"])

Level = Annotated[int, AfterValidator(domain_rule(check_level))]
Dimensions = Annotated[dict[str, int], AfterValidator(domain_rule(check_dimensions))]
Note = Annotated[str, Field(max_length=2000)]


class RatingSubmission(Body):
    """好差评 — the applicant's rating of a decided or closed case."""

    case_id: UUID
    level: Level = Field(description="1 非常不满意 … 5 非常满意 (ratings.csv); 1–2 are bad reviews")
    channel: EvaluationChannel = Field(description="where the applicant rated")
    dimensions: Dimensions = Field(default_factory=dict, description=f"optional scores 1–5 of {list(DIMENSIONS)}")
    comment: Note = ""


class Rectification(Body):
    """整改 — the measures taken on a bad review."""

    measures: Text
    rectified_on: BusinessDate | None = Field(default=None, description="defaults to today")


class FollowUp(Body):
    """回访 — what the applicant said when asked again."""

    result: FollowUpResult
    note: Note = ""
    followed_up_on: BusinessDate | None = Field(default=None, description="defaults to today")


class FeedbackSubmission(Body):
    """体验员反馈 — a problem report about an item, a case or a window."""

    subject_kind: SubjectKind
    case_id: UUID | None = None
    item_code: ItemCode | None = None
    window: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="the window's organisation code (the clerks' org)"
    )
    region_code: RegionCode | None = Field(default=None, description="defaults to the reporter's region; a case's own")
    reporter_kind: ReporterKind | None = Field(
        default=None, description="supervisors: experience_officer (default) or supervisor; applicants: applicant"
    )
    category: FeedbackCategory
    description: Text


@router.post(
    "/ratings",
    dependencies=[role_may("rating.rate")],
    status_code=201,
    response_model=CommandResult,
    summary="好差评 — rate a case",
)
def rate(
    body: RatingSubmission, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    return c.ratings.rate(
        Invocation(actor, request_id, idempotency(key, "rating.rate", body)),
        RateCase(body.case_id, body.level, body.channel.value, body.dimensions, body.comment),
    ).to_json()


@router.post(
    "/ratings/{rating_id}/rectification",
    dependencies=[role_may("rating.rectify")],
    response_model=CommandResult,
    summary="整改 — rectify a bad review",
)
def rectify(
    rating_id: UUID, body: Rectification, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "rating.rectify", body, rating_id=rating_id)
    command = RecordRectification(rating_id, body.measures, body.rectified_on)
    return c.ratings.record_rectification(Invocation(actor, request_id, idem), command).to_json()


@router.post(
    "/ratings/{rating_id}/follow-up",
    dependencies=[role_may("rating.follow-up")],
    response_model=CommandResult,
    summary="回访 — follow a rating up",
)
def follow_up(
    rating_id: UUID, body: FollowUp, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "rating.follow-up", body, rating_id=rating_id)
    command = RecordFollowUp(rating_id, body.result.value, body.note, body.followed_up_on)
    return c.ratings.record_follow_up(Invocation(actor, request_id, idem), command).to_json()


@router.post(
    "/feedback",
    dependencies=[role_may("feedback.submit")],
    status_code=201,
    response_model=CommandResult,
    summary="体验员反馈 — report a problem",
)
def feedback(
    body: FeedbackSubmission, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    return c.feedback.submit(
        Invocation(actor, request_id, idempotency(key, "feedback.submit", body)),
        SubmitFeedback(
            subject_kind=body.subject_kind.value,
            case_id=body.case_id,
            item_code=body.item_code,
            window=body.window,
            region_code=body.region_code,
            reporter_kind=body.reporter_kind.value if body.reporter_kind else None,
            category=body.category.value,
            description=body.description,
        ),
    ).to_json()
