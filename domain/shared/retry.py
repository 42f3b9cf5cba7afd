"""The one retry schedule of every outbox (deliveries, archive transfers, SMS codes, witnesses)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.shared.errors import InvalidValue


@dataclass(frozen=True)
class RetrySchedule:
    """Bounded exponential backoff without jitter: after the n-th failure of a round the next try
    is base·2^(n-1) seconds later, at most `cap_s`; the `max_attempts`-th failure is the last
    (None: never given up here — the caller has its own end, e.g. a code's expiry)."""

    base_s: float = 30.0
    cap_s: float = 3600.0
    max_attempts: int | None = 10

    def __post_init__(self) -> None:
        if not 0 < self.base_s <= self.cap_s:
            raise InvalidValue("retry", "need 0 < base_s <= cap_s", "retry_schedule")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise InvalidValue("retry", "max_attempts must be at least 1", "retry_schedule")

    def delay_s(self, failures: int) -> float:
        # the exponent is bounded so a huge count cannot overflow the float
        return min(self.base_s * 2.0 ** min(max(failures, 1) - 1, 64), self.cap_s)

    def retry_at(self, now: datetime, failures: int) -> datetime | None:
        """When to try again after `failures` failures of this round; None: give up (dead letter)."""
        if self.max_attempts is not None and failures >= self.max_attempts:
            return None
        return now + timedelta(seconds=self.delay_s(failures))
