"""联合测绘 — the JointSurvey aggregate: one per project, the structured results of the one joint
survey (footprint, height, areas per storey and per unit, per unit work), recorded once and read
by planning verification (规划条件核实), completion acceptance and the real-estate registration
export. A correction is a new event with a reason; the results are never re-entered elsewhere."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.blueprint.check import area_m2
from domain.industry.facts import Building, Element, Facts, Storey, dec
from domain.projects.project import NAMESPACE
from domain.shared.errors import Conflict, InvalidValue
from domain.shared.events import AuditedEvent, Meta
from domain.shared.geometry import validate_red_line

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def survey_id(project_code: str) -> UUID:
    return uuid5(NAMESPACE, f"joint-survey:{project_code}")


def _positive(value: Any, where: str, *, zero: bool = False) -> str:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidValue(where, f"{value!r} is not a number", "decimal") from None
    if not number.is_finite() or number < 0 or (number == 0 and not zero):
        raise InvalidValue(where, "must be positive", "positive")
    return str(dec(number))


def check_buildings(raw: list[dict[str, Any]], unit_works: dict[str, str]) -> list[dict[str, Any]]:
    """Per unit work: name, height, storeys (name, elevation, height, area), units (number,
    storey, use, area). Every unit work code must be registered on the project, once."""
    if not raw:
        raise InvalidValue("buildings", "a survey covers at least one unit work", "required")
    seen: set[str] = set()
    out = []
    for i, b in enumerate(raw):
        code = str(b.get("unit_work_code", ""))
        if code not in unit_works:
            raise InvalidValue(
                f"buildings.{i}.unit_work_code", f"{code!r} is not a unit work of the project", "unit_work_unknown"
            )
        if code in seen:
            raise InvalidValue(f"buildings.{i}.unit_work_code", f"unit work {code} is surveyed twice", "duplicate")
        seen.add(code)
        storeys = [
            {
                "name": str(s.get("name", "")).strip() or f"{j + 1}F",
                "elevation_m": str(dec(Decimal(str(s.get("elevation_m", 0))))),
                "height_m": _positive(s.get("height_m", 0), f"buildings.{i}.storeys.{j}.height_m", zero=True),
                "gross_floor_area_m2": _positive(
                    s.get("gross_floor_area_m2"), f"buildings.{i}.storeys.{j}.gross_floor_area_m2"
                ),
            }
            for j, s in enumerate(b.get("storeys") or [])
        ]
        if not storeys:
            raise InvalidValue(f"buildings.{i}.storeys", "a surveyed building has at least one storey", "required")
        names = {s["name"] for s in storeys}
        units = []
        for k, u in enumerate(b.get("units") or []):
            storey = str(u.get("storey", ""))
            if storey not in names:
                raise InvalidValue(
                    f"buildings.{i}.units.{k}.storey", f"no storey {storey!r} in this building", "storey_unknown"
                )
            units.append(
                {
                    "number": str(u.get("number", "")).strip() or f"{k + 1}",
                    "storey": storey,
                    "use": str(u.get("use", "")).strip() or "未分类",
                    "floor_area_m2": _positive(u.get("floor_area_m2"), f"buildings.{i}.units.{k}.floor_area_m2"),
                }
            )
        out.append(
            {
                "unit_work_code": code,
                "name": str(b.get("name", "")).strip() or unit_works[code],
                "height_m": _positive(b.get("height_m"), f"buildings.{i}.height_m"),
                "storeys": storeys,
                "units": units,
            }
        )
    return out


def survey_facts(buildings: list[dict[str, Any]]) -> Facts:
    """The survey's results as building facts, so the same checks apply (elements: survey records)."""
    result = []
    for b in buildings:
        code = b["unit_work_code"]
        storeys = []
        for s in b["storeys"]:
            uses: dict[str, Decimal] = {}
            for u in b["units"]:
                if u["storey"] == s["name"]:
                    uses[u["use"]] = uses.get(u["use"], Decimal(0)) + Decimal(u["floor_area_m2"])
            element = Element(f"survey:{code}:{s['name']}", "SurveyStorey", s["name"])
            storeys.append(
                Storey(
                    element, Decimal(s["elevation_m"]), Decimal(s["height_m"]), Decimal(s["gross_floor_area_m2"]), uses
                )
            )
        element = Element(f"survey:{code}", "SurveyBuilding", b["name"])
        result.append(Building(element, code, tuple(storeys), Decimal(0), Decimal(b["height_m"])))
    return Facts("joint-survey", None, tuple(result))


