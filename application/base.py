"""What every service shares: building event metadata, loading aggregates, and the atomic,
idempotent save."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from application.app import GongjianApplication
from application.clock import Clock
from application.idempotency import IdempotencyKey, Receipt
from application.policy import Actor
from domain.shared.errors import Conflict, NotFound
from domain.shared.events import Channel, Meta

A = TypeVar("A", bound=Aggregate)
ATTEMPTS = 3
Work = Callable[[Meta], tuple[Sequence[Aggregate], dict[str, Any]]]


class Service:
    def __init__(
        self,
        app: GongjianApplication,
        clock: Clock,
        position_of: Callable[[UUID, int], int | None],
    ) -> None:
        self.app = app
        self.clock = clock
        self.position_of = position_of

    def meta(
        self, actor: Actor, request_id: str, *, channel: Channel | None = None, occurred_at: datetime | None = None
    ) -> Meta:
        return Meta(
            actor_id=actor.actor_id,
            actor_role=actor.role,
            actor_org=actor.org,
            channel=channel or actor.channel,
            request_id=request_id,
            now=self.clock.now(),
            occurred_at=occurred_at,
        )

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate, or None when no aggregate of that class has this id."""
        try:
            aggregate: Aggregate = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def load(self, cls: type[A], aggregate_id: UUID, what: str) -> A:
        aggregate = self.find(cls, aggregate_id)
        if aggregate is None:
            raise NotFound(f"{what} not found")
        return aggregate

    def exists(self, aggregate_id: UUID) -> bool:
        return self.find(Aggregate, aggregate_id) is not None

    def _replay(self, actor: Actor, key: IdempotencyKey) -> dict[str, Any] | None:
        receipt_id = key.receipt_id(actor.actor_id)
        try:
            receipt: Aggregate = self.app.repository.get(receipt_id)
        except AggregateNotFoundError:
            return None
        assert isinstance(receipt, Receipt)
        receipt.check_same_request(key)
        return {**receipt.response, "position": self.position_of(receipt_id, 1), "replayed": True}

    def execute(self, meta: Meta, actor: Actor, key: IdempotencyKey | None, work: Work) -> dict[str, Any]:
        """Run `work` and save what it changed in one transaction, with a receipt if keyed.

        On a concurrent write (optimistic concurrency), `work` runs again on the fresh state: it
        re-checks every rule, so the loser of a race on one case gets the illegal-transition 409,
        while commands that merely touched the same project both succeed.
        """
        for _attempt in range(ATTEMPTS):
            if key is not None:
                replay = self._replay(actor, key)
                if replay is not None:
                    return replay
            aggregates, response = work(meta)
            objs: list[Aggregate] = list(aggregates)
            if key is not None:
                objs.append(Receipt.issue(meta, key, response))  # last: its position is the save's
            try:
                position = self.app.save_all(*objs)
            except IntegrityError:
                continue
            return {**response, "position": position}
        raise Conflict("other commands kept changing the same subject; reload and retry")
