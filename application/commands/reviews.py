"""评估评审 commands (application/assessment_reviews.py `AssessmentReviewService`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class StartAssessmentReview:
    """评审开始 — an expert panel reviews an assessment; the case enters its special procedure."""

    case_id: UUID
    subject: str
    panel: Sequence[Mapping[str, Any]]  # experts: name, field, …
    limit_days: int


@dataclass(frozen=True)
class RecordReviewOpinion:
    """专家意见 — one panel expert's opinion."""

    review_id: UUID
    expert: str
    opinion: str


@dataclass(frozen=True)
class FinishAssessmentReview:
    """评审结束 — the panel's result (pass | pass_with_conditions | fail); the case's procedure ends."""

    review_id: UUID
    result: str
    conditions: Sequence[str] = ()
    summary: str = ""


@dataclass(frozen=True, kw_only=True)
class ReviewStarted(Outcome):
    id: UUID
    case_id: UUID
    case_status_code: int


@dataclass(frozen=True, kw_only=True)
class ReviewOpinionRecorded(Outcome):
    id: UUID
    opinions: int  # how many the review holds now


@dataclass(frozen=True, kw_only=True)
class ReviewFinished(Outcome):
    id: UUID
    result: str
    working_days_used: int
    case_status_code: int
