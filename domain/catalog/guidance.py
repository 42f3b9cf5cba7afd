"""智能引导 — which items of a flow apply to a project and its situation answers (情形), stage by
stage in order with their prerequisites, and per item the materials still to provide.

A material is "not needed" when the government already has it: fetched from another department
(`internally_shared`) or satisfied by a valid licence of the licence library, matched precisely by
its topic fields (主题字段). Pure: the licence lookup is passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.shared.errors import InvalidValue

# (material's licence spec) → the number of a valid licence satisfying it, or None
LicenceFinder = Callable[[dict[str, Any]], str | None]


def situation_codes(definition: dict[str, Any]) -> dict[str, str]:
    """Every situation a flow asks about, code → name (items may share one)."""
    return {s["code"]: s["name"] for it in definition["items"] for s in it["situations"]}


def check_situations(definition: dict[str, Any], answers: list[str], field: str = "situations") -> set[str]:
    known = situation_codes(definition)
    for i, code in enumerate(answers):
        if code not in known:
            raise InvalidValue(f"{field}.{i}", f"situation {code} is not asked by this flow", "situation_unknown")
    return set(answers)


def applies(item: dict[str, Any], answers: set[str]) -> bool:
    """An item with `applies_in_situations` applies only when one of them is answered."""
    return not item["applies_in_situations"] or bool(answers & set(item["applies_in_situations"]))


def materials_for(item: dict[str, Any], answers: set[str]) -> list[dict[str, Any]]:
    """The item's materials for these answers: those of no situation, and those of an answered one."""
    return [m for m in item["materials"] if not m["situations"] or answers & set(m["situations"])]


def _material(material: dict[str, Any], licence_for: LicenceFinder) -> dict[str, Any]:
    out = {k: material[k] for k in ("code", "name", "class", "internally_shared")}
    out["licence_type"] = material["licence"]["type"] if material["licence"] else None
    if material["internally_shared"]:
        return {**out, "needed": False, "reason": "internally_shared", "licence_number": None}
    if material["licence"]:
        number = licence_for(material["licence"])
        if number is not None:
            return {**out, "needed": False, "reason": "licence", "licence_number": number}
    return {**out, "needed": True, "reason": None, "licence_number": None}


def guide(
    definition: dict[str, Any],
    answers: set[str],
    approved_items: set[str],
    licence_for: LicenceFinder,
) -> dict[str, Any]:
    """Stages in order, each with its applicable items (prerequisites first) and their materials."""
    stages = []
    total = saved = 0
    for stage in definition["stages"]:
        items = [it for it in definition["items"] if it["stage"] == stage["stage"] and applies(it, answers)]
        rows = []
        for item in _in_order(items):
            materials = [_material(m, licence_for) for m in materials_for(item, answers)]
            total += len(materials)
            saved += sum(1 for m in materials if not m["needed"])
            rows.append(
                {
                    "code": item["code"],
                    "unified_code": item["unified_code"],
                    "version": item["version"],
                    "name": item["name"],
                    "department": item["department"],
                    "legal_limit_days": item["legal_limit_days"],
                    "promised_limit_days": item["promised_limit_days"],
                    "milestone": item["milestone"],
                    "prerequisites": list(item["prerequisites"]),
                    "approved": item["code"] in approved_items,
                    "situations": [s["code"] for s in item["situations"] if s["code"] in answers],
                    "materials": materials,
                }
            )
        if rows:
            stages.append({**stage, "items": rows})
    return {"stages": stages, "materials_total": total, "materials_needed": total - saved, "materials_saved": saved}


def _in_order(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Prerequisites before the items that need them (definitions have no cycles), else by code."""
    by_code = {it["code"]: it for it in items}
    done: dict[str, dict[str, Any]] = {}

    def visit(item: dict[str, Any]) -> None:
        if item["code"] in done:
            return
        for pre in sorted(item["prerequisites"]):
            if pre in by_code:
                visit(by_code[pre])
        done[item["code"]] = item

    for item in sorted(items, key=lambda i: i["code"]):
        visit(item)
    return list(done.values())
