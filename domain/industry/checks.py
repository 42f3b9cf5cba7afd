"""BIM 图审 / 规划核实 — pure checks of building facts against the project's planning conditions,
and of a completion-stage model (or survey) against the approved design. Each finding names the
element it is about, the figure found and the limit it breaks.

Rules: `height_limit` (zone 建筑限高), `plot_ratio` (zone 容积率 over the red line's area),
`permit_area` (建设工程规划许可证's approved building area), `unit_work_area` (a unit work's
declared area), and for comparisons `area_delta`, `height_delta`, `building_missing`,
`building_added`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from domain.blueprint.check import allowed_floor_area_m2
from domain.industry.facts import Building, Element, Facts, dec

AREA_TOLERANCE = Decimal("0.03")  # 3 %: measuring differences between design and as-built
HEIGHT_TOLERANCE_M = Decimal("0.5")


@dataclass(frozen=True)
class Conditions:
    """规划条件 — what the project is held to (every part optional)."""

    zones: Sequence[dict[str, Any]] = ()  # Project.blueprint.zones: code, overlap_m2, height_limit_m, max_plot_ratio
    land_area_m2: Decimal | None = None  # the red line's area
    permit_area_m2: Decimal | None = None  # 建设工程规划许可证 building_area
    unit_work_areas: dict[str, Decimal] = field(default_factory=dict)
    area_tolerance: Decimal = AREA_TOLERANCE


def finding(
    rule: str, element: Element, field_: str, value: Decimal, limit: Decimal, message: str, **extra: Any
) -> dict[str, Any]:
    return {
        "rule": rule,
        "element": element.as_dict(),
        "field": field_,
        "value": str(dec(value)),
        "limit": str(dec(limit)),
        "message": message,
        **extra,
    }


def _where(e: Element) -> str:
    return f"{e.ifc_type} {e.name or '(unnamed)'} ({e.global_id})"


def check_planning(facts: Facts, conditions: Conditions) -> list[dict[str, Any]]:
    """Findings of a model (or survey) against the planning conditions; none when it complies."""
    found: list[dict[str, Any]] = []
    for building in facts.buildings:
        height, top = building.top
        for zone in conditions.zones:
            limit = zone.get("height_limit_m")
            if limit is not None and height > Decimal(limit):
                found.append(
                    finding(
                        "height_limit",
                        top,
                        "height_m",
                        height,
                        Decimal(limit),
                        f"建筑限高超限: {_where(top)} reaches {dec(height)} m; zone {zone['code']} allows at most {limit} m",
                        zone_code=zone["code"],
                    )
                )
        found.extend(_unit_work_area(building, conditions))
    total = facts.gross_floor_area_m2
    if conditions.land_area_m2 is not None and conditions.zones:
        allowed = allowed_floor_area_m2(conditions.zones, conditions.land_area_m2)
        if allowed is not None and total > allowed:
            ratio = (total / conditions.land_area_m2).quantize(Decimal("0.001"))
            found.append(
                finding(
                    "plot_ratio",
                    facts.anchor,
                    "gross_floor_area_m2",
                    total,
                    allowed,
                    f"容积率超限: {dec(total)} m² on {conditions.land_area_m2} m² of land (plot ratio {ratio}); the zones allow {allowed} m²",
                )
            )
    permit = conditions.permit_area_m2
    if permit is not None and total > permit * (1 + conditions.area_tolerance):
        found.append(
            finding(
                "permit_area",
                facts.anchor,
                "gross_floor_area_m2",
                total,
                permit,
                f"超出规划许可面积: {dec(total)} m²; the engineering planning permit approved {permit} m² (tolerance {conditions.area_tolerance:%})",
            )
        )
    return found


def _unit_work_area(building: Building, conditions: Conditions) -> list[dict[str, Any]]:
    declared = conditions.unit_work_areas.get(building.unit_work_code or "")
    if declared is None:
        return []
    area = building.gross_floor_area_m2
    if abs(area - declared) <= declared * conditions.area_tolerance:
        return []
    return [
        finding(
            "unit_work_area",
            building.element,
            "gross_floor_area_m2",
            area,
            declared,
            f"单位工程面积不符: {_where(building.element)} has {dec(area)} m²; unit work {building.unit_work_code} declared {declared} m²",
            unit_work_code=building.unit_work_code,
        )
    ]


def _key(b: Building) -> str:
    return b.unit_work_code or b.element.name or b.element.global_id


def compare(
    design: Facts,
    built: Facts,
    area_tolerance: Decimal = AREA_TOLERANCE,
    height_tolerance_m: Decimal = HEIGHT_TOLERANCE_M,
) -> list[dict[str, Any]]:
    """竣工比对 — the as-built facts against the approved design, building by building (matched by
    unit work code, else name): area and height deltas beyond tolerance, buildings missing or added."""
    found: list[dict[str, Any]] = []
    designed = {_key(b): b for b in design.buildings}
    for b in built.buildings:
        d = designed.pop(_key(b), None)
        if d is None:
            found.append(
                finding(
                    "building_added",
                    b.element,
                    "gross_floor_area_m2",
                    b.gross_floor_area_m2,
                    Decimal(0),
                    f"设计外建筑: {_where(b.element)} is not in the approved design",
                )
            )
            continue
        area, limit = b.gross_floor_area_m2, d.gross_floor_area_m2
        if abs(area - limit) > limit * area_tolerance:
            delta = ((area - limit) / limit * 100).quantize(Decimal("0.1")) if limit else Decimal(0)
            found.append(
                finding(
                    "area_delta",
                    b.element,
                    "gross_floor_area_m2",
                    area,
                    limit,
                    f"面积偏差: {_where(b.element)} has {dec(area)} m², the approved design {dec(limit)} m² ({delta:+}%, tolerance {area_tolerance:%})",
                    delta_percent=str(delta),
                )
            )
        (height, top), designed_height = b.top, d.height_m
        if abs(height - designed_height) > height_tolerance_m:
            found.append(
                finding(
                    "height_delta",
                    top,
                    "height_m",
                    height,
                    designed_height,
                    f"高度偏差: {_where(top)} reaches {dec(height)} m, the approved design {dec(designed_height)} m (tolerance {height_tolerance_m} m)",
                )
            )
    for d in designed.values():
        found.append(
            finding(
                "building_missing",
                d.element,
                "gross_floor_area_m2",
                Decimal(0),
                d.gross_floor_area_m2,
                f"设计建筑未建: {_where(d.element)} of the approved design is not in the completion model",
            )
        )
    return found
