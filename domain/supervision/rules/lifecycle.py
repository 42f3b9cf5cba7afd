"""The rules over one case's life (W2, W3, W6, W7, W10) as pure functions of its facts.

Each rule reads a `CaseFacts` (and, for the time-driven W6.open_overdue, the day the log's clock
last ticked) and returns its findings; nothing here reads a clock, a database or the arrival order
of the facts, so the same facts give the same findings in any order (tests/unit/
test_lifecycle_rules.py holds that as a property). docs/supervision.md describes each rule.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta

from domain.approvals.clock import CaseClock, Pause
from domain.approvals.overdue import is_overdue
from domain.shared.events import SHANGHAI
from domain.shared.workdays import workdays_between
from domain.supervision.rules.facts import CLOSINGS, TRANSITIONS, CaseFacts, Finding, Kind, Limits, Step

MIDNIGHT = time(0, 0)


def _day(moment: datetime) -> date:
    return (moment.astimezone(SHANGHAI) if moment.tzinfo else moment).date()


def _clock_time(moment: datetime) -> time:
    return (moment.astimezone(SHANGHAI) if moment.tzinfo else moment).time()


def _local(moment: datetime) -> str:
    return (moment.astimezone(SHANGHAI) if moment.tzinfo else moment).isoformat(timespec="seconds")


def _timed(case: CaseFacts) -> list[Step]:
    return case.timed()  # (cached on the facts: every rule reads it)


def _first(steps: Iterable[Step], *kinds: Kind) -> Step | None:
    return next((s for s in steps if s.kind in kinds), None)


def _positions(steps: Iterable[Step]) -> tuple[int, ...]:
    return tuple(sorted({s.source.position for s in steps}))


def late_recording(case: CaseFacts, t: Limits) -> list[Finding]:
    """W2 先批后录: a step recorded (by the system that produced it) long after its business time
    (a back-entry is W2.back_entry, whatever the gap)."""
    late = []
    for s in _timed(case):
        if s.recorded_at is None or s.business_time is None or s.back_entry:
            continue
        hours = (s.recorded_at - s.business_time).total_seconds() / 3600
        if hours > t.max_business_lag_hours:
            late.append((hours, s))
    if not late:
        return []
    hours, worst = max(late, key=lambda pair: (pair[0], pair[1].source.ref))
    assert worst.business_time is not None and worst.recorded_at is not None
    text = (
        f"办件{case.case_id}有{len(late)}条记录的业务时间远早于录入时间（最久：{worst.source.describe()}，"
        f"业务时间{_local(worst.business_time)}，录入{_local(worst.recorded_at)}，相差{hours:.1f}小时，"
        f"容忍{t.max_business_lag_hours:g}小时），疑似先批后录。"
    )
    return [Finding("W2", (case.case_id,), "W2.late_recording", text, _positions(s for _, s in late))]


def compressed(case: CaseFacts, t: Limits) -> list[Finding]:
    """W3: approved within minutes of receipt although the item promises days (instant items and
    rule-based approvals excepted)."""
    received, approved = case.first(Kind.RECEIVED), case.first(Kind.APPROVED)
    # an instant item (即办件) promises at most a day, whatever limit binds the case
    known = [d for d in (case.limit_days, case.promised_days) if d is not None]
    if received is None or approved is None or not known or min(known) <= t.promised_limit_above_days:
        return []
    limit = min(known)
    if approved.source.channel in t.exempt_channels:
        return []
    assert received.business_time is not None and approved.business_time is not None
    minutes = (approved.business_time - received.business_time).total_seconds() / 60
    if minutes >= t.min_minutes_receipt_to_approval:
        return []
    text = (
        f"事项承诺时限{limit}个工作日，办件{case.case_id}却在收件（{received.source.describe()}）后"
        f"{minutes:.0f}分钟内办结通过（{approved.source.describe()}），疑似压缩流程。"
    )
    return [Finding("W3", (case.case_id, "compressed"), "W3.compressed", text, _positions((received, approved)))]


def synthetic(case: CaseFacts, t: Limits) -> list[Finding]:
    """W3: n consecutive identical, non-zero gaps between status transitions (made-up timestamps)."""
    n = t.synthetic_equal_gaps
    if len(_timed(case)) <= n:
        return []  # (fewer than n + 1 transitions: no window)
    steps = [s for s in _timed(case) if s.kind in TRANSITIONS]
    for start in range(len(steps) - n):
        window = steps[start : start + n + 1]
        gaps = {round((b.business_time - a.business_time).total_seconds()) for a, b in itertools.pairwise(window)}  # type: ignore[operator]
        if len(gaps) != 1 or 0 in gaps:
            continue
        # a system that keeps dates only stamps midnight: whole days apart is its precision, not a pattern
        dates_only = all(_clock_time(s.business_time) == MIDNIGHT for s in window if s.business_time)
        if not dates_only:
            refs = "、".join(s.source.describe() for s in window)
            text = f"办件{case.case_id}连续{n}个状态间隔完全相同（{gaps.pop()}秒）：{refs}，疑似批量合成的时间戳。"
            return [Finding("W3", (case.case_id, "synthetic"), "W3.synthetic", text, _positions(window))]
    return []


def closed_without_acceptance(case: CaseFacts) -> list[Finding]:
    """W3: a city case closed with an approval but no acceptance step at all."""
    steps = case.ordered()
    closed = [s for s in steps if s.kind == Kind.APPROVED]
    if not closed or _first(steps, Kind.ACCEPTED) is not None:
        return []
    text = (
        f"{case.system}报送的办件{case.case_id}已办结（{closed[0].source.describe()}）但没有受理状态行，疑似事后补造。"
    )
    return [Finding("W3", ("rows", case.system, case.case_id), "W3.rows_no_acceptance", text, _positions(closed))]


def back_entered(case: CaseFacts) -> list[Finding]:
    """W2 先批后录: a decision taken outside the system and entered afterwards (补录), however short
    the gap; W3 when it approves with no acceptance at all. Migrated approvals are no back-entries."""
    entry = next((s for s in case.ordered() if s.back_entry), None)
    if entry is None or entry.business_time is None or entry.recorded_at is None:
        return []
    text = (
        f"办件{case.case_id}为补录（先批后录，{entry.source.describe()}）：决定于{_local(entry.business_time)}作出，"
        f"{_local(entry.recorded_at)}才录入系统。"
    )
    found = [Finding("W2", (case.case_id,), "W2.back_entry", text, (entry.source.position,))]
    if entry.kind == Kind.APPROVED and _first(case.ordered(), Kind.ACCEPTED) is None:
        text = (
            f"办件{case.case_id}补录为办结（通过，{entry.source.describe()}）但没有受理记录，状态缺失，疑似事后补造。"
        )
        found.append(Finding("W3", (case.case_id, "no_acceptance"), "W3.no_acceptance", text, (entry.source.position,)))
    return found


def _after_acceptance(steps: list[Step], accepted: Step) -> list[Step]:
    """The steps after the acceptance: a correction asked for before it paused no clock (受理次日起算)."""
    key = accepted.sort_key()
    return [s for s in steps if s.sort_key() > key]


def clock_pauses(steps: list[Step], until: date | None) -> tuple[tuple[Pause, ...], list[Step]]:
    """Corrections and special procedures as clock pauses (start, end], with the steps that prove them."""
    pauses, proof = [], []
    open_: dict[str, date] = {}
    for s in steps:
        assert s.business_time is not None
        day = _day(s.business_time)
        if until is not None and day > until:
            break
        if s.kind in (Kind.CORRECTION_REQUESTED, Kind.SPECIAL_STARTED):
            open_.setdefault(s.kind, day)
            proof.append(s)
        elif s.kind in (Kind.CORRECTION_COMPLETED, Kind.SPECIAL_ENDED):
            started = Kind.CORRECTION_REQUESTED if s.kind == Kind.CORRECTION_COMPLETED else Kind.SPECIAL_STARTED
            if started in open_:
                kind = "correction" if started == Kind.CORRECTION_REQUESTED else "special_procedure"
                pauses.append(Pause(kind, open_.pop(started), day))
                proof.append(s)
    pauses += [Pause(str(k), start, None) for k, start in open_.items()]
    return tuple(pauses), proof


def decided_overdue(case: CaseFacts, t: Limits) -> list[Finding]:
    """W6: the decision's business date lies past the deadline (acceptance + limit, pauses out), by
    the one definition of 超期 (domain/approvals/overdue.py); a refusal at acceptance never is."""
    steps = _timed(case)
    accepted, decided = case.first(Kind.ACCEPTED), case.first(Kind.APPROVED, Kind.REFUSED)
    if accepted is None or decided is None or case.limit_days is None:
        return []
    assert accepted.business_time is not None and decided.business_time is not None
    on = _day(decided.business_time)
    pauses, proof = clock_pauses(_after_acceptance(steps, accepted), on)
    clock = CaseClock(_day(accepted.business_time), case.limit_days, pauses, on)
    if not is_overdue(clock, on):
        return []
    text = (
        f"办件{case.case_id}于{on}作出决定（{decided.source.describe()}），晚于自受理"
        f"（{accepted.source.describe()}）按时限{case.limit_days}个工作日计算的截止日{clock.deadline(on)}，已超期。"
    )
    return [Finding("W6", (case.case_id,), "W6.decided_overdue", text, _positions((accepted, decided, *proof)))]


def open_overdue(case: CaseFacts, t: Limits, today: date | None) -> list[Finding]:
    """W6: a case still open (no closing step) more than `open_overdue_days` working days past its
    deadline on `today`, the day of the log's last clock tick (never the wall clock)."""
    if today is None:
        return []
    accepted = case.first(Kind.ACCEPTED)
    if accepted is None or case.limit_days is None or case.first(*CLOSINGS) is not None:
        return []
    if case.first(Kind.DOCUMENT) is not None:
        return []  # an approval document closes the case even when its status row is missing
    assert accepted.business_time is not None
    pauses, proof = clock_pauses(_after_acceptance(_timed(case), accepted), today)
    clock = CaseClock(_day(accepted.business_time), case.limit_days, pauses, None)
    deadline = clock.deadline(today)
    if not is_overdue(clock, today) or deadline is None or clock.is_paused():
        return []
    if workdays_between(deadline, today) <= t.open_overdue_days:
        return []
    text = (
        f"办件{case.case_id}自{_day(accepted.business_time)}受理（{accepted.source.describe()}），"
        f"时限{case.limit_days}个工作日，截止日{deadline}，至{today}仍未办结，超期"
        f"{workdays_between(deadline, today)}个工作日。"
    )
    return [Finding("W6", (case.case_id, "open"), "W6.open_overdue", text, _positions((accepted, *proof)))]


