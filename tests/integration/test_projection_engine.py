"""The projection engine: batches, exactly-once tracking, rebuilds, crashes, wake-ups.

Runs on SQLite and PostgreSQL. A small read model defined here (events per aggregate type, plus a
row per event without a key so that a duplicate would show) sits next to the real ones.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from application.bootstrap import Container, bootstrap
from application.commands import Invocation
from application.commands.cases import AcceptCase, SubmitCase
from application.commands.projects import GenerateProject
from application.policy import Actor
from infrastructure.db import Cursor, Database
from infrastructure.settings import Settings
from projections.base import Envelope, ReadModel, bigint
from projections.engine import ProjectionEngine, TrackingConflict
from projections.registry import all_read_models
from tests.conftest import JWT_SECRET

ROOT = Path(__file__).resolve().parents[2]
OWNER = "91460000MA5T0P3X64"
APPLICANT = Actor("u1", "applicant", OWNER, "460100")
CLERK = Actor("c1", "window_clerk", "zwfw", "460100")


class EventsPerType(ReadModel):
    """A test read model: one row per event (no key, so duplicates show) and a count per aggregate type."""

    name = "events_per_type"
    tables = ("ept_seen", "ept_counts")
    fail_at: int | None = None  # raise when reaching this position (after writing earlier rows of the batch)

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        t_seen, t_counts = self.tables
        cur.execute(f"CREATE TABLE IF NOT EXISTS {t_seen} (position {bigint(dialect)} NOT NULL, event_type TEXT)")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {t_counts} (aggregate_type TEXT PRIMARY KEY, n INTEGER NOT NULL)")

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        t_seen, t_counts = self.tables
        for env in batch:
            if env.position == self.fail_at:
                raise RuntimeError(f"handler broke at {env.position}")
            cur.execute(f"INSERT INTO {t_seen} (position, event_type) VALUES (?, ?)", (env.position, env.event_type))
            cur.execute(
                f"INSERT INTO {t_counts} (aggregate_type, n) VALUES (?, 1)"
                f" ON CONFLICT (aggregate_type) DO UPDATE SET n = {t_counts}.n + 1",
                (env.event_type.split(".")[0],),
            )


class OtherEventsPerType(EventsPerType):
    name = "other_events_per_type"
    tables = ("oept_seen", "oept_counts")


# --- helpers ---------------------------------------------------------------------------------


def open_container(url: str, redis_url: str | None = None) -> Container:
    return bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET, redis_url=redis_url))


def new_code() -> str:
    return f"2603-460100-04-01-{uuid.uuid4().int % 10**6:06d}"


def fill(c: Container, projects: int) -> int:
    """Generate projects and submit + accept a case for each; returns the log position."""
    position = 0
    for i in range(projects):
        code = new_code()
        c.projects.generate(
            Invocation(APPLICANT, f"gen-{i}"),
            GenerateProject(
                code=code,
                name=f"项目{i}",
                owner_name="某公司",
                owner_uscc=OWNER,
                region_code="460106",
                flow_type=3,
                investment_type="enterprise",
                category="房屋建筑",
                total_investment=Decimal("100"),
                planned_start=date(2026, 1, 1),
                planned_end=date(2027, 1, 1),
                red_line=None,
            ),
        )
        case = c.cases.submit(
            Invocation(CLERK, f"sub-{i}"),
            SubmitCase(project_code=code, item_code="GJ-1-02"),
        )
        position = c.cases.act(Invocation(CLERK, f"acc-{i}"), AcceptCase(case.id)).position
    return position


def table_rows(db: Database, models: Sequence[ReadModel]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the models, sorted (duplicates kept)."""
    return {
        table: sorted((tuple(str(v) for v in r.values()) for r in db.query(f"SELECT * FROM {table}")), key=str)
        for model in models
        for table in model.tables
    }


def rebuilt_rows(engine: ProjectionEngine) -> dict[str, list[tuple[Any, ...]]]:
    for name in engine.models:
        engine.rebuild(name)
    return table_rows(engine.db, list(engine.models.values()))


@pytest.fixture
def container(store_url: str) -> Iterator[Container]:
    c = open_container(store_url)
    yield c
    c.close()


@pytest.fixture
def filled(container: Container) -> Container:
    fill(container, 8)
    return container


# --- tests -----------------------------------------------------------------------------------


