"""一张蓝图 — the blueprint data projects are generated against: control-plan zones (控制性详细规划
地块) and regional assessment areas (区域评估). Imported by admins; a replacement (调整) or a
retirement (废止) is a new event, never an edit."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.blueprint.check import LAND_USE_RE
from domain.projects.project import NAMESPACE
from domain.shared.codes import validate_region
from domain.shared.errors import Conflict, InvalidValue
from domain.shared.events import AuditedEvent, Meta
from domain.shared.geometry import validate_red_line

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


class AssessmentKind(StrEnum):
    """区域评估 — the kinds of regional assessment whose results follow the red line."""

    ENVIRONMENT = "environment"  # 环境影响评价
    SEISMIC_SAFETY = "seismic_safety"  # 地震安全性评价
    FLOOD = "flood"  # 洪水影响评价
    MINERAL_OVERLAY = "mineral_overlay"  # 压覆重要矿产资源评估
    SOIL_AND_WATER = "soil_and_water"  # 水土保持
    HERITAGE = "heritage"  # 文物保护（考古调查勘探）
    ENERGY = "energy"  # 节能评价
    GEOLOGICAL_HAZARD = "geological_hazard"  # 地质灾害危险性评估


def zone_id(code: str) -> UUID:
    return uuid5(NAMESPACE, f"plan-zone:{code}")


def assessment_area_id(code: str) -> UUID:
    return uuid5(NAMESPACE, f"assessment-area:{code}")


def validate_code(value: str, field: str = "code") -> str:
    code = value.strip()
    if not CODE_RE.match(code):
        raise InvalidValue(field, "1–64 letters, digits, '.', '_' or '-'", "blueprint_code")
    return code


def validate_land_uses(values: list[str], field: str = "land_uses") -> list[str]:
    if not values:
        raise InvalidValue(field, "a zone needs at least one land use (用地用海分类 code)", "required")
    for i, v in enumerate(values):
        if not LAND_USE_RE.match(v):
            raise InvalidValue(f"{field}.{i}", f"{v!r} is not a 用地用海分类 code (2, 4 or 6 digits)", "land_use_code")
    return list(values)


def _positive(value: Decimal | None, field: str) -> Decimal | None:
    if value is not None and value <= 0:
        raise InvalidValue(field, "must be positive", "positive")
    return value


class PlanZone(Aggregate):
    """控规地块 — a zone of a control plan: where it lies, what land uses it allows, its limits."""

    class Event(AuditedEvent):
        pass

    class Imported(Event, Aggregate.Created):
        """控规导入 — a zone of a control plan imported into the blueprint."""

        code: str
        name: str
        region_code: str
        geometry: dict[str, Any]
        land_uses: list[str]
        max_plot_ratio: Decimal | None
        height_limit_m: Decimal | None
        plan_name: str

    class Replaced(Event):
        """控规调整 — the zone's geometry or limits replaced by an amended plan."""

        name: str
        geometry: dict[str, Any]
        land_uses: list[str]
        max_plot_ratio: Decimal | None
        height_limit_m: Decimal | None
        plan_name: str

        def apply(self, aggregate: PlanZone) -> None:
            aggregate.content = {k: getattr(self, k) for k in ZONE_CONTENT}

    class Retired(Event):
        """控规废止 — the zone no longer applies."""

        reason: str

        def apply(self, aggregate: PlanZone) -> None:
            aggregate.retired = True

    def __init__(
        self,
        code: str,
        region_code: str,
        name: str,
        geometry: dict[str, Any],
        land_uses: list[str],
        max_plot_ratio: Decimal | None,
        height_limit_m: Decimal | None,
        plan_name: str,
    ) -> None:
        self.code = code
        self.region_code = region_code
        self.content: dict[str, Any] = {
            "name": name,
            "geometry": geometry,
            "land_uses": land_uses,
            "max_plot_ratio": max_plot_ratio,
            "height_limit_m": height_limit_m,
            "plan_name": plan_name,
        }
        self.retired = False

    @staticmethod
    def checked(
        *,
        name: str,
        region_code: str,
        geometry: dict[str, Any],
        land_uses: list[str],
        max_plot_ratio: Decimal | None,
        height_limit_m: Decimal | None,
        plan_name: str,
    ) -> dict[str, Any]:
        if not name.strip():
            raise InvalidValue("name", "a zone needs a name", "required")
        validate_red_line(geometry, region_code, "geometry")
        return {
            "name": name.strip(),
            "geometry": geometry,
            "land_uses": validate_land_uses(land_uses),
            "max_plot_ratio": _positive(max_plot_ratio, "max_plot_ratio"),
            "height_limit_m": _positive(height_limit_m, "height_limit_m"),
            "plan_name": plan_name.strip(),
        }

    @classmethod
    def import_(cls, meta: Meta, *, code: str, region_code: str, **content: Any) -> PlanZone:
        code = validate_code(code)
        region_code = validate_region(region_code)
        fields = cls.checked(region_code=region_code, **content)
        return cls._create(
            cls.Imported, id=zone_id(code), code=code, region_code=region_code, **fields, **meta.fields()
        )

    def replace(self, meta: Meta, **content: Any) -> bool:
        """A new version; False (nothing recorded) when the content is the same."""
        return _replace(self, "zone", meta, content)

    def retire(self, meta: Meta, *, reason: str) -> None:
        _retire(self, "zone", meta, reason)


