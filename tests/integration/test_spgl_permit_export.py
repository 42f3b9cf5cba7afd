"""数据共享交换 — the red-line and permit tables exported from our own facts, on SQLite and
PostgreSQL: a small lifecycle (a project with a red line, land transferred with the official red
line, a land-use planning permit, a works planning permit, a drawing-review certificate and a
construction permit issued, then the land-use permit revoked) gives rows whose every field is traced
to the fact it comes from, and our own import's validator takes every exported row."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from application.bootstrap import Container, bootstrap
from application.clock import SimulatedClock
from application.commands import Invocation
from application.commands.licences import IssueLicence, RevokeLicence
from application.commands.projects import GenerateProject, SupplyLand
from application.commands.seals import RegisterSeal
from application.commands.spgl import ImportSpglTables
from application.policy import Actor
from domain.catalog import CATALOG
from domain.exchange import spgl
from domain.licences.licence import licence_id
from domain.projects import project_id
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.integration.test_spgl_exchange import CITY, NATIONAL, second_store  # noqa: F401 (fixture)

OWNER = "91460000MA5T0P3X64"
OWNER_NAME = "海南测试建设有限公司"
ADMIN = Actor("admin-1", "admin", "460000-admin", "460000")
CLERK = Actor("clerk-1", "window_clerk", "460100-zwfw", "460100")
APPROVER = Actor("zhang", "approver", "460100-zrzy", "460100")
START = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Haikou: the business date is 2026-11-02
REGION = "460108"
PLANNED = {"type": "Polygon", "coordinates": [[[110.41, 20.01], [110.412, 20.01], [110.412, 20.012], [110.41, 20.01]]]}
OFFICIAL = {
    "type": "Polygon",
    "coordinates": [[[110.41, 20.01], [110.4125, 20.01], [110.4125, 20.0125], [110.41, 20.0125], [110.41, 20.01]]],
}
PERMITS = (spgl.RED_LINE, spgl.LAND_PERMIT, spgl.WORKS_PERMIT, spgl.BUILD_PERMIT)


@pytest.fixture
def container(store_url: str, tmp_path: Path) -> Iterator[Container]:
    settings = Settings(database_url=store_url, jwt_secret=JWT_SECRET, keystore_path=str(tmp_path / "keys"))
    c = bootstrap(settings, clock=SimulatedClock(START))
    try:
        yield c
    finally:
        c.close()


def lifecycle(c: Container) -> dict[str, Any]:
    """The facts, as given (the expected rows are written from these, not from the code)."""
    code = f"2611-460100-04-01-{uuid.uuid4().int % 10**6:06d}"
    # Step. Generated with a planned red line; land transferred with the official one.
    c.projects.generate(
        Invocation(CLERK, "gen"),
        GenerateProject(
            code=code,
            name="江东总部大厦",
            owner_name=OWNER_NAME,
            owner_uscc=OWNER,
            region_code=REGION,
            flow_type=3,
            investment_type="enterprise",
            category="房屋建筑",
            total_investment=Decimal("52000"),
            planned_start=date(2026, 6, 1),
            planned_end=date(2028, 6, 1),
            red_line=PLANNED,
        ),
    )
    c.projects.supply_land(
        Invocation(APPROVER, "land"),
        SupplyLand(
            code, mode="transfer", red_line=OFFICIAL, supplied_on=date(2026, 10, 1), contract_number="HT-2026-001"
        ),
    )
    now = c.clock.now()
    seal = c.seals.register(
        Invocation(ADMIN, "seal"),
        RegisterSeal(
            holder_org="460100-zrzy",
            name="海口市自然资源和规划局行政审批专用章",
            purpose="licence",
            algorithm="sm2-sm3",
            valid_from=now - timedelta(days=1),
            valid_until=now + timedelta(days=400),
            signers=["zhang"],
        ),
    ).id

    def issue(licence_type: str, item: str, topic: dict[str, str]) -> str:
        number = f"{item}-{uuid.uuid4().hex[:8].upper()}"
        c.licences.issue(
            Invocation(APPROVER, f"issue-{number}"),
            IssueLicence(
                number=number,
                licence_type=licence_type,
                holder_name=OWNER_NAME,
                holder_uscc=OWNER,
                project_code=code,
                item_code=item,
                region_code=REGION,
                valid_from=date(2026, 11, 2),
                valid_until=None,
                topic={"project_name": "江东总部大厦", **topic},
                seal_id=seal,
            ),
        )
        return number

    # Step. The permits of stages 1–3 and the drawing-review certificate are issued.
    land = issue("construction_land_planning_permit", "GJ-1-03", {"land_area": "6521.5", "land_use": "商务金融用地"})
    works = issue("engineering_planning_permit", "GJ-2-01", {"building_area": "85000"})
    drawings = issue("drawing_review_certificate", "GJ-3-01", {"review_org": "海南省施工图审查中心"})
    build = issue(
        "construction_permit",
        "GJ-3-03",
        {"building_area": "85000", "contract_price": "42000", "construction_org": "中建测试工程局"},
    )
    # Step. The land-use permit is revoked afterwards.
    c.licences.revoke(Invocation(APPROVER, "revoke"), RevokeLicence(land, "规划条件调整"))
    return {"code": code, "land": land, "works": works, "drawings": drawings, "build": build}


def rows_of(export: dict[str, list[dict[str, str]]], table: str, code: str) -> list[dict[str, str]]:
    return [r for r in export[table] if r.get("GCDM") == f"{code}-001"]


def content(row: dict[str, str]) -> dict[str, str]:
    """A row without the fields the export adds to every row (serial, update time, upload state)."""
    return {k: v for k, v in row.items() if k not in ("LSH", "GXSJ", "SJSCZT")}


def test_red_lines_and_permits_are_exported_with_every_field_traced_to_its_fact(container: Container) -> None:
    c = container
    facts = lifecycle(c)
    code = facts["code"]
    export = c.spgl.export(NATIONAL)
    pid = str(project_id(code))
    base = {"XZQHDM": REGION, "GCDM": f"{code}-001", "SJYXBS": "1"}
    # the red line: the planned one, then the official one correcting it (same key, later serial)
    planned, official = rows_of(export, spgl.RED_LINE, code)
    assert content(planned) == {**base, "DFSJZJ": f"{pid}-HX", "XMJWDZB": "110.41,20.01;110.412,20.01;110.412,20.012"}
    assert content(official) == {
        **base,
        "DFSJZJ": f"{pid}-HX",
        "XMJWDZB": "110.41,20.01;110.4125,20.01;110.4125,20.0125;110.41,20.0125",
    }
    assert int(official["LSH"]) > int(planned["LSH"])
    # the land-use planning permit, then the same row invalid with the revocation's reason
    issued, revoked = rows_of(export, spgl.LAND_PERMIT, code)
    land_key = str(licence_id(facts["land"]))
    land_row = {
        **base, "DFSJZJ": land_key, "YDGHXKZBH": facts["land"], "YDDW": OWNER_NAME, "YDMJ": "6521.5",
        "TDYT": "商务金融用地", "TDHQFS": "出让",
    }  # fmt: skip
    assert content(issued) == land_row
    assert content(revoked) == {**land_row, "SJYXBS": "0", "SJWXYY": "证照已撤销：规划条件调整"}
    [works] = rows_of(export, spgl.WORKS_PERMIT, code)
    assert content(works) == {**base, "DFSJZJ": str(licence_id(facts["works"])), "GCGHXKZBH": facts["works"]}
    # the construction permit cites the three upstream numbers current when it was issued
    [build] = rows_of(export, spgl.BUILD_PERMIT, code)
    assert content(build) == {
        **base, "DFSJZJ": str(licence_id(facts["build"])), "SGXKZBH": facts["build"], "YDGHXKZBH": facts["land"],
        "GCGHXKZBH": facts["works"], "SCHGSBH": facts["drawings"], "FZJG": CATALOG.item("GJ-3-03").department,
        "FZRQ": "2026-11-02",
    }  # fmt: skip
    # a drawing-review certificate has no table of its own
    drawings_key = str(licence_id(facts["drawings"]))
    assert all(r["DFSJZJ"] != drawings_key for t in PERMITS for r in export[t])


def test_every_exported_row_passes_our_own_import_validator(container: Container, second_store: str) -> None:  # noqa: F811
    c = container
    code = lifecycle(c)["code"]
    export = c.spgl.export(NATIONAL)
    assert all(rows_of(export, t, code) for t in PERMITS)
    # Step. The uploader's rules, row by row, on the red-line and permit rows.
    known = spgl.Known(lambda _kind, _key: False)
    for table in PERMITS:
        for row in export[table]:
            spgl.check_row(table, spgl.normalise_row(row), known)
    # Step. The whole export into an empty store: every row taken, none refused.
    other = bootstrap(Settings(database_url=second_store, jwt_secret=JWT_SECRET))
    try:
        result = other.spgl.import_tables(Invocation(CITY, "round-trip"), ImportSpglTables("gongjian", export))
        assert result.errors == [] and result.rejected == 0
        for table in PERMITS:
            counts = result.counts[table]
            assert counts["imported"] + counts["corrected"] + counts["invalidated"] == len(export[table]), counts
        again = other.spgl.export(NATIONAL)
        for table in PERMITS:
            assert [content(r) for r in again[table]] == [content(r) for r in export[table]]
    finally:
        other.close()


def test_one_rebuild_batch_leaves_the_tables_as_event_by_event_batches_did(container: Container) -> None:
    """What the red lines and permits read and change (`spgl_export_facts`) is held per batch and
    written at its end (projections/spgl_permits.py `Facts`): the whole lifecycle in one batch (the
    red line set twice, the land-use permit issued and revoked in it) leaves every table of the read
    model as one event per batch did, row for row."""
    c = container
    lifecycle(c)
    c.engine.catch_up(["spgl_exchange"], batch_size=1)
    model = c.engine.models["spgl_exchange"]

    def rows() -> dict[str, list[str]]:
        return {t: sorted(map(repr, c.db.query_tuples(f"SELECT * FROM {t}"))) for t in model.tables}

    one_by_one = rows()
    assert len(one_by_one["spgl_export_facts"]) >= 4 and len(one_by_one["spgl_rows"]) >= 7  # a real comparison
    assert c.engine.rebuild("spgl_exchange") == c.app.max_position()  # one batch: the log is small
    assert rows() == one_by_one
