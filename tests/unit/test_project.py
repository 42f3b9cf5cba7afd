"""项目 — generation (策划生成) rules, unit-work codes, land, parcels and duplicate-code merges."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from domain.projects import Project, project_id
from domain.shared.errors import Conflict, IllegalTransition, InvalidValue
from domain.shared.events import SHANGHAI, Channel, Meta

CODE = "2603-460100-04-01-123456"
LEGACY = "2019-460100-70-01-012345"
RED_LINE = {
    "type": "Polygon",
    "coordinates": [[[110.40, 20.02], [110.402, 20.02], [110.402, 20.022], [110.40, 20.022], [110.40, 20.02]]],
}


def meta(day: date = date(2026, 3, 2)) -> Meta:
    now = datetime.combine(day, time(10), SHANGHAI)
    return Meta("u1", "applicant", "91460000MA5T0P3X64", Channel.ONLINE, f"req-{uuid4().hex[:8]}", now)


def fields(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "code": CODE,
        "name": "海口江东新区总部经济大厦",
        "owner_name": "海南椰城置业有限公司",
        "owner_uscc": "91460000MA5T0P3X64",
        "region_code": "460108",
        "flow_type": 3,
        "investment_type": "enterprise",
        "category": "房屋建筑",
        "total_investment": Decimal("125000.00"),
        "planned_start": date(2026, 6, 1),
        "planned_end": date(2028, 6, 1),
        "red_line": RED_LINE,
    }
    return {**base, **changes}


def generated(**changes: Any) -> Project:
    return Project.generate(meta(), **fields(**changes))


def test_a_generated_project_is_keyed_by_its_code() -> None:
    project = generated()
    assert project.id == project_id(CODE)
    assert project_id(CODE) == project_id(CODE) != project_id(LEGACY)
    assert (project.code, project.region_code, project.red_line) == (CODE, "460108", RED_LINE)


def test_a_project_without_a_red_line_yet_may_be_generated() -> None:
    assert generated(red_line=None).red_line is None


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"owner_uscc": "91460000MA5T0P3X65"}, "owner.uscc", "uscc_check_character"),
        ({"owner_uscc": "9146000MA5T0P3X64"}, "owner.uscc", "uscc_length"),
        ({"code": "2603-460100-04-01-12345"}, "code", "project_code_format"),
        ({"code": "2603-469003-04-01-123456"}, "code", "project_code_region"),
        ({"region_code": "469003"}, "region_code", "region_unknown"),
        ({"red_line": {**RED_LINE, "type": "Point"}}, "red_line.type", "red_line_type"),
        ({"region_code": "460300", "code": "2603-460300-04-01-123456"}, "red_line", "red_line_extent"),
        ({"region_code": "460200"}, "region_code", "project_code_region_mismatch"),
        ({"code": "2603-460108-04-01-123456", "region_code": "460106"}, "region_code", "project_code_region_mismatch"),
        ({"total_investment": Decimal("-0.01")}, "total_investment", "non_negative"),
        ({"planned_end": date(2026, 5, 31)}, "planned_end", "end_before_start"),
        ({"flow_type": 11}, "flow_type", "flow_type_unknown"),
        ({"flow_type": 0}, "flow_type", "flow_type_unknown"),
        ({"investment_type": "foreign"}, "investment_type", "enum"),
        ({"name": "  "}, "name", "required"),
        ({"owner_name": ""}, "owner.name", "required"),
    ],
)
def test_generation_refuses_a_value_that_breaks_a_rule(changes: dict[str, Any], field: str, rule: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        generated(**changes)
    assert (caught.value.field, caught.value.rule) == (field, rule)


@pytest.mark.parametrize(
    ("code_region", "region"),
    [("460100", "460108"), ("460108", "460108"), ("460000", "460200"), ("460108", "460100")],
)
def test_a_code_of_the_project_s_division_or_of_a_division_above_or_below_it_is_accepted(
    code_region: str, region: str
) -> None:
    project = generated(code=f"2603-{code_region}-04-01-123456", region_code=region, red_line=None)
    assert project.region_code == region


def test_a_legacy_code_and_a_zero_investment_are_accepted() -> None:
    project = generated(code=LEGACY, total_investment=Decimal(0))
    assert project.code == LEGACY


def test_unit_work_codes_follow_the_engineering_code_in_sequence() -> None:
    project = generated()
    codes = [
        project.register_unit_work(meta(), name=n, floor_area_m2=Decimal(5000), storeys=18) for n in ("1#楼", "2#楼")
    ]
    codes.append(project.register_unit_work(meta(), name="1#楼", floor_area_m2=None, storeys=None))
    assert codes == [f"{CODE}-001-001", f"{CODE}-001-002", f"{CODE}-001-003"]
    assert len(set(codes)) == 3  # a repeated name still gets a fresh code
    assert project.unit_works == {codes[0]: "1#楼", codes[1]: "2#楼", codes[2]: "1#楼"}


@pytest.mark.parametrize(("area", "storeys", "field"), [(Decimal(0), 3, "floor_area_m2"), (Decimal(100), 0, "storeys")])
def test_a_unit_work_needs_a_positive_area_and_storeys(area: Decimal, storeys: int, field: str) -> None:
    project = generated()
    with pytest.raises(InvalidValue) as caught:
        project.register_unit_work(meta(), name="1#楼", floor_area_m2=area, storeys=storeys)
    assert caught.value.field == field
    assert project.unit_works == {}


def test_land_is_supplied_once_and_a_transfer_needs_its_contract() -> None:
    project = generated(red_line=None)
    with pytest.raises(InvalidValue) as caught:
        project.supply_land(
            meta(), mode="transfer", red_line=RED_LINE, supplied_on=date(2026, 3, 2), contract_number=None
        )
    assert caught.value.field == "contract_number"
    project.supply_land(
        meta(), mode="allocation", red_line=RED_LINE, supplied_on=date(2026, 3, 2), contract_number=None
    )
    assert (project.land_supply_mode, project.red_line) == ("allocation", RED_LINE)
    with pytest.raises(Conflict):
        project.supply_land(
            meta(), mode="allocation", red_line=RED_LINE, supplied_on=date(2026, 3, 3), contract_number=None
        )


def test_a_parcel_is_linked_once() -> None:
    project = generated()
    project.link_parcel(meta(), parcel_code="460108004002gb00123")
    assert project.parcel_codes == ["460108004002GB00123"]
    with pytest.raises(Conflict):
        project.link_parcel(meta(), parcel_code="460108004002GB00123")


def test_a_merge_is_recorded_on_both_projects() -> None:
    duplicate, canonical = generated(code=LEGACY), generated()
    duplicate.merge_into(meta(), canonical, "名称、业主与红线一致")
    assert duplicate.merged_into == CODE
    assert canonical.merged_codes == [LEGACY]
    merged, absorbed = duplicate.collect_events()[-1], canonical.collect_events()[-1]
    assert isinstance(merged, Project.MergedInto) and isinstance(absorbed, Project.DuplicateAbsorbed)
    assert (merged.canonical_code, absorbed.duplicate_code) == (CODE, LEGACY)
    assert merged.request_id == absorbed.request_id  # one command, saved together


def test_a_merged_project_refuses_further_commands() -> None:
    duplicate, canonical = generated(code=LEGACY), generated()
    duplicate.merge_into(meta(), canonical, "重复赋码")
    commands = [
        lambda: duplicate.register_unit_work(meta(), name="1#楼", floor_area_m2=None, storeys=None),
        lambda: duplicate.link_parcel(meta(), parcel_code="460108004002GB00123"),
        lambda: duplicate.supply_land(
            meta(), mode="allocation", red_line=RED_LINE, supplied_on=date(2026, 3, 2), contract_number=None
        ),
        lambda: duplicate.merge_into(meta(), canonical, "again"),
        lambda: generated(code="2603-460100-04-01-654321").merge_into(meta(), duplicate, "into a merged one"),
    ]
    for command in commands:
        with pytest.raises(IllegalTransition) as caught:
            command()
        assert caught.value.state == f"merged into {CODE}"


def test_a_project_cannot_be_merged_into_itself_or_without_a_reason() -> None:
    project, twin = generated(), generated()
    with pytest.raises(InvalidValue) as caught:
        project.merge_into(meta(), twin, "重复")
    assert caught.value.rule == "merge_self"
    with pytest.raises(InvalidValue) as caught:
        project.merge_into(meta(), generated(code=LEGACY), " ")
    assert caught.value.field == "reason"
