"""The item catalogue (事项库) in force: items, departments per region, licence types, stage limits
(SPJDSX) and total targets per flow type, from the latest published edition (`Catalogue` events), else
the packaged seed edition (data/seed/, the sample the system ships), checked on load.

`CATALOG` reads the catalogue in force at each access: the composition root installs an edition
(`install`) from the log at start, after a publication and when the runner meets one
(docs/catalogue.md, "Which edition is in force").
"""

from __future__ import annotations

import csv
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

from domain.catalog.edition import version_key
from domain.catalog.edition_rows import department_for, extra_of, parse_edition
from domain.catalog.follow_up import (
    DEFAULT_PENDING_MATERIALS,
    CommitmentTerms,
    PendingMaterialsTerms,
    follow_up_terms,
)
from domain.catalog.rule_approval import RuleApproval, parse_rule_approval
from domain.shared.errors import InvalidValue
from domain.shared.reference import REFERENCE, Region


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
    national_code: str | None = None  # 国家政务服务事项基本编码 (SPGL DYBZSPSXBM), when the edition gives it
    consulted_departments: tuple[str, ...] = ()  # asked for opinions (W10)


@dataclass(frozen=True)
class Department:
    """A body handling items for a region (and the regions below it without their own)."""

    code: str  # the function: zjj, zrzy … (the same in every region)
    region_code: str
    name: str
    uscc: str | None
    kind: str  # government / enterprise


log = logging.getLogger(__name__)
MAIN_STAGES = (1, 2, 3, 4)  # stage 5 runs in parallel: no stage limit (spgl.md validation rule 4)
STAGE_LIMIT_RANGE = range(1, 51)  # SPJDSX: 1..50 working days
NATIONAL_CEILING_DAYS = 120  # 国办发〔2019〕11号: the whole process within 120 working days
PROVINCE = "460000"
DEFINITION_FIELDS = (
    "code",
    "name",
    "stage",
    "department",
    "category",
    "legal_limit_days",
    "promised_limit_days",
    "prerequisites",
    "milestone",
)


class Catalog:
    """One edition of the item catalogue (事项库, domain/catalog/edition.py): its items, departments per
    region, licence types, stage limits and targets, checked against the reference data."""

    def __init__(self, edition: dict[str, Any]) -> None:
        self.edition = edition
        self.version: str = edition["version"]
        self.department_rows: tuple[dict[str, Any], ...] = tuple(edition["departments"])
        self.regions: tuple[dict[str, Any], ...] = tuple(edition.get("regions") or ())
        # a function's name: the province's body, else the first listed (names shown without a region)
        self.departments: dict[str, str] = {}
        for row in sorted(self.department_rows, key=lambda d: d["region_code"] != PROVINCE):
            self.departments.setdefault(row["code"], row["name"])
        self.licence_types: dict[str, tuple[str, tuple[tuple[str, str, str, bool], ...]]] = {
            t["code"]: (t["name"], tuple((f["name"], f["label"], f["kind"], bool(f["required"])) for f in t["fields"]))
            for t in edition["licence_types"]
        }
        self.raw_items: dict[str, dict[str, Any]] = {raw["code"]: raw for raw in edition["items"]}
        self.items: dict[str, Item] = {}
        for raw in edition["items"]:
            extra = extra_of(raw)
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
                if raw.get("rule_approval") is not None
                else None,
                **follow_up_terms(raw["code"], extra),
                national_code=raw.get("national_code"),
                consulted_departments=tuple(raw.get("consulted_departments") or ()),
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
        self.stage_limits: dict[int, int] = {int(r["stage"]): int(r["limit_days"]) for r in edition["stages"]}
        if sorted(self.stage_limits) != list(MAIN_STAGES):
            raise ValueError(f"stages: one limit per main stage {MAIN_STAGES} needed, got {sorted(self.stage_limits)}")
        for stage, days in self.stage_limits.items():
            if days not in STAGE_LIMIT_RANGE:
                raise ValueError(f"stage {stage}: limit {days} outside 1..50 working days (SPJDSX)")
        self.project_targets: dict[int, int] = {
            int(r["flow_type"]): int(r["target_days"]) for r in edition["project_targets"]
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

    def parks(self) -> list[Region]:
        """The parks with approval powers this edition adds to GB/T 2260 (regions sheet)."""
        return [
            Region(r["code"], r["name"], "park", r["parent_code"]) for r in self.regions if r.get("level") == "park"
        ]

    def department_for(self, item_code: str, region_code: str) -> Department | None:
        """The body that handles this item for a project in this region: the department of the item's
        function in the region, else in its parent, up to the province (None: none on the way)."""
        row = department_for(
            list(self.department_rows), list(self.regions), self.item(item_code).department, region_code
        )
        if row is None:
            return None
        return Department(
            row["code"], row["region_code"], row["name"], row.get("uscc"), row.get("kind") or "government"
        )

    def definition_item(self, code: str, region_code: str = PROVINCE, version: str = "1.0") -> dict[str, Any]:
        """The item as a flow definition carries it (domain/catalog/definition.py), unchecked."""
        raw = self.raw_items[code]
        found = self.department_for(code, region_code)
        item = {k: raw[k] for k in DEFINITION_FIELDS}
        if raw.get("licence_type"):
            item["licence_type"] = raw["licence_type"]
        return {
            **item,
            "version": version,
            "unified_code": raw.get("unified_code") or raw.get("national_code") or code,
            "department_name": found.name if found is not None else self.departments[raw["department"]],
            "situations": raw["situations"],
            "applies_in_situations": raw["applies_in_situations"],
            "materials": raw["materials"],
            "form_fields": raw["form_fields"],
            "extra": extra_of(raw),
        }

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


def seed_tables() -> dict[str, list[dict[str, Any]]]:
    """The packaged seed catalogue file (data/seed/<sheet>.csv), as rows."""
    folder = resources.files("domain.catalog").joinpath("data", "seed")
    tables: dict[str, list[dict[str, Any]]] = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".csv"):
            tables[entry.name[:-4]] = list(csv.DictReader(entry.read_text(encoding="utf-8").splitlines()))
    return tables


