"""The seed of the process catalogue: version 1.0 of the province's flow of each flow type, built
from data/items.json (items, limits, stage limits) and data/materials.json (unified item codes,
situations, materials, form fields).

Until a flow is published in the log, this is the definition cases are received under: the log
and the seed agree, because `gongjian catalogue seed` records exactly this definition.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from domain.catalog.catalog import CATALOG
from domain.catalog.definition import PARALLEL_STAGE, check_definition
from domain.licences.licence import _COMMON, DERIVED_TOPIC, LICENCE_TYPES
from domain.shared.reference import REFERENCE

SEED_VERSION = "1.0"
ITEMS_FIELDS = frozenset(
    {"code", "name", "stage", "department", "category", "legal_limit_days", "promised_limit_days"}
    | {"prerequisites", "milestone", "licence_type"}
)


def licence_topic_fields() -> dict[str, set[str]]:
    """Each licence type with the topic fields a material may be matched on (主题字段)."""
    common = set(DERIVED_TOPIC) | {f.name for f in _COMMON}
    return {name: common | {f.name for f in fields} for name, (_label, fields) in LICENCE_TYPES.items()}


def _data(name: str) -> dict[str, Any]:
    text = resources.files("domain.catalog").joinpath("data", name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _item(raw: dict[str, Any], extra: dict[str, Any], supplement: dict[str, Any]) -> dict[str, Any]:
    situations = supplement["situations"]
    item = supplement["items"].get(raw["code"], {})
    topics = supplement["licence_topics"]
    materials = [
        {**m, "licence": {"type": m["licence"]["type"], "topic_fields": topics}} if m.get("licence") else m
        for m in item.get("materials", [])
    ]
    fields = [{"name": name, **supplement["form_fields"][name]} for name in item.get("form_fields", [])]
    return {
        **{k: v for k, v in raw.items() if k in ITEMS_FIELDS},
        "version": SEED_VERSION,
        "unified_code": item.get("unified_code", raw["code"]),
        "department_name": CATALOG.departments[raw["department"]],
        "situations": [{"code": c, "name": situations[c]} for c in item.get("situations", [])],
        "applies_in_situations": item.get("applies_in_situations", []),
        "materials": materials,
        "form_fields": fields,
        "extra": extra,
    }


@cache
def _seed_items() -> tuple[dict[str, Any], ...]:
    supplement = _data("materials.json")
    items = []
    for raw in _data("items.json")["items"]:
        extra = {k: v for k, v in raw.items() if k not in ITEMS_FIELDS}  # basis, and what others add
        items.append(_item(raw, extra, supplement))
    return tuple(items)


@cache
def _seed(flow_type: int) -> str:
    stages = [
        {"stage": s, "name": name, "limit_days": CATALOG.stage_limits.get(s), "milestone_rule": "all"}
        for s, name in sorted(REFERENCE.stages.items())
    ]
    assert stages[-1]["stage"] == PARALLEL_STAGE
    raw = {
        "name": REFERENCE.flow_types[flow_type],
        "version": SEED_VERSION,
        "stages": stages,
        "items": list(_seed_items()),
    }
    return json.dumps(check_definition(raw, licence_topic_fields()), ensure_ascii=False)


def seed_definition(flow_type: int) -> dict[str, Any]:
    """Version 1.0 of the province's flow of this type (a fresh copy: callers may keep it)."""
    definition: dict[str, Any] = json.loads(_seed(flow_type))
    return definition
