"""一张蓝图 — admins import control-plan zones and regional assessment areas (REST or
`gongjian import blueprint FILE.geojson`); a changed feature is a replacement event, the same one
again writes nothing; a retirement is an event too.

Project commands see the blueprint through the port `BlueprintLookup` (application/ports.py): the
zones and areas whose bounding box meets a red line, from the `blueprint` read model as of the log head.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from application.base import Service
from application.commands import Invocation
from application.commands.blueprint import (
    FeaturesImported,
    ImportAssessmentArea,
    ImportFeatures,
    ImportZone,
    LayerImported,
    LayerRetired,
    RetireLayer,
)
from application.policy import authorize
from domain.blueprint.plan import (
    AREA_CONTENT,
    ZONE_CONTENT,
    AssessmentArea,
    PlanZone,
    assessment_area_id,
    validate_code,
    zone_id,
)
from domain.shared.errors import DomainError, InvalidValue
from domain.shared.events import Meta

LAYERS = ("zone", "assessment_area")


class _Unchanged(Exception):
    def __init__(self, aggregate: PlanZone | AssessmentArea) -> None:
        self.aggregate = aggregate


class BlueprintService(Service):
    def import_zone(self, by: Invocation, command: ImportZone) -> LayerImported:
        """控规导入: a new zone, or a replacement when the code exists and the content changed."""
        region_code, content = command.region_code, {f: getattr(command, f) for f in ZONE_CONTENT}
        authorize(by.actor, "blueprint.import", region_code=region_code)
        code = validate_code(command.code)

        def work(meta: Meta) -> tuple[list[PlanZone], dict[str, Any]]:
            zone = self.find(PlanZone, zone_id(code))
            if zone is None:
                zone = PlanZone.import_(meta, code=code, region_code=region_code, **content)
                return [zone], {"id": str(zone.id), "code": code, "created": True, "unchanged": False}
            if not zone.replace(meta, **content):
                raise _Unchanged(zone)
            return [zone], {"id": str(zone.id), "code": code, "created": False, "unchanged": False}

        return self._run(by, work, code)

    def import_assessment_area(self, by: Invocation, command: ImportAssessmentArea) -> LayerImported:
        """区域评估导入: a new area, or a replacement when the code exists and the content changed."""
        region_code, content = command.region_code, {f: getattr(command, f) for f in AREA_CONTENT}
        authorize(by.actor, "blueprint.import", region_code=region_code)
        code = validate_code(command.code)

        def work(meta: Meta) -> tuple[list[AssessmentArea], dict[str, Any]]:
            area = self.find(AssessmentArea, assessment_area_id(code))
            if area is None:
                area = AssessmentArea.import_(meta, code=code, region_code=region_code, **content)
                return [area], {"id": str(area.id), "code": code, "created": True, "unchanged": False}
            if not area.replace(meta, **content):
                raise _Unchanged(area)
            return [area], {"id": str(area.id), "code": code, "created": False, "unchanged": False}

        return self._run(by, work, code)

    def retire(self, by: Invocation, command: RetireLayer) -> LayerRetired:
        """废止: a zone or an assessment area stops applying to checks from now on."""
        actor, layer, code, reason = by.actor, command.layer, command.code, command.reason
        cls: type[PlanZone] | type[AssessmentArea] = PlanZone if layer == "zone" else AssessmentArea
        ident = zone_id(code) if layer == "zone" else assessment_area_id(code)

        def work(meta: Meta) -> tuple[list[PlanZone | AssessmentArea], dict[str, Any]]:
            aggregate = self.load(cls, ident, f"{layer} {code}")
            authorize(actor, "blueprint.retire", region_code=aggregate.region_code)
            aggregate.retire(meta, reason=reason)
            return [aggregate], {"id": str(aggregate.id), "code": code}

        return LayerRetired.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def _run(self, by: Invocation, work: Any, code: str) -> LayerImported:
        try:
            return LayerImported.of(self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work))
        except _Unchanged as same:
            agg = same.aggregate
            position = self.position_of(agg.id, agg.version) or self.app.max_position()
            return LayerImported(id=agg.id, code=code, created=False, unchanged=True, position=position)

    def import_features(self, by: Invocation, command: ImportFeatures) -> FeaturesImported:
        """A GeoJSON FeatureCollection's features, each `properties.layer` ∈ zone | assessment_area.
        Each feature is its own command: a bad one is reported by index and rule, the others go in."""
        counts = {"created": 0, "replaced": 0, "unchanged": 0, "rejected": 0}
        errors: list[dict[str, Any]] = []
        for i, feature in enumerate(command.features):
            try:
                layer, fields = feature_fields(dict(feature))
                one = Invocation(by.actor, f"{by.request_id}-{i}")
                if layer == "zone":
                    result = self.import_zone(one, ImportZone(**fields))
                else:
                    result = self.import_assessment_area(one, ImportAssessmentArea(**fields))
            except InvalidValue as exc:
                counts["rejected"] += 1
                errors.append({"feature": i, "field": exc.field, "rule": exc.rule, "message": exc.message})
                continue
            except DomainError as exc:
                counts["rejected"] += 1
                errors.append({"feature": i, "field": "", "rule": type(exc).__name__, "message": str(exc)})
                continue
            counts["unchanged" if result.unchanged else "created" if result.created else "replaced"] += 1
        return FeaturesImported(counts, errors)


def feature_fields(feature: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A feature's layer and the import command's fields, parsed (bad values are InvalidValue)."""
    props = dict(feature.get("properties") or {})
    layer = props.pop("layer", None)
    if layer not in LAYERS:
        raise InvalidValue("properties.layer", f"must be one of {list(LAYERS)}", "enum")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        raise InvalidValue("geometry", "a feature needs a Polygon or MultiPolygon geometry", "required")
    fields: dict[str, Any] = {
        "code": str(props.get("code", "")),
        "region_code": str(props.get("region_code", "")),
        "name": str(props.get("name", "")),
        "geometry": geometry,
    }
    if layer == "zone":
        uses = props.get("land_uses", [])
        fields |= {
            "land_uses": [str(u) for u in (uses.split("/") if isinstance(uses, str) else uses)],
            "max_plot_ratio": _decimal(props.get("max_plot_ratio"), "properties.max_plot_ratio"),
            "height_limit_m": _decimal(props.get("height_limit_m"), "properties.height_limit_m"),
            "plan_name": str(props.get("plan_name", "")),
        }
    else:
        fields |= {
            "kind": str(props.get("kind", "")),
            "result": str(props.get("result", "")),
            "valid_from": _date(props.get("valid_from"), "properties.valid_from", required=True),
            "valid_until": _date(props.get("valid_until"), "properties.valid_until"),
        }
    return str(layer), fields


def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise InvalidValue(field, f"{value!r} is not a number", "decimal") from None


def _date(value: Any, field: str, *, required: bool = False) -> Any:
    if value is None or value == "":
        if required:
            raise InvalidValue(field, "a date is required", "required")
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidValue(field, f"{value!r} is not an ISO date", "date") from None
