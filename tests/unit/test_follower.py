"""A follower of the log that loses its store backs off, says so once, and counts the outage."""

from __future__ import annotations

import logging

import pytest

from infrastructure.follower import Follower


def test_an_outage_backs_off_doubling_to_the_cap_and_is_logged_once_each_way(caplog: pytest.LogCaptureFixture) -> None:
    follower = Follower("projections")
    assert follower.succeeded()  # the first good round ends the start
    caplog.set_level(logging.DEBUG, logger="infrastructure.follower")
    waits = [follower.failed(ConnectionError(f"server closed the connection {n}")) for n in range(8)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    assert follower.state == "reconnecting" and follower.last_error == "ConnectionError: server closed the connection 7"
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1 and "lost the store" in errors[0].getMessage()
    assert follower.succeeded() and not follower.succeeded()
    assert follower.state == "following" and follower.reconnects == 1
    back = [r for r in caplog.records if r.levelno >= logging.WARNING][1:]
    assert len(back) == 1 and "reconnected after" in back[0].getMessage()
    # the next outage starts its backoff afresh
    assert follower.failed(ConnectionError("again")) == 0.5
