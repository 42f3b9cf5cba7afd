"""Zero-downtime read-model upgrades (projections/upgrade.py): a new shape is built in shadow tables
while the old shape keeps serving, then swapped in atomically; an old runner stops applying it.

Runs on SQLite and PostgreSQL. The old and the new version of one read model are two classes of the
same name here (different shapes and columns), each run by its own engine as two deployed versions
would be; the log is the benchmark's generator (bench/dataset.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from application.bootstrap import Container, bootstrap
from bench.dataset import Generator
from infrastructure.db import Cursor, Database, table_exists
from infrastructure.settings import Settings
from projections import upgrade
from projections.base import Envelope, ReadModel, bigint
from projections.engine import ProjectionEngine
from projections.registry import all_read_models
from tests.conftest import JWT_SECRET
from tests.integration.test_projection_engine import table_rows


class Counts(ReadModel):
    """Version 1: events per aggregate type."""

    name = "bg_counts"
    tables = ("bg_counts",)
    shape = 1

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        cur.execute("CREATE TABLE IF NOT EXISTS bg_counts (kind TEXT PRIMARY KEY, n INTEGER NOT NULL)")
        cur.execute("CREATE INDEX IF NOT EXISTS bg_counts_n ON bg_counts (n)")

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        for env in batch:
            cur.execute(
                "INSERT INTO bg_counts (kind, n) VALUES (?, 1) ON CONFLICT (kind) DO UPDATE SET n = bg_counts.n + 1",
                (env.event_type.split(".")[0],),
            )


class CountsV2(ReadModel):
    """Version 2: the same counts with the last position counted, and a row per event applied (no
    key: an event applied twice shows as two rows, one lost as none)."""

    name = "bg_counts"
    tables = ("bg_counts", "bg_seen")
    shape = 2

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS bg_counts (kind TEXT PRIMARY KEY, n INTEGER NOT NULL,"
            f" last_position {big} NOT NULL)"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS bg_counts_n ON bg_counts (n)")
        cur.execute(f"CREATE TABLE IF NOT EXISTS bg_seen (position {big} NOT NULL)")
        cur.execute("CREATE INDEX IF NOT EXISTS bg_seen_position ON bg_seen (position)")

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        cur.insert_rows("bg_seen", ("position",), [(env.position,) for env in batch])
        for env in batch:
            cur.execute(
                "INSERT INTO bg_counts (kind, n, last_position) VALUES (?, 1, ?)"
                " ON CONFLICT (kind) DO UPDATE SET n = bg_counts.n + 1, last_position = excluded.last_position",
                (env.event_type.split(".")[0], env.position),
            )


@pytest.fixture
def container(store_url: str) -> Iterator[Container]:
    c = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET))
    yield c
    c.close()


def engine_of(c: Container, model: ReadModel, batch_size: int = 200) -> ProjectionEngine:
    engine = ProjectionEngine(c.app, c.db, [model], batch_size=batch_size)
    engine.setup()
    return engine


def total(db: Database) -> int:
    return int(db.query("SELECT COALESCE(SUM(n), 0) AS n FROM bg_counts")[0]["n"])


def positions(c: Container) -> list[int]:
    rows, start = [], 0
    while page := c.app.recorder.select_notifications(start, 5000, inclusive_of_start=False):
        rows += [n.id for n in page]
        start = page[-1].id
    return rows


def shape_of(db: Database, name: str) -> int:
    return int(db.query("SELECT shape FROM projection_shapes WHERE read_model = ?", (name,))[0]["shape"])


def test_the_new_shape_is_built_beside_the_old_one_which_serves_until_an_atomic_swap(container: Container) -> None:
    c = container
    generator = Generator(c.app, seed=11)
    generator.run(600)
    old = engine_of(c, Counts(c.db))
    old.catch_up()
    # Step. The new version starts: the old tables stay, the new shape goes to shadow tables.
    new = engine_of(c, CountsV2(c.db), batch_size=100)
    shadow = "bg_counts@shape2"
    assert new.upgrade.held["bg_counts"].startswith("shadowing")
    assert shape_of(c.db, "bg_counts") == 1
    assert total(c.db) == len(positions(c))
    # Step. While the shadow is built batch by batch and events keep coming, the live model gives
    # the old version's full answers (its runner keeps it current), never the shadow's partial ones.
    steps = 0
    while new.position(shadow) < c.app.max_position():
        assert new.process_batch(shadow) > 0
        steps += 1
        if steps % 3 == 0:
            generator.run(generator.saved + 40)
            old.catch_up()
        assert total(c.db) == len(positions(c)) == old.position("bg_counts") and old.position("bg_counts") > 0
        assert "last_position" not in c.db.query("SELECT * FROM bg_counts LIMIT 1")[0]
        status = {row["name"]: row for row in new.status()}
        assert status[shadow]["position"] == new.position(shadow)
        assert status[shadow]["lag"] == c.app.max_position() - new.position(shadow)
        assert status["bg_counts"]["state"].startswith("shadowing")
    assert steps > 5
    assert status[shadow]["rate"] > 0 and status[shadow]["eta_s"] is not None
    # Step. Caught up: one transaction swaps it in, at the log's head, which the old runner had too.
    assert new.upgrade.swap_ready() == 1
    head = c.app.max_position()
    assert new.position("bg_counts") == old.position("bg_counts") == head
    assert shape_of(c.db, "bg_counts") == 2
    assert [r["position"] for r in c.db.query("SELECT position FROM bg_seen ORDER BY position")] == positions(c)
    assert {r["read_model"] for r in c.db.query("SELECT read_model FROM projection_tracking")} >= {"bg_counts"}
    assert not c.db.query("SELECT * FROM projection_tracking WHERE read_model = ?", (shadow,))
    assert [row for row in new.status() if row.get("kind") == "shadow"] == []
    if c.db.dialect == "postgresql":  # the indexes have their live names again
        names = {
            r["indexname"] for r in c.db.query("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        }
        assert {"bg_counts_n", "bg_seen_position", "bg_counts_pkey"} <= names
        assert not [n for n in names if "__s" in n]
    # Step. More events: the old runner, at the same position, notices the new shape inside its batch
    # and leaves the model alone (its rows would not fit); the new one applies every event once.
    generator.run(generator.saved + 100)
    old.catch_up()
    assert old.upgrade.held["bg_counts"].startswith("superseded")
    assert old.position("bg_counts") == head
    assert old.catch_up() == 0
    new.catch_up()
    assert [r["position"] for r in c.db.query("SELECT position FROM bg_seen ORDER BY position")] == positions(c)
    assert total(c.db) == len(positions(c))
    kinds = c.db.query("SELECT kind, n, last_position FROM bg_counts")
    assert all(r["last_position"] > 0 for r in kinds)
    # Step. Rolling back: the old version's rebuild takes the model back under its shape, in place.
    old.rebuild("bg_counts")
    assert shape_of(c.db, "bg_counts") == 1 and "bg_counts" not in old.upgrade.held
    assert total(c.db) == len(positions(c)) and old.position("bg_counts") == c.app.max_position()
    assert "last_position" not in c.db.query("SELECT * FROM bg_counts LIMIT 1")[0]


def test_a_failed_swap_leaves_the_live_model_and_the_shadow_as_they_were(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = container
    Generator(c.app, seed=12).run(300)
    old = engine_of(c, Counts(c.db))
    old.catch_up()
    new = engine_of(c, CountsV2(c.db))
    new.catch_up(["bg_counts@shape2"])
    before = table_rows(c.db, [Counts(c.db)])
    shadow_rows = c.db.query("SELECT COUNT(*) AS n FROM bg_seen__s2")[0]["n"]

    def broken(cur: Any, name: str, shape: int) -> None:
        raise RuntimeError("the store went away mid-swap")

    monkeypatch.setattr(upgrade, "_record_shape", broken)
    with pytest.raises(RuntimeError, match="mid-swap"):
        new.upgrade.swap_ready()
    # all or nothing: the old tables, the shadow's, both positions and the recorded shape as before
    assert table_rows(c.db, [Counts(c.db)]) == before
    assert c.db.query("SELECT COUNT(*) AS n FROM bg_seen__s2")[0]["n"] == shadow_rows
    assert new.position("bg_counts@shape2") == old.position("bg_counts") == c.app.max_position()
    assert shape_of(c.db, "bg_counts") == 1
    monkeypatch.undo()
    # `projections rebuild` during an upgrade replays the shadow (the live tables serve meanwhile),
    # then swaps it in
    new.rebuild("bg_counts")
    assert shape_of(c.db, "bg_counts") == 2 and not new.upgrade.shadows
    assert [r["position"] for r in c.db.query("SELECT position FROM bg_seen ORDER BY position")] == positions(c)
    assert total(c.db) == len(positions(c))


def test_a_second_new_runner_follows_the_live_model_once_the_first_swapped(container: Container) -> None:
    c = container
    generator = Generator(c.app, seed=13)
    generator.run(300)
    old = engine_of(c, Counts(c.db))
    old.catch_up()
    first, second = engine_of(c, CountsV2(c.db)), engine_of(c, CountsV2(c.db))
    first.catch_up(["bg_counts@shape2"])
    second.catch_up(["bg_counts@shape2"])  # nothing left: the first built it
    assert first.upgrade.swap_ready() == 1
    generator.run(generator.saved + 120)
    # in its runner's next round the second finds its shadow's row gone and follows the live model;
    # both follow it at once, and no event is applied twice

    def runner_round(engine: ProjectionEngine) -> None:  # as ProjectionEngine.run does
        engine.catch_up()
        engine.upgrade.step()

    threads = [threading.Thread(target=runner_round, args=(e,)) for e in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    runner_round(second)
    assert "bg_counts" not in second.upgrade.held and not second.upgrade.shadows
    assert [r["position"] for r in c.db.query("SELECT position FROM bg_seen ORDER BY position")] == positions(c)


def test_every_read_model_built_in_shadow_tables_equals_a_plain_build(container: Container) -> None:
    """Each read model's own SQL runs against the shadow's names (`cases` is also a column of
    case_summary_days): with the live tables emptied first, a handler reading or writing a live
    table instead of its shadow's would end with other rows than a plain build."""
    c = container
    Generator(c.app, seed=14).run(1500)
    c.engine.catch_up()
    models = [m for m in c.engine.models.values() if not m.durable]
    expected = table_rows(c.db, models)
    with c.db.transaction() as cur:
        for m in models:
            m.clear(cur)
    bumped = []
    for m in all_read_models(c.db):
        if not m.durable:
            m.shape = type(m).shape + 1  # type: ignore[misc]  # the next version's
            bumped.append(m)
    engine = ProjectionEngine(c.app, c.db, bumped, batch_size=300, rebuild_batch_size=300)
    engine.setup()
    assert set(engine.upgrade.shadows) == {f"{m.name}@shape{m.shape}" for m in bumped}
    assert all(rows == [] for rows in table_rows(c.db, models).values())  # the live ones untouched
    assert engine.upgrade.finish() == len(bumped)
    assert table_rows(c.db, models) == expected
    head = c.app.max_position()
    assert all(engine.position(m.name) == head for m in bumped)
    assert all(shape_of(c.db, m.name) == m.shape for m in bumped)


