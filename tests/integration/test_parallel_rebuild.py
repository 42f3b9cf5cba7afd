"""A rebuild split over worker processes (`rebuild_all(workers=N)`, PostgreSQL) writes the same rows
as one process, leaves every position at the log's end, fails as a whole when any group fails, and
is one process on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from application.bootstrap import Container, bootstrap
from bench.dataset import Generator
from infrastructure.ledger_key import generate_key
from infrastructure.settings import Settings
from infrastructure.store import events_table
from interfaces.cli import app
from tests.conftest import JWT_SECRET

pytestmark = pytest.mark.long_running(18)  # scheduled first (tests/conftest.py)

EVENTS = 1500
BATCH = 400  # several rebuild batches, so aggregates continue from one batch into the next


def _open(url: str, tmp_path: Path) -> Container:
    key = tmp_path / "keys" / "ledger.pem"  # not beside the SQLite file (refused outside development)
    if not key.exists():
        generate_key(key)  # signed checkpoints: the workers must sign with the same key
    c = bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET, ledger_key_file=str(key)))
    c.engine.rebuild_batch_size = BATCH
    c.engine.worker_start_s = 0.0  # a log this small would otherwise stay in one process
    return c


def _filled(url: str, tmp_path: Path) -> Iterator[Container]:
    c = _open(url, tmp_path)
    Generator(c.app).run(EVENTS)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def pg(pg_url: str, tmp_path: Path) -> Iterator[Container]:
    yield from _filled(pg_url, tmp_path)


@pytest.fixture
def lite(sqlite_url: str, tmp_path: Path) -> Iterator[Container]:
    yield from _filled(sqlite_url, tmp_path)


def _rows(c: Container) -> dict[str, list[str]]:
    """Every row of every read model table, as sorted text (as tests/e2e/test_faults.py compares)."""
    return {
        table: sorted(repr(sorted(row.items())) for row in c.db.query(f"SELECT * FROM {table}"))
        for model in c.engine.models.values()
        for table in model.tables
    }


def _events(c: Container) -> int:
    return int(c.db.query(f"SELECT COUNT(*) AS n FROM {events_table(c.db)}")[0]["n"])


def test_two_workers_write_every_row_as_one_process_does(pg: Container) -> None:
    assert pg.engine.rebuild_all(workers=1) == _events(pg)
    one = _rows(pg)
    assert sum(map(len, one.values())) > EVENTS  # a real comparison, not of empty tables
    assert pg.db.query("SELECT COUNT(*) AS n FROM ledger_signed_checkpoints WHERE signature IS NOT NULL")[0]["n"] > 0

    groups = pg.engine.rebuild_groups(list(pg.engine.models), 2)
    assert len(groups) == 2 and sorted(n for g in groups for n in g) == sorted(pg.engine.models)
    assert pg.engine.rebuild_all(workers=2, settings=pg.settings) == _events(pg)

    assert _rows(pg) == one
    end = pg.app.max_position()
    assert pg.engine.positions() == dict.fromkeys(pg.engine.models, end)


def test_a_small_log_stays_in_fewer_processes_than_workers_start_up_in(pg: Container) -> None:
    pg.engine.worker_start_s = 2.0
    names = list(pg.engine.models)
    assert len(pg.engine.rebuild_groups(names, 2, events=1_000)) == 1
    assert len(pg.engine.rebuild_groups(names, 2, events=1_000_000)) == 2


def test_settings_from_the_environment_reach_the_same_database(pg: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGJIAN_JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("GONGJIAN_LEDGER_KEY_FILE", str(pg.settings.ledger_key_file))
    names = ["audit_trail", "ledger", "ratings"]
    pg.engine.rebuild_all(names)
    one = _rows(pg)
    assert pg.engine.rebuild_all(names, workers=2) == _events(pg)  # no settings given
    assert _rows(pg) == one


def test_settings_naming_another_database_are_refused(pg: Container, pg_base_url: str) -> None:
    other = Settings(database_url=f"{pg_base_url}?schema=elsewhere", jwt_secret=JWT_SECRET)
    with pytest.raises(ValueError, match="another database"):
        pg.engine.rebuild_all(workers=2, settings=other)


@pytest.mark.parametrize("group", [0, 1], ids=["in-this-process", "in-a-worker"])
def test_a_failing_read_model_in_any_group_fails_the_rebuild(pg: Container, group: int) -> None:
    pg.engine.catch_up()
    groups = pg.engine.rebuild_groups(list(pg.engine.models), 2)
    failing, table = next(
        (name, table)
        for name in groups[group]
        for table in pg.engine.models[name].tables
        if pg.db.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]
    )
    with pg.db.transaction() as cur:  # every new row of this table is refused from now on
        cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT refuse_rows CHECK (false) NOT VALID")

    with pytest.raises(psycopg.errors.CheckViolation, match="refuse_rows"):
        pg.engine.rebuild_all(workers=2, settings=pg.settings)

    # the other group finished; the failing read model stays short of the end
    end = pg.app.max_position()
    positions = pg.engine.positions()
    assert positions[failing] < end
    assert all(positions[name] == end for name in groups[1 - group])
    assert not pg.engine.rebuilding


def test_sqlite_rebuilds_in_one_process_whatever_the_workers(lite: Container) -> None:
    assert lite.engine.rebuild_groups(list(lite.engine.models), 4) == [sorted(lite.engine.models)]
    lite.engine.rebuild_all(workers=1)
    one = _rows(lite)
    assert lite.engine.rebuild_all(workers=4) == _events(lite)  # no settings needed: no worker starts
    assert _rows(lite) == one
    assert set(lite.engine.positions().values()) == {lite.app.max_position()}


def test_the_cli_rebuilds_every_read_model_with_workers(pg: Container) -> None:
    pg.engine.catch_up()
    one = _rows(pg)
    env = {
        "GONGJIAN_DATABASE_URL": pg.settings.database_url,
        "GONGJIAN_JWT_SECRET": JWT_SECRET,
        "GONGJIAN_LEDGER_KEY_FILE": str(pg.settings.ledger_key_file),
    }
    runner = CliRunner()
    assert runner.invoke(app, ["projections", "rebuild"], env=env).exit_code == 2  # neither a name nor --all
    result = runner.invoke(app, ["projections", "rebuild", "--all", "--workers", "2"], env=env)
    assert result.exit_code == 0, result.output
    assert _rows(pg) == one
