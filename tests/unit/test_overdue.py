"""超期 — the one definition of an overdue case (domain/approvals/overdue.py), on dates counted by hand
from the State Council's 2026 schedule (National Day: Saturday 10 October is a make-up working day)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.approvals import CaseClock, Pause
from domain.approvals.overdue import DECIDED, OPEN, counts_as_overdue, is_overdue, judged_on
from domain.shared.workdays import is_workday

MON = date(2026, 10, 12)  # Monday; working days follow Tue 13 … Fri 16, then Mon 19, Tue 20


def test_an_open_case_is_overdue_from_the_first_working_day_after_its_deadline() -> None:
    clock = CaseClock(accepted_on=MON, limit_days=3)  # deadline Thursday 15 October
    assert not is_overdue(clock, date(2026, 10, 15))
    assert is_overdue(clock, date(2026, 10, 16))


def test_a_non_working_day_after_the_deadline_adds_no_working_day() -> None:
    clock = CaseClock(accepted_on=MON, limit_days=4)  # deadline Friday 16 October
    assert not is_overdue(clock, date(2026, 10, 17))  # Saturday
    assert not is_overdue(clock, date(2026, 10, 18))  # Sunday
    assert is_overdue(clock, date(2026, 10, 19))


def test_a_make_up_working_day_counts() -> None:
    clock = CaseClock(accepted_on=date(2026, 10, 9), limit_days=1)  # the limit's one day is Saturday 10 October
    assert not is_overdue(clock, date(2026, 10, 11))
    assert is_overdue(clock, date(2026, 10, 12))


def test_the_days_of_a_correction_or_special_procedure_are_not_counted() -> None:
    # paused Tue 13 → Thu 15: the working days in (13, 15], Wed 14 and Thu 15, are not counted
    pause = Pause("special_procedure", date(2026, 10, 13), date(2026, 10, 15))
    clock = CaseClock(accepted_on=MON, limit_days=3, pauses=(pause,))
    assert not is_overdue(clock, date(2026, 10, 19))  # 5 working days, 2 paused: 3 used
    assert is_overdue(clock, date(2026, 10, 20))
    still_paused = CaseClock(accepted_on=MON, limit_days=3, pauses=(Pause("correction", date(2026, 10, 13)),))
    assert not is_overdue(still_paused, date(2026, 11, 30))  # the applicant's time


def test_a_decided_case_is_judged_on_its_decision_day_for_good() -> None:
    late = CaseClock(accepted_on=MON, limit_days=3, stopped_on=date(2026, 10, 16))
    on_time = CaseClock(accepted_on=MON, limit_days=3, stopped_on=date(2026, 10, 15))
    for today in (date(2026, 10, 16), date(2026, 12, 31)):
        assert is_overdue(late, today) and not is_overdue(on_time, today)
    assert judged_on(late, date(2026, 12, 31)) == date(2026, 10, 16)
    # judged before its decision day (a report made as of an earlier day), the case was still open
    assert not is_overdue(late, date(2026, 10, 15))


def test_cases_without_acceptance_or_limit_and_withdrawn_or_refused_at_acceptance_never_count() -> None:
    late = CaseClock(accepted_on=MON, limit_days=3, stopped_on=date(2026, 10, 30))
    today = date(2026, 11, 30)
    assert not is_overdue(CaseClock(accepted_on=None, limit_days=3), today)
    assert not is_overdue(CaseClock(accepted_on=MON, limit_days=None), today)  # a back-entry names no limit
    assert [s for s in range(1, 16) if counts_as_overdue(s, late, today)] == sorted(OPEN | DECIDED)
    assert not any(counts_as_overdue(s, late, today) for s in (2, 4, 5, 14))


@given(
    accepted=st.dates(date(2026, 1, 1), date(2026, 12, 1)),
    limit=st.integers(0, 30),
    stop=st.one_of(st.none(), st.integers(0, 90)),
    days=st.lists(st.integers(0, 120), min_size=2, max_size=2),
)
def test_once_overdue_a_case_stays_overdue(accepted: date, limit: int, stop: int | None, days: list[int]) -> None:
    clock = CaseClock(accepted, limit, stopped_on=None if stop is None else accepted + timedelta(days=stop))
    earlier, later = sorted(accepted + timedelta(days=d) for d in days)
    assert not is_overdue(clock, earlier) or is_overdue(clock, later)


@st.composite
def clocks(draw: st.DrawFn) -> tuple[CaseClock, date]:
    """A clock with non-overlapping pauses after acceptance, maybe stopped, and a day to judge it on."""
    accepted = draw(st.dates(date(2026, 1, 1), date(2026, 11, 30)))
    cursor, pauses = 1, []
    for _ in range(draw(st.integers(0, 3))):
        start = cursor + draw(st.integers(0, 10))
        length = draw(st.one_of(st.none(), st.integers(1, 15)))
        end = None if length is None else accepted + timedelta(days=start + length)
        kind = draw(st.sampled_from(["correction", "special_procedure"]))
        pauses.append(Pause(kind, accepted + timedelta(days=start), end))
        if length is None:
            break
        cursor = start + length + 1
    stop = draw(st.one_of(st.none(), st.integers(0, 80)))
    clock = CaseClock(
        accepted,
        draw(st.integers(0, 20)),
        tuple(pauses),
        stopped_on=None if stop is None else accepted + timedelta(days=stop),
    )
    return clock, accepted + timedelta(days=draw(st.integers(0, 90)))


@given(clocks())
def test_overdue_is_more_counted_working_days_than_the_limit_counting_day_by_day(case: tuple[CaseClock, date]) -> None:
    """An oracle written from the definition: walk the days after acceptance up to the day judged
    (the stop, if by then), count each working day on which no pause held the clock."""
    clock, today = case
    judged = clock.stopped_on if clock.stopped_on is not None and clock.stopped_on <= today else today
    counted = 0
    day = clock.accepted_on + timedelta(days=1)  # type: ignore[operator]
    while day <= judged:
        paused = any(p.start < day <= min(p.end or judged, judged) for p in clock.pauses)
        counted += is_workday(day) and not paused
        day += timedelta(days=1)
    assert is_overdue(clock, today) == (counted > (clock.limit_days or 0))
