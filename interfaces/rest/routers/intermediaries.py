"""中介超市 and 评估评审 — agencies, service orders (+ actions) and expert reviews on a case.

`/api/v1/agencies` (admin registers; supervisors suspend and reinstate), `/api/v1/service-orders`
(owners place, award and cancel; the agency, role integration with its USCC as org, bids, accepts
and delivers), `/api/v1/cases/{case_id}/assessment-reviews` and `/api/v1/assessment-reviews/{id}/…`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import Field

from application.bootstrap import Container
from application.commands import Invocation
from application.commands.intermediaries import (
    AcceptOrder,
    AwardOrder,
    BidForOrder,
    CancelOrder,
    ChangeAgency,
    DeliverResult,
    OrderAction,
    PlaceServiceOrder,
    RegisterAgency,
)
from application.commands.reviews import FinishAssessmentReview, RecordReviewOpinion, StartAssessmentReview
from application.policy import Actor
from interfaces.rest.deps import ContainerDep, CurrentActor, IdemKey, RequestId, idempotency, role_may
from interfaces.rest.schemas import (
    MAX_LIST,
    Body,
    BusinessDate,
    CommandResult,
    Name,
    Note,
    ProjectCode,
    RegionCode,
    Short,
    Text,
    Uscc,
)

router = APIRouter(tags=["intermediaries 中介超市"])


class Qualification(Body):
    type: Short
    level: Short
    valid_until: BusinessDate


class AgencyRegistration(Body):
    """中介机构入驻."""

    uscc: Uscc
    name: Name
    region_code: RegionCode
    qualifications: Annotated[list[Qualification], Field(min_length=1, max_length=50)]
    service_types: Annotated[list[Short], Field(min_length=1, max_length=20)]


class Reason(Body):
    reason: Text


class OrderPlacement(Body):
    """中介服务下单."""

    project_code: ProjectCode
    service_type: Short
    mode: Literal["random", "bidding", "self_selected"]
    agency_uscc: Uscc | None = Field(None, description="自选: the agency the owner names")
    description: Note = ""
    budget: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2, description="元")] | None = None


class Bid(Body):
    amount: Annotated[Decimal, Field(gt=0, max_digits=16, decimal_places=2, description="元")]
    days: Annotated[int, Field(gt=0, le=365, description="working days to deliver")]


class Award(Body):
    agency_uscc: Uscc | None = Field(None, description="the chosen bidder; none: the lowest bid")


class Delivery(Body):
    title: Name
    document_hash: Annotated[str, Field(min_length=64, max_length=64, description="SM3 of the result document")]
    seal_id: UUID


class Expert(Body):
    name: Short
    title: Short = ""
    org: Short = ""


class ReviewStart(Body):
    """评审开始 — starts the case's special procedure (expert_review)."""

    subject: Name
    panel: Annotated[list[Expert], Field(min_length=3, max_length=MAX_LIST)]
    limit_days: Annotated[int, Field(gt=0, le=60)]


class ExpertOpinion(Body):
    expert: Short
    opinion: Text


class ReviewFinish(Body):
    result: Literal["pass", "pass_with_conditions", "fail"]
    conditions: Annotated[list[Note], Field(max_length=MAX_LIST)] = []
    summary: Note = ""


