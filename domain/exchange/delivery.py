"""外部推送 — the Delivery aggregate: one message to another system, kept in the log (the outbox).

A message is about one source event (a decision, an approval) and one destination; its id is
uuid5 of (topic, destination, source event), so a producer that runs twice over the same event
finds the message already there instead of making a second one. The id is also the
`Idempotency-Key` the receiver sees on every attempt: delivery is at-least-once (an attempt is
recorded after the HTTP call; a crash in between means a resend), receivers dedupe by the key.

States: pending → delivered, or pending → retrying (after each failure, until the next try is
due) → delivered | dead_letter (after `max_attempts` failures of the round, or at once when the
receiver refuses the message for good). An operator requeues a dead letter: a new round.
The retry schedule is deterministic (no jitter): base·2^(n-1) seconds after the n-th failure of
a round, at most `cap_s`.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import AuditedEvent, Meta
from domain.shared.retry import RetrySchedule

_NAMESPACE = uuid5(NAMESPACE_URL, "https://gongjian.hainan.gov.cn/deliveries")
_DESTINATION = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

# What a message says; the payload of each is documented in docs/delivery.md.
TOPICS: dict[str, str] = {
    "completion_acceptance.result": "竣工验收结果 — a completion-acceptance stage decision, for real-estate registration",
    "utility.project_notice": "市政公用报装告知 — a permit approved, so utilities can prepare the connection",
}


def delivery_id(topic: str, destination: str, source: str) -> UUID:
    """The message's id and idempotency key: one message per (topic, destination, source event)."""
    return uuid5(_NAMESPACE, f"{topic}|{destination}|{source}")


def canonical_json(value: Any) -> str:
    """UTF-8 JSON, keys sorted, no spaces, non-ASCII kept: the same payload is the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class DeliveryState(StrEnum):
    """推送状态."""

    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    DEAD_LETTER = "dead_letter"


AWAITING = frozenset({DeliveryState.PENDING, DeliveryState.RETRYING})


class Delivery(Aggregate):
    """外部推送 — one message to another system (real-estate registration, a utility …)."""

    class Event(AuditedEvent):
        pass

    class Requested(Event, Aggregate.Created):
        """推送申请 — a message to a destination system was put in the outbox."""

        destination: str
        topic: str
        subject: str
        source: str
        body: str
        body_hash: str

        def apply(self, aggregate: Delivery) -> None:
            aggregate.state = DeliveryState.PENDING

    class AttemptFailed(Event):
        """推送失败 — one attempt failed; `retry_at` is when the next one is due."""

        attempt: int
        error: str
        retry_at: datetime

        def apply(self, aggregate: Delivery) -> None:
            aggregate.attempts = self.attempt
            aggregate.failures_in_round += 1
            aggregate.retry_at = self.retry_at
            aggregate.last_error = self.error
            aggregate.state = DeliveryState.RETRYING

    class Delivered(Event):
        """推送成功 — the destination took the message; its answer is kept as the receipt."""

        attempt: int
        receipt: str

        def apply(self, aggregate: Delivery) -> None:
            aggregate.attempts = self.attempt
            aggregate.retry_at = None
            aggregate.receipt = self.receipt
            aggregate.state = DeliveryState.DELIVERED

    class DeadLettered(Event):
        """推送终止 — no more attempts: the round's last failure, or a refusal for good."""

        attempts: int
        last_error: str

        def apply(self, aggregate: Delivery) -> None:
            aggregate.attempts = self.attempts
            aggregate.retry_at = None
            aggregate.last_error = self.last_error
            aggregate.state = DeliveryState.DEAD_LETTER

    class Requeued(Event):
        """重新推送 — an operator put a dead letter back in the outbox: a new round of attempts."""

        reason: str

        def apply(self, aggregate: Delivery) -> None:
            aggregate.failures_in_round = 0
            aggregate.retry_at = None
            aggregate.state = DeliveryState.PENDING

    def __init__(self, destination: str, topic: str, subject: str, source: str, body: str, body_hash: str) -> None:
        self.destination = destination
        self.topic = topic
        self.subject = subject
        self.source = source
        self.body = body
        self.body_hash = body_hash
        self.state = DeliveryState.PENDING
        self.attempts = 0  # every attempt ever made
        self.failures_in_round = 0  # since the request or the last requeue: drives the schedule
        self.retry_at: datetime | None = None
        self.last_error = ""
        self.receipt: str | None = None

    @classmethod
    def request(
        cls, meta: Meta, *, destination: str, topic: str, subject: str, source: str, payload: dict[str, Any]
    ) -> Delivery:
        if not _DESTINATION.match(destination):
            raise InvalidValue("destination", "a system name: lower case, digits, _ (at most 40)", "destination")
        if topic not in TOPICS:
            raise InvalidValue("topic", f"unknown topic; one of {sorted(TOPICS)}", "topic_unknown")
        for name, value in (("subject", subject), ("source", source)):
            if not value.strip():
                raise InvalidValue(name, "required", "required")
        body = canonical_json(payload)
        return cls._create(
            cls.Requested,
            id=delivery_id(topic, destination, source),
            destination=destination,
            topic=topic,
            subject=subject,
            source=source,
            body=body,
            body_hash=hashlib.sha256(body.encode("utf-8")).hexdigest(),
            **meta.fields(),
        )

    # --- attempts -------------------------------------------------------------------------

    @property
    def awaiting(self) -> bool:
        return self.state in AWAITING

    def is_due(self, now: datetime) -> bool:
        return self.awaiting and (self.retry_at is None or self.retry_at <= now)

    def check_awaiting(self, action: str) -> None:
        if not self.awaiting:
            raise IllegalTransition(f"delivery {self.id}", self.state.value, action)

    def record_delivery(self, meta: Meta, receipt: str) -> None:
        self.check_awaiting("record-delivery")
        self.trigger_event(self.Delivered, attempt=self.attempts + 1, receipt=receipt[:2000], **meta.fields())

    def record_failure(self, meta: Meta, error: str, schedule: RetrySchedule, *, permanent: bool = False) -> None:
        """One failed attempt: retry on the schedule, or dead-letter (schedule exhausted or `permanent`)."""
        self.check_awaiting("record-failure")
        error = error[:500] or "unknown error"
        retry_at = None if permanent else schedule.retry_at(meta.now, self.failures_in_round + 1)
        if retry_at is None:
            self.trigger_event(self.DeadLettered, attempts=self.attempts + 1, last_error=error, **meta.fields())
        else:
            self.trigger_event(
                self.AttemptFailed, attempt=self.attempts + 1, error=error, retry_at=retry_at, **meta.fields()
            )

    def requeue(self, meta: Meta, reason: str) -> None:
        if self.state != DeliveryState.DEAD_LETTER:
            raise IllegalTransition(f"delivery {self.id}", self.state.value, "requeue")
        if not reason.strip():
            raise InvalidValue("reason", "say why it is sent again (e.g. the receiver is fixed)", "required")
        self.trigger_event(self.Requeued, reason=reason.strip()[:500], **meta.fields())
