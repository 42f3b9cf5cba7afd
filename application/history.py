"""What did the system know, and when: an aggregate replayed from the log up to a recorded time
or a global position (GraphQL `asOf`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from infrastructure.log import GongjianApplication


class History:
    def __init__(self, app: GongjianApplication, version_at: Callable[[UUID, int], int | None]) -> None:
        self.app = app
        self.version_at = version_at

    def events(
        self, aggregate_id: UUID, *, until_time: datetime | None = None, until_position: int | None = None
    ) -> list[Any]:
        """The aggregate's events recorded up to (and including) the given time or position."""
        lte: int | None = None
        if until_position is not None:
            lte = self.version_at(aggregate_id, until_position)
            if lte is None:
                return []
        events: list[Any] = list(self.app.events.get(aggregate_id, lte=lte))
        if until_time is not None:
            events = [e for e in events if e.timestamp <= until_time]
        return events

    @staticmethod
    def fold(events: list[Any]) -> Any:
        """Rebuild the aggregate from its events (None if there are none)."""
        aggregate = None
        for event in events:
            aggregate = event.mutate(aggregate)
        return aggregate
