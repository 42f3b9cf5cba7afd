"""数据共享 — facts reported by other systems (licence library, industry systems, real-estate
registration, city systems, public resource trading)."""

from domain.exchange.external_record import UPSTREAM_FIELDS, ExternalRecord, RecordKind, Source, external_record_id

__all__ = ["UPSTREAM_FIELDS", "ExternalRecord", "RecordKind", "Source", "external_record_id"]
