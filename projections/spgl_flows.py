"""数据共享交换 — the flow, stage and stage-item rows of the `spgl_exchange` read model: of each
published version of a flow (`Process.Published` / `VersionPublished`), and of the province's seed
flows until the log records them (`catalogue_rows`, at position 0)."""

from __future__ import annotations

from functools import cache
from typing import Any

from domain.catalog.process import flow_code as versioned_flow_code
from domain.catalog.seed import seed_definition
from domain.exchange import spgl
from domain.shared.reference import REFERENCE

PROVINCE = "460000"
VERSION = "1.0"  # SPLCBBH / SPSXBBH of our catalogue's flows and items


def flow_code(flow_type: int) -> str:
    return versioned_flow_code(flow_type, PROVINCE)


def flow_rows(
    code: str, region_code: str, flow_type: int, definition: dict[str, Any], key: str
) -> list[tuple[str, dict[str, str]]]:
    """Flow, stage and stage-item rows of one version of a flow; `key` is the flow row's DFSJZJ
    (the stage and item rows' derive from it)."""
    version = str(definition["version"])
    common = {"XZQHDM": REFERENCE.gbt_code(region_code), "SJYXBS": "1", "SPLCBM": code, "SPLCBBH": version}
    out = [(spgl.FLOW, {"DFSJZJ": key, **common, "SPLCMC": definition["name"], "SPLCLX": str(flow_type)})]
    for stage in definition["stages"]:
        n = str(stage["stage"])
        row = {"DFSJZJ": f"{key}-{n}", **common, "SPJDXH": n, "SPJDMC": stage["name"], "DYBZSPJDXH": n}
        if stage["limit_days"] is not None:
            row["SPJDSX"] = str(stage["limit_days"])
        row["LCBSXLX"] = stage["milestone_rule"]
        out.append((spgl.STAGE, row))
    for item in sorted(definition["items"], key=lambda i: i["code"]):
        row = {
            "DFSJZJ": f"{key}-{item['code']}",
            **common,
            "SPJDXH": str(item["stage"]),
            "SPSXBM": item["code"],
            "SPSXBBH": str(item["version"]),
            "SPSXMC": item["name"],
            # the national basic item code as the catalogue edition gives it; the seed has none: its unified code
            "DYBZSPSXBM": (item.get("extra") or {}).get("national_code") or item["unified_code"],
            "SFLCBSX": "1" if item["milestone"] else "0",
        }
        out.append((spgl.STAGE_ITEM, row))
    return out


def version_key(code: str, version: str, *, first: bool) -> str:
    """DFSJZJ of a flow version's row: the flow code for the version it was published with (so
    the province's seed, once recorded, replaces the catalogue's rows), code@version after."""
    return code if first else f"{code}@{version}"


@cache
def catalogue_rows() -> tuple[tuple[str, dict[str, str]], ...]:
    """Flow, stage and stage-item rows of the seed: the province's flow of each type, version 1.0,
    as long as the log has not recorded it (then its rows come from `Process.Published`)."""
    out: list[tuple[str, dict[str, str]]] = []
    for flow_type in sorted(REFERENCE.flow_types):
        code = flow_code(flow_type)
        out += flow_rows(code, PROVINCE, flow_type, seed_definition(flow_type), version_key(code, VERSION, first=True))
    serial: dict[str, int] = {}
    numbered = []
    for table, row in out:
        serial[table] = serial.get(table, 0) + 1
        numbered.append((table, {"LSH": str(serial[table]), **row}))
    return tuple(numbered)
