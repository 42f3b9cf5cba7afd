"""办件 — the case lifecycle as a hypothesis state machine: any sequence of commands, on any working
days, keeps the BLZT status legal and equal to an independent model, refuses what the phase does not
allow without recording anything, and keeps the working-day clock's invariants."""

from __future__ import annotations

from datetime import date

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.approvals.case import Case
from domain.approvals.status import ACTIONS, ALLOWED, CaseStatus, Phase
from domain.shared.errors import IllegalTransition
from domain.shared.reference import REFERENCE
from domain.shared.workdays import add_workdays, workdays_between
from tests.unit.test_case_lifecycle import LEADS_TO, MONDAY, PERFORM, meta, received

CLOSED = {2, 4, 5, 13, 14, 15}
DECIDED = {11, 12}


class CaseLifecycle(RuleBasedStateMachine):
    """The model: status, whether accepted, whether review started, the open pause, and what a
    decision left to follow (容缺 materials pending, a 告知承诺 commitment not yet verified)."""

    @initialize()
    def receive(self) -> None:
        self.case: Case = received(MONDAY)
        self.day = MONDAY
        self.status = 1
        self.accepted = False
        self.review_started = False
        self.pending = False  # 容缺 materials to follow
        self.committed = False  # a commitment to verify
        self.recorded = 1  # events: Received

    def _phase(self) -> Phase:
        if self.status in CLOSED:
            return Phase.CLOSED
        if self.status in DECIDED:
            return Phase.DECIDED
        if self.status == 6:
            return Phase.CORRECTION
        if self.status == 9:
            return Phase.SUSPENDED
        return Phase.IN_REVIEW if self.accepted else Phase.RECEIVED

    def _allowed(self, action: str) -> bool:
        if action == "start-review" and self.review_started:
            return False
        if (action == "supply-materials" and not self.pending) or (
            action == "verify-commitment" and not self.committed
        ):
            return False
        return action in ALLOWED[self._phase()]

    @rule(action=st.sampled_from(ACTIONS), gap=st.integers(min_value=0, max_value=4))
    def act(self, action: str, gap: int) -> None:
        day = add_workdays(self.day, gap) if gap else self.day
        before = (self.case.version, self.case.status, list(self.case.pauses), self.case.accepted_on)
        if not self._allowed(action):
            try:
                PERFORM[action](self.case, meta(day))
            except IllegalTransition as refused:
                assert refused.action == action
            else:
                raise AssertionError(f"{action} was allowed in status {self.status}")
            # nothing recorded, nothing changed
            after = (self.case.version, self.case.status, list(self.case.pauses), self.case.accepted_on)
            assert after == before
            return
        PERFORM[action](self.case, meta(day))
        self.day = day
        self.recorded += 1
        if action == "withdraw":
            self.status = 14 if self.accepted else 2
        elif LEADS_TO[action] is not None:
            self.status = int(LEADS_TO[action])  # type: ignore[arg-type]
        self.accepted = self.accepted or action == "accept"
        self.review_started = self.review_started or action == "start-review"
        self.pending = action == "approve-pending-materials" or (self.pending and action != "supply-materials")
        self.committed = action == "approve-on-commitment" or (self.committed and action != "verify-commitment")

    @rule(gap=st.integers(min_value=0, max_value=4))
    def find_a_commitment_false(self, gap: int) -> None:
        """承诺核查不实: the case is revoked (15), naming the false commitment; else nothing is recorded."""
        day = add_workdays(self.day, gap) if gap else self.day
        version = self.case.version
        if not self._allowed("verify-commitment"):
            try:
                self.case.verify_commitment(meta(day), False, "现场核查不符", ["已取得施工图审查合格书"])
            except IllegalTransition as refused:
                assert refused.action == "verify-commitment"
            else:
                raise AssertionError(f"a false commitment was recorded in status {self.status}")
            assert self.case.version == version
            return
        self.case.verify_commitment(meta(day), False, "现场核查不符", ["已取得施工图审查合格书"])
        self.day, self.recorded, self.status, self.committed = day, self.recorded + 1, 15, False
        assert "已取得施工图审查合格书" in self.case.collect_events()[-1].reason  # type: ignore[attr-defined]

    @invariant()
    def what_was_left_to_follow_matches_the_model(self) -> None:
        f = self.case.follow_up
        assert bool(f.pending_materials) == self.pending  # kept by a revocation: the case is closed anyway
        assert (bool(f.commitments) and f.commitment_checked_on is None) == self.committed

    @invariant()
    def status_is_a_legal_blzt_code_equal_to_the_model(self) -> None:
        assert self.case.status.value in REFERENCE.case_statuses
        assert self.case.status == CaseStatus(self.status)
        assert self.case.phase == self._phase()

    @invariant()
    def every_recorded_event_and_only_those_changed_the_version(self) -> None:
        assert self.case.version == self.recorded == len(self.case.history)
        dates = [d for d, _ in self.case.history]
        assert dates == sorted(dates), "business dates never go back"

    @invariant()
    def the_clock_holds(self) -> None:
        clock = self.case.clock
        later = add_workdays(self.day, 7)
        open_pauses = [p for p in clock.pauses if p.end is None]
        assert len(open_pauses) <= 1
        assert clock.is_paused() == (self.accepted and self.status in (6, 9))
        for p in clock.pauses:
            assert p.end is None or p.start <= p.end
        if not self.accepted:
            assert clock.working_days_used(later) is None and clock.deadline(later) is None
            return
        accepted_on = clock.accepted_on
        assert accepted_on is not None and clock.limit_days is not None
        used = clock.working_days_used(later)
        assert used is not None and 0 <= used <= workdays_between(accepted_on, later)
        assert clock.paused_days(later) >= 0
        deadline = clock.deadline(later)
        assert deadline is not None and deadline >= add_workdays(accepted_on, clock.limit_days)
        if self.status in CLOSED | DECIDED:
            # a stopped clock does not move
            assert clock.stopped_on is not None and clock.stopped_on <= self.day
            assert clock.working_days_used(later) == clock.working_days_used(add_workdays(later, 30))
        if clock.is_paused():
            assert clock.working_days_used(later) == clock.working_days_used(add_workdays(later, 5))


CaseLifecycle.TestCase.settings = settings(max_examples=150, stateful_step_count=25, deadline=None)
test_case_lifecycle_state_machine = CaseLifecycle.TestCase


def test_the_model_knows_every_status() -> None:
    assert set(REFERENCE.case_statuses) == {s.value for s in CaseStatus} == set(range(1, 16))
    assert date(2026, 3, 2).weekday() == 0  # MONDAY is a Monday: gaps are whole working days