NEVER = date.max


def open_overdue_from(case: CaseFacts, t: Limits) -> date | None:
    """The first day `open_overdue` could find anything on these facts: NEVER when the case is
    closed or was never accepted, None when it has no limit (unknown: judge it every day).

    A lower bound in calendar days, so it holds on any working-day calendar: the deadline is at
    least `limit` days after acceptance (pauses only push it out), and more than the grace of
    working days after the deadline is at least grace + 1 calendar days."""
    accepted = case.first(Kind.ACCEPTED)
    if accepted is None or case.first(*CLOSINGS, Kind.DOCUMENT) is not None:
        return NEVER
    if case.limit_days is None:
        return None
    assert accepted.business_time is not None
    days = max(case.limit_days, 0) + max(t.open_overdue_days, 0) + 1
    start = _day(accepted.business_time)
    return NEVER if (date.max - start).days <= days else start + timedelta(days=days)


def procedure_abuse(case: CaseFacts, t: Limits) -> list[Finding]:
    """W7: more correction requests than 一次性告知 allows; a special procedure beyond its own limit."""
    found = []
    corrections = case.of_kind(Kind.CORRECTION_REQUESTED)
    if len(corrections) > t.max_corrections:
        refs = "、".join(s.source.describe() for s in corrections)
        text = (
            f"办件{case.case_id}被要求补正{len(corrections)}次（{refs}），超过{t.max_corrections}次，违反一次性告知。"
        )
        found.append(Finding("W7", (case.case_id, "corrections"), "W7.corrections", text, _positions(corrections)))
    ends = case.of_kind(Kind.SPECIAL_ENDED)
    for start in [s for s in case.of_kind(Kind.SPECIAL_STARTED) if s.limit_days is not None]:
        assert start.business_time is not None and start.limit_days is not None
        end = next((e for e in ends if e.business_time >= start.business_time), None)  # type: ignore[operator]
        if end is None:
            continue
        assert end.business_time is not None
        first, last = _day(start.business_time), _day(end.business_time)
        days = workdays_between(first, last)
        if days <= start.limit_days:
            continue
        name = start.name or "特别程序"
        text = (
            f"办件{case.case_id}的特别程序{name}自{first}（{start.source.describe()}）至{last}"
            f"（{end.source.describe()}）持续{days}个工作日，超过其时限{start.limit_days}个工作日。"
        )
        # ours: keyed by the start's log position (an event never moves); a city's row may come
        # again corrected at another position: keyed by its date and name, whatever the arrival
        own = (str(start.source.position),) if not case.system else (first.isoformat(), name)
        keys = (case.case_id, "special", *own)
        found.append(Finding("W7", keys, "W7.special_procedure", text, _positions((start, end))))
    return found


