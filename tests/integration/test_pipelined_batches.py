"""Live batches on PostgreSQL go through pipeline mode (writes sent without waiting for their
answers): the same rows as unpipelined batches and a rebuild, and a statement that fails in the
database, whose error surfaces only later in the pipeline, still rolls back its read model alone."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import psycopg
import pytest

from application.bootstrap import Container
from infrastructure.db import Cursor, PostgresDatabase
from projections.base import Envelope, fetch_together
from projections.engine import ProjectionEngine
from projections.registry import all_read_models
from tests.integration.test_projection_engine import (
    EventsPerType,
    OtherEventsPerType,
    fill,
    open_container,
    table_rows,
)


class FailsInTheDatabase(EventsPerType):
    """Writes a second row under a primary key it already wrote at `fail_at`: the database refuses
    it, and in pipeline mode nobody hears so until a later fetch or the commit."""

    name = "fails_in_the_database"
    tables = ("fid_seen", "fid_counts")

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        super().create_tables(cur, dialect)
        cur.execute("CREATE TABLE IF NOT EXISTS fid_keys (position BIGINT PRIMARY KEY)")

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        for env in batch:
            cur.execute("INSERT INTO fid_seen (position, event_type) VALUES (?, ?)", (env.position, env.event_type))
            if env.position == self.fail_at:
                cur.executemany("INSERT INTO fid_keys (position) VALUES (?)", [(env.position,), (env.position,)])


@pytest.fixture
def filled(pg_url: str) -> Iterator[Container]:
    c = open_container(pg_url)
    try:
        fill(c, 4)
        yield c
    finally:
        c.close()


def test_pipelined_and_unpipelined_live_batches_and_a_rebuild_give_the_same_rows(filled: Container) -> None:
    engine = ProjectionEngine(filled.app, filled.db, all_read_models(filled.db), batch_size=3)
    engine.setup()
    assert engine.pipeline_max >= engine.batch_size  # every batch here is pipelined
    assert engine.catch_up() > 0
    pipelined = table_rows(filled.db, list(engine.models.values()))
    assert pipelined["cases"] and pipelined["audit_events"] and pipelined["ledger_leaves"]

    engine.pipeline_max = 0  # the same small batches, one round trip per statement
    for name in engine.models:
        engine.rebuild_all([name])  # clears; a rebuild batch of 5,000 is never pipelined
    rebuilt = table_rows(filled.db, list(engine.models.values()))
    assert rebuilt == pipelined
    with filled.db.transaction() as cur:
        for model in engine.models.values():
            model.clear(cur)
        cur.execute("UPDATE projection_tracking SET position = 0")
    engine.rebuild_batch_size = engine.batch_size
    engine.catch_up()
    assert table_rows(filled.db, list(engine.models.values())) == pipelined


def test_an_error_surfacing_late_in_the_pipeline_rolls_back_only_its_read_model(filled: Container) -> None:
    broken, healthy = FailsInTheDatabase(filled.db), OtherEventsPerType(filled.db)
    engine = ProjectionEngine(filled.app, filled.db, [broken, healthy], batch_size=5)
    engine.setup()
    first = filled.app.recorder.select_notifications(start=None, limit=5)
    broken.fail_at = first[1].id

    with pytest.raises(psycopg.errors.UniqueViolation):
        engine.catch_up()

    assert engine.position(broken.name) == 0
    assert filled.db.query("SELECT COUNT(*) AS n FROM fid_seen")[0]["n"] == 0
    assert filled.db.query("SELECT COUNT(*) AS n FROM fid_keys")[0]["n"] == 0
    assert engine.position(healthy.name) >= first[-1].id
    assert filled.db.query("SELECT COUNT(*) AS n FROM oept_seen")[0]["n"] >= 5
    broken.fail_at = None
    engine.catch_up()
    assert engine.position(broken.name) == engine.position(healthy.name) == filled.app.max_position()


@pytest.mark.parametrize("pipelined", [True, False])
def test_independent_look_ups_sent_together_each_get_their_own_rows(pg_url: str, pipelined: bool) -> None:
    c = open_container(pg_url)
    try:
        db = c.db
        assert isinstance(db, PostgresDatabase)
        with db.pipelined_transaction() if pipelined else db.transaction() as cur:
            cur.execute("CREATE TABLE ft (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            cur.executemany("INSERT INTO ft (k, v) VALUES (?, ?)", [(i, f"v{i}") for i in range(5)])
            found = fetch_together(
                cur,
                [
                    ("SELECT v FROM ft WHERE k < ? ORDER BY k", (2,)),
                    ("SELECT COUNT(*) AS n FROM ft", ()),
                    ("SELECT v FROM ft WHERE k = ?", (9,)),
                    ("SELECT k FROM ft WHERE v = ?", ("v4",)),
                ],
            )
        assert found == [[{"v": "v0"}, {"v": "v1"}], [{"n": 5}], [], [{"k": 4}]]
    finally:
        c.close()


def test_look_ups_together_on_sqlite_run_one_after_the_other(sqlite_url: str) -> None:
    c = open_container(sqlite_url)
    try:
        with c.db.transaction() as cur:
            cur.execute("CREATE TABLE ft (k INTEGER PRIMARY KEY)")
            cur.executemany("INSERT INTO ft (k) VALUES (?)", [(1,), (2,)])
            assert fetch_together(cur, [("SELECT k FROM ft ORDER BY k", ()), ("SELECT MAX(k) AS m FROM ft", ())]) == [
                [{"k": 1}, {"k": 2}],
                [{"m": 2}],
            ]
    finally:
        c.close()
