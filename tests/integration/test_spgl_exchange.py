"""数据共享交换 — import of a city system's dump in the national data-sharing tables and export of
ours, on SQLite and PostgreSQL: valid rows become events, invalid ones are reported by rule (and
counted in dataQuality), a second import writes nothing, and export → import → export is exact."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from application.bootstrap import Container, bootstrap
from application.commands import Invocation
from application.commands.spgl import ImportSpglTables
from application.policy import Actor
from demo import demo_clock, load_demo
from domain.exchange import spgl
from domain.shared.errors import Forbidden, InvalidValue
from infrastructure.settings import Settings
from infrastructure.spgl_files import read_dump, write_dump
from interfaces.graphql.context import Context
from interfaces.graphql.schema import schema
from tests.conftest import JWT_SECRET, _conninfo
from tests.spgl_city_dump import Dump

CITY = Actor("haikou-system", "integration", "460100-gongjian", "460100", "海口市工建系统")
NATIONAL = Actor("national-upload", "integration", "gongjian", "460000", "国家平台上报")
ANALYST = Actor("analyst-1", "analyst", "hn-stat", "460000")


@pytest.fixture
def container(store_url: str) -> Iterator[Container]:
    c = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET, wait_timeout_s=5))
    yield c
    c.close()


def log_length(c: Container) -> int:
    return c.app.max_position() or 0


@pytest.fixture(scope="module")
def dump() -> Dump:
    return Dump(projects=150)


def test_a_city_dump_imports_valid_rows_reports_invalid_ones_by_rule_and_a_second_import_writes_nothing(
    container: Container, dump: Dump
) -> None:
    assert dump.rows > 3_000
    result = container.spgl.import_tables(Invocation(CITY, "import-1"), ImportSpglTables("haikou", dump.tables))
    assert not result.unchanged
    assert Counter(e["rule"] for e in result.errors) == dump.planted
    assert all(e["wording"] for e in result.errors)  # the standard's wording, or our check's description
    assert next(e for e in result.errors if e["rule"] == "R6")["wording"] == spgl.rule_texts()["R6"]
    counts = result.counts
    assert all(counts[t]["imported"] for t in spgl.ORDER), counts  # every table of the standard
    assert counts[spgl.PROJECT]["corrected"] == dump.corrections
    assert counts[spgl.CASE]["invalidated"] == dump.invalidations
    taken = sum(c["imported"] + c["corrected"] + c["invalidated"] for c in counts.values())
    assert taken + result.rejected == dump.rows
    # every taken row is one event, plus the import's own, plus each row refused by R2/R3 (evidence, issue 15)
    evidence = sum(1 for e in result.errors if e["rule"] in ("R2", "R3"))
    assert evidence == dump.planted["R2"] + dump.planted.get("R3", 0) > 0
    assert log_length(container) == taken + 1 + evidence
    position = log_length(container)

    again = container.spgl.import_tables(Invocation(CITY, "import-2"), ImportSpglTables("haikou", dump.tables))
    assert again.unchanged and again.id == result.id
    assert log_length(container) == position

    # the same rows in another dump (different order, one more row): only the new row is written
    shuffled = {t: list(reversed(rows)) for t, rows in dump.tables.items()}
    extra = {**shuffled[spgl.OPINION][0], "LSH": 999_999, "DFSJZJ": "extra-opinion"}
    shuffled[spgl.OPINION] = [*shuffled[spgl.OPINION], extra]
    third = container.spgl.import_tables(Invocation(CITY, "import-3"), ImportSpglTables("haikou", shuffled))
    assert not third.unchanged
    assert third.counts[spgl.OPINION]["imported"] == 1
    assert sum(c["imported"] + c["corrected"] + c["invalidated"] for c in third.counts.values()) == 1
    assert log_length(container) == position + 2  # the row and the import's record


def test_imported_rows_carry_the_import_channel_and_the_source_system(container: Container, dump: Dump) -> None:
    container.spgl.import_tables(Invocation(CITY, "req-42"), ImportSpglTables("haikou", dump.tables))
    events = list(container.app.recorder.select_notifications(start=1, limit=50))
    decoded = [container.app.mapper.to_domain_event(n) for n in events]
    rows = [e for e in decoded if type(e).__qualname__.startswith("SpglRow.")]
    assert rows
    for e in rows:
        assert e.channel == "import" and e.request_id == "req-42"  # type: ignore[attr-defined]
        assert (e.actor_id, e.actor_role, e.actor_org) == ("haikou-system", "integration", "460100-gongjian")  # type: ignore[attr-defined]
        assert e.source_system == "haikou"  # type: ignore[attr-defined]


def test_import_errors_are_counted_in_data_quality_by_rule(container: Container, dump: Dump) -> None:
    result = container.spgl.import_tables(Invocation(CITY, "import-1"), ImportSpglTables("haikou", dump.tables))
    container.engine.catch_up()
    query = "query($at: Int) { dataQuality(atLeast: $at) { category rule description count examples } }"
    answer = asyncio.run(
        schema.execute(query, variable_values={"at": result.position}, context_value=Context(container, ANALYST))
    )
    assert answer.errors is None
    imports = {r["rule"]: r for r in answer.data["dataQuality"] if r["category"] == "import_errors"}
    assert {rule: r["count"] for rule, r in imports.items() if r["count"]} == dict(dump.planted)
    assert spgl.rule_texts()["R1"] in imports["R1"]["description"]
    assert imports["R1"]["examples"] == [
        "SPGL_XMSPSXBLXXB/HKX1 SPSXBM: no stage item HK-LC-01|2.1|HK-SX-999|1 in SPGL_DFXMSPLCJDSXXXB"
    ]


def test_imported_status_rows_and_certificates_feed_the_off_system_rules(container: Container, dump: Dump) -> None:
    container.spgl.import_tables(Invocation(CITY, "import-1"), ImportSpglTables("haikou", dump.tables))
    container.engine.catch_up()
    warnings = container.db.query("SELECT rule, reason, subject, explanation FROM warnings")
    # the construction permit cites an engineering planning permit nobody reported (W5)
    missing = [w for w in warnings if w["reason"] == "W5.missing_upstream"]
    assert [w["subject"] for w in missing] == ["460100202604010101"], warnings
    assert "建字第460100202699999号" in missing[0]["explanation"]
    # city cases reported through the tables are known to the platform: "a case we do not have" (W10)
    # only for the rows refused by R3, whose case is in no table (issue 15: refused rows are evidence)
    assert [w["subject"] for w in warnings if w["reason"] == "W10.external_case"] == ["HKX3"]
    # imported projects count as generated: "project never generated here" (W9) only for the case
    # row refused by R2
    assert [w["subject"] for w in warnings if w["reason"] == "W9.project_not_generated"] == ["HKX2"]


def test_bad_requests_change_nothing(container: Container, dump: Dump) -> None:
    with pytest.raises(InvalidValue) as bad:
        container.spgl.import_tables(Invocation(CITY, "x"), ImportSpglTables("haikou", {"SPGL_NOPE": []}))
    assert bad.value.field == "tables.SPGL_NOPE"
    with pytest.raises(InvalidValue):
        container.spgl.import_tables(Invocation(CITY, "x"), ImportSpglTables(" ", dump.tables))
    with pytest.raises(Forbidden):
        container.spgl.import_tables(Invocation(ANALYST, "x"), ImportSpglTables("haikou", dump.tables))
    assert log_length(container) == 0


def _demo(container: Container, projects: int) -> None:
    clock = demo_clock()
    c = bootstrap(container.settings, clock)
    try:
        load_demo(c, clock, projects)
    finally:
        c.close()


@pytest.fixture
def second_store(store_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty store of the same kind as `store_url`."""
    if store_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    base, _ = store_url.split("?", 1)
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_conninfo(base), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    yield f"{base}?schema={name}"
    with psycopg.connect(_conninfo(base), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def test_round_trip_of_the_demo_is_exact(container: Container, tmp_path: Path, second_store: str) -> None:
    _demo(container, 12)
    first = tmp_path / "first"
    counts = write_dump(first, container.spgl.export(NATIONAL))
    assert counts[spgl.PROJECT] and counts[spgl.CASE] and counts[spgl.STATUS] and counts[spgl.DOCUMENT]
    # corrections are new rows: each merged duplicate's project row comes again, invalid, with the reason
    project_rows = Counter(r["DFSJZJ"] for r in read_dump(first)[spgl.PROJECT])
    invalid = [r for r in read_dump(first)[spgl.PROJECT] if r["SJYXBS"] == "0"]
    assert invalid and all(project_rows[r["DFSJZJ"]] == 2 and "合并" in r["SJWXYY"] for r in invalid)

    empty = bootstrap(Settings(database_url=second_store, jwt_secret=JWT_SECRET))
    try:
        result = empty.spgl.import_tables(Invocation(CITY, "rt"), ImportSpglTables("gongjian-demo", read_dump(first)))
        assert result.rejected == 0, result.errors[:5]
        second = tmp_path / "second"
        write_dump(second, empty.spgl.export(NATIONAL))
    finally:
        empty.close()
    for name in sorted(p.name for p in first.iterdir()):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_export_since_a_position_gives_only_what_came_after(container: Container) -> None:
    _demo(container, 6)
    everything = container.spgl.export(NATIONAL)
    middle = (container.app.max_position() or 0) // 2
    later = container.spgl.export(NATIONAL, since=middle)
    # the seed's flows are recorded first (positions 1-10); only Haikou's version may come later
    assert {r["SPLCBM"] for r in later[spgl.FLOW]} <= {"GJ-LC-01-460100"}
    assert {r["SPLCBM"] for r in everything[spgl.FLOW]} >= {"GJ-LC-01", "GJ-LC-10"}
    assert 0 < sum(map(len, later.values())) < sum(map(len, everything.values()))
    lsh_after = {int(r["LSH"]) for rows in later.values() for r in rows}
    assert min(lsh_after) > middle * 100
