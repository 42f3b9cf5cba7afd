"""投影引擎 — the projection engine: follows the one log in batches and feeds each read model.

Exactly once: a batch's rows and the read model's new position (`projection_tracking`) are written
in one transaction, and the position moves by compare-and-set on the old one, so two runners (threads
or processes) never both apply a batch. Positions are notification ids: rowids on SQLite; on
PostgreSQL ids may have gaps but appear in commit order (the recorder locks the table per insert), so
following `id > position` misses nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from application.app import GongjianApplication
from infrastructure.db import Database
from infrastructure.notify import Waker, WakeSource
from projections.base import Envelope, ReadModel, bigint

log = logging.getLogger(__name__)
SETUP_LOCK = 0x67_6A_70_72  # any constant shared by every process of this system


class TrackingConflict(Exception):
    """Another runner advanced this read model's position first; this batch was rolled back."""


class ProjectionEngine:
    def __init__(
        self,
        app: GongjianApplication,
        db: Database,
        read_models: Sequence[ReadModel],
        batch_size: int = 500,
        waker: Waker | None = None,
        sources: Sequence[WakeSource] = (),
        idle_timeout: float = 1.0,
        publisher: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.app = app
        self.db = db
        self.models = {m.name: m for m in read_models}
        self.batch_size = batch_size
        self.waker = waker or Waker()
        self.sources = list(sources)
        self.idle_timeout = idle_timeout
        self.publisher = publisher
        self.rebuilding: set[str] = set()
        self.progress = Waker()  # signalled after each committed batch (wait_for in this process)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- tracking -------------------------------------------------------------------------------

    def setup(self) -> None:
        with self.db.transaction() as cur:
            if self.db.dialect == "postgresql":
                # concurrent CREATE TABLE IF NOT EXISTS can still collide: API and runner start together
                cur.execute("SELECT pg_advisory_xact_lock(?)", (SETUP_LOCK,))
            cur.execute(
                "CREATE TABLE IF NOT EXISTS projection_tracking ("
                f" read_model TEXT PRIMARY KEY, position {bigint(self.db.dialect)} NOT NULL, updated_at TEXT NOT NULL)"
            )
            for model in self.models.values():
                model.create_tables(cur, self.db.dialect)
                cur.execute(
                    "INSERT INTO projection_tracking (read_model, position, updated_at) VALUES (?, 0, ?)"
                    " ON CONFLICT (read_model) DO NOTHING",
                    (model.name, _now()),
                )

    def position(self, name: str) -> int:
        rows = self.db.query("SELECT position FROM projection_tracking WHERE read_model = ?", (name,))
        return int(rows[0]["position"]) if rows else 0

    def positions(self) -> dict[str, int]:
        rows = self.db.query("SELECT read_model, position FROM projection_tracking")
        found = {r["read_model"]: int(r["position"]) for r in rows}
        return {name: found.get(name, 0) for name in self.models}

    # -- processing -----------------------------------------------------------------------------

    def process_batch(self, name: str) -> int:
        """Apply the next batch to one read model; returns how many events it held (0: caught up)."""
        model = self.models[name]
        old = self.position(name)
        notifications = self.app.recorder.select_notifications(
            start=old, limit=self.batch_size, inclusive_of_start=False
        )
        if not notifications:
            return 0
        batch = [Envelope(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]
        new = batch[-1].position
        model.outbox.clear()
        with self.db.transaction() as cur:
            # compare-and-set first: the row lock (PostgreSQL) or the write lock (SQLite) makes a
            # racing runner wait here and then fail, before it writes any row of its own
            cur.execute(
                "UPDATE projection_tracking SET position = ?, updated_at = ? WHERE read_model = ? AND position = ?",
                (new, _now(), name, old),
            )
            if cur.rowcount != 1:
                raise TrackingConflict(f"{name}: position moved from {old} before this batch committed")
            model.handle(cur, batch)
        self.progress.notify(new)
        self._publish(model)
        return len(batch)

    def _publish(self, model: ReadModel) -> None:
        """Live messages go out only after their rows committed, and not while rebuilding."""
        messages, model.outbox = model.outbox, []
        if self.publisher is None or model.name in self.rebuilding:
            return
        for message in messages:
            try:
                self.publisher(model.name, message)
            except Exception:  # live delivery must never break projection
                log.exception("%s: publishing a live message failed", model.name)

    def catch_up(self, names: Sequence[str] | None = None, *, skip_failing: bool = False) -> int:
        """Process batches, one per read model in turn, until none of them finds anything new.
        With `skip_failing`, a read model whose handler raises is logged and left behind for this
        round (its batch rolled back) while the others go on."""
        pending = list(names or self.models)
        total = 0
        while pending:
            still = []
            for name in pending:
                try:
                    count = self.process_batch(name)
                except TrackingConflict:
                    log.info("%s: another runner got there first; re-reading the position", name)
                    still.append(name)
                    continue
                except Exception:
                    if not skip_failing:
                        raise
                    log.exception("%s: batch failed and was rolled back; retrying later", name)
                    continue
                total += count
                if count:
                    still.append(name)
            pending = still
        return total

    def rebuild(self, name: str) -> int:
        """Drop every row of a read model and replay it from position 0."""
        model = self.models[name]
        with self.db.transaction() as cur:
            model.clear(cur)
            cur.execute(
                "UPDATE projection_tracking SET position = 0, updated_at = ? WHERE read_model = ?", (_now(), name)
            )
        self.rebuilding.add(name)  # replayed history is not news: nothing is published live
        try:
            return self.catch_up([name])
        finally:
            self.rebuilding.discard(name)

    # -- running --------------------------------------------------------------------------------

    def run(self, stop: threading.Event, idle_timeout: float | None = None) -> None:
        """Follow the log until `stop` is set: catch up, then sleep until a wake-up or the timeout."""
        idle = self.idle_timeout if idle_timeout is None else idle_timeout
        for source in self.sources:
            source.listen(self.waker, stop)
        while not stop.is_set():
            generation = self.waker.generation
            # a broken handler must not stop the runner: its model stays put, the others go on
            processed = self.catch_up(skip_failing=True)
            if not processed:
                self.waker.wait(idle, since=generation)

    def start(self, idle_timeout: float | None = None, ready_timeout: float = 2.0) -> None:
        """Run in a daemon thread (in-process use); returns once wake-up sources are listening."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self.run, args=(self._stop, idle_timeout), name="projection-engine", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + ready_timeout
        for source in self.sources:
            source.ready.wait(max(0.0, deadline - time.monotonic()))

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.waker.notify(0)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wait_for(self, position: int, timeout: float, names: Sequence[str] | None = None) -> bool:
        """Read-your-writes: True once every (named) read model has processed `position`, False
        after `timeout`. Another process may be the runner, so poll the tracking table too."""
        wanted = list(names or self.models)
        deadline = time.monotonic() + timeout
        interval = 0.005
        while True:
            generation = self.progress.generation
            current = self.positions()
            if all(current.get(n, 0) >= position for n in wanted):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.progress.wait(min(interval, remaining), since=generation)
            interval = min(interval * 2, 0.1)

    def status(self) -> list[dict[str, Any]]:
        log_position = self.app.max_position()
        return [
            {"name": name, "position": pos, "log_position": log_position, "lag": max(0, log_position - pos)}
            for name, pos in self.positions().items()
        ]


def _now() -> str:
    return datetime.now(UTC).isoformat()
