"""项目 — project commands: generation, land supply, parcels, unit works, merge."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import AfterValidator

from application.commands import Invocation
from application.commands.projects import GenerateProject, LinkParcel, MergeProject, RegisterUnitWork, SupplyLand
from domain.shared.codes import validate_project_code
from interfaces.rest.deps import ContainerDep, CurrentActor, IdemKey, RequestId, idempotency, role_may
from interfaces.rest.schemas import (
    CommandResult,
    LandSupply,
    Merge,
    ParcelLink,
    ProjectGeneration,
    UnitWork,
    domain_rule,
)

router = APIRouter(prefix="/api/v1/projects", tags=["projects 项目"])

Code = Annotated[
    str, Path(description="national project code 国家项目代码"), AfterValidator(domain_rule(validate_project_code))
]


@router.post(
    "",
    dependencies=[role_may("project.generate")],
    status_code=201,
    response_model=CommandResult,
    summary="项目策划生成 — generate a project",
)
def generate(
    body: ProjectGeneration, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    fields = body.model_dump(exclude={"owner"})
    command = GenerateProject(owner_name=body.owner.name, owner_uscc=body.owner.uscc, **fields)
    return c.projects.generate(
        Invocation(actor, request_id, idempotency(key, "project.generate", body)), command
    ).to_json()


@router.post(
    "/{project_code}/land-supply",
    dependencies=[role_may("project.supply-land")],
    response_model=CommandResult,
    summary="供地 — land supplied",
)
def supply_land(
    project_code: Code,
    body: LandSupply,
    actor: CurrentActor,
    request_id: RequestId,
    key: IdemKey,
    c: ContainerDep,
) -> dict[str, Any]:
    idem = idempotency(key, "project.supply-land", body, project_code=project_code)
    return c.projects.supply_land(
        Invocation(actor, request_id, idem), SupplyLand(project_code, **body.model_dump())
    ).to_json()


@router.post(
    "/{project_code}/parcels",
    dependencies=[role_may("project.link-parcel")],
    response_model=CommandResult,
    summary="宗地关联 — link a parcel",
)
def link_parcel(
    project_code: Code,
    body: ParcelLink,
    actor: CurrentActor,
    request_id: RequestId,
    key: IdemKey,
    c: ContainerDep,
) -> dict[str, Any]:
    idem = idempotency(key, "project.link-parcel", body, project_code=project_code)
    return c.projects.link_parcel(
        Invocation(actor, request_id, idem), LinkParcel(project_code, **body.model_dump())
    ).to_json()


@router.post(
    "/{project_code}/unit-works",
    dependencies=[role_may("project.register-unit-work")],
    response_model=CommandResult,
    summary="单位工程 — register a unit of works",
)
def register_unit_work(
    project_code: Code, body: UnitWork, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "project.register-unit-work", body, project_code=project_code)
    command = RegisterUnitWork(project_code, **body.model_dump())
    return c.projects.register_unit_work(Invocation(actor, request_id, idem), command).to_json()


@router.post(
    "/{project_code}/merge",
    dependencies=[role_may("project.merge")],
    response_model=CommandResult,
    summary="重复赋码合并 — merge a duplicate code",
)
def merge(
    project_code: Code, body: Merge, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "project.merge", body, project_code=project_code)
    return c.projects.merge(
        Invocation(actor, request_id, idem), MergeProject(project_code, **body.model_dump())
    ).to_json()
