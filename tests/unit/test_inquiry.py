"""问责 and 预警处置 — the inquiry state machine and the warning dispositions, without I/O."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.shared.errors import Conflict, IllegalTransition, InvalidValue
from domain.shared.events import SHANGHAI, Channel, Meta
from domain.supervision import (
    ACTIONS,
    ALLOWED,
    DispositionStatus,
    Finding,
    Inquiry,
    Phase,
    WarningDisposition,
    warning_disposition_id,
)
from domain.supervision.inquiry import dispatch

TODAY = date(2026, 10, 12)


def meta(day: date = TODAY) -> Meta:
    now = datetime.combine(day, time(9, 30), SHANGHAI)
    return Meta("officer-1", "accountability_officer", "460100-jw", Channel.ONLINE, f"req-{uuid4().hex[:8]}", now)


def opened() -> Inquiry:
    return Inquiry.open(
        meta(),
        inquiry_id=uuid4(),
        warning_ids=["w-1", "w-2", "w-1"],
        subject="先批后录：建设工程规划许可证",
        department="zrzy",
        region_code="460106",
        reason="补录办件的业务时间早于录入两个月",
    )


def replayed(aggregate: Any) -> Any:
    """Fold the aggregate's pending events from nothing, as the repository does."""
    state = None
    for event in aggregate.collect_events():
        state = event.mutate(state)
    return state


BODIES: dict[str, dict[str, Any]] = {
    "request-explanation": {
        "department": "zrzy",
        "deadline": TODAY + timedelta(days=10),
        "questions": ["为何线下办理"],
    },
    "record-explanation": {"department": "zrzy", "explanation": "系统故障期间线下办理"},
    "record-finding": {"finding": "violation_confirmed", "summary": "无故障记录，属体外循环"},
    "record-sanction": {"sanction_type": "通报批评", "target": "规划科", "decision_number": "琼纪〔2026〕3号"},
    "close": {"conclusion": "已问责，整改完成"},
}


def test_an_inquiry_runs_from_opening_through_explanation_finding_and_sanction_to_closing() -> None:
    inquiry = opened()
    assert inquiry.warning_ids == ["w-1", "w-2"]
    for action in ACTIONS:
        dispatch(inquiry, action, meta(), BODIES[action])
    assert inquiry.phase == Phase.CLOSED
    assert inquiry.finding == Finding.VIOLATION_CONFIRMED and inquiry.sanctions == 1
    again = replayed(inquiry)
    assert (again.phase, again.finding, again.sanctions, again.pending) == (Phase.CLOSED, inquiry.finding, 1, {})


def test_a_sanction_needs_a_confirmed_violation() -> None:
    inquiry = opened()
    inquiry.record_finding(meta(), "justified", "台风期间应急审批，事后补录合规")
    with pytest.raises(IllegalTransition) as caught:
        dispatch(inquiry, "record-sanction", meta(), BODIES["record-sanction"])
    assert "justified" in caught.value.state and caught.value.action == "record-sanction"


def test_a_finding_is_final_and_closing_needs_one() -> None:
    inquiry = opened()
    with pytest.raises(IllegalTransition, match="'opened' does not allow 'close'"):
        inquiry.close(meta(), "结案")
    inquiry.record_finding(meta(), "false_alarm", "证照库数据重复")
    with pytest.raises(IllegalTransition):
        inquiry.record_finding(meta(), "violation_confirmed", "改判")
    inquiry.close(meta(), "误报，关闭")
    for action in ACTIONS:
        with pytest.raises(IllegalTransition):
            dispatch(inquiry, action, meta(), BODIES[action])


