"""办件 — the case state machine (BLZT 1–15), its working-day clock and offline back-entry."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.application import project_aggregate
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.approvals.case import Case
from domain.approvals.status import ACTIONS, ALLOWED, CaseStatus, Decision, Phase
from domain.catalog import CATALOG
from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import SHANGHAI, Channel, Meta
from domain.shared.reference import REFERENCE
from domain.shared.workdays import add_workdays, workdays_between

ITEM = CATALOG.item("GJ-2-01")  # 建设工程规划许可证核发: promised 8, legal 20 working days
# the same item, as if it allowed 告知承诺制 (the terms of an item that does, GJ-3-03)
COMMITTING = replace(ITEM, commitment=CATALOG.item("GJ-3-03").commitment)
MONDAY = date(2026, 3, 2)
OWNER = "91460000MA5T0P3X64"


def meta(day: date, channel: Channel = Channel.ONLINE, occurred_at: datetime | None = None, second: int = 0) -> Meta:
    now = datetime.combine(day, time(10, 0, second), SHANGHAI)
    return Meta("tester", "reviewer", "460100-zrzy", channel, f"req-{uuid4().hex[:8]}", now, occurred_at)


def received(day: date = MONDAY) -> Case:
    return Case.receive(
        meta(day), case_id=uuid4(), project_id=uuid4(), project_code="2603-460100-04-01-123456",
        region_code="460106", applicant_org=OWNER, item=ITEM, situation_codes=[], materials=[],
        parallel_application_id=None, acceptance_mode=4,
    )  # fmt: skip


# Each action with arguments that are valid, so only the state decides.
PERFORM: dict[str, Callable[[Case, Meta], None]] = {
    "accept": lambda c, m: c.accept(m, ITEM),
    "not-accept": lambda c, m: c.not_accept(m, "不属于本部门职权"),
    "refuse-acceptance": lambda c, m: c.refuse_acceptance(m, "不符合受理条件"),
    "request-correction": lambda c, m: c.request_correction(m, ["总平面图"], "指标不一致"),
    "complete-correction": lambda c, m: c.complete_correction(m, "已补正"),
    "start-review": lambda c, m: c.start_review(m),
    "record-opinion": lambda c, m: c.record_opinion(m, "zrzy", "符合规划条件", "agree"),
    "start-special-procedure": lambda c, m: c.start_special_procedure(m, "expert_review", "专家评审", 10, "技术复杂"),
    "end-special-procedure": lambda c, m: c.end_special_procedure(m, "评审通过"),
    "approve": lambda c, m: c.approve(m, "海口规字〔2026〕1号", ITEM.name, date(2027, 12, 31)),
    "approve-pending-materials": lambda c, m: c.approve_pending_materials(m, None, ["施工图审查合格书"], item=ITEM),
    "approve-on-commitment": lambda c, m: c.approve_on_commitment(m, COMMITTING, ["已取得施工图审查合格书"]),
    "supply-materials": lambda c, m: c.supply_materials(m, ["施工图审查合格书"], "已补齐"),
    "verify-commitment": lambda c, m: c.verify_commitment(m, True, "核查属实", []),
    "refuse": lambda c, m: c.refuse(m, "不符合控制性详细规划"),
    "withdraw": lambda c, m: c.withdraw(m, "申请人撤回"),
    "revoke": lambda c, m: c.revoke(m, "以欺骗手段取得"),
}

# The status each action leads to (None: unchanged); withdraw depends on acceptance.
LEADS_TO: dict[str, int | None] = {
    "accept": 3, "not-accept": 4, "refuse-acceptance": 5, "request-correction": 6, "complete-correction": 7,
    "start-review": 8, "record-opinion": None, "start-special-procedure": 9, "end-special-procedure": 10,
    "approve": 11, "approve-pending-materials": 12, "refuse": 13, "withdraw": None, "revoke": 15,
    "approve-on-commitment": 11, "supply-materials": None, "verify-commitment": None,
}  # fmt: skip

# A way into each phase from a fresh case.
PATHS: dict[Phase, tuple[str, ...]] = {
    Phase.RECEIVED: (),
    Phase.CORRECTION: ("request-correction",),
    Phase.IN_REVIEW: ("accept",),
    Phase.SUSPENDED: ("accept", "start-special-procedure"),
    Phase.DECIDED: ("accept", "approve"),
    Phase.CLOSED: ("withdraw",),
}


# Actions the phase allows only for some cases: a way to such a case, and the guard.
GUARDED_PATHS: dict[str, tuple[str, ...]] = {
    "supply-materials": ("accept", "approve-pending-materials"),
    "verify-commitment": ("accept", "approve-on-commitment"),
}


def may(case: Case, action: str) -> bool:
    """What the case allows: the phase's actions, less those whose guard does not hold."""
    if action == "start-review" and case.review_started:
        return False
    if action == "supply-materials" and not case.follow_up.pending_materials:
        return False
    f = case.follow_up
    if action == "verify-commitment" and (not f.commitments or f.commitment_checked_on is not None):
        return False
    return action in ALLOWED[case.phase]


