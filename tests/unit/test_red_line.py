"""用地红线 — GeoJSON red lines: valid, closed, simple polygons inside Hainan's extent."""

from __future__ import annotations

from typing import Any

import pytest

from domain.shared.errors import InvalidValue
from domain.shared.geometry import red_line_area_m2, validate_red_line


def polygon(*ring: tuple[float, float]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


# about 200 m x 220 m in Haikou's 江东新区
HAIKOU = polygon((110.40, 20.02), (110.402, 20.02), (110.402, 20.022), (110.40, 20.022), (110.40, 20.02))
YONGXING = polygon((112.33, 16.83), (112.334, 16.83), (112.334, 16.834), (112.33, 16.834), (112.33, 16.83))


def _rule(geojson: dict[str, Any], region: str | None = "460100") -> str:
    with pytest.raises(InvalidValue) as caught:
        validate_red_line(geojson, region)
    return caught.value.rule


def test_a_small_polygon_in_haikou_is_a_valid_red_line() -> None:
    assert validate_red_line(HAIKOU, "460106") is HAIKOU
    assert 40_000 < red_line_area_m2(HAIKOU) < 60_000


def test_a_polygon_with_a_courtyard_hole_is_valid() -> None:
    hole = [[110.4005, 20.0205], [110.4005, 20.0215], [110.4015, 20.0215], [110.4015, 20.0205], [110.4005, 20.0205]]
    with_hole = {"type": "Polygon", "coordinates": [HAIKOU["coordinates"][0], hole]}
    assert validate_red_line(with_hole, "460100") is with_hole


def test_an_open_ring_is_refused() -> None:
    open_ring = polygon((110.40, 20.02), (110.402, 20.02), (110.402, 20.022), (110.40, 20.022))
    assert _rule(open_ring) == "red_line_open"


def test_a_ring_of_three_positions_is_refused() -> None:
    assert _rule(polygon((110.40, 20.02), (110.402, 20.02), (110.40, 20.02))) == "red_line_ring"


def test_a_bow_tie_that_crosses_itself_is_refused() -> None:
    bow_tie = polygon((110.40, 20.02), (110.404, 20.023), (110.404, 20.02), (110.40, 20.021), (110.40, 20.02))
    with pytest.raises(InvalidValue) as caught:
        validate_red_line(bow_tie, "460100")
    assert caught.value.rule == "red_line_invalid"
    assert "Self-intersection" in caught.value.message


def test_a_symmetric_bow_tie_whose_lobes_cancel_out_is_refused_too() -> None:
    bow_tie = polygon((110.40, 20.02), (110.402, 20.022), (110.402, 20.02), (110.40, 20.022), (110.40, 20.02))
    assert _rule(bow_tie) == "red_line_invalid"


def test_a_polygon_enclosing_no_area_is_refused() -> None:
    line = polygon((110.40, 20.02), (110.401, 20.02), (110.402, 20.02), (110.40, 20.02))
    assert _rule(line) == "red_line_empty"


def test_a_polygon_in_guangzhou_lies_outside_hainan() -> None:
    canton = polygon((113.26, 23.12), (113.27, 23.12), (113.27, 23.13), (113.26, 23.13), (113.26, 23.12))
    assert _rule(canton) == "red_line_extent"


def test_latitude_and_longitude_swapped_lies_outside_hainan() -> None:
    swapped = {"type": "Polygon", "coordinates": [[[lat, lon] for lon, lat in HAIKOU["coordinates"][0]]]}
    assert _rule(swapped) == "red_line_extent"


def test_a_multipolygon_of_two_plots_is_valid() -> None:
    second = [[[x + 0.01, y] for x, y in HAIKOU["coordinates"][0]]]
    multi = {"type": "MultiPolygon", "coordinates": [HAIKOU["coordinates"], second]}
    assert validate_red_line(multi, "460100") is multi


def test_a_multipolygon_with_an_invalid_part_is_refused() -> None:
    bow_tie = [[[110.43, 20.02], [110.432, 20.022], [110.432, 20.02], [110.43, 20.022], [110.43, 20.02]]]
    multi = {"type": "MultiPolygon", "coordinates": [HAIKOU["coordinates"], bow_tie]}
    assert _rule(multi) == "red_line_invalid"


@pytest.mark.parametrize("gtype", ["Point", "LineString", "GeometryCollection", None])
def test_a_geometry_other_than_a_polygon_is_refused(gtype: str | None) -> None:
    assert _rule({"type": gtype, "coordinates": [110.4, 20.02]}) == "red_line_type"


def test_a_plot_on_yongxing_island_is_valid_for_sansha_regions() -> None:
    for region in ("460300", "460301", "460302"):
        assert validate_red_line(YONGXING, region) is YONGXING


def test_a_plot_on_yongxing_island_lies_outside_hainan_island_for_other_regions() -> None:
    assert _rule(YONGXING, "460100") == "red_line_extent"
    assert _rule(YONGXING, None) == "red_line_extent"


def test_a_plot_on_hainan_island_lies_outside_the_sansha_sea_area() -> None:
    assert _rule(HAIKOU, "460300") == "red_line_extent"
