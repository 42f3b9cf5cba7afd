"""用地红线 — red lines as GeoJSON (Polygon / MultiPolygon, WGS84 lon/lat), validated with shapely."""

from __future__ import annotations

from typing import Any

from shapely.geometry import shape
from shapely.validation import explain_validity

from domain.shared.errors import InvalidValue

# Hainan Island with its near-shore waters, and the Sansha (三沙) sea area of the province.
HAINAN_ISLAND = (108.3, 18.0, 111.3, 20.3)
SANSHA = (109.0, 3.3, 118.0, 17.5)
SANSHA_REGIONS = frozenset({"460300", "460301", "460302"})
# a surveyed parcel boundary has tens to a few thousand vertices; more is a mistake or an attack on
# the geometry code's time
MAX_VERTICES = 10_000


def _inside(bounds: tuple[float, float, float, float], box: tuple[float, float, float, float]) -> bool:
    minx, miny, maxx, maxy = bounds
    return box[0] <= minx and box[1] <= miny and maxx <= box[2] and maxy <= box[3]


def validate_red_line(
    geojson: dict[str, Any], region_code: str | None = None, field: str = "red_line"
) -> dict[str, Any]:
    """A valid, closed, non-self-intersecting polygon inside Hainan's extent. Returns it unchanged."""
    gtype = geojson.get("type")
    if gtype not in ("Polygon", "MultiPolygon"):
        raise InvalidValue(f"{field}.type", "a red line is a GeoJSON Polygon or MultiPolygon", "red_line_type")
    coords = geojson.get("coordinates")
    polygons = [coords] if gtype == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise InvalidValue(f"{field}.coordinates", "no coordinates", "red_line_empty")
    vertices = 0
    for p, rings in enumerate(polygons):
        if not isinstance(rings, list) or not rings:
            raise InvalidValue(f"{field}.coordinates", f"polygon {p} has no rings", "red_line_empty")
        for r, ring in enumerate(rings):
            if not isinstance(ring, list) or len(ring) < 4:
                raise InvalidValue(
                    f"{field}.coordinates", f"ring {r} of polygon {p} needs at least 4 positions", "red_line_ring"
                )
            if ring[0] != ring[-1]:
                raise InvalidValue(
                    f"{field}.coordinates",
                    f"ring {r} of polygon {p} is not closed (first position != last)",
                    "red_line_open",
                )
            vertices += len(ring)
            if vertices > MAX_VERTICES:
                raise InvalidValue(
                    f"{field}.coordinates", f"more than {MAX_VERTICES} vertices in the red line", "red_line_vertices"
                )
    try:
        geom = shape(geojson)
    except Exception as exc:  # shapely raises several types for malformed input
        raise InvalidValue(field, f"not a readable geometry: {exc}", "red_line_malformed") from exc
    # degenerate (collinear) rings enclose nothing; a symmetric bow-tie's signed areas also cancel
    # to zero, but its hull does not: that one is a self-intersection
    if geom.is_empty or geom.convex_hull.area == 0:
        raise InvalidValue(field, "the red line encloses no area", "red_line_empty")
    if not geom.is_valid:
        raise InvalidValue(field, f"invalid polygon: {explain_validity(geom)}", "red_line_invalid")
    box = SANSHA if region_code in SANSHA_REGIONS else HAINAN_ISLAND
    if not _inside(geom.bounds, box):
        raise InvalidValue(field, "the red line lies outside Hainan's extent", "red_line_extent")
    return geojson


def red_line_area_m2(geojson: dict[str, Any]) -> float:
    """Approximate area in square metres (equirectangular at the polygon's latitude; fine at parcel scale)."""
    import math

    geom = shape(geojson)
    lat = geom.centroid.y
    m_per_deg_lat = 110_574.0
    m_per_deg_lon = 111_320.0 * math.cos(math.radians(lat))
    return float(geom.area * m_per_deg_lat * m_per_deg_lon)
