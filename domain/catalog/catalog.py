"""The versioned item catalogue (data/items.json), checked against the reference stages on load."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from domain.shared.errors import InvalidValue
from domain.shared.reference import REFERENCE


@dataclass(frozen=True)
class Item:
    """事项 — one approval item of the catalogue."""

    code: str
    name: str
    stage: int
    department: str
    department_name: str
    category: str
    legal_limit_days: int
    promised_limit_days: int
    prerequisites: tuple[str, ...]
    milestone: bool


class Catalog:
    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data["version"]
        self.departments: dict[str, str] = data["departments"]
        self.items: dict[str, Item] = {}
        for raw in data["items"]:
            item = Item(
                code=raw["code"],
                name=raw["name"],
                stage=int(raw["stage"]),
                department=raw["department"],
                department_name=self.departments[raw["department"]],
                category=raw["category"],
                legal_limit_days=int(raw["legal_limit_days"]),
                promised_limit_days=int(raw["promised_limit_days"]),
                prerequisites=tuple(raw["prerequisites"]),
                milestone=bool(raw["milestone"]),
            )
            if item.stage not in REFERENCE.stages:
                raise ValueError(f"item {item.code}: unknown stage {item.stage}")
            if not 0 < item.promised_limit_days <= item.legal_limit_days:
                raise ValueError(f"item {item.code}: promised limit must be within the legal limit")
            self.items[item.code] = item
        for item in self.items.values():
            unknown = [p for p in item.prerequisites if p not in self.items]
            if unknown:
                raise ValueError(f"item {item.code}: unknown prerequisites {unknown}")

    def item(self, code: str, field: str = "item_code") -> Item:
        try:
            return self.items[code]
        except KeyError:
            raise InvalidValue(field, f"unknown item {code} (catalogue {self.version})", "item_unknown") from None

    def by_stage(self, stage: int) -> list[Item]:
        return [i for i in self.items.values() if i.stage == stage]


def load_catalog() -> Catalog:
    text = resources.files("domain.catalog").joinpath("data", "items.json").read_text(encoding="utf-8")
    return Catalog(json.loads(text))


CATALOG = load_catalog()
