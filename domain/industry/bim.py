"""BIM 图审及竣工验收 — the BimReview aggregate: one per project, holding every IFC model submitted
for it (design or completion stage) with the facts parsed from it and the findings of the checks,
and which design model was approved (the one completion models are compared with)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.projects.project import NAMESPACE
from domain.shared.errors import Conflict, InvalidValue, NotFound
from domain.shared.events import AuditedEvent, Meta


class ModelStage(StrEnum):
    """模型阶段."""

    DESIGN = "design"  # 设计（施工图）模型
    COMPLETION = "completion"  # 竣工模型


def bim_review_id(project_code: str) -> UUID:
    return uuid5(NAMESPACE, f"bim-review:{project_code}")


def check_stage(value: str) -> str:
    if value not in ModelStage.__members__.values():
        raise InvalidValue("stage", f"one of {[s.value for s in ModelStage]}", "enum")
    return value


class BimReview(Aggregate):
    """模型图审 (BIM 图审) — the IFC models of one project, their parsed facts, findings and approval."""

    class Event(AuditedEvent):
        pass

    class Opened(Event, Aggregate.Created):
        """模型审查建档 — the project's first model arrived: its BIM review record is opened."""

        project_code: str

    class ModelSubmitted(Event):
        """模型报审 — an IFC model parsed (storeys, height, areas, uses) and checked; findings
        name the IFC element; a completion model is compared with the approved design."""

        model_id: str
        stage: str
        case_id: str | None
        file_name: str
        file_sha256: str
        file_size: int
        facts: dict[str, Any]
        findings: list[dict[str, Any]]
        compared_with: str | None

        def apply(self, aggregate: BimReview) -> None:
            aggregate.models[self.model_id] = {
                "model_id": self.model_id,
                "stage": self.stage,
                "case_id": self.case_id,
                "file_name": self.file_name,
                "file_sha256": self.file_sha256,
                "file_size": self.file_size,
                "facts": self.facts,
                "findings": self.findings,
                "compared_with": self.compared_with,
                "submitted_at": self.timestamp.isoformat(),
            }

    class DesignApproved(Event):
        """模型审查合格 — a design model without findings is the approved design from now on."""

        model_id: str
        file_sha256: str

        def apply(self, aggregate: BimReview) -> None:
            aggregate.approved_design = self.model_id

    def __init__(self, project_code: str) -> None:
        self.project_code = project_code
        self.models: dict[str, dict[str, Any]] = {}
        self.approved_design: str | None = None

    @classmethod
    def open(cls, meta: Meta, project_code: str) -> BimReview:
        return cls._create(cls.Opened, id=bim_review_id(project_code), project_code=project_code, **meta.fields())

    @property
    def approved(self) -> dict[str, Any] | None:
        return self.models[self.approved_design] if self.approved_design else None

    def submit(self, meta: Meta, *, model_id: str, stage: str, **fields: Any) -> None:
        check_stage(stage)
        if any(m["file_sha256"] == fields["file_sha256"] and m["stage"] == stage for m in self.models.values()):
            raise Conflict(f"this IFC file was already submitted for project {self.project_code} at the {stage} stage")
        self.trigger_event(self.ModelSubmitted, model_id=model_id, stage=stage, **fields, **meta.fields())

    def approve_design(self, meta: Meta, model_id: str) -> None:
        model = self.models.get(model_id)
        if model is None:
            raise NotFound(f"model {model_id} not found for project {self.project_code}")
        if model["stage"] != ModelStage.DESIGN:
            raise Conflict("only a design-stage model can become the approved design")
        if model["findings"]:
            raise Conflict(f"the model has {len(model['findings'])} findings: a revised model must be submitted")
        if self.approved_design == model_id:
            raise Conflict("this model is already the approved design")
        self.trigger_event(self.DesignApproved, model_id=model_id, file_sha256=model["file_sha256"], **meta.fields())
