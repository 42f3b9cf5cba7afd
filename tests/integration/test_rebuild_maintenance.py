"""A large rebuild on PostgreSQL ends with VACUUM (ANALYZE) of the tables it loaded: the planner has
statistics and counts can be index-only, even where autovacuum is off (as on this machine); a
small one skips it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from application.bootstrap import Container, bootstrap
from bench.dataset import Generator
from infrastructure.settings import Settings
from projections import engine as engine_module
from tests.conftest import JWT_SECRET


@pytest.fixture
def pg(pg_url: str) -> Iterator[Container]:
    c = bootstrap(Settings(database_url=pg_url, jwt_secret=JWT_SECRET))
    Generator(c.app).run(600)
    try:
        yield c
    finally:
        c.close()


def _maintained(c: Container, tables: list[str]) -> dict[str, bool]:
    rows = c.db.query(
        "SELECT relname, last_vacuum IS NOT NULL AND last_analyze IS NOT NULL AS done"
        " FROM pg_stat_user_tables WHERE schemaname = current_schema()"
    )
    done = {r["relname"]: r["done"] for r in rows}
    return {t: bool(done.get(t)) for t in tables}


def test_a_rebuild_above_the_threshold_vacuums_and_analyzes_what_it_loaded(
    pg: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = [t for name in ("project_overview", "offline_warnings") for t in pg.engine.models[name].tables]
    monkeypatch.setattr(engine_module, "VACUUM_AFTER", 10**9)
    pg.engine.rebuild_all(["project_overview"])
    assert not any(_maintained(pg, tables).values())  # below the threshold: left to autovacuum

    monkeypatch.setattr(engine_module, "VACUUM_AFTER", 100)  # the store holds 600 events
    pg.engine.rebuild_all(["project_overview", "offline_warnings"])
    assert all(_maintained(pg, tables).values()), _maintained(pg, tables)
    other = pg.engine.models["audit_trail"].tables
    assert not any(_maintained(pg, list(other)).values())  # only what was rebuilt


def test_the_dashboard_pages_projects_through_the_creation_order_index(pg: Container) -> None:
    pg.engine.catch_up(["project_overview"])
    with pg.db.transaction() as cur:
        # a table this small would be scanned (or bitmap-scanned and sorted) whatever its indexes
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_bitmapscan = off")
        cur.execute("EXPLAIN SELECT * FROM projects WHERE created_position > 0 ORDER BY created_position LIMIT 21")
        plan = " ".join(str(next(iter(r.values()))) for r in cur.fetchall())
    # without the index every page sorts the whole table: 32 ms at 15,740 projects, 0.08 ms with it
    assert "projects_created" in plan and "Sort" not in plan, plan


def test_an_older_aggregates_inherited_subjects_are_found_through_their_key(pg: Container) -> None:
    # audit_trail's `_recall` (a command on a case it no longer remembers): one row per aggregate, by id
    pg.engine.catch_up(["audit_trail"])
    oid = pg.db.query("SELECT originator_id FROM audit_events WHERE event_type = 'Case.Received' LIMIT 1")[0]
    with pg.db.transaction() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_bitmapscan = off")
        cur.execute(
            "EXPLAIN SELECT originator_id, subjects FROM audit_aggregates WHERE originator_id IN (?)",
            (oid["originator_id"],),
        )
        plan = " ".join(str(next(iter(r.values()))) for r in cur.fetchall())
    # a scan of every subject cost 20 ms a batch at 1M events; the primary key reads one row
    assert "audit_aggregates_pkey" in plan, plan
    assert pg.db.query("SELECT subjects FROM audit_aggregates WHERE originator_id = ?", (oid["originator_id"],))
