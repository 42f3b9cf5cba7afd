"""流程—阶段—事项—区划, 智能引导, 智能表单 — publish flow versions (admin), the guidance for a project,
and smart forms (schema and submission). The catalogue itself is read through GraphQL `catalogue`."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from application.commands import Invocation
from application.commands.catalogue import PublishCatalogueEdition, PublishFlow, RetireFlow
from application.commands.forms import SubmitForm
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


class EditionPublication(Body):
    """事项库发布 — an edition of the item catalogue: the sheets of a catalogue file as JSON rows."""

    tables: dict[Short, list[dict[str, Any]]] = Field(
        description="{sheet: [{column: cell}]}: the sheets and columns of docs/catalogue.md, 'The catalogue "
        "file'; a row's number is its index + 2 (the header is row 1)"
    )
    file_name: Short | None = Field(None, description="the file the tables come from, recorded with the edition")


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
    by = Invocation(actor, request_id, idempotency(key, "catalogue.publish", body))
    return c.catalogue.publish(by, PublishFlow(**body.model_dump())).to_json()


@router.post(
    "/catalogue/flows/{code}/retire",
    dependencies=[role_may("catalogue.retire")],
    response_model=CommandResult,
    summary="流程停用 — retire a flow",
)
def retire_flow(
    code: str, body: FlowRetirement, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    by = Invocation(actor, request_id, idempotency(key, "catalogue.retire", body, code=code))
    return c.catalogue.retire(by, RetireFlow(code, body.reason)).to_json()


@router.post(
    "/catalogue/editions",
    dependencies=[role_may("catalogue.edition.publish")],
    status_code=201,
    response_model=CommandResult,
    summary="事项库发布 — publish an edition of the item catalogue (every bad row is a 422 error)",
)
def publish_edition(
    body: EditionPublication, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    return c.catalogue_editions.publish(
        Invocation(actor, request_id, idempotency(key, "catalogue.edition.publish", body)),
        PublishCatalogueEdition(body.tables, file_name=body.file_name or ""),
    ).to_json()


@router.post(
    "/catalogue/editions/file",
    dependencies=[role_may("catalogue.edition.publish")],
    status_code=201,
    response_model=CommandResult,
    summary="事项库发布 — publish an edition from the file itself (XLSX, or a zip of <sheet>.csv) as the body",
)
async def publish_edition_file(
    request: Request, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep,
    file_name: Annotated[str, Query(max_length=200)] = "",
) -> dict[str, Any]:  # fmt: skip
    from starlette.concurrency import run_in_threadpool

    from domain.shared.errors import InvalidValue
    from infrastructure.catalogue_files import UnreadableFile, read_xlsx, read_zip

    data = await request.body()
    try:  # an XLSX is a zip with [Content_Types].xml
        tables = read_xlsx(data) if b"[Content_Types].xml" in data[:2000] else read_zip(data)
    except UnreadableFile as exc:
        raise InvalidValue("body", str(exc), "file_format") from None
    digest = hashlib.sha256(data).hexdigest()
    by = Invocation(actor, request_id, idempotency(key, "catalogue.edition.publish", None, sha256=digest))
    command = PublishCatalogueEdition(tables, sha256=digest, file_name=file_name)
    published = await run_in_threadpool(c.catalogue_editions.publish, by, command)
    return published.to_json()


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
    by = Invocation(actor, request_id, idempotency(key, "form.submit", body))
    return c.forms.submit(by, SubmitForm(**body.model_dump())).to_json()
