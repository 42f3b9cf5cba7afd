"""流程规则 — the part of a flow version the read models judge cases by: per stage its time limit
and milestone rule, per item its stage, department, prerequisites and milestone flag.

Read models keep these (small, immutable per (flow code, version)) from the `Process` events and
look a case's up by the (flow, version) it was pinned to; a case without a pin (received before
versions, v1 events) is judged by the seed (`SEED_RULES`, from the packaged seed catalogue).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domain.catalog.catalog import CATALOG, MAIN_STAGES, SEED_CATALOG


@dataclass(frozen=True)
class ItemRule:
    stage: int
    department: str
    prerequisites: tuple[str, ...]
    milestone: bool
    version: str


@dataclass(frozen=True)
class StageRule:
    limit_days: int | None
    milestone_rule: str  # all / any milestone item closes the stage


@dataclass(frozen=True)
class FlowRules:
    stages: dict[int, StageRule]
    items: dict[str, ItemRule]

    @classmethod
    def of(cls, definition: dict[str, Any]) -> FlowRules:
        """From a checked definition (domain/catalog/definition.py), as a `Process` event carries it."""
        return cls(
            {s["stage"]: StageRule(s["limit_days"], s["milestone_rule"]) for s in definition["stages"]},
            {
                i["code"]: ItemRule(
                    i["stage"], i["department"], tuple(i["prerequisites"]), bool(i["milestone"]), str(i["version"])
                )
                for i in definition["items"]
            },
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "stages": {str(k): [v.limit_days, v.milestone_rule] for k, v in self.stages.items()},
                "items": {
                    k: [v.stage, v.department, list(v.prerequisites), v.milestone, v.version]
                    for k, v in self.items.items()
                },
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> FlowRules:
        raw = json.loads(text)
        return cls(
            {int(k): StageRule(v[0], v[1]) for k, v in raw["stages"].items()},
            {k: ItemRule(v[0], v[1], tuple(v[2]), v[3], v[4]) for k, v in raw["items"].items()},
        )

    def stage_limit(self, stage: int) -> int:
        limit = self.stages[stage].limit_days if stage in self.stages else None
        return limit if limit is not None else CATALOG.stage_limit(stage)

    def milestone_rule(self, stage: int) -> str:
        return self.stages[stage].milestone_rule if stage in self.stages else "all"

    def project_target(self, flow_type: int) -> int:
        """全流程目标: flows carry no target of their own, so the flow type's (the catalogue's project_targets); a version
        whose stage limits add up to more raises it to their sum (keeping every stage limit keeps
        the target, as the seed's check demands)."""
        total = sum(self.stage_limit(s) for s in MAIN_STAGES)
        return max(CATALOG.project_target(flow_type), total)


def _seed() -> FlowRules:
    return FlowRules(
        {s: StageRule(SEED_CATALOG.stage_limits.get(s), "all") for s in (*MAIN_STAGES, 5)},
        {
            c: ItemRule(i.stage, i.department, tuple(i.prerequisites), i.milestone, "1.0")
            for c, i in SEED_CATALOG.items.items()
        },
    )


SEED_RULES = _seed()


def stage_closing(
    approvals: Iterable[tuple[str, str | None, int | None]], stage: int, rules: FlowRules
) -> tuple[str, int] | None:
    """(date, position) of the approval that closed the stage under the rules' milestone rule:
    `all` — the last of the first approvals of every milestone item of the stage; `any` — the
    first approval of any of them. `approvals`: (item code, approved on, approved position) of the
    project's cases. None while the stage is open (or has no milestone item)."""
    milestones = [c for c, i in rules.items.items() if i.stage == stage and i.milestone]
    done: dict[str, list[tuple[str, int]]] = {c: [] for c in milestones}
    for item, on, position in approvals:
        if item in done and on is not None and position is not None:
            done[item].append((on, position))
    firsts = {c: min(v) for c, v in done.items() if v}
    if not milestones or not firsts:
        return None
    if rules.milestone_rule(stage) == "any":
        return min(firsts.values())
    return max(firsts.values()) if len(firsts) == len(milestones) else None
