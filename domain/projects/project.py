"""项目 — the Project aggregate, keyed by its national project code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.blueprint.check import LAND_USE_RE, BlueprintCheck, allowed_floor_area_m2, area_m2
from domain.shared.codes import (
    validate_parcel_code,
    validate_project_code,
    validate_region,
    validate_uscc,
)
from domain.shared.errors import Conflict, IllegalTransition, InvalidValue
from domain.shared.events import AuditedEvent, Meta
from domain.shared.geometry import validate_red_line
from domain.shared.reference import REFERENCE

NAMESPACE = uuid5(NAMESPACE_URL, "https://gongjian.hainan.gov.cn/ns")


def project_id(project_code: str) -> UUID:
    """Natural key: one aggregate per national project code, so a code is generated once."""
    return uuid5(NAMESPACE, f"project:{project_code}")


class InvestmentType(StrEnum):
    GOVERNMENT = "government"  # 政府投资
    ENTERPRISE = "enterprise"  # 企业投资


class LandSupplyMode(StrEnum):
    ALLOCATION = "allocation"  # 划拨
    TRANSFER = "transfer"  # 出让


class Project(Aggregate):
    """项目 — a construction project from generation (策划生成) to completion."""

    class Event(AuditedEvent):
        pass

    class Generated(Event, Aggregate.Created):
        """项目策划生成 — the project passed generation and received its place in the system."""

        code: str
        name: str
        owner_name: str
        owner_uscc: str
        region_code: str
        flow_type: int
        investment_type: str
        category: str
        total_investment: Decimal
        planned_start: date
        planned_end: date
        red_line: dict[str, Any] | None
        # v2: what the project declares it will build, checked against the blueprint (all optional)
        planned_land_use: str | None = None
        plot_ratio: Decimal | None = None
        height_m: Decimal | None = None
        land_area_m2: Decimal | None = None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """v1 events were recorded before projects declared land use, plot ratio, height, area."""
            for name in ("planned_land_use", "plot_ratio", "height_m", "land_area_m2"):
                state.setdefault(name, None)

    class BlueprintChecked(Event):
        """规划符合性检查 — the red line checked against the blueprint: zones overlapped, conflicts
        listed (not refused), regional assessment results applied (区域评估成果应用)."""

        trigger: str
        zones: list[dict[str, Any]]
        conflicts: list[dict[str, Any]]
        assessments: list[dict[str, Any]]

        def apply(self, aggregate: Project) -> None:
            aggregate.blueprint = BlueprintCheck(list(self.zones), list(self.conflicts), list(self.assessments))

    class LandSupplied(Event):
        """供地 — land allocated (划拨) or transferred (出让), with the official red line (用地红线)."""

        mode: str
        red_line: dict[str, Any]
        supplied_on: date
        contract_number: str | None

        def apply(self, aggregate: Project) -> None:
            aggregate.land_supply_mode = self.mode
            aggregate.red_line = self.red_line

    class ParcelLinked(Event):
        """宗地关联 — a land parcel code linked to the project."""

        parcel_code: str

        def apply(self, aggregate: Project) -> None:
            aggregate.parcel_codes.append(self.parcel_code)

    class UnitWorkRegistered(Event):
        """单位工程 — a unit of works registered; its code is assigned by the system."""

        unit_work_code: str
        name: str
        floor_area_m2: Decimal | None
        storeys: int | None

        def apply(self, aggregate: Project) -> None:
            aggregate.unit_works[self.unit_work_code] = self.name
            aggregate.floor_area_m2 += self.floor_area_m2 or 0
            if self.floor_area_m2 is not None:  # the declared area each BIM model and survey is held to
                aggregate.unit_work_areas[self.unit_work_code] = self.floor_area_m2

    class ItemApproved(Event):
        """事项办结（通过）— an item's case was approved for this project."""

        case_id: UUID
        item_code: str

        def apply(self, aggregate: Project) -> None:
            aggregate.approved_items[self.item_code] = self.case_id

    class ItemApprovalRevoked(Event):
        """事项批准撤销 — an approval of an item for this project was revoked."""

        case_id: UUID
        item_code: str

        def apply(self, aggregate: Project) -> None:
            if aggregate.approved_items.get(self.item_code) == self.case_id:
                del aggregate.approved_items[self.item_code]

    class MergedInto(Event):
        """重复赋码合并 — this code was a duplicate and is merged into a canonical project code."""

        canonical_code: str
        reason: str

        def apply(self, aggregate: Project) -> None:
            aggregate.merged_into = self.canonical_code

    class DuplicateAbsorbed(Event):
        """重复赋码合并 — a duplicate project code was merged into this project."""

        duplicate_code: str
        reason: str

        def apply(self, aggregate: Project) -> None:
            aggregate.merged_codes.append(self.duplicate_code)

    def __init__(
        self,
        code: str,
        name: str,
        owner_name: str,
        owner_uscc: str,
        region_code: str,
        flow_type: int,
        investment_type: str,
        category: str,
        total_investment: Decimal,
        planned_start: date,
        planned_end: date,
        red_line: dict[str, Any] | None,
        planned_land_use: str | None = None,
        plot_ratio: Decimal | None = None,
        height_m: Decimal | None = None,
        land_area_m2: Decimal | None = None,
    ) -> None:
        self.code = code
        self.name = name
        self.owner_name = owner_name
        self.owner_uscc = owner_uscc
        self.region_code = region_code
        self.flow_type = flow_type
        self.investment_type = investment_type
        self.category = category
        self.total_investment = total_investment
        self.planned_start = planned_start
        self.planned_end = planned_end
        self.red_line = red_line
        self.land_supply_mode: str | None = None
        self.parcel_codes: list[str] = []
        self.unit_works: dict[str, str] = {}
        self.unit_work_areas: dict[str, Decimal] = {}
        self.approved_items: dict[str, UUID] = {}
        self.merged_into: str | None = None
        self.merged_codes: list[str] = []
        self.planned_land_use = planned_land_use
        self.plot_ratio = plot_ratio
        self.height_m = height_m
        self.land_area_m2 = land_area_m2
        self.blueprint = BlueprintCheck()
        self.floor_area_m2 = Decimal(0)  # registered unit works' total

    # --- commands -------------------------------------------------------------------

    @classmethod
    def generate(
        cls,
        meta: Meta,
        *,
        code: str,
        name: str,
        owner_name: str,
        owner_uscc: str,
        region_code: str,
        flow_type: int,
        investment_type: str,
        category: str,
        total_investment: Decimal,
        planned_start: date,
        planned_end: date,
        red_line: dict[str, Any] | None,
        planned_land_use: str | None = None,
        plot_ratio: Decimal | None = None,
        height_m: Decimal | None = None,
        land_area_m2: Decimal | None = None,
        land_area_tolerance: Decimal = Decimal("0.05"),
    ) -> Project:
        code = validate_project_code(code, "code")
        region_code = validate_region(region_code)
        segment = code.split("-")[1]
        # the code was issued for a division: the project lies in it, or the code is its parent's
        if not (REFERENCE.within(region_code, segment) or REFERENCE.within(segment, region_code)):
            raise InvalidValue(
                "region_code",
                f"region {region_code} is outside the project code's region segment {segment}",
                "project_code_region_mismatch",
            )
        if not name.strip():
            raise InvalidValue("name", "a project needs a name", "required")
        if not owner_name.strip():
            raise InvalidValue("owner.name", "the owner needs a name", "required")
        owner_uscc = validate_uscc(owner_uscc, "owner.uscc")
        if flow_type not in REFERENCE.flow_types:
            raise InvalidValue("flow_type", f"unknown flow type {flow_type} (flow_types.csv)", "flow_type_unknown")
        if investment_type not in InvestmentType.__members__.values():
            raise InvalidValue("investment_type", f"must be one of {[m.value for m in InvestmentType]}", "enum")
        if total_investment < 0:
            raise InvalidValue("total_investment", "investment (万元) cannot be negative", "non_negative")
        if planned_end < planned_start:
            raise InvalidValue("planned_end", "planned end is before planned start", "end_before_start")
        if red_line is not None:
            validate_red_line(red_line, region_code)
        check_declared(planned_land_use, plot_ratio, height_m, land_area_m2)
        if land_area_m2 is not None and red_line is not None:
            check_land_area(land_area_m2, red_line, land_area_tolerance)
        project = cls._create(
            cls.Generated,
            id=project_id(code),
            code=code,
            name=name.strip(),
            owner_name=owner_name.strip(),
            owner_uscc=owner_uscc,
            region_code=region_code,
            flow_type=flow_type,
            investment_type=investment_type,
            category=category,
            total_investment=total_investment,
            planned_start=planned_start,
            planned_end=planned_end,
            red_line=red_line,
            planned_land_use=planned_land_use,
            plot_ratio=plot_ratio,
            height_m=height_m,
            land_area_m2=land_area_m2,
            **meta.fields(),
        )
        return project

    def check_active(self, action: str) -> None:
        if self.merged_into is not None:
            raise IllegalTransition(f"project {self.code}", f"merged into {self.merged_into}", action)

    def supply_land(
        self, meta: Meta, *, mode: str, red_line: dict[str, Any], supplied_on: date, contract_number: str | None
    ) -> None:
        self.check_active("supply-land")
        if mode not in LandSupplyMode.__members__.values():
            raise InvalidValue("mode", f"must be one of {[m.value for m in LandSupplyMode]}", "enum")
        validate_red_line(red_line, self.region_code)
        if mode == LandSupplyMode.TRANSFER and not contract_number:
            raise InvalidValue("contract_number", "a land transfer (出让) needs its contract number", "required")
        if self.land_supply_mode is not None:
            raise Conflict(f"land was already supplied to project {self.code} ({self.land_supply_mode})")
        self.trigger_event(
            self.LandSupplied,
            mode=mode,
            red_line=red_line,
            supplied_on=supplied_on,
            contract_number=contract_number,
            **meta.fields(),
        )

    def link_parcel(self, meta: Meta, *, parcel_code: str) -> None:
        self.check_active("link-parcel")
        code = validate_parcel_code(parcel_code)
        if code in self.parcel_codes:
            raise Conflict(f"parcel {code} is already linked to project {self.code}")
        self.trigger_event(self.ParcelLinked, parcel_code=code, **meta.fields())

    @property
    def engineering_code(self) -> str:
        """工程代码 (GCDM) of the project's first engineering: project code + '-001'."""
        return f"{self.code}-001"

    def register_unit_work(self, meta: Meta, *, name: str, floor_area_m2: Decimal | None, storeys: int | None) -> str:
        self.check_active("register-unit-work")
        if not name.strip():
            raise InvalidValue("name", "a unit of works needs a name", "required")
        if floor_area_m2 is not None and floor_area_m2 <= 0:
            raise InvalidValue("floor_area_m2", "floor area must be positive", "positive")
        if storeys is not None and storeys <= 0:
            raise InvalidValue("storeys", "storeys must be positive", "positive")
        if floor_area_m2 is not None:
            self.check_floor_area(self.floor_area_m2 + floor_area_m2)
        # never reused: the sequence counts every unit ever registered
        code = f"{self.engineering_code}-{len(self.unit_works) + 1:03d}"
        self.trigger_event(
            self.UnitWorkRegistered,
            unit_work_code=code,
            name=name.strip(),
            floor_area_m2=floor_area_m2,
            storeys=storeys,
            **meta.fields(),
        )
        return code

    def check_floor_area(self, total: Decimal) -> None:
        """前后逻辑关系: the unit works' floor area stays within the plot ratio of the zones the
        official red line lies in (recorded by the last blueprint check)."""
        if self.red_line is None:
            return
        allowed = allowed_floor_area_m2(self.blueprint.zones, area_m2(self.red_line))
        if allowed is not None and total > allowed:
            raise InvalidValue(
                "floor_area_m2",
                f"unit works would total {total} m² of floor area; the zones' plot ratio allows {allowed} m²",
                "floor_area_over_plot_ratio",
            )

    def record_blueprint_check(self, meta: Meta, check: BlueprintCheck, *, trigger: str) -> bool:
        """Recorded when the outcome differs from the last one (a red line in no zone and no area
        records nothing); False when nothing changed."""
        if check == self.blueprint:
            return False
        self.trigger_event(self.BlueprintChecked, trigger=trigger, **check.fields(), **meta.fields())
        return True

    def missing_prerequisites(self, prerequisites: tuple[str, ...]) -> list[str]:
        return [p for p in prerequisites if p not in self.approved_items]

    def record_item_approved(self, meta: Meta, *, case_id: UUID, item_code: str) -> None:
        self.trigger_event(self.ItemApproved, case_id=case_id, item_code=item_code, **meta.fields())

    def record_approval_revoked(self, meta: Meta, *, case_id: UUID, item_code: str) -> None:
        self.trigger_event(self.ItemApprovalRevoked, case_id=case_id, item_code=item_code, **meta.fields())

    def merge_into(self, meta: Meta, canonical: Project, reason: str) -> None:
        """重复赋码合并: both aggregates record the merge (saved together)."""
        self.check_active("merge")
        canonical.check_active("absorb-duplicate")
        if canonical.code == self.code:
            raise InvalidValue("canonical_code", "a project cannot be merged into itself", "merge_self")
        if not reason.strip():
            raise InvalidValue("reason", "a merge needs a reason", "required")
        self.trigger_event(self.MergedInto, canonical_code=canonical.code, reason=reason, **meta.fields())
        canonical.trigger_event(canonical.DuplicateAbsorbed, duplicate_code=self.code, reason=reason, **meta.fields())


def check_declared(
    planned_land_use: str | None, plot_ratio: Decimal | None, height_m: Decimal | None, land_area_m2: Decimal | None
) -> None:
    if planned_land_use is not None and not LAND_USE_RE.match(planned_land_use):
        raise InvalidValue("planned_land_use", "a 用地用海分类 code has 2, 4 or 6 digits", "land_use_code")
    for name, value in (("plot_ratio", plot_ratio), ("height_m", height_m), ("land_area_m2", land_area_m2)):
        if value is not None and value <= 0:
            raise InvalidValue(name, "must be positive", "positive")


def check_land_area(declared: Decimal, red_line: dict[str, Any], tolerance: Decimal) -> None:
    """前后逻辑关系: the declared land area matches the red line's within a relative tolerance."""
    measured = area_m2(red_line)
    if abs(declared - measured) > measured * tolerance:
        raise InvalidValue(
            "land_area_m2",
            f"declared {declared} m², the red line encloses {measured} m² (tolerance {tolerance:%})",
            "land_area_inconsistent",
        )
