"""The lifecycle rules on facts our own events carry and SPGL rows do not (issue 15): back-entries
(W2.back_entry, W3.no_acceptance), an opinion judged by the flow in force when it was read (W10),
revocations and follow-ups, corrections before acceptance; and the properties that an own case and
the same case as a city's rows give the same findings, in any order."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.shared.events import SHANGHAI
from domain.supervision.rules import CaseFacts, Finding, Kind, Limits, Source, Step, judge_case
from domain.supervision.rules.facts import STATUS_KINDS

T = Limits(consulted={"GJ-1-02": frozenset({"fgw"})})
FLOW = frozenset({"zrzy", "fgw"})
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)  # 2026-03-02..06 and 09..13: ordinary working weeks
ORIGIN = 100


def own(kind: Kind, at: datetime, n: int, **extra: Any) -> Step:
    channel = extra.pop("channel", "online")
    return Step(kind, at, Source(channel, ORIGIN + n, f"本系统办件C-1 {kind}"), **extra)


def our_case(*steps: Step, limit: int | None = 5) -> CaseFacts:
    return CaseFacts("C-1", "GJ-1-02", limit, FLOW, steps, Source("online", ORIGIN, "本系统办件C-1"))


def as_city(facts: CaseFacts) -> CaseFacts:
    """The same case as a city's rows: other channel, other references, the same log positions."""
    steps = tuple(
        Step(s.kind, s.business_time, Source("import", s.source.position, f"haikou SPGL LSH {s.source.position}"),
             s.recorded_at, s.department, s.department_name, s.limit_days, s.name, s.flow, s.back_entry)
        for s in facts.steps
    )  # fmt: skip
    origin = Source("import", ORIGIN, "haikou SPGL_XMSPSXBLXXB LSH 0")
    return CaseFacts(
        facts.case_id, facts.item_code, facts.limit_days, facts.allowed_departments, steps, origin, "haikou"
    )


def reasons(facts: CaseFacts, today: date | None = None) -> list[str]:
    return [f.reason for f in judge_case(facts, T, today, imported=False)]


def test_a_back_entry_is_w2_however_short_the_gap_and_w3_without_acceptance() -> None:
    decided = MONDAY - timedelta(hours=2)
    entry = own(Kind.APPROVED, decided, 0, recorded_at=MONDAY, back_entry=True)
    found = judge_case(our_case(entry), T, imported=False)
    assert [(f.reason, f.keys, f.evidence) for f in found] == [
        ("W2.back_entry", ("C-1",), (ORIGIN,)),
        ("W3.no_acceptance", ("C-1", "no_acceptance"), (ORIGIN,)),
    ]
    assert "2026-03-02T07:00:00+08:00" in found[0].explanation and "日志位置100" in found[0].explanation
    accepted = own(Kind.ACCEPTED, datetime(2026, 2, 27, tzinfo=SHANGHAI), 0)
    assert reasons(our_case(accepted, entry, limit=None)) == ["W2.back_entry"]
    refused = own(Kind.REFUSED, decided, 0, recorded_at=MONDAY, back_entry=True)
    assert reasons(our_case(refused)) == ["W2.back_entry"]
    # a migrated approval (在建工程) is no back-entry: no recorded time, no flag
    assert reasons(our_case(own(Kind.APPROVED, decided - timedelta(days=400), 0))) == []


def test_a_back_entry_is_the_cases_one_w2_whatever_else_was_recorded_late() -> None:
    entry = own(Kind.APPROVED, MONDAY - timedelta(days=10), 0, recorded_at=MONDAY, back_entry=True)
    late = own(Kind.FOLLOW_UP, MONDAY - timedelta(days=6), 1, recorded_at=MONDAY + timedelta(days=1))
    found = [f for f in judge_case(our_case(entry, late), T, imported=False) if f.rule == "W2"]
    assert [(f.reason, f.keys) for f in found] == [("W2.back_entry", ("C-1",))]
    # without the back-entry the late follow-up is W2.late_recording, under the same id
    [alone] = judge_case(our_case(late), T, imported=False)
    assert (alone.reason, alone.keys, alone.evidence) == ("W2.late_recording", ("C-1",), (ORIGIN + 1,))


