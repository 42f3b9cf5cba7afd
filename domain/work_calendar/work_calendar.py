"""工作日历 — one year's official holiday schedule (节假日安排), published by an administrator from the
State Council's notice (国务院办公厅关于某年部分节假日安排的通知), as events.

The id is uuid5 of a namespace and the year: a second publication of the same year is a
correction (`Revised`) on the same aggregate, never a second calendar. Years the `chinesecalendar`
package covers need no event (the package seeds them); a published schedule overrides the package.

`check_schedule` takes what an administrator sent and refuses it with InvalidValue naming the field
path and the rule (docs/operations.md, "The working calendar"):
- `year` is a whole number in 2000..2100; `notice.number` and `notice.date` are required, and the
  notice is dated no later than the year's last day (`notice_after_year`);
- `holidays` lists at least one holiday; each has a `name` (once: `holiday_duplicate`) and at least
  one rest day;
- every date lies inside the year (`date_outside_year`) and is listed once (`date_duplicate`);
  no date is both a rest day and a working day (`rest_and_work`);
- an adjusted working day (调休上班) is a Saturday or Sunday (`working_day_not_weekend`): a weekday
  works anyway. A rest day may fall on any day (a holiday's block includes its weekend).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.shared.errors import InvalidValue
from domain.shared.events import AuditedEvent, Meta
from domain.shared.workdays import YearSchedule

WORK_CALENDAR_NAMESPACE = UUID("0b6f7d3e-52c1-5a8e-9f24-7c3d1e8a6b90")
YEARS = range(2000, 2101)
TEXT_MAX = 200


def work_calendar_id(year: int) -> UUID:
    return uuid5(WORK_CALENDAR_NAMESPACE, f"work-calendar:{year}")


def notice_title(year: int) -> str:
    return f"国务院办公厅关于{year}年部分节假日安排的通知"


class WorkCalendar(Aggregate):
    """工作日历 — the official schedule of one year: holidays with their rest days and adjusted
    working days, citing the State Council notice it comes from."""

    class Event(AuditedEvent):
        pass

    class Published(Event, Aggregate.Created):
        """工作日历发布 — a year's schedule was published from the State Council notice (number, date):
        each holiday with its rest days (放假) and adjusted working days (调休上班)."""

        year: int
        notice_number: str
        notice_date: date
        notice_title: str
        holidays: list[dict[str, Any]]

        def apply(self, aggregate: WorkCalendar) -> None:
            aggregate.take(self.notice_number, self.notice_date, self.notice_title, self.holidays)

    class Revised(Event):
        """工作日历更正 — the year's schedule was published again (a correction, or a later notice):
        the whole schedule replaces the earlier one from now on; the earlier stays in the log."""

        notice_number: str
        notice_date: date
        notice_title: str
        holidays: list[dict[str, Any]]
        reason: str | None

        def apply(self, aggregate: WorkCalendar) -> None:
            aggregate.take(self.notice_number, self.notice_date, self.notice_title, self.holidays)

    def __init__(self, year: int) -> None:
        self.year = year
        self.notice_number = ""
        self.notice_date: date | None = None
        self.notice_title = ""
        self.holidays: list[dict[str, Any]] = []

    def take(self, number: str, on: date, title: str, holidays: list[dict[str, Any]]) -> None:
        self.notice_number, self.notice_date, self.notice_title = number, on, title
        self.holidays = holidays

    @classmethod
    def publish(cls, meta: Meta, checked: dict[str, Any]) -> WorkCalendar:
        """`checked` comes from `check_schedule`."""
        return cls._create(
            cls.Published,
            id=work_calendar_id(checked["year"]),
            year=checked["year"],
            notice_number=checked["notice_number"],
            notice_date=checked["notice_date"],
            notice_title=checked["notice_title"],
            holidays=checked["holidays"],
            **meta.fields(),
        )

    def revise(self, meta: Meta, checked: dict[str, Any], reason: str | None = None) -> None:
        if checked["year"] != self.year:
            raise InvalidValue("year", f"this calendar is the one of {self.year}", "year_mismatch")
        self.trigger_event(
            self.Revised,
            notice_number=checked["notice_number"],
            notice_date=checked["notice_date"],
            notice_title=checked["notice_title"],
            holidays=checked["holidays"],
            reason=reason,
            **meta.fields(),
        )

    @property
    def schedule(self) -> YearSchedule:
        return schedule_of(self.year, self.holidays, self.notice_number, self.version)


def schedule_of(year: int, holidays: list[dict[str, Any]], notice_number: str, version: int | None) -> YearSchedule:
    """The value object of a published schedule (from an event's or a row's holidays)."""
    rest = frozenset(date.fromisoformat(d) for h in holidays for d in h["rest_days"])
    work = frozenset(date.fromisoformat(d) for h in holidays for d in h["working_days"])
    return YearSchedule(year, rest, work, "published", notice_number, version)


# --- validation ----------------------------------------------------------------------------------


def _text(raw: dict[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidValue(f"{path}{key}", f"{key} is required", "required")
        return None
    if not isinstance(value, str) or len(value) > TEXT_MAX:
        raise InvalidValue(f"{path}{key}", f"text of at most {TEXT_MAX} characters", "text")
    return value.strip()


def _date(value: Any, path: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidValue(path, "an ISO date YYYY-MM-DD", "date")


def _dates(raw: dict[str, Any], key: str, path: str, year: int, seen: dict[date, str]) -> list[str]:
    values = raw.get(key, [])
    if not isinstance(values, list):
        raise InvalidValue(f"{path}.{key}", f"{key} must be a list of dates", "list")
    days: list[str] = []
    for j, value in enumerate(values):
        where = f"{path}.{key}.{j}"
        day = _date(value, where)
        if day.year != year:
            raise InvalidValue(where, f"{day} is not in {year}", "date_outside_year")
        if day in seen:
            rule = "rest_and_work" if seen[day] != key else "date_duplicate"
            raise InvalidValue(where, f"{day} is listed twice ({seen[day]} and {key})", rule)
        if key == "working_days" and day.weekday() < 5:
            raise InvalidValue(
                where, f"{day} is a weekday: an adjusted working day (调休上班) is a Saturday or Sunday",
                "working_day_not_weekend",
            )  # fmt: skip
        seen[day] = key
        days.append(day.isoformat())
    return sorted(days)


def check_schedule(raw: Any) -> dict[str, Any]:
    """The schedule normalised (dates sorted, ISO strings), or InvalidValue naming the field path."""
    if not isinstance(raw, dict):
        raise InvalidValue("body", "a schedule is an object", "object")
    year = raw.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or year not in YEARS:
        raise InvalidValue("year", f"a year in {YEARS.start}..{YEARS.stop - 1}", "year")
    notice = raw.get("notice")
    if not isinstance(notice, dict):
        raise InvalidValue("notice", "the State Council notice: {number, date[, title]}", "required")
    number = _text(notice, "number", "notice.")
    issued = _date(notice.get("date"), "notice.date")
    if issued > date(year, 12, 31):
        raise InvalidValue("notice.date", f"a notice for {year} is issued by the end of {year}", "notice_after_year")
    holidays = raw.get("holidays")
    if not isinstance(holidays, list) or not holidays:
        raise InvalidValue("holidays", "at least one holiday with its rest days", "required")
    seen: dict[date, str] = {}
    names: set[str] = set()
    checked: list[dict[str, Any]] = []
    for i, holiday in enumerate(holidays):
        path = f"holidays.{i}"
        if not isinstance(holiday, dict):
            raise InvalidValue(path, "a holiday is an object {name, rest_days, working_days}", "object")
        name = _text(holiday, "name", f"{path}.")
        assert name is not None
        if name in names:
            raise InvalidValue(f"{path}.name", f"{name} is listed twice", "holiday_duplicate")
        names.add(name)
        rest = _dates(holiday, "rest_days", path, year, seen)
        if not rest:
            raise InvalidValue(f"{path}.rest_days", "a holiday has at least one rest day", "required")
        work = _dates(holiday, "working_days", path, year, seen)
        checked.append({"name": name, "rest_days": rest, "working_days": work})
    return {
        "year": year,
        "notice_number": number,
        "notice_date": issued,
        "notice_title": _text(notice, "title", "notice.", required=False) or notice_title(year),
        "holidays": checked,
    }
