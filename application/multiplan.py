"""多规合一 — the multi-plan platform's messages about a project code: departments' pre-project
opinions and planning control lines. They may arrive before the project is generated; generation
(and land supply) then checks the red line against the control lines (`control_lines`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from application.base import Service
from application.idempotency import IdempotencyKey
from application.policy import Actor, authorize
from domain.industry.multiplan import MultiPlanRecord, multiplan_id
from domain.projects import Project, project_id
from domain.shared.codes import validate_project_code, validate_region
from domain.shared.events import Meta


class MultiPlanService(Service):
    def _record(self, meta: Meta, project_code: str) -> MultiPlanRecord:
        return self.find(MultiPlanRecord, multiplan_id(project_code)) or MultiPlanRecord.open(meta, project_code)

    def receive_opinion(
        self,
        actor: Actor,
        request_id: str,
        key: IdempotencyKey | None,
        project_code: str,
        *,
        department: str,
        conclusion: str,
        opinion: str,
        conditions: list[str],
        document_number: str,
        issued_on: date,
    ) -> dict[str, Any]:
        """前期意见 received from the platform."""
        code = validate_project_code(project_code, "project_code")
        authorize(actor, "multiplan.receive")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            record = self._record(meta, code)
            record.receive_opinion(
                meta,
                department=department,
                conclusion=conclusion,
                opinion=opinion,
                conditions=conditions,
                document_number=document_number,
                issued_on=issued_on,
            )
            return [record], {"id": str(record.id), "project_code": code, "opinions": len(record.opinions)}

        return self.execute(self.meta(actor, request_id), actor, key, work)

    def receive_line(
        self,
        actor: Actor,
        request_id: str,
        key: IdempotencyKey | None,
        project_code: str,
        *,
        code: str,
        kind: str,
        name: str,
        geometry: dict[str, Any],
        region_code: str,
    ) -> dict[str, Any]:
        """规划控制线 received from the platform (checked at the next generation or land supply)."""
        pcode = validate_project_code(project_code, "project_code")
        region = validate_region(region_code)
        authorize(actor, "multiplan.receive", region_code=region)

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            record = self._record(meta, pcode)
            record.receive_line(meta, code=code, kind=kind, name=name, geometry=geometry, region_code=region)
            return [record], {"id": str(record.id), "project_code": pcode, "control_lines": sorted(record.lines)}

        return self.execute(self.meta(actor, request_id), actor, key, work)

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
