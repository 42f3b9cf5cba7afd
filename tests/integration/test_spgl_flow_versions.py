"""数据共享交换 of the process catalogue: each published flow version is exported as its flow,
stage and stage-item rows (stage limit, milestone rule, item versions); a case row carries the
flow and versions its case was pinned to, a project row the flow in force when it was generated;
the export imports into an empty store with nothing rejected and exports again byte for byte; on
SQLite and PostgreSQL, equal after a rebuild from zero."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, cast

import pytest

from application.bootstrap import Container, bootstrap
from application.commands import Invocation
from application.commands.catalogue import PublishFlow, RetireFlow
from application.commands.spgl import ImportSpglTables
from domain.catalog.seed import seed_definition
from domain.exchange import spgl
from infrastructure.settings import Settings
from infrastructure.spgl_files import read_dump, write_dump
from tests.conftest import JWT_SECRET
from tests.integration.test_offline_warnings import MON, World, at
from tests.integration.test_pinned_rules import ADMIN, HAIKOU_FLOW, container, world
from tests.integration.test_spgl_exchange import CITY, NATIONAL, second_store

__all__ = ["container", "second_store", "world"]  # fixtures
Rows = dict[str, list[dict[str, str]]]


def haikou(version: str, limit: int, rule: str, item_version: str = "1.0") -> dict[str, Any]:
    definition = copy.deepcopy(seed_definition(3))
    definition["version"] = version
    definition["stages"][0].update(limit_days=limit, milestone_rule=rule)
    next(i for i in definition["items"] if i["code"] == "GJ-1-02")["version"] = item_version
    return definition


def publish(c: Container, region: str, definition: dict[str, Any]) -> None:
    key = f"pub-{region}-{definition['version']}"
    c.catalogue.publish(Invocation(ADMIN, key), PublishFlow(region, 3, definition))


def by_key(rows: Rows, table: str) -> dict[str, dict[str, str]]:
    return {r["DFSJZJ"]: r for r in rows[table]}


@pytest.fixture
def story(world: World) -> tuple[str, str]:
    """Case A received under Haikou 1.0, then 1.1 published (stage 1: 8 days, any milestone;
    GJ-1-02 at item version 1.1), then project B generated and its case B received under 1.1."""
    publish(world.c, "460100", haikou("1.0", 15, "all"))
    a = world.project("一点零项目", 601)
    at(world, MON, 9, 13)
    case_a = world.submit(a, "GJ-1-02")["id"]
    at(world, MON, 9, 30)
    publish(world.c, "460100", haikou("1.1", 8, "any", item_version="1.1"))
    b = world.project("一点一项目", 602)
    case_b = world.submit(b, "GJ-1-02")["id"]
    return case_a, case_b


def test_a_published_city_flow_version_and_the_cases_pinned_to_it_are_exported(
    container: Container, story: tuple[str, str]
) -> None:
    case_a, case_b = story
    rows = container.spgl.export(NATIONAL)
    flows = by_key(rows, spgl.FLOW)
    v10, v11 = flows[HAIKOU_FLOW], flows[f"{HAIKOU_FLOW}@1.1"]
    assert (v10["SPLCBM"], v10["SPLCBBH"], v10["XZQHDM"], v10["SPLCLX"]) == (HAIKOU_FLOW, "1.0", "460100", "3")
    assert (v11["SPLCBM"], v11["SPLCBBH"], v11["XZQHDM"]) == (HAIKOU_FLOW, "1.1", "460100")
    assert v11["SPLCSXSJ"] == "2026-03-09 09:30:00"  # published then (Hainan time)
    stages = by_key(rows, spgl.STAGE)
    assert (stages[f"{HAIKOU_FLOW}@1.1-1"]["SPJDSX"], stages[f"{HAIKOU_FLOW}@1.1-1"]["LCBSXLX"]) == ("8", "any")
    assert (stages[f"{HAIKOU_FLOW}-1"]["SPJDSX"], stages[f"{HAIKOU_FLOW}-1"]["LCBSXLX"]) == ("15", "all")
    assert "SPJDSX" not in stages[f"{HAIKOU_FLOW}@1.1-5"]  # the parallel stage has no limit (R4)
    items = by_key(rows, spgl.STAGE_ITEM)
    item = items[f"{HAIKOU_FLOW}@1.1-GJ-1-02"]
    assert (item["SPLCBBH"], item["SPSXBM"], item["SPSXBBH"], item["SPJDXH"]) == ("1.1", "GJ-1-02", "1.1", "1")
    assert items[f"{HAIKOU_FLOW}-GJ-1-02"]["SPSXBBH"] == "1.0"
    # the province's seed is still exported as configuration, once
    province = [r for r in rows[spgl.FLOW] if r["SPLCBM"] == "GJ-LC-03"]
    assert [(r["DFSJZJ"], r["SPLCBBH"], r["XZQHDM"]) for r in province] == [("GJ-LC-03", "1.0", "460000")]

    cases = by_key(rows, spgl.CASE)
    pinned = {k: (cases[k]["SPLCBM"], cases[k]["SPLCBBH"], cases[k]["SPSXBBH"]) for k in (case_a, case_b)}
    assert pinned == {case_a: (HAIKOU_FLOW, "1.0", "1.0"), case_b: (HAIKOU_FLOW, "1.1", "1.1")}
    # project rows: the flow in force when each was generated
    projects = {r["XMMC"]: (r["SPLCBM"], r["SPLCBBH"]) for r in rows[spgl.PROJECT]}
    assert projects == {"一点零项目": (HAIKOU_FLOW, "1.0"), "一点一项目": (HAIKOU_FLOW, "1.1")}


def test_the_export_with_flow_versions_imports_without_rejections_and_round_trips(
    container: Container, story: tuple[str, str], tmp_path: Path, second_store: str
) -> None:
    first = tmp_path / "first"
    write_dump(first, container.spgl.export(NATIONAL))
    empty = bootstrap(Settings(database_url=second_store, jwt_secret=JWT_SECRET))
    try:
        result = empty.spgl.import_tables(Invocation(CITY, "rt"), ImportSpglTables("gongjian", read_dump(first)))
        assert result.rejected == 0, result.errors[:5]
        second = tmp_path / "second"
        write_dump(second, empty.spgl.export(NATIONAL))
    finally:
        empty.close()
    for name in sorted(p.name for p in first.iterdir()):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_a_case_row_naming_a_flow_version_nobody_published_is_refused_by_r1(
    container: Container, story: tuple[str, str], tmp_path: Path, second_store: str
) -> None:
    rows = container.spgl.export(NATIONAL)
    _, case_b = story
    for r in rows[spgl.CASE]:
        if r["DFSJZJ"] == case_b:
            r["SPLCBBH"] = "1.2"
    empty = bootstrap(Settings(database_url=second_store, jwt_secret=JWT_SECRET))
    try:
        result = empty.spgl.import_tables(Invocation(CITY, "rt"), ImportSpglTables("gongjian", cast(Any, rows)))
    finally:
        empty.close()
    refused = [(e["rule"], e["local_key"]) for e in result.errors]
    assert ("R1", case_b) in refused


def test_the_recorded_seed_replaces_the_configuration_rows_and_a_retired_flow_stops_applying(
    container: Container, world: World
) -> None:
    container.catalogue.seed()
    province = copy.deepcopy(seed_definition(3))
    province["version"] = "2.0"
    publish(container, "460000", province)
    publish(container, "460100", haikou("1.0", 15, "all"))
    container.catalogue.retire(Invocation(ADMIN, "retire"), RetireFlow(HAIKOU_FLOW, "并入省级流程"))
    world.project("退役后项目", 603)
    rows = container.spgl.export(NATIONAL)
    flows = [(r["DFSJZJ"], r["SPLCBBH"]) for r in rows[spgl.FLOW] if r["SPLCBM"] == "GJ-LC-03"]
    assert flows == [("GJ-LC-03", "1.0"), ("GJ-LC-03@2.0", "2.0")]  # the seed once, from the log now
    assert sorted({r["DFSJZJ"] for r in rows[spgl.FLOW]}) == sorted(r["DFSJZJ"] for r in rows[spgl.FLOW])
    assert len(rows[spgl.FLOW]) == 10 + 2  # every seed flow, 2.0 of type 3, Haikou's 1.0
    [project] = [r for r in rows[spgl.PROJECT] if r["XMMC"] == "退役后项目"]
    assert (project["SPLCBM"], project["SPLCBBH"]) == ("GJ-LC-03", "2.0")


def test_rebuild_from_zero_gives_the_same_rows(container: Container, story: tuple[str, str]) -> None:
    container.catalogue.retire(Invocation(ADMIN, "retire"), RetireFlow(HAIKOU_FLOW, "并入省级流程"))
    before = container.spgl.export(NATIONAL)
    flows = container.db.query("SELECT * FROM spgl_flows ORDER BY process_id")
    container.engine.rebuild("spgl_exchange")
    assert container.spgl.export(NATIONAL) == before
    assert container.db.query("SELECT * FROM spgl_flows ORDER BY process_id") == flows
    assert [f["retired"] for f in flows] == [1]
