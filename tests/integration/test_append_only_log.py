"""The events table and the ledger's signed checkpoints refuse UPDATE, DELETE and (on PostgreSQL)
TRUNCATE, and on SQLite an INSERT that would replace a stored row (INSERT OR REPLACE, REPLACE,
upserts): events are facts, and so is what was signed over them."""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from application.bootstrap import bootstrap
from application.commands import Invocation
from application.commands.projects import GenerateProject
from application.policy import Actor
from infrastructure.db import DatabaseURL
from infrastructure.ledger_key import generate_key
from infrastructure.settings import Settings
from infrastructure.store import events_table
from tests.conftest import JWT_SECRET

CLERK = Actor("clerk-1", "window_clerk", "hk-window", "460100")


def _write_one(url: str) -> int:
    container = bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET))
    try:
        container.projects.generate(
            Invocation(CLERK, "req-1"),
            GenerateProject(
                code="2611-460100-04-01-000042",
                name="不可篡改测试项目",
                owner_name="海南测试建设有限公司",
                owner_uscc="91460000MA5T0P3X64",
                region_code="460106",
                flow_type=3,
                investment_type="enterprise",
                category="房屋建筑",
                total_investment=Decimal(10),
                planned_start=date(2026, 1, 1),
                planned_end=date(2026, 12, 31),
                red_line=None,
            ),
        )
        return container.app.max_position()
    finally:
        container.close()


@pytest.mark.parametrize("statement", ["UPDATE {t} SET topic = 'forged'", "DELETE FROM {t}", "TRUNCATE {t}"])
def test_postgresql_refuses_to_change_or_remove_events(pg_url: str, statement: str) -> None:
    assert _write_one(pg_url) == 1
    url = DatabaseURL(pg_url)
    with psycopg.connect(url.conninfo, options=f"-c search_path={url.schema}") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement.format(t="gongjian_events"))
        conn.rollback()
        count = conn.execute("SELECT COUNT(*), MIN(topic) FROM gongjian_events").fetchone()
    assert count == (1, "domain.projects.project:Project.Generated")


@pytest.mark.parametrize("statement", ["UPDATE {t} SET topic = 'forged'", "DELETE FROM {t}"])
def test_sqlite_refuses_to_change_or_remove_events(sqlite_url: str, statement: str) -> None:
    assert _write_one(sqlite_url) == 1
    db = DatabaseURL(sqlite_url).open()
    table = events_table(db)
    db.close()
    conn = sqlite3.connect(DatabaseURL(sqlite_url).path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(statement.format(t=table))
    assert conn.execute(f"SELECT COUNT(*), MIN(topic) FROM {table}").fetchone() == (
        1,
        "domain.projects.project:Project.Generated",
    )
    conn.close()


# --- rewrites that are inserts: SQLite's REPLACE deletes the old row without a DELETE trigger -----

REPLACING = [
    "INSERT OR REPLACE INTO {t} (rowid, originator_id, originator_version, topic, state)"
    " SELECT rowid, originator_id, originator_version, 'forged', state FROM {t}",
    # no rowid given: the event would move to the end of the log
    "REPLACE INTO {t} (originator_id, originator_version, topic, state)"
    " SELECT originator_id, originator_version, 'forged', state FROM {t}",
    # another aggregate's event in the same place
    "INSERT OR REPLACE INTO {t} (rowid, originator_id, originator_version, topic, state)"
    " SELECT rowid, 'ffffffffffffffffffffffffffffffff', 1, 'forged', state FROM {t}",
    "INSERT INTO {t} (originator_id, originator_version, topic, state)"
    " SELECT originator_id, originator_version, topic, state FROM {t} WHERE true"
    " ON CONFLICT DO UPDATE SET topic = 'forged'",
]


@pytest.mark.parametrize("statement", REPLACING, ids=["or-replace", "replace-moved", "or-replace-rowid", "upsert"])
def test_sqlite_refuses_to_replace_a_stored_event(sqlite_url: str, statement: str) -> None:
    assert _write_one(sqlite_url) == 1
    conn = sqlite3.connect(DatabaseURL(sqlite_url).path)
    assert conn.execute("PRAGMA recursive_triggers").fetchone() == (0,)  # REPLACE's delete fires no trigger
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(statement.format(t="stored_events"))
    assert conn.execute("SELECT rowid, COUNT(*), MIN(topic) FROM stored_events").fetchone() == (
        1,
        1,
        "domain.projects.project:Project.Generated",
    )
    conn.close()


def test_sqlite_a_conflicting_save_is_still_an_integrity_error_of_the_library(sqlite_url: str) -> None:
    from eventsourcing.persistence import IntegrityError, StoredEvent

    _write_one(sqlite_url)
    container = bootstrap(Settings(database_url=sqlite_url, jwt_secret=JWT_SECRET))
    try:
        (stored,) = container.app.recorder.select_notifications(start=1, limit=1)
        again = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, stored.state)
        with pytest.raises(IntegrityError):
            container.app.recorder.insert_events([again])
    finally:
        container.close()


# --- the ledger's signed checkpoints: as durable as the events ------------------------------------


def _signed_checkpoint(url: str, key: Path) -> None:
    generate_key(key)
    _write_one(url)
    container = bootstrap(
        Settings(database_url=url, jwt_secret=JWT_SECRET, ledger_key_file=str(key), ledger_checkpoint_every=1)
    )
    try:
        container.engine.catch_up(["ledger"])
    finally:
        container.close()


CHANGING_CHECKPOINTS = [
    "UPDATE ledger_signed_checkpoints SET root_hash = 'forged'",
    "DELETE FROM ledger_signed_checkpoints",
    "INSERT INTO ledger_signed_checkpoints SELECT * FROM ledger_signed_checkpoints WHERE true"
    " ON CONFLICT (tree_size) DO UPDATE SET root_hash = 'forged'",
]


@pytest.mark.parametrize("statement", [*CHANGING_CHECKPOINTS, "TRUNCATE ledger_signed_checkpoints"])
def test_postgresql_refuses_to_change_or_remove_signed_checkpoints(pg_url: str, tmp_path: Path, statement: str) -> None:
    _signed_checkpoint(pg_url, tmp_path / "ledger.pem")
    url = DatabaseURL(pg_url)
    with psycopg.connect(url.conninfo, options=f"-c search_path={url.schema}") as conn:
        signed = conn.execute("SELECT * FROM ledger_signed_checkpoints").fetchall()
        assert len(signed) == 1 and signed[0][5] is not None  # size 1, signed
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement)
        conn.rollback()
        assert conn.execute("SELECT * FROM ledger_signed_checkpoints").fetchall() == signed


@pytest.mark.parametrize(
    "statement",
    [
        *CHANGING_CHECKPOINTS,
        "INSERT OR REPLACE INTO ledger_signed_checkpoints SELECT tree_size, 'forged', time, algorithm,"
        " last_position, signature, public_key, origin FROM ledger_signed_checkpoints",
    ],
)
def test_sqlite_refuses_to_change_remove_or_replace_signed_checkpoints(
    sqlite_url: str, tmp_path: Path, statement: str
) -> None:
    _signed_checkpoint(sqlite_url, tmp_path / "keys" / "ledger.pem")  # not beside the SQLite file
    conn = sqlite3.connect(DatabaseURL(sqlite_url).path)
    signed = conn.execute("SELECT * FROM ledger_signed_checkpoints").fetchall()
    assert len(signed) == 1 and signed[0][5] is not None
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(statement)
    assert conn.execute("SELECT * FROM ledger_signed_checkpoints").fetchall() == signed
    conn.close()
