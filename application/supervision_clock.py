"""The daily supervision clock tick (domain/supervision/clock.py): written by the automation
worker's rounds, at most once per Asia/Shanghai day, with channel system_rule."""

from __future__ import annotations

from datetime import date

from eventsourcing.persistence import IntegrityError

from application.base import Service
from application.policy import Actor
from domain.shared.events import SHANGHAI, Channel
from domain.supervision.clock import SupervisionClock, supervision_clock_id

TICKER = Actor("system:supervision-clock", "integration", "gongjian", "460000", "监管日钟")


class SupervisionClockService(Service):
    def tick(self) -> date | None:
        """Write today's tick unless the log has it; the day written, or None."""
        day = self.clock.now().astimezone(SHANGHAI).date()
        if self.find(SupervisionClock, supervision_clock_id(day)) is not None:
            return None
        meta = self.meta(TICKER, f"supervision-clock-{day.isoformat()}", channel=Channel.SYSTEM_RULE)
        try:
            self.app.save(SupervisionClock.tick(meta, day))
        except IntegrityError:  # another worker wrote it meanwhile
            return None
        return day
