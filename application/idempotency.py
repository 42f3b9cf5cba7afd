"""幂等 — Idempotency-Key receipts.

A receipt is an aggregate whose id is uuid5(actor, key), saved in the same atomic save as the
command's events. A retry finds it and gets the first response; a concurrent duplicate hits the
unique (originator_id, version) constraint and is answered from the receipt that won.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.projects.project import NAMESPACE
from domain.shared.errors import Conflict
from domain.shared.events import AuditedEvent, Meta


@dataclass(frozen=True)
class IdempotencyKey:
    key: str
    request_hash: str

    @classmethod
    def of(cls, key: str | None, action: str, body: Any) -> IdempotencyKey | None:
        if not key:
            return None
        canonical = json.dumps({"action": action, "body": body}, sort_keys=True, default=str, ensure_ascii=False)
        return cls(key, hashlib.sha256(canonical.encode()).hexdigest())

    def receipt_id(self, actor_id: str) -> UUID:
        return uuid5(NAMESPACE, f"receipt:{actor_id}:{self.key}")


class Receipt(Aggregate):
    """幂等回执 — the first response to a request sent with an Idempotency-Key."""

    class Event(AuditedEvent):
        pass

    class Issued(Event, Aggregate.Created):
        """回执 — a command sent with an Idempotency-Key was carried out."""

        key: str
        request_hash: str
        response: dict[str, Any]

    def __init__(self, key: str, request_hash: str, response: dict[str, Any]) -> None:
        self.key = key
        self.request_hash = request_hash
        self.response = response

    @classmethod
    def issue(cls, meta: Meta, key: IdempotencyKey, response: dict[str, Any]) -> Receipt:
        return cls._create(
            cls.Issued,
            id=key.receipt_id(meta.actor_id),
            key=key.key,
            request_hash=key.request_hash,
            response=response,
            **meta.fields(),
        )

    def check_same_request(self, key: IdempotencyKey) -> None:
        if self.request_hash != key.request_hash:
            raise Conflict(f"Idempotency-Key {key.key!r} was already used with a different request")