def case_in(phase: Phase, action: str | None = None) -> Case:
    case = received()
    path = GUARDED_PATHS.get(action or "", PATHS[phase]) if phase == Phase.DECIDED else PATHS[phase]
    for n, action in enumerate(path, start=1):
        PERFORM[action](case, meta(add_workdays(MONDAY, n)))
    assert case.phase == phase
    return case


def test_every_action_of_the_api_has_a_method() -> None:
    assert set(PERFORM) == set(ACTIONS) == set(LEADS_TO)
    assert set(ALLOWED) == set(Phase)


@pytest.mark.parametrize(("phase", "action"), [(p, a) for p in Phase for a in ACTIONS if a not in ALLOWED[p]], ids=str)
def test_an_action_the_phase_does_not_allow_raises_naming_state_and_action(phase: Phase, action: str) -> None:
    case = case_in(phase)
    version = case.version
    with pytest.raises(IllegalTransition) as caught:
        PERFORM[action](case, meta(add_workdays(MONDAY, 5)))
    assert caught.value.action == action
    assert caught.value.state.startswith(f"{case.status.value} {case.status.label}")
    assert str(case.status.value) in str(caught.value) and action in str(caught.value)
    assert case.version == version  # nothing was recorded


@pytest.mark.parametrize(("phase", "action"), [(p, a) for p in Phase for a in sorted(ALLOWED[p])], ids=str)
def test_an_action_the_phase_allows_is_recorded(phase: Phase, action: str) -> None:
    case = case_in(phase, action)
    before = case.status
    PERFORM[action](case, meta(add_workdays(MONDAY, 5)))
    expected = LEADS_TO[action]
    if action == "withdraw":
        expected = 2 if case.accepted_on is None else 14
    assert case.status == (before if expected is None else expected)


def test_a_closed_case_accepts_nothing() -> None:
    assert ALLOWED[Phase.CLOSED] == frozenset()
    for path in (
        ("withdraw",),
        ("not-accept",),
        ("refuse-acceptance",),
        ("accept", "refuse"),
        ("accept", "approve", "revoke"),
    ):
        case = received()
        for n, action in enumerate(path, start=1):
            PERFORM[action](case, meta(add_workdays(MONDAY, n)))
        assert case.phase == Phase.CLOSED
        for action in ACTIONS:
            with pytest.raises(IllegalTransition):
                PERFORM[action](case, meta(add_workdays(MONDAY, 9)))


def test_review_starts_only_once() -> None:
    case = case_in(Phase.IN_REVIEW)
    case.start_review(meta(add_workdays(MONDAY, 2)))
    with pytest.raises(IllegalTransition, match="review already started"):
        case.start_review(meta(add_workdays(MONDAY, 3)))


def test_a_correction_before_acceptance_returns_to_the_desk() -> None:
    case = case_in(Phase.CORRECTION)
    case.complete_correction(meta(add_workdays(MONDAY, 3)), "已补交")
    assert case.status == CaseStatus.CORRECTION_COMPLETED and case.phase == Phase.RECEIVED
    assert case.pauses == []  # the clock had not started


def test_a_transition_cannot_be_dated_before_the_previous_one() -> None:
    case = received(add_workdays(MONDAY, 3))
    with pytest.raises(InvalidValue) as caught:
        case.accept(meta(MONDAY), ITEM)
    assert caught.value.rule == "order"


