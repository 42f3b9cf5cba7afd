"""项目 commands (application/projects.py `ProjectService`): generation, land supply, parcels, unit works, merge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class GenerateProject:
    """项目策划生成 — a project under its national code, checked against the blueprint."""

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
    red_line: dict[str, Any] | None = None
    planned_land_use: str | None = None
    plot_ratio: Decimal | None = None
    height_m: Decimal | None = None
    land_area_m2: Decimal | None = None


@dataclass(frozen=True)
class SupplyLand:
    """供地 — land supplied to a generated project, its red line checked against the blueprint again."""

    code: str
    mode: str
    red_line: dict[str, Any]
    supplied_on: date
    contract_number: str | None = None


@dataclass(frozen=True, kw_only=True)
class ProjectOutcome(Outcome):
    """The project and the blueprint check's outcome: conflicts are listed, not refused."""

    id: UUID
    code: str
    conflicts: list[dict[str, Any]]
    assessment_areas: list[str]


@dataclass(frozen=True)
class LinkParcel:
    """宗地关联 — a parcel (不动产单元 land code) linked to the project."""

    code: str
    parcel_code: str


@dataclass(frozen=True)
class RegisterUnitWork:
    """单位工程 — a unit work of the project; its code is assigned in order."""

    code: str
    name: str
    floor_area_m2: Decimal | None = None
    storeys: int | None = None


@dataclass(frozen=True)
class MergeProject:
    """重复赋码合并 — `code` is a duplicate of `canonical_code`, which the project's events follow."""

    code: str
    canonical_code: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ParcelLinked(Outcome):
    id: UUID
    code: str
    parcel_code: str


@dataclass(frozen=True, kw_only=True)
class UnitWorkRegistered(Outcome):
    id: UUID
    code: str
    unit_work_code: str


@dataclass(frozen=True, kw_only=True)
class ProjectMerged(Outcome):
    id: UUID
    code: str
    merged_into: str
