"""外部推送 commands (application/delivery.py `DeliveryService`): an operator's requeue."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class RequeueDelivery:
    """重新推送 — a dead letter back in the outbox; an archive package's id: a new transfer request."""

    message_id: UUID
    reason: str


@dataclass(frozen=True, kw_only=True)
class DeliveryOutcome(Outcome):
    """The message after the command; the fields left None are answered as null."""

    id: UUID
    destination: str
    topic: str
    state: str
    attempts: int
    retry_at: str | None
    last_error: str | None
    receipt: str | None
