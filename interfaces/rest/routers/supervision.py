"""监管问责 — warning dispositions (签收, 说明后关闭) and accountability inquiries (问责).

No `from __future__ import annotations` here: the action endpoints are made in a loop and
FastAPI must see each one's body model as a real class.
"""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter

from application.commands import Invocation
from application.commands.supervision import INQUIRY_ACTIONS, AcknowledgeWarning, CloseWarning, OpenInquiry
from domain.supervision.inquiry import ACTIONS
from interfaces.rest.deps import ContainerDep, CurrentActor, IdemKey, RequestId, idempotency, role_may
from interfaces.rest.schemas import Body, CommandResult
from interfaces.rest.schemas_supervision import INQUIRY_BODIES, Acknowledgement, InquiryOpening, WarningClosure

router = APIRouter(prefix="/api/v1", tags=["supervision 监管问责"])

assert set(INQUIRY_BODIES) == set(ACTIONS), "every inquiry action needs its body model"
assert set(INQUIRY_ACTIONS) == set(ACTIONS), "every inquiry action needs its command"


@router.post(
    "/warnings/{warning_id}/acknowledge",
    dependencies=[role_may("warning.acknowledge")],
    response_model=CommandResult,
    summary="预警签收 — acknowledge a warning",
)
def acknowledge(
    warning_id: str, body: Acknowledgement, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "warning.acknowledge", body, warning_id=warning_id)
    by = Invocation(actor, request_id, idem)
    return c.supervision.acknowledge_warning(by, AcknowledgeWarning(warning_id, body.note)).to_json()


@router.post(
    "/warnings/{warning_id}/close",
    dependencies=[role_may("warning.close")],
    response_model=CommandResult,
    summary="说明后关闭 — close as explained",
)
def close(
    warning_id: str, body: WarningClosure, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "warning.close", body, warning_id=warning_id)
    by = Invocation(actor, request_id, idem)
    return c.supervision.close_warning(by, CloseWarning(warning_id, body.explanation)).to_json()


@router.post(
    "/inquiries",
    dependencies=[role_may("inquiry.open")],
    status_code=201,
    response_model=CommandResult,
    summary="问责立案 — open an inquiry",
)
def open_inquiry(
    body: InquiryOpening, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "inquiry.open", body)
    return c.supervision.open_inquiry(Invocation(actor, request_id, idem), OpenInquiry(**body.model_dump())).to_json()


def _action_endpoint(action: str, model: type[Body]) -> Callable[..., dict[str, Any]]:
    def act(
        inquiry_id: UUID,
        body: model,  # type: ignore[valid-type]
        actor: CurrentActor,
        request_id: RequestId,
        key: IdemKey,
        c: ContainerDep,
    ) -> dict[str, Any]:
        idem = idempotency(key, f"inquiry.{action}", body, inquiry_id=inquiry_id)
        command = INQUIRY_ACTIONS[action](inquiry_id, **body.model_dump())  # type: ignore[attr-defined]
        return c.supervision.act(Invocation(actor, request_id, idem), command).to_json()

    act.__name__ = "inquiry_" + action.replace("-", "_")
    return act


for _action in ACTIONS:
    _model = INQUIRY_BODIES[_action]
    router.add_api_route(
        f"/inquiries/{{inquiry_id}}/{_action}",
        _action_endpoint(_action, _model),
        methods=["POST"],
        response_model=CommandResult,
        summary=f"{(_model.__doc__ or '').strip().rstrip('.')} — {_action}",
        name=f"inquiry.{_action}",
        dependencies=[role_may(f"inquiry.{_action}")],
    )
