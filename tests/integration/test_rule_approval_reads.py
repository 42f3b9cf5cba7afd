"""智能审批 reads what it must know from aggregates, not by waiting for a read model: with the
projection engine never run, a case is still approved by rule on the site-selection opinion just
issued (found through the approval of GJ-1-02 in the log), and a project with a plan conflict still
goes to a person. SQLite and PostgreSQL."""

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
from application.commands.blueprint import ImportZone
from application.commands.cases import AcceptCase, ApproveCase, SubmitCase
from application.commands.licences import IssueLicence
from application.commands.projects import GenerateProject, SupplyLand
from application.commands.seals import RegisterSeal
from application.policy import Actor
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET

OWNER = "91460000MA5T0P3X64"
ADMIN = Actor("admin-1", "admin", "460000-admin", "460000")
CLERK = Actor("clerk-1", "window_clerk", "460100-zwfw", "460100")
APPLICANT = Actor("applicant-1", "applicant", OWNER, "460100")
APPROVER = Actor("zhang", "approver", "460100-zrzy", "460100")
START = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
RED = {"type": "Polygon", "coordinates": [[[110.6, 19.6], [110.602, 19.6], [110.602, 19.602], [110.6, 19.6]]]}
ZONE_SHAPE = {"type": "Polygon", "coordinates": [[[110.59, 19.59], [110.61, 19.59], [110.61, 19.61], [110.59, 19.59]]]}


@pytest.fixture
def container(store_url: str, tmp_path: Path) -> Iterator[Container]:
    settings = Settings(database_url=store_url, jwt_secret=JWT_SECRET, keystore_path=str(tmp_path / "keys"))
    c = bootstrap(settings, clock=SimulatedClock(START))
    try:
        yield c
    finally:
        c.close()


def ready_for_gj_1_03(c: Container, **declared: Any) -> tuple[str, int]:
    """Generated, land transferred, GJ-1-02 approved and its site-selection opinion issued (at the
    position returned)."""
    code = f"2611-460100-04-01-{uuid.uuid4().int % 10**6:06d}"
    c.projects.generate(
        Invocation(CLERK, f"gen-{code}"),
        GenerateProject(
            code=code,
            name="江东总部大厦",
            owner_name="海南测试建设有限公司",
            owner_uscc=OWNER,
            region_code="460108",
            flow_type=3,
            investment_type="enterprise",
            category="房屋建筑",
            total_investment=Decimal("52000"),
            planned_start=date(2026, 6, 1),
            planned_end=date(2028, 6, 1),
            red_line=RED,
            **declared,
        ),
    )
    c.projects.supply_land(
        Invocation(APPROVER, f"land-{code}"),
        SupplyLand(
            code, mode="transfer", red_line=RED, supplied_on=date(2026, 10, 1), contract_number=f"HT-{code[-6:]}"
        ),
    )
    case = str(
        c.cases.submit(
            Invocation(CLERK, f"c-{code}"),
            SubmitCase(project_code=code, item_code="GJ-1-02"),
        ).id
    )
    number = f"琼选字{code[-6:]}"
    c.cases.act(Invocation(CLERK, f"a-{code}"), AcceptCase(uuid.UUID(case)))
    c.cases.act(Invocation(APPROVER, f"p-{code}"), ApproveCase(uuid.UUID(case), document_number=number))
    now = c.clock.now()
    seal = c.seals.register(
        Invocation(ADMIN, f"seal-{code}"),
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
    issued = c.licences.issue(
        Invocation(APPROVER, f"lic-{code}"),
        IssueLicence(
            number=number,
            licence_type="site_selection_opinion",
            holder_name="海南测试建设有限公司",
            holder_uscc=OWNER,
            project_code=code,
            item_code="GJ-1-02",
            case_id=uuid.UUID(case),
            region_code="460108",
            valid_from=now.date(),
            valid_until=now.date() + timedelta(days=365),
            topic={"project_name": "江东总部大厦", "land_area": "40000"},
            seal_id=seal,
        ),
    )
    assert issued.position is not None
    return code, issued.position


def submit(c: Container, code: str) -> dict[str, Any]:
    return c.cases.submit(
        Invocation(APPLICANT, f"s-{code}"),
        SubmitCase(
            project_code=code,
            item_code="GJ-1-03",
            situation_codes=[],
            materials=[],
            parallel_application_id=None,
            acceptance_mode=4,
        ),
    ).to_json()


def test_a_licence_the_library_has_not_seen_is_found_through_the_log(container: Container) -> None:
    c = container
    code, issued_at = ready_for_gj_1_03(c)
    result = submit(c, code)
    # the licence library never processed the licence: the command did not wait for it
    assert c.engine.position("licence_library") < issued_at
    assert result["status_code"] == 11, result
    [rule] = [r for r in result["rule_approval"]["rules"] if r["kind"] == "licence"]
    assert rule["licence"]["number"] == f"琼选字{code[-6:]}"


def test_plan_conflicts_are_read_from_the_project_aggregate(container: Container) -> None:
    c = container
    c.blueprint.import_zone(
        Invocation(ADMIN, "zone"), ImportZone(code=f"Z-{uuid.uuid4().hex[:6]}", region_code="460108", name="测试地块", geometry=ZONE_SHAPE, land_uses=["07"], max_plot_ratio=Decimal("1.5"), height_limit_m=Decimal("24"), plan_name=""))  # fmt: skip
    code, _issued_at = ready_for_gj_1_03(c, height_m=Decimal("80"))
    result = submit(c, code)
    assert result["status_code"] == 1
    assert [(x["kind"], x["declared"], x["limit"]) for x in result["rule_approval"]["conflicts"]] == [
        ("height_limit", "80", "24")
    ]
