"""The one event log: an eventsourcing Application holding every aggregate of every context, one
global order. It is infrastructure (the services in application/ save through it); its name fixes
the table names, so moving the class does not move the data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Mapper, Transcoder, Transcoding

from domain.shared.events import Channel
from infrastructure.codec import FastJSONTranscoder, FastMapper


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class ChannelAsStr(Transcoding):
    type = Channel
    name = "channel"

    def encode(self, obj: Channel) -> str:
        return obj.value

    def decode(self, data: str) -> Channel:
        return Channel(data)


class GongjianApplication(Application[Any]):
    """工建系统 — the event log. Infrastructure is chosen by the env built in infrastructure.store."""

    name = "gongjian"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self.after_save: list[Callable[[int], None]] = []

    def construct_transcoder(self) -> Transcoder:
        # the library's JSON, decoded by a faster reader (same events: infrastructure/codec.py)
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def construct_mapper(self) -> Mapper[Any]:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=FastMapper)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(ChannelAsStr())

    def save_all(self, *aggregates: Any) -> int:
        """Save atomically; returns the global position of the last event written."""
        recordings = self.save(*aggregates)
        if not recordings:
            return self.max_position()
        position = max(r.notification.id for r in recordings)
        for hook in self.after_save:
            hook(position)
        return position

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0