def test_small_batches_give_the_same_rows_as_a_rebuild_from_zero(filled: Container) -> None:
    engine = ProjectionEngine(filled.app, filled.db, [EventsPerType(filled.db), *all_read_models(filled.db)], 3)
    engine.setup()
    end = filled.app.max_position()

    assert engine.process_batch("events_per_type") == 3
    assert engine.position("events_per_type") == 3
    assert engine.catch_up() > 0
    assert set(engine.positions().values()) == {end}
    incremental = table_rows(filled.db, list(engine.models.values()))

    assert len(incremental["ept_seen"]) == end
    assert incremental["audit_events"]
    assert rebuilt_rows(engine) == incremental


def test_two_read_models_in_one_file_keep_separate_positions(sqlite_url: str) -> None:
    c = open_container(sqlite_url)
    try:
        end = fill(c, 2)
        engine = ProjectionEngine(c.app, c.db, [EventsPerType(c.db), OtherEventsPerType(c.db)], 4)
        engine.setup()

        engine.catch_up(["events_per_type"])

        assert engine.positions() == {"events_per_type": end, "other_events_per_type": 0}
        assert c.db.query("SELECT COUNT(*) AS n FROM oept_seen")[0]["n"] == 0
        engine.catch_up()
        assert engine.positions() == {"events_per_type": end, "other_events_per_type": end}
    finally:
        c.close()


def test_a_failing_handler_advances_neither_rows_nor_position_and_resumes_without_duplicates(
    filled: Container,
) -> None:
    model = EventsPerType(filled.db)
    engine = ProjectionEngine(filled.app, filled.db, [model], batch_size=5)
    engine.setup()
    engine.process_batch(model.name)
    old = engine.position(model.name)
    before = table_rows(filled.db, [model])
    second_batch = filled.app.recorder.select_notifications(start=old, limit=5, inclusive_of_start=False)
    model.fail_at = second_batch[2].id  # rows for two events of this batch are written, then it breaks

    with pytest.raises(RuntimeError, match="handler broke"):
        engine.process_batch(model.name)

    assert engine.position(model.name) == old
    assert table_rows(filled.db, [model]) == before
    # Step: fixed — processing resumes from the old position
    model.fail_at = None
    engine.catch_up()
    seen = [r["position"] for r in filled.db.query("SELECT position FROM ept_seen ORDER BY position")]
    assert seen == [n.id for n in filled.app.recorder.select_notifications(start=None, limit=10_000)]
    assert table_rows(filled.db, [model]) == rebuilt_rows(engine)


def test_a_broken_read_model_does_not_hold_back_the_others_while_the_runner_runs(filled: Container) -> None:
    broken, healthy = EventsPerType(filled.db), OtherEventsPerType(filled.db)
    engine = ProjectionEngine(filled.app, filled.db, [broken, healthy], batch_size=4)
    engine.setup()
    end = filled.app.max_position()
    broken.fail_at = filled.app.recorder.select_notifications(start=None, limit=10)[5].id

    engine.start(idle_timeout=0.1)
    try:
        assert engine.wait_for(end, timeout=10, names=[healthy.name])
        assert engine.wait_for(end, timeout=0.3, names=[broken.name]) is False
        assert 0 < engine.position(broken.name) < broken.fail_at
        # Step: fixed — the runner picks it up again on its own
        broken.fail_at = None
        assert engine.wait_for(end, timeout=10)
    finally:
        engine.stop()
    assert rebuilt_rows(engine) == table_rows(filled.db, [broken, healthy])


def test_read_models_at_one_position_share_a_transaction_and_a_failing_one_rolls_back_alone(
    filled: Container,
) -> None:
    """One batch, one transaction for every read model at the same position: each has its own
    savepoint, so the broken one keeps its old position and no row of the batch, the healthy one
    commits, and catch_up then raises the handler's error."""
    broken, healthy = EventsPerType(filled.db), OtherEventsPerType(filled.db)
    engine = ProjectionEngine(filled.app, filled.db, [broken, healthy], batch_size=5)
    engine.setup()
    first = filled.app.recorder.select_notifications(start=None, limit=5)
    broken.fail_at = first[3].id  # rows for three events are written, then it breaks

    with pytest.raises(RuntimeError, match="handler broke"):
        engine.catch_up()

    assert engine.position(broken.name) == 0
    assert filled.db.query("SELECT COUNT(*) AS n FROM ept_seen")[0]["n"] == 0
    assert engine.position(healthy.name) >= first[-1].id
    assert filled.db.query("SELECT COUNT(*) AS n FROM oept_seen")[0]["n"] >= 5
    broken.fail_at = None
    engine.catch_up()
    assert engine.position(broken.name) == engine.position(healthy.name) == filled.app.max_position()
    assert rebuilt_rows(engine) == table_rows(filled.db, [broken, healthy])


