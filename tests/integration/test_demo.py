"""演示数据 — the demo year, loaded through the services on SQLite and PostgreSQL.

Facts are read back from the log itself (no read model), in global order.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from application.bootstrap import Container, bootstrap
from application.clock import SimulatedClock
from application.demo import END, START, DemoSummary, demo_clock, load_demo
from domain.shared.codes import validate_uscc
from domain.shared.errors import Conflict
from domain.shared.events import SHANGHAI
from domain.shared.reference import REFERENCE
from domain.shared.workdays import is_workday
from infrastructure.db import DatabaseURL
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET

PROJECTS = 25  # more than the 19 city/county units, so every unit must appear


def _container(url: str, clock: SimulatedClock) -> Container:
    return bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET), clock)


def _events(container: Container) -> Iterator[tuple[int, Any]]:
    """Every event of the log with its position, in order."""
    start = 1
    while True:
        notifications = container.app.recorder.select_notifications(start=start, limit=1000)
        if not notifications:
            return
        for n in notifications:
            yield n.id, container.app.mapper.to_domain_event(n)
        start = notifications[-1].id + 1


def _load(url: str) -> tuple[DemoSummary, list[tuple[int, Any]]]:
    clock = demo_clock()
    container = _container(url, clock)
    try:
        summary = load_demo(container, clock, projects=PROJECTS, progress=False)
        return summary, list(_events(container))
    finally:
        container.close()


def _name(event: Any) -> str:
    return type(event).__qualname__


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo_log(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DemoSummary, list[tuple[int, Any]]]]:
    """One load per store for the whole module: the log is read into memory, then only looked at."""
    if request.param == "sqlite":
        yield _load(f"sqlite:///{tmp_path_factory.mktemp('demo')}/gongjian.db")
        return
    base = str(request.getfixturevalue("pg_base_url"))
    schema = f"t_demo_{uuid.uuid4().hex[:12]}"
    conninfo = DatabaseURL(base).conninfo
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield _load(f"{base}?schema={schema}")
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_two_loads_into_fresh_stores_write_the_same_facts(
    demo_log: tuple[DemoSummary, list[tuple[int, Any]]], tmp_path: Path
) -> None:
    # Step. A second load into a fresh SQLite file, whatever store the first one used.
    _, first = demo_log
    _, second = _load(f"sqlite:///{tmp_path}/second.db")

    # Step. Same event types in the same order, same project codes, same business times.
    assert [_name(e) for _, e in first] == [_name(e) for _, e in second]
    codes = [e.code for _, e in first if _name(e) == "Project.Generated"]
    assert codes == [e.code for _, e in second if _name(e) == "Project.Generated"]
    assert [e.timestamp for _, e in first] == [e.timestamp for _, e in second]


def test_the_demo_covers_every_unit_and_every_case_path(demo_log: tuple[DemoSummary, list[tuple[int, Any]]]) -> None:
    summary, log = demo_log
    names = Counter(_name(e) for _, e in log)
    generated = [e for _, e in log if _name(e) == "Project.Generated"]

    units = {REFERENCE.unit_of(e.region_code) for e in generated}
    assert units == {u.code for u in REFERENCE.city_county_units()}
    assert {e.flow_type for e in generated} == set(REFERENCE.flow_types)
    assert {e.stage for _, e in log if _name(e) == "Case.Received"} == {1, 2, 3, 4, 5}
    for family in (
        "Case.Approved",
        "Case.ApprovedPendingMaterials",
        "Case.Refused",
        "Case.AcceptanceRefused",
        "Case.NotAccepted",
        "Case.CorrectionRequested",
        "Case.SpecialProcedureStarted",
        "Case.BackEntered",
        "Case.Withdrawn",
        "Project.MergedInto",
        "Project.LandSupplied",
        "Project.UnitWorkRegistered",
    ):
        assert names[family] > 0, family
    procedures = {e.procedure_name for _, e in log if _name(e) == "Case.SpecialProcedureStarted"}
    assert procedures == {"专家评审", "听证", "公示"}
    assert {str(e.channel) for _, e in log} >= {"online", "window", "import", "offline_backentry"}
    assert summary.overdue > 0
    assert summary.overdue < summary.cases / 2  # most cases finish on time


def test_owners_carry_valid_codes_registered_in_the_project_region(
    demo_log: tuple[DemoSummary, list[tuple[int, Any]]],
) -> None:
    _, log = demo_log
    for _, e in log:
        if _name(e) == "Project.Generated":
            assert validate_uscc(e.owner_uscc) == e.owner_uscc
            assert e.owner_uscc[2:8] == e.region_code


def test_recorded_times_rise_with_positions_within_business_hours(
    demo_log: tuple[DemoSummary, list[tuple[int, Any]]],
) -> None:
    _, log = demo_log
    times = [e.timestamp for _, e in log]
    assert times == sorted(times)
    for moment in times:
        local = moment.astimezone(SHANGHAI)
        assert START <= local.date() <= END.date()
        assert is_workday(local.date()), local
        assert (8, 30) <= (local.hour, local.minute) < (17, 30), local
    entries = [e for _, e in log if _name(e) == "Case.BackEntered"]
    assert all(e.occurred_at < e.timestamp for e in entries)  # decided offline, entered later


def test_the_summary_matches_the_log(demo_log: tuple[DemoSummary, list[tuple[int, Any]]]) -> None:
    summary, log = demo_log
    names = Counter(_name(e) for _, e in log)
    assert summary.events == log[-1][0]
    assert summary.projects == names["Project.Generated"] > PROJECTS
    assert summary.cases == names["Case.Received"] + names["Case.BackEntered"]
    assert summary.back_entries == names["Case.BackEntered"]
    assert summary.merges == names["Project.MergedInto"] == names["Project.DuplicateAbsorbed"] == 2
    assert sum(summary.by_status.values()) == summary.cases


def test_the_demo_refuses_a_store_that_already_holds_events(sqlite_url: str) -> None:
    clock = demo_clock()
    container = _container(sqlite_url, clock)
    try:
        load_demo(container, clock, projects=1, progress=False)
        with pytest.raises(Conflict):
            load_demo(container, clock, projects=1, progress=False)
    finally:
        container.close()


def test_the_demo_refuses_a_clock_the_container_does_not_use(sqlite_url: str) -> None:
    container = _container(sqlite_url, demo_clock())
    try:
        with pytest.raises(ValueError, match="simulated clock"):
            load_demo(container, demo_clock(), projects=1, progress=False)
    finally:
        container.close()


def test_the_demo_clock_starts_before_the_first_working_morning() -> None:
    assert demo_clock().now().astimezone(SHANGHAI).date() == START == date(2026, 1, 5)
