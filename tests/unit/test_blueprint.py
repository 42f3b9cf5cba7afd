"""一张蓝图 — zones and assessment areas, the red-line check, areas in m², logic constraints, and
the v1 → v2 upcast of `Project.Generated`."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.blueprint.check import Area, Declared, Zone, area_m2, check_red_line, land_use_allowed
from domain.blueprint.plan import AssessmentArea, PlanZone
from domain.projects import Project
from domain.shared.errors import Conflict, InvalidValue
from domain.shared.geometry import red_line_area_m2
from infrastructure.log import GongjianApplication
from tests.unit.test_project import fields, generated, meta


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


ZONE = Zone("HK-JD-01", square(110.40, 20.00, 110.42, 20.02), ("09",), Decimal("2.5"), Decimal("60"))
ENV = Area(
    "ENV-1", "environment", "江东环评", square(110.39, 19.99, 110.43, 20.03), "区域环评通过", date(2025, 1, 1), None
)
QUAKE = Area(
    "EQ-1", "seismic_safety", "江东安评", square(110.405, 20.005, 110.43, 20.03), "8度", date(2025, 1, 1), None
)
INSIDE_BOTH = square(110.406, 20.006, 110.408, 20.008)
INSIDE_ENV_ONLY = square(110.401, 20.001, 110.403, 20.003)
DAY = date(2026, 3, 2)


def codes(check: Any) -> list[str]:
    return [a["code"] for a in check.assessments]


def test_a_red_line_inside_two_assessment_areas_gets_both_results_and_loses_one_when_moved_out() -> None:
    both = check_red_line(INSIDE_BOTH, Declared(), [ZONE], [ENV, QUAKE], DAY)
    assert codes(both) == ["ENV-1", "EQ-1"]
    assert [a["result"] for a in both.assessments] == ["区域环评通过", "8度"]
    moved = check_red_line(INSIDE_ENV_ONLY, Declared(), [ZONE], [ENV, QUAKE], DAY)
    assert codes(moved) == ["ENV-1"]


def test_an_assessment_outside_its_validity_is_not_applied() -> None:
    expired = Area("EQ-0", "seismic_safety", "旧安评", QUAKE.geometry, "7度", date(2015, 1, 1), date(2020, 12, 31))
    assert codes(check_red_line(INSIDE_BOTH, Declared(), [], [expired, ENV], DAY)) == ["ENV-1"]


def test_a_red_line_that_only_touches_an_area_does_not_take_its_result() -> None:
    touching = square(110.403, 20.005, 110.405, 20.007)  # shares QUAKE's west edge
    assert codes(check_red_line(touching, Declared(), [], [QUAKE], DAY)) == []


def test_a_declared_height_above_the_zone_limit_is_listed_as_a_conflict() -> None:
    check = check_red_line(INSIDE_BOTH, Declared(height_m=Decimal("80")), [ZONE], [], DAY)
    assert [(c["rule"], c["zone_code"], c["declared"], c["limit"]) for c in check.conflicts] == [
        ("height_limit", "HK-JD-01", "80", "60")
    ]
    assert check_red_line(INSIDE_BOTH, Declared(height_m=Decimal("60")), [ZONE], [], DAY).conflicts == []


def test_land_use_and_plot_ratio_conflicts_are_listed_per_zone() -> None:
    check = check_red_line(INSIDE_BOTH, Declared("0701", Decimal("3.0"), None), [ZONE], [], DAY)
    assert [c["rule"] for c in check.conflicts] == ["land_use", "plot_ratio"]
    assert check_red_line(INSIDE_BOTH, Declared("0901", Decimal("2.5"), None), [ZONE], [], DAY).conflicts == []


@pytest.mark.parametrize(
    ("declared", "allowed", "ok"),
    [("0701", ["07"], True), ("07", ["0701"], True), ("070101", ["0701"], True), ("0901", ["07", "08"], False)],
)
def test_land_use_codes_are_compared_along_their_hierarchy(declared: str, allowed: list[str], ok: bool) -> None:
    assert land_use_allowed(declared, allowed) is ok


def test_the_area_in_square_metres_is_geodesic_and_close_to_the_flat_estimate() -> None:
    red = square(110.40, 20.02, 110.41, 20.03)
    measured = area_m2(red)
    assert Decimal("1150000") < measured < Decimal("1165000")  # ≈ 1107 m x 1046 m at 20°N
    assert abs(float(measured) - red_line_area_m2(red)) / float(measured) < 0.005


@settings(max_examples=40, deadline=None)
@given(
    x0=st.floats(108.7, 110.9),
    y0=st.floats(18.2, 19.9),
    w=st.floats(0.0005, 0.05),
    h=st.floats(0.0005, 0.05),
    cut=st.floats(0.1, 0.9),
)
def test_areas_add_up_when_a_red_line_is_split_in_two(x0: float, y0: float, w: float, h: float, cut: float) -> None:
    whole = area_m2(square(x0, y0, x0 + w, y0 + h))
    xm = x0 + w * cut
    parts = area_m2(square(x0, y0, xm, y0 + h)) + area_m2(square(xm, y0, x0 + w, y0 + h))
    # edges are geodesics: one long top edge and two halves of it bound slightly different areas
    assert abs(whole - parts) <= Decimal("0.05") + whole * Decimal("1e-7")


def test_a_declared_land_area_far_from_the_red_lines_is_refused_with_its_field() -> None:
    measured = area_m2(fields()["red_line"])
    assert generated(land_area_m2=measured * Decimal("1.04")).land_area_m2 is not None
    with pytest.raises(InvalidValue) as exc:
        generated(land_area_m2=measured * Decimal("1.10"))
    assert (exc.value.field, exc.value.rule) == ("land_area_m2", "land_area_inconsistent")
    with pytest.raises(InvalidValue):
        Project.generate(meta(), **fields(land_area_m2=measured * Decimal("1.04")), land_area_tolerance=Decimal("0.01"))


def test_planned_end_before_start_is_refused() -> None:
    with pytest.raises(InvalidValue) as exc:
        generated(planned_start=date(2027, 1, 1), planned_end=date(2026, 1, 1))
    assert (exc.value.field, exc.value.rule) == ("planned_end", "end_before_start")


def test_unit_works_beyond_the_zone_plot_ratio_are_refused() -> None:
    project = generated()
    red = project.red_line
    assert red is not None
    zone = Zone("Z", square(110.39, 20.01, 110.41, 20.03), ("07",), Decimal("2.0"), None)
    project.record_blueprint_check(meta(), check_red_line(red, Declared(), [zone], [], DAY), trigger="generation")
    allowed = area_m2(red) * 2
    project.register_unit_work(meta(), name="1#楼", floor_area_m2=allowed - 100, storeys=20)
    with pytest.raises(InvalidValue) as exc:
        project.register_unit_work(meta(), name="2#楼", floor_area_m2=Decimal(200), storeys=2)
    assert (exc.value.field, exc.value.rule) == ("floor_area_m2", "floor_area_over_plot_ratio")
    assert list(project.unit_works) == [f"{project.code}-001-001"]


def test_a_check_is_recorded_only_when_its_outcome_changes() -> None:
    project = generated(red_line=INSIDE_BOTH)
    check = check_red_line(INSIDE_BOTH, Declared(), [ZONE], [ENV, QUAKE], DAY)
    assert project.record_blueprint_check(meta(), check, trigger="generation")
    assert not project.record_blueprint_check(meta(), check, trigger="land_supply")
    nothing = check_red_line(INSIDE_BOTH, Declared(), [], [], DAY)
    assert generated().record_blueprint_check(meta(), nothing, trigger="generation") is False


def test_a_v1_generated_event_loads_with_the_new_fields_null() -> None:
    app = GongjianApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    event = generated().collect_events()[0]
    stored = app.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    for name in ("planned_land_use", "plot_ratio", "height_m", "land_area_m2", "class_version"):
        state.pop(name, None)
    old = type(stored)(stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode())
    loaded = app.mapper.to_domain_event(old)
    assert isinstance(loaded, Project.Generated)
    assert (loaded.planned_land_use, loaded.plot_ratio, loaded.height_m, loaded.land_area_m2) == (None,) * 4
    project = loaded.mutate(None)
    assert project is not None and project.land_area_m2 is None and project.code == event.code  # type: ignore[attr-defined]


def zone_content(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "江东01",
        "geometry": ZONE.geometry,
        "land_uses": ["09"],
        "max_plot_ratio": Decimal("2.5"),
        "height_limit_m": Decimal("60"),
        "plan_name": "江东控规",
    }
    return {**base, **changes}


def test_a_zone_imported_again_unchanged_records_nothing_and_a_change_is_a_replacement() -> None:
    zone = PlanZone.import_(meta(), code="HK-JD-01", region_code="460108", **zone_content())
    assert not zone.replace(meta(), **zone_content())
    assert zone.replace(meta(), **zone_content(height_limit_m=Decimal("80")))
    assert [type(e).__qualname__ for e in zone.collect_events()] == ["PlanZone.Imported", "PlanZone.Replaced"]
    zone.retire(meta(), reason="控规修编")
    with pytest.raises(Conflict):
        zone.replace(meta(), **zone_content())


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"land_uses": []}, "land_uses", "required"),
        ({"land_uses": ["7"]}, "land_uses.0", "land_use_code"),
        ({"max_plot_ratio": Decimal(0)}, "max_plot_ratio", "positive"),
        ({"geometry": square(120.0, 20.0, 120.1, 20.1)}, "geometry", "red_line_extent"),
    ],
)
def test_a_bad_zone_is_refused_with_field_and_rule(changes: dict[str, Any], field: str, rule: str) -> None:
    with pytest.raises(InvalidValue) as exc:
        PlanZone.import_(meta(), code="Z1", region_code="460108", **zone_content(**changes))
    assert (exc.value.field, exc.value.rule) == (field, rule)


def test_an_assessment_area_needs_a_known_kind_and_a_validity_that_ends_after_it_starts() -> None:
    content: dict[str, Any] = {
        "name": "安评",
        "kind": "seismic_safety",
        "geometry": QUAKE.geometry,
        "result": "8度",
        "valid_from": date(2025, 1, 1),
        "valid_until": None,
    }
    AssessmentArea.import_(meta(), code="EQ-1", region_code="460108", **content)
    with pytest.raises(InvalidValue) as exc:
        AssessmentArea.import_(meta(), code="EQ-2", region_code="460108", **{**content, "kind": "traffic"})
    assert exc.value.rule == "enum"
    with pytest.raises(InvalidValue) as exc:
        AssessmentArea.import_(
            meta(), code="EQ-3", region_code="460108", **{**content, "valid_until": date(2024, 1, 1)}
        )
    assert (exc.value.field, exc.value.rule) == ("valid_until", "end_before_start")