def normal(*extra: Step, decided: datetime | None = None) -> CaseFacts:
    return our_case(
        own(Kind.RECEIVED, MONDAY, 0),
        own(Kind.ACCEPTED, MONDAY + timedelta(hours=2, minutes=11), 1),
        own(Kind.REVIEW, MONDAY + timedelta(days=1, minutes=43), 2),
        own(Kind.APPROVED, decided or MONDAY + timedelta(days=4, hours=5, minutes=7), 3),
        *extra,
    )


def test_a_correction_before_acceptance_stops_no_clock() -> None:
    # received Friday, correction asked and completed before the Monday acceptance
    before = (
        own(Kind.CORRECTION_REQUESTED, MONDAY - timedelta(days=3), 5),
        own(Kind.CORRECTION_COMPLETED, MONDAY - timedelta(hours=1), 6),
    )
    late = MONDAY + timedelta(days=8)  # 03-10: the sixth working day after acceptance
    assert reasons(normal(*before, decided=late)) == ["W6.decided_overdue"]
    after = (
        own(Kind.CORRECTION_REQUESTED, MONDAY + timedelta(days=1, hours=2), 5),
        own(Kind.CORRECTION_COMPLETED, MONDAY + timedelta(days=3), 6),
    )
    assert reasons(normal(*after, decided=late)) == []


def test_our_special_procedure_is_keyed_by_its_start_and_a_citys_by_date_and_name() -> None:
    start = own(Kind.SPECIAL_STARTED, MONDAY + timedelta(days=1), 5, limit_days=2, name="专家评审")
    end = own(Kind.SPECIAL_ENDED, MONDAY + timedelta(days=8), 6)
    facts = normal(start, end, decided=MONDAY + timedelta(days=10))
    [ours] = [f for f in judge_case(facts, T, imported=False) if f.rule == "W7"]
    assert ours.keys == ("C-1", "special", str(ORIGIN + 5)) and ours.evidence == (ORIGIN + 5, ORIGIN + 6)
    [city] = [f for f in judge_case(as_city(facts), T) if f.rule == "W7"]
    assert city.keys == ("C-1", "special", "2026-03-03", "专家评审") and city.evidence == ours.evidence


def test_an_opinion_is_judged_by_the_flow_in_force_when_it_was_read() -> None:
    opinion = own(Kind.OPINION, MONDAY + timedelta(days=2), 5, department="zjj", flow=frozenset({"zrzy", "zjj"}))
    assert reasons(normal(opinion)) == []  # zjj was consulted then, whatever the case's flow now
    hidden = own(Kind.OPINION, MONDAY + timedelta(days=2), 5, department="fgw", flow=frozenset({"zrzy"}))
    [found] = judge_case(normal(hidden), T, imported=False)
    assert (found.reason, found.department, found.evidence) == ("W10.department", "fgw", (ORIGIN, ORIGIN + 5))
    unknown = own(Kind.OPINION, MONDAY + timedelta(days=2), 5, department="zjj")  # no flow: the case's
    assert reasons(normal(unknown)) == ["W10.department"]


def test_a_revocation_is_a_transition_and_a_follow_up_is_not() -> None:
    hour = timedelta(hours=3)
    even = [own(k, MONDAY + n * hour, n) for n, k in enumerate((Kind.RECEIVED, Kind.ACCEPTED, Kind.REVIEW))]
    assert "W3.synthetic" in reasons(our_case(*even, own(Kind.REVOKED, MONDAY + 3 * hour, 3)))
    assert "W3.synthetic" not in reasons(our_case(*even, own(Kind.FOLLOW_UP, MONDAY + 3 * hour, 3)))


MOMENTS = st.integers(min_value=0, max_value=60 * 24 * 30).map(lambda m: MONDAY + timedelta(minutes=m))
KINDS = sorted(set(STATUS_KINDS.values()) | {Kind.OPINION, Kind.REVOKED, Kind.FOLLOW_UP})
STEPS = st.lists(
    st.tuples(st.sampled_from(KINDS), MOMENTS, st.integers(min_value=0, max_value=3), st.booleans()),
    min_size=1,
    max_size=12,
)


