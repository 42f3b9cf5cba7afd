"""W2, W3, W6, W7, W9 and W10 over the lives of city cases (issue 15): imported status rows with
their business and recording times, opinions, special procedures, and rows the uploader rules R2/R3
refused are facts the rules judge like ours. Planted patterns raise their rule, look-alikes nothing,
whatever order the rows arrive in; the time-driven W6 takes its day from the log's clock tick and a
rebuild gives the same warnings; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from application.bootstrap import Container, bootstrap
from application.clock import SimulatedClock
from application.commands import Invocation
from application.commands.spgl import ImportSpglTables, SpglImported
from application.policy import Actor
from domain.exchange import spgl
from infrastructure.settings import Settings
from projections.offline_warnings import OfflineWarnings
from tests.conftest import JWT_SECRET
from tests.imported_scenario import Scenario, lifecycle_scenario

CITY = Actor("haikou-system", "integration", "460100-gongjian", "460100", "海口市工建系统")
HEAD = (spgl.FLOW, spgl.STAGE_ITEM, spgl.PROJECT)
CHILDREN = (spgl.STATUS, spgl.OPINION, spgl.SPECIAL)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2026, 4, 1, 1, 0, tzinfo=UTC))


JUNE = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)


@pytest.fixture
def container(store_url: str, clock: SimulatedClock) -> Iterator[Container]:
    c = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET, wait_timeout_s=5), clock)
    yield c
    c.close()


def every(c: Container) -> list[dict[str, Any]]:
    c.engine.catch_up()
    rows, _, _ = OfflineWarnings(c.db).list(first=10_000)
    return rows


def labelled(s: Scenario, rows: list[dict[str, Any]], status: str = "open") -> list[tuple[str, str]]:
    names = {code: reason for reason, code in s.planted.items()} | dict.fromkeys(s.clean, "clean")
    return sorted((names.get(r["project_code"], "other"), r["reason"]) for r in rows if r["status"] == status)


def dump(c: Container, tables: dict[str, list[dict[str, Any]]], tag: str) -> SpglImported:
    return c.spgl.import_tables(Invocation(CITY, tag), ImportSpglTables("haikou", tables))


def reserialled(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with their serials (LSH) reversed: the closing row of a case before its acceptance."""
    serials = sorted(r["LSH"] for r in rows)
    return [{**r, "LSH": lsh} for r, lsh in zip(rows, reversed(serials), strict=True)]


def test_planted_lifecycle_patterns_raise_their_rule_and_look_alikes_raise_nothing(
    container: Container, clock: SimulatedClock
) -> None:
    s = lifecycle_scenario(4)
    result = dump(container, s.tables, "one")
    # the refused rows are listed as import errors (R2: the case; R3: its status rows and the ghost's)
    assert sorted({e["rule"] for e in result.errors}) == ["R2", "R3"]
    clock.set(JUNE)
    container.automation.ticker.tick()  # the log's day: 2026-06-01
    rows = every(container)
    # Step. Each planted pattern raises its own reason once; the clean look-alikes nothing.
    assert labelled(s, rows) == sorted((reason, reason) for reason in s.planted)
    # Step. Explanations name the facts: the city's table, the row's serial, its log position.
    for r in rows:
        assert "SPGL_" in r["explanation"] and "LSH" in r["explanation"] and "日志位置" in r["explanation"], r
    refused = next(r for r in rows if r["reason"] == "W9.project_not_generated")
    assert "R2" in refused["explanation"] and len(json.loads(refused["evidence"])) == 5  # case row, 4 status rows
    # Step. A rebuild from zero gives the same warnings with the same ids and evidence.
    before = {r["warning_id"]: (r["reason"], r["status"], r["evidence"]) for r in rows}
    container.engine.rebuild("offline_warnings")
    assert {r["warning_id"]: (r["reason"], r["status"], r["evidence"]) for r in every(container)} == before


def test_the_open_warnings_do_not_depend_on_the_order_the_rows_arrive_in(
    container: Container, clock: SimulatedClock
) -> None:
    # one copy in one dump, serials of every case's rows reversed (closing rows before acceptances)
    a = lifecycle_scenario(3, offset=0)
    dump(container, {t: reserialled(rows) for t, rows in a.tables.items()}, "a")
    # another copy in three dumps: the case rows' children first (refused by R3: no case yet), then
    # the cases, then the children again (the city resends them)
    b = lifecycle_scenario(3, offset=100)
    dump(container, {t: rows for t, rows in b.tables.items() if t in (*HEAD, *CHILDREN)}, "b1")
    early = labelled(b, every(container))
    assert ("W10.external_case", "W10.external_case") in early and len(early) > 2  # rows with no case: W10
    dump(container, {t: list(reversed(rows)) for t, rows in b.tables.items() if t not in CHILDREN}, "b2")
    dump(container, {t: rows for t, rows in b.tables.items() if t in CHILDREN}, "b3")
    clock.set(JUNE)
    container.automation.ticker.tick()
    rows = every(container)
    ours = [r for r in rows if r["project_code"] in a.clean | set(a.planted.values())]
    theirs = [r for r in rows if r["project_code"] in b.clean | set(b.planted.values())]
    assert labelled(a, ours) == labelled(b, theirs) == sorted((reason, reason) for reason in a.planted)
    # within one dump the order raised nothing that was later taken back
    assert labelled(a, ours, status="resolved") == []


def test_an_open_case_is_overdue_only_from_the_day_the_log_says(container: Container, clock: SimulatedClock) -> None:
    s = lifecycle_scenario(1)
    dump(container, s.tables, "one")
    assert "W6.open_overdue" not in {r["reason"] for r in every(container)}  # no tick: no "today"
    # 2026-04-01: the case accepted on 03-02 (legal limit 20) is 2 working days past its deadline
    assert container.automation.ticker.tick() is not None
    assert container.automation.ticker.tick() is None  # once a day
    assert "W6.open_overdue" not in {r["reason"] for r in every(container)}
    clock.set(JUNE)
    assert container.automation.ticker.tick() is not None
    position = container.app.max_position()
    opened = [r for r in every(container) if r["reason"] == "W6.open_overdue"]
    assert [r["project_code"] for r in opened] == [s.planted["W6.open_overdue"]]
    assert opened[0]["raised_position"] == position  # raised by the tick itself
    container.engine.rebuild("offline_warnings")
    assert [r["warning_id"] for r in every(container) if r["reason"] == "W6.open_overdue"] == [opened[0]["warning_id"]]
