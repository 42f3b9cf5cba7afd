"""工程行业系统 across projects, from the industry read model (projections/industry.py):
`drawingSets`, `bimFindings`, `bimModels`, `jointSurveys`, `preProjectOpinions`, `controlLines`
(Relay connections, region-scoped, `atLeast`), and `Project.industryOverview` (a DataLoader).

Personal data: the design institute's and surveyor's names and USCCs are withheld from analysts —
private parties named, like an applicant's USCC (an intermediary agency's registration is public
because the marketplace publishes it; a design institute's role here is the owner's contractor).
Opinion text and conditions are free text people wrote: withheld too. Departments, document
numbers, findings (system-generated) and hashes are not personal.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON
from strawberry.types import Info

from application.policy import authorize
from domain.shared.errors import Forbidden
from domain.shared.reference import regions_within
from interfaces.graphql.common import actor_of, error, region_scope, wait
from interfaces.graphql.context import Context
from interfaces.graphql.personal import personal
from projections.industry import IndustryView, sheets_of


@strawberry.type(description="图纸哈希 — one sheet of an approved drawing set and its SHA-256.")
class SheetHash:
    number: str
    sha256: str


@strawberry.type(description="图纸 — a drawing set as it stands: state, version, approved hashes, last file check.")
class DrawingSetNode:
    id: strawberry.ID
    case_id: str
    project_code: str
    region_code: str | None = strawberry.field(description="the project's region (null before generation)")
    discipline: str
    status: str = strawberry.field(description="under_review, revision_requested or approved")
    version: int
    set_hash: str = strawberry.field(description="SM3 over the current version's (number, sha256) list")
    sheet_count: int
    comments: int
    open_comments: int = strawberry.field(description="comments on the current version")
    approved_version: int | None
    approved_set_hash: str | None
    approved_sheets: list[SheetHash]
    design_institute: str | None = personal("设计单位")
    institute_uscc: str | None = personal("设计单位统一社会信用代码")
    last_check_intact: bool | None = strawberry.field(description="图纸一致性核验: null when never checked")
    last_check_changed: list[str] = strawberry.field(description="sheets changed or missing at the last check")
    position: int


@strawberry.type(description="IFC 构件 — where a finding is located.")
class IfcElement:
    global_id: str
    ifc_type: str
    name: str


@strawberry.type(description="模型审查问题 — one finding of a BIM model (or its comparison with the design).")
class BimFindingNode:
    model_id: str
    project_code: str
    region_code: str | None
    stage: str = strawberry.field(description="design or completion")
    rule: str = strawberry.field(description="height_limit, plot_ratio, permit_area, unit_work_area, area_delta …")
    element: IfcElement
    field: str
    value: str
    limit: str
    zone_code: str | None
    message: str
    open: bool = strawberry.field(description="false once a later model of the same project and stage replaced it")
    position: int


@strawberry.type(description="BIM 模型 — a submitted IFC model's figures (per project, in submission order).")
class BimModelNode:
    model_id: str
    project_code: str
    region_code: str | None
    stage: str
    case_id: str | None
    file_name: str
    file_sha256: str
    schema: str
    height_m: str
    gross_floor_area_m2: str
    finding_count: int
    compared_with: str | None
    approved: bool = strawberry.field(description="the approved design completion models are compared with")
    submitted_at: datetime
    position: int


@strawberry.type(description="联合测绘成果 — the joint survey's results as they stand (after corrections).")
class JointSurveyNode:
    project_code: str
    region_code: str | None
    surveyor: str | None = personal("测绘单位")
    surveyor_uscc: str | None = personal("测绘单位统一社会信用代码")
    report_number: str
    surveyed_on: date
    footprint_area_m2: str
    gross_floor_area_m2: str
    height_m: str
    building_count: int
    findings: JSON = strawberry.field(description="discrepancies: {rule, element, field, value, limit, message}")
    finding_count: int
    corrections: int
    position: int


@strawberry.type(description="前期意见 — a department's pre-project opinion from the multi-plan platform.")
class PreProjectOpinionNode:
    project_code: str
    region_code: str | None
    department: str
    conclusion: str = strawberry.field(description="agree, conditional or disagree")
    opinion: str | None = personal("意见 as written")
    conditions: list[str] | None = personal("附加条件 as written")
    document_number: str
    issued_on: date
    position: int


@strawberry.type(description="规划控制线 — a control line the project must respect (GeoJSON, lon/lat).")
class ControlLineNode:
    project_code: str
    region_code: str | None
    code: str
    kind: str
    name: str
    geometry: JSON
    position: int


@strawberry.type(description="工程行业系统 in the project overview: multi-plan, drawings, BIM, survey at a glance.")
class IndustryOverview:
    pre_project_opinions: list[PreProjectOpinionNode]
    control_lines: list[ControlLineNode]
    drawing_sets: list[DrawingSetNode]
    open_bim_findings: int
    survey: JointSurveyNode | None


def drawing_node(r: dict[str, Any]) -> DrawingSetNode:
    return DrawingSetNode(
        id=strawberry.ID(r["set_id"]), case_id=r["case_id"], project_code=r["project_code"],
        region_code=r.get("region_code"), discipline=r["discipline"], status=r["status"], version=int(r["version"]),
        set_hash=r["set_hash"], sheet_count=int(r["sheet_count"]), comments=int(r["comments"]),
        open_comments=int(r["open_comments"]), approved_version=r["approved_version"],
        approved_set_hash=r["approved_set_hash"],
        approved_sheets=[SheetHash(**s) for s in sheets_of(r["approved_sheets"])],
        design_institute=r["design_institute"], institute_uscc=r["institute_uscc"],
        last_check_intact=None if r["check_intact"] is None else bool(r["check_intact"]),
        last_check_changed=json.loads(r["check_changed"]) if r["check_changed"] else [], position=int(r["position"]),
    )  # fmt: skip


def finding_node(r: dict[str, Any]) -> BimFindingNode:
    return BimFindingNode(
        model_id=r["model_id"], project_code=r["project_code"], region_code=r.get("region_code"), stage=r["stage"],
        rule=r["rule"], element=IfcElement(global_id=r["global_id"], ifc_type=r["ifc_type"], name=r["element_name"]),
        field=r["field"], value=r["value"], limit=r["limit_value"], zone_code=r["zone_code"], message=r["message"],
        open=bool(r["open"]), position=int(r["position"]),
    )  # fmt: skip


def model_node(r: dict[str, Any]) -> BimModelNode:
    return BimModelNode(
        model_id=r["model_id"], project_code=r["project_code"], region_code=r.get("region_code"), stage=r["stage"],
        case_id=r["case_id"], file_name=r["file_name"], file_sha256=r["file_sha256"], schema=r["schema_name"],
        height_m=r["height_m"], gross_floor_area_m2=r["gross_floor_area_m2"], finding_count=int(r["finding_count"]),
        compared_with=r["compared_with"], approved=bool(r["approved"]),
        submitted_at=datetime.fromisoformat(r["submitted_at"]), position=int(r["position"]),
    )  # fmt: skip


def survey_node(r: dict[str, Any]) -> JointSurveyNode:
    return JointSurveyNode(
        project_code=r["project_code"], region_code=r.get("region_code"), surveyor=r["surveyor"],
        surveyor_uscc=r["surveyor_uscc"], report_number=r["report_number"],
        surveyed_on=date.fromisoformat(r["surveyed_on"]), footprint_area_m2=r["footprint_area_m2"],
        gross_floor_area_m2=r["gross_floor_area_m2"], height_m=r["height_m"], building_count=int(r["building_count"]),
        findings=json.loads(r["findings"]), finding_count=int(r["finding_count"]), corrections=int(r["corrections"]),
        position=int(r["position"]),
    )  # fmt: skip


def opinion_node(r: dict[str, Any]) -> PreProjectOpinionNode:
    return PreProjectOpinionNode(
        project_code=r["project_code"], region_code=r.get("region_code"), department=r["department"],
        conclusion=r["conclusion"], opinion=r["opinion"], conditions=json.loads(r["conditions"]),
        document_number=r["document_number"], issued_on=date.fromisoformat(r["issued_on"]),
        position=int(r["position"]),
    )  # fmt: skip


def line_node(r: dict[str, Any]) -> ControlLineNode:
    return ControlLineNode(
        project_code=r["project_code"], region_code=r.get("region_code"), code=r["code"], kind=r["kind"],
        name=r["name"], geometry=json.loads(r["geometry"]), position=int(r["position"]),
    )  # fmt: skip


async def industry_overview(info: Info[Context, None], code: str) -> IndustryOverview:
    """One query per table for every project of a request (DataLoader), against N+1."""
    loaders = info.context.loaders
    if "industry_overview" not in loaders:
        view = IndustryView(info.context.container.db)

        async def load(codes: list[str]) -> list[dict[str, Any]]:
            found = await anyio.to_thread.run_sync(view.overviews, codes)
            return [found[c] for c in codes]

        loaders["industry_overview"] = DataLoader(load_fn=load)
    o = await loaders["industry_overview"].load(code)
    return IndustryOverview(
        pre_project_opinions=[opinion_node(r) for r in o["opinions"]],
        control_lines=[line_node(r) for r in o["control_lines"]],
        drawing_sets=[drawing_node(r) for r in o["drawing_sets"]],
        open_bim_findings=o["open_bim_findings"],
        survey=survey_node(o["survey"]) if o["survey"] else None,
    )


async def scoped(info: Info[Context, None], region_code: str | None, at_least: int | None) -> list[str] | None:
    """industry.read, `atLeast`, and the region codes the reader may see (None: the whole province)."""
    actor = actor_of(info)
    try:
        authorize(actor, "industry.read")
    except Forbidden as exc:
        raise error(str(exc), "FORBIDDEN", 403) from None
    await wait(info, at_least)
    scope = region_scope(actor, region_code)
    return None if scope in (None, "460000") else regions_within(scope)
