"""多规合一 — the MultiPlanRecord aggregate: what the multi-plan platform sends about one project
code before and during generation: departments' pre-project opinions (前期意见, the national
tables' optional pre-project opinion table) and planning control lines (规划控制线: ecological
red line, permanent basic farmland, urban development boundary …, the optional control-line
table). Generation reads the control lines: a red line crossing a prohibitive one is a conflict of
the blueprint check, like a zone's height limit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate
from shapely.geometry import shape

from domain.blueprint.check import MIN_OVERLAP_M2, geodesic_area_m2
from domain.projects.project import NAMESPACE
from domain.shared.errors import Conflict, InvalidValue
from domain.shared.events import AuditedEvent, Meta
from domain.shared.geometry import validate_red_line


class Conclusion(StrEnum):
    """意见结论."""

    AGREE = "agree"  # 同意
    CONDITIONAL = "conditional"  # 有条件同意
    DISAGREE = "disagree"  # 不同意


class LineKind(StrEnum):
    """控制线类型."""

    ECOLOGICAL = "ecological_protection"  # 生态保护红线
    FARMLAND = "permanent_basic_farmland"  # 永久基本农田
    URBAN_BOUNDARY = "urban_development_boundary"  # 城镇开发边界
    HERITAGE = "historical_protection"  # 历史文化保护线
    WATER = "water_body"  # 蓝线
    GREEN = "green_space"  # 绿线


# a red line may not enter these; the urban development boundary is the other way round (stay inside)
PROHIBITIVE = frozenset({LineKind.ECOLOGICAL, LineKind.FARMLAND, LineKind.HERITAGE, LineKind.WATER, LineKind.GREEN})


def multiplan_id(project_code: str) -> UUID:
    return uuid5(NAMESPACE, f"multi-plan:{project_code}")


def _enum(cls: type[StrEnum], value: str, field: str) -> str:
    if value not in cls.__members__.values():
        raise InvalidValue(field, f"one of {[m.value for m in cls]}", "enum")
    return value


class MultiPlanRecord(Aggregate):
    """多规合一 — pre-project opinions and control lines received for one project code."""

    class Event(AuditedEvent):
        pass

    class Opened(Event, Aggregate.Created):
        """多规合一建档 — the platform's first message about this project code."""

        project_code: str

    class OpinionReceived(Event):
        """前期意见 — a department's pre-project opinion (conclusion, text, conditions, document)."""

        department: str
        conclusion: str
        opinion: str
        conditions: list[str]
        document_number: str
        issued_on: date

        def apply(self, aggregate: MultiPlanRecord) -> None:
            aggregate.opinions[self.department] = {
                "department": self.department,
                "conclusion": self.conclusion,
                "opinion": self.opinion,
                "conditions": list(self.conditions),
                "document_number": self.document_number,
                "issued_on": self.issued_on.isoformat(),
            }

    class ControlLineReceived(Event):
        """规划控制线 — a control line the project must respect (GeoJSON, lon/lat)."""

        code: str
        kind: str
        name: str
        geometry: dict[str, Any]

        def apply(self, aggregate: MultiPlanRecord) -> None:
            aggregate.lines[self.code] = {
                "code": self.code,
                "kind": self.kind,
                "name": self.name,
                "geometry": self.geometry,
            }

    def __init__(self, project_code: str) -> None:
        self.project_code = project_code
        self.opinions: dict[str, dict[str, Any]] = {}  # latest per department
        self.lines: dict[str, dict[str, Any]] = {}

    @classmethod
    def open(cls, meta: Meta, project_code: str) -> MultiPlanRecord:
        return cls._create(cls.Opened, id=multiplan_id(project_code), project_code=project_code, **meta.fields())

    def receive_opinion(
        self,
        meta: Meta,
        *,
        department: str,
        conclusion: str,
        opinion: str,
        conditions: list[str],
        document_number: str,
        issued_on: date,
    ) -> None:
        if not department.strip():
            raise InvalidValue("department", "the opinion's department is required", "required")
        _enum(Conclusion, conclusion, "conclusion")
        if conclusion == Conclusion.CONDITIONAL and not conditions:
            raise InvalidValue("conditions", "a conditional opinion lists its conditions", "required")
        fields: dict[str, Any] = {
            "department": department.strip(),
            "conclusion": conclusion,
            "opinion": opinion.strip(),
            "conditions": [c.strip() for c in conditions if c.strip()],
            "document_number": document_number.strip(),
            "issued_on": issued_on,
        }
        if self.opinions.get(fields["department"]) == {**fields, "issued_on": issued_on.isoformat()}:
            raise Conflict(f"this opinion of {department} was already received")
        self.trigger_event(self.OpinionReceived, **fields, **meta.fields())

    def receive_line(
        self, meta: Meta, *, code: str, kind: str, name: str, geometry: dict[str, Any], region_code: str
    ) -> None:
        if not code.strip():
            raise InvalidValue("code", "a control line needs its code", "required")
        _enum(LineKind, kind, "kind")
        validate_red_line(geometry, region_code)
        current = self.lines.get(code.strip())
        if current is not None and current["geometry"] == geometry and current["kind"] == kind:
            raise Conflict(f"control line {code} was already received unchanged")
        self.trigger_event(
            self.ControlLineReceived,
            code=code.strip(),
            kind=kind,
            name=name.strip(),
            geometry=geometry,
            **meta.fields(),
        )


def control_line_conflicts(red_line: dict[str, Any], lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Conflicts in the blueprint check's shape: a red line entering a prohibitive control line, or
    leaving the urban development boundary (by more than a sliver)."""
    red = shape(red_line)
    found = []
    for line in sorted(lines, key=lambda x: x["code"]):
        other = shape(line["geometry"])
        if line["kind"] == LineKind.URBAN_BOUNDARY:
            outside = geodesic_area_m2(red.difference(other))
            if outside >= MIN_OVERLAP_M2:
                found.append(
                    _conflict(
                        line, outside, f"超出城镇开发边界: {outside} m² of the red line lie outside {line['code']}"
                    )
                )
        elif line["kind"] in PROHIBITIVE:
            overlap = geodesic_area_m2(red.intersection(other))
            if overlap >= MIN_OVERLAP_M2:
                found.append(
                    _conflict(
                        line,
                        overlap,
                        f"压占规划控制线: {overlap} m² of the red line lie in {line['kind']} {line['code']}",
                    )
                )
    return found


def _conflict(line: dict[str, Any], area: Decimal, message: str) -> dict[str, Any]:
    return {
        "rule": "control_line",
        "zone_code": line["code"],
        "field": "red_line",
        "declared": str(area),
        "limit": "0",
        "message": message,
    }
