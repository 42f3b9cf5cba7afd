"""The process managers the projection engine drives (infrastructure/process_manager.py): automation
(licences, archives) and the delivery producer, from rows of the same `projection_tracking` as
the read models, in the same runner (`engine.run(..., managers=True)`) and in `projections status`.

One batch: the events of the manager's topics after its position, `handle`d (its commands saved by
the services, each in its own transaction), THEN the position moved by compare-and-set in a short
transaction of its own. A crash or a failure in between leaves the position where it was: the same
events are handed again, and the services' natural keys make the repeat harmless. A failing manager
is logged once and retried each round (like a read model's failing batch); the others go on.

A manager is never rebuilt from 0: its effects are commands in the log, not rows, and a replay would
issue them again (`refuse_rebuild`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from infrastructure.db import Database, table_exists
from infrastructure.log import GongjianApplication
from infrastructure.process_manager import ProcessManager

log = logging.getLogger(__name__)


class ProcessManagers:
    """Implements `ManagerDriver` for the managers it holds."""

    idle_every_s = 1.0  # a manager's own-clock work, at most this often when the log is quiet

    def __init__(self, app: GongjianApplication, db: Database, read_models: Sequence[str], batch_size: int = 200):
        self.app = app
        self.db = db
        self.reserved = set(read_models)  # one tracking table: a manager may not take a read model's row
        self.batch_size = batch_size
        self.managers: dict[str, ProcessManager] = {}
        self.conflicts: dict[str, int] = {}  # batches another runner recorded first
        self.failing: dict[str, str] = {}  # managers whose last round failed, with the error
        self._locks: dict[str, threading.Lock] = {}  # one round of a manager at a time in this process
        self._idle_at: dict[str, float] = {}
        self._busy: dict[str, bool] = {}  # whether a manager's last own-clock turn did something

    def add(self, *managers: ProcessManager) -> None:
        """Register managers (after `ProjectionEngine.setup`) and give each its tracking row: at the
        position of its legacy table when there is one (read once: the row is kept after), else 0."""
        for m in managers:
            if m.name in self.reserved:
                raise ValueError(f"{m.name!r} is a read model's name")
            self.managers[m.name] = m
            self._locks.setdefault(m.name, threading.Lock())
        with self.db.transaction() as cur:
            cur.execute("SELECT read_model FROM projection_tracking")
            tracked = {r["read_model"] for r in cur.fetchall()}
            for m in managers:
                if m.name in tracked:  # no insert over a row a runner may hold locked
                    continue
                start = 0
                if m.legacy_position and table_exists(cur, self.db.dialect, m.legacy_position):
                    cur.execute(f"SELECT MAX(position) AS p FROM {m.legacy_position}")  # noqa: S608 — our name
                    start = int(cur.fetchall()[0]["p"] or 0)
                    log.info("%s: starting at position %d of %s", m.name, start, m.legacy_position)
                cur.execute(
                    "INSERT INTO projection_tracking (read_model, position, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (read_model) DO NOTHING",
                    (m.name, start, _now()),
                )

    def position(self, name: str) -> int:
        rows = self.db.query("SELECT position FROM projection_tracking WHERE read_model = ?", (name,))
        return int(rows[0]["position"]) if rows else 0

    def positions(self) -> dict[str, int]:
        return {name: self.position(name) for name in self.managers}

    # -- driving --------------------------------------------------------------------------------

    def drive(self, manager: ProcessManager) -> int:
        """Every event after the manager's position, batch by batch, until caught up (this instance
        handles them: a test may hand in a fresh one that lost its memory)."""
        total = 0
        with self._locks[manager.name]:
            while True:
                handled, full = self._batch(manager)
                total += handled
                if not full:
                    return total

    def _batch(self, manager: ProcessManager) -> tuple[int, bool]:
        """One batch: handle, then record. Returns (events handled, whether the batch was full)."""
        name = manager.name
        old = self.position(name)
        top = self.app.max_position()  # read first: every event up to it is committed (ids in commit order)
        page = self.app.recorder.select_notifications(
            old, self.batch_size, topics=list(manager.topics), inclusive_of_start=False
        )
        if page:
            manager.handle(page)
        full = len(page) == self.batch_size
        # a short page saw every event of its topics up to `top`: the others need no handling
        new = page[-1].id if full else max(top, page[-1].id if page else old)
        if new > old:
            with self.db.transaction() as cur:
                cur.execute(
                    "UPDATE projection_tracking SET position = ?, updated_at = ? WHERE read_model = ? AND position = ?",
                    (new, _now(), name, old),
                )
                moved = cur.rowcount == 1
            if not moved:  # another runner handled the same events: harmless, and it is ahead
                self.conflicts[name] = self.conflicts.get(name, 0) + 1
        return len(page), full

    def round(self) -> int:
        """The runner's turn for every manager: one batch each, then its own-clock work when due.
        Never raises: a failure is logged (once until it recovers) and retried next round. Returns
        the events handled, plus one per manager whose own-clock work did something."""
        total = 0
        for name, manager in self.managers.items():
            lock = self._locks[name]
            if not lock.acquire(blocking=False):  # a round of it is running elsewhere in this process
                continue
            try:
                handled, _full = self._batch(manager)
                total += handled
                now = time.monotonic()
                # again at once while its own-clock work finds some (one archive package a turn)
                if handled or self._busy.get(name) or now - self._idle_at.get(name, 0.0) >= self.idle_every_s:
                    self._idle_at[name] = now
                    self._busy[name] = manager.idle()
                    total += int(self._busy[name])
            except Exception as exc:
                self._failed(name, exc)
            else:
                if self.failing.pop(name, None) is not None:
                    log.warning("%s: recovered; resumed from its position", name)
            finally:
                lock.release()
        return total

    def _failed(self, name: str, exc: Exception) -> None:
        if name not in self.failing:
            log.error("%s: round failed; its position stays, retrying each round", name, exc_info=exc)
        else:
            log.debug("%s: still failing", name, exc_info=exc)
        self.failing[name] = f"{type(exc).__name__}: {exc}"

    # -- what the engine says about them --------------------------------------------------------

    def status(self, log_position: int) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "kind": "process manager",
                "position": pos,
                "log_position": log_position,
                "lag": max(0, log_position - pos),
                "conflicts": self.conflicts.get(name, 0),
                "failing": self.failing.get(name),
            }
            for name, pos in self.positions().items()
        ]

    def refuse_rebuild(self, names: Sequence[str]) -> None:
        managers = sorted(set(names) & set(self.managers))
        if managers:
            raise ValueError(
                f"{', '.join(managers)}: a process manager is never rebuilt: its effects are commands in the log,"
                " not rows, and a replay from 0 would issue them again. It resumes from its position"
                " (docs/operations.md, process managers)."
            )


def _now() -> str:
    return datetime.now(UTC).isoformat()
