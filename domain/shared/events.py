"""Event metadata every fact carries: who (actor, role, organisation), through which channel,
in which request, and — where it differs from the recording time — when it happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate

from domain.shared.errors import InvalidValue

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Channel(StrEnum):
    """渠道 — how a fact reached the system."""

    ONLINE = "online"
    WINDOW = "window"
    OFFLINE_BACKENTRY = "offline_backentry"
    IMPORT = "import"
    SYSTEM_RULE = "system_rule"


@dataclass(frozen=True)
class Meta:
    """Who does a command, through which channel, in which request, and the clock reading "now".

    `occurred_at` is the business time when it differs from now (back-entries, imports).
    """

    actor_id: str
    actor_role: str
    actor_org: str
    channel: Channel
    request_id: str
    now: datetime
    occurred_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise InvalidValue("now", "the clock reading must be timezone-aware", "naive_datetime")
        if self.occurred_at is not None:
            if self.occurred_at.tzinfo is None:
                raise InvalidValue("occurred_at", "business time needs a UTC offset", "naive_datetime")
            if self.occurred_at > self.now:
                raise InvalidValue("occurred_at", "business time lies in the future", "occurred_in_future")

    def fields(self) -> dict[str, Any]:
        """Keyword arguments for an event: the metadata and the recording timestamp."""
        return {
            "actor_id": self.actor_id,
            "actor_role": self.actor_role,
            "actor_org": self.actor_org,
            "channel": self.channel,
            "request_id": self.request_id,
            "occurred_at": self.occurred_at,
            "timestamp": self.now,
        }

    @property
    def business_time(self) -> datetime:
        return self.occurred_at or self.now


class AuditedEvent(Aggregate.Event):
    """Base of every event: the metadata fields sit on the event itself, so they are stored with it."""

    actor_id: str
    actor_role: str
    actor_org: str
    channel: Channel
    request_id: str
    occurred_at: datetime | None

    @property
    def business_time(self) -> datetime:
        """When it happened: the business time if one was given, else the recording time."""
        return self.occurred_at or self.timestamp

    @property
    def business_date(self) -> date:
        return self.business_time.astimezone(SHANGHAI).date()
