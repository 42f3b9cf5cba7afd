"""The events table refuses UPDATE, DELETE and (on PostgreSQL) TRUNCATE: events are facts."""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from application.bootstrap import bootstrap
from application.policy import Actor
from infrastructure.db import DatabaseURL
from infrastructure.settings import Settings
from infrastructure.store import events_table
from tests.conftest import JWT_SECRET

CLERK = Actor("clerk-1", "window_clerk", "hk-window", "460100")


def _write_one(url: str) -> int:
    container = bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET))
    try:
        container.projects.generate(
            CLERK,
            "req-1",
            None,
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
