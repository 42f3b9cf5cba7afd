"""The versioned item catalogue (data/items.json): items, stage limits (SPJDSX) and total targets per
flow type, checked against the reference stages and flow types on load."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from domain.catalog.follow_up import (
    DEFAULT_PENDING_MATERIALS,
    CommitmentTerms,
    PendingMaterialsTerms,
    follow_up_terms,
)
from domain.catalog.rule_approval import RuleApproval, parse_rule_approval
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
    licence_type: str | None = None  # 电子证照 the approval issues (domain/licences), if any
    rule_approval: RuleApproval | None = None  # 智能审批: eligible for approval by rule (rule_approval.py)
    pending_materials: PendingMaterialsTerms = DEFAULT_PENDING_MATERIALS  # 容缺: when materials are due
    commitment: CommitmentTerms | None = None  # 告知承诺制: may be approved on commitment (follow_up.py)


MAIN_STAGES = (1, 2, 3, 4)  # stage 5 runs in parallel: no stage limit (spgl.md validation rule 4)
STAGE_LIMIT_RANGE = range(1, 51)  # SPJDSX: 1..50 working days
NATIONAL_CEILING_DAYS = 120  # 国办发〔2019〕11号: the whole process within 120 working days


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
                licence_type=raw.get("licence_type"),
                rule_approval=parse_rule_approval(raw["code"], raw["rule_approval"])
                if "rule_approval" in raw
                else None,
                **follow_up_terms(raw["code"], raw),
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
        self.stage_limits: dict[int, int] = {int(r["stage"]): int(r["limit_days"]) for r in data["stages"]}
        if sorted(self.stage_limits) != list(MAIN_STAGES):
            raise ValueError(f"stages: one limit per main stage {MAIN_STAGES} needed, got {sorted(self.stage_limits)}")
        for stage, days in self.stage_limits.items():
            if days not in STAGE_LIMIT_RANGE:
                raise ValueError(f"stage {stage}: limit {days} outside 1..50 working days (SPJDSX)")
        self.project_targets: dict[int, int] = {
            int(r["flow_type"]): int(r["target_days"]) for r in data["project_targets"]
        }
        if sorted(self.project_targets) != sorted(REFERENCE.flow_types):
            raise ValueError("project_targets: one target per flow type of flow_types.csv needed")
        floor = sum(self.stage_limits.values())
        for flow, days in self.project_targets.items():
            # a project that keeps every stage limit must keep its total target
            if not floor <= days <= NATIONAL_CEILING_DAYS:
                raise ValueError(
                    f"flow type {flow}: target {days} outside {floor}..{NATIONAL_CEILING_DAYS} working days"
                )

    def item(self, code: str, field: str = "item_code") -> Item:
        try:
            return self.items[code]
        except KeyError:
            raise InvalidValue(field, f"unknown item {code} (catalogue {self.version})", "item_unknown") from None

    def by_stage(self, stage: int) -> list[Item]:
        return [i for i in self.items.values() if i.stage == stage]

    def stage_limit(self, stage: int) -> int:
        """阶段时限 — working days a main stage may take (SPJDSX)."""
        try:
            return self.stage_limits[stage]
        except KeyError:
            raise InvalidValue("stage", f"no limit for stage {stage} (main stages 1-4)", "stage_unknown") from None

    def project_target(self, flow_type: int) -> int:
        """全流程审批时间目标 — working days the whole process may take for a flow type."""
        try:
            return self.project_targets[flow_type]
        except KeyError:
            raise InvalidValue(
                "flow_type", f"unknown flow type {flow_type} (flow_types.csv)", "flow_type_unknown"
            ) from None


def load_catalog() -> Catalog:
    text = resources.files("domain.catalog").joinpath("data", "items.json").read_text(encoding="utf-8")
    return Catalog(json.loads(text))


CATALOG = load_catalog()
