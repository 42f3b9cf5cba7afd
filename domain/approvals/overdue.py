"""超期 — the one definition of an overdue case, used by the demo banner, `statistics`, the monthly
report and the W6 warning rule (docs/supervision.md, "Overdue (超期)").

A case is overdue when the working days its clock ran exceed its promised limit (承诺时限):
- counted on the published work calendar (工作日历) from the day after acceptance (受理次日起算,
  行政许可法 art. 42 and 82: periods in working days, public holidays excluded);
- the days a correction (补正) or special procedure (特别程序: 听证、专家评审、公示 …, art. 45)
  stops the clock are not counted;
- a case decided (办结: approved, approved pending materials, refused; a revoked case was decided
  first) is judged on the day of its decision, for good: overdue if decided after its deadline;
- an open case is judged today: overdue from the first working day after its deadline (a
  non-working day adds no working day, so it cannot take a case past its limit);
- a case never accepted, without a limit (a back-entry names none), withdrawn or refused at
  acceptance is never overdue: the department's time limit ran for nothing it had to decide.

Pure: no I/O, no clock; "today" and the calendar come in with the arguments.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from domain.approvals.clock import CaseClock

# 办理状态 (BLZT) codes of reference/case_status.csv
DECIDED = frozenset({11, 12, 13, 15})  # approved, approved pending materials, refused, revoked
OPEN = frozenset({1, 3, 6, 7, 8, 9, 10})  # received … special procedure ended
JUDGED = DECIDED | OPEN  # the statuses whose cases can be overdue


def judged_on(clock: CaseClock, today: date) -> date:
    """The day a case is judged on: its stop day once stopped by `today`, otherwise `today`."""
    stopped = clock.stopped_on
    return stopped if stopped is not None and stopped <= today else today


def as_of(clock: CaseClock, today: date) -> CaseClock:
    """The clock as it stood at the end of `today`: a stop or pause recorded for a later day had
    not happened yet (a report made as of an earlier day judges what was known then)."""
    stopped = clock.stopped_on if clock.stopped_on is not None and clock.stopped_on <= today else None
    pauses = tuple(
        p if p.end is None or p.end <= today else replace(p, end=None) for p in clock.pauses if p.start <= today
    )
    if stopped == clock.stopped_on and pauses == clock.pauses:
        return clock
    return replace(clock, stopped_on=stopped, pauses=pauses)


def is_overdue(clock: CaseClock, today: date) -> bool:
    """超期 — the clock's working days up to `judged_on(clock, today)` exceed its limit.

    Equivalently: the case was decided, or is still open, after its deadline (the last working day
    of the limit, moved out by the paused working days), counting working days only. A clock never
    started (not accepted) or without a limit is never overdue."""
    if clock.accepted_on is None or clock.limit_days is None or clock.accepted_on > today:
        return False
    day = judged_on(clock, today)
    used = as_of(clock, day).working_days_used(day)
    return used is not None and used > clock.limit_days


def counts_as_overdue(status_code: int, clock: CaseClock, today: date) -> bool:
    """超期 in counts (`statistics`, the monthly report, the demo banner): an open or decided case
    whose clock is overdue; withdrawn cases and refusals at acceptance never count."""
    return status_code in JUDGED and is_overdue(clock, today)