@pytest.mark.parametrize(
    ("action", "field", "call"),
    [
        ("request-correction", "materials", lambda c, m: c.request_correction(m, [], "x")),
        ("refuse", "reason", lambda c, m: c.refuse(m, "  ")),
        ("record-opinion", "result", lambda c, m: c.record_opinion(m, "zrzy", "意见", "maybe")),
        ("start-special-procedure", "limit_days", lambda c, m: c.start_special_procedure(m, "hearing", "听证", 0, "")),
        ("approve-pending-materials", "pending_materials", lambda c, m: c.approve_pending_materials(m, None, [])),
    ],
)
def test_an_action_with_invalid_arguments_is_refused_naming_the_field(
    action: str, field: str, call: Callable[[Case, Meta], None]
) -> None:
    case = case_in(Phase.IN_REVIEW)
    with pytest.raises(InvalidValue) as caught:
        call(case, meta(add_workdays(MONDAY, 2)))
    assert caught.value.field == field


# --- the clock ------------------------------------------------------------------------------


def test_the_clock_counts_working_days_from_the_day_after_acceptance() -> None:
    case = case_in(Phase.IN_REVIEW)
    accepted = add_workdays(MONDAY, 1)
    assert case.clock.working_days_used(accepted) == 0
    assert case.clock.working_days_used(add_workdays(accepted, 4)) == 4
    assert case.clock.deadline(accepted) == add_workdays(accepted, ITEM.promised_limit_days)


@pytest.mark.parametrize("pause", ["correction", "special_procedure"])
def test_a_correction_or_special_procedure_stops_the_clock_and_moves_the_deadline(pause: str) -> None:
    case = case_in(Phase.IN_REVIEW)
    accepted = add_workdays(MONDAY, 1)
    start, end = add_workdays(accepted, 2), add_workdays(accepted, 7)
    begin, finish = ("request-correction", "complete-correction")
    if pause == "special_procedure":
        begin, finish = ("start-special-procedure", "end-special-procedure")
    PERFORM[begin](case, meta(start))
    assert case.clock.is_paused()
    assert case.clock.working_days_used(add_workdays(start, 3)) == 2  # frozen while paused
    PERFORM[finish](case, meta(end))
    assert not case.clock.is_paused()
    today = add_workdays(accepted, 10)
    assert case.clock.paused_days(today) == 5
    assert case.clock.working_days_used(today) == 10 - 5
    assert case.clock.deadline(today) == add_workdays(accepted, ITEM.promised_limit_days + 5)


def test_overdue_is_derived_from_the_working_days_used() -> None:
    case = case_in(Phase.IN_REVIEW)
    accepted = add_workdays(MONDAY, 1)
    limit = ITEM.promised_limit_days
    assert not case.clock.overdue(add_workdays(accepted, limit))
    assert case.clock.overdue(add_workdays(accepted, limit + 1))
    case.request_correction(meta(add_workdays(accepted, 2)), ["图纸"], "补正")
    assert not case.clock.overdue(add_workdays(accepted, limit + 1))  # paused, so still within the limit


def test_the_clock_stops_at_the_decision() -> None:
    case = case_in(Phase.IN_REVIEW)
    accepted = add_workdays(MONDAY, 1)
    case.approve(meta(add_workdays(accepted, 3)), None, None, None)
    assert case.clock.working_days_used(add_workdays(accepted, 40)) == 3
    assert not case.clock.overdue(add_workdays(accepted, 40))


def test_withdrawing_during_a_special_procedure_closes_the_pause() -> None:
    case = case_in(Phase.SUSPENDED)
    case.withdraw(meta(add_workdays(MONDAY, 4)), "撤回")
    assert case.status == CaseStatus.WITHDRAWN
    assert all(p.end is not None for p in case.pauses)


# --- back-entry (补录) ----------------------------------------------------------------------


def back_entry_meta(channel: Channel = Channel.OFFLINE_BACKENTRY, decided: date | None = MONDAY) -> Meta:
    occurred = datetime.combine(decided, time(15, 0), SHANGHAI) if decided else None
    return meta(add_workdays(MONDAY, 5), channel, occurred)


def back_enter(
    m: Meta, decision: Decision = Decision.APPROVED, reason: str = "系统故障期间线下办理", **dates: Any
) -> Case:
    return Case.back_enter(
        m, case_id=uuid4(), project_id=uuid4(), project_code="2603-460100-04-01-123456", region_code="460106",
        applicant_org=OWNER, item=ITEM, decision=decision, received_on=dates.get("received_on"),
        accepted_on=dates.get("accepted_on", MONDAY - timedelta(days=3)), document_number="海口规字〔2026〕9号",
        reason=reason,
    )  # fmt: skip