SEED_CATALOG = Catalog(parse_edition(seed_tables()))  # the seed flows (1.0) are built from it, always


class _Holder:
    """The catalogue in force in this process; an older edition never replaces a newer one."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.position = 0  # log position of the installed edition (0: the seed)
        self._lock = threading.Lock()

    def install(self, catalog: Catalog, position: int) -> bool:
        with self._lock:
            if position <= self.position:
                return False
            self.catalog, self.position = catalog, position
            REFERENCE.set_parks(catalog.parks())  # a park's projects, names and unit follow the edition
            return True

    def reset(self) -> None:
        with self._lock:
            self.catalog, self.position = SEED_CATALOG, 0
            REFERENCE.set_parks(SEED_CATALOG.parks())


_IN_FORCE = _Holder(SEED_CATALOG)


def in_force() -> Catalog:
    return _IN_FORCE.catalog


def installed_position() -> int:
    """The log position of the edition in force (0: the packaged seed)."""
    return _IN_FORCE.position


def install(edition: dict[str, Any], position: int) -> bool:
    """Put this published edition in force (from the log: its event's position); False when the one
    in force is as new or newer."""
    if position <= _IN_FORCE.position:
        return False
    return _IN_FORCE.install(Catalog(edition), position)


def reset_to_seed() -> None:
    """Back to the packaged seed (a process that opens another store, e.g. tests)."""
    _IN_FORCE.reset()


def newer_than_in_force(version: str) -> bool:
    return version_key(version) > version_key(_IN_FORCE.catalog.version)


_REFRESH: list[Callable[[], object]] = []  # the composition root's: install the latest edition of the log


def on_unknown_item(refresh: Callable[[], object]) -> None:
    """What `CATALOG.item` does once before it refuses a code: a process that did not publish an
    edition (another API worker) finds it in the log."""
    _REFRESH[:] = [refresh]


def _refreshed() -> bool:
    if not _REFRESH:
        return False
    try:
        _REFRESH[0]()
    except Exception:  # a closed or unreachable store: the code is refused as unknown, as before
        log.warning("looking for a newer catalogue edition failed", exc_info=True)
        return False
    return True


class CatalogInForce:
    """`CATALOG`: the same reads as a `Catalog`, each on the edition in force at that moment."""

    @property
    def version(self) -> str:
        return in_force().version

    @property
    def items(self) -> dict[str, Item]:
        return in_force().items

    @property
    def departments(self) -> dict[str, str]:
        return in_force().departments

    @property
    def department_rows(self) -> tuple[dict[str, Any], ...]:
        return in_force().department_rows

    @property
    def licence_types(self) -> dict[str, tuple[str, tuple[tuple[str, str, str, bool], ...]]]:
        return in_force().licence_types

    @property
    def stage_limits(self) -> dict[int, int]:
        return in_force().stage_limits

    @property
    def project_targets(self) -> dict[int, int]:
        return in_force().project_targets

    @property
    def edition(self) -> dict[str, Any]:
        return in_force().edition

    def item(self, code: str, field: str = "item_code") -> Item:
        catalog = in_force()
        if code not in catalog.items and _refreshed():
            catalog = in_force()
        return catalog.item(code, field)

    def by_stage(self, stage: int) -> list[Item]:
        return in_force().by_stage(stage)

    def stage_limit(self, stage: int) -> int:
        return in_force().stage_limit(stage)

    def project_target(self, flow_type: int) -> int:
        return in_force().project_target(flow_type)

    def parks(self) -> list[Region]:
        return in_force().parks()

    def department_for(self, item_code: str, region_code: str) -> Department | None:
        return in_force().department_for(item_code, region_code)

    def definition_item(self, code: str, region_code: str = PROVINCE, version: str = "1.0") -> dict[str, Any]:
        return in_force().definition_item(code, region_code, version)

    def __iter__(self) -> Iterator[str]:
        return iter(in_force().items)


CATALOG = CatalogInForce()
