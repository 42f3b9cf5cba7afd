"""智能表单 — one JSON Schema for several items of a flow: each field asked once (a field several
items share is merged: required if any item requires it), prefilled with what the government
already knows (the project, the project's valid licences). Pure: the prefill values are passed in.
"""

from __future__ import annotations

from typing import Any

from domain.shared.errors import InvalidValue

JSON_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string", "minLength": 1, "maxLength": 2000},
    "number": {"type": "number", "minimum": 0},
    "integer": {"type": "integer", "minimum": 0},
    "date": {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
}
DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAX_ITEMS = 20


def form_items(definition: dict[str, Any], item_codes: list[str]) -> list[dict[str, Any]]:
    """The items of the form: known to the flow, each once, one stage (one parallel application)."""
    if not item_codes or len(item_codes) > MAX_ITEMS:
        raise InvalidValue("item_codes", f"1..{MAX_ITEMS} items", "length")
    if len(set(item_codes)) != len(item_codes):
        raise InvalidValue("item_codes", "each item once", "item_duplicate")
    by_code = {it["code"]: it for it in definition["items"]}
    items = []
    for i, code in enumerate(item_codes):
        if code not in by_code:
            raise InvalidValue(
                f"item_codes.{i}", f"item {code} is not in flow version {definition['version']} (R1)", "R1"
            )
        items.append(by_code[code])
    if len({it["stage"] for it in items}) > 1:
        raise InvalidValue("item_codes", "one stage per form: a parallel application is for one stage", "form_stages")
    return items


def build_schema(items: list[dict[str, Any]], prefill: dict[str, Any]) -> dict[str, Any]:
    """The merged form: `x-items` says which items ask each field, `default` is the prefill."""
    properties: dict[str, dict[str, Any]] = {}
    required: list[str] = []
    asked_by: dict[str, list[str]] = {}
    for item in items:
        for field in item["form_fields"]:
            name = field["name"]
            asked_by.setdefault(name, []).append(item["code"])
            if name not in properties:
                properties[name] = {"title": field["label"], **JSON_TYPES[field["type"]]}
                if field["prefill"] and prefill.get(field["prefill"]) is not None:
                    properties[name]["default"] = prefill[field["prefill"]]
                    properties[name]["x-prefill"] = field["prefill"]
            if field["required"] and name not in required:
                required.append(name)
    for name, codes in asked_by.items():
        properties[name]["x-items"] = codes
    return {
        "$schema": DIALECT,
        "title": "智能表单 — " + "、".join(it["name"] for it in items),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def values_for(item: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The answers one item's case records: the fields that item asks."""
    return {f["name"]: values[f["name"]] for f in item["form_fields"] if f["name"] in values}