ZONE_CONTENT = ("name", "geometry", "land_uses", "max_plot_ratio", "height_limit_m", "plan_name")
AREA_CONTENT = ("name", "kind", "geometry", "result", "valid_from", "valid_until")


class AssessmentArea(Aggregate):
    """区域评估 — an area assessed once for everyone (环评, 地震安评, 压覆矿 …): projects whose red
    line falls inside it apply its result (区域评估成果应用) instead of assessing again."""

    class Event(AuditedEvent):
        pass

    class Imported(Event, Aggregate.Created):
        """区域评估导入 — an assessed area and its result imported into the blueprint."""

        code: str
        name: str
        kind: str
        region_code: str
        geometry: dict[str, Any]
        result: str
        valid_from: date
        valid_until: date | None

    class Replaced(Event):
        """区域评估更新 — the area's geometry, result or validity replaced."""

        name: str
        kind: str
        geometry: dict[str, Any]
        result: str
        valid_from: date
        valid_until: date | None

        def apply(self, aggregate: AssessmentArea) -> None:
            aggregate.content = {k: getattr(self, k) for k in AREA_CONTENT}

    class Retired(Event):
        """区域评估废止 — the area's result no longer applies."""

        reason: str

        def apply(self, aggregate: AssessmentArea) -> None:
            aggregate.retired = True

    def __init__(
        self,
        code: str,
        region_code: str,
        name: str,
        kind: str,
        geometry: dict[str, Any],
        result: str,
        valid_from: date,
        valid_until: date | None,
    ) -> None:
        self.code = code
        self.region_code = region_code
        self.content: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "geometry": geometry,
            "result": result,
            "valid_from": valid_from,
            "valid_until": valid_until,
        }
        self.retired = False

    @staticmethod
    def checked(
        *,
        name: str,
        kind: str,
        region_code: str,
        geometry: dict[str, Any],
        result: str,
        valid_from: date,
        valid_until: date | None,
    ) -> dict[str, Any]:
        if not name.strip():
            raise InvalidValue("name", "an assessment area needs a name", "required")
        if kind not in AssessmentKind.__members__.values():
            raise InvalidValue("kind", f"must be one of {[k.value for k in AssessmentKind]}", "enum")
        if not result.strip():
            raise InvalidValue("result", "the assessment's result (评估成果) is required", "required")
        if valid_until is not None and valid_until < valid_from:
            raise InvalidValue("valid_until", "validity ends before it starts", "end_before_start")
        validate_red_line(geometry, region_code, "geometry")
        return {
            "name": name.strip(),
            "kind": str(kind),
            "geometry": geometry,
            "result": result.strip(),
            "valid_from": valid_from,
            "valid_until": valid_until,
        }

    @classmethod
    def import_(cls, meta: Meta, *, code: str, region_code: str, **content: Any) -> AssessmentArea:
        code = validate_code(code)
        region_code = validate_region(region_code)
        fields = cls.checked(region_code=region_code, **content)
        return cls._create(
            cls.Imported, id=assessment_area_id(code), code=code, region_code=region_code, **fields, **meta.fields()
        )

    def replace(self, meta: Meta, **content: Any) -> bool:
        """A new version; False (nothing recorded) when the content is the same."""
        return _replace(self, "assessment area", meta, content)

    def retire(self, meta: Meta, *, reason: str) -> None:
        _retire(self, "assessment area", meta, reason)


# Zones and assessment areas version alike: a replacement records changed content, a retirement
# ends the layer's entry for good.
def _replace(layer: Any, label: str, meta: Meta, content: dict[str, Any]) -> bool:
    if layer.retired:
        raise Conflict(f"{label} {layer.code} was retired; import it under a new code")
    fields = layer.checked(region_code=layer.region_code, **content)
    if fields == layer.content:
        return False
    layer.trigger_event(layer.Replaced, **fields, **meta.fields())
    return True


def _retire(layer: Any, label: str, meta: Meta, reason: str) -> None:
    if layer.retired:
        raise Conflict(f"{label} {layer.code} is already retired")
    if not reason.strip():
        raise InvalidValue("reason", "a retirement needs a reason", "required")
    layer.trigger_event(layer.Retired, reason=reason.strip(), **meta.fields())
