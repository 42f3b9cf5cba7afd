"""The lifecycle warning rules (W2, W3, W6, W7, W10) as pure functions over a case's facts: each
rule on a planted pattern and on its legitimate look-alike, and the property that the findings do
not depend on the order the facts arrived in (issue 15)."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.catalog.catalog import install, reset_to_seed
from domain.catalog.edition_rows import parse_edition
from domain.supervision.rules import CaseFacts, Kind, Limits, Source, Step, judge_case
from domain.supervision.rules.facts import STATUS_KINDS
from domain.supervision.rules.lifecycle import NEVER, open_overdue, open_overdue_from
from domain.supervision.rules.mapping import NameMapping

T = Limits(consulted={"GJ-3-01": frozenset({"zrzy"})})
MONDAY = datetime(2026, 3, 2, 9, 0)  # 2026-03-02..06 and 09..13 are ordinary working weeks


def step(kind: Kind, at: datetime, n: int, **extra: Any) -> Step:
    channel = extra.pop("channel", "import")
    return Step(kind, at, Source(channel, 100 + n, f"haikou SPGL_XMSPSXBLXXXXB LSH {n}"), **extra)


def case(*steps: Step, limit: int | None = 5, item: str | None = "GJ-3-01") -> CaseFacts:
    allowed = frozenset({"zjj", *T.consulted.get(item or "", ())})
    return CaseFacts("HK-1", item, limit, allowed, steps, system="haikou")


def normal(*, decided: datetime | None = None, extra: tuple[Step, ...] = ()) -> CaseFacts:
    """Received and accepted on Monday, reviewed, approved on `decided` (default: Friday)."""
    return case(
        step(Kind.RECEIVED, MONDAY, 1),
        step(Kind.ACCEPTED, MONDAY + timedelta(hours=6, minutes=29), 2),
        step(Kind.REVIEW, MONDAY + timedelta(days=1, hours=1, minutes=3), 3),
        step(Kind.APPROVED, decided or MONDAY + timedelta(days=4, hours=7, minutes=27), 4),
        *extra,
    )


def reasons(facts: CaseFacts, today: date | None = None) -> list[str]:
    return [f.reason for f in judge_case(facts, T, today)]


def test_a_normal_case_raises_nothing() -> None:
    assert reasons(normal()) == []


def test_w2_recorded_long_after_business_time_but_not_a_nightly_batch() -> None:
    nightly = normal(extra=(step(Kind.REVIEW, MONDAY, 9, recorded_at=MONDAY + timedelta(hours=15)),))
    assert reasons(nightly) == []
    late = normal(extra=(step(Kind.REVIEW, MONDAY, 9, recorded_at=MONDAY + timedelta(days=20)),))
    [finding] = judge_case(late, T)
    assert finding.reason == "W2.late_recording" and finding.evidence == (109,)
    assert "LSH 9" in finding.explanation and "日志位置109" in finding.explanation


def test_w3_compressed_unless_instant_item_or_rule_based() -> None:
    quick = case(
        step(Kind.RECEIVED, MONDAY, 1),
        step(Kind.ACCEPTED, MONDAY, 2),
        step(Kind.APPROVED, MONDAY + timedelta(minutes=7), 3),
    )
    assert reasons(quick) == ["W3.compressed"]
    instant = case(*quick.steps, limit=1)
    assert reasons(instant) == []
    ruled = case(step(Kind.RECEIVED, MONDAY, 1), step(Kind.ACCEPTED, MONDAY, 2),
                 step(Kind.APPROVED, MONDAY + timedelta(minutes=7), 3, channel="system_rule"))  # fmt: skip
    assert reasons(ruled) == []


def test_w3_synthetic_equal_gaps() -> None:
    hour = timedelta(hours=2)
    made = case(
        *(
            step(k, MONDAY + n * hour, n)
            for n, k in enumerate((Kind.RECEIVED, Kind.ACCEPTED, Kind.REVIEW, Kind.APPROVED))
        )
    )
    assert "W3.synthetic" in reasons(made)
    assert "W3.synthetic" not in reasons(normal())
    days = case(
        *(
            step(k, datetime(2026, 3, 2 + n), n)
            for n, k in enumerate((Kind.RECEIVED, Kind.ACCEPTED, Kind.REVIEW, Kind.APPROVED))
        )
    )
    assert "W3.synthetic" not in reasons(days)  # a system keeping dates only: midnight, whole days apart


def test_w3_closed_without_acceptance_whatever_the_order() -> None:
    no_acceptance = case(step(Kind.APPROVED, MONDAY + timedelta(days=3), 1), step(Kind.RECEIVED, MONDAY, 2))
    assert "W3.rows_no_acceptance" in reasons(no_acceptance)
    assert "W3.rows_no_acceptance" not in reasons(normal())


def test_w6_decided_on_the_last_legal_day_is_in_time_one_day_later_is_not() -> None:
    # accepted Monday 03-02, 5 working days: 03-03..03-06 are four, Monday 03-09 the fifth
    assert reasons(normal(decided=datetime(2026, 3, 9, 17, 0))) == []
    assert reasons(normal(decided=datetime(2026, 3, 10, 9, 0))) == ["W6.decided_overdue"]


def test_w6_a_correction_pauses_the_clock() -> None:
    paused = (step(Kind.CORRECTION_REQUESTED, datetime(2026, 3, 3, 9), 7),
              step(Kind.CORRECTION_COMPLETED, datetime(2026, 3, 5, 9), 8))  # fmt: skip
    assert reasons(normal(decided=datetime(2026, 3, 10, 9, 0), extra=paused)) == []


def test_w6_open_far_past_the_deadline_on_the_log_day() -> None:
    open_case = case(step(Kind.RECEIVED, MONDAY, 1), step(Kind.ACCEPTED, MONDAY, 2))
    assert reasons(open_case) == []  # no clock tick: nothing time-driven
    assert reasons(open_case, date(2026, 3, 20)) == []  # 9 working days past, within the grace
    assert reasons(open_case, date(2026, 3, 31)) == ["W6.open_overdue"]
    closed = case(*open_case.steps, step(Kind.APPROVED, datetime(2026, 3, 30, 9), 3))
    assert "W6.open_overdue" not in reasons(closed, date(2026, 3, 31))


def test_w7_one_correction_is_allowed_two_are_not() -> None:
    one = (
        step(Kind.CORRECTION_REQUESTED, datetime(2026, 3, 3, 9), 7),
        step(Kind.CORRECTION_COMPLETED, datetime(2026, 3, 3, 15), 8),
    )
    assert reasons(normal(extra=one)) == []
    two = (
        *one,
        step(Kind.CORRECTION_REQUESTED, datetime(2026, 3, 4, 9), 9),
        step(Kind.CORRECTION_COMPLETED, datetime(2026, 3, 4, 11), 10),
    )
    assert reasons(normal(extra=two)) == ["W7.corrections"]


def test_w7_special_procedure_beyond_its_own_limit() -> None:
    start = step(Kind.SPECIAL_STARTED, datetime(2026, 3, 3, 9), 7, limit_days=3, name="专家评审")
    within = (start, step(Kind.SPECIAL_ENDED, datetime(2026, 3, 6, 9), 8))
    assert reasons(normal(decided=datetime(2026, 3, 11, 9), extra=within)) == []
    beyond = (start, step(Kind.SPECIAL_ENDED, datetime(2026, 3, 10, 9), 8))
    assert reasons(normal(decided=datetime(2026, 3, 16, 9), extra=beyond)) == ["W7.special_procedure"]


def test_w10_department_outside_the_flow() -> None:
    names = NameMapping(departments={"海口市资规局": "zrzy"})
    consulted = [step(Kind.OPINION, MONDAY, 7, department=names.department(n), department_name=n)
                 for n in ("海口市资规局", "海口市自然资源和规划局", "zjj")]  # fmt: skip
    assert reasons(normal(extra=tuple(consulted))) == []
    hidden = step(Kind.OPINION, MONDAY, 8, department=names.department("海口市园林局"), department_name="海口市园林局")
    [finding] = judge_case(normal(extra=(hidden,)), T)
    assert finding.reason == "W10.department" and finding.department == "海口市园林局"
    assert reasons(case(*normal(extra=(hidden,)).steps, item=None)) == []  # an unmapped item: no flow to compare


def test_mapping_of_items() -> None:
    names = NameMapping(items={"HK-SX-302": "GJ-3-02"})
    assert names.item("HK-SX-302") == "GJ-3-02"
    assert names.item("HK-SX-999", standard="GJ-3-01") == "GJ-3-01"
    assert names.item("HK-SX-999") is None


MOMENTS = st.integers(min_value=0, max_value=60 * 24 * 30).map(lambda m: MONDAY + timedelta(minutes=m))
STEPS = st.lists(
    st.tuples(st.sampled_from(sorted(set(STATUS_KINDS.values()) | {Kind.OPINION})), MOMENTS, st.booleans()),
    min_size=1,
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(STEPS, st.randoms(use_true_random=False), st.sampled_from([None, date(2026, 4, 30)]))
def test_findings_do_not_depend_on_the_order_of_the_facts(raw: list[Any], rng: Any, today: date | None) -> None:
    steps = [
        step(kind, at, n, recorded_at=at + timedelta(days=5) if late else None,
             department="ylj" if kind == Kind.OPINION and late else "zjj", limit_days=2)
        for n, (kind, at, late) in enumerate(raw)
    ]  # fmt: skip
    shuffled = list(steps)
    rng.shuffle(shuffled)
    assert judge_case(case(*steps), T, today) == judge_case(case(*shuffled), T, today)


def test_w6_open_overdue_from_a_lower_bound_of_the_first_day_it_holds() -> None:
    open_case = case(step(Kind.RECEIVED, MONDAY, 1), step(Kind.ACCEPTED, MONDAY, 2))
    # 5 days' limit, the grace of 10 working days, one more day: 16 calendar days after 03-02
    assert open_overdue_from(open_case, T) == date(2026, 3, 18)
    first = next(d for d in (date(2026, 3, 2) + timedelta(n) for n in range(60)) if reasons(open_case, d))
    assert first >= date(2026, 3, 18) and first == date(2026, 3, 24)  # working days: 03-09 + 10 more, + 1
    closed = case(*open_case.steps, step(Kind.APPROVED, datetime(2026, 3, 30, 9), 3))
    assert open_overdue_from(closed, T) == NEVER
    assert open_overdue_from(case(step(Kind.RECEIVED, MONDAY, 1)), T) == NEVER  # never accepted
    assert open_overdue_from(case(*open_case.steps, limit=None), T) is None  # no limit: unknown


DAYS = st.integers(min_value=0, max_value=120).map(lambda n: date(2026, 3, 2) + timedelta(days=n))


@settings(max_examples=200, deadline=None)
@given(STEPS, DAYS, st.integers(min_value=0, max_value=15))
def test_w6_open_overdue_never_holds_before_open_overdue_from(raw: list[Any], today: date, limit: int) -> None:
    facts = case(*(step(kind, at, n) for n, (kind, at, _) in enumerate(raw)), limit=limit)
    due = open_overdue_from(facts, T)
    if due is None or today < due:
        assert open_overdue(facts, T, today) == []


def test_mapping_under_an_edition_with_the_bodies_of_each_region() -> None:
    """With the province's catalogue file in force, a city body's exact name maps to its function
    even where it does not end with the province's name for it, and a national item code maps to
    the local item that implements it."""
    hainan = Path(__file__).parents[2] / "domain" / "catalog" / "data" / "hainan"
    tables: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(hainan.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            tables[path.stem] = list(csv.DictReader(f))
    items = {r["code"]: r["national_code"] for r in tables["items"]}
    bodies = {(r["code"], r["region_code"]): r["name"] for r in tables["departments"]}
    install(parse_edition(tables), 1)
    try:
        names = NameMapping()
        assert names.department(bodies[("zjj", "460200")]) == "zjj"
        assert names.department(bodies[("sthj", "460100")]) == "sthj"
        assert names.item("HK-SX-777", standard=items["GJ-3-02"]) == "GJ-3-02"
        assert names.department("某市某局") == "某市某局"  # unknown: the name itself (in no flow)
    finally:
        reset_to_seed()
