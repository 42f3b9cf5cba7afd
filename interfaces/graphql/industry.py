"""工程行业系统 — `industry(projectCode)`: a project's BIM models and findings, its joint survey and
planning verification, and the multi-plan platform's opinions and control lines; `drawingSet(id)`.
Merged into the schema's Query in schema.py. These read the aggregates (one per project or set),
replayed from the log, not a read model: no `atLeast` is needed, a command's effect is visible at once.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.types import Info

from interfaces.graphql.common import actor_of, run_domain
from interfaces.graphql.context import Context
from interfaces.graphql.router import IsAuthenticated


@strawberry.type(description="BIM 模型 — an IFC model submitted: stage, file hash, parsed figures, findings.")
class BimModel:
    model_id: str
    stage: str = strawberry.field(description="design or completion")
    file_name: str
    file_sha256: str
    schema: str = strawberry.field(description="IFC schema of the file (IFC2X3, IFC4 …)")
    height_m: str
    gross_floor_area_m2: str
    buildings: JSON = strawberry.field(description="per building: storeys, heights, areas, uses, elements")
    findings: JSON = strawberry.field(description="each {rule, element {globalId…}, field, value, limit, message}")
    compared_with: str | None = strawberry.field(description="the approved design a completion model was compared with")


@strawberry.type(description="规划条件核实 — the joint survey against the planning conditions.")
class PlanningVerification:
    compliant: bool
    gross_floor_area_m2: str
    height_m: str
    findings: JSON


@strawberry.type(description="工程行业系统 — what the industry systems recorded for one project.")
class ProjectIndustry:
    project_code: str
    approved_design: str | None = strawberry.field(description="model id of the approved BIM design")
    bim_models: list[BimModel]
    survey: JSON | None = strawberry.field(description="联合测绘成果 as recorded (null when none)")
    planning_verification: PlanningVerification | None
    pre_project_opinions: JSON = strawberry.field(description="多规合一 前期意见, latest per department")
    control_lines: JSON = strawberry.field(description="多规合一 规划控制线")
    control_line_conflicts: JSON = strawberry.field(description="conflicts of the red line with control lines")


def _without_geometry(lines: list[dict[str, Any]]) -> Any:
    return [{k: v for k, v in line.items() if k != "geometry"} for line in lines]


def _model(m: dict[str, Any]) -> BimModel:
    return BimModel(
        model_id=m["model_id"], stage=m["stage"], file_name=m["file_name"], file_sha256=m["file_sha256"],
        schema=m["schema"], height_m=m["height_m"], gross_floor_area_m2=m["gross_floor_area_m2"],
        buildings=m["buildings"], findings=m["findings"], compared_with=m["compared_with"],
    )  # fmt: skip


@strawberry.type
class IndustryQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated], description="工程行业系统 — BIM, survey, multi-plan of a project."
    )
    async def industry(self, info: Info[Context, None], project_code: str) -> ProjectIndustry:
        c, actor = info.context.container, actor_of(info)

        def read() -> ProjectIndustry:
            models = c.industry.models(actor, project_code)
            survey: Any = c.industry.survey(actor, project_code)
            verification = c.industry.planning_verification(actor, project_code) if survey else None
            plan = c.multiplan.overview(actor, project_code)
            return ProjectIndustry(
                project_code=project_code,
                approved_design=models["approved_design"],
                bim_models=[_model(m) for m in models["models"]],
                survey=survey,
                planning_verification=PlanningVerification(
                    compliant=verification["compliant"],
                    gross_floor_area_m2=verification["gross_floor_area_m2"],
                    height_m=verification["height_m"],
                    findings=verification["findings"],
                )
                if verification
                else None,
                pre_project_opinions=plan["opinions"],
                control_lines=_without_geometry(plan["control_lines"]),
                control_line_conflicts=plan["conflicts"],
            )

        return await run_domain(read)

    @strawberry.field(
        permission_classes=[IsAuthenticated], description="图纸 — a drawing set: versions, comments, approval."
    )
    async def drawing_set(self, info: Info[Context, None], id: strawberry.ID) -> JSON:
        c, actor = info.context.container, actor_of(info)
        try:
            set_id = UUID(str(id))
        except ValueError:
            raise GraphQLError("not a drawing set id", extensions={"code": "BAD_USER_INPUT", "status": 422}) from None
        found: Any = await run_domain(lambda: c.drawings.get(actor, set_id))
        return found  # type: ignore[no-any-return]
