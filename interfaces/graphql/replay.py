"""Nodes built from aggregates replayed from the log (for `asOf`), through the same views."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any, cast

from strawberry.scalars import JSON

from domain.approvals import Case as CaseAggregate
from domain.projects import Project as ProjectAggregate
from domain.shared.reference import REFERENCE
from interfaces.graphql.types import (
    CaseFacts,
    Owner,
    Project,
    Transition,
    UnitWork,
    status_of,
)
from projections.case_timeline import DETAIL_SKIP
from projections.project_overview import stage_reached


def case_facts(events: list[Any]) -> CaseFacts:
    """Replay a case event by event, recording the status after each one."""
    aggregate: Any = None
    transitions: list[Transition] = []
    for event in events:
        aggregate = event.mutate(aggregate)
        detail = {
            f.name: _plain(getattr(event, f.name)) for f in dataclasses.fields(event) if f.name not in DETAIL_SKIP
        }
        transitions.append(
            Transition(
                seq=event.originator_version,
                position=None,
                event_type=type(event).__qualname__,
                status=status_of(int(aggregate.status)),
                business_time=event.business_time,
                recorded_at=event.timestamp,
                actor_id=event.actor_id,
                actor_role=event.actor_role,
                actor_org=event.actor_org,
                channel=str(event.channel),
                request_id=event.request_id,
                detail=cast(JSON, detail),
            )
        )
    case: CaseAggregate = aggregate
    first = events[0]
    row = {
        "case_id": str(case.id),
        "project_code": case.project_code,
        "item_code": case.item_code,
        "item_name": case.item_name,
        "stage": case.stage,
        "department": case.department,
        "region_code": case.region_code,
        "applicant_org": case.applicant_org,
        "status_code": int(case.status),
        "received_at": first.business_time.isoformat(),
        "limit_days": case.limit_days,
        "legal_limit_days": getattr(events[1], "legal_limit_days", None) if len(events) > 1 else None,
        "corrections": case.corrections,
        "back_entered": case.back_entered,
        "channel": str(first.channel),
        "last_position": None,
    }
    return CaseFacts(row=row, clock=case.clock, transitions=transitions)


def project_from(project: ProjectAggregate) -> Project:
    return Project(
        code=project.code,
        name=project.name,
        owner=Owner(name=project.owner_name, uscc=project.owner_uscc),
        region_code=project.region_code,
        region_name=REFERENCE.regions[project.region_code].name,
        unit_code=REFERENCE.unit_of(project.region_code),
        flow_type=project.flow_type,
        flow_type_name=REFERENCE.flow_types[project.flow_type],
        investment_type=project.investment_type,
        category=project.category,
        total_investment=str(project.total_investment),
        planned_start=project.planned_start,
        planned_end=project.planned_end,
        red_line=cast(JSON | None, project.red_line),
        land_supply_mode=project.land_supply_mode,
        parcel_codes=list(project.parcel_codes),
        unit_works=[UnitWork(code=c, name=n) for c, n in project.unit_works.items()],
        stage_reached=stage_reached(sorted(project.approved_items)),
        approved_items=sorted(project.approved_items),
        case_count=None,
        merged_into=project.merged_into,
        merged_codes=list(project.merged_codes),
        generated_at=project.created_on,
        position=None,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict | str | int | float | bool) or value is None:
        return value
    return str(value)
