"""Building facts as the checks need them, whether parsed from an IFC model (BIM 图审) or measured
by the joint survey (联合测绘): buildings, their storeys, heights, gross floor areas and uses, each
located to the element it came from (IFC GlobalId, type and name; or the survey's own ids).

Pure: plain dataclasses and JSON-able dicts (decimals as strings) for the events."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")


def dec(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


@dataclass(frozen=True)
class Element:
    """Where a fact comes from: an IFC entity (GlobalId, class, name) or a survey record."""

    global_id: str
    ifc_type: str
    name: str

    def as_dict(self) -> dict[str, str]:
        return {"global_id": self.global_id, "ifc_type": self.ifc_type, "name": self.name}

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Element:
        return cls(str(raw["global_id"]), str(raw["ifc_type"]), str(raw.get("name") or ""))


@dataclass(frozen=True)
class Storey:
    element: Element
    elevation_m: Decimal
    height_m: Decimal
    gross_floor_area_m2: Decimal
    uses: dict[str, Decimal] = field(default_factory=dict)  # use → floor area

    @property
    def top_m(self) -> Decimal:
        return self.elevation_m + self.height_m


@dataclass(frozen=True)
class Building:
    element: Element
    unit_work_code: str | None
    storeys: tuple[Storey, ...]
    ground_m: Decimal = Decimal(0)
    declared_height_m: Decimal | None = None  # a building-level height quantity, if the model has one

    @property
    def gross_floor_area_m2(self) -> Decimal:
        return sum((s.gross_floor_area_m2 for s in self.storeys), Decimal(0))

    @property
    def top(self) -> tuple[Decimal, Element]:
        """Building height above ground and the element that reaches it (the top storey)."""
        if not self.storeys:
            return (self.declared_height_m or Decimal(0), self.element)
        highest = max(self.storeys, key=lambda s: s.top_m)
        height = highest.top_m - self.ground_m
        if self.declared_height_m is not None and self.declared_height_m > height:
            return (self.declared_height_m, self.element)
        return (height, highest.element)

    @property
    def height_m(self) -> Decimal:
        return self.top[0]

    def uses(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for s in self.storeys:
            for use, area in s.uses.items():
                out[use] = out.get(use, Decimal(0)) + area
        return out


@dataclass(frozen=True)
class Facts:
    """A model's (or a survey's) facts: the site and its buildings."""

    schema: str
    site: Element | None
    buildings: tuple[Building, ...]

    @property
    def gross_floor_area_m2(self) -> Decimal:
        return sum((b.gross_floor_area_m2 for b in self.buildings), Decimal(0))

    @property
    def height_m(self) -> Decimal:
        return max((b.height_m for b in self.buildings), default=Decimal(0))

    @property
    def anchor(self) -> Element:
        """The element a whole-model finding points at: the site, else the first building."""
        if self.site is not None:
            return self.site
        return self.buildings[0].element if self.buildings else Element("", "IfcProject", "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "site": self.site.as_dict() if self.site else None,
            "gross_floor_area_m2": str(dec(self.gross_floor_area_m2)),
            "height_m": str(dec(self.height_m)),
            "buildings": [_building_dict(b) for b in self.buildings],
        }

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Facts:
        site = Element.of(raw["site"]) if raw.get("site") else None
        return cls(str(raw["schema"]), site, tuple(_building(b) for b in raw["buildings"]))


def _building_dict(b: Building) -> dict[str, Any]:
    height, top = b.top
    return {
        "element": b.element.as_dict(),
        "unit_work_code": b.unit_work_code,
        "ground_m": str(dec(b.ground_m)),
        "declared_height_m": None if b.declared_height_m is None else str(dec(b.declared_height_m)),
        "height_m": str(dec(height)),
        "height_element": top.as_dict(),
        "gross_floor_area_m2": str(dec(b.gross_floor_area_m2)),
        "uses": {k: str(dec(v)) for k, v in sorted(b.uses().items())},
        "storeys": [
            {
                "element": s.element.as_dict(),
                "elevation_m": str(dec(s.elevation_m)),
                "height_m": str(dec(s.height_m)),
                "gross_floor_area_m2": str(dec(s.gross_floor_area_m2)),
                "uses": {k: str(dec(v)) for k, v in sorted(s.uses.items())},
            }
            for s in b.storeys
        ],
    }


def _building(raw: dict[str, Any]) -> Building:
    storeys = tuple(
        Storey(
            Element.of(s["element"]),
            Decimal(s["elevation_m"]),
            Decimal(s["height_m"]),
            Decimal(s["gross_floor_area_m2"]),
            {k: Decimal(v) for k, v in s.get("uses", {}).items()},
        )
        for s in raw["storeys"]
    )
    declared = raw.get("declared_height_m")
    return Building(
        Element.of(raw["element"]),
        raw.get("unit_work_code"),
        storeys,
        Decimal(raw.get("ground_m") or 0),
        None if declared is None else Decimal(declared),
    )
