"""A follower of the log that survives its database: backoff, one line per outage, a reportable state.

Used by the loops that run against the store: the projection engine's runner (which drives the
process managers too) and the delivery worker: any failure of a round outside a read model's own handler is taken as a lost
connection (PostgreSQL restarted, the network cut, a pool exhausted)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)


class Follower:
    """How a follower of the log is doing: following, or reconnecting since when and why.

    Any failure outside a read model's own handler (PostgreSQL restarted, the network cut, a pool
    exhausted) is a lost connection: the follower waits `base_s`·2^n (at most `cap_s`) and resumes
    from its stored positions. One line is logged when the outage starts and one when it ends."""

    base_s = 0.5
    cap_s = 10.0

    def __init__(self, name: str) -> None:
        self.name = name
        self.state = "starting"
        self.since = time.time()
        self.failures = 0  # in the current outage
        self.reconnects = 0  # outages survived since start
        self.last_error: str | None = None

    def failed(self, exc: Exception) -> float:
        """Record a failed round; returns how long to wait before the next."""
        if self.state != "reconnecting":
            log.error("%s: lost the store (%s); reconnecting with backoff", self.name, _describe(exc), exc_info=exc)
            self.state, self.since = "reconnecting", time.time()
        else:
            log.debug("%s: still reconnecting", self.name, exc_info=exc)
        self.last_error = _describe(exc)
        self.failures += 1
        return min(self.cap_s, self.base_s * 2 ** (self.failures - 1))

    def succeeded(self) -> bool:
        """Record a good round; True when it ended an outage (or the start)."""
        if self.state == "following":
            return False
        if self.state == "reconnecting":
            self.reconnects += 1
            log.warning("%s: reconnected after %.1f s; resuming from the stored positions", self.name, self.outage_s)
        self.state, self.since, self.failures = "following", time.time(), 0
        return True

    @property
    def outage_s(self) -> float:
        return time.time() - self.since

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "since": datetime.fromtimestamp(self.since, UTC).isoformat(),
            "reconnects": self.reconnects,
            "last_error": self.last_error,
        }


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
