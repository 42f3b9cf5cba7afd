"""Industry domain without I/O: the drawing set's review cycle and fixity check, the BIM checks
against planning conditions and design-vs-completion comparison (with Hypothesis invariants), the
survey's facts and the control-line conflicts."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.industry.checks import Conditions, check_planning, compare
from domain.industry.drawings import DrawingSet, check_sheets, drawing_set_id, set_hash
from domain.industry.facts import Building, Element, Facts, Storey
from domain.industry.multiplan import control_line_conflicts
from domain.industry.survey import check_buildings, survey_facts
from domain.shared.errors import Conflict, IllegalTransition, InvalidValue
from domain.shared.events import Channel, Meta
from tests.unit.test_blueprint import INSIDE_BOTH, square

META = Meta("u-1", "reviewer", "460100-zjj", Channel.ONLINE, "req", datetime(2026, 5, 1, tzinfo=UTC))
ZONE = {"code": "Z1", "overlap_m2": "10000", "height_limit_m": "60", "max_plot_ratio": "2.0"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sheet_list(*contents: bytes) -> list[dict[str, object]]:
    return check_sheets(
        [{"number": f"S-{i}", "title": f"图 {i}", "sha256": sha(c)} for i, c in enumerate(contents, start=1)]
    )


def delivered(*contents: bytes) -> DrawingSet:
    sheets = sheet_list(*contents)
    return DrawingSet.deliver(
        META,
        set_id=drawing_set_id(uuid4(), "structure"),
        discipline="structure",
        case_id="c",
        project_code="p",
        design_institute="院",
        institute_uscc="u",
        sheets=sheets,
        set_hash=set_hash("structure", sheets),
        signing_request_id="sr",
        seal_id="s",
        signer="d",
    )


def test_a_set_is_commented_sent_back_revised_and_approved_and_a_changed_file_is_found() -> None:
    drawings = delivered(b"a", b"b")
    with pytest.raises(InvalidValue):
        drawings.comment(META, "S-9", "no such sheet")
    drawings.comment(META, "S-1", "梁配筋不足")
    drawings.request_revision(META, "见意见")
    with pytest.raises(IllegalTransition):
        drawings.approve(META)
    new = sheet_list(b"a2", b"b")
    assert (
        drawings.revise(
            META, sheets=new, new_hash=set_hash("structure", new), signing_request_id="sr2", seal_id="s", signer="d"
        )
        == 2
    )
    assert drawings.open_comments() == []  # comments belong to the superseded version
    drawings.approve(META)
    with pytest.raises(IllegalTransition):
        drawings.revise(META, sheets=new, new_hash="x", signing_request_id="sr3", seal_id="s", signer="d")
    assert drawings.check_files(META, {"S-1": sha(b"a2"), "S-2": sha(b"b")})["intact"]
    outcome = drawings.check_files(META, {"S-1": sha(b"a2 edited")})
    assert [c["sheet_number"] for c in outcome["changed"]] == ["S-1"] and outcome["missing"] == ["S-2"]
    assert drawings.archive_entry() is not None and drawings.archive_entry()["version"] == 2  # type: ignore[index]


def test_an_identical_revision_and_a_revision_without_comments_are_refused() -> None:
    drawings = delivered(b"a")
    with pytest.raises(Conflict):
        drawings.request_revision(META, "nothing said")
    drawings.comment(META, "S-1", "x")
    drawings.request_revision(META, "x")
    same = sheet_list(b"a")
    with pytest.raises(Conflict):
        drawings.revise(
            META, sheets=same, new_hash=set_hash("structure", same), signing_request_id="sr", seal_id="s", signer="d"
        )


def test_sheets_with_duplicate_numbers_or_bad_hashes_are_invalid() -> None:
    with pytest.raises(InvalidValue) as dup:
        check_sheets([{"number": "A", "title": "t", "sha256": "0" * 64}] * 2)
    assert dup.value.rule == "duplicate"
    with pytest.raises(InvalidValue) as bad:
        check_sheets([{"number": "A", "title": "t", "sha256": "xyz"}])
    assert bad.value.field == "sheets.0.sha256"


def test_the_set_hash_depends_on_every_sheet_hash_but_not_on_the_order_given() -> None:
    one = sheet_list(b"a", b"b")
    assert set_hash("site", one) == set_hash("site", check_sheets(list(reversed(one))))
    assert set_hash("site", one) != set_hash("site", sheet_list(b"a", b"c"))


def tower(name: str, storeys: int, area: Decimal, height: Decimal = Decimal(3), code: str | None = None) -> Building:
    return Building(
        Element(f"g-{name}", "IfcBuilding", name),
        code,
        tuple(
            Storey(Element(f"g-{name}-{i}", "IfcBuildingStorey", f"{i + 1}F"), height * i, height, area, {"办公": area})
            for i in range(storeys)
        ),
    )


def facts(*buildings: Building) -> Facts:
    return Facts("IFC4", Element("site", "IfcSite", "地块"), buildings)


def test_the_height_finding_names_the_top_storey_and_the_zone_limit() -> None:
    [finding] = check_planning(facts(tower("A", 21, Decimal(100))), Conditions(zones=[ZONE]))
    assert finding["rule"] == "height_limit" and finding["element"]["global_id"] == "g-A-20"
    assert (finding["value"], finding["limit"], finding["zone_code"]) == ("63.00", "60.00", "Z1")
    assert check_planning(facts(tower("A", 20, Decimal(100))), Conditions(zones=[ZONE])) == []


def test_plot_ratio_and_permit_area_are_checked_on_the_whole_model() -> None:
    model = facts(tower("A", 10, Decimal(2100)))  # 21,000 m² on 10,000 m² at plot ratio 2.0
    rules = {
        f["rule"]
        for f in check_planning(
            model, Conditions(zones=[ZONE], land_area_m2=Decimal(10000), permit_area_m2=Decimal(20000))
        )
    }
    assert rules == {"plot_ratio", "permit_area"}
    assert check_planning(model, Conditions(permit_area_m2=Decimal(20500))) == []  # within 3 %


areas = st.decimals(min_value=10, max_value=5000, places=2)


@given(st.lists(st.tuples(st.integers(1, 30), areas), min_size=1, max_size=4))
def test_a_model_compared_with_itself_has_no_finding(spec: list[tuple[int, Decimal]]) -> None:
    model = facts(*(tower(f"B{i}", n, a) for i, (n, a) in enumerate(spec)))
    assert compare(model, model) == []


@given(st.integers(1, 30), areas, st.decimals(min_value=Decimal("1.031"), max_value=Decimal(3), places=3))
def test_a_completion_larger_than_the_tolerance_is_flagged_and_within_it_is_not(
    storeys: int, area: Decimal, factor: Decimal
) -> None:
    design = facts(tower("A", storeys, area))
    rules = [f["rule"] for f in compare(design, facts(tower("A", storeys, area * factor)))]
    assert rules == ["area_delta"]
    assert compare(design, facts(tower("A", storeys, area * Decimal("1.02")))) == []


def test_buildings_missing_or_added_are_findings() -> None:
    rules = sorted(f["rule"] for f in compare(facts(tower("A", 2, Decimal(10))), facts(tower("B", 2, Decimal(10)))))
    assert rules == ["building_added", "building_missing"]


def test_survey_results_become_facts_with_the_measured_height_and_uses_per_storey() -> None:
    buildings = check_buildings(
        [
            {
                "unit_work_code": "U1",
                "height_m": "10.5",
                "storeys": [{"name": "1F", "height_m": "3", "gross_floor_area_m2": "500"}],
                "units": [{"number": "101", "storey": "1F", "use": "住宅", "floor_area_m2": "450"}],
            }
        ],
        {"U1": "1号楼"},
    )
    [building] = survey_facts(buildings).buildings
    assert building.height_m == Decimal("10.50") and building.uses() == {"住宅": Decimal("450.00")}
    with pytest.raises(InvalidValue) as bad:
        check_buildings([{**buildings[0], "units": [{"storey": "9F", "floor_area_m2": "1"}]}], {"U1": "1号楼"})
    assert bad.value.field == "buildings.0.units.0.storey"


def test_a_red_line_in_a_prohibitive_control_line_or_outside_the_development_boundary_conflicts() -> None:
    inside = {"code": "ST-1", "kind": "ecological_protection", "name": "", "geometry": INSIDE_BOTH}
    far = {"code": "ST-2", "kind": "ecological_protection", "name": "", "geometry": square(110.5, 20.1, 110.6, 20.2)}
    boundary = {
        "code": "UB",
        "kind": "urban_development_boundary",
        "name": "",
        "geometry": square(110.3, 19.9, 110.5, 20.1),
    }
    assert [c["zone_code"] for c in control_line_conflicts(INSIDE_BOTH, [inside, far, boundary])] == ["ST-1"]
    small = {**boundary, "geometry": square(110.406, 20.006, 110.407, 20.007)}
    assert [c["zone_code"] for c in control_line_conflicts(INSIDE_BOTH, [small])] == ["UB"]
