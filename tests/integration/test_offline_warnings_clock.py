"""W6 for a case still open far past its deadline (issue 15): "today" is the day of the log's
last `SupervisionClock.Ticked`, never the wall clock, so a rebuild gives the warnings the live run
gave; a decision later turns it into W6.decided_overdue. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from application.bootstrap import Container
from application.clock import SimulatedClock
from tests.integration.test_offline_warnings import CLERK, World, clock, container, warnings, world

__all__ = ["clock", "container", "world"]  # the fixtures of test_offline_warnings


def test_an_open_case_far_past_its_deadline_is_a_warning_from_the_log_day(
    container: Container, clock: SimulatedClock, world: World
) -> None:
    code = world.project("时钟测试项目", 901)
    case_id = world.submit(code, "GJ-1-02")["id"]  # promised limit 5 working days
    world.later()
    accepted = world.act(case_id, "accept", who=CLERK)
    # Step. 15 calendar days on (past the deadline, within the grace of 10 working days): nothing
    clock.advance(days=15)
    assert container.automation.ticker.tick() is not None
    assert [w for w in warnings(container) if w["rule"] == "W6"] == []
    # Step. Nothing is raised by the wall clock moving on: only a tick in the log counts
    clock.advance(days=30)
    assert [w for w in warnings(container) if w["rule"] == "W6"] == []
    assert container.automation.ticker.tick() is not None
    [opened] = [w for w in warnings(container) if w["rule"] == "W6"]
    assert (opened["reason"], opened["case_id"], opened["status"]) == ("W6.open_overdue", case_id, "open")
    assert str(accepted) in opened["evidence"] and "本系统办件" in opened["explanation"]
    # Step. Decided at last: the open-case warning gives way to W6.decided_overdue
    world.later(timedelta(hours=1))
    world.act(case_id, "start-review")
    world.act(case_id, "approve", {"document_number": "海自然资字〔2026〕钟001号"})
    states = {w["reason"]: w["status"] for w in warnings(container) if w["rule"] == "W6"}
    assert states == {"W6.open_overdue": "resolved", "W6.decided_overdue": "open"}
    # Step. A rebuild replays the ticks: the same warnings, ids and states
    before = {w["warning_id"]: (w["reason"], w["status"], w["evidence"]) for w in warnings(container)}
    container.engine.rebuild("offline_warnings")
    assert {w["warning_id"]: (w["reason"], w["status"], w["evidence"]) for w in warnings(container)} == before
