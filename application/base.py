"""What every service shares: building event metadata, loading aggregates, and the atomic,
idempotent save."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from application.clock import Clock
from application.commands import Invocation
from application.idempotency import IdempotencyKey, Receipt
from application.policy import Actor
from domain.shared.errors import Conflict, NotFound
from domain.shared.events import Channel, Meta
from domain.shared.workdays import Calendar
from domain.work_calendar import WorkCalendar, work_calendar_id
from infrastructure.log import GongjianApplication

A = TypeVar("A", bound=Aggregate)
ATTEMPTS = 3
Work = Callable[[Meta], tuple[Sequence[Aggregate], dict[str, Any]]]
# what the running command relied on without reading it: the last stored version of each id
_RELIED: ContextVar[dict[UUID, int | None] | None] = ContextVar("gongjian_relied", default=None)
# the cached aggregates the running command took out of the cache (`Service.recall`)
_TAKEN: ContextVar[list[Aggregate] | None] = ContextVar("gongjian_taken", default=None)


def rely_on(versions: Mapping[UUID, int | None]) -> bool:
    """Let this command's save check these last stored versions (None: nothing stored) instead of
    reading them now. False when it cannot (SQLite, outside `Service.execute`, or a second
    attempt): then read them."""
    relied = _RELIED.get()
    if relied is None:
        return False
    relied.update(versions)
    return True


class Service:
    # keep what `execute` saved in the cache (for services whose next command `recall`s it)
    remember_saved = False

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

    def meta_of(self, by: Invocation, *, channel: Channel | None = None) -> Meta:
        """`meta` for an Invocation: its channel unless the command names one; its business time."""
        return self.meta(by.actor, by.request_id, channel=channel or by.channel, occurred_at=by.occurred_at)

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate, or None when no aggregate of that class has this id."""
        try:
            aggregate: Aggregate = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def work_calendar(self, years: Iterable[int]) -> Calendar:
        """工作日历 with the schedules published for these years (the package's for the others), read
        from the WorkCalendar aggregates: a command counts working days as the log has them now."""
        found = (self.find(WorkCalendar, work_calendar_id(year)) for year in set(years))
        return Calendar.of(c.schedule for c in found if c is not None)

    def load(self, cls: type[A], aggregate_id: UUID, what: str) -> A:
        aggregate = self.find(cls, aggregate_id)
        if aggregate is None:
            raise NotFound(f"{what} not found")
        return aggregate

    def recall(self, cls: type[A], aggregate_id: UUID, what: str) -> A:
        """`load`, but from this process's cache without reading the store when the command's save
        can check that the aggregate has not moved since (`rely_on` its cached version)."""
        cache = self.app.repository.cache
        try:
            # taken out, not copied: the command changes it, and only a save puts it back
            # (`remember`), so a refused or failed command leaves no half-changed aggregate behind
            cached = cache.get(aggregate_id, evict=True) if cache is not None else None
        except KeyError:
            cached = None
        if isinstance(cached, cls) and rely_on({aggregate_id: cached.version}):
            taken = _TAKEN.get()
            if taken is not None:
                taken.append(cached)
            return cached
        if cached is not None and cache is not None:
            cache.put(aggregate_id, cached)  # not relied on: as it was
        return self.load(cls, aggregate_id, what)

    def remember(self, aggregates: Sequence[Aggregate]) -> None:
        """Keep just-saved aggregates in the cache, at the version stored, for the next `recall`."""
        cache = self.app.repository.cache
        if cache is not None:
            for aggregate in aggregates:
                cache.put(aggregate.id, aggregate)

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

        The first attempt may rely on remembered versions (`rely_on`), checked by the save under its
        table lock; if one moved, or `work` refused on what it remembered, it runs again reading
        everything, as before, with its full number of attempts.
        """
        expecting = getattr(self.app.recorder, "expecting", None)
        attempts, rely = ATTEMPTS, expecting is not None
        while attempts:
            if key is not None:
                replay = self._replay(actor, key)
                if replay is not None:
                    return replay
            relied: dict[UUID, int | None] | None = {} if rely else None
            rely = False
            token, taken = _RELIED.set(relied), _TAKEN.set([])
            try:
                aggregates, response = work(meta)
            except Exception:
                if relied:
                    continue  # judged on what it remembered: judge again on what is stored
                # a retry refused because its first attempt committed meanwhile gets that answer
                replay = self._replay(actor, key) if key is not None else None
                if replay is not None:
                    return replay
                raise
            finally:
                recalled = _TAKEN.get() or []
                _RELIED.reset(token)
                _TAKEN.reset(taken)
            objs: list[Aggregate] = list(aggregates)
            if key is not None:
                objs.append(Receipt.issue(meta, key, response))  # last: its position is the save's
            try:
                with expecting(relied) if relied and expecting is not None else nullcontext():
                    position = self.app.save_all(*objs)
            except IntegrityError:
                if not relied:
                    attempts -= 1
                continue
            if self.remember_saved:
                saved = {id(a) for a in objs}
                # what the command only read goes back as it was; what it saved, at its new version
                self.remember([a for a in recalled if id(a) not in saved and not a.pending_events] + objs)
            return {**response, "position": position}
        raise Conflict("other commands kept changing the same subject; reload and retry")
