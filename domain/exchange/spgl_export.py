"""数据共享交换 (export side) — our facts as rows of the national data-sharing tables, and the
national platform's answers to our uploads.

Pure: `projections/spgl_exchange.py` feeds these the events and writes the rows. Only fields the
reference (reference/spgl.md) names are produced; each one's source is listed in docs/exchange.md.

- 用地红线 SPGL_XMYDHXJZXXB: `GCDM` and the boundary points. The reference names no field of its own
  for the points; we put them in `XMJWDZB`, the standard's coordinates field (of SPGL_XMJBXXB), as
  `lon,lat;lon,lat;…` (the exterior ring without its closing point; the polygons of a MultiPolygon
  separated by `|`), as the city systems we import from do.
- 建设用地规划许可证 SPGL_JSYDGHXKXXB, 建设工程规划许可证 SPGL_JSGCGHXKXXB, 建筑工程施工许可证
  SPGL_JZGCSGXKXXB: from our electronic licences (`License.Issued`) of those types; the
  construction permit cites the project's current land-use and works permits and drawing-review
  certificate (SCHGSBH) by number. A revocation re-sends the row invalid (SJYXBS 0) with its reason.
  Besides the table's own fields each row carries `GCDM`, the engineering code every project table
  has, which links the permit to its project (the city systems' rows carry it too; the import's
  `as_record` reads the project from it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from domain.exchange.spgl import BUILD_PERMIT, LAND_PERMIT, RED_LINE, WORKS_PERMIT, tables
from domain.shared.errors import InvalidValue
from domain.shared.events import SHANGHAI
from domain.shared.reference import REFERENCE

# licence type → (table, the field that carries the licence number)
PERMIT_TABLES: dict[str, tuple[str, str]] = {
    "construction_land_planning_permit": (LAND_PERMIT, "YDGHXKZBH"),
    "engineering_planning_permit": (WORKS_PERMIT, "GCGHXKZBH"),
    "construction_permit": (BUILD_PERMIT, "SGXKZBH"),
}
# upstream number a construction permit cites → the licence type that number belongs to
UPSTREAM: dict[str, str] = {
    "YDGHXKZBH": "construction_land_planning_permit",
    "GCGHXKZBH": "engineering_planning_permit",
    "SCHGSBH": "drawing_review_certificate",
}
# TDHQFS 土地获取方式 as the standard's readers write it, from Project.LandSupplied.mode
LAND_SUPPLY_MODES = {"allocation": "划拨", "transfer": "出让"}
UPLOAD_STATES = {"1": "uploaded", "-1": "failed", "3": "failed"}  # SJSCZT; 0 (pending) is where rows start


def time_text(moment: datetime) -> str:
    last = _LAST_TIME[0]
    if last[0] is moment:  # an event's rows mostly show its one time (GXSJ, BLSJ): formatted once
        return last[1]
    t = moment.astimezone(SHANGHAI)
    if t.year < 1000:  # strftime's %Y does not pad them
        out = t.strftime("%Y-%m-%d %H:%M:%S")
    else:  # the fields formatted directly: strftime costs more
        out = "%d-%02d-%02d %02d:%02d:%02d" % (t.year, t.month, t.day, t.hour, t.minute, t.second)  # noqa: UP031
    _LAST_TIME[0] = (moment, out)
    return out


_LAST_TIME: list[tuple[datetime | None, str]] = [(None, "")]  # the last moment formatted (kept: its id is not reused)


def text(value: Any) -> str:
    """A value as the text of a cell: times in Asia/Shanghai, dates ISO, None empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return time_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def row(**fields: Any) -> dict[str, str]:
    """A row of the fields that have a value (an empty cell and a missing one are the same); a park's
    region goes out as its GB/T 2260 parent's (the national platform knows no park code)."""
    if fields.get("XZQHDM"):
        fields["XZQHDM"] = REFERENCE.gbt_code(str(fields["XZQHDM"]))
    out = {}
    for k, v in fields.items():
        if v.__class__ is not str:  # most cells are text already: `text` only for the others
            v = text(v)
        if v:
            out[k] = v
    return out


def engineering_code(project_code: str) -> str:
    """GCDM of a project generated here: its one engineering, `<code>-001` (as its SPGL_XMJBXXB row)."""
    return f"{project_code}-001"


