"""Every read model the engine runs, by name."""

from __future__ import annotations

from infrastructure.db import Database
from projections.audit_trail import AuditTrail
from projections.base import ReadModel
from projections.case_timeline import CaseTimeline
from projections.project_overview import ProjectOverview

READ_MODELS: tuple[type[ReadModel], ...] = (AuditTrail, CaseTimeline, ProjectOverview)


def all_read_models(db: Database) -> list[ReadModel]:
    return [cls(db) for cls in READ_MODELS]
