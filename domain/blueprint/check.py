"""策划生成 — a red line checked against the blueprint: the control-plan zones it overlaps (and the
conflicts with their land use, plot ratio and height limit) and the regional assessment areas whose
results it takes over (区域评估成果应用).

Geometry is matched here in Python with shapely (fine at provincial scale: a few thousand zones,
pre-filtered by bounding box in the read model). Areas are geodesic, in m², on the GRS80 ellipsoid
that CGCS2000 uses (pyproj.Geod): exact at any longitude, so Sansha's red lines far from the
island's Gauss–Krüger zone 37 measure as well as Haikou's — no projection to pick or to distort.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from pyproj import Geod
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

# 国土空间用地用海分类 codes: 2 digits per level (一级 07, 二级 0701, 三级 070101)
LAND_USE_RE = re.compile(r"^\d{2}(\d{2}){0,2}$")
GEOD = Geod(ellps="GRS80")
CENT = Decimal("0.01")
MIN_OVERLAP_M2 = Decimal(1)  # shared edges and float slivers are not an overlap
FULL_COVER = Decimal("0.995")  # a red line this much inside zones counts as covered


def geodesic_area_m2(geom: BaseGeometry) -> Decimal:
    area, _perimeter = GEOD.geometry_area_perimeter(geom)
    return Decimal(abs(area)).quantize(CENT)


def area_m2(geojson: dict[str, Any]) -> Decimal:
    """用地面积 — the area a GeoJSON (lon/lat) polygon encloses, in m², to the cent."""
    return geodesic_area_m2(shape(geojson))


@dataclass(frozen=True)
class Zone:
    """A control-plan zone as the check needs it."""

    code: str
    geometry: dict[str, Any]
    land_uses: tuple[str, ...]
    max_plot_ratio: Decimal | None
    height_limit_m: Decimal | None


@dataclass(frozen=True)
class Area:
    """A regional assessment area as the check needs it."""

    code: str
    kind: str
    name: str
    geometry: dict[str, Any]
    result: str
    valid_from: date
    valid_until: date | None

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


@dataclass(frozen=True)
class Declared:
    """What the project declares it will build (all optional)."""

    land_use: str | None = None
    plot_ratio: Decimal | None = None
    height_m: Decimal | None = None


@dataclass
class BlueprintCheck:
    """The outcome, as plain JSON-able values (decimals as strings) for the event."""

    zones: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    assessments: list[dict[str, Any]] = field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        return {"zones": self.zones, "conflicts": self.conflicts, "assessments": self.assessments}


def land_use_allowed(declared: str, allowed: Sequence[str]) -> bool:
    """Codes are hierarchical: 070101 lies in 0701 lies in 07; a coarser declaration is not a conflict."""
    return any(declared.startswith(a) or a.startswith(declared) for a in allowed)


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def check_red_line(
    red_line: dict[str, Any], declared: Declared, zones: Sequence[Zone], areas: Sequence[Area], on: date
) -> BlueprintCheck:
    """Zones and areas the red line overlaps (by more than a sliver), the conflicts with each zone,
    and the results of the areas valid on `on` (an expired assessment is not applied)."""
    red = shape(red_line)
    out = BlueprintCheck()
    overlapping = []
    for zone in sorted(zones, key=lambda z: z.code):
        overlap = geodesic_area_m2(red.intersection(shape(zone.geometry)))
        if overlap < MIN_OVERLAP_M2:
            continue
        overlapping.append(zone)
        out.zones.append(
            {
                "code": zone.code,
                "overlap_m2": str(overlap),
                "land_uses": list(zone.land_uses),
                "max_plot_ratio": _s(zone.max_plot_ratio),
                "height_limit_m": _s(zone.height_limit_m),
            }
        )
        out.conflicts.extend(_conflicts(zone, declared))
    governed = governed_areas_m2(red, overlapping)
    for entry in out.zones:
        entry["governed_m2"] = str(governed[entry["code"]])
    for area in sorted(areas, key=lambda a: a.code):
        if not area.valid_on(on):
            continue
        if geodesic_area_m2(red.intersection(shape(area.geometry))) < MIN_OVERLAP_M2:
            continue
        out.assessments.append(
            {
                "code": area.code,
                "kind": area.kind,
                "name": area.name,
                "result": area.result,
                "valid_from": area.valid_from.isoformat(),
                "valid_until": area.valid_until.isoformat() if area.valid_until else None,
            }
        )
    return out


def _conflicts(zone: Zone, declared: Declared) -> list[dict[str, Any]]:
    found = []
    if declared.land_use is not None and not land_use_allowed(declared.land_use, zone.land_uses):
        found.append(
            _conflict(
                "land_use",
                zone,
                "planned_land_use",
                declared.land_use,
                "/".join(zone.land_uses),
                f"用地性质不符: declared {declared.land_use}, zone {zone.code} allows {'/'.join(zone.land_uses)}",
            )
        )
    if (
        declared.plot_ratio is not None
        and zone.max_plot_ratio is not None
        and declared.plot_ratio > zone.max_plot_ratio
    ):
        found.append(
            _conflict(
                "plot_ratio",
                zone,
                "plot_ratio",
                str(declared.plot_ratio),
                str(zone.max_plot_ratio),
                f"容积率超限: declared {declared.plot_ratio}, zone {zone.code} allows at most {zone.max_plot_ratio}",
            )
        )
    if declared.height_m is not None and zone.height_limit_m is not None and declared.height_m > zone.height_limit_m:
        found.append(
            _conflict(
                "height_limit",
                zone,
                "height_m",
                str(declared.height_m),
                str(zone.height_limit_m),
                f"建筑限高超限: declared {declared.height_m} m, zone {zone.code} allows at most {zone.height_limit_m} m",
            )
        )
    return found


def _conflict(rule: str, zone: Zone, field_: str, declared: str, limit: str, message: str) -> dict[str, Any]:
    return {
        "rule": rule,
        "zone_code": zone.code,
        "field": field_,
        "declared": declared,
        "limit": limit,
        "message": message,
    }


def _strictness(ratio: Decimal | None, code: str) -> tuple[bool, Decimal, str]:
    """The order in which zones claim the red line: lowest plot ratio first; a zone without one
    limits nothing, so it claims last; equal ratios by code (any order gives the same figure)."""
    return (ratio is None, ratio if ratio is not None else Decimal(0), code)


def governed_areas_m2(red: BaseGeometry, zones: Sequence[Zone]) -> dict[str, Decimal]:
    """Where zones overlap, the stricter (lower) plot ratio governs: each part of the red line is
    counted once, for the strictest zone covering it. The parts are differences of cumulative
    covered areas, each clamped to the red line's own area, so they never sum to more than it."""
    whole = geodesic_area_m2(red)
    ordered = sorted(zones, key=lambda z: _strictness(z.max_plot_ratio, z.code))
    parts: dict[str, Decimal] = {}
    union: BaseGeometry | None = None
    covered = Decimal(0)
    for zone in ordered:
        piece = red.intersection(shape(zone.geometry))
        union = piece if union is None else union.union(piece)
        now = max(covered, min(whole, geodesic_area_m2(union)))
        parts[zone.code] = now - covered
        covered = now
    return parts