class Holding(EventsPerType):
    """Holds its first batch open (inside the engine's transaction) until released."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.entered = threading.Event()
        self.release = threading.Event()

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        super().handle(cur, batch)
        if not self.entered.is_set():
            self.entered.set()
            assert self.release.wait(10)


def test_two_engines_racing_on_one_read_model_never_duplicate_rows(store_url: str, filled: Container) -> None:
    other = open_container(store_url)
    try:
        holding = Holding(filled.db)
        first = ProjectionEngine(filled.app, filled.db, [holding], batch_size=4)
        second = ProjectionEngine(other.app, other.db, [EventsPerType(other.db)], batch_size=4)
        first.setup()
        second.setup()

        # Step: the first engine holds its batch open; the second reads the same old position
        worker = threading.Thread(target=first.process_batch, args=("events_per_type",))
        worker.start()
        assert holding.entered.wait(10)
        outcome: list[BaseException | int] = []

        def race() -> None:
            try:
                outcome.append(second.process_batch("events_per_type"))
            except TrackingConflict as exc:
                outcome.append(exc)

        racer = threading.Thread(target=race)
        racer.start()
        time.sleep(0.3)  # let it reach the tracking row (blocked behind the first transaction)
        holding.release.set()
        worker.join(10)
        racer.join(10)
        assert len(outcome) == 1 and isinstance(outcome[0], TrackingConflict)
        assert first.position("events_per_type") == 4

        # Step: both catch up at once, in threads
        threads = [threading.Thread(target=e.catch_up) for e in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        end = filled.app.max_position()
        assert first.position("events_per_type") == end
        seen = [r["position"] for r in filled.db.query("SELECT position FROM ept_seen")]
        assert sorted(seen) == sorted(set(seen)) and len(seen) == end
        assert table_rows(filled.db, [holding]) == rebuilt_rows(second)
    finally:
        other.close()


def test_wait_for_returns_true_once_caught_up_and_false_on_timeout(filled: Container) -> None:
    engine = filled.engine
    end = filled.app.max_position()

    started = time.monotonic()
    assert engine.wait_for(end, timeout=0.3) is False
    assert time.monotonic() - started < 2

    engine.start()
    try:
        assert engine.wait_for(end, timeout=10) is True
        assert all(p >= end for p in engine.positions().values())
        # Step: a new command while it runs is seen (in-process wake-up)
        position = fill(filled, 1)
        assert engine.wait_for(position, timeout=10, names=["case_timeline"]) is True
    finally:
        engine.stop()


def _run_cli(url: str, batch_size: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GONGJIAN_DATABASE_URL": url, "GONGJIAN_JWT_SECRET": JWT_SECRET}
    env.pop("GONGJIAN_REDIS_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "interfaces.cli", "projections", "run", "--batch-size", str(batch_size)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_a_runner_killed_mid_run_resumes_to_the_same_rows_as_a_rebuild(container: Container) -> None:
    end = 0
    while end < 250:  # a few hundred events, however many each command writes
        end = fill(container, 10)
    # the runner's automation writes the day's supervision-clock tick unless the log has it: written
    # here, the log ends at `end` whenever the runner is stopped
    container.automation.ticker.tick()
    end = container.app.max_position()
    engine = container.engine

    # Step: start the runner, kill it with SIGKILL once it is part-way
    proc = _run_cli(container.settings.database_url, batch_size=2)
    try:
        deadline = time.monotonic() + 30
        while max(engine.positions().values()) < 40 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    at_kill = engine.positions()
    print("positions at SIGKILL:", at_kill, "of", end)
    assert any(0 < p < end for p in at_kill.values()), (at_kill, proc.stderr.read() if proc.stderr else b"")

    # Step: restart it and wait until caught up
    proc = _run_cli(container.settings.database_url, batch_size=7)
    try:
        assert engine.wait_for(end, timeout=60), engine.positions()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    resumed = table_rows(container.db, list(engine.models.values()))

    assert len(resumed["audit_events"]) == len({r[0] for r in resumed["audit_events"]})
    assert rebuilt_rows(engine) == resumed


def test_a_command_in_one_process_wakes_a_runner_in_another_through_redis(sqlite_url: str, redis_url: str) -> None:
    assert_wakes_across_processes(open_container(sqlite_url, redis_url), open_container(sqlite_url, redis_url))


def test_a_command_in_one_process_wakes_a_runner_in_another_through_postgres_notify(pg_url: str) -> None:
    assert_wakes_across_processes(open_container(pg_url), open_container(pg_url))


def assert_wakes_across_processes(writer: Container, runner: Container) -> None:
    """Two containers stand for two processes: the writer's saves reach the runner only through
    the wake-up source (Redis pub/sub or PostgreSQL LISTEN/NOTIFY), not an in-process hook."""
    try:
        fill(writer, 1)
        # polling alone would take 30 s: only a wake-up explains an earlier catch-up
        runner.engine.start(idle_timeout=30)
        assert runner.engine.wait_for(writer.app.max_position(), timeout=10)
        time.sleep(0.2)  # idle now, waiting for a wake-up

        timings = []
        for _ in range(3):
            started = time.monotonic()
            position = fill(writer, 1)
            assert runner.engine.wait_for(position, timeout=10), runner.engine.positions()
            timings.append(time.monotonic() - started)
        print("save → projected in the other container (s):", [round(t, 3) for t in timings])
        assert max(timings) < 10
    finally:
        runner.close()
        writer.close()


def test_commands_and_projections_carry_on_when_redis_is_down(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    c = open_container(sqlite_url, "redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        c.engine.start(idle_timeout=0.2, ready_timeout=0.5)
        started = time.monotonic()
        position = fill(c, 2)
        print("two projects with Redis down (s):", round(time.monotonic() - started, 3))

        assert c.engine.wait_for(position, timeout=10)
        warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
        assert 1 <= len(warnings) <= 2  # once for publishing, once for the subscription
    finally:
        c.close()


# --- batched handlers, rebuilds, commit wake-ups ------------------------------------------------


@pytest.mark.parametrize("batch_size", [7, 64])
def test_incremental_batches_of_any_size_give_the_rows_of_a_rebuild_of_every_read_model(
    container: Container, batch_size: int
) -> None:
    """The bench generator's varied log (corrections, refusals and resubmissions, withdrawals,
    special procedures, back-entries, ratings): the read models fed in small batches hold exactly
    the rows of a rebuild of all of them together in large ones."""
    from bench.dataset import Generator

    Generator(container.app, seed=batch_size).run(400)
    engine = ProjectionEngine(container.app, container.db, all_read_models(container.db), batch_size)
    engine.setup()
    assert engine.catch_up() > 0
    incremental = table_rows(container.db, list(engine.models.values()))
    assert incremental["cases"] and incremental["ratings"] and incremental["warnings"]

    assert engine.rebuild_all() == container.app.max_position()
    assert table_rows(container.db, list(engine.models.values())) == incremental


@pytest.mark.parametrize("channel", ["postgres_notify", "redis"])
def test_wait_for_is_woken_by_the_commit_of_a_runner_elsewhere(request: pytest.FixtureRequest, channel: str) -> None:
    """The waiter re-reads positions only when woken (its safety re-read is an hour away here), so
    returning True proves a batch commit of another engine reached it: by the NOTIFY sent in the
    batch's transaction (PostgreSQL) or by the Redis message sent after it."""
    if channel == "redis":
        url, redis = str(request.getfixturevalue("sqlite_url")), str(request.getfixturevalue("redis_url"))
    else:
        url, redis = str(request.getfixturevalue("pg_url")), None
    runner, waiter = open_container(url, redis), open_container(url, redis)
    try:
        end = fill(runner, 2)
        waiter.engine.safety_s = 3600
        assert waiter.engine.wait_for(end, timeout=0.5) is False  # nothing runs yet: listening now
        caught_up = threading.Timer(0.2, runner.engine.catch_up)
        caught_up.start()
        try:
            assert waiter.engine.wait_for(end, timeout=30) is True
        finally:
            caught_up.join()
    finally:
        waiter.close()
        runner.close()
