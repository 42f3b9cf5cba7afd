"""好差评 — the Rating aggregate: the applicant's rating of one decided or closed case.

Levels are reference/ratings.csv (5 非常满意 … 1 非常不满意; 1–2 are bad reviews, 差评). A bad
review must be rectified (整改) within 15 working days of the rating and followed up (回访); an
unsatisfied follow-up reopens the rectification. The id is uuid5 of the case id: one rating a case.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from importlib import resources
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.projects.project import NAMESPACE
from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import SHANGHAI, AuditedEvent, Meta
from domain.shared.workdays import PACKAGE, Calendar, add_workdays, workdays_between

RECTIFICATION_LIMIT_DAYS = 15  # 差评整改时限: working days after the rating
RATEABLE_STATUSES = frozenset({2, 4, 5, 11, 12, 13, 14, 15})  # decided or closed (BLZT)
DIMENSIONS = ("service_attitude", "efficiency", "clarity", "convenience")


@dataclass(frozen=True)
class RatingLevel:
    level: int
    name: str
    is_bad: bool


def _levels() -> dict[int, RatingLevel]:
    text = resources.files("domain.catalog").joinpath("data", "ratings.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return {int(r["level"]): RatingLevel(int(r["level"]), r["name"], r["is_bad"] == "true") for r in rows}


LEVELS: dict[int, RatingLevel] = _levels()


class EvaluationChannel(StrEnum):
    """评价渠道 — where the applicant rated (not the system channel of the event metadata)."""

    PC = "pc"  # 网上办事大厅
    MOBILE = "mobile"  # 移动端
    WINDOW_DEVICE = "window_device"  # 窗口评价器
    SMS = "sms"  # 短信
    HOTLINE = "hotline"  # 12345 热线


class FollowUpResult(StrEnum):
    SATISFIED = "satisfied"
    UNSATISFIED = "unsatisfied"


def rating_id(case_id: UUID) -> UUID:
    return uuid5(NAMESPACE, f"rating:{case_id}")


def rectification_due(rated_on: date, calendar: Calendar = PACKAGE) -> date:
    return add_workdays(rated_on, RECTIFICATION_LIMIT_DAYS, calendar)


def rectified_on_time(rated_on: date, rectified_on: date, calendar: Calendar = PACKAGE) -> bool:
    return workdays_between(rated_on, rectified_on, calendar) <= RECTIFICATION_LIMIT_DAYS


def check_level(level: int) -> int:
    if level not in LEVELS:
        raise InvalidValue("level", f"a level of ratings.csv: one of {sorted(LEVELS)}", "rating_level")
    return level


def check_dimensions(dimensions: dict[str, int]) -> dict[str, int]:
    unknown = sorted(set(dimensions) - set(DIMENSIONS))
    if unknown:
        raise InvalidValue("dimensions", f"unknown dimensions {unknown}; known: {list(DIMENSIONS)}", "dimension")
    for name, score in dimensions.items():
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise InvalidValue(f"dimensions.{name}", "a score from 1 to 5", "dimension_score")
    return dict(dimensions)


class Rating(Aggregate):
    """好差评 — the applicant's rating of one case, with the rectification and follow-up of a bad review."""

    class Event(AuditedEvent):
        pass

    class Rated(Event, Aggregate.Created):
        """评价 — the applicant rated the service on a decided or closed case."""

        case_id: UUID
        project_code: str
        item_code: str
        department: str
        region_code: str
        applicant_org: str
        level: int
        evaluation_channel: str
        dimensions: dict[str, int]
        comment: str

        def apply(self, aggregate: Rating) -> None:
            aggregate.rated_on = self.business_date

    class RectificationRecorded(Event):
        """整改 — the department recorded the measures taken on a bad review."""

        measures: str
        rectified_on: date

        def apply(self, aggregate: Rating) -> None:
            aggregate.rectified_on = aggregate.rectified_on or self.rectified_on
            aggregate.awaiting_rectification = False
            aggregate.last_date = self.rectified_on

    class FollowUpRecorded(Event):
        """回访 — the supervisor asked the applicant whether the matter is settled."""

        result: str
        note: str
        followed_up_on: date

        def apply(self, aggregate: Rating) -> None:
            aggregate.followed_up = True
            aggregate.awaiting_rectification = aggregate.is_bad and self.result == FollowUpResult.UNSATISFIED
            aggregate.last_date = self.followed_up_on

    def __init__(self, case_id: UUID, region_code: str, applicant_org: str, level: int) -> None:
        self.case_id = case_id
        self.region_code = region_code
        self.applicant_org = applicant_org
        self.level = level
        self.rated_on = date.min  # set by Rated.apply from the business date
        self.rectified_on: date | None = None
        self.awaiting_rectification = LEVELS[level].is_bad
        self.followed_up = False
        self.last_date: date | None = None

    @property
    def is_bad(self) -> bool:
        return LEVELS[self.level].is_bad

    @classmethod
    def rate(
        cls,
        meta: Meta,
        *,
        case_id: UUID,
        case_status: int,
        case_facts: dict[str, str],
        level: int,
        evaluation_channel: str,
        dimensions: dict[str, int],
        comment: str,
    ) -> Rating:
        """`case_facts`: project_code, item_code, department, region_code, applicant_org of the case."""
        if case_status not in RATEABLE_STATUSES:
            raise IllegalTransition(f"case {case_id}", f"{case_status} (not decided or closed)", "rate")
        try:
            channel = EvaluationChannel(evaluation_channel)
        except ValueError:
            raise InvalidValue(
                "evaluation_channel", f"one of {[c.value for c in EvaluationChannel]}", "evaluation_channel"
            ) from None
        return cls._create(
            cls.Rated,
            id=rating_id(case_id),
            case_id=case_id,
            level=check_level(level),
            evaluation_channel=channel.value,
            dimensions=check_dimensions(dimensions),
            comment=comment.strip(),
            **{k: case_facts[k] for k in ("project_code", "item_code", "department", "region_code", "applicant_org")},
            **meta.fields(),
        )

    def record_rectification(self, meta: Meta, measures: str, rectified_on: date | None) -> None:
        if not self.is_bad:
            raise IllegalTransition(f"rating {self.id}", f"level {self.level} (not a bad review)", "rectify")
        if not self.awaiting_rectification:
            raise IllegalTransition(f"rating {self.id}", "rectified, awaiting follow-up", "rectify")
        if not measures.strip():
            raise InvalidValue("measures", "the measures taken are required", "required")
        day = self._check_day(meta, "rectified_on", rectified_on)
        self.trigger_event(self.RectificationRecorded, measures=measures.strip(), rectified_on=day, **meta.fields())

    def record_follow_up(self, meta: Meta, result: str, note: str, followed_up_on: date | None) -> None:
        if self.is_bad and self.awaiting_rectification:
            raise IllegalTransition(f"rating {self.id}", "bad review awaiting rectification", "follow-up")
        if not self.is_bad and self.followed_up:
            raise IllegalTransition(f"rating {self.id}", "followed up", "follow-up")
        try:
            outcome = FollowUpResult(result)
        except ValueError:
            raise InvalidValue("result", f"one of {[r.value for r in FollowUpResult]}", "enum") from None
        day = self._check_day(meta, "followed_up_on", followed_up_on)
        self.trigger_event(
            self.FollowUpRecorded, result=outcome.value, note=note.strip(), followed_up_on=day, **meta.fields()
        )

    def _check_day(self, meta: Meta, field: str, day: date | None) -> date:
        """The date defaults to today; it may not precede the previous step nor lie in the future."""
        today = meta.business_time.astimezone(SHANGHAI).date()
        day = day or today
        if day > today:
            raise InvalidValue(field, "the date lies in the future", "date_in_future")
        if day < (self.last_date or self.rated_on):
            raise InvalidValue(field, "the date precedes the rating or its previous step", "order")
        return day

    def summary(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "case_id": str(self.case_id),
            "level": self.level,
            "level_name": LEVELS[self.level].name,
            "bad_review": self.is_bad,
            "rectification_due": rectification_due(self.rated_on).isoformat() if self.is_bad else None,
        }
