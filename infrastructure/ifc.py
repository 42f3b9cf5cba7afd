"""IFC parsing with ifcopenshell (BIM 图审): an IFC file's bytes → `domain.industry.facts.Facts`.

What is read, per IfcBuilding: its storeys (IfcBuildingStorey: elevation; height from
Qto_BuildingStoreyBaseQuantities.GrossHeight, else the tallest space, else the gap to the next
storey), each storey's gross floor area (Σ IfcSpace Qto_SpaceBaseQuantities.GrossFloorArea, else Σ
IfcSlab Qto_SlabBaseQuantities.GrossArea), uses (the space's ObjectType or LongName), the ground
(ElevationOfTerrain) and a building-level Qto_BuildingBaseQuantities.Height if given. The unit work
is the property GJ_UnitWork.Code on the building, else the building's name. Lengths and areas are
scaled to metres and m² by the file's own units.
"""

from __future__ import annotations

import os
import tempfile
from decimal import Decimal
from typing import Any

from domain.industry.facts import Building, Element, Facts, Storey
from domain.shared.errors import InvalidValue

MAX_BYTES = 200 * 1024 * 1024
# ifcopenshell is imported where a model is read: importing it costs ≈ 0.15 s, which every process
# (each command-line call, each server) paid though few ever read an IFC file


def _d(value: float, scale: float = 1.0) -> Decimal:
    return Decimal(repr(round(float(value) * scale, 4)))


def _element(entity: Any) -> Element:
    return Element(str(entity.GlobalId), str(entity.is_a()), str(entity.Name or ""))


def _quantity(entity: Any, qto: str, name: str) -> float | None:
    import ifcopenshell.util.element as element_util

    value = element_util.get_psets(entity, qtos_only=True).get(qto, {}).get(name)
    return float(value) if isinstance(value, (int, float)) else None


def open_ifc(data: bytes) -> Any:
    """The model, or 422 when the bytes are not an IFC file ifcopenshell can read."""
    if not data or len(data) > MAX_BYTES:
        raise InvalidValue("file", f"an IFC file of 1 byte to {MAX_BYTES // 2**20} MiB", "file_size")
    text = data.lstrip()[:32]
    if not text.startswith(b"ISO-10303-21"):
        raise InvalidValue("file", "not an IFC STEP file (ISO-10303-21)", "ifc_invalid")
    import ifcopenshell

    fd, path = tempfile.mkstemp(suffix=".ifc")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        try:
            return ifcopenshell.open(path)
        except Exception as exc:  # the library raises several types for unreadable files
            raise InvalidValue("file", f"the IFC file cannot be read: {exc}", "ifc_invalid") from None
    finally:
        os.unlink(path)


def parse_ifc(data: bytes) -> Facts:
    import ifcopenshell.util.unit as unit_util

    model = open_ifc(data)
    length = unit_util.calculate_unit_scale(model)
    area = unit_util.calculate_unit_scale(model, "AREAUNIT")
    sites = model.by_type("IfcSite")
    buildings = tuple(_building(b, length, area) for b in model.by_type("IfcBuilding"))
    if not buildings:
        raise InvalidValue("file", "the model has no IfcBuilding", "ifc_no_building")
    return Facts(str(model.schema), _element(sites[0]) if sites else None, buildings)


def _building(building: Any, length: float, area: float) -> Building:
    import ifcopenshell.util.element as element_util

    storeys = sorted(
        (s for s in element_util.get_decomposition(building) if s.is_a("IfcBuildingStorey")),
        key=lambda s: float(s.Elevation or 0),
    )
    parsed = []
    for i, storey in enumerate(storeys):
        elevation = float(storey.Elevation or 0)
        children = element_util.get_decomposition(storey)
        spaces = [c for c in children if c.is_a("IfcSpace")]
        height = _quantity(storey, "Qto_BuildingStoreyBaseQuantities", "GrossHeight")
        if height is None:
            heights = [h for s in spaces if (h := _quantity(s, "Qto_SpaceBaseQuantities", "Height")) is not None]
            height = max(heights) if heights else None
        if height is None and i + 1 < len(storeys):
            height = float(storeys[i + 1].Elevation or 0) - elevation
        uses: dict[str, Decimal] = {}
        gross = Decimal(0)
        for space in spaces:
            value = _quantity(space, "Qto_SpaceBaseQuantities", "GrossFloorArea")
            if value is None:
                continue
            use = str(space.ObjectType or space.LongName or "未分类")
            uses[use] = uses.get(use, Decimal(0)) + _d(value, area)
            gross += _d(value, area)
        if not spaces:
            slabs = [c for c in children if c.is_a("IfcSlab")]
            gross = sum(
                (_d(v, area) for s in slabs if (v := _quantity(s, "Qto_SlabBaseQuantities", "GrossArea")) is not None),
                Decimal(0),
            )
        parsed.append(Storey(_element(storey), _d(elevation, length), _d(height or 0, length), gross, uses))
    code = element_util.get_psets(building).get("GJ_UnitWork", {}).get("Code")
    ground = building.ElevationOfTerrain
    declared = _quantity(building, "Qto_BuildingBaseQuantities", "Height")
    return Building(
        _element(building),
        str(code) if code else (str(building.Name) if building.Name else None),
        tuple(parsed),
        _d(ground or 0, length),
        None if declared is None else _d(declared, length),
    )
