"""好差评 and 体验员反馈 commands (application/ratings.py `RatingService`, `FeedbackService`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class RateCase:
    """好差评 — the applicant's rating of a decided or closed case (one a case)."""

    case_id: UUID
    level: int  # 1 非常不满意 … 5 非常满意; 1–2 are bad reviews
    evaluation_channel: str
    dimensions: Mapping[str, int] = field(default_factory=dict)
    comment: str = ""


@dataclass(frozen=True)
class RecordRectification:
    """整改 — the measures taken on a bad review; `rectified_on` None: today."""

    rating_id: UUID
    measures: str
    rectified_on: date | None = None


@dataclass(frozen=True)
class RecordFollowUp:
    """回访 — what the applicant said when asked again; `followed_up_on` None: today."""

    rating_id: UUID
    result: str
    note: str = ""
    followed_up_on: date | None = None


@dataclass(frozen=True)
class SubmitFeedback:
    """体验员反馈 — a problem report about a case, an item or a window."""

    subject_kind: str
    category: str
    description: str
    case_id: UUID | None = None
    item_code: str | None = None
    window: str | None = None
    region_code: str | None = None  # None: the reporter's region (a case's own)
    reporter_kind: str | None = None  # None: applicant for applicants, experience_officer for supervisors


# 跟踪督办: a report's steps, one dataclass each (`action`: domain/supervision/feedback.py ACTIONS),
# taken by `FeedbackService.act`


@dataclass(frozen=True)
class ListFeedback:
    """反馈登记 — put the report on the list to follow up."""

    action: ClassVar[str] = "list"
    feedback_id: UUID
    note: str = ""


@dataclass(frozen=True)
class AssignFeedback:
    """反馈交办 — ask a department (of `region_code`, None: the report's region) to answer."""

    action: ClassVar[str] = "assign"
    feedback_id: UUID
    department: str
    region_code: str | None = None
    note: str = ""


@dataclass(frozen=True)
class AnswerFeedback:
    """反馈答复 — the assigned department's answer."""

    action: ClassVar[str] = "answer"
    feedback_id: UUID
    answer: str
    measures: str = ""


@dataclass(frozen=True)
class CloseFeedback:
    """反馈办结 — close the report with its outcome (domain/supervision/feedback.py Outcome value)."""

    action: ClassVar[str] = "close"
    feedback_id: UUID
    outcome: str
    conclusion: str


FeedbackAction = ListFeedback | AssignFeedback | AnswerFeedback | CloseFeedback
# the command of each action name (the REST route of each action builds its own)
FEEDBACK_ACTIONS: dict[str, type[FeedbackAction]] = {
    c.action: c for c in (ListFeedback, AssignFeedback, AnswerFeedback, CloseFeedback)
}


@dataclass(frozen=True, kw_only=True)
class RatingOutcome(Outcome):
    id: UUID
    case_id: UUID
    level: int
    level_name: str
    bad_review: bool
    rectification_due: str | None  # ISO date for a bad review


@dataclass(frozen=True, kw_only=True)
class FeedbackSubmitted(Outcome):
    id: UUID
    reporter_kind: str
    region_code: str


@dataclass(frozen=True, kw_only=True)
class FeedbackOutcome(Outcome):
    id: UUID
    status: str
    region_code: str
