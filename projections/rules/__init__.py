"""预警规则 — the thresholds of the offline-approval warning rules (warning_rules.toml) and the
one-sentence explanations of each finding."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from shapely.geometry import shape

from domain.catalog import CATALOG

RULES = ("W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9", "W10")


@dataclass(frozen=True)
class Thresholds:
    severity: dict[str, str]
    max_business_lag_hours: float
    min_minutes_receipt_to_approval: float
    promised_limit_above_days: int
    exempt_channels: frozenset[str]
    synthetic_equal_gaps: int
    max_corrections: int
    name_similarity: float
    red_line_overlap: float
    consulted: Mapping[str, frozenset[str]]


class ConsultedInForce(Mapping[str, frozenset[str]]):
    """W10: the departments an item consults besides its own (会签/征求意见), as the catalogue in force
    lists them (items sheet, `consulted_departments`), read at each use."""

    def __getitem__(self, item: str) -> frozenset[str]:
        found = CATALOG.items.get(item)
        if found is None:
            raise KeyError(item)
        return frozenset(found.consulted_departments)

    def __iter__(self) -> Iterator[str]:
        return iter(CATALOG.items)

    def __len__(self) -> int:
        return len(CATALOG.items)


def load_thresholds(text: str | None = None) -> Thresholds:
    if text is None:
        text = resources.files("projections").joinpath("warning_rules.toml").read_text(encoding="utf-8")
    raw: dict[str, Any] = tomllib.loads(text)
    missing = [r for r in RULES if raw["severity"].get(r) not in ("low", "medium", "high")]
    if missing:
        raise ValueError(f"warning_rules.toml: severity low|medium|high needed for {missing}")
    return Thresholds(
        severity=dict(raw["severity"]),
        max_business_lag_hours=float(raw["W2"]["max_business_lag_hours"]),
        min_minutes_receipt_to_approval=float(raw["W3"]["min_minutes_receipt_to_approval"]),
        promised_limit_above_days=int(raw["W3"]["promised_limit_above_days"]),
        exempt_channels=frozenset(raw["W3"]["exempt_channels"]),
        synthetic_equal_gaps=int(raw["W3"]["synthetic_equal_gaps"]),
        max_corrections=int(raw["W7"]["max_corrections"]),
        name_similarity=float(raw["W8"]["name_similarity"]),
        red_line_overlap=float(raw["W8"]["red_line_overlap"]),
        consulted=ConsultedInForce(),
    )


THRESHOLDS = load_thresholds()

# reason code → one sentence (Chinese), formatted with the finding's details (the lifecycle rules
# of one case, W2/W3/W6/W7/W10, write their own, naming each fact: domain/supervision/rules/lifecycle.py)
EXPLANATIONS: dict[str, str] = {
    "W1.no_case": "外部系统报送的{kind}（编号{number}）在本系统中没有对应事项{item}的办件，疑似体外循环。",
    "W1.case_after_certificate": "{kind}（编号{number}）发证日期{issued_on}早于本系统办件创建日期{created_on}，疑似体外循环。",
    "W3.rows_no_acceptance": "{system}报送的办件{case_ref}已办结但没有受理状态行，疑似事后补造。",
    "W4.catalogue": "{what}在{on}获批，早于其前置事项{missing}的批准，存在先后置倒挂。",
    "W4.upstream": "{kind}（编号{number}）发证日期{issued_on}早于其引用的上游证书{upstream}的日期{upstream_on}。",
    "W5.missing_upstream": "{kind}（编号{number}）引用的上游证书编号{upstream}（{field}）在本系统和外部数据中均不存在。",
    "W6.stage_overdue": "项目{project}第{stage}阶段（{name}）自{start}首次受理至{closed}办结，在办{days}个工作日，超过阶段时限{limit}个工作日。",
    "W6.project_overdue": "项目{project}自{start}首次受理至{closed}竣工验收备案办结，各阶段在办合计{days}个工作日，超过{flow}全流程审批时间目标{target}个工作日。",
    "W8.duplicate": "同一建设单位的项目{a}与{b}疑似重复赋码（名称相似度{ratio}，红线重叠率{overlap}）。",
    "W9.project_not_generated": "{system}报送的数据引用的项目代码{project}未经策划生成。",
    "W9.no_project_code": "{system}报送的办件状态{case_ref}没有项目代码。",
    "W10.external_case": "{system}报送了办件{case_ref}的状态，但本系统没有该办件，疑似体外循环。",
}


def explain(reason: str, **details: Any) -> str:
    return EXPLANATIONS[reason].format(**details)


def red_line_overlap(a: dict[str, Any] | None, b: dict[str, Any] | None) -> float:
    """Shared area over the smaller red line's area (planar, in degrees: only the ratio matters)."""
    if not a or not b:
        return 0.0
    first, second = shape(a), shape(b)
    smaller = min(first.area, second.area)
    if smaller <= 0:
        return 0.0
    return float(first.intersection(second).area / smaller)
