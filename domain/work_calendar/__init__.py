"""工作日历 — the official working calendar as data (see work_calendar.py)."""

from domain.work_calendar.work_calendar import WorkCalendar, check_schedule, schedule_of, work_calendar_id

__all__ = ["WorkCalendar", "check_schedule", "schedule_of", "work_calendar_id"]