def test_an_explanation_is_recorded_only_from_a_department_that_was_asked() -> None:
    inquiry = opened()
    inquiry.request_explanation(meta(), "zrzy", TODAY + timedelta(days=5), ["说明情况"])
    with pytest.raises(Conflict, match="zjj"):
        inquiry.record_explanation(meta(), "zjj", "我们没有被问到")
    inquiry.request_explanation(meta(), "zjj", TODAY + timedelta(days=5), ["说明情况"])
    inquiry.record_explanation(meta(), "zrzy", "说明")
    assert inquiry.phase == Phase.EXPLANATION_REQUESTED  # zjj still owes one
    inquiry.record_explanation(meta(), "zjj", "说明")
    assert inquiry.phase == Phase.EXPLAINED


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda i: i.request_explanation(meta(), "zrzy", TODAY, ["q"]), "deadline"),
        (lambda i: i.request_explanation(meta(), "nobody", TODAY + timedelta(days=3), ["q"]), "department"),
        (lambda i: i.request_explanation(meta(), "zrzy", TODAY + timedelta(days=3), [" "]), "questions"),
        (lambda i: i.record_finding(meta(), "guilty", "x"), "finding"),
        (lambda i: i.record_finding(meta(), "justified", ""), "summary"),
    ],
)
def test_malformed_inquiry_commands_name_the_field(change: Any, field: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        change(opened())
    assert caught.value.field == field


def test_an_inquiry_needs_a_warning_a_known_department_and_a_reason() -> None:
    base: dict[str, Any] = {
        "inquiry_id": uuid4(),
        "warning_ids": ["w-1"],
        "subject": "s",
        "department": "zrzy",
        "region_code": "460106",
        "reason": "r",
    }
    for field, bad in (("warning_ids", [" "]), ("department", "xyz"), ("reason", " "), ("region_code", "999999")):
        with pytest.raises(InvalidValue) as caught:
            Inquiry.open(meta(), **{**base, field: bad})
        assert caught.value.field == field


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*ACTIONS, "record-finding:justified", "record-finding:false_alarm"]), max_size=12))
def test_any_sequence_of_actions_follows_the_allowed_table(actions: list[str]) -> None:
    inquiry = opened()
    for token in actions:
        action, _, finding = token.partition(":")
        body = {**BODIES[action], **({"finding": finding} if finding else {})}
        before = inquiry.phase
        allowed = action in ALLOWED[before]
        try:
            dispatch(inquiry, action, meta(), body)
        except (IllegalTransition, Conflict):
            assert inquiry.phase == before  # a refused action changes nothing
            continue
        assert allowed, f"{action} was accepted in {before}"
        # invariants: a sanction only on a confirmed violation, a closed inquiry has a finding
        assert inquiry.sanctions == 0 or inquiry.finding == Finding.VIOLATION_CONFIRMED
        assert inquiry.phase != Phase.CLOSED or inquiry.finding is not None
    assert replayed(inquiry).phase == inquiry.phase


# --- warning dispositions -----------------------------------------------------------------------


@pytest.mark.parametrize("first", ["acknowledge", "link", "close"])
def test_the_first_disposition_of_a_warning_creates_its_aggregate_whichever_it_is(first: str) -> None:
    warning_id = f"W2:{uuid4().hex}"
    if first == "acknowledge":
        disposition = WarningDisposition.acknowledge(None, warning_id, meta(), "已签收")
    elif first == "link":
        disposition = WarningDisposition.link(None, warning_id, meta(), uuid4())
    else:
        disposition = WarningDisposition.close(None, warning_id, meta(), "系统故障期间补录，已核实")
    assert disposition.id == warning_disposition_id(warning_id) and disposition.version == 1
    again = replayed(disposition)
    assert (again.status, again.warning_id) == (disposition.status, warning_id)


def test_a_warning_is_acknowledged_then_linked_then_closed_and_replays_to_the_same_state() -> None:
    inquiry_id = uuid4()
    disposition = WarningDisposition.acknowledge(None, "w-9", meta(), "")
    disposition = WarningDisposition.link(disposition, "w-9", meta(), inquiry_id)
    disposition = WarningDisposition.close(disposition, "w-9", meta(), "调查认定有正当理由")
    names = [type(e).__qualname__ for e in disposition.pending_events]
    assert names == [
        "WarningDisposition.Acknowledged",
        "WarningDisposition.LinkedToInquiry",
        "WarningDisposition.ClosedAsExplained",
    ]
    again = replayed(disposition)
    assert again.status == DispositionStatus.CLOSED and again.inquiry_ids == [inquiry_id] and again.version == 3


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        (["acknowledge"], "acknowledge"),
        (["close"], "close"),
        (["close"], "link"),
        (["link"], "acknowledge"),
    ],
)
def test_illegal_disposition_sequences_are_refused(steps: list[str], refused: str) -> None:
    def do(existing: WarningDisposition | None, action: str) -> WarningDisposition:
        match action:
            case "acknowledge":
                return WarningDisposition.acknowledge(existing, "w-1", meta(), "")
            case "link":
                return WarningDisposition.link(existing, "w-1", meta(), uuid4())
            case _:
                return WarningDisposition.close(existing, "w-1", meta(), "说明")

    disposition = None
    for step in steps:
        disposition = do(disposition, step)
    with pytest.raises(IllegalTransition):
        do(disposition, refused)


def test_closing_a_warning_needs_an_explanation() -> None:
    with pytest.raises(InvalidValue) as caught:
        WarningDisposition.close(None, "w-1", meta(), "  ")
    assert caught.value.field == "explanation"
