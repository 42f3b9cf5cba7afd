"""好差评 — the Rating aggregate's rules, without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import Channel, Meta
from domain.supervision.feedback import Feedback
from domain.supervision.rating import (
    LEVELS,
    Rating,
    rating_id,
    rectification_due,
    rectified_on_time,
)

RATED_AT = datetime(2026, 9, 21, 2, 0, tzinfo=UTC)  # Monday 21 September 2026, 10:00 in Shanghai
FACTS = {
    "project_code": "2611-460100-04-01-000001",
    "item_code": "GJ-1-02",
    "department": "zrzy",
    "region_code": "460106",
    "applicant_org": "91460000MA5T0P3X64",
}


def meta(role: str = "applicant", at: datetime = RATED_AT) -> Meta:
    return Meta(f"{role}-1", role, "org", Channel.ONLINE, "req", at)


def rated(level: int, case_status: int = 11) -> Rating:
    return Rating.rate(
        meta(),
        case_id=uuid.UUID(int=1),
        case_status=case_status,
        case_facts=FACTS,
        level=level,
        evaluation_channel="mobile",
        dimensions={"efficiency": 2},
        comment=" 等了太久 ",
    )


def test_the_levels_are_those_of_ratings_csv_and_levels_one_and_two_are_bad_reviews() -> None:
    assert {lv: (r.name, r.is_bad) for lv, r in LEVELS.items()} == {
        5: ("非常满意", False),
        4: ("满意", False),
        3: ("基本满意", False),
        2: ("不满意", True),
        1: ("非常不满意", True),
    }


@pytest.mark.parametrize("level", [0, 6, -1])
def test_a_level_outside_one_to_five_is_invalid(level: int) -> None:
    with pytest.raises(InvalidValue) as caught:
        rated(level)
    assert caught.value.field == "level"


@pytest.mark.parametrize("status", [1, 3, 6, 7, 8, 9, 10])
def test_an_open_case_cannot_be_rated(status: int) -> None:
    with pytest.raises(IllegalTransition):
        rated(4, case_status=status)


@pytest.mark.parametrize("status", [2, 4, 5, 11, 12, 13, 14, 15])
def test_a_decided_or_closed_case_can_be_rated(status: int) -> None:
    assert rated(4, case_status=status).level == 4


def test_the_rating_id_is_derived_from_the_case_so_a_case_is_rated_once() -> None:
    case_id = uuid.uuid4()
    assert rating_id(case_id) == rating_id(case_id) != rating_id(uuid.uuid4())
    assert rated(5).id == rating_id(uuid.UUID(int=1))


def test_unknown_dimensions_channels_and_scores_are_invalid() -> None:
    for kwargs, field in (
        ({"dimensions": {"beauty": 3}}, "dimensions"),
        ({"dimensions": {"efficiency": 6}}, "dimensions.efficiency"),
        ({"evaluation_channel": "fax"}, "evaluation_channel"),
    ):
        fields = {"level": 3, "evaluation_channel": "pc", "dimensions": {}, "comment": "", **kwargs}
        with pytest.raises(InvalidValue) as caught:
            Rating.rate(meta(), case_id=uuid.uuid4(), case_status=11, case_facts=FACTS, **fields)  # type: ignore[arg-type]
        assert caught.value.field == field


def test_only_a_bad_review_can_be_rectified() -> None:
    rating = rated(3)
    with pytest.raises(IllegalTransition):
        rating.record_rectification(meta("reviewer"), "改进", None)


def test_a_bad_review_is_rectified_then_followed_up() -> None:
    rating = rated(1)
    later = RATED_AT + timedelta(days=10)
    with pytest.raises(IllegalTransition):  # follow-up comes after the rectification
        rating.record_follow_up(meta("supervisor", later), "satisfied", "", None)
    rating.record_rectification(meta("reviewer", later), "优化受理流程", None)
    with pytest.raises(IllegalTransition):  # once, until a follow-up finds it unsatisfied
        rating.record_rectification(meta("reviewer", later), "再次整改", None)
    rating.record_follow_up(meta("supervisor", later), "unsatisfied", "仍不满意", None)
    rating.record_rectification(meta("reviewer", later), "再次整改", None)
    rating.record_follow_up(meta("supervisor", later), "satisfied", "", None)
    kinds = [type(e).__name__ for e in rating.collect_events()]
    assert kinds == [
        "Rated",
        "RectificationRecorded",
        "FollowUpRecorded",
        "RectificationRecorded",
        "FollowUpRecorded",
    ]
    assert rating.rectified_on == date(2026, 10, 1)  # the first rectification counts for the limit


def test_a_good_rating_may_be_followed_up_once() -> None:
    rating = rated(5)
    rating.record_follow_up(meta("supervisor"), "satisfied", "", None)
    with pytest.raises(IllegalTransition):
        rating.record_follow_up(meta("supervisor"), "satisfied", "", None)


def test_a_follow_up_result_is_satisfied_or_unsatisfied() -> None:
    with pytest.raises(InvalidValue):
        rated(5).record_follow_up(meta("supervisor"), "meh", "", None)


def test_dates_may_not_precede_the_rating_nor_lie_in_the_future() -> None:
    rating = rated(2)
    with pytest.raises(InvalidValue):
        rating.record_rectification(meta("reviewer"), "整改", date(2026, 9, 20))
    with pytest.raises(InvalidValue):
        rating.record_rectification(meta("reviewer"), "整改", date(2026, 9, 22))
    with pytest.raises(InvalidValue):
        rating.record_rectification(meta("reviewer"), "  ", None)


def test_rectification_is_due_fifteen_working_days_after_the_rating_skipping_holidays() -> None:
    # rated Mon 21 Sep 2026: the National Day holiday (1–7 Oct) does not count
    due = rectification_due(date(2026, 9, 21))
    assert rectified_on_time(date(2026, 9, 21), due)
    assert not rectified_on_time(date(2026, 9, 21), due + timedelta(days=1))
    assert due > date(2026, 10, 12)


def test_feedback_names_its_subject_and_a_known_category() -> None:
    subject = {"subject_kind": "window", "window": "460100-zwfw", "region_code": "460100"}
    fields = {"reporter_kind": "experience_officer", "subject": subject, "description": "窗口无人"}
    feedback = Feedback.submit(meta("supervisor"), feedback_id=uuid.uuid4(), category="attitude", **fields)  # type: ignore[arg-type]
    assert feedback.category == "attitude"
    with pytest.raises(InvalidValue):
        Feedback.submit(meta("supervisor"), feedback_id=uuid.uuid4(), category="rude", **fields)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        Feedback.submit(
            meta("supervisor"),
            feedback_id=uuid.uuid4(),
            category="attitude",
            reporter_kind="experience_officer",
            subject={"subject_kind": "case", "region_code": "460100"},
            description="x",
        )
