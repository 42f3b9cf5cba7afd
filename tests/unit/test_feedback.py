"""体验员反馈 — the Feedback aggregate's follow-up (listed, assigned, answered, closed), without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import Channel, Meta
from domain.supervision.feedback import ACTIONS, Feedback, FeedbackStatus

AT = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)
# the order a report moves in; an answer found insufficient is assigned again
NEXT = {"list": "listed", "assign": "assigned", "answer": "answered", "close": "closed"}
MAY = {
    "submitted": {"list"},
    "listed": {"assign"},
    "assigned": {"assign", "answer"},
    "answered": {"assign", "close"},
    "closed": set(),
}


def meta(role: str = "supervisor") -> Meta:
    return Meta(f"{role}-1", role, "460000-yshj", Channel.ONLINE, "req-1", AT)


def report() -> Feedback:
    return Feedback.submit(
        meta(),
        feedback_id=uuid.uuid4(),
        reporter_kind="experience_officer",
        subject={"subject_kind": "window", "window": "460100-zwfw", "region_code": "460100"},
        category="attitude",
        description="窗口答复含糊",
    )


def act(feedback: Feedback, action: str) -> None:
    match action:
        case "list":
            feedback.put_on_list(meta(), "列入督办")
        case "assign":
            feedback.assign(meta(), "zjj", "460100")
        case "answer":
            feedback.answer(meta("reviewer"), "已约谈", "培训")
        case "close":
            feedback.close(meta(), "resolved", "已整改")


def test_a_report_moves_through_its_follow_up_and_each_step_carries_who_and_how() -> None:
    feedback = report()
    for action in ("list", "assign", "answer", "assign", "answer", "close"):
        act(feedback, action)
        assert feedback.status == NEXT[action]
    events = feedback.collect_events()
    assert [type(e).__name__ for e in events] == [
        "Submitted", "Listed", "Assigned", "Answered", "Assigned", "Answered", "Closed",
    ]  # fmt: skip
    assert all((e.actor_id, e.actor_org, e.channel, e.request_id) != ("", "", "", "") for e in events)
    assert events[3].actor_role == "reviewer" and events[4].department == "zjj"


@given(st.lists(st.sampled_from(ACTIONS), max_size=12))
def test_an_action_is_accepted_exactly_when_the_status_allows_it(actions: list[str]) -> None:
    feedback = report()
    status = "submitted"
    for action in actions:
        if action in MAY[status]:
            act(feedback, action)
            status = NEXT[action]
        else:
            with pytest.raises(IllegalTransition):
                act(feedback, action)
        assert feedback.status == FeedbackStatus(status)


def test_assignment_names_a_known_department_and_closure_a_known_outcome() -> None:
    feedback = report()
    feedback.put_on_list(meta())
    with pytest.raises(InvalidValue) as bad:
        feedback.assign(meta(), "nope")
    assert bad.value.field == "department"
    feedback.assign(meta(), "zjj")
    assert feedback.assigned_region == "460100"  # the report's region by default
    with pytest.raises(InvalidValue):
        feedback.answer(meta("reviewer"), "  ")
    feedback.answer(meta("reviewer"), "已答复")
    with pytest.raises(InvalidValue) as outcome:
        feedback.close(meta(), "done", "x")
    assert outcome.value.field == "outcome"
    assert feedback.status == FeedbackStatus.ANSWERED
