"""Wake-ups (唤醒) for projection runners: something new is in the log, read it now rather than at the
next poll. Never the source of truth — the log is — so a lost or spurious wake-up only costs time.

- `Waker`: in-process; `app.after_save` hooks call `notify`, the engine waits on it.
- `RedisNotifier`: pub/sub of new positions across processes (optional: Redis down = slower, not broken),
  published from a sender thread so that no save waits on Redis.
- `PostgresListener`: LISTEN on the channel the eventsourcing PostgreSQL recorder NOTIFYs on each insert.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

import psycopg
import redis
from psycopg import sql

log = logging.getLogger(__name__)


class Waker:
    """A condition with a generation counter, so a notify that lands between a reader's last look
    at the log and its wait is not lost (`wait(since=…)`)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.generation = 0
        self.latest = 0

    def notify(self, position: int = 0) -> None:
        with self._cond:
            self.generation += 1
            self.latest = max(self.latest, position)
            self._cond.notify_all()

    def wait(self, timeout: float, since: int | None = None) -> bool:
        """Block until a notify after generation `since` (default: now) or the timeout; True if woken."""
        with self._cond:
            start = self.generation if since is None else since
            return self._cond.wait_for(lambda: self.generation > start, timeout)


class WakeSource(Protocol):
    """Something that calls `waker.notify` from a daemon thread until `stop` is set."""

    ready: threading.Event

    def listen(self, waker: Waker, stop: threading.Event) -> threading.Thread: ...


_WARNED: set[str] = set()  # per thing, not per user of it: two channels on one Redis warn once


class _WarnOnce:
    def __init__(self, what: str) -> None:
        self.what = what

    def __call__(self, exc: Exception) -> None:
        if self.what not in _WARNED:
            _WARNED.add(self.what)
            log.warning("%s unavailable, carrying on without it: %s", self.what, exc)

    def recovered(self) -> None:
        if self.what in _WARNED:
            _WARNED.discard(self.what)
            log.warning("%s is back", self.what)


class RedisNotifier:
    """Publishes new log positions on a Redis channel and turns them into wake-ups elsewhere."""

    retry_after_s = 5.0  # after a failure, skip publishing for a while instead of stalling every save

    def __init__(self, url: str, channel: str = "gongjian:positions") -> None:
        self.url = url
        self.channel = channel
        self.ready = threading.Event()
        self._client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self._warn = _WarnOnce(f"Redis at {url}")
        self._down_until = 0.0
        self._pending: int | None = None  # the latest position not sent yet
        self._pending_cond = threading.Condition()
        self._sender: threading.Thread | None = None
        self._closed = False

    def publish(self, position: int) -> None:
        """Hand the position to a sender thread and return: a save never waits for Redis. Positions
        not sent yet collapse into the latest (a wake-up is a hint; the log is the truth)."""
        with self._pending_cond:
            self._pending = max(self._pending or 0, position)
            if self._sender is None or not self._sender.is_alive():
                self._sender = threading.Thread(target=self._send_pending, name="redis-publish", daemon=True)
                self._sender.start()
            self._pending_cond.notify()

    def _send_pending(self) -> None:
        while True:
            with self._pending_cond:
                while self._pending is None and not self._closed:
                    self._pending_cond.wait()
                if self._pending is None:
                    return  # closed, and nothing left to send
                position, self._pending = self._pending, None
            self._send(position)

    def _send(self, position: int) -> None:
        if time.monotonic() < self._down_until:
            return
        try:
            self._client.publish(self.channel, str(position))
        except redis.RedisError as exc:
            self._down_until = time.monotonic() + self.retry_after_s
            self._warn(exc)
        else:
            self._warn.recovered()

    def listen(self, waker: Waker, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self._listen, args=(waker, stop), name="redis-wakeups", daemon=True)
        thread.start()
        return thread

    def _listen(self, waker: Waker, stop: threading.Event) -> None:
        warn = _WarnOnce(f"Redis subscription at {self.url}")
        while not stop.is_set():
            client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=None)
            try:
                with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    pubsub.subscribe(self.channel)
                    pubsub.get_message(timeout=1.0)  # the subscribe confirmation: we are listening now
                    self.ready.set()
                    warn.recovered()
                    # a message may have been missed while (re)subscribing: wake once to re-read the log
                    waker.notify(0)
                    while not stop.is_set():
                        message = pubsub.get_message(timeout=0.5)
                        if message is not None and message["type"] == "message":
                            waker.notify(_as_int(message["data"]))
            except redis.RedisError as exc:
                self.ready.clear()
                warn(exc)
                stop.wait(1.0)
            finally:
                client.close()

    def close(self) -> None:
        with self._pending_cond:
            self._closed = True
            self._pending_cond.notify()
        if self._sender is not None:
            self._sender.join(2.0)  # what is pending still goes out
        self._client.close()


class PostgresListener:
    """LISTEN on the events table's channel; each NOTIFY (one per insert transaction) wakes the waker.
    The channel is per database, not per schema: other schemas' writes cause harmless spurious wake-ups."""

    def __init__(self, conninfo: str, channel: str) -> None:
        self.conninfo = conninfo
        self.channel = channel
        self.ready = threading.Event()

    def listen(self, waker: Waker, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self._listen, args=(waker, stop), name="pg-listen", daemon=True)
        thread.start()
        return thread

    def _listen(self, waker: Waker, stop: threading.Event) -> None:
        warn = _WarnOnce(f"PostgreSQL LISTEN {self.channel}")
        while not stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=3) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    self.ready.set()
                    warn.recovered()
                    waker.notify(0)
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            waker.notify(0)
            except psycopg.Error as exc:
                self.ready.clear()
                warn(exc)
                stop.wait(1.0)


def _as_int(data: object) -> int:
    try:
        return int(data.decode() if isinstance(data, bytes) else str(data))
    except ValueError:
        return 0
