"""跟踪督办 — the follow-up of experience officers' feedback (体验员反馈): list, assign, answer, close.

The report itself is `POST /api/v1/feedback` (interfaces/rest/routers/ratings.py). Each action is
`POST /api/v1/feedback/{feedback_id}/{action}`, as the inquiries' actions are; an action the
report's status does not allow is 409, a role that may not is 403 (docs/supervision.md).
No `from __future__ import annotations`: the endpoints are made in a loop and FastAPI must see each
one's body model as a real class.
"""

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import Field

from application.commands import Invocation
from application.commands.ratings import FEEDBACK_ACTIONS
from domain.supervision.feedback import ACTIONS, ALLOWED, Outcome
from interfaces.rest.deps import ContainerDep, CurrentActor, IdemKey, RequestId, idempotency, role_may
from interfaces.rest.schemas import Body, CommandResult, RegionCode, Text
from interfaces.rest.schemas_supervision import Department

router = APIRouter(prefix="/api/v1", tags=["ratings 好差评"])

Note = Annotated[str, Field(max_length=2000)]


class FeedbackListing(Body):
    """反馈登记 — put the report on the list to follow up"""

    note: Note = ""


class FeedbackAssignment(Body):
    """反馈交办 — ask a department to answer"""

    department: Department = Field(description="a department code of the catalogue (zjj, zrzy …)")
    region_code: RegionCode | None = Field(default=None, description="the department's region; the report's by default")
    note: Note = ""


class FeedbackAnswer(Body):
    """反馈答复 — the assigned department's answer"""

    answer: Text
    measures: Note = ""


class FeedbackClosure(Body):
    """反馈办结 — close the report with its outcome"""

    outcome: Outcome
    conclusion: Text


BODIES: dict[str, type[Body]] = {
    "list": FeedbackListing,
    "assign": FeedbackAssignment,
    "answer": FeedbackAnswer,
    "close": FeedbackClosure,
}
assert set(BODIES) == set(ACTIONS), "every feedback action needs its body model"
assert set(FEEDBACK_ACTIONS) == set(ACTIONS), "every feedback action needs its command"


def _endpoint(action: str, model: type[Body]) -> Callable[..., dict[str, Any]]:
    def act(
        feedback_id: UUID,
        body: model,  # type: ignore[valid-type]
        actor: CurrentActor,
        request_id: RequestId,
        key: IdemKey,
        c: ContainerDep,
    ) -> dict[str, Any]:
        idem = idempotency(key, f"feedback.{action}", body, feedback_id=feedback_id)
        command = FEEDBACK_ACTIONS[action](feedback_id, **body.model_dump(mode="json"))  # type: ignore[attr-defined]
        return c.feedback.act(Invocation(actor, request_id, idem), command).to_json()

    act.__name__ = f"feedback_{action}"
    return act


for _action, _model in BODIES.items():
    router.add_api_route(
        f"/feedback/{{feedback_id}}/{_action}",
        _endpoint(_action, _model),
        methods=["POST"],
        response_model=CommandResult,
        summary=f"{(_model.__doc__ or '').strip()} — {_action}",
        name=f"feedback.{_action}",
        description=(
            f"Allowed while the report is {', '.join(s.value for s, may in ALLOWED.items() if _action in may)};"
            " 409 otherwise (docs/supervision.md, the follow-up of experience officers' feedback)."
        ),
        dependencies=[role_may(f"feedback.{_action}")],
    )