def steps_of(raw: list[Any]) -> list[Step]:
    """Steps with some late, some back-entered decisions, opinions of consulted or other departments
    with or without the flow they were read under, special procedures with limits."""
    made = []
    for n, (kind, at, variant, flag) in enumerate(raw):
        extra: dict[str, Any] = {"recorded_at": at + timedelta(days=variant + 1) if flag else None}
        if kind == Kind.OPINION:
            extra.update(department=("zrzy", "fgw", "zjj", "ylj")[variant], flow=frozenset({"zjj"}) if flag else None)
        if kind == Kind.SPECIAL_STARTED:
            extra.update(limit_days=variant, name="专家评审")
        if kind in (Kind.APPROVED, Kind.REFUSED) and flag and variant == 0:
            extra["back_entry"] = True
        made.append(own(kind, at, n, **extra))
    return made


def comparable(found: list[Finding]) -> list[tuple[Any, ...]]:
    """What a finding says whatever the channel: the rule, the reason, the evidence, the department
    (keys of a special procedure and references in the explanation name the channel's own terms)."""
    return sorted((f.rule, f.reason, f.evidence, f.department) for f in found if f.reason != "W3.rows_no_acceptance")


@settings(max_examples=200, deadline=None)
@given(STEPS, st.randoms(use_true_random=False), st.sampled_from([None, date(2026, 4, 30)]), st.sampled_from([5, None]))
def test_our_findings_do_not_depend_on_the_order_of_the_facts(
    raw: list[Any], rng: Any, today: date | None, limit: int | None
) -> None:
    steps = steps_of(raw)
    shuffled = list(steps)
    rng.shuffle(shuffled)
    assert judge_case(our_case(*steps, limit=limit), T, today, imported=False) == judge_case(
        our_case(*shuffled, limit=limit), T, today, imported=False
    )


@settings(max_examples=200, deadline=None)
@given(STEPS, st.sampled_from([None, date(2026, 4, 30)]), st.sampled_from([5, None]))
def test_an_own_case_and_the_same_case_as_a_citys_rows_give_the_same_findings(
    raw: list[Any], today: date | None, limit: int | None
) -> None:
    facts = our_case(*steps_of(raw), limit=limit)
    city = as_city(facts)
    assert comparable(judge_case(facts, T, today, imported=False)) == comparable(judge_case(city, T, today))
    # the explanations name each fact by its own channel's reference, with its log position
    for f in judge_case(city, T, today):
        assert "本系统办件" not in f.explanation


# --- our events as facts (projections/offline_own.py gathers them; no I/O) ----------------------


def _our_events(actions: list[tuple[date, int, str]], occurred: dict[str, datetime] | None = None) -> CaseFacts:
    """A case of GJ-2-01 (promised 8 working days) received on Monday and moved through
    `actions` (day, hour, action) by the domain, its events as the read model stores its facts."""
    from uuid import uuid4

    from domain.approvals.case import Case
    from domain.catalog import CATALOG
    from domain.shared.events import Channel, Meta
    from projections.base import Envelope
    from projections.offline_own import own_facts, own_steps

    item = CATALOG.item("GJ-2-01")

    def meta(day: date, hour: int, at: datetime | None = None) -> Meta:
        now = datetime.combine(day, datetime.min.time(), SHANGHAI) + timedelta(hours=hour, minutes=hour * 7 % 60)
        return Meta("t", "reviewer", "460100-zrzy", Channel.IMPORT if at else Channel.ONLINE, "r", now, at)

    first = actions[0][0]
    case = Case.receive(
        meta(first, 9), case_id=uuid4(), project_id=uuid4(), project_code="2603-460100-04-01-123456",
        region_code="460106", applicant_org="91460000MA5T0P3X64", item=item, situation_codes=[], materials=[],
        parallel_application_id=None, acceptance_mode=4,
    )  # fmt: skip
    perform = {
        "accept": lambda m: case.accept(m, item),
        "request-correction": lambda m: case.request_correction(m, ["总平面图"], "指标不一致"),
        "complete-correction": lambda m: case.complete_correction(m, "已补正"),
        "start-review": lambda m: case.start_review(m),
        "record-opinion": lambda m: case.record_opinion(m, "fgw", "同意", "agree"),
        "approve": lambda m: case.approve(m, "海口规字〔2026〕1号", item.name, date(2027, 12, 31)),
    }
    for day, hour, action in actions:
        perform[action](meta(day, hour, (occurred or {}).get(action)))
    rows = []
    for position, event in enumerate(case.collect_events(), start=ORIGIN):
        flow = frozenset({"zrzy", "zjj"}) if isinstance(event, Case.OpinionRecorded) else None
        rows += own_steps(Envelope(position, event), flow)
    row = {"case_id": "C-1", "item_code": "GJ-2-01", "created_position": ORIGIN, "steps": json.dumps(rows)}
    accepted = any(r[0] == Kind.ACCEPTED for r in rows)
    return own_facts({**row, "limit_days": item.promised_limit_days if accepted else None}, frozenset({"zrzy"}))


