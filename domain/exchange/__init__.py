"""数据共享 — facts reported by other systems (licence library, industry systems, real-estate
registration, city systems, public resource trading)."""

from domain.exchange.delivery import TOPICS, Delivery, DeliveryState, RetrySchedule, delivery_id
from domain.exchange.external_record import UPSTREAM_FIELDS, ExternalRecord, RecordKind, Source, external_record_id

__all__ = [
    "TOPICS",
    "UPSTREAM_FIELDS",
    "Delivery",
    "DeliveryState",
    "ExternalRecord",
    "RecordKind",
    "RetrySchedule",
    "Source",
    "delivery_id",
    "external_record_id",
]
