"""电子证照 — issue and revoke electronic licences (the library is read through GraphQL `licenses`)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import Field

from application.commands import Invocation
from application.commands.licences import IssueLicence, RevokeLicence
from interfaces.rest.deps import ContainerDep, CurrentActor, IdemKey, RequestId, idempotency, role_may
from interfaces.rest.schemas import BusinessDate, Checked, CommandResult, Line, Note

router = APIRouter(prefix="/api/v1", tags=["licences 电子证照"])


class LicenceIssue(Checked):
    number: str = Field(description="证照编号, unique (a second issue of the same number is a 409)")
    licence_type: str = Field(
        description="the type the item issues (catalogue `licence_type`), e.g. construction_permit"
    )
    holder_name: Line = Field(description="持证主体 name")
    holder_uscc: str = Field(description="持证主体 USCC")
    project_code: str
    item_code: str
    region_code: str
    valid_from: BusinessDate
    valid_until: BusinessDate | None = Field(None, description="null: no end of validity")
    topic: dict[str, Any] = Field(default_factory=dict, description="主题字段 of the type (project_name, areas …)")
    case_id: UUID | None = Field(None, description="the approved case the licence is issued on")
    seal_id: UUID = Field(description="the department's seal; the caller must be one of its authorised signers")


class LicenceRevocation(Checked):
    reason: Note


@router.post(
    "/licenses",
    dependencies=[role_may("licence.issue")],
    status_code=201,
    response_model=CommandResult,
    summary="证照签发 — issue a licence signed with the department's seal",
)
def issue_licence(
    body: LicenceIssue, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    by = Invocation(actor, request_id, idempotency(key, "licence.issue", body))
    return c.licences.issue(by, IssueLicence(**body.model_dump())).to_json()


@router.post(
    "/licenses/{number}/revoke",
    dependencies=[role_may("licence.revoke")],
    response_model=CommandResult,
    summary="证照注销 — revoke a licence",
)
def revoke_licence(
    number: str, body: LicenceRevocation, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "licence.revoke", body, number=number)
    return c.licences.revoke(Invocation(actor, request_id, idem), RevokeLicence(number, body.reason)).to_json()
