"""IFC parsing with ifcopenshell (infrastructure/ifc.py): storeys, heights, gross floor areas and
uses read from models built programmatically, in metres or millimetres, from spaces or slabs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.shared.errors import InvalidValue
from infrastructure.ifc import parse_ifc
from tests.ifc_models import Tower, ifc_model, storey_ids


def test_storeys_height_areas_and_uses_are_read_per_building_and_unit_work() -> None:
    data = ifc_model(Tower("1号楼", 3, 500, use="住宅", unit_work_code="U-001"), Tower("2号楼", 2, 200, slabs=True))
    facts = parse_ifc(data)
    one, two = facts.buildings
    assert one.unit_work_code == "U-001" and two.unit_work_code == "2号楼"  # no code property: the name
    assert [s.element.name for s in one.storeys] == ["1F", "2F", "3F"]
    assert one.height_m == Decimal("9.0") and one.gross_floor_area_m2 == Decimal("1500.0")
    assert one.uses() == {"住宅": Decimal("1500.0")}
    assert two.gross_floor_area_m2 == Decimal("400.0") and two.height_m == Decimal("6.0")
    assert one.top[1].global_id == storey_ids(data)["1号楼/3F"]
    assert facts.site is not None and facts.site.ifc_type == "IfcSite"


def test_a_model_in_millimetres_gives_the_same_facts_as_one_in_metres() -> None:
    metres = parse_ifc(ifc_model(Tower("A", 4, 321.5, extra_top_m=1.5)))
    millimetres = parse_ifc(ifc_model(Tower("A", 4, 321.5, extra_top_m=1.5), millimetres=True))
    assert metres.height_m == millimetres.height_m == Decimal("13.5")
    assert metres.gross_floor_area_m2 == millimetres.gross_floor_area_m2


@pytest.mark.parametrize("data", [b"", b"hello", b"ISO-10303-21;\nnot really"])
def test_what_is_not_a_readable_ifc_file_is_invalid_input(data: bytes) -> None:
    with pytest.raises(InvalidValue) as bad:
        parse_ifc(data)
    assert bad.value.field == "file"
