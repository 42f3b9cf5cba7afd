"""W7 after the decision (domain/supervision/rules/commitments.py): 容缺 materials not supplied and
告知承诺 commitments not verified by their due day, as pure functions of the case's facts and a day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.supervision.rules.commitments import (
    COMMITMENT,
    MATERIALS,
    commitment_not_verified,
    materials_not_supplied,
)
from domain.supervision.rules.facts import Finding

DECIDED = date(2026, 3, 2)
DUE = date(2026, 3, 30)
RULES: list[Callable[..., Finding | None]] = [materials_not_supplied, commitment_not_verified]


@pytest.mark.parametrize("rule", RULES)
def test_nothing_is_due_on_or_before_the_due_day(rule: Callable[..., Finding | None]) -> None:
    assert rule("C-1", DECIDED, DUE, None, DECIDED) is None
    assert rule("C-1", DECIDED, DUE, None, DUE) is None


@pytest.mark.parametrize("rule", RULES)
def test_settled_by_the_due_day_is_never_a_warning(rule: Callable[..., Finding | None]) -> None:
    assert rule("C-1", DECIDED, DUE, DUE, DUE + timedelta(days=400)) is None
    assert rule("C-1", DECIDED, DUE, DECIDED, DUE + timedelta(days=1)) is None


@pytest.mark.parametrize("rule", RULES)
def test_a_case_without_a_due_day_is_not_judged(rule: Callable[..., Finding | None]) -> None:
    assert rule("C-1", DECIDED, None, None, DUE + timedelta(days=400)) is None


def test_materials_still_missing_the_day_after_the_due_day_are_procedure_abuse() -> None:
    found = materials_not_supplied("C-1", DECIDED, DUE, None, DUE + timedelta(days=1), (7, 3, 7))
    assert found is not None
    assert (found.rule, found.reason, found.keys, found.evidence) == (
        "W7",
        MATERIALS,
        ("C-1", "materials_not_supplied"),
        (3, 7),
    )
    assert "2026-03-30" in found.explanation and "仍未补齐" in found.explanation and "C-1" in found.explanation


def test_a_commitment_verified_late_stays_a_warning_naming_the_day() -> None:
    found = commitment_not_verified("C-2", DECIDED, DUE, date(2026, 4, 8), date(2026, 4, 20), (9,))
    assert found is not None
    assert (found.rule, found.reason, found.keys) == ("W7", COMMITMENT, ("C-2", "commitment_unverified"))
    assert "2026-04-08" in found.explanation and "告知承诺" in found.explanation


days = st.integers(min_value=0, max_value=400).map(lambda n: DECIDED + timedelta(days=n))


@given(
    rule=st.sampled_from(RULES),
    due=days,
    settled=st.none() | days,
    today=days,
    later=st.integers(min_value=0, max_value=100),
)
def test_a_finding_exactly_when_the_due_day_passed_unsettled_and_it_never_goes_away(
    rule: Callable[..., Finding | None], due: date, settled: date | None, today: date, later: int
) -> None:
    found = rule("C-9", DECIDED, due, settled, today, (5,))
    expected = today > due and (settled is None or settled > due)
    assert (found is not None) == expected
    # later days only add warnings (a breach does not heal), and the same facts give the same finding
    if found is not None:
        assert rule("C-9", DECIDED, due, settled, today + timedelta(days=later), (5,)) is not None
        assert found.keys == rule("C-9", DECIDED, due, settled, today + timedelta(days=later), (5,)).keys  # type: ignore[union-attr]
    assert rule("C-9", DECIDED, due, settled, today, (5,)) == found