@router.post(
    "/api/v1/agencies",
    dependencies=[role_may("agency.register")],
    status_code=201,
    response_model=CommandResult,
    summary="中介机构入驻 — register",
)
def register(
    body: AgencyRegistration, actor: CurrentActor, rid: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    by = Invocation(actor, rid, idempotency(key, "agency.register", body))
    return c.agencies.register(by, RegisterAgency(**body.model_dump())).to_json()


@router.post(
    "/api/v1/agencies/{uscc}/{action}",
    dependencies=[role_may("agency.{action}")],
    response_model=CommandResult,
    summary="中介机构暂停/恢复",
)
def change_agency(
    uscc: str, action: Literal["suspend", "reinstate"], body: Reason, actor: CurrentActor, rid: RequestId,
    key: IdemKey, c: ContainerDep,
) -> dict[str, Any]:  # fmt: skip
    idem = idempotency(key, f"agency.{action}", body, uscc=uscc)
    return c.agencies.change(Invocation(actor, rid, idem), ChangeAgency(uscc, action, body.reason)).to_json()


@router.post(
    "/api/v1/service-orders",
    dependencies=[role_may("service-order.place")],
    status_code=201,
    response_model=CommandResult,
    summary="中介服务下单 — order",
)
def place(body: OrderPlacement, actor: CurrentActor, rid: RequestId, key: IdemKey, c: ContainerDep) -> dict[str, Any]:
    by = Invocation(actor, rid, idempotency(key, "service-order.place", body))
    return c.service_orders.place(by, PlaceServiceOrder(**body.model_dump())).to_json()


def _act(command: OrderAction, body: Body, actor: Actor, rid: str, key: str | None, c: Container) -> dict[str, Any]:
    idem = idempotency(key, f"service-order.{command.action}", body, order_id=command.order_id)
    return c.service_orders.act(Invocation(actor, rid, idem), command).to_json()


@router.post(
    "/api/v1/service-orders/{order_id}/bid",
    dependencies=[role_may("service-order.bid")],
    response_model=CommandResult,
    summary="中介竞价 — bid",
)
def bid(
    order_id: UUID, body: Bid, actor: CurrentActor, rid: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    return _act(BidForOrder(order_id, body.amount, body.days), body, actor, rid, key, c)


@router.post(
    "/api/v1/service-orders/{order_id}/award",
    dependencies=[role_may("service-order.award")],
    response_model=CommandResult,
    summary="竞价选取 — award",
)
def award(
    order_id: UUID, body: Award, actor: CurrentActor, rid: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    return _act(AwardOrder(order_id, body.agency_uscc), body, actor, rid, key, c)


@router.post(
    "/api/v1/service-orders/{order_id}/accept",
    dependencies=[role_may("service-order.accept")],
    response_model=CommandResult,
    summary="中介承接 — accept",
)
def accept(order_id: UUID, actor: CurrentActor, rid: RequestId, key: IdemKey, c: ContainerDep) -> dict[str, Any]:
    return _act(AcceptOrder(order_id), Body(), actor, rid, key, c)


@router.post(
    "/api/v1/service-orders/{order_id}/deliver",
    dependencies=[role_may("service-order.deliver")],
    response_model=CommandResult,
    summary="成果交付 — deliver",
)
def deliver(
    order_id: UUID, body: Delivery, actor: CurrentActor, rid: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    return _act(DeliverResult(order_id, body.title, body.document_hash, body.seal_id), body, actor, rid, key, c)


@router.post(
    "/api/v1/service-orders/{order_id}/cancel",
    dependencies=[role_may("service-order.cancel")],
    response_model=CommandResult,
    summary="撤单 — cancel",
)
def cancel(
    order_id: UUID, body: Reason, actor: CurrentActor, rid: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    return _act(CancelOrder(order_id, body.reason), body, actor, rid, key, c)


@router.post(
    "/api/v1/cases/{case_id}/assessment-reviews",
    dependencies=[role_may("assessment-review.start")],
    status_code=201,
    response_model=CommandResult,
    summary="评审开始",
)
def start_review(
    case_id: UUID, body: ReviewStart, actor: CurrentActor, rid: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "assessment-review.start", body, case_id=case_id)
    return c.assessment_reviews.start(
        Invocation(actor, rid, idem), StartAssessmentReview(case_id, **body.model_dump())
    ).to_json()


@router.post(
    "/api/v1/assessment-reviews/{review_id}/opinions",
    dependencies=[role_may("assessment-review.record-opinion")],
    response_model=CommandResult,
    summary="专家意见",
)
def record_opinion(
    review_id: UUID, body: ExpertOpinion, actor: CurrentActor, rid: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "assessment-review.record-opinion", body, review_id=review_id)
    command = RecordReviewOpinion(review_id, body.expert, body.opinion)
    return c.assessment_reviews.record_opinion(Invocation(actor, rid, idem), command).to_json()


@router.post(
    "/api/v1/assessment-reviews/{review_id}/finish",
    dependencies=[role_may("assessment-review.finish")],
    response_model=CommandResult,
    summary="评审结束",
)
def finish_review(
    review_id: UUID, body: ReviewFinish, actor: CurrentActor, rid: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "assessment-review.finish", body, review_id=review_id)
    command = FinishAssessmentReview(review_id, **body.model_dump())
    return c.assessment_reviews.finish(Invocation(actor, rid, idem), command).to_json()