def allowed_floor_area_m2(zones: Sequence[dict[str, Any]], red_line_area: Decimal) -> Decimal | None:
    """计容建筑面积上限 — Σ governed area * the zone's plot ratio: each part of the red line counted
    once, under the strictest zone covering it (governed_areas_m2). None when part of the red line
    lies outside zones with a plot ratio (no plan figure to hold the project to). Rounded down to
    the cent: an allowance is never rounded up.

    Checks recorded before `governed_m2` existed carry only each zone's overlap: then the zones
    claim the red line in the same order, each at most its overlap and together at most the red
    line's area — exact when overlapping zones nest, otherwise never more than the exact figure."""
    if red_line_area <= 0 or not zones:
        return None
    ordered = sorted(zones, key=lambda z: _strictness(_ratio(z), str(z["code"])))
    allowance = covered = Decimal(0)
    for z in ordered:
        if "governed_m2" in z:
            part = Decimal(z["governed_m2"])
        else:
            part = min(Decimal(z["overlap_m2"]), red_line_area - covered)
        ratio = _ratio(z)
        if ratio is None:
            if part >= MIN_OVERLAP_M2:
                return None  # a part governed by no plot ratio
            continue
        covered += part
        allowance += part * ratio
    if covered < red_line_area * FULL_COVER:
        return None
    return allowance.quantize(CENT, rounding=ROUND_DOWN)


def _ratio(zone: dict[str, Any]) -> Decimal | None:
    value = zone.get("max_plot_ratio")
    return None if value is None else Decimal(value)
