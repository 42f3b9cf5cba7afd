"""多规合一 — the multi-plan platform's messages about a project code: departments' pre-project
opinions and planning control lines. They may arrive before the project is generated; generation
(and land supply) then checks the red line against the control lines (`control_lines`)."""

from __future__ import annotations

from typing import Any

from application.base import Service
from application.commands import Invocation
from application.commands.multiplan import ControlLineReceived, OpinionReceived, ReceiveControlLine, ReceiveOpinion
from application.policy import Actor, authorize
from domain.industry.multiplan import MultiPlanRecord, multiplan_id
from domain.projects import Project, project_id
from domain.shared.codes import validate_project_code, validate_region
from domain.shared.events import Meta


class MultiPlanService(Service):
    def _record(self, meta: Meta, project_code: str) -> MultiPlanRecord:
        return self.find(MultiPlanRecord, multiplan_id(project_code)) or MultiPlanRecord.open(meta, project_code)

    def receive_opinion(self, by: Invocation, command: ReceiveOpinion) -> OpinionReceived:
        """前期意见 received from the platform."""
        c = command
        code = validate_project_code(c.project_code, "project_code")
        authorize(by.actor, "multiplan.receive")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            record = self._record(meta, code)
            record.receive_opinion(
                meta,
                department=c.department,
                conclusion=c.conclusion,
                opinion=c.opinion,
                conditions=list(c.conditions),
                document_number=c.document_number,
                issued_on=c.issued_on,
            )
            return [record], {"id": str(record.id), "project_code": code, "opinions": len(record.opinions)}

        return OpinionReceived.of(self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work))

    def receive_line(self, by: Invocation, command: ReceiveControlLine) -> ControlLineReceived:
        """规划控制线 received from the platform (checked at the next generation or land supply)."""
        code, kind, name, geometry = command.code, command.kind, command.name, command.geometry
        pcode = validate_project_code(command.project_code, "project_code")
        region = validate_region(command.region_code)
        authorize(by.actor, "multiplan.receive", region_code=region)

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            record = self._record(meta, pcode)
            record.receive_line(meta, code=code, kind=kind, name=name, geometry=geometry, region_code=region)
            return [record], {"id": str(record.id), "project_code": pcode, "control_lines": sorted(record.lines)}

        return ControlLineReceived.of(self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work))

    def control_lines(self, project_code: str) -> list[dict[str, Any]]:
        record = self.find(MultiPlanRecord, multiplan_id(project_code))
        return list(record.lines.values()) if record is not None else []

    def overview(self, actor: Actor, project_code: str) -> dict[str, Any]:
        """What the project overview shows: opinions, control lines and the conflicts recorded."""
        project = self.find(Project, project_id(project_code))
        if project is not None:
            authorize(actor, "read", owner_org=project.owner_uscc, region_code=project.region_code)
        else:
            authorize(actor, "multiplan.receive")
        record = self.find(MultiPlanRecord, multiplan_id(project_code))
        conflicts = [c for c in project.blueprint.conflicts if c["rule"] == "control_line"] if project else []
        return {
            "project_code": project_code,
            "opinions": list(record.opinions.values()) if record else [],
            "control_lines": [dict(line) for line in record.lines.values()] if record else [],
            "conflicts": conflicts,
        }
