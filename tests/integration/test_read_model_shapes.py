"""Read-model shapes: an upgrade that changes a read model's tables or the meaning of its rows bumps
its `shape`; on start the engine builds the new shape in shadow tables from 0 while the tables built
under the old shape keep serving, and swaps them in once caught up (projections/upgrade.py), leaving
the other read models where they were. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from application.bootstrap import Container
from infrastructure.db import SQLiteDatabase
from interfaces import cli_projections
from interfaces.cli import app as cli
from projections.registry import READ_MODELS, all_read_models
from tests.conftest import JWT_SECRET
from tests.integration.test_projection_engine import fill, open_container, table_rows


@pytest.fixture
def container(store_url: str) -> Iterator[Container]:
    c = open_container(store_url)
    yield c
    c.close()


def shapes(c: Container) -> dict[str, int]:
    return {r["read_model"]: int(r["shape"]) for r in c.db.query("SELECT read_model, shape FROM projection_shapes")}


def test_every_read_model_declares_exactly_the_tables_it_creates(tmp_path: Path) -> None:
    # drop_tables and clear work from `tables`: a table missing there would survive a reshape
    for i, model in enumerate(all_read_models(SQLiteDatabase(str(tmp_path / "probe.db")))):
        path = tmp_path / f"{i}.db"
        model.db = SQLiteDatabase(str(path))
        with model.db.transaction() as cur:
            model.create_tables(cur, "sqlite")
        with sqlite3.connect(path) as conn:
            created = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        declared = {*model.tables, *model.durable}
        assert created == declared, f"{model.name}: declared {sorted(declared)}, created {sorted(created)}"


def test_a_store_built_under_an_older_shape_is_rebuilt_beside_it_to_the_same_rows_and_the_others_stay(
    container: Container, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = container
    fill(c, 4)
    c.engine.catch_up()
    models = list(c.engine.models.values())
    expected = table_rows(c.db, models)
    assert shapes(c)["offline_warnings"] == 8 and shapes(c)["case_timeline"] == 4
    # Step. Make it look like a store from before the upgrade: shape 1, a column-less old table.
    with c.db.transaction() as cur:
        cur.execute("UPDATE projection_shapes SET shape = 1 WHERE read_model = 'offline_warnings'")
        cur.execute("DROP TABLE ow_flows")
        cur.execute("UPDATE projection_tracking SET updated_at = 'untouched' WHERE read_model = 'case_timeline'")
    before = c.engine.positions()
    c.close()
    # Step. Start again: offline_warnings is replayed from 0 into shadow tables, its live ones (shape
    # 1) keep their position until the swap; case_timeline is left alone.
    again = open_container(store_url)
    try:
        assert again.engine.position("offline_warnings@shape8") == 0
        assert again.engine.position("offline_warnings") == before["offline_warnings"]
        assert again.engine.position("case_timeline") == before["case_timeline"]
        tracked = again.db.query("SELECT updated_at FROM projection_tracking WHERE read_model = 'case_timeline'")
        assert tracked[0]["updated_at"] == "untouched"
        assert shapes(again)["offline_warnings"] == 1
        # `projections status` (another process's view) lists the shadow with its rate and ETA
        env = {"GONGJIAN_DATABASE_URL": store_url, "GONGJIAN_JWT_SECRET": JWT_SECRET}
        monkeypatch.setattr(cli_projections, "console", Console(width=250))  # whole names, one line a row
        status = CliRunner().invoke(cli, ["projections", "status"], env=env)
        assert status.exit_code == 0, status.output
        lines = {line.split("│")[1].strip(): line for line in status.output.splitlines() if line.count("│") > 3}
        assert "offline_warnings@shape8" in lines, status.output
        assert "building shape 8 of offline_warnings" in lines["offline_warnings@shape8"]
        assert "events/s, ETA" in lines["offline_warnings@shape8"]
        assert "shadowing" in lines["offline_warnings"] and "shadowing" not in lines["case_timeline"]
        again.engine.catch_up()
        assert again.engine.upgrade.finish() == 1
        assert shapes(again)["offline_warnings"] == 8
        assert table_rows(again.db, models) == expected
    finally:
        again.close()


def test_a_store_from_before_shapes_were_recorded_counts_as_shape_1(container: Container, store_url: str) -> None:
    c = container
    fill(c, 2)
    c.engine.catch_up()
    positions = c.engine.positions()
    with c.db.transaction() as cur:
        cur.execute("DROP TABLE projection_shapes")
    c.close()
    again = open_container(store_url)
    try:
        # every live read model keeps its position; those of a later shape are built beside them
        assert again.engine.positions() == positions
        for cls in READ_MODELS:
            assert (f"{cls.name}@shape{cls.shape}" in again.engine.upgrade.shadows) == (cls.shape > 1), cls.name
        assert shapes(again) == {cls.name: 1 for cls in READ_MODELS}
        assert again.engine.upgrade.finish() == len([cls for cls in READ_MODELS if cls.shape > 1])
        assert shapes(again) == {cls.name: cls.shape for cls in READ_MODELS}
    finally:
        again.close()
