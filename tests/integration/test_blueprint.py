"""一张蓝图 on SQLite and PostgreSQL: imported zones and areas, generation and land supply checked
against them and shown in GraphQL, parcels both ways, alias codes after a merge, and the
historical-project CSV import (idempotent, bad rows reported by row and rule)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from application.bootstrap import Container, bootstrap
from application.commands import Invocation
from application.commands.blueprint import ImportAssessmentArea, ImportZone, RetireLayer
from application.commands.migration import ImportProjects
from application.commands.projects import GenerateProject, LinkParcel, MergeProject, SupplyLand
from application.policy import Actor
from application.project_import import import_projects, read_rows
from domain.shared.errors import Conflict, Forbidden
from infrastructure.settings import Settings
from interfaces.graphql.context import Context
from interfaces.graphql.schema import schema
from tests.conftest import JWT_SECRET
from tests.unit.test_blueprint import INSIDE_BOTH, INSIDE_ENV_ONLY, square

OWNER = "91460000MA5T0P3X64"
ADMIN = Actor("admin-1", "admin", "ops", "460000")
CLERK = Actor("clerk-1", "window_clerk", "hk-window", "460100")
APPROVER = Actor("approver-1", "approver", "hk-zrzy", "460100")
SUPERVISOR = Actor("sup-1", "supervisor", "hn-sup", "460000")
IMPORTER = Actor("cli-integration", "integration", "gongjian", "460000")


@pytest.fixture
def container(store_url: str) -> Iterator[Container]:
    c = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET, wait_timeout_s=2))
    yield c
    c.engine.stop()
    c.close()


@pytest.fixture
def blueprint(container: Container) -> Container:
    """江东: one zone (commercial 09, plot ratio 2.5, height 60 m), an environment assessment
    covering it and a seismic one over its north-east part."""
    container.blueprint.import_zone(
        Invocation(ADMIN, "bp-1"),
        ImportZone(
            code="HK-JD-01",
            region_code="460108",
            name="江东01",
            geometry=square(110.40, 20.00, 110.42, 20.02),
            land_uses=["09"],
            max_plot_ratio=Decimal("2.5"),
            height_limit_m=Decimal("60"),
            plan_name="江东新区控规",
        ),
    )
    for code, kind, box, result in (
        ("ENV-JD", "environment", (110.39, 19.99, 110.43, 20.03), "区域环评：符合"),
        ("EQ-JD", "seismic_safety", (110.405, 20.005, 110.43, 20.03), "抗震设防烈度8度"),
    ):
        container.blueprint.import_assessment_area(
            Invocation(ADMIN, f"bp-{code}"),
            ImportAssessmentArea(
                code=code,
                region_code="460108",
                name=code,
                kind=kind,
                geometry=square(*box),
                result=result,
                valid_from=date(2025, 1, 1),
                valid_until=None,
            ),
        )
    return container


def run(container: Container, query: str, actor: Actor | None = SUPERVISOR, **variables: Any) -> Any:
    container.engine.catch_up()
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=Context(container, actor)))
    assert result.errors is None, result.errors
    return result.data


def generate(container: Container, **changes: Any) -> tuple[str, dict[str, Any]]:
    code = changes.pop("code", None) or f"2611-460100-04-01-{uuid.uuid4().int % 10**6:06d}"
    fields: dict[str, Any] = {
        "code": code,
        "name": "江东总部大厦",
        "owner_name": "海南测试建设有限公司",
        "owner_uscc": OWNER,
        "region_code": "460108",
        "flow_type": 3,
        "investment_type": "enterprise",
        "category": "房屋建筑",
        "total_investment": Decimal("52000"),
        "planned_start": date(2026, 6, 1),
        "planned_end": date(2028, 6, 1),
        "red_line": INSIDE_BOTH,
    }
    return code, container.projects.generate(
        Invocation(CLERK, f"req-{code}"), GenerateProject(**{**fields, **changes})
    ).to_json()


LAND = """query($code: String!, $at: Int) { project(code: $code, atLeast: $at) { code redLineAreaM2
  land { redLineAreaM2 checkTrigger zones { code overlapM2 } conflicts { rule zoneCode declared limit }
         assessments { code kind result } } } }"""


def test_generation_applies_both_assessments_and_lists_the_height_conflict_and_land_supply_rechecks(
    blueprint: Container,
) -> None:
    # Step. Generated inside both areas, declaring 80 m against the zone's 60 m limit.
    code, answer = generate(blueprint, height_m=Decimal("80"), planned_land_use="0901")
    assert answer["assessment_areas"] == ["ENV-JD", "EQ-JD"]
    assert [c["rule"] for c in answer["conflicts"]] == ["height_limit"]
    project = run(blueprint, LAND, code=code, at=answer["position"])["project"]
    land = project["land"]
    assert [a["code"] for a in land["assessments"]] == ["ENV-JD", "EQ-JD"]
    assert land["assessments"][1]["result"] == "抗震设防烈度8度"
    assert land["conflicts"] == [{"rule": "height_limit", "zoneCode": "HK-JD-01", "declared": "80", "limit": "60"}]
    assert land["checkTrigger"] == "generation" and [z["code"] for z in land["zones"]] == ["HK-JD-01"]
    assert 45_000 < project["redLineAreaM2"] == land["redLineAreaM2"] < 47_000

    # Step. The government's red line, outside the seismic area, becomes the official one.
    supplied = blueprint.projects.supply_land(
        Invocation(APPROVER, "req-land"),
        SupplyLand(
            code, mode="allocation", red_line=INSIDE_ENV_ONLY, supplied_on=date(2026, 5, 6), contract_number=None
        ),
    )
    land = run(blueprint, LAND, code=code, at=supplied.position)["project"]["land"]
    assert [a["code"] for a in land["assessments"]] == ["ENV-JD"]
    assert land["checkTrigger"] == "land_supply"


def test_a_retired_area_is_not_applied_to_later_generations(blueprint: Container) -> None:
    blueprint.blueprint.retire(
        Invocation(ADMIN, "req-retire"), RetireLayer("assessment_area", "EQ-JD", reason="安评过期重做")
    )
    _, answer = generate(blueprint)
    assert answer["assessment_areas"] == ["ENV-JD"]
    with pytest.raises(Conflict):
        blueprint.blueprint.retire(
            Invocation(ADMIN, "req-retire-2"), RetireLayer("assessment_area", "EQ-JD", reason="again")
        )


def test_only_an_admin_imports_the_blueprint_and_the_same_import_writes_nothing(blueprint: Container) -> None:
    with pytest.raises(Forbidden):
        blueprint.blueprint.retire(Invocation(CLERK, "req-x"), RetireLayer("zone", "HK-JD-01", reason="no"))
    before = blueprint.app.max_position()
    again = blueprint.blueprint.import_assessment_area(
        Invocation(ADMIN, "bp-again"), ImportAssessmentArea(code="ENV-JD", region_code="460108", name="ENV-JD", kind="environment", geometry=square(110.39, 19.99, 110.43, 20.03), result="区域环评：符合", valid_from=date(2025, 1, 1), valid_until=None))  # fmt: skip
    assert again.unchanged and blueprint.app.max_position() == before


def test_land_supply_for_a_project_never_generated_is_a_conflict(container: Container) -> None:
    with pytest.raises(Conflict, match="未策划生成"):
        container.projects.supply_land(
            Invocation(APPROVER, "req-land"),
            SupplyLand(
                "2611-460100-04-01-000001",
                mode="allocation",
                red_line=INSIDE_BOTH,
                supplied_on=date(2026, 5, 6),
                contract_number=None,
            ),
        )


PARCEL = """query($parcel: String!, $code: String!) {
  parcel(code: $parcel) { code projectCodes projects { code } }
  project(code: $code) { code parcelCodes mergedCodes } }"""


def test_parcels_are_queryable_both_ways_and_an_alias_answers_with_its_canonical_project(
    container: Container,
) -> None:
    # Step. Two codes for one project (a duplicate), each linked to a parcel; one parcel shared.
    canonical, _ = generate(container, red_line=None)
    duplicate, _ = generate(container, red_line=None)
    shared, own = "460108001002GB00017", "460108001002GB00018"
    for code, parcel in ((canonical, shared), (duplicate, shared), (duplicate, own)):
        container.projects.link_parcel(
            Invocation(APPROVER, f"req-{code}-{parcel}"), LinkParcel(code, parcel_code=parcel)
        )
    at = container.projects.merge(
        Invocation(SUPERVISOR, "req-merge"), MergeProject(duplicate, canonical_code=canonical, reason="重复赋码")
    )
    container.engine.catch_up()
    assert at.position is not None and at.position <= container.app.max_position()

    # Step. Parcel → projects follows the merge; project → parcels; the alias answers with the canonical.
    data = run(container, PARCEL, parcel=shared, code=duplicate)
    assert data["parcel"] == {"code": shared, "projectCodes": [canonical], "projects": [{"code": canonical}]}
    assert data["project"]["code"] == canonical and data["project"]["mergedCodes"] == [duplicate]
    assert data["project"]["parcelCodes"] == [shared]
    assert run(container, PARCEL, parcel=own, code=canonical)["parcel"]["projectCodes"] == [canonical]


CSV_HEADER = (
    "code,name,owner_name,owner_uscc,region_code,flow_type,investment_type,category,total_investment,"
    "planned_start,planned_end,red_line,land_area_m2,generated_on\n"
)


def _row(code: str, **cells: str) -> str:
    values = {
        "code": code, "name": "历史项目", "owner_name": "海南测试建设有限公司", "owner_uscc": OWNER,
        "region_code": "460108", "flow_type": "3", "investment_type": "government", "category": "市政",
        "total_investment": "1000", "planned_start": "2019-03-01", "planned_end": "2020-12-31",
        "red_line": "", "land_area_m2": "", "generated_on": "2019-02-20",
    }  # fmt: skip
    values.update(cells)
    red = values["red_line"].replace('"', '""')
    ordered = [values[k] if k != "red_line" else f'"{red}"' for k in CSV_HEADER.strip().split(",")]
    return ",".join(ordered) + "\n"


def test_a_csv_of_historical_projects_imports_good_rows_reports_bad_ones_and_writes_nothing_again(
    container: Container, tmp_path: Path
) -> None:
    n = uuid.uuid4().int % 10**5
    red = json.dumps(INSIDE_BOTH)
    good = [f"2019-460100-48-01-{n:05d}1", f"2019-460100-48-01-{n:05d}2", f"2611-460100-04-01-{n:05d}3"]
    path = tmp_path / "projects.csv"
    path.write_text(
        CSV_HEADER
        + _row(good[0])
        + _row(good[1], red_line=red, land_area_m2="46300")
        + _row("2019-469003-48-01-000001")  # row 4: an old (abolished) division code
        + _row(f"2611-460100-04-01-{n:05d}4", planned_end="2018-01-01")  # row 5: end before start
        + _row(f"2611-460100-04-01-{n:05d}5", red_line=red, land_area_m2="90000")  # row 6: area mismatch
        + _row(good[2], owner_uscc="91460000MA5T0P3X65")  # row 7: bad check character
        + _row(good[0]),  # row 8: the same code twice in one file
        encoding="utf-8",
    )
    first = import_projects(
        container.projects, Invocation(IMPORTER, "req-import"), ImportProjects(list(read_rows(path)))
    )
    assert (first.rows, first.imported, first.unchanged) == (7, 2, 0)
    assert [(e["row"], e["rule"]) for e in first.errors] == [
        (4, "project_code_region"),
        (5, "end_before_start"),
        (6, "land_area_inconsistent"),
        (7, "uscc_check_character"),
        (8, "duplicate_code_in_file"),
    ]
    assert first.errors[2]["field"] == "land_area_m2"

    # Step. The same file again: nothing new in the log, the same rows reported.
    written = container.app.max_position()
    second = import_projects(
        container.projects, Invocation(IMPORTER, "req-import-2"), ImportProjects(list(read_rows(path)))
    )
    assert (second.imported, second.unchanged) == (0, 2)
    assert container.app.max_position() == written
    assert [(e["row"], e["rule"]) for e in second.errors] == [(e["row"], e["rule"]) for e in first.errors]

    # Step. Imported rows are events of channel import with the historical business date.
    project = container.projects.get(good[0])
    generated = project.collect_events() or list(container.app.repository.event_store.get(project.id))
    event = generated[0]
    assert str(event.channel) == "import"  # type: ignore[attr-defined]
    assert event.business_date == date(2019, 2, 20)  # type: ignore[attr-defined]