class JointSurvey(Aggregate):
    """联合测绘 — the joint survey results of one project, recorded once."""

    class Event(AuditedEvent):
        pass

    class Recorded(Event, Aggregate.Created):
        """联合测绘成果 — the structured results of the joint survey, with findings against the
        planning conditions and the approved design."""

        project_code: str
        surveyor: str
        surveyor_uscc: str
        report_number: str
        report_sha256: str
        surveyed_on: date
        footprint: dict[str, Any]
        footprint_area_m2: str
        buildings: list[dict[str, Any]]
        findings: list[dict[str, Any]]

    class Corrected(Event):
        """联合测绘成果更正 — corrected results replace the recorded ones (the old stay in the log)."""

        reason: str
        report_number: str
        report_sha256: str
        surveyed_on: date
        footprint: dict[str, Any]
        footprint_area_m2: str
        buildings: list[dict[str, Any]]
        findings: list[dict[str, Any]]

        def apply(self, aggregate: JointSurvey) -> None:
            aggregate.report_number = self.report_number
            aggregate.report_sha256 = self.report_sha256
            aggregate.surveyed_on = self.surveyed_on
            aggregate.footprint = self.footprint
            aggregate.footprint_area_m2 = self.footprint_area_m2
            aggregate.buildings = self.buildings
            aggregate.findings = self.findings
            aggregate.corrections += 1

    def __init__(
        self,
        project_code: str,
        surveyor: str,
        surveyor_uscc: str,
        report_number: str,
        report_sha256: str,
        surveyed_on: date,
        footprint: dict[str, Any],
        footprint_area_m2: str,
        buildings: list[dict[str, Any]],
        findings: list[dict[str, Any]],
    ) -> None:
        self.project_code = project_code
        self.surveyor = surveyor
        self.surveyor_uscc = surveyor_uscc
        self.report_number = report_number
        self.report_sha256 = report_sha256
        self.surveyed_on = surveyed_on
        self.footprint = footprint
        self.footprint_area_m2 = footprint_area_m2
        self.buildings = buildings
        self.findings = findings
        self.corrections = 0

    @staticmethod
    def check_report(report_number: str, report_sha256: str, footprint: dict[str, Any], region_code: str) -> str:
        if not report_number.strip():
            raise InvalidValue("report_number", "the survey report's number is required", "required")
        if not SHA256_RE.match(report_sha256):
            raise InvalidValue("report_sha256", "a SHA-256 digest: 64 lower-case hex digits", "hash_format")
        validate_red_line(footprint, region_code)
        return str(area_m2(footprint))

    @classmethod
    def record(cls, meta: Meta, *, project_code: str, **fields: Any) -> JointSurvey:
        return cls._create(
            cls.Recorded, id=survey_id(project_code), project_code=project_code, **fields, **meta.fields()
        )

    def correct(self, meta: Meta, *, reason: str, **fields: Any) -> None:
        if not reason.strip():
            raise InvalidValue("reason", "a correction needs a reason", "required")
        if fields["buildings"] == self.buildings and fields["footprint"] == self.footprint:
            raise Conflict("the corrected results are the same as the recorded ones")
        self.trigger_event(self.Corrected, reason=reason.strip(), **fields, **meta.fields())

    def facts(self) -> Facts:
        return survey_facts(self.buildings)

    def export(self) -> dict[str, Any]:
        """What other systems receive (real-estate registration): the results as recorded."""
        return {
            "surveyor": self.surveyor,
            "surveyor_uscc": self.surveyor_uscc,
            "report_number": self.report_number,
            "report_sha256": self.report_sha256,
            "surveyed_on": self.surveyed_on.isoformat(),
            "footprint": self.footprint,
            "footprint_area_m2": self.footprint_area_m2,
            "gross_floor_area_m2": str(dec(self.facts().gross_floor_area_m2)),
            "buildings": self.buildings,
            "corrections": self.corrections,
        }
