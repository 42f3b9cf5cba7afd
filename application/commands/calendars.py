"""工作日历 commands (application/work_calendar.py `WorkCalendarService`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class PublishWorkCalendar:
    """工作日历发布 — a year's holiday schedule (domain/work_calendar check_schedule), a correction
    when the year has one (`reason` then says why)."""

    schedule: Mapping[str, Any]
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class WorkCalendarPublished(Outcome):
    """The calendar, its version, and the open cases whose deadline was recomputed on it."""

    id: UUID
    year: int
    version: int
    recomputed: list[str]