def hidden_department(case: CaseFacts) -> list[Finding]:
    """W10 隐形审批: an opinion from a department outside the item's flow (its own department, the
    consulted ones of the catalogue in force, the department the case row names)."""
    if case.item_code is None:
        return []  # an item we cannot map has no known flow to compare with (docs: known limits)
    if not case.of_kind(Kind.OPINION) and len(_timed(case)) == len(case.steps):
        return []  # no opinion at all (every step timed, none an opinion)
    found: dict[str, list[Step]] = {}
    for s in case.ordered():
        flow = case.allowed_departments if s.flow is None else s.flow
        if s.kind == Kind.OPINION and s.department and s.department not in flow:
            found.setdefault(s.department, []).append(s)
    origin = (case.origin.position,) if case.origin else ()  # the case's receipt (or case row) and the opinions
    return [
        Finding(
            "W10",
            (case.case_id, "department", department),
            "W10.department",
            f"部门{steps[0].department_name or department}对事项{case.item_code}的办件{case.case_id}出具了审查意见"
            f"（{'、'.join(s.source.describe() for s in steps)}），但该部门不在事项配置的流程中，疑似隐形审批。",
            tuple(sorted({*origin, *_positions(steps)})),
            department=department,
        )
        for department, steps in sorted(found.items())
    ]


