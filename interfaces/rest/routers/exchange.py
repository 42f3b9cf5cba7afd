"""数据共享 — facts reported by other systems (`POST /api/v1/external-records`, role integration)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from application.commands import Invocation
from application.commands.exchange import ReportExternalRecord
from interfaces.rest.deps import ContainerDep, CurrentActor, IdemKey, RequestId, idempotency, role_may
from interfaces.rest.schemas import CommandResult
from interfaces.rest.schemas_supervision import ExternalRecordReport

router = APIRouter(prefix="/api/v1/external-records", tags=["exchange 数据共享"])


@router.post(
    "",
    dependencies=[role_may("external-record.report")],
    status_code=201,
    response_model=CommandResult,
    summary="外部数据 — report a fact; 201 new, 200 amended or unchanged (`unchanged: true` writes nothing)",
    responses={200: {"model": CommandResult, "description": "a fact already reported: amended, or unchanged"}},
)
def report(
    body: ExternalRecordReport,
    response: Response,
    actor: CurrentActor,
    request_id: RequestId,
    key: IdemKey,
    c: ContainerDep,
) -> dict[str, Any]:
    fields = body.model_dump(exclude={"occurred_at"})
    by = Invocation(actor, request_id, idempotency(key, "external-record.report", body), body.occurred_at)
    result = c.exchange.report(by, ReportExternalRecord(fields))
    if not result.created:
        response.status_code = 200
    return result.to_json()
