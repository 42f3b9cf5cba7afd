"""外部数据 — the ExternalRecord aggregate: one fact reported by another system, keyed by
(source, source id), so a repeated report writes nothing new and a changed one is an amendment."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.catalog import CATALOG
from domain.projects.project import NAMESPACE
from domain.shared.codes import validate_project_code
from domain.shared.errors import InvalidValue
from domain.shared.events import AuditedEvent, Meta


class Source(StrEnum):
    """来源系统 — who reports."""

    LICENSE_LIBRARY = "license_library"  # 证照库
    INDUSTRY_SYSTEM = "industry_system"  # 行业审批系统 (住建, 消防 …)
    REAL_ESTATE_REGISTRATION = "real_estate_registration"  # 不动产登记
    CITY_SYSTEM = "city_system"  # 市县工建系统 (e.g. Haikou's)
    PUBLIC_RESOURCE_TRADING = "public_resource_trading"  # 公共资源交易
    UTILITY_PROVIDER = "utility_provider"  # 水电气 providers (水务, 供电, 燃气)


class RecordKind(StrEnum):
    """What was reported."""

    LICENSE = "license"  # a licence or certificate found in the licence library (电子证照)
    PLANNING_PERMIT = "planning_permit"  # 建设用地/建设工程规划许可证 (YDGHXKZBH / GCGHXKZBH)
    DRAWING_REVIEW_CERTIFICATE = "drawing_review_certificate"  # 施工图审查合格书 (SCHGSBH)
    CONSTRUCTION_PERMIT = "construction_permit"  # 施工许可证 (SGXKZBH)
    COMPLETION_FILING = "completion_filing"  # 竣工验收备案 (JGYSBABH)
    REAL_ESTATE_REGISTRATION = "real_estate_registration"  # 不动产登记
    TENDER_AWARD = "tender_award"  # 中标通知书 (ZBTZSBH)
    STATUS_ROW = "status_row"  # a case status transition in another system (SPGL_XMSPSXBLXXXXB)
    UTILITY_PROGRESS = "utility_progress"  # 水电气报装进度: accepted / surveyed / connected on a date


UTILITIES = ("water", "power", "gas")  # department of a utility_progress record
UTILITY_STAGES = ("accepted", "surveyed", "connected")  # payload.stage: 受理, 勘察, 接入


CERTIFICATE_KINDS = frozenset(RecordKind) - {RecordKind.STATUS_ROW, RecordKind.UTILITY_PROGRESS}

# Upstream certificate numbers a downstream certificate cites (reference/spgl.md field names).
UPSTREAM_FIELDS: dict[str, str] = {
    "YDGHXKZBH": "建设用地规划许可证编号",
    "GCGHXKZBH": "建设工程规划许可证编号",
    "SCHGSBH": "施工图审查合格书编号",
    "SGXKZBH": "施工许可证编号",
    "ZBTZSBH": "中标通知书编号",
}


def external_record_id(source: str, source_id: str) -> UUID:
    return uuid5(NAMESPACE, f"external:{source}:{source_id}")


class ExternalRecord(Aggregate):
    """外部数据 — a fact another system reported, with its provenance."""

    class Event(AuditedEvent):
        source: str
        source_id: str
        kind: str
        project_code: str | None
        item_code: str | None
        number: str | None
        issued_on: date | None
        upstream: dict[str, str]
        case_ref: str | None
        status_code: int | None
        source_system: str | None
        department: str | None
        payload: dict[str, Any]
        content_hash: str

        def apply(self, aggregate: ExternalRecord) -> None:
            aggregate.content_hash = self.content_hash
            aggregate.number = self.number

    class Reported(Event, Aggregate.Created):
        """外部数据上报 — another system reported a fact (a certificate, a registration, a status row)."""

    class Amended(Event):
        """外部数据更正 — the same record was reported again with different content."""

    def __init__(self, content_hash: str, number: str | None) -> None:
        self.content_hash = content_hash
        self.number = number

    @staticmethod
    def validate(fields: dict[str, Any]) -> dict[str, Any]:
        """Check a report; returns the normalised fields with their content hash."""
        f = dict(fields)
        if f["source"] not in Source.__members__.values():
            raise InvalidValue("source", f"unknown source; one of {[s.value for s in Source]}", "source_unknown")
        if not str(f["source_id"]).strip():
            raise InvalidValue("source_id", "the source's own id of the record is required", "required")
        if f["kind"] not in RecordKind.__members__.values():
            raise InvalidValue("kind", f"unknown kind; one of {[k.value for k in RecordKind]}", "kind_unknown")
        if f.get("project_code"):
            f["project_code"] = validate_project_code(f["project_code"], "project_code")
        if f.get("item_code"):
            CATALOG.item(f["item_code"])
        kind = RecordKind(f["kind"])
        if kind in CERTIFICATE_KINDS and not f.get("number"):
            raise InvalidValue("number", f"a {kind.value} needs its certificate number", "required")
        if kind == RecordKind.STATUS_ROW:
            for name in ("case_ref", "status_code", "source_system"):
                if f.get(name) in (None, ""):
                    raise InvalidValue(name, "a status row needs case_ref, status_code and source_system", "required")
            if not 1 <= int(f["status_code"]) <= 15:
                raise InvalidValue("status_code", "a BLZT status code of case_status.csv (1–15)", "status_unknown")
        if kind == RecordKind.UTILITY_PROGRESS:
            _check_utility_progress(f)
        unknown = sorted(set(f.get("upstream") or {}) - set(UPSTREAM_FIELDS))
        if unknown:
            raise InvalidValue(
                "upstream", f"unknown upstream fields {unknown}; known: {sorted(UPSTREAM_FIELDS)}", "upstream_unknown"
            )
        f["upstream"] = {k: str(v).strip() for k, v in (f.get("upstream") or {}).items() if str(v).strip()}
        canonical = json.dumps({k: f.get(k) for k in sorted(f) if k != "payload"}, sort_keys=True, default=str)
        f["content_hash"] = hashlib.sha256(canonical.encode()).hexdigest()
        return f

    @classmethod
    def report(cls, meta: Meta, fields: dict[str, Any]) -> ExternalRecord:
        f = cls.validate(fields)
        return cls._create(
            cls.Reported, id=external_record_id(f["source"], f["source_id"]), **_event_fields(f), **meta.fields()
        )

    def amend(self, meta: Meta, fields: dict[str, Any]) -> bool:
        """Record changed content; False (and nothing recorded) when it is the same report again."""
        f = self.validate(fields)
        if f["content_hash"] == self.content_hash:
            return False
        self.trigger_event(self.Amended, **_event_fields(f), **meta.fields())
        return True


def _check_utility_progress(f: dict[str, Any]) -> None:
    """水电气报装: which utility (department), for which project, which stage (payload.stage) on which day."""
    if f.get("department") not in UTILITIES:
        raise InvalidValue("department", f"the utility: one of {list(UTILITIES)}", "utility_unknown")
    if not f.get("project_code"):
        raise InvalidValue("project_code", "a utility progress report names its project", "required")
    if (f.get("payload") or {}).get("stage") not in UTILITY_STAGES:
        raise InvalidValue("payload.stage", f"one of {list(UTILITY_STAGES)}", "utility_stage_unknown")
    if f.get("issued_on") is None:
        raise InvalidValue("issued_on", "the date the stage was reached", "required")


def _event_fields(f: dict[str, Any]) -> dict[str, Any]:
    names = (
        "source",
        "source_id",
        "kind",
        "project_code",
        "item_code",
        "number",
        "issued_on",
        "upstream",
        "case_ref",
        "status_code",
        "source_system",
        "department",
        "payload",
        "content_hash",
    )
    return {name: f.get(name) if name not in ("upstream", "payload") else (f.get(name) or {}) for name in names}
