"""项目 — project commands: generation, land supply, parcels, unit works, merge of duplicate codes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal
from typing import Any
from uuid import UUID

from application.base import Service
from application.clock import Clock
from application.commands import Invocation
from application.commands.projects import (
    GenerateProject,
    LinkParcel,
    MergeProject,
    ParcelLinked,
    ProjectMerged,
    ProjectOutcome,
    RegisterUnitWork,
    SupplyLand,
    UnitWorkRegistered,
)
from application.policy import Actor, authorize
from application.ports import BlueprintLookup
from domain.blueprint.check import Declared, check_red_line
from domain.industry.multiplan import control_line_conflicts
from domain.projects import Project, project_id
from domain.shared.codes import validate_project_code
from domain.shared.errors import Conflict, InvalidValue, NotFound
from domain.shared.events import Meta
from infrastructure.log import GongjianApplication

LAND_AREA_TOLERANCE = Decimal("0.05")


class ProjectService(Service):
    def __init__(
        self,
        app: GongjianApplication,
        clock: Clock,
        position_of: Callable[[UUID, int], int | None],
        blueprint: BlueprintLookup | None = None,
        land_area_tolerance: Decimal = LAND_AREA_TOLERANCE,
        control_lines: Callable[[str], list[dict[str, Any]]] | None = None,
    ) -> None:
        super().__init__(app, clock, position_of)
        self.blueprint = blueprint
        self.land_area_tolerance = land_area_tolerance
        self.control_lines = control_lines  # 多规合一 (application/multiplan.py)

    def get(self, code: str) -> Project:
        return self.load(Project, project_id(code), f"project {code}")

    def _check_blueprint(self, meta: Meta, project: Project, trigger: str) -> None:
        """策划生成: match the red line against the blueprint; recorded when the outcome changed."""
        if self.blueprint is None or project.red_line is None:
            return
        zones, areas = self.blueprint.candidates(project.red_line)
        declared = Declared(project.planned_land_use, project.plot_ratio, project.height_m)
        check = check_red_line(project.red_line, declared, zones, areas, meta.business_time.date())
        if self.control_lines is not None:
            check.conflicts.extend(control_line_conflicts(project.red_line, self.control_lines(project.code)))
        project.record_blueprint_check(meta, check, trigger=trigger)

    def generate(self, by: Invocation, command: GenerateProject) -> ProjectOutcome:
        """`by.occurred_at`: the business time of an imported generation (None: now)."""
        actor = by.actor
        authorize(
            actor, "project.generate", owner_org=command.owner_uscc.strip().upper(), region_code=command.region_code
        )

        def work(meta: Any) -> tuple[list[Project], dict[str, Any]]:
            project = Project.generate(meta, **asdict(command), land_area_tolerance=self.land_area_tolerance)
            if self.exists(project.id):
                raise Conflict(f"project code {project.code} was already generated")
            self._check_blueprint(meta, project, "generation")
            return [project], {"id": str(project.id), "code": project.code, **_outcome(project)}

        meta = self.meta(actor, by.request_id, occurred_at=by.occurred_at)
        return ProjectOutcome.of(self.execute(meta, actor, by.key, work))

    def _for_update(self, actor: Actor, action: str, code: str) -> Project:
        validate_project_code(code, "project_code")
        project = self.get(code)
        authorize(actor, action, owner_org=project.owner_uscc, region_code=project.region_code)
        return project

    def supply_land(self, by: Invocation, command: SupplyLand) -> ProjectOutcome:
        actor, code = by.actor, command.code

        def work(meta: Any) -> tuple[list[Project], dict[str, Any]]:
            try:
                project = self._for_update(actor, "project.supply-land", code)
            except NotFound:
                # no land without generation against the blueprint (offline entries: warning rules)
                raise Conflict(f"project {code} has not been generated (未策划生成): no land supply") from None
            project.supply_land(
                meta,
                mode=command.mode,
                red_line=command.red_line,
                supplied_on=command.supplied_on,
                contract_number=command.contract_number,
            )
            self._check_blueprint(meta, project, "land_supply")
            return [project], {"id": str(project.id), "code": project.code, **_outcome(project)}

        return ProjectOutcome.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def link_parcel(self, by: Invocation, command: LinkParcel) -> ParcelLinked:
        def work(meta: Any) -> tuple[list[Project], dict[str, Any]]:
            project = self._for_update(by.actor, "project.link-parcel", command.code)
            project.link_parcel(meta, parcel_code=command.parcel_code)
            return [project], {"id": str(project.id), "code": project.code, "parcel_code": project.parcel_codes[-1]}

        return ParcelLinked.of(self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work))

    def register_unit_work(self, by: Invocation, command: RegisterUnitWork) -> UnitWorkRegistered:
        c = command

        def work(meta: Any) -> tuple[list[Project], dict[str, Any]]:
            project = self._for_update(by.actor, "project.register-unit-work", c.code)
            unit_code = project.register_unit_work(meta, name=c.name, floor_area_m2=c.floor_area_m2, storeys=c.storeys)
            return [project], {"id": str(project.id), "code": project.code, "unit_work_code": unit_code}

        return UnitWorkRegistered.of(self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work))

    def merge(self, by: Invocation, command: MergeProject) -> ProjectMerged:
        canonical_code, reason = command.canonical_code, command.reason

        def work(meta: Any) -> tuple[list[Project], dict[str, Any]]:
            duplicate = self._for_update(by.actor, "project.merge", command.code)
            validate_project_code(canonical_code, "canonical_code")
            try:
                canonical = self.get(canonical_code)
            except NotFound:
                raise InvalidValue(
                    "canonical_code", f"project {canonical_code} has not been generated", "project_unknown"
                ) from None
            duplicate.merge_into(meta, canonical, reason)
            return [duplicate, canonical], {
                "id": str(duplicate.id),
                "code": duplicate.code,
                "merged_into": canonical.code,
            }

        return ProjectMerged.of(self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work))


def _outcome(project: Project) -> dict[str, Any]:
    """The blueprint check's outcome in a command's answer: conflicts are listed, not refused."""
    return {
        "conflicts": project.blueprint.conflicts,
        "assessment_areas": [a["code"] for a in project.blueprint.assessments],
    }