def test_a_newer_version_drops_an_unfinished_shadow_and_an_older_one_started_later_leaves_the_model_alone(
    container: Container,
) -> None:
    c = container
    generator = Generator(c.app, seed=15)
    generator.run(200)
    engine_of(c, Counts(c.db)).catch_up()
    half = engine_of(c, CountsV2(c.db))
    half.process_batch("bg_counts@shape2")  # shape 2 begun, then a shape 3 came out before it ended
    v3 = CountsV2(c.db)
    v3.shape = 3  # type: ignore[misc]
    newest = engine_of(c, v3)
    assert list(newest.upgrade.shadows) == ["bg_counts@shape3"]
    tracked = {r["read_model"] for r in c.db.query("SELECT read_model FROM projection_tracking")}
    assert "bg_counts@shape2" not in tracked and "bg_counts@shape3" in tracked
    with c.db.transaction() as cur:
        assert not table_exists(cur, c.db.dialect, "bg_seen__s2") and table_exists(cur, c.db.dialect, "bg_seen__s3")
    assert newest.upgrade.finish() == 1 and shape_of(c.db, "bg_counts") == 3
    # the version of shape 1 starting now: no DDL, no writes, its status says why
    late = engine_of(c, Counts(c.db))
    assert late.upgrade.held["bg_counts"].startswith("superseded: shape 3 is live")
    generator.run(generator.saved + 50)
    assert late.catch_up() == 0
    newest.catch_up()
    assert [r["position"] for r in c.db.query("SELECT position FROM bg_seen ORDER BY position")] == positions(c)