def test_our_events_are_the_steps_the_rules_read() -> None:
    mon = date(2026, 3, 2)
    facts = _our_events(
        [(mon, 10, "accept"), (mon + timedelta(days=1), 9, "request-correction"),
         (mon + timedelta(days=2), 11, "complete-correction"), (mon + timedelta(days=2), 15, "start-review"),
         (mon + timedelta(days=3), 10, "record-opinion"), (mon + timedelta(days=4), 16, "approve")]
    )  # fmt: skip
    kinds = [s.kind for s in facts.ordered()]
    assert kinds == [Kind.RECEIVED, Kind.ACCEPTED, Kind.CORRECTION_REQUESTED, Kind.CORRECTION_COMPLETED,
                     Kind.REVIEW, Kind.OPINION, Kind.APPROVED]  # fmt: skip
    assert [s.source.position for s in facts.ordered()] == list(range(ORIGIN, ORIGIN + 7))
    assert facts.limit_days == 8 and facts.origin is not None and facts.origin.position == ORIGIN
    # the opinion of fgw: outside the flow it was read under (zrzy, zjj), whatever the case's now
    [hidden] = judge_case(facts, T, imported=False)
    assert (hidden.reason, hidden.evidence) == ("W10.department", (ORIGIN, ORIGIN + 5))
    assert "本系统办件C-1 OpinionRecorded（日志位置105）" in hidden.explanation


def test_our_events_decided_late_or_recorded_late_raise_w6_and_w2() -> None:
    mon = date(2026, 3, 2)
    late = _our_events([(mon, 10, "accept"), (mon + timedelta(days=1), 9, "start-review"),
                        (mon + timedelta(days=14), 10, "approve")])  # fmt: skip
    assert reasons(late) == ["W6.decided_overdue"]  # 03-16 is the tenth working day: past 8
    business = datetime(2026, 3, 3, 9, tzinfo=SHANGHAI)
    recorded = _our_events(
        [(mon, 10, "accept"), (mon + timedelta(days=5), 9, "start-review")], occurred={"start-review": business}
    )
    [w2] = judge_case(recorded, T, imported=False)
    assert (w2.reason, w2.evidence) == ("W2.late_recording", (ORIGIN + 2,))
    assert "ReviewStarted（日志位置102）" in w2.explanation


def test_step_memo_writes_the_steps_text_and_sort_keys_as_at_once() -> None:
    """The batch's memo writes a case's steps text only with its row, and takes each parsed step's
    sort key from the stored text: both as encoding and sorting everything at each event would."""
    from dataclasses import replace

    from projections.offline_own import StepMemo, stored

    first = [["received", "Received", "2026-03-02T09:00:00+08:00", None, "online", 5, None]]
    later = [
        ["opinion", "OpinionRecorded", "2026-03-03T01:30:00.250000+00:00", "2026-03-06T09:00:00+08:00", "window", 9,
         {"department": "规划", "flow": ["zrzy", "fgw"]}],
        ["special_started", "SpecialProcedureStarted", "2026-03-04T00:00:00+08:00", None, "online", 12,
         {"limit_days": 10, "name": "听证"}],
    ]  # fmt: skip
    memo = StepMemo()
    text = memo.append("C-1", "[]", first)
    assert stored(text) == json.dumps(first)
    for step in later:
        text = memo.append("C-1", text, [step])
    assert stored(text) == json.dumps([*first, *later])
    assert stored(StepMemo().append("C-1", json.dumps(first), later)) == json.dumps([*first, *later])
    assert stored(StepMemo().append("C-1", json.dumps(first), [])) == json.dumps(first)
    steps = memo.steps("C-1", text)
    assert [s.source.position for s in steps] == [5, 9, 12]
    assert [s.sort_key() for s in steps] == [replace(s).sort_key() for s in steps]  # (a copy computes its own)