def boundary_points(red_line: Mapping[str, Any]) -> str:
    """XMJWDZB of a GeoJSON Polygon or MultiPolygon red line (exterior rings, lon,lat)."""
    polygons: Sequence[Any] = [red_line["coordinates"]] if red_line["type"] == "Polygon" else red_line["coordinates"]
    rings = []
    for polygon in polygons:
        ring = list(polygon[0])
        if len(ring) > 1 and list(ring[0]) == list(ring[-1]):
            ring = ring[:-1]
        rings.append(";".join(f"{p[0]},{p[1]}" for p in ring))
    return "|".join(rings)


def red_line_row(
    key: str, region_code: str, project_code: str, red_line: Mapping[str, Any]
) -> tuple[str, dict[str, str]]:
    """用地红线: one row per project (`DFSJZJ` `<project id>-HX`); a new red line corrects it."""
    return RED_LINE, row(
        DFSJZJ=f"{key}-HX",
        XZQHDM=region_code,
        GCDM=engineering_code(project_code),
        XMJWDZB=boundary_points(red_line),
    )


def permit_row(
    key: str,
    licence: Mapping[str, Any],
    issued_on: date,
    upstream: Mapping[str, str],
    land_supply_mode: str | None,
) -> tuple[str, dict[str, str]] | None:
    """The permit table row of a licence (`License.Issued` fields), or None for other licence types.
    `upstream`: the project's current number per licence type (for the construction permit)."""
    target = PERMIT_TABLES.get(str(licence["licence_type"]))
    if target is None:
        return None
    table, number_field = target
    topic: Mapping[str, Any] = licence.get("topic") or {}
    fields: dict[str, Any] = {
        "DFSJZJ": key,
        "XZQHDM": licence["region_code"],
        "GCDM": engineering_code(str(licence["project_code"])),
        number_field: licence["number"],
    }
    if table == LAND_PERMIT:
        fields |= {
            "YDDW": licence["holder_name"],
            "YDMJ": topic.get("land_area"),
            "TDYT": topic.get("land_use"),
            "TDHQFS": LAND_SUPPLY_MODES.get(land_supply_mode or ""),
        }
    elif table == BUILD_PERMIT:
        fields |= {name: upstream.get(kind) for name, kind in UPSTREAM.items()}
        fields |= {"FZJG": licence["department"], "FZRQ": issued_on}
    out = row(**fields)
    assert set(out) <= {*tables()[table].fields, "GCDM"}, f"{table}: a field the reference does not name"
    return table, out


def invalidated(previous: Mapping[str, str], reason: str) -> dict[str, str]:
    """The row sent again, invalid (SJYXBS 0) with the reason (SJWXYY): the standard's correction."""
    again = {k: v for k, v in previous.items() if k not in ("LSH", "GXSJ", "SJSCZT", "SBYY")}
    return {**again, "SJYXBS": "0", "SJWXYY": reason}


def check_upload_results(results: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The national platform's answer per row: table, serial (LSH), state (SJSCZT 1, -1 or 3) and,
    for a failure, the reason (SBYY). A bad entry is a 422 naming its index and field."""
    if not results:
        raise InvalidValue("results", "at least one row's result", "required")
    checked = []
    for n, r in enumerate(results):
        table, lsh, state = str(r.get("table", "")), str(r.get("LSH", "")), str(r.get("SJSCZT", ""))
        reason = str(r.get("SBYY") or "").strip()
        if table not in tables():
            raise InvalidValue(f"results[{n}].table", f"{table!r} is not a national data-sharing table", "table")
        if not re.fullmatch(r"\d+", lsh):
            raise InvalidValue(f"results[{n}].LSH", "the row's serial, a whole number", "format")
        if state not in UPLOAD_STATES:
            raise InvalidValue(f"results[{n}].SJSCZT", "1 uploaded, -1 or 3 failed", "upload_state")
        if UPLOAD_STATES[state] == "failed" and not reason:
            raise InvalidValue(f"results[{n}].SBYY", "a failed upload needs its reason", "required")
        checked.append({"table": table, "LSH": lsh, "SJSCZT": state, "SBYY": reason})
    return checked
