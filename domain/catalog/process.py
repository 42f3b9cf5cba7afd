"""流程 — the Process aggregate: one flow per (region, flow type), every version it was ever
published in, each with its complete definition (domain/catalog/definition.py), so a case pinned to
an old version reads back exactly the rules it was received under.

The id is uuid5 of a namespace and the flow code, so two "publish" commands for a new flow cannot
both create it. The province's flows (`GJ-LC-03`) match the flow codes of the SPGL export.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.catalog.catalog import CATALOG, Item
from domain.catalog.definition import parse_version
from domain.catalog.follow_up import follow_up_terms
from domain.catalog.rule_approval import parse_rule_approval
from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import AuditedEvent, Meta
from domain.shared.reference import REFERENCE

PROCESS_NAMESPACE = UUID("6f1b5c2e-3d0a-5e7b-9c41-2a8d7e6f0b13")
PROVINCE = "460000"


def flow_code(flow_type: int, region_code: str = PROVINCE) -> str:
    """流程编码: GJ-LC-03 for the province's flow of type 3, GJ-LC-03-460100 for Haikou's."""
    base = f"GJ-LC-{flow_type:02d}"
    return base if region_code == PROVINCE else f"{base}-{region_code}"


def process_id(code: str) -> UUID:
    return uuid5(PROCESS_NAMESPACE, f"process:{code}")


def regions_up(region_code: str) -> list[str]:
    """The region and the regions above it, nearest first: 460106 → [460106, 460100, 460000]."""
    chain: list[str] = []
    code: str | None = region_code
    while code and code in REFERENCE.regions:
        chain.append(code)
        code = REFERENCE.regions[code].parent_code
    return chain


def parent_flow_region(region_code: str) -> str | None:
    """R6: the region whose flow of the same type a county-level flow maps to (None above that)."""
    region = REFERENCE.regions[region_code]
    if region.level in ("district", "county", "county_city") and region.parent_code:
        return region.parent_code
    return None


class Process(Aggregate):
    """流程 — a flow of one flow type in one region, with every version it was published in."""

    class Event(AuditedEvent):
        pass

    class Published(Event, Aggregate.Created):
        """流程发布 — a flow was published for a region and flow type, with its first version's
        complete definition (stages, items, situations, materials, form fields)."""

        code: str
        region_code: str
        flow_type: int
        definition: dict[str, Any]

        def apply(self, aggregate: Process) -> None:
            aggregate.versions[self.definition["version"]] = self.definition

    class VersionPublished(Event):
        """流程版本发布 — a new version of the flow, with its complete definition; earlier versions
        stay readable for the cases pinned to them."""

        definition: dict[str, Any]

        def apply(self, aggregate: Process) -> None:
            aggregate.versions[self.definition["version"]] = self.definition

    class Retired(Event):
        """流程停用 — the flow takes no new cases; its cases keep their pinned versions."""

        reason: str

        def apply(self, aggregate: Process) -> None:
            aggregate.retired = True

    def __init__(self, code: str, region_code: str, flow_type: int) -> None:
        self.code = code
        self.region_code = region_code
        self.flow_type = flow_type
        self.versions: dict[str, dict[str, Any]] = {}
        self.retired = False

    @classmethod
    def publish(cls, meta: Meta, *, region_code: str, flow_type: int, definition: dict[str, Any]) -> Process:
        """`definition` comes checked from `check_definition`."""
        if region_code not in REFERENCE.regions:
            raise InvalidValue("region_code", f"unknown region {region_code} (regions.csv)", "region_unknown")
        if flow_type not in REFERENCE.flow_types:
            raise InvalidValue("flow_type", f"unknown flow type {flow_type} (flow_types.csv)", "flow_type_unknown")
        code = flow_code(flow_type, region_code)
        return cls._create(
            cls.Published,
            id=process_id(code),
            code=code,
            region_code=region_code,
            flow_type=flow_type,
            definition=definition,
            **meta.fields(),
        )

    def publish_version(self, meta: Meta, definition: dict[str, Any]) -> None:
        if self.retired:
            raise IllegalTransition(f"flow {self.code}", "retired", "publish-version")
        new = parse_version(definition["version"], "definition.version")
        if new <= self.latest_version:
            raise InvalidValue(
                "definition.version", f"version {new} is not newer than {self.latest_version}", "version_not_newer"
            )
        self.trigger_event(self.VersionPublished, definition=definition, **meta.fields())

    def retire(self, meta: Meta, reason: str) -> None:
        if self.retired:
            raise IllegalTransition(f"flow {self.code}", "retired", "retire")
        if not reason.strip():
            raise InvalidValue("reason", "a retirement needs its reason", "required")
        self.trigger_event(self.Retired, reason=reason.strip(), **meta.fields())

    @property
    def latest_version(self) -> Decimal:
        return max(Decimal(v) for v in self.versions)

    @property
    def latest(self) -> dict[str, Any]:
        return self.versions[str(self.latest_version)]

    def definition_at(self, version: str) -> dict[str, Any] | None:
        return self.versions.get(str(parse_version(version, "flow_version")))


def find_item(definition: dict[str, Any], code: str) -> dict[str, Any] | None:
    return next((it for it in definition["items"] if it["code"] == code), None)


def to_item(item: dict[str, Any]) -> Item:
    """The catalogue `Item` a case runs under, from an item of a definition. An item the seed
    catalogue knows keeps the seed's other fields (e.g. those other contexts add to `Item`)."""
    fields = {
        "code": item["code"],
        "name": item["name"],
        "stage": item["stage"],
        "department": item["department"],
        "department_name": item["department_name"] or CATALOG.departments.get(item["department"], item["department"]),
        "category": item["category"],
        "legal_limit_days": item["legal_limit_days"],
        "promised_limit_days": item["promised_limit_days"],
        "prerequisites": tuple(item["prerequisites"]),
        "milestone": item["milestone"],
        "licence_type": item["licence_type"],
        # 智能审批 comes from the pinned version itself: a version that drops it is decided by people
        "rule_approval": (
            parse_rule_approval(item["code"], item["extra"]["rule_approval"])
            if "rule_approval" in (item.get("extra") or {})
            else None
        ),
        # 容缺 and 告知承诺 terms of the pinned version (domain/catalog/follow_up.py)
        **follow_up_terms(item["code"], item.get("extra") or {}),
    }
    seed = CATALOG.items.get(item["code"])
    if seed is not None:
        return dataclasses.replace(seed, **fields)
    return Item(**fields)
