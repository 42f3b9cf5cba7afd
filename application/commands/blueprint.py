"""一张蓝图 commands (application/blueprint.py `BlueprintService`): imports and retirements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class ImportZone:
    """控规导入 — a zone, or its replacement when the code exists and the content changed."""

    code: str
    region_code: str
    name: str
    geometry: dict[str, Any]
    land_uses: list[str]
    max_plot_ratio: Decimal | None = None
    height_limit_m: Decimal | None = None
    plan_name: str = ""


@dataclass(frozen=True)
class ImportAssessmentArea:
    """区域评估导入 — an assessed area, or its replacement when the code exists and the content changed."""

    code: str
    region_code: str
    name: str
    geometry: dict[str, Any]
    kind: str
    result: str
    valid_from: date
    valid_until: date | None = None


@dataclass(frozen=True)
class RetireLayer:
    """废止 — a zone (`layer` "zone") or an assessment area ("assessment_area") stops applying."""

    layer: str
    code: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class LayerImported(Outcome):
    """`created`: new; `unchanged`: the same content again, nothing written (`position`: its last event's)."""

    id: UUID
    code: str
    created: bool
    unchanged: bool


@dataclass(frozen=True, kw_only=True)
class LayerRetired(Outcome):
    id: UUID
    code: str


@dataclass(frozen=True)
class ImportFeatures:
    """一张蓝图导入 — a GeoJSON FeatureCollection's features, each `properties.layer` ∈ zone |
    assessment_area; each feature is one `ImportZone` or `ImportAssessmentArea` of its own."""

    features: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class FeaturesImported:
    """Per feature, not one command's answer (so no `Outcome`: no one position): how many were created,
    replaced, unchanged or rejected, and each rejected one by index, field and rule."""

    counts: dict[str, int]
    errors: list[dict[str, Any]]
