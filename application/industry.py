"""BIM 图审及竣工验收 and 联合测绘 — IFC models parsed and checked against the project's planning
conditions; completion models compared with the approved design; the joint survey's results
recorded once and read by planning verification and the real-estate export.

Planning conditions come from what is recorded: the zones of the project's last blueprint check
(height limit, plot ratio), its red line's area, its unit works' declared areas, and the approved
building area of its engineering planning permit (建设工程规划许可证, from the licence library).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from application.base import Service
from application.clock import Clock
from application.commands import Invocation
from application.commands.industry import (
    ApproveDesign,
    CorrectSurvey,
    DesignApproved,
    ModelSubmitted,
    RecordSurvey,
    SubmitModel,
    SurveyOutcome,
)
from application.policy import Actor, authorize
from application.ports import LicenceLookup
from domain.blueprint.check import area_m2
from domain.industry.bim import BimReview, ModelStage, bim_review_id, check_stage
from domain.industry.checks import AREA_TOLERANCE, Conditions, check_planning, compare
from domain.industry.facts import Facts
from domain.industry.survey import JointSurvey, check_buildings, survey_facts, survey_id
from domain.projects import Project, project_id
from domain.shared.codes import validate_uscc
from domain.shared.errors import Conflict, InvalidValue, NotFound
from domain.shared.events import Meta
from infrastructure.log import GongjianApplication

Parser = Callable[[bytes], Facts]


class IndustryService(Service):
    def __init__(
        self,
        app: GongjianApplication,
        clock: Clock,
        position_of: Callable[[UUID, int], int | None],
        parse: Parser,
        licences: LicenceLookup | None = None,
        area_tolerance: Decimal = AREA_TOLERANCE,
    ) -> None:
        super().__init__(app, clock, position_of)
        self.parse = parse
        self.licences = licences
        self.area_tolerance = area_tolerance

    def _project(self, actor: Actor, action: str, code: str) -> Project:
        project = self.load(Project, project_id(code), f"project {code}")
        authorize(actor, action, owner_org=project.owner_uscc, region_code=project.region_code)
        return project

    def conditions(self, project: Project) -> Conditions:
        """规划条件 as recorded for the project."""
        return Conditions(
            zones=list(project.blueprint.zones),
            land_area_m2=area_m2(project.red_line) if project.red_line else None,
            permit_area_m2=self.licences.permit_area(project.code, project.owner_uscc) if self.licences else None,
            unit_work_areas=dict(project.unit_work_areas),
            area_tolerance=self.area_tolerance,
        )

    # --- BIM 图审 ---------------------------------------------------------------------------

    def submit_model(self, by: Invocation, command: SubmitModel) -> ModelSubmitted:
        """BIM 模型报审: parse the IFC file, check it, compare a completion model with the approved design."""
        actor, project_code, stage, data = by.actor, command.project_code, command.stage, command.data
        self._project(actor, "bim.submit", project_code)
        check_stage(stage)
        facts = self.parse(data)  # outside the transaction: parsing is the slow part
        sha = hashlib.sha256(data).hexdigest()

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            project = self._project(actor, "bim.submit", project_code)
            review = self.find(BimReview, bim_review_id(project_code)) or BimReview.open(meta, project_code)
            findings = check_planning(facts, self.conditions(project))
            design = review.approved
            compared_with = None
            if stage == ModelStage.COMPLETION and design is not None:
                findings += compare(Facts.of(design["facts"]), facts, self.area_tolerance)
                compared_with = design["model_id"]
            model_id = str(uuid4())
            review.submit(
                meta,
                model_id=model_id,
                stage=stage,
                case_id=str(command.case_id) if command.case_id else None,
                file_name=command.file_name.strip()[:200] or "model.ifc",
                file_sha256=sha,
                file_size=len(data),
                facts=facts.as_dict(),
                findings=findings,
                compared_with=compared_with,
            )
            return [review], {"id": str(review.id), **_model_view(review.models[model_id])}

        return ModelSubmitted.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def approve_design(self, by: Invocation, command: ApproveDesign) -> DesignApproved:
        actor, project_code, model_id = by.actor, command.project_code, command.model_id

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            self._project(actor, "bim.approve-design", project_code)
            review = self.load(BimReview, bim_review_id(project_code), f"BIM review of {project_code}")
            review.approve_design(meta, model_id)
            return [review], {"id": str(review.id), "approved_design": model_id}

        return DesignApproved.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def models(self, actor: Actor, project_code: str) -> dict[str, Any]:
        self._project(actor, "read", project_code)
        review = self.find(BimReview, bim_review_id(project_code))
        if review is None:
            return {"project_code": project_code, "approved_design": None, "models": []}
        return {
            "project_code": project_code,
            "approved_design": review.approved_design,
            "models": [_model_view(m) for m in review.models.values()],
        }

    # --- 联合测绘 ---------------------------------------------------------------------------

    def _survey_fields(
        self, project: Project, review: BimReview | None, given: RecordSurvey | CorrectSurvey
    ) -> dict[str, Any]:
        footprint = dict(given.footprint)
        footprint_area = JointSurvey.check_report(
            str(given.report_number), str(given.report_sha256).lower(), footprint, project.region_code
        )
        buildings = check_buildings([dict(b) for b in given.buildings], project.unit_works)
        facts = survey_facts(buildings)
        findings = check_planning(facts, self.conditions(project))
        if review is not None and review.approved is not None:
            findings += compare(Facts.of(review.approved["facts"]), facts, self.area_tolerance)
        return {
            "report_number": str(given.report_number).strip(),
            "report_sha256": str(given.report_sha256).lower(),
            "surveyed_on": given.surveyed_on,
            "footprint": footprint,
            "footprint_area_m2": footprint_area,
            "buildings": buildings,
            "findings": findings,
        }

    def record_survey(self, by: Invocation, command: RecordSurvey) -> SurveyOutcome:
        """联合测绘成果: recorded once per project (a second record is 409: correct it instead)."""
        actor, project_code, surveyor = by.actor, command.project_code, command.surveyor
        if not surveyor.strip():
            raise InvalidValue("surveyor", "the surveying agency's name is required", "required")
        uscc = validate_uscc(command.surveyor_uscc, "surveyor_uscc")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            project = self._project(actor, "survey.record", project_code)
            if self.exists(survey_id(project_code)):
                raise Conflict(f"the joint survey of {project_code} is already recorded: correct it instead")
            review = self.find(BimReview, bim_review_id(project_code))
            fields = self._survey_fields(project, review, command)
            survey = JointSurvey.record(
                meta, project_code=project_code, surveyor=surveyor.strip(), surveyor_uscc=uscc, **fields
            )
            return [survey], _survey_view(survey)

        return SurveyOutcome.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def correct_survey(self, by: Invocation, command: CorrectSurvey) -> SurveyOutcome:
        actor, project_code = by.actor, command.project_code

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            project = self._project(actor, "survey.record", project_code)
            survey = self.load(JointSurvey, survey_id(project_code), f"joint survey of {project_code}")
            review = self.find(BimReview, bim_review_id(project_code))
            survey.correct(meta, reason=command.reason, **self._survey_fields(project, review, command))
            return [survey], _survey_view(survey)

        return SurveyOutcome.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def survey(self, actor: Actor, project_code: str) -> dict[str, Any] | None:
        self._project(actor, "read", project_code)
        survey = self.find(JointSurvey, survey_id(project_code))
        return None if survey is None else {**_survey_view(survey), **survey.export()}

    def planning_verification(self, actor: Actor, project_code: str) -> dict[str, Any]:
        """规划条件核实: the recorded survey checked against the planning conditions as they are now
        (no re-entry: the survey's own results; 404 when no survey is recorded)."""
        project = self._project(actor, "read", project_code)
        survey = self.find(JointSurvey, survey_id(project_code))
        if survey is None:
            raise NotFound(f"no joint survey is recorded for {project_code}")
        review = self.find(BimReview, bim_review_id(project_code))
        facts = survey.facts()
        findings = check_planning(facts, self.conditions(project))
        if review is not None and review.approved is not None:
            findings += compare(Facts.of(review.approved["facts"]), facts, self.area_tolerance)
        return {
            "project_code": project_code,
            "report_number": survey.report_number,
            "gross_floor_area_m2": str(facts.gross_floor_area_m2),
            "height_m": str(facts.height_m),
            "compliant": not findings,
            "findings": findings,
        }


def _model_view(model: dict[str, Any]) -> dict[str, Any]:
    facts = model["facts"]
    return {
        "model_id": model["model_id"],
        "stage": model["stage"],
        "file_name": model["file_name"],
        "file_sha256": model["file_sha256"],
        "schema": facts["schema"],
        "height_m": facts["height_m"],
        "gross_floor_area_m2": facts["gross_floor_area_m2"],
        "buildings": facts["buildings"],
        "findings": model["findings"],
        "compared_with": model["compared_with"],
    }


def _survey_view(survey: JointSurvey) -> dict[str, Any]:
    return {
        "id": str(survey.id),
        "project_code": survey.project_code,
        "report_number": survey.report_number,
        "findings": survey.findings,
        "corrections": survey.corrections,
    }
