"""工程行业系统 commands (application/industry.py `IndustryService`): BIM review (BIM 图审) and the joint
survey (联合测绘)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class SubmitModel:
    """BIM 模型报审 — an IFC file, checked against the planning conditions (a completion model also
    against the approved design)."""

    project_code: str
    stage: str  # domain/industry/bim ModelStage value: design | completion
    data: bytes
    file_name: str = "model.ifc"
    case_id: UUID | None = None


@dataclass(frozen=True)
class ApproveDesign:
    """BIM 审查合格 — the design model a completion model is compared with."""

    project_code: str
    model_id: str


@dataclass(frozen=True)
class RecordSurvey:
    """联合测绘成果 — recorded once per project."""

    project_code: str
    surveyor: str
    surveyor_uscc: str
    report_number: str
    report_sha256: str
    surveyed_on: date
    footprint: Mapping[str, Any]  # GeoJSON
    buildings: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class CorrectSurvey:
    """联合测绘成果更正 — the results again, with the reason."""

    project_code: str
    reason: str
    report_number: str
    report_sha256: str
    surveyed_on: date
    footprint: Mapping[str, Any]
    buildings: Sequence[Mapping[str, Any]]


@dataclass(frozen=True, kw_only=True)
class ModelSubmitted(Outcome):
    """The project's BIM review and the model as checked; `compared_with` (the approved design's
    model id) is null when it was not compared."""

    id: UUID
    model_id: str
    stage: str
    file_name: str
    file_sha256: str
    schema: str
    height_m: str
    gross_floor_area_m2: str
    buildings: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    compared_with: str | None


@dataclass(frozen=True, kw_only=True)
class DesignApproved(Outcome):
    id: UUID
    approved_design: str


@dataclass(frozen=True, kw_only=True)
class SurveyOutcome(Outcome):
    """The survey after the command: its findings and how often it was corrected."""

    id: UUID
    project_code: str
    report_number: str
    findings: list[dict[str, Any]]
    corrections: int