RULES: tuple[Callable[[CaseFacts, Limits], list[Finding]], ...] = (
    late_recording,
    compressed,
    synthetic,
    decided_overdue,
    procedure_abuse,
)
# every reason these rules give: a warning of one of them no longer found is resolved
REASONS = frozenset(
    {
        "W2.back_entry",
        "W2.late_recording",
        "W3.no_acceptance",
        "W3.compressed",
        "W3.synthetic",
        "W3.rows_no_acceptance",
        "W6.decided_overdue",
        "W6.open_overdue",
        "W7.corrections",
        "W7.special_procedure",
        "W10.department",
    }
)


def judge_case(case: CaseFacts, t: Limits, today: date | None = None, *, imported: bool = True) -> list[Finding]:
    """Every finding of the lifecycle rules on the case, sorted by rule and keys. `imported`: a
    city's case (its status rows may close it with no acceptance row); ours has back-entries for that."""
    entered = back_entered(case)
    found = [f for rule in RULES for f in rule(case, t)]
    found += open_overdue(case, t, today) + hidden_department(case)
    if imported:
        found += closed_without_acceptance(case)
    # a back-entry is the case's W2 (one warning per case), whatever else was recorded late
    taken = {(f.rule, f.keys) for f in entered}
    found = entered + [f for f in found if (f.rule, f.keys) not in taken]
    return sorted(found, key=lambda f: (f.rule, f.keys))
