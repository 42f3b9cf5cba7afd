"""预警处置 — the WarningDisposition aggregate: what officers did about one warning.

Warnings themselves are computed by a read model (offline_warnings) and are not aggregates; their
dispositions are facts, recorded here. The aggregate has no creation event of its own: it comes
into being with the first disposition, whichever it is, so each of its three events can both
create it (first) and change it (later). Its id is derived from the warning id, so two officers
acting on a new warning at once cannot create it twice.

States: new → acknowledged → linked → closed, with the shortcuts in `ALLOWED`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, TypeVar, cast
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, CanInitAggregate, CanMutateAggregate
from eventsourcing.utils import get_topic

from domain.projects.project import NAMESPACE
from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import AuditedEvent, Meta

T = TypeVar("T")


class DispositionStatus(StrEnum):
    NEW = "new"  # no disposition yet (the aggregate does not exist)
    ACKNOWLEDGED = "acknowledged"  # 已签收
    LINKED = "linked"  # 已关联问责
    CLOSED = "closed"  # 已说明关闭


ALLOWED: dict[DispositionStatus, frozenset[str]] = {
    DispositionStatus.NEW: frozenset({"acknowledge", "link-to-inquiry", "close"}),
    DispositionStatus.ACKNOWLEDGED: frozenset({"link-to-inquiry", "close"}),
    # a linked warning may still be closed as explained once its inquiry found it justified
    DispositionStatus.LINKED: frozenset({"close"}),
    DispositionStatus.CLOSED: frozenset(),
}


def warning_disposition_id(warning_id: str) -> UUID:
    return uuid5(NAMESPACE, f"warning:{warning_id}")


class WarningDisposition(Aggregate):
    """预警处置 — the dispositions of one warning: acknowledged, linked to an inquiry, closed."""

    class Event(AuditedEvent, Aggregate.Created):
        """Every disposition event may be the first one, which creates the aggregate."""

        STATUS: ClassVar[DispositionStatus]
        warning_id: str

        def mutate(self, aggregate: Any) -> Any:
            if aggregate is None:
                return CanInitAggregate.mutate(self, None)
            return CanMutateAggregate.mutate(self, aggregate)

        def apply(self, aggregate: WarningDisposition) -> None:
            aggregate.status = self.STATUS

    class Acknowledged(Event):
        """预警签收 — an officer acknowledged the warning (确认/签收)."""

        STATUS = DispositionStatus.ACKNOWLEDGED
        note: str

    class LinkedToInquiry(Event):
        """关联问责 — the warning became part of an accountability inquiry."""

        STATUS = DispositionStatus.LINKED
        inquiry_id: UUID

        def apply(self, aggregate: WarningDisposition) -> None:
            super().apply(aggregate)
            aggregate.inquiry_ids.append(self.inquiry_id)

    class ClosedAsExplained(Event):
        """说明后关闭 — the warning was closed with an explanation (no further action)."""

        STATUS = DispositionStatus.CLOSED
        explanation: str

    def __init__(self, warning_id: str) -> None:
        self.warning_id = warning_id
        self.status = DispositionStatus.NEW
        self.inquiry_ids: list[UUID] = []

    # --- commands ------------------------------------------------------------------------------

    @classmethod
    def record(
        cls, existing: WarningDisposition | None, warning_id: str, action: str, meta: Meta, **fields: Any
    ) -> WarningDisposition:
        """Record a disposition on the warning's aggregate, creating it on the first one."""
        event_class = {
            "acknowledge": cls.Acknowledged,
            "link-to-inquiry": cls.LinkedToInquiry,
            "close": cls.ClosedAsExplained,
        }[action]
        if existing is None:
            _check(DispositionStatus.NEW, warning_id, action)
            created = cls._create(
                event_class,
                id=warning_disposition_id(warning_id),
                originator_topic=get_topic(cls),
                warning_id=warning_id,
                **fields,
                **meta.fields(),
            )
            return cast(WarningDisposition, created)
        _check(existing.status, warning_id, action)
        existing.trigger_event(
            event_class, originator_topic=get_topic(cls), warning_id=warning_id, **fields, **meta.fields()
        )
        return existing

    @classmethod
    def acknowledge(
        cls, existing: WarningDisposition | None, warning_id: str, meta: Meta, note: str
    ) -> WarningDisposition:
        return cls.record(existing, warning_id, "acknowledge", meta, note=note.strip())

    @classmethod
    def link(
        cls, existing: WarningDisposition | None, warning_id: str, meta: Meta, inquiry_id: UUID
    ) -> WarningDisposition:
        return cls.record(existing, warning_id, "link-to-inquiry", meta, inquiry_id=inquiry_id)

    @classmethod
    def close(
        cls, existing: WarningDisposition | None, warning_id: str, meta: Meta, explanation: str
    ) -> WarningDisposition:
        if not explanation.strip():
            raise InvalidValue("explanation", "closing a warning needs the explanation it was closed on", "required")
        return cls.record(existing, warning_id, "close", meta, explanation=explanation.strip())


def _check(status: DispositionStatus, warning_id: str, action: str) -> None:
    if action not in ALLOWED[status]:
        raise IllegalTransition(f"warning {warning_id}", status.value, action)
