"""电子档案 — the ArchivePackage aggregate: one package of evidence about one case.

A package is generated once per closed case (its id is uuid5 of the case id, so a second
generation is a conflict, not a second package) or received from another system (id uuid5 of its
manifest hash). The bytes live outside the log (`location`); the events record their hashes, so
a fixity check re-hashes the stored bytes against `package_hash`.

Transfer to the archive management system is an outbox made of events: `TransferRequested`
marks the package pending; each attempt records `TransferFailed` (with the time of the next try,
or none when it gave up) or `TransferSucceeded` with the receipt.

States: generated | received → transfer_pending → transferred, or → transfer_failed (gave up),
from which a new transfer may be requested.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import AuditedEvent, Meta

_NAMESPACE = uuid5(NAMESPACE_URL, "https://gongjian.hainan.gov.cn/archives")


def archive_id_for_case(case_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"case:{case_id}")


def received_archive_id(manifest_hash: str) -> UUID:
    return uuid5(_NAMESPACE, f"received:{manifest_hash}")


class ArchiveStatus(StrEnum):
    """档案状态."""

    GENERATED = "generated"
    RECEIVED = "received"
    TRANSFER_PENDING = "transfer_pending"
    TRANSFERRED = "transferred"
    TRANSFER_FAILED = "transfer_failed"


ALLOWED: dict[ArchiveStatus, frozenset[str]] = {
    ArchiveStatus.GENERATED: frozenset({"request-transfer"}),
    ArchiveStatus.RECEIVED: frozenset({"request-transfer"}),
    ArchiveStatus.TRANSFER_PENDING: frozenset({"record-transfer-failure", "record-transfer-success"}),
    ArchiveStatus.TRANSFER_FAILED: frozenset({"request-transfer"}),
    ArchiveStatus.TRANSFERRED: frozenset(),
}


class ArchivePackage(Aggregate):
    """电子档案 — an archive package of one case: manifest, hashes, proofs, checkpoint."""

    class Event(AuditedEvent):
        pass

    class Generated(Event, Aggregate.Created):
        """归档 — a package was generated for a closed case; its bytes are stored at `location`."""

        case_id: str
        project_code: str
        item_code: str
        hash_algorithm: str
        manifest_hash: str
        package_hash: str
        package_size: int
        location: str
        events: int
        tree_size: int
        root_hash: str

        def apply(self, aggregate: ArchivePackage) -> None:
            aggregate.status = ArchiveStatus.GENERATED

    class Received(Event, Aggregate.Created):
        """档案接收 — an external package was received; its manifest, hashes and proofs verified."""

        source: str
        case_id: str
        project_code: str
        item_code: str
        hash_algorithm: str
        manifest_hash: str
        package_hash: str
        package_size: int
        location: str
        events: int
        tree_size: int
        root_hash: str

        def apply(self, aggregate: ArchivePackage) -> None:
            aggregate.status = ArchiveStatus.RECEIVED

    class TransferRequested(Event):
        """档案移交申请 — the package is to be transferred to the archive management system."""

        destination: str

        def apply(self, aggregate: ArchivePackage) -> None:
            aggregate.status = ArchiveStatus.TRANSFER_PENDING
            aggregate.attempts = 0
            aggregate.retry_at = None

    class TransferFailed(Event):
        """档案移交失败 — one attempt failed; `retry_at` is the next try, none when it gave up."""

        attempt: int
        error: str
        retry_at: datetime | None

        def apply(self, aggregate: ArchivePackage) -> None:
            aggregate.attempts = self.attempt
            aggregate.retry_at = self.retry_at
            if self.retry_at is None:
                aggregate.status = ArchiveStatus.TRANSFER_FAILED

    class TransferSucceeded(Event):
        """档案移交成功 — the archive management system took the package; its receipt is kept."""

        attempt: int
        receipt: str

        def apply(self, aggregate: ArchivePackage) -> None:
            aggregate.attempts = self.attempt
            aggregate.retry_at = None
            aggregate.receipt = self.receipt
            aggregate.status = ArchiveStatus.TRANSFERRED

    def __init__(
        self,
        case_id: str,
        project_code: str,
        item_code: str,
        hash_algorithm: str,
        manifest_hash: str,
        package_hash: str,
        package_size: int,
        location: str,
        events: int,
        tree_size: int,
        root_hash: str,
        source: str = "",
    ) -> None:
        self.case_id = case_id
        self.project_code = project_code
        self.item_code = item_code
        self.hash_algorithm = hash_algorithm
        self.manifest_hash = manifest_hash
        self.package_hash = package_hash
        self.package_size = package_size
        self.location = location
        self.events = events
        self.tree_size = tree_size
        self.root_hash = root_hash
        self.source = source
        self.status = ArchiveStatus.GENERATED
        self.attempts = 0
        self.retry_at: datetime | None = None
        self.receipt: str | None = None

    # --- creation -------------------------------------------------------------------

    @classmethod
    def generate(cls, meta: Meta, *, archive_id: UUID, **fields: Any) -> ArchivePackage:
        _check_fields(fields)
        return cls._create(cls.Generated, id=archive_id, **fields, **meta.fields())

    @classmethod
    def receive(cls, meta: Meta, *, archive_id: UUID, source: str, **fields: Any) -> ArchivePackage:
        if not source.strip():
            raise InvalidValue("source", "name the system the package came from", "required")
        _check_fields(fields)
        return cls._create(cls.Received, id=archive_id, source=source.strip(), **fields, **meta.fields())

    # --- transfer (the outbox) ----------------------------------------------------------

    def check_allowed(self, action: str) -> None:
        if action not in ALLOWED[self.status]:
            raise IllegalTransition(f"archive {self.id}", self.status.value, action)

    def request_transfer(self, meta: Meta, destination: str) -> None:
        self.check_allowed("request-transfer")
        if not destination.strip():
            raise InvalidValue("destination", "no archive management system is configured", "required")
        self.trigger_event(self.TransferRequested, destination=destination, **meta.fields())

    def record_transfer_failure(self, meta: Meta, error: str, retry_at: datetime | None) -> None:
        self.check_allowed("record-transfer-failure")
        self.trigger_event(
            self.TransferFailed, attempt=self.attempts + 1, error=error[:500], retry_at=retry_at, **meta.fields()
        )

    def record_transfer_success(self, meta: Meta, receipt: str) -> None:
        self.check_allowed("record-transfer-success")
        self.trigger_event(self.TransferSucceeded, attempt=self.attempts + 1, receipt=receipt[:2000], **meta.fields())

    def is_due(self, now: datetime) -> bool:
        """Pending and its backoff (if any) has run out."""
        return self.status == ArchiveStatus.TRANSFER_PENDING and (self.retry_at is None or self.retry_at <= now)


def _check_fields(fields: dict[str, Any]) -> None:
    for name in ("case_id", "manifest_hash", "package_hash", "location"):
        if not str(fields.get(name, "")).strip():
            raise InvalidValue(name, "required", "required")
    if int(fields.get("events", 0)) < 1:
        raise InvalidValue("events", "a package holds at least one event", "empty_package")
