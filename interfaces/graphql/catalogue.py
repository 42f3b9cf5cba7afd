"""流程—阶段—事项—区划 and 智能引导 — `catalogue`, `flow(code, version)` from the process_catalogue
read model, and `guidance(projectCode, situations)`, merged into the schema's Query in schema.py."""

from __future__ import annotations

from functools import partial
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from interfaces.graphql.common import actor_of, run_domain, wait
from interfaces.graphql.context import Context
from interfaces.graphql.router import IsAuthenticated
from projections.process_catalogue import ProcessCatalogue


@strawberry.type(description="流程 — a flow of one flow type in one region.")
class CatalogueFlow:
    code: str
    region_code: str
    flow_type: int
    name: str
    latest_version: str
    retired: bool
    recorded: bool = strawberry.field(description="false: the seed (version 1.0), not yet published in the log")
    versions: list[str]


@strawberry.type(description="审批阶段 of a flow version.")
class FlowStage:
    stage: int
    name: str
    limit_days: int | None = strawberry.field(description="1..50 working days; null for stage 5 (parallel)")
    milestone_rule: str = strawberry.field(description="all | any milestone item closes the stage")


@strawberry.type(description="申请材料 — a material of an item.")
class FlowMaterial:
    code: str
    name: str
    material_class: str = strawberry.field(description="applicant | intermediary | free | shared")
    internally_shared: bool
    situations: list[str] = strawberry.field(description="asked only in these situations (empty: always)")
    licence_type: str | None
    licence_topic_fields: list[str]


@strawberry.type(description="情形 — a situation an item asks about.")
class FlowSituation:
    code: str
    name: str


@strawberry.type(description="事项 — an item of a flow version.")
class FlowItem:
    code: str
    unified_code: str = strawberry.field(description="事项统一标识")
    version: str
    name: str
    stage: int
    department: str
    legal_limit_days: int
    promised_limit_days: int
    milestone: bool
    prerequisites: list[str]
    applies_in_situations: list[str]
    situations: list[FlowSituation]
    materials: list[FlowMaterial]
    form_fields: JSON


@strawberry.type(description="流程版本 — one version of a flow with its complete definition.")
class FlowVersion:
    code: str
    version: str
    name: str
    recorded: bool
    stages: list[FlowStage]
    items: list[FlowItem]


@strawberry.type(description="智能引导 — a material of an applicable item: still to provide, or not needed and why.")
class GuidanceMaterial:
    code: str
    name: str
    material_class: str
    needed: bool
    reason: str | None = strawberry.field(description="internally_shared | licence, when not needed")
    licence_number: str | None


@strawberry.type(description="智能引导 — an item that applies, with its prerequisites and materials.")
class GuidanceItem:
    code: str
    unified_code: str
    version: str
    name: str
    department: str
    promised_limit_days: int
    prerequisites: list[str]
    approved: bool
    situations: list[str]
    materials: list[GuidanceMaterial]


@strawberry.type
class GuidanceStage:
    stage: int
    name: str
    limit_days: int | None
    items: list[GuidanceItem]


@strawberry.type(description="智能引导 — the items per stage and the materials still to provide.")
class Guidance:
    project_code: str
    flow_code: str
    flow_version: str
    situations: list[str]
    stages: list[GuidanceStage]
    materials_total: int
    materials_needed: int
    materials_saved: int = strawberry.field(description="materials not asked: shared or covered by a valid licence")


def _item(i: dict[str, Any]) -> FlowItem:
    return FlowItem(
        code=i["code"], unified_code=i["unified_code"], version=i["version"], name=i["name"], stage=i["stage"],
        department=i["department"], legal_limit_days=i["legal_limit_days"],
        promised_limit_days=i["promised_limit_days"], milestone=i["milestone"], prerequisites=i["prerequisites"],
        applies_in_situations=i["applies_in_situations"],
        situations=[FlowSituation(code=s["code"], name=s["name"]) for s in i["situations"]],
        materials=[
            FlowMaterial(
                code=m["code"], name=m["name"], material_class=m["class"], internally_shared=m["internally_shared"],
                situations=m["situations"], licence_type=m["licence"]["type"] if m["licence"] else None,
                licence_topic_fields=m["licence"]["topic_fields"] if m["licence"] else [],
            )
            for m in i["materials"]
        ],
        form_fields=i["form_fields"],
    )  # fmt: skip


def _guidance(g: dict[str, Any]) -> Guidance:
    stages = [
        GuidanceStage(
            stage=s["stage"], name=s["name"], limit_days=s["limit_days"],
            items=[
                GuidanceItem(
                    code=i["code"], unified_code=i["unified_code"], version=i["version"], name=i["name"],
                    department=i["department"], promised_limit_days=i["promised_limit_days"],
                    prerequisites=i["prerequisites"], approved=i["approved"], situations=i["situations"],
                    materials=[
                        GuidanceMaterial(
                            code=m["code"], name=m["name"], material_class=m["class"], needed=m["needed"],
                            reason=m["reason"], licence_number=m["licence_number"],
                        )
                        for m in i["materials"]
                    ],
                )
                for i in s["items"]
            ],
        )
        for s in g["stages"]
    ]  # fmt: skip
    return Guidance(
        project_code=g["project_code"], flow_code=g["flow_code"], flow_version=g["flow_version"],
        situations=g["situations"], stages=stages, materials_total=g["materials_total"],
        materials_needed=g["materials_needed"], materials_saved=g["materials_saved"],
    )  # fmt: skip


@strawberry.type
class CatalogueQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated], description="流程目录 — flows, their latest and past versions."
    )
    async def catalogue(
        self,
        info: Info[Context, None],
        region_code: str | None = None,
        flow_type: int | None = None,
        at_least: int | None = None,
    ) -> list[CatalogueFlow]:
        await wait(info, at_least)
        model = ProcessCatalogue(info.context.container.db)

        def read() -> list[CatalogueFlow]:
            return [
                CatalogueFlow(
                    code=r["code"], region_code=r["region_code"], flow_type=r["flow_type"], name=r["name"],
                    latest_version=r["latest_version"], retired=bool(r["retired"]), recorded=r["recorded"],
                    versions=model.versions(r["code"]),
                )
                for r in model.flows(region_code, flow_type)
            ]  # fmt: skip

        return await run_domain(read)

    @strawberry.field(
        permission_classes=[IsAuthenticated], description="流程版本 — a flow at a version (default: the latest)."
    )
    async def flow(
        self, info: Info[Context, None], code: str, version: str | None = None, at_least: int | None = None
    ) -> FlowVersion | None:
        await wait(info, at_least)
        row = await run_domain(partial(ProcessCatalogue(info.context.container.db).flow, code, version))
        if row is None:
            return None
        d = row["definition"]
        return FlowVersion(
            code=row["code"],
            version=row["version"],
            name=d["name"],
            recorded=row["recorded"],
            stages=[FlowStage(**s) for s in d["stages"]],
            items=[_item(i) for i in d["items"]],
        )

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="智能引导 — items per stage and the materials still to provide for a project and its situations.",
    )
    async def guidance(
        self, info: Info[Context, None], project_code: str, situations: list[str] | None = None
    ) -> Guidance:
        actor = actor_of(info)
        service = info.context.container.guidance
        return _guidance(await run_domain(partial(service.guidance, actor, project_code, situations or [])))
