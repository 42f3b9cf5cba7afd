"""监管日钟 — the day as the log knows it, for the time-driven warning rules (issue 15).

W6 asks whether a case is still open far past its deadline "today". A read model never reads the
wall clock (a rebuild would then raise other warnings than the live run did): the system writes
one `SupervisionClock.Ticked` a day (channel system_rule, application/supervision_clock.py), and
the rules take "today" from the last tick in the log.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.projects.project import NAMESPACE
from domain.shared.events import AuditedEvent, Meta


def supervision_clock_id(day: date) -> UUID:
    return uuid5(NAMESPACE, f"supervision-clock:{day.isoformat()}")


class SupervisionClock(Aggregate):
    """监管日钟 — one aggregate per day: a second tick of the same day finds it and writes nothing."""

    class Event(AuditedEvent):
        pass

    class Ticked(Event, Aggregate.Created):
        """监管日钟走时 — the supervision day began (Asia/Shanghai)."""

        day: date

    def __init__(self, day: date) -> None:
        self.day = day

    @classmethod
    def tick(cls, meta: Meta, day: date) -> SupervisionClock:
        return cls._create(cls.Ticked, id=supervision_clock_id(day), day=day, **meta.fields())
