"""投影引擎 — the projection engine, the one follower of the log: feeds each read model in batches,
and drives the process managers (automation, deliveries: projections/process_managers.py).

Exactly once: a batch's rows and the read model's new position (`projection_tracking`) are written
in one transaction, and the position moves by compare-and-set on the old one, so two runners (threads
or processes) never both apply a batch. Positions are notification ids: rowids on SQLite; on
PostgreSQL ids may have gaps but appear in commit order (the recorder locks the table per insert), so
following `id > position` misses nothing.

Read models at the same position share one read and one decoding of each batch and one
transaction: each read model writes its rows and position in its own savepoint, so one that fails
rolls back alone while the others commit together (one commit per batch, not one per read model).
Rebuilds use larger batches (COPY); on PostgreSQL a live batch (up to `pipeline_max` events) runs
in pipeline mode, so its writes cost no round trip of their own, and so does a `pipelined` read
model's handler in any batch (`handle_batch`). Each batch's commit is announced: in this
process on `progress`, across processes by a NOTIFY sent inside the batch's transaction (PostgreSQL
delivers it on commit) and by `announce` (Redis), so `wait_for` is woken by the commit itself.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import quote

from psycopg.conninfo import conninfo_to_dict

from infrastructure.db import Database, DatabaseURL, PostgresDatabase, table_exists
from infrastructure.follower import Follower
from infrastructure.log import GongjianApplication
from infrastructure.notify import PostgresListener, Waker, WakeSource
from infrastructure.settings import Settings
from infrastructure.store import SETUP_LOCK, install_latest_edition, position_of
from projections import runners
from projections.base import Envelope, ReadModel, bigint, handle_batch
from projections.catalogue_in_force import install_editions
from projections.process_managers import ProcessManagers
from projections.rebuild_costs import portable, rebuild_cost
from projections.upgrade import Superseded, Upgrades

log = logging.getLogger(__name__)
# a rebuild of at least this many events ends with VACUUM (ANALYZE) of its tables; below it the
# tables are small enough for any plan, and the suite's many small rebuilds stay fast
VACUUM_AFTER = 10_000


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
        rebuild_batch_size: int = 5000,
        announce: Callable[[int], None] | None = None,
        progress_sources: Sequence[WakeSource] = (),
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
        self.rebuild_batch_size = max(batch_size, rebuild_batch_size)
        self.pipeline_max = 64  # events: batches up to this size are sent in pipeline mode
        self.progress = Waker()  # signalled after each committed batch (wait_for in this process)
        self.announce = announce  # after each committed batch, to other processes (Redis)
        self.progress_sources = list(progress_sources)
        # PostgreSQL: the commit of a batch NOTIFYs this channel; waiters in any process LISTEN on it
        self.progress_channel: str | None = None
        if isinstance(db, PostgresDatabase):
            self.progress_channel = f"gongjian_projected_{db.schema}"[:63]
            self.progress_sources.append(PostgresListener(db.conninfo, self.progress_channel))
        self._progress_stop: threading.Event | None = None
        self._progress_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.follower = Follower("projections")
        self.conflicts: dict[str, int] = {}  # batches another runner committed first, per read model
        self.managers = ProcessManagers(app, db, list(self.models))  # driven by run(managers=True)
        self.upgrade = Upgrades(self)  # shape changes built in shadow tables (projections/upgrade.py)

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
            runners.create_table(cur)
            cur.execute(
                "CREATE TABLE IF NOT EXISTS projection_shapes ("
                " read_model TEXT PRIMARY KEY, shape INTEGER NOT NULL, updated_at TEXT NOT NULL)"
            )
            built, tracked = self.upgrade.reshape(cur)
            for model in self.models.values():
                # A store already built under this shape takes no lock here: DDL on a read model's
                # tables (even IF NOT EXISTS) and an insert over a tracking row a runner's open batch
                # has updated both queue behind that batch while holding what it needs (a deadlock
                # seen when an API restarts beside a running runner).
                tables = (*model.tables, *model.durable)
                if model.name not in built or not all(table_exists(cur, self.db.dialect, t) for t in tables):
                    model.create_tables(cur, self.db.dialect)
                if model.name not in tracked:
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

    def read(self, after: int, limit: int | None = None) -> list[Envelope]:
        """The next events after a position, decoded."""
        notifications = self.app.recorder.select_notifications(
            start=after, limit=limit or self.batch_size, inclusive_of_start=False
        )
        to_domain_event = self.app.mapper.to_domain_event
        return install_editions([Envelope(n.id, to_domain_event(n)) for n in notifications])  # 事项库 in force

    def process_batch(self, name: str) -> int:
        """Apply the next batch to one read model; returns how many events it held (0: caught up)."""
        old = self.position(name)
        batch = self.read(old)
        return self._apply(name, old, batch) if batch else 0

    def _apply(self, name: str, old: int, batch: Sequence[Envelope]) -> int:
        """One transaction: move the position from `old` to the batch's last event and write the rows."""
        _done, conflicts, failures = self._apply_group([name], old, batch)
        if failures:
            raise failures[0][1]
        if conflicts:
            raise TrackingConflict(f"{name}: position moved from {old} before this batch committed")
        return len(batch)

    def _apply_group(
        self, names: Sequence[str], old: int, batch: Sequence[Envelope]
    ) -> tuple[list[str], list[str], list[tuple[str, Exception]]]:
        """Apply one batch to read models at the same position in ONE transaction (one commit, one
        NOTIFY). Returns the read models applied, those another runner got ahead of, and those whose
        handler failed (with the error): a failing one is rolled back alone, the others commit."""
        try:
            done = self._apply_together(names, old, batch)
        except Exception:  # rolled back: find out which read model it was, one savepoint each
            log.debug("batch after %s: applying read model by read model", old, exc_info=True)
            done, conflicts, failures = self._apply_each(names, old, batch)
        else:
            conflicts, failures = [], []
        if done:
            new = batch[-1].position
            self.progress.notify(new)
            if self.announce is not None:
                try:
                    self.announce(new)
                except Exception:  # a wake-up is never the source of truth
                    log.exception("announcing position %s failed", new)
            for name in done:
                self._publish(self.upgrade.model(name))
        return done, conflicts, failures

    def _apply_together(self, names: Sequence[str], old: int, batch: Sequence[Envelope]) -> list[str]:
        """The usual case, in few round trips: one compare-and-set for every position, then each
        handler; any failure or lost race rolls everything back (then `_apply_each` sorts it out)."""
        new = batch[-1].position
        # pipeline mode, writes not waited for: live batches, and any batch of read models that ask
        whole = all(self.upgrade.model(n).pipelined for n in names)  # (others' rebuild batches keep COPY)
        pipelined = isinstance(self.db, PostgresDatabase) and (len(batch) <= self.pipeline_max or whole)
        with self.db.pipelined_transaction() if pipelined else self.db.transaction() as cur:  # type: ignore[attr-defined]
            # compare-and-set first: the row locks (PostgreSQL) or the write lock (SQLite) make a
            # racing runner wait here, before the database runs any statement of its handlers, and
            # then fail. Pipelined, its answer is read only after the handlers (on a cursor of its
            # own), so it travels with their first look-up instead of costing a round trip alone.
            tracking = cur.sibling() if pipelined else cur  # type: ignore[union-attr]  # _PGCursor when pipelined
            marks = ", ".join("?" * len(names))
            tracking.execute(
                "UPDATE projection_tracking SET position = ?, updated_at = ?"  # noqa: S608 — marks only
                f" WHERE position = ? AND read_model IN ({marks}) RETURNING read_model",
                (new, _now(), old, *names),
            )
            if not pipelined and len(tracking.fetchall()) != len(names):
                raise TrackingConflict(f"a position moved from {old} before this batch committed")
            checked = self.upgrade.ask(cur.sibling() if pipelined else cur, names)  # type: ignore[union-attr]
            if not pipelined:
                checked()  # a shape newer than this code's (an upgrade swapped in): Superseded
            for name in names:
                model = self.upgrade.model(name)
                model.outbox.clear()
                handle_batch(model, cur, batch)  # (a pipelined read model's writes not waited for)
            if pipelined and len(tracking.fetchall()) != len(names):  # lost the race: all rolls back
                raise TrackingConflict(f"a position moved from {old} before this batch committed")
            if pipelined:
                checked()
            if self.progress_channel is not None:  # delivered on commit, never before
                cur.execute("SELECT pg_notify(?, ?)", (self.progress_channel, str(new)))
        return list(names)

    def _apply_each(
        self, names: Sequence[str], old: int, batch: Sequence[Envelope]
    ) -> tuple[list[str], list[str], list[tuple[str, Exception]]]:
        """Still one transaction, but each read model in its own savepoint: one whose handler
        raises, or whose position another runner moved, is rolled back alone."""
        new = batch[-1].position
        done: list[str] = []
        conflicts: list[str] = []
        failures: list[tuple[str, Exception]] = []
        with self.db.transaction() as cur:
            for i, name in enumerate(names):
                model = self.upgrade.model(name)
                model.outbox.clear()
                cur.execute(f"SAVEPOINT read_model_{i}")
                try:
                    cur.execute(
                        "UPDATE projection_tracking SET position = ?, updated_at = ?"
                        " WHERE read_model = ? AND position = ?",
                        (new, _now(), name, old),
                    )
                    if cur.rowcount != 1:
                        raise TrackingConflict(f"{name}: position moved from {old} before this batch committed")
                    self.upgrade.ask(cur, [name])()
                    model.handle(cur, batch)
                except Exception as exc:
                    cur.execute(f"ROLLBACK TO SAVEPOINT read_model_{i}")
                    model.outbox.clear()
                    if isinstance(exc, TrackingConflict | Superseded):
                        conflicts.append(name)
                    else:
                        failures.append((name, exc))
                else:
                    cur.execute(f"RELEASE SAVEPOINT read_model_{i}")
                    done.append(name)
            if done and self.progress_channel is not None:
                cur.execute("SELECT pg_notify(?, ?)", (self.progress_channel, str(new)))
        return done, conflicts, failures

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

    def catch_up(
        self, names: Sequence[str] | None = None, *, skip_failing: bool = False, batch_size: int | None = None
    ) -> int:
        """Process batches until none of the read models finds anything new. Read models at the same
        position get the same batch, read and decoded once. With `skip_failing`, a read model whose
        handler raises is logged and left behind for this round (its batch rolled back) while the
        others go on."""
        pending = self.upgrade.followed(names)  # less read models held back by an upgrade
        total = 0
        at: dict[str, int] = {}
        stale = True
        while pending:
            # read once, then kept: a committed batch moved its group to the batch's end, and a
            # position moved by anyone else shows as a conflict (compare-and-set), which re-reads
            if stale:
                at, stale = self.upgrade.positions(), False  # shadows' too
            groups: dict[int, list[str]] = {}
            for name in pending:
                groups.setdefault(at.get(name, 0), []).append(name)
            still = []
            for old, group in sorted(groups.items()):
                batch = self.read(old, batch_size)
                if not batch:
                    continue
                # one order for every runner: tracking rows are locked in it, so never a deadlock
                done, conflicts, failures = self._apply_group(sorted(group), old, batch)
                total += len(batch) * len(done)
                still.extend(done)
                at.update(dict.fromkeys(done, batch[-1].position))
                stale = stale or bool(conflicts or failures)
                for name in conflicts:
                    if self._conflict(name):
                        still.append(name)
                for name, exc in failures:
                    if not skip_failing:
                        raise exc  # the others of the group committed; this one rolled back alone
                    log.error("%s: batch failed and was rolled back; retrying later", name, exc_info=exc)
            pending = still
        return total

    def _conflict(self, name: str) -> bool:
        """Contention is normal when another process keeps a read model current too (an API that
        catches up what its command needs): said once per read model, then only counted (status).
        False: not to be retried (an upgrade superseded it, or swapped its shadow in)."""
        if self.upgrade.reconcile(name):
            return False
        self.conflicts[name] = self.conflicts.get(name, 0) + 1
        if self.conflicts[name] == 1:
            log.info("%s: another runner got there first; re-reading the position (further times are counted)", name)
        return True

    def rebuild(self, name: str) -> int:
        """Drop every row of a read model and replay it from position 0."""
        return self.rebuild_all([name])

    def rebuild_all(
        self, names: Sequence[str] | None = None, workers: int = 1, settings: Settings | None = None
    ) -> int:
        """Drop every row of the (named) read models and replay them from position 0, in large
        batches; returns the events replayed (per read model, not summed).

        With `workers` > 1 on PostgreSQL the read models are split into that many groups of about
        equal time (`rebuild_groups`), each replayed by its own process: the first here, the others
        at once in child processes (spawned: a fresh interpreter, its own connections, built from
        `settings`, or from the environment pointed at this engine's database). A
        group keeps the semantics of a rebuild in one process (each batch's rows and positions in
        one transaction, memory bounded by the batch size); a failure in any group fails the call
        with that error, once every group has finished. Read models never read one another's
        tables while handling a batch (the ledger reads only the events table), so groups need no
        ordering between them."""
        wanted = list(names or self.models)
        self.managers.refuse_rebuild(wanted)
        wanted = self.upgrade.to_rebuild(wanted)  # a shadowing read model: its shadow
        if not wanted:
            return 0
        groups = self.rebuild_groups(wanted, workers, self.app.max_position() if workers > 1 else 0)
        if len(groups) == 1:
            return self._rebuild_here(wanted) // len(wanted)
        child_settings = self._worker_settings(settings)
        unknown = {n.partition("@")[0] for n in wanted}.difference(_registered_names())
        if unknown:
            raise ValueError(f"only registered read models can be rebuilt in workers, not {sorted(unknown)}")
        self.rebuilding.update(wanted)  # rebuilt elsewhere, but this process must not publish them either
        errors: list[BaseException] = []
        total = 0
        try:
            with ProcessPoolExecutor(len(groups) - 1, mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = [
                    pool.submit(_rebuild_group, child_settings, group, self.rebuild_batch_size) for group in groups[1:]
                ]
                try:
                    total += self._rebuild_here(groups[0])
                except Exception as exc:  # the children run on; their read models end consistent
                    errors.append(exc)
                for future in futures:
                    try:
                        total += future.result()
                    except Exception as exc:
                        errors.append(exc)
        finally:
            self.rebuilding.difference_update(wanted)
        if errors:
            raise errors[0]
        return total // len(wanted)

    # seconds a worker process takes to start (spawn, imports, connections) before it replays
    # anything: the groups started in children get that much less of the work
    worker_start_s = 2.0

    def rebuild_groups(self, names: Sequence[str], workers: int, events: int = 0) -> list[list[str]]:
        """`names` in at most `workers` groups of about equal rebuild time: each read model by cost
        (projections/rebuild_costs.py, costliest first) onto the group with the least so far, where every group
        but the first (this process's) starts with a worker's start-up, spread over the `events`
        to replay; so a small log may stay in fewer groups, or one. On SQLite one group: it has one
        writer at a time, so a second process would only wait for the first one's locks."""
        if self.db.dialect != "postgresql":
            workers = 1
        count = max(1, min(workers, len(names)))
        start = self.worker_start_s * 1e6 / events if events else 0.0  # µs per event, as the costs
        groups: list[list[str]] = [[] for _ in range(count)]
        loads = [0.0] + [start] * (count - 1)
        for name in sorted(names, key=lambda n: (-rebuild_cost(n), n)):
            lightest = loads.index(min(loads))
            groups[lightest].append(name)
            loads[lightest] += rebuild_cost(name)
        return [sorted(group) for group in groups if group]

    def _rebuild_here(self, wanted: Sequence[str]) -> int:
        """Rebuild in this process; returns the events replayed summed over the read models."""
        for name in wanted:
            with self.db.transaction() as cur:
                self.upgrade.model(name).clear(cur)
                cur.execute(
                    "UPDATE projection_tracking SET position = 0, updated_at = ? WHERE read_model = ?", (_now(), name)
                )
        self.rebuilding.update(wanted)  # replayed history is not news: nothing is published live
        gc.freeze()  # what exists already (modules, catalogue) is left out of every full collection
        try:
            replayed = self.catch_up(wanted, batch_size=self.rebuild_batch_size)
        finally:
            gc.unfreeze()
            self.rebuilding.difference_update(wanted)
        if isinstance(self.db, PostgresDatabase) and wanted and replayed // len(wanted) >= VACUUM_AFTER:
            # freshly bulk-loaded tables: statistics for the planner, a visibility map for counts
            self.db.vacuum_analyze([t for name in wanted for t in self.upgrade.model(name).tables])
        self.upgrade.swap_ready(wanted)  # a shadow rebuilt to the head goes live
        return replayed

    def _worker_settings(self, settings: Settings | None) -> Settings:
        """What a worker process builds its engine from: this engine's database, always (settings
        naming another one are refused rather than rebuilding the wrong store)."""
        db = self.db
        if not isinstance(db, PostgresDatabase):
            raise ValueError("parallel rebuilds need PostgreSQL")
        if settings is None:
            params = conninfo_to_dict(db.conninfo)
            password = f":{quote(str(params['password']), safe='')}" if params.get("password") else ""
            url = (
                f"postgresql://{quote(str(params['user']), safe='')}{password}@{params['host']}:{params['port']}"
                f"/{params['dbname']}?schema={db.schema}"
            )
            return Settings(database_url=url)
        url_of = DatabaseURL(settings.database_url)
        if url_of.scheme != "postgresql" or (url_of.conninfo, url_of.schema) != (db.conninfo, db.schema):
            raise ValueError("the settings name another database than this engine's")
        return settings

    # -- running --------------------------------------------------------------------------------

    def run(self, stop: threading.Event, idle_timeout: float | None = None, managers: bool = False) -> None:
        """Follow the log until `stop` is set: catch up (then drive the process managers, with
        `managers`), then sleep until a wake-up or the timeout."""
        idle = self.idle_timeout if idle_timeout is None else idle_timeout
        for source in self.sources:
            source.listen(self.waker, stop)
        beaten_at = 0.0  # when this runner last recorded its heartbeat
        while not stop.is_set():
            generation = self.waker.generation
            try:
                # a broken handler must not stop the runner: its model stays put, the others go on
                processed = self.catch_up(skip_failing=True)
                processed += self.upgrade.step()  # a batch of each shadow being built, or its swap
                if self.follower.succeeded() or time.monotonic() - beaten_at >= runners.HEARTBEAT_S:
                    runners.beat(self.db, self.follower)
                    beaten_at = time.monotonic()
                if managers:  # after the read models (the automation reads the ledger's); never raises
                    processed += self.managers.round()
            except Exception as exc:  # the store itself failed: wait, then resume from the positions
                stop.wait(self.follower.failed(exc))
                continue
            if not processed:
                self.waker.wait(idle, since=generation)
        self.follower.state = "stopped"
        try:
            runners.beat(self.db, self.follower)
        except Exception:  # stopping while the store is down: the row goes stale instead
            log.debug("could not record the stop", exc_info=True)

    def runners(self) -> list[dict[str, Any]]:
        """Every follower of the log heard from in the last day (projections/runners.py)."""
        return runners.heard(self.db, self.follower if self._thread is not None else None)

    def start(self, idle_timeout: float | None = None, ready_timeout: float = 2.0, managers: bool = False) -> None:
        """Run in a daemon thread (in-process use); returns once wake-up sources are listening."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self.run, args=(self._stop, idle_timeout, managers), name="projection-engine", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + ready_timeout
        for source in self.sources:
            source.ready.wait(max(0.0, deadline - time.monotonic()))

    def stop(self, timeout: float = 5.0) -> None:
        with self._progress_lock:
            if self._progress_stop is not None:
                self._progress_stop.set()
                self._progress_stop = None
        self._stop.set()
        self.waker.notify(0)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wait_for(self, position: int, timeout: float, names: Sequence[str] | None = None) -> bool:
        """Read-your-writes: True once every (named) read model has processed `position`, False
        after `timeout`. Woken by each batch's commit: in this process directly, from a runner in
        another process by its NOTIFY (PostgreSQL) or Redis message. Without any such channel
        (SQLite, no Redis) it polls the tracking table; with one, it re-reads only on a wake-up or,
        in case a message was lost, every `safety_s`."""
        wanted = list(names or self.models)
        deadline = time.monotonic() + timeout
        listening = self._listen_for_progress()
        interval = 0.005
        while True:
            generation = self.progress.generation
            current = self.positions()
            if all(current.get(n, 0) >= position for n in wanted):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if listening and all(s.ready.is_set() for s in self.progress_sources):
                self.progress.wait(min(self.safety_s, remaining), since=generation)
            else:
                self.progress.wait(min(interval, remaining), since=generation)
                interval = min(interval * 2, 0.1)

    safety_s = 1.0

    def _listen_for_progress(self, ready_timeout: float = 2.0) -> bool:
        """Start (once) the listeners that turn other processes' batch commits into wake-ups."""
        if not self.progress_sources:
            return False
        with self._progress_lock:
            if self._progress_stop is None:
                self._progress_stop = threading.Event()
                for source in self.progress_sources:
                    source.ready.clear()  # set again once this listener (not a stopped one) listens
                    source.listen(self.progress, self._progress_stop)
                deadline = time.monotonic() + ready_timeout
                for source in self.progress_sources:
                    source.ready.wait(max(0.0, deadline - time.monotonic()))
        return True

    def status(self) -> list[dict[str, Any]]:
        log_position = self.app.max_position()
        positions = self.positions()
        return [
            {
                "name": name,
                "position": pos,
                "log_position": log_position,
                "lag": max(0, log_position - pos),
                "conflicts": self.conflicts.get(name, 0),
                "state": self.upgrade.held.get(name, "live"),  # or why this process does not apply it
            }
            for name, pos in positions.items()
        ] + self.upgrade.status(positions, log_position)  # shadows being built, by any process


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _registered_names() -> set[str]:
    """The read models a worker can build (imported here: the registry imports every read model)."""
    from projections.registry import READ_MODELS

    return {cls.name for cls in READ_MODELS}


def _rebuild_group(settings: Settings, names: list[str], batch_size: int) -> int:
    """In a spawned worker process: rebuild one group on an engine of its own (no wake-ups, no
    live messages), built as bootstrap builds it; returns the events replayed summed over the group."""
    from infrastructure.store import open_store
    from projections.ledger import ledger_config
    from projections.registry import all_read_models

    url = DatabaseURL(settings.database_url)
    app = open_store(url, settings.postgres_lock_timeout_s)
    db = url.open()
    try:
        models = [
            m for m in all_read_models(db, ledger_config(settings)) if m.name in {n.partition("@")[0] for n in names}
        ]
        engine = ProjectionEngine(app, db, models, batch_size=settings.batch_size, rebuild_batch_size=batch_size)
        engine.upgrade.attach()  # the parent's shadows (its setup made them)
        # a rebuild reads the latest edition of the catalogue, as the parent does
        install_latest_edition(app, partial(position_of, db))
        try:
            return engine._rebuild_here(names)
        except Exception as exc:
            raise portable(exc) from None
    finally:
        db.close()
        app.close()
