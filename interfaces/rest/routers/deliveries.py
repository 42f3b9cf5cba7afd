"""外部推送 — operators put a dead letter back in the outbox (重新推送)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import ConfigDict, Field

from application.commands import Invocation
from application.commands.deliveries import RequeueDelivery
from interfaces.rest.deps import ContainerDep, CurrentActor, IdemKey, RequestId, idempotency, role_may
from interfaces.rest.schemas import Checked, CommandResult

router = APIRouter(prefix="/api/v1", tags=["deliveries 外部推送"])


class RequeueBody(Checked):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=500, description="why it is sent again")] = (
        "requeued by an operator"
    )


@router.post(
    "/deliveries/{delivery_id}/requeue",
    dependencies=[role_may("delivery.requeue")],
    response_model=CommandResult,
    summary="重新推送 — a dead letter back in the outbox (an archive transfer: a new transfer request)",
)
def requeue_delivery(
    delivery_id: UUID,
    actor: CurrentActor,
    request_id: RequestId,
    key: IdemKey,
    c: ContainerDep,
    body: RequeueBody | None = None,
) -> dict[str, Any]:
    b = body or RequeueBody()
    idem = idempotency(key, "delivery.requeue", b, id=delivery_id)
    return c.deliveries.requeue(Invocation(actor, request_id, idem), RequeueDelivery(delivery_id, b.reason)).to_json()
