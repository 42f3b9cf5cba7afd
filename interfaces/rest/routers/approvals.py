"""审批 — case commands: receipt (收件), the lifecycle actions (办件流转), offline back-entry (补录).

No `from __future__ import annotations` here: the action endpoints are made in a loop and
FastAPI must see each one's body model as a real class, not a string it cannot resolve.
"""

import dataclasses
from collections.abc import Callable
from typing import Annotated, Any, get_type_hints
from uuid import UUID

from fastapi import APIRouter, Body

from application.commands import Invocation
from application.commands.cases import CASE_ACTIONS, BackEnterCase, SubmitCase
from domain.approvals.status import ACTIONS
from interfaces.rest.deps import ContainerDep, CurrentActor, IdemKey, RequestId, idempotency, role_may
from interfaces.rest.schemas import ACTION_BODIES, Action, CaseSubmission, CommandResult, OfflineEntry

router = APIRouter(prefix="/api/v1/cases", tags=["cases 办件"])

assert set(ACTION_BODIES) == set(ACTIONS), "every case action needs its body model"
assert set(CASE_ACTIONS) == set(ACTIONS), "every case action needs its command"


@router.post(
    "",
    dependencies=[role_may("case.submit")],
    status_code=201,
    response_model=CommandResult,
    summary="收件 — receive a case",
)
def submit(
    body: CaseSubmission, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    by = Invocation(actor, request_id, idempotency(key, "case.submit", body))
    return c.cases.submit(by, SubmitCase(**body.model_dump())).to_json()


@router.post(
    "/offline-entries",
    dependencies=[role_may("case.offline-entry")],
    status_code=201,
    response_model=CommandResult,
    summary="补录 — back-enter a decision",
)
def back_enter(
    body: OfflineEntry, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    fields = body.model_dump()
    fields["decision"] = body.decision.value
    by = Invocation(actor, request_id, idempotency(key, "case.offline-entry", body))
    return c.cases.back_enter(by, BackEnterCase(**fields)).to_json()


# a request without a body: the command's required fields blank, so the domain refuses it as it always
# has (422 naming the field; an action without required fields simply proceeds)
_BLANK: dict[Any, Any] = {str: "", int: 0, bool: False}


def _blank(action: str) -> dict[str, Any]:
    command = CASE_ACTIONS[action]
    hints = get_type_hints(command)
    return {
        f.name: _BLANK.get(hints[f.name], ())
        for f in dataclasses.fields(command)
        if f.default is dataclasses.MISSING and f.name != "case_id"
    }


def _action_endpoint(action: str, model: type[Action]) -> Callable[..., dict[str, Any]]:
    def act(
        case_id: UUID,
        actor: CurrentActor,
        request_id: RequestId,
        key: IdemKey,
        c: ContainerDep,
        body: Annotated[model | None, Body()] = None,  # type: ignore[valid-type]
    ) -> dict[str, Any]:
        fields = body.model_dump(exclude={"occurred_at"}) if body is not None else _blank(action)
        occurred_at = body.occurred_at if body is not None else None
        idem = idempotency(key, f"case.{action}", body, case_id=case_id)
        command = CASE_ACTIONS[action](case_id, **fields)
        return c.cases.act(Invocation(actor, request_id, idem, occurred_at), command).to_json()

    act.__name__ = action.replace("-", "_")
    return act


for _action in ACTIONS:
    _model = ACTION_BODIES[_action]
    router.add_api_route(
        f"/{{case_id}}/{_action}",
        _action_endpoint(_action, _model),
        methods=["POST"],
        response_model=CommandResult,
        summary=f"{(_model.__doc__ or '').strip().rstrip('.')} — {_action}",
        name=f"case.{_action}",
        dependencies=[role_may(f"case.{_action}")],
    )
