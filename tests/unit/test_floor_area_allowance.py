"""计容建筑面积上限 — the floor-area allowance of a red line under overlapping control-plan zones: each
part of the red line counts once, under the strictest (lowest) plot ratio covering it.

Expected figures are computed by hand: a lon/lat rectangle's area is proportional to its width in
longitude (meridians cut an ellipsoid of revolution evenly), so a zone covering the west 60 % of
the red line covers 60 % of its area; the red line's own area is checked against the ellipsoid's
area element M·N·cos φ·Δφ·Δλ at its middle latitude (GRS80), not against the code.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.blueprint.check import Declared, Zone, allowed_floor_area_m2, area_m2, check_red_line
from domain.shared.errors import InvalidValue
from tests.unit.test_blueprint import square
from tests.unit.test_project import generated, meta

DAY = date(2026, 3, 2)
W, S, E, N = 110.300, 20.050, 110.302, 20.052  # the red line
RED = square(W, S, E, N)
CENT = Decimal("0.01")


def hand_area_m2(west: float, south: float, east: float, north: float) -> float:
    """GRS80 area element at the middle latitude: M (meridian) * N (prime vertical) * cos φ."""
    a, f = 6378137.0, 1 / 298.257222101
    e2 = f * (2 - f)
    phi = math.radians((south + north) / 2)
    w = 1 - e2 * math.sin(phi) ** 2
    m, n = a * (1 - e2) / w**1.5, a / w**0.5
    return m * n * math.cos(phi) * math.radians(north - south) * math.radians(east - west)


A = area_m2(RED)


def zone(code: str, west_fraction: float, east_fraction: float, ratio: str | None) -> Zone:
    """A zone spanning the red line's latitudes (and beyond) between two fractions of its width."""
    x0, x1 = W + (E - W) * west_fraction, W + (E - W) * east_fraction
    return Zone(code, square(x0, S - 0.001, x1, N + 0.001), ("07",), Decimal(ratio) if ratio else None, None)


def allowance(*zones: Zone) -> Decimal | None:
    return allowed_floor_area_m2(check_red_line(RED, Declared(), zones, [], DAY).zones, A)


def close(value: Decimal | None, expected: float) -> bool:
    return value is not None and abs(float(value) - expected) < 0.05  # cents of rounding per part


def test_the_red_line_measures_what_the_ellipsoid_says() -> None:
    assert abs(float(A) - hand_area_m2(W, S, E, N)) / float(A) < 1e-5


def test_two_identical_zones_count_the_red_line_once() -> None:
    # the measured fault: 2 zones at 2.0 over 104,262 m² allowed 417,047 m² (each counted)
    assert close(allowance(zone("Z1", -0.5, 1.5, "2.0"), zone("Z2", -0.5, 1.5, "2.0")), 2 * float(A))


def test_where_zones_overlap_the_lower_plot_ratio_governs() -> None:
    # west 60 % at 1.0, east 60 % at 2.0: the middle 20 % is governed by 1.0
    expected = 0.6 * float(A) * 1.0 + 0.4 * float(A) * 2.0
    assert close(allowance(zone("W", -0.1, 0.6, "1.0"), zone("E", 0.4, 1.1, "2.0")), expected)


def test_a_stricter_zone_nested_in_a_looser_one_governs_its_part() -> None:
    expected = 0.5 * float(A) * 1.2 + 0.5 * float(A) * 2.0
    assert close(allowance(zone("ALL", -0.5, 1.5, "2.0"), zone("HALF", -0.5, 0.5, "1.2")), expected)


def test_two_zones_over_the_same_half_do_not_make_the_red_line_covered() -> None:
    assert allowance(zone("H1", -0.5, 0.5, "2.0"), zone("H2", -0.5, 0.5, "2.0")) is None


def test_a_zone_without_a_plot_ratio_limits_only_where_no_other_zone_does() -> None:
    assert close(allowance(zone("FREE", -0.5, 1.5, None), zone("R", -0.5, 1.5, "2.0")), 2 * float(A))
    assert allowance(zone("FREE", -0.5, 1.5, None), zone("R", -0.5, 0.5, "2.0")) is None


def test_a_check_recorded_before_governed_areas_counts_nested_zones_once() -> None:
    legacy = [
        {"code": "Z1", "overlap_m2": "104262.00", "max_plot_ratio": "2.0"},
        {"code": "Z2", "overlap_m2": "104262.00", "max_plot_ratio": "2.0"},
    ]
    assert allowed_floor_area_m2(legacy, Decimal("104262.00")) == Decimal("208524.00")


def test_unit_works_are_held_to_the_red_line_counted_once() -> None:
    project = generated(red_line=RED)
    twice = [zone("Z1", -0.5, 1.5, "2.0"), zone("Z2", -0.5, 1.5, "2.0")]
    project.record_blueprint_check(meta(), check_red_line(RED, Declared(), twice, [], DAY), trigger="generation")
    project.register_unit_work(meta(), name="1#楼", floor_area_m2=2 * A - 100, storeys=20)
    with pytest.raises(InvalidValue) as exc:  # within 4A, the double count, but over 2A
        project.register_unit_work(meta(), name="2#楼", floor_area_m2=Decimal(200), storeys=2)
    assert exc.value.rule == "floor_area_over_plot_ratio"


# --- property ------------------------------------------------------------------------------------

STEP = 0.0005  # grid of the generated rectangles, in degrees (~50 m)
edges = st.integers(min_value=0, max_value=8)
ratios = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("5"), places=1)


@st.composite
def rectangles(draw: st.DrawFn) -> dict[str, Any]:
    x0, x1 = sorted(draw(st.lists(edges, min_size=2, max_size=2, unique=True)))
    y0, y1 = sorted(draw(st.lists(edges, min_size=2, max_size=2, unique=True)))
    return square(110.3 + x0 * STEP, 20.0 + y0 * STEP, 110.3 + x1 * STEP, 20.0 + y1 * STEP)


@settings(max_examples=60, deadline=None)
@given(red=rectangles(), shapes=st.lists(st.tuples(rectangles(), ratios), min_size=1, max_size=4))
def test_the_allowance_never_exceeds_the_area_times_the_highest_ratio_covering_it(
    red: dict[str, Any], shapes: list[tuple[dict[str, Any], Decimal]]
) -> None:
    zones = [Zone(f"Z{i}", geometry, ("07",), ratio, None) for i, (geometry, ratio) in enumerate(shapes)]
    recorded = check_red_line(red, Declared(), zones, [], DAY).zones
    area = area_m2(red)
    allowed = allowed_floor_area_m2(recorded, area)
    if allowed is not None:
        covering = [Decimal(z["max_plot_ratio"]) for z in recorded]
        assert allowed <= area * max(covering)
        assert allowed >= (area * Decimal("0.995") * min(covering)).quantize(CENT, ROUND_DOWN) - CENT


@settings(max_examples=40, deadline=None)
@given(red=rectangles(), ratio=ratios)
def test_a_single_zone_covering_the_red_line_allows_area_times_its_ratio(red: dict[str, Any], ratio: Decimal) -> None:
    cover = Zone("ONE", square(110.29, 19.99, 110.32, 20.02), ("07",), ratio, None)
    recorded = check_red_line(red, Declared(), [cover], [], DAY).zones
    area = area_m2(red)
    assert allowed_floor_area_m2(recorded, area) == (area * ratio).quantize(CENT, ROUND_DOWN)
