"""流程—阶段—事项—区划, 智能引导, 智能表单 — publish flow versions (admin), the guidance for a project,
and smart forms (schema and submission). The catalogue itself is read through GraphQL `catalogue`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from interfaces.rest.deps import ContainerDep, CurrentActor, IdemKey, RequestId, idempotency, role_may
from interfaces.rest.schemas import MAX_LIST, Body, CommandResult, FlowType, ProjectCode, RegionCode, Short, Text

router = APIRouter(prefix="/api/v1", tags=["catalogue 流程/引导/表单"])


class FlowPublication(Body):
    """流程发布 — a new version of the flow of a flow type at a region, with its complete definition."""

    region_code: RegionCode
    flow_type: FlowType
    definition: dict[str, Any] = Field(
        description="name, version (decimal, newer than the last), stages [{stage, limit_days, milestone_rule}], "
        "items [{code, unified_code, version, name, stage, department, legal/promised limits, milestone, "
        "prerequisites, situations, materials, form_fields}] — docs/catalogue.md"
    )


class FlowRetirement(Body):
    """流程停用."""

    reason: Text


class FormSubmission(Body):
    """智能表单提交 — the answers of one smart form; one case per item, one parallel application id."""

    project_code: ProjectCode
    item_codes: list[Short] = Field(min_length=1, max_length=20)
    values: dict[str, Any]
    situation_codes: list[Short] = Field(default_factory=list, max_length=MAX_LIST)
    acceptance_mode: Literal[1, 4] = Field(4, description="1 window, 4 fully online")


@router.post(
    "/catalogue/flows",
    dependencies=[role_may("catalogue.publish")],
    status_code=201,
    response_model=CommandResult,
    summary="流程发布 — publish a flow version",
)
def publish_flow(
    body: FlowPublication, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    return c.catalogue.publish(actor, request_id, idempotency(key, "catalogue.publish", body), **body.model_dump())


@router.post(
    "/catalogue/flows/{code}/retire",
    dependencies=[role_may("catalogue.retire")],
    response_model=CommandResult,
    summary="流程停用 — retire a flow",
)
def retire_flow(
    code: str, body: FlowRetirement, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    return c.catalogue.retire(
        actor, request_id, idempotency(key, "catalogue.retire", body, code=code), code, body.reason
    )


def _codes(values: list[str]) -> list[str]:
    """Repeated (?situations=a&situations=b) or comma-separated (?situations=a,b) lists."""
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


@router.get("/guidance", summary="智能引导 — items and materials that apply to a project and its situations")
def guidance(
    actor: CurrentActor,
    c: ContainerDep,
    project_code: Annotated[str, Query(max_length=64)],
    situations: Annotated[list[str], Query(max_length=MAX_LIST)] = [],  # noqa: B006 — FastAPI query default
) -> dict[str, Any]:
    return c.guidance.guidance(actor, project_code, _codes(situations))


@router.get("/forms", summary="智能表单 — one JSON Schema for several items, each field asked once, prefilled")
def form(
    actor: CurrentActor,
    c: ContainerDep,
    project_code: Annotated[str, Query(max_length=64)],
    item_codes: Annotated[list[str], Query(max_length=20)],
) -> dict[str, Any]:
    return c.forms.form(actor, project_code, _codes(item_codes))


@router.post(
    "/forms",
    dependencies=[role_may("case.submit")],
    status_code=201,
    response_model=CommandResult,
    summary="智能表单提交 — the cases of a smart form, one parallel application",
)
def submit_form(
    body: FormSubmission, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    return c.forms.submit(actor, request_id, idempotency(key, "form.submit", body), **body.model_dump())