def test_a_back_entry_records_the_decision_with_its_business_time() -> None:
    case = back_enter(back_entry_meta())
    assert case.status == CaseStatus.APPROVED and case.phase == Phase.DECIDED
    assert case.back_entered and case.stopped_on == MONDAY
    (event,) = case.collect_events()
    assert event.channel == Channel.OFFLINE_BACKENTRY
    assert event.occurred_at < event.timestamp


def test_a_back_entered_refusal_is_closed() -> None:
    assert back_enter(back_entry_meta(), Decision.REFUSED).phase == Phase.CLOSED


@pytest.mark.parametrize(
    ("m", "reason", "field", "rule"),
    [
        (lambda: back_entry_meta(Channel.ONLINE), "线下办理", "channel", "channel"),
        (lambda: back_entry_meta(Channel.WINDOW), "线下办理", "channel", "channel"),
        (lambda: back_entry_meta(decided=None), "线下办理", "decided_at", "required"),
        (lambda: back_entry_meta(), "   ", "reason", "required"),
    ],
)
def test_a_back_entry_needs_the_offline_channel_a_business_time_and_a_reason(
    m: Callable[[], Meta], reason: str, field: str, rule: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        back_enter(m(), reason=reason)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_a_back_entry_cannot_be_accepted_after_it_was_decided() -> None:
    with pytest.raises(InvalidValue) as caught:
        back_enter(back_entry_meta(), accepted_on=MONDAY + timedelta(days=1))
    assert caught.value.rule == "order"


def test_a_business_time_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        meta(MONDAY, Channel.OFFLINE_BACKENTRY, datetime.combine(MONDAY + timedelta(days=1), time(9), SHANGHAI))
    assert caught.value.rule == "occurred_in_future"


# --- random sequences -----------------------------------------------------------------------


def _state(case: Case) -> dict[str, Any]:
    return {
        k: getattr(case, k)
        for k in ("id", "version", "status", "accepted_on", "limit_days", "pauses", "stopped_on", "corrections",
                  "review_started", "back_entered", "history", "follow_up")
    }  # fmt: skip


def _check_invariants(case: Case, today: date) -> None:
    assert case.status.value in REFERENCE.case_statuses
    clock = case.clock
    used = clock.working_days_used(today)
    if case.accepted_on is None:
        assert used is None and case.pauses == []
        return
    assert used is not None and 0 <= used <= workdays_between(case.accepted_on, today)
    assert used <= (today - case.accepted_on).days
    assert clock.paused_days(today) >= 0
    for earlier, later in zip(case.pauses, case.pauses[1:], strict=False):
        assert earlier.end is not None and earlier.end <= later.start  # pauses never overlap
    assert sum(p.end is None for p in case.pauses) <= 1
    deadline = clock.deadline(today)
    assert deadline is not None and deadline >= add_workdays(case.accepted_on, ITEM.promised_limit_days)
    assert clock.overdue(today) == (used > ITEM.promised_limit_days)


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(min_value=0, max_value=4)), max_size=25))
def test_random_action_sequences_keep_the_invariants_and_replay_to_the_same_state(
    steps: list[tuple[str, int]],
) -> None:
    case = received()
    day = MONDAY
    for n, (action, gap) in enumerate(steps):
        day = add_workdays(day, gap)
        before = _state(case)
        allowed = may(case, action)
        was_accepted = case.accepted_on is not None
        if allowed:
            PERFORM[action](case, meta(day, second=n % 60))
            expected = LEADS_TO[action] if action != "withdraw" else (14 if was_accepted else 2)
            assert case.status == (before["status"] if expected is None else expected)
            assert case.version == before["version"] + 1
        else:
            with pytest.raises(IllegalTransition):
                PERFORM[action](case, meta(day, second=n % 60))
            assert _state(case) == before
        _check_invariants(case, add_workdays(day, 3))
    replayed = project_aggregate(None, case.collect_events())
    assert isinstance(replayed, Case)
    assert _state(replayed) == _state(case)


def test_the_architecture_page_lists_the_allowed_actions_of_every_phase() -> None:
    page = (Path(__file__).parents[2] / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \| [^|]+ \| ([^|]+) \|$", page, flags=re.MULTILINE)
    documented = {phase: frozenset(re.findall(r"`([\w-]+)`", actions)) for phase, actions in rows}
    assert documented == {phase.value: actions for phase, actions in ALLOWED.items()}
