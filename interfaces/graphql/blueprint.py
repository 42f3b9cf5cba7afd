"""一张蓝图 — `blueprintZones`, `assessmentAreas`, `parcel(code)` (parcel → projects), and the
`land` of a project (its blueprint check), merged into the schema's Query in schema.py.

`Project.land` reads the blueprint read model as it is now, also under `asOf` (the check is not
replayed); `Project.redLineAreaM2` is computed from the red line shown, so it follows `asOf`.
"""

from __future__ import annotations

import json
from datetime import date
from functools import partial
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.shared.reference import regions_within
from interfaces.graphql.common import actor_of, region_scope, wait
from interfaces.graphql.context import Context
from interfaces.graphql.router import IsAuthenticated
from projections.blueprint import Blueprint

MAX_ALIAS_HOPS = 8  # a merge chain longer than this is a data error, not a loop to follow


@strawberry.type(description="控规地块 — the part of a control-plan zone a red line overlaps, and its limits.")
class ZoneOverlap:
    code: str
    overlap_m2: float
    land_uses: list[str]
    max_plot_ratio: str | None
    height_limit_m: str | None


@strawberry.type(description="规划冲突 — a conflict with a zone, listed (not refused) at generation.")
class BlueprintConflict:
    rule: str = strawberry.field(description="land_use, plot_ratio or height_limit")
    zone_code: str
    field: str
    declared: str
    limit: str
    message: str


@strawberry.type(description="区域评估成果应用 — a regional assessment whose result the project takes over.")
class AppliedAssessment:
    code: str
    kind: str
    name: str
    result: str
    valid_from: date
    valid_until: date | None


@strawberry.type(description="用地 — the red line's area and its check against the blueprint.")
class ProjectLand:
    red_line_area_m2: float | None = strawberry.field(description="geodesic area on the CGCS2000 ellipsoid, m²")
    check_trigger: str | None = strawberry.field(description="generation or land_supply; null: never checked")
    checked_position: int | None
    zones: list[ZoneOverlap]
    conflicts: list[BlueprintConflict]
    assessments: list[AppliedAssessment]


@strawberry.type(description="控规地块 — a zone of the blueprint.")
class PlanZone:
    code: str
    name: str
    region_code: str
    land_uses: list[str]
    max_plot_ratio: str | None
    height_limit_m: str | None
    plan_name: str
    geometry: JSON
    retired: bool
    position: int


@strawberry.type(description="区域评估 — an assessed area of the blueprint with its result.")
class AssessmentArea:
    code: str
    name: str
    kind: str
    region_code: str
    result: str
    valid_from: date
    valid_until: date | None
    geometry: JSON
    retired: bool
    position: int


def land_node(row: dict[str, Any]) -> ProjectLand:
    return ProjectLand(
        red_line_area_m2=float(row["red_line_area_m2"]) if row["red_line_area_m2"] else None,
        check_trigger=row["check_trigger"],
        checked_position=row["checked_position"],
        zones=[
            ZoneOverlap(
                code=z["code"],
                overlap_m2=float(z["overlap_m2"]),
                land_uses=z["land_uses"],
                max_plot_ratio=z["max_plot_ratio"],
                height_limit_m=z["height_limit_m"],
            )
            for z in json.loads(row["zones"])
        ],
        conflicts=[BlueprintConflict(**c) for c in json.loads(row["conflicts"])],
        assessments=[
            AppliedAssessment(
                code=a["code"],
                kind=a["kind"],
                name=a["name"],
                result=a["result"],
                valid_from=date.fromisoformat(a["valid_from"]),
                valid_until=date.fromisoformat(a["valid_until"]) if a["valid_until"] else None,
            )
            for a in json.loads(row["assessments"])
        ],
    )


async def land_of(info: Info[Context, None], code: str) -> ProjectLand | None:
    """One query for every project of a request (DataLoader), against N+1."""
    loaders = info.context.loaders
    if "blueprint_land" not in loaders:
        model = Blueprint(info.context.container.db)

        async def load(codes: list[str]) -> list[dict[str, Any] | None]:
            rows = await anyio.to_thread.run_sync(model.projects, codes)
            return [rows.get(c) for c in codes]

        loaders["blueprint_land"] = DataLoader(load_fn=load)
    row = await loaders["blueprint_land"].load(code)
    return land_node(row) if row is not None else None


def canonical_row(get: Any, code: str) -> dict[str, Any] | None:
    """The project a code stands for: a merged (alias) code answers with its canonical project."""
    row = get(code)
    for _ in range(MAX_ALIAS_HOPS):
        if row is None or not row["merged_into"]:
            return row  # type: ignore[no-any-return]
        row = get(row["merged_into"])
    return row  # type: ignore[no-any-return]


def _scope(info: Info[Context, None], region_code: str | None) -> list[str] | None:
    scope = region_scope(actor_of(info), region_code)
    return None if scope in (None, "460000") else regions_within(scope)


@strawberry.type
class BlueprintQuery:
    @strawberry.field(permission_classes=[IsAuthenticated], description="控规地块 — zones of the blueprint in scope.")
    async def blueprint_zones(
        self,
        info: Info[Context, None],
        region_code: str | None = None,
        include_retired: bool = False,
        at_least: int | None = None,
    ) -> list[PlanZone]:
        await wait(info, at_least)
        model = Blueprint(info.context.container.db)
        rows = await anyio.to_thread.run_sync(partial(model.zones, _scope(info, region_code), include_retired))
        return [
            PlanZone(
                code=r["code"],
                name=r["name"],
                region_code=r["region_code"],
                land_uses=json.loads(r["land_uses"]),
                max_plot_ratio=r["max_plot_ratio"],
                height_limit_m=r["height_limit_m"],
                plan_name=r["plan_name"],
                geometry=json.loads(r["geometry"]),
                retired=bool(r["retired"]),
                position=r["position"],
            )
            for r in rows
        ]

    @strawberry.field(
        permission_classes=[IsAuthenticated], description="区域评估 — assessment areas of the blueprint in scope."
    )
    async def assessment_areas(
        self,
        info: Info[Context, None],
        region_code: str | None = None,
        kind: str | None = None,
        include_retired: bool = False,
        at_least: int | None = None,
    ) -> list[AssessmentArea]:
        await wait(info, at_least)
        model = Blueprint(info.context.container.db)
        rows = await anyio.to_thread.run_sync(partial(model.areas, _scope(info, region_code), include_retired))
        return [
            AssessmentArea(
                code=r["code"],
                name=r["name"],
                kind=r["kind"],
                region_code=r["region_code"],
                result=r["result"],
                valid_from=date.fromisoformat(r["valid_from"]),
                valid_until=date.fromisoformat(r["valid_until"]) if r["valid_until"] else None,
                geometry=json.loads(r["geometry"]),
                retired=bool(r["retired"]),
                position=r["position"],
            )
            for r in rows
            if kind is None or r["kind"] == kind
        ]
