"""工程行业系统 lists — the root fields over the industry read model, merged into the schema's Query
in schema.py: connections in log order (findings: in the order they were recorded), region-scoped
(a reader sees its region; a narrower `regionCode` inside it is allowed), `atLeast` for
read-your-writes. Policy `industry.read`: every role but applicant (applicants read their own
project through `industry(projectCode)` and `project(code) { industryOverview }`)."""

from __future__ import annotations

from functools import partial

import anyio.to_thread
import strawberry
from strawberry.types import Info

from interfaces.graphql.common import page
from interfaces.graphql.context import Context
from interfaces.graphql.industry_lists import (
    BimFindingNode,
    BimModelNode,
    ControlLineNode,
    DrawingSetNode,
    JointSurveyNode,
    PreProjectOpinionNode,
    drawing_node,
    finding_node,
    line_node,
    model_node,
    opinion_node,
    scoped,
    survey_node,
)
from interfaces.graphql.router import IsAuthenticated
from interfaces.graphql.types import Connection, connection, decode_cursor
from projections.industry import IndustryView


@strawberry.input(description="Filters for `drawingSets`; all given conditions must hold.")
class DrawingSetFilter:
    region_code: str | None = None
    project_code: str | None = None
    case_id: str | None = None
    status: str | None = strawberry.field(default=None, description="under_review, revision_requested, approved")
    discipline: str | None = None


@strawberry.input(description="Filters for `bimFindings`: open findings unless includeClosed.")
class BimFindingFilter:
    region_code: str | None = None
    project_code: str | None = None
    rule: str | None = strawberry.field(default=None, description="height_limit, plot_ratio, area_delta …")
    stage: str | None = None
    include_closed: bool = False


@strawberry.input(description="Filters for `bimModels`.")
class BimModelFilter:
    region_code: str | None = None
    project_code: str | None = None
    stage: str | None = None


@strawberry.input(description="Filters for `jointSurveys`.")
class JointSurveyFilter:
    region_code: str | None = None
    project_code: str | None = None
    with_findings: bool = strawberry.field(default=False, description="only surveys with discrepancies")


@strawberry.input(description="Filters for `preProjectOpinions`.")
class OpinionFilter:
    region_code: str | None = None
    project_code: str | None = None
    conclusion: str | None = strawberry.field(default=None, description="agree, conditional, disagree")


@strawberry.input(description="Filters for `controlLines`.")
class ControlLineFilter:
    region_code: str | None = None
    project_code: str | None = None
    kind: str | None = None


def _view(info: Info[Context, None]) -> IndustryView:
    return IndustryView(info.context.container.db)


@strawberry.type
class IndustryListsQuery:
    @strawberry.field(permission_classes=[IsAuthenticated], description="图纸 — drawing sets across projects.")
    async def drawing_sets(
        self,
        info: Info[Context, None],
        filter: DrawingSetFilter | None = None,
        first: int = 20,
        after: str | None = None,
        at_least: int | None = None,
    ) -> Connection[DrawingSetNode]:
        f = filter or DrawingSetFilter()
        regions = await scoped(info, f.region_code, at_least)
        rows, has_next, total = await anyio.to_thread.run_sync(
            partial(
                _view(info).drawing_sets, regions=regions, project_code=f.project_code, case_id=f.case_id,
                status=f.status, discipline=f.discipline, after=decode_cursor(after), first=page(first),
            )
        )  # fmt: skip
        return connection([(int(r["position"]), drawing_node(r)) for r in rows], has_next, total)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="模型审查问题 — BIM findings across projects, each located to its IFC element.",
    )
    async def bim_findings(
        self,
        info: Info[Context, None],
        filter: BimFindingFilter | None = None,
        first: int = 20,
        after: str | None = None,
        at_least: int | None = None,
    ) -> Connection[BimFindingNode]:
        f = filter or BimFindingFilter()
        regions = await scoped(info, f.region_code, at_least)
        rows, has_next, total = await anyio.to_thread.run_sync(
            partial(
                _view(info).bim_findings, regions=regions, project_code=f.project_code, rule=f.rule, stage=f.stage,
                open_only=not f.include_closed, after=decode_cursor(after), first=page(first),
            )
        )  # fmt: skip
        return connection([(int(r["seq"]), finding_node(r)) for r in rows], has_next, total)

    @strawberry.field(permission_classes=[IsAuthenticated], description="BIM 模型 — IFC models across projects.")
    async def bim_models(
        self,
        info: Info[Context, None],
        filter: BimModelFilter | None = None,
        first: int = 20,
        after: str | None = None,
        at_least: int | None = None,
    ) -> Connection[BimModelNode]:
        f = filter or BimModelFilter()
        regions = await scoped(info, f.region_code, at_least)
        rows, has_next, total = await anyio.to_thread.run_sync(
            partial(
                _view(info).bim_models, regions=regions, project_code=f.project_code, stage=f.stage,
                after=decode_cursor(after), first=page(first),
            )
        )  # fmt: skip
        return connection([(int(r["position"]), model_node(r)) for r in rows], has_next, total)

    @strawberry.field(permission_classes=[IsAuthenticated], description="联合测绘 — survey results across projects.")
    async def joint_surveys(
        self,
        info: Info[Context, None],
        filter: JointSurveyFilter | None = None,
        first: int = 20,
        after: str | None = None,
        at_least: int | None = None,
    ) -> Connection[JointSurveyNode]:
        f = filter or JointSurveyFilter()
        regions = await scoped(info, f.region_code, at_least)
        rows, has_next, total = await anyio.to_thread.run_sync(
            partial(
                _view(info).surveys, regions=regions, project_code=f.project_code, with_findings=f.with_findings,
                after=decode_cursor(after), first=page(first),
            )
        )  # fmt: skip
        return connection([(int(r["position"]), survey_node(r)) for r in rows], has_next, total)

    @strawberry.field(
        permission_classes=[IsAuthenticated], description="多规合一 前期意见 — latest per project and department."
    )
    async def pre_project_opinions(
        self,
        info: Info[Context, None],
        filter: OpinionFilter | None = None,
        first: int = 20,
        after: str | None = None,
        at_least: int | None = None,
    ) -> Connection[PreProjectOpinionNode]:
        f = filter or OpinionFilter()
        regions = await scoped(info, f.region_code, at_least)
        rows, has_next, total = await anyio.to_thread.run_sync(
            partial(
                _view(info).opinions, regions=regions, project_code=f.project_code, conclusion=f.conclusion,
                after=decode_cursor(after), first=page(first),
            )
        )  # fmt: skip
        return connection([(int(r["position"]), opinion_node(r)) for r in rows], has_next, total)

    @strawberry.field(permission_classes=[IsAuthenticated], description="多规合一 规划控制线 across projects.")
    async def control_lines(
        self,
        info: Info[Context, None],
        filter: ControlLineFilter | None = None,
        first: int = 20,
        after: str | None = None,
        at_least: int | None = None,
    ) -> Connection[ControlLineNode]:
        f = filter or ControlLineFilter()
        regions = await scoped(info, f.region_code, at_least)
        rows, has_next, total = await anyio.to_thread.run_sync(
            partial(
                _view(info).control_lines, regions=regions, project_code=f.project_code, kind=f.kind,
                after=decode_cursor(after), first=page(first),
            )
        )  # fmt: skip
        return connection([(int(r["position"]), line_node(r)) for r in rows], has_next, total)
