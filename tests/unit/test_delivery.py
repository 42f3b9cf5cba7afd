"""The Delivery aggregate (外部推送): its id is its idempotency key, failures follow a bounded,
deterministic backoff, the last allowed failure dead-letters it, an operator requeues it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.exchange import Delivery, DeliveryState, RetrySchedule, delivery_id
from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import Channel, Meta

T0 = datetime(2026, 5, 6, 9, 0, tzinfo=UTC)
SCHEDULE = RetrySchedule(base_s=30, cap_s=600, max_attempts=5)


def meta(now: datetime = T0, actor: str = "system:deliverer") -> Meta:
    return Meta(actor, "integration", "gongjian", Channel.SYSTEM_RULE, "r-1", now)


def requested(source: str = "case-1@7") -> Delivery:
    return Delivery.request(
        meta(),
        destination="real_estate_registration",
        topic="completion_acceptance.result",
        subject="case-1",
        source=source,
        payload={"项目": "安置房", "case_id": "case-1", "result": "approved"},
    )


def test_a_message_id_is_its_idempotency_key_one_per_topic_destination_and_source_event() -> None:
    d = requested()
    assert d.id == delivery_id("completion_acceptance.result", "real_estate_registration", "case-1@7")
    assert requested().id == d.id  # the producer running twice makes the same message
    assert requested("case-1@8").id != d.id
    assert d.body == '{"case_id":"case-1","result":"approved","项目":"安置房"}'  # canonical: sorted, UTF-8
    assert d.state == DeliveryState.PENDING and d.is_due(T0)


def test_failures_back_off_exponentially_up_to_the_cap_then_the_message_is_a_dead_letter() -> None:
    d = requested()
    now = T0
    for n, delay in enumerate([30, 60, 120, 240], start=1):
        d.record_failure(meta(now), f"HTTP 500 #{n}", SCHEDULE)
        assert d.state == DeliveryState.RETRYING
        assert d.retry_at == now + timedelta(seconds=delay)
        assert not d.is_due(now) and d.is_due(d.retry_at)
        now = d.retry_at
    d.record_failure(meta(now), "connection refused", SCHEDULE)
    assert d.state == DeliveryState.DEAD_LETTER
    assert d.attempts == 5 and d.retry_at is None and d.last_error == "connection refused"
    assert not d.is_due(now + timedelta(days=365))
    events = [type(e).__name__ for e in d.collect_events()]
    assert events == ["Requested", *["AttemptFailed"] * 4, "DeadLettered"]


def test_a_refusal_for_good_dead_letters_at_once() -> None:
    d = requested()
    d.record_failure(meta(), "HTTP 422 from real_estate_registration", SCHEDULE, permanent=True)
    assert d.state == DeliveryState.DEAD_LETTER and d.attempts == 1


def test_a_requeued_dead_letter_starts_a_new_round_and_keeps_counting_attempts() -> None:
    d = requested()
    for _ in range(5):
        d.record_failure(meta(), "down", SCHEDULE)
    with pytest.raises(InvalidValue):
        d.requeue(meta(actor="admin-1"), "  ")
    d.requeue(meta(actor="admin-1"), "the registration system is back")
    assert d.state == DeliveryState.PENDING and d.is_due(T0)
    d.record_failure(meta(), "still down", SCHEDULE)
    assert d.state == DeliveryState.RETRYING  # a fresh schedule, not the exhausted one
    assert d.retry_at == T0 + timedelta(seconds=30)
    d.record_delivery(meta(), '{"receipt": "BDC-1"}')
    assert d.state == DeliveryState.DELIVERED and d.attempts == 7 and d.receipt == '{"receipt": "BDC-1"}'


def test_a_delivered_message_takes_no_more_outcomes_and_only_a_dead_letter_is_requeued() -> None:
    d = requested()
    with pytest.raises(IllegalTransition):
        d.requeue(meta(), "why not")
    d.record_delivery(meta(), "ok")
    for act in (
        lambda: d.record_delivery(meta(), "again"),
        lambda: d.record_failure(meta(), "late", SCHEDULE),
        lambda: d.requeue(meta(), "again"),
    ):
        with pytest.raises(IllegalTransition):
            act()


@pytest.mark.parametrize(
    ("field", "value"),
    [("destination", "Real Estate!"), ("topic", "gossip"), ("subject", " "), ("source", "")],
)
def test_a_malformed_message_is_refused_with_the_field(field: str, value: str) -> None:
    fields = {
        "destination": "water",
        "topic": "utility.project_notice",
        "subject": "2611-460100-04-01-000001",
        "source": "case@3",
    }
    with pytest.raises(InvalidValue) as exc:
        Delivery.request(meta(), payload={}, **{**fields, field: value})
    assert exc.value.field == field


@given(
    base=st.floats(min_value=0.01, max_value=600, allow_nan=False),
    factor=st.floats(min_value=1, max_value=1000, allow_nan=False),
    max_attempts=st.integers(min_value=1, max_value=40),
)
def test_the_schedule_never_shrinks_never_passes_the_cap_and_stops_after_max_attempts(
    base: float, factor: float, max_attempts: int
) -> None:
    schedule = RetrySchedule(base_s=base, cap_s=base * factor, max_attempts=max_attempts)
    delays = [schedule.delay_s(n) for n in range(1, max_attempts)]
    assert all(base <= d <= schedule.cap_s for d in delays)
    assert delays == sorted(delays)
    assert all(schedule.retry_at(T0, n) == T0 + timedelta(seconds=d) for n, d in enumerate(delays, start=1))
    assert schedule.retry_at(T0, max_attempts) is None
    assert schedule.retry_at(T0, max_attempts + 1) is None


@given(failures=st.lists(st.booleans(), min_size=1, max_size=30), max_attempts=st.integers(1, 8))
def test_a_message_ends_delivered_or_dead_after_at_most_max_attempts_per_round(
    failures: list[bool], max_attempts: int
) -> None:
    """Whatever the receiver does, a round has at most `max_attempts` attempts and never continues
    after Delivered or DeadLettered; retry times always lie after the failure."""
    schedule = RetrySchedule(base_s=1, cap_s=8, max_attempts=max_attempts)
    d = requested()
    now = T0
    for failed in failures:
        if not d.awaiting:
            break
        if failed:
            d.record_failure(meta(now), "boom", schedule)
            if d.retry_at is not None:
                assert d.retry_at > now
                now = d.retry_at
        else:
            d.record_delivery(meta(now), "ok")
        assert d.attempts <= max_attempts
    if d.state == DeliveryState.DEAD_LETTER:
        assert d.attempts == max_attempts
    assert d.state != DeliveryState.DEAD_LETTER or not d.awaiting


def test_a_schedule_must_be_bounded_and_positive() -> None:
    for base, cap, attempts in ((0, 10, 3), (10, 5, 3), (1, 10, 0)):
        with pytest.raises(InvalidValue):
            RetrySchedule(base, cap, attempts)


@given(base=st.floats(min_value=0.01, max_value=60, allow_nan=False), failures=st.integers(1, 10_000))
def test_a_schedule_without_an_attempt_limit_never_gives_up_and_stays_under_its_cap(base: float, failures: int) -> None:
    """SMS codes and witnesses: the caller's own end (a code's expiry) stops them, not the schedule."""
    schedule = RetrySchedule(base_s=base, cap_s=base * 8, max_attempts=None)
    at = schedule.retry_at(T0, failures)
    assert at is not None
    assert base - 1e-6 <= (at - T0).total_seconds() <= base * 8 + 1e-6  # timedelta keeps microseconds
    assert schedule.delay_s(failures) == min(base * 2 ** min(failures - 1, 3), base * 8)
