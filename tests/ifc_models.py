"""Small IFC models built with ifcopenshell.api for the BIM tests: a site, buildings with storeys,
and per storey one IfcSpace with gross floor area and height quantities (or a slab)."""

from __future__ import annotations

from dataclasses import dataclass, field

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.project
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.api.unit


@dataclass
class Tower:
    """A building: `storeys` of `storey_height_m` each, every storey one space of `area_m2`."""

    name: str
    storeys: int
    area_m2: float = 1000.0
    storey_height_m: float = 3.0
    use: str = "办公"
    unit_work_code: str | None = None
    slabs: bool = False  # slabs with GrossArea instead of spaces
    extra_top_m: float = 0.0  # a taller top storey (e.g. a roof plant room)
    names: list[str] = field(default_factory=list)


def ifc_model(*towers: Tower, millimetres: bool = False) -> bytes:
    f = ifcopenshell.api.project.create_file(version="IFC4")
    project = ifcopenshell.api.root.create_entity(f, ifc_class="IfcProject", name="测试项目")
    if millimetres:
        ifcopenshell.api.unit.assign_unit(f)  # the library's default: millimetres, m²
    else:
        metre = ifcopenshell.api.unit.add_si_unit(f, unit_type="LENGTHUNIT")
        square = ifcopenshell.api.unit.add_si_unit(f, unit_type="AREAUNIT")
        ifcopenshell.api.unit.assign_unit(f, units=[metre, square])
    scale = 1000.0 if millimetres else 1.0
    site = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSite", name="地块")
    ifcopenshell.api.aggregate.assign_object(f, relating_object=project, products=[site])
    for tower in towers:
        building = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuilding", name=tower.name)
        ifcopenshell.api.aggregate.assign_object(f, relating_object=site, products=[building])
        if tower.unit_work_code:
            pset = ifcopenshell.api.pset.add_pset(f, product=building, name="GJ_UnitWork")
            ifcopenshell.api.pset.edit_pset(f, pset=pset, properties={"Code": tower.unit_work_code})
        for i in range(tower.storeys):
            height = tower.storey_height_m + (tower.extra_top_m if i == tower.storeys - 1 else 0)
            storey = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuildingStorey", name=f"{i + 1}F")
            storey.Elevation = i * tower.storey_height_m * scale
            ifcopenshell.api.aggregate.assign_object(f, relating_object=building, products=[storey])
            if tower.slabs:
                slab = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSlab", name=f"楼板{i + 1}")
                ifcopenshell.api.aggregate.assign_object(f, relating_object=storey, products=[slab])
                qto = ifcopenshell.api.pset.add_qto(f, product=slab, name="Qto_SlabBaseQuantities")
                ifcopenshell.api.pset.edit_qto(f, qto=qto, properties={"GrossArea": tower.area_m2})
                q2 = ifcopenshell.api.pset.add_qto(f, product=storey, name="Qto_BuildingStoreyBaseQuantities")
                ifcopenshell.api.pset.edit_qto(f, qto=q2, properties={"GrossHeight": height * scale})
                continue
            space = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSpace", name=f"{i + 1}01")
            space.ObjectType = tower.use
            ifcopenshell.api.aggregate.assign_object(f, relating_object=storey, products=[space])
            qto = ifcopenshell.api.pset.add_qto(f, product=space, name="Qto_SpaceBaseQuantities")
            ifcopenshell.api.pset.edit_qto(
                f, qto=qto, properties={"GrossFloorArea": tower.area_m2, "Height": height * scale}
            )
    return str(f.to_string()).encode("utf-8")


def storey_ids(data: bytes) -> dict[str, str]:
    """GlobalId of each storey by 'building/storey' name, to assert findings point at them."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".ifc") as tmp:
        tmp.write(data)
        tmp.flush()
        model = ifcopenshell.open(tmp.name)
    out = {}
    for storey in model.by_type("IfcBuildingStorey"):
        building = storey.Decomposes[0].RelatingObject
        out[f"{building.Name}/{storey.Name}"] = storey.GlobalId
    return out
