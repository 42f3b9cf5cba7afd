"""一张蓝图 — admins import control-plan zones and regional assessment areas, and retire them.
The same feature again answers `unchanged` and writes nothing; a changed one is a replacement."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import AfterValidator, Field, field_validator

from application.commands import Invocation
from application.commands.blueprint import ImportAssessmentArea, ImportZone, RetireLayer
from domain.blueprint.check import LAND_USE_RE
from domain.blueprint.plan import AssessmentKind, validate_code
from domain.shared.geometry import validate_red_line
from interfaces.rest.deps import ContainerDep, CurrentActor, IdemKey, RequestId, idempotency, role_may
from interfaces.rest.schemas import (
    Body,
    BusinessDate,
    CommandResult,
    GeoJSON,
    Line,
    Name,
    RegionCode,
    Text,
    domain_rule,
)

router = APIRouter(prefix="/api/v1/blueprint", tags=["blueprint 一张蓝图"])

BlueprintCode = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(domain_rule(validate_code))]
LandUse = Annotated[str, Field(pattern=LAND_USE_RE.pattern, description="用地用海分类 code, 2/4/6 digits")]


class _Feature(Body):
    code: BlueprintCode
    name: Name
    region_code: RegionCode
    geometry: GeoJSON

    @field_validator("geometry")
    @classmethod
    def _geometry(cls, value: GeoJSON) -> GeoJSON:
        return domain_rule(validate_red_line)(value)


class ZoneImport(_Feature):
    """控规地块 — a control-plan zone: land uses allowed (兼容用地: several), plot ratio, height limit."""

    land_uses: Annotated[list[LandUse], Field(min_length=1)]
    max_plot_ratio: Annotated[Decimal, Field(gt=0, description="容积率上限")] | None = None
    height_limit_m: Annotated[Decimal, Field(gt=0, description="建筑限高 m")] | None = None
    plan_name: Line = ""


class AssessmentAreaImport(_Feature):
    """区域评估 — an assessed area with its result and validity."""

    kind: AssessmentKind
    result: Text
    valid_from: BusinessDate
    valid_until: BusinessDate | None = None


class Retirement(Body):
    reason: Text


Layer = Annotated[Literal["zones", "assessment-areas"], Path(description="zones or assessment-areas")]


@router.post(
    "/zones",
    dependencies=[role_may("blueprint.import")],
    response_model=CommandResult,
    summary="控规导入 — import or replace a zone",
)
def import_zone(
    body: ZoneImport, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "blueprint.import-zone", body)
    return c.blueprint.import_zone(Invocation(actor, request_id, idem), ImportZone(**body.model_dump())).to_json()


@router.post(
    "/assessment-areas",
    dependencies=[role_may("blueprint.import")],
    response_model=CommandResult,
    summary="区域评估导入 — import or replace an assessment area",
)
def import_assessment_area(
    body: AssessmentAreaImport, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "blueprint.import-assessment-area", body)
    fields = body.model_dump()
    fields["kind"] = body.kind.value
    return c.blueprint.import_assessment_area(
        Invocation(actor, request_id, idem), ImportAssessmentArea(**fields)
    ).to_json()


@router.post(
    "/{layer}/{code}/retire",
    dependencies=[role_may("blueprint.retire")],
    response_model=CommandResult,
    summary="废止 — retire a zone or an area",
)
def retire(
    layer: Layer,
    code: Annotated[str, Path(max_length=64)],
    body: Retirement,
    actor: CurrentActor,
    request_id: RequestId,
    key: IdemKey,
    c: ContainerDep,
) -> dict[str, Any]:
    idem = idempotency(key, "blueprint.retire", body, layer=layer, code=code)
    kind = "zone" if layer == "zones" else "assessment_area"
    return c.blueprint.retire(Invocation(actor, request_id, idem), RetireLayer(kind, code, body.reason)).to_json()
