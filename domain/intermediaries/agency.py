"""中介机构 — the Agency aggregate of the intermediary marketplace (中介超市): an organisation with
its USCC, qualifications (type, level, valid until) and the service types it offers; suspended
agencies take no new orders. One agency per USCC: the id is derived from it."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.projects.project import NAMESPACE
from domain.shared.codes import validate_region, validate_uscc
from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import AuditedEvent, Meta

# 服务类型 — what the marketplace sells; a qualification's type names the service it qualifies for
SERVICE_TYPES: dict[str, str] = {
    "surveying": "工程测绘",
    "geotechnical_investigation": "岩土工程勘察",
    "environmental_assessment": "环境影响评价",
    "seismic_assessment": "地震安全性评价",
    "traffic_assessment": "交通影响评价",
    "design": "工程设计",
    "drawing_review": "施工图审查",
    "cost_consulting": "工程造价咨询",
}
LEVELS = ("甲级", "乙级", "丙级", "专业")
MAX_NAME = 200


def agency_id(uscc: str) -> UUID:
    return uuid5(NAMESPACE, f"agency:{uscc}")


def check_service_type(value: str, field: str = "service_type") -> str:
    if value not in SERVICE_TYPES:
        raise InvalidValue(field, f"one of {sorted(SERVICE_TYPES)}", "service_type_unknown")
    return value


def check_qualifications(raw: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Qualifications as stored: {type, level, valid_until (ISO date)}, at least one."""
    if not raw:
        raise InvalidValue("qualifications", "an agency needs at least one qualification", "required")
    checked = []
    for i, q in enumerate(raw):
        check_service_type(str(q.get("type", "")), f"qualifications.{i}.type")
        if q.get("level") not in LEVELS:
            raise InvalidValue(f"qualifications.{i}.level", f"one of {list(LEVELS)}", "level_unknown")
        until = q.get("valid_until")
        try:
            day = until if isinstance(until, date) else date.fromisoformat(str(until))
        except ValueError:
            raise InvalidValue(f"qualifications.{i}.valid_until", "a date YYYY-MM-DD", "date") from None
        checked.append({"type": str(q["type"]), "level": str(q["level"]), "valid_until": day.isoformat()})
    return checked


class Agency(Aggregate):
    """中介机构 — an intermediary service provider registered in the marketplace."""

    class Event(AuditedEvent):
        pass

    class Registered(Event, Aggregate.Created):
        """中介机构入驻 — an agency joined the marketplace with its qualifications and service types."""

        uscc: str
        name: str
        region_code: str
        qualifications: list[dict[str, str]]
        service_types: list[str]

    class Suspended(Event):
        """中介机构暂停 — the agency takes no new orders (e.g. after a bad record)."""

        reason: str

        def apply(self, aggregate: Agency) -> None:
            aggregate.suspended = True

    class Reinstated(Event):
        """中介机构恢复 — the suspension was lifted."""

        reason: str

        def apply(self, aggregate: Agency) -> None:
            aggregate.suspended = False

    def __init__(
        self, uscc: str, name: str, region_code: str, qualifications: list[dict[str, str]], service_types: list[str]
    ) -> None:
        self.uscc = uscc
        self.name = name
        self.region_code = region_code
        self.qualifications = qualifications
        self.service_types = service_types
        self.suspended = False

    @classmethod
    def register(
        cls,
        meta: Meta,
        *,
        uscc: str,
        name: str,
        region_code: str,
        qualifications: list[dict[str, Any]],
        service_types: list[str],
    ) -> Agency:
        code = validate_uscc(uscc, "uscc")
        if not name.strip() or len(name) > MAX_NAME:
            raise InvalidValue("name", f"required, at most {MAX_NAME} characters", "required")
        quals = check_qualifications(qualifications)
        types = sorted({check_service_type(t, "service_types") for t in service_types})
        if not types:
            raise InvalidValue("service_types", "an agency offers at least one service type", "required")
        unqualified = sorted(set(types) - {q["type"] for q in quals})
        if unqualified:
            raise InvalidValue("service_types", f"no qualification for {unqualified}", "unqualified_service")
        return cls._create(
            cls.Registered,
            id=agency_id(code),
            uscc=code,
            name=name.strip(),
            region_code=validate_region(region_code),
            qualifications=quals,
            service_types=types,
            **meta.fields(),
        )

    def suspend(self, meta: Meta, reason: str) -> None:
        if self.suspended:
            raise IllegalTransition(f"agency {self.uscc}", "suspended", "suspend")
        self.trigger_event(self.Suspended, reason=_reason(reason), **meta.fields())

    def reinstate(self, meta: Meta, reason: str) -> None:
        if not self.suspended:
            raise IllegalTransition(f"agency {self.uscc}", "active", "reinstate")
        self.trigger_event(self.Reinstated, reason=_reason(reason), **meta.fields())

    def problem_for(self, service_type: str, on: date) -> str | None:
        """Why the agency may not serve this type on this day, or None when it may."""
        if self.suspended:
            return f"agency {self.uscc} is suspended"
        if service_type not in self.service_types:
            return f"agency {self.uscc} does not offer {service_type}"
        if not any(
            q["type"] == service_type and date.fromisoformat(q["valid_until"]) >= on for q in self.qualifications
        ):
            return f"agency {self.uscc} holds no valid {service_type} qualification on {on.isoformat()}"
        return None

    def qualification_for(self, service_type: str, on: date) -> dict[str, str] | None:
        valid = [
            q for q in self.qualifications if q["type"] == service_type and date.fromisoformat(q["valid_until"]) >= on
        ]
        return valid[0] if valid else None


def _reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise InvalidValue("reason", "a reason is required", "required")
    return reason.strip()
