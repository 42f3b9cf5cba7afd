"""智能引导 — the items and materials that apply to a project and its situation answers, under
the flow in force for the project (application/catalogue.py), with the materials the government
already has marked "not needed": internally shared ones, and those a valid licence of the licence
library covers (matched by licence type and topic fields: holder USCC, project code …, on today's
validity).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from application.base import Service
from application.catalogue import Flow, Pins
from application.clock import Clock
from application.policy import Actor, authorize
from application.ports import LicenceLookup
from domain.catalog.guidance import check_situations, guide
from domain.projects import Project, project_id
from domain.shared.codes import validate_project_code
from domain.shared.events import SHANGHAI
from infrastructure.log import GongjianApplication


def project_facts(project: Project) -> dict[str, Any]:
    """What the government knows of a project, by the names topic fields and prefills use."""
    return {
        "project_code": project.code,
        "project_name": project.name,
        "holder_uscc": project.owner_uscc,
        "holder_name": project.owner_name,
        "region_code": project.region_code,
    }


class ApplicantSide(Service):
    """What guidance and smart forms share: the project, its flow, and licences matched to it."""

    def __init__(
        self,
        app: GongjianApplication,
        clock: Clock,
        position_of: Callable[[UUID, int], int | None],
        licences: LicenceLookup,
    ) -> None:
        super().__init__(app, clock, position_of)
        self.licences = licences

    def today(self) -> date:
        return self.clock.now().astimezone(SHANGHAI).date()

    def project(self, actor: Actor, code: str) -> Project:
        validate_project_code(code, "project_code")
        project = self.load(Project, project_id(code), f"project {code}")
        authorize(actor, "read", owner_org=project.owner_uscc, region_code=project.region_code)
        return project

    def licence(self, project: Project, spec: dict[str, Any], today: date) -> dict[str, Any] | None:
        """A valid licence of the spec's type whose topic fields equal the project's (all of them)."""
        facts = project_facts(project)
        if any(field not in facts for field in spec["topic_fields"]):
            return None  # a topic field the project does not tell: no precise match possible
        return self.licences.valid_licence(spec["type"], [(f, str(facts[f])) for f in spec["topic_fields"]], today)

    def flow(self, project: Project) -> Flow:
        return Pins(self.find).current(project.region_code, project.flow_type)


class GuidanceService(ApplicantSide):
    def guidance(self, actor: Actor, project_code: str, situations: list[str]) -> dict[str, Any]:
        project = self.project(actor, project_code)
        flow = self.flow(project)
        answers = check_situations(flow.definition, situations)
        today = self.today()

        def licence_for(spec: dict[str, Any]) -> str | None:
            row = self.licence(project, spec, today)
            return None if row is None else str(row["number"])

        result = guide(flow.definition, answers, set(project.approved_items), licence_for)
        return {
            "project_code": project.code,
            "flow_code": flow.code,
            "flow_version": flow.version,
            "flow_name": flow.definition["name"],
            "situations": sorted(answers),
            "on": today.isoformat(),
            **result,
        }
