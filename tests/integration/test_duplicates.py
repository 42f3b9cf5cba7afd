"""智能查重 on SQLite and PostgreSQL: a seeded set of known duplicates (legacy and current codes of one
project, a renamed owner's project on an overlapping red line, a project transferred to another
owner, one owner's near-identical names) among near-misses (one owner's other projects, a second
phase next door, a look-alike name in another city): every true pair is a candidate, no other pair
reaches the threshold; after a merge the pair is gone and the alias answers with the canonical
project in `project`, `auditTrail`, `cases`, `warnings` and `licences`; dataQuality reports them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from application.bootstrap import Container, bootstrap
from application.commands import Invocation
from application.commands.cases import SubmitCase
from application.commands.projects import GenerateProject, MergeProject, SupplyLand
from application.policy import Actor
from infrastructure.settings import Settings
from interfaces.graphql.context import Context
from interfaces.graphql.schema import schema
from projections.duplicates import RULES, Duplicates
from tests.conftest import JWT_SECRET
from tests.unit.test_blueprint import square

OWNER = "91460000MA5T0P3X64"  # 海南测试建设有限公司
CITY_INVEST = "914403001922038216"  # 海南城投, renamed during the seeded period
CLERK = Actor("clerk-1", "window_clerk", "hn-window", "460000")
SUPERVISOR = Actor("sup-1", "supervisor", "hn-sup", "460000")
ANALYST = Actor("ana-1", "analyst", "hn-stat", "460000")
SANYA_SUPERVISOR = Actor("sup-2", "supervisor", "sy-sup", "460200")

# Known duplicates (code → the code it duplicates) and near-misses; red lines in Haikou (江东) and Sanya.
LEGACY = "2019-460100-70-01-234560"  # 江东总部大厦, before 2020-11, no red line
CURRENT = "2611-460100-04-01-234567"  # the same building, current code
PARK = "2603-460100-04-01-300001"  # 海口湾滨海公园 of 海南城投
PARK_RENAMED = "2611-460100-04-01-300002"  # its upgrade, filed after the owner was renamed; 80 % overlap
MARKET = "2605-460100-04-01-310001"  # 江东农贸市场
MARKET_TRANSFERRED = "2610-460100-04-01-310002"  # the same market and land, transferred to 海南城投
LOGISTICS = "2604-460100-04-01-400001"  # 美兰空港物流园（一期）
LOGISTICS_AGAIN = "2611-460100-04-01-400002"  # 美兰空港物流园(一期)项目: the same, no red lines
PHASE_TWO = "2611-460100-04-01-245678"  # 江东总部大厦二期, next to the first phase (no overlap)
SEWAGE = "2611-460100-04-01-500001"  # the owner's other project, far away
SANYA_PARK = "2611-460200-04-01-600001"  # 三亚湾滨海公园: the owner's look-alike of PARK, in Sanya

TRUE_PAIRS = {
    tuple(sorted(p))
    for p in (
        (LEGACY, CURRENT),
        (PARK, PARK_RENAMED),
        (MARKET, MARKET_TRANSFERRED),
        (LOGISTICS, LOGISTICS_AGAIN),
    )
}
TOWER = (110.40, 20.00, 110.402, 20.002)


@pytest.fixture
def container(store_url: str) -> Iterator[Container]:
    c = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET, wait_timeout_s=2))
    yield c
    c.engine.stop()
    c.close()


def generate(
    container: Container,
    code: str,
    name: str,
    *,
    owner: str = OWNER,
    owner_name: str = "海南测试建设有限公司",
    region: str = "460108",
    box: tuple[float, float, float, float] | None = None,
) -> dict[str, Any]:
    return container.projects.generate(
        Invocation(CLERK, f"req-{code}"),
        GenerateProject(
            code=code,
            name=name,
            owner_name=owner_name,
            owner_uscc=owner,
            region_code=region,
            flow_type=3,
            investment_type="enterprise",
            category="房屋建筑",
            total_investment=Decimal("5000"),
            planned_start=date(2026, 6, 1),
            planned_end=date(2028, 6, 1),
            red_line=square(*box) if box else None,
        ),
    ).to_json()


@pytest.fixture
def seeded(container: Container) -> Container:
    city = {"owner": CITY_INVEST, "owner_name": "海南城投有限公司"}
    generate(container, LEGACY, "江东总部大厦")
    generate(container, CURRENT, "江东总部大厦项目", box=TOWER)
    generate(container, PARK, "海口湾滨海公园", box=(110.30, 20.03, 110.31, 20.04), **city)
    generate(
        container,
        PARK_RENAMED,
        "海口湾滨海公园提升改造",
        owner=CITY_INVEST,
        owner_name="海南城市投资发展集团有限公司",
        box=(110.302, 20.03, 110.312, 20.04),
    )
    generate(container, MARKET, "江东农贸市场", box=(110.41, 20.01, 110.412, 20.012))
    generate(container, MARKET_TRANSFERRED, "江东农贸市场", box=(110.41, 20.01, 110.412, 20.012), **city)
    generate(container, LOGISTICS, "美兰空港物流园（一期）")
    generate(container, LOGISTICS_AGAIN, "美兰空港物流园(一期)项目")
    generate(container, PHASE_TWO, "江东总部大厦二期", box=(110.402, 20.00, 110.404, 20.002))
    generate(container, SEWAGE, "江东污水处理厂", box=(110.48, 20.05, 110.49, 20.06))
    generate(
        container,
        SANYA_PARK,
        "三亚湾滨海公园",
        region="460202",
        box=(109.45, 18.25, 109.46, 18.26),
    )
    container.engine.catch_up()
    return container


def run(container: Container, query: str, actor: Actor = SUPERVISOR, **variables: Any) -> Any:
    container.engine.catch_up()
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=Context(container, actor)))
    assert result.errors is None, result.errors
    return result.data


def expect_error(container: Container, query: str, actor: Actor, code: str, **variables: Any) -> None:
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=Context(container, actor)))
    assert result.errors and result.errors[0].extensions["code"] == code, result.errors


CANDIDATES = """query($f: DuplicateFilter, $first: Int = 20, $after: String) {
  duplicateCandidates(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { codeA codeB score reasons
      signals { sameOwner nameSimilarity redLineOverlap sameRegion legacyAndCurrentCode }
      projectA { code owner { name } } projectB { code } } } } }"""


def pairs(data: Any) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["node"]["codeA"], e["node"]["codeB"]): e["node"] for e in data["duplicateCandidates"]["edges"]}


def test_every_known_duplicate_is_a_candidate_and_no_near_miss_reaches_the_threshold(seeded: Container) -> None:
    found = pairs(run(seeded, CANDIDATES))
    assert set(found) == TRUE_PAIRS
    scores = [e["score"] for e in found.values()]
    assert all(s >= RULES.threshold for s in scores)

    legacy = found[(LEGACY, CURRENT)]
    assert legacy["reasons"] == ["同一建设单位", "名称相似 1.00", "旧版/新版代码", "同一区域 460100"]
    assert legacy["signals"]["legacyAndCurrentCode"] and legacy["signals"]["redLineOverlap"] is None
    park = found[(PARK, PARK_RENAMED)]
    assert park["reasons"][0] == "同一建设单位（已更名：海南城投有限公司 / 海南城市投资发展集团有限公司）"
    assert "红线重叠 80%" in park["reasons"]
    market = found[(MARKET, MARKET_TRANSFERRED)]
    assert not market["signals"]["sameOwner"] and market["signals"]["redLineOverlap"] == pytest.approx(1.0)
    assert found[(LOGISTICS, LOGISTICS_AGAIN)]["projectA"] == {
        "code": LOGISTICS,
        "owner": {"name": "海南测试建设有限公司"},
    }

    # Step. Below the threshold the near-misses show up with their (weaker) reasons, never the far ones.
    weak = pairs(run(seeded, CANDIDATES, f={"minScore": RULES.keep_from}, first=50))
    assert (CURRENT, PHASE_TWO) in weak and weak[(CURRENT, PHASE_TWO)]["score"] < RULES.threshold
    assert not [pair for pair in weak if SANYA_PARK in pair]  # the look-alike in Sanya is not even weak


def test_pages_follow_the_score_and_the_region_scope_keeps_both_projects_inside(seeded: Container) -> None:
    first = run(seeded, CANDIDATES, first=3)["duplicateCandidates"]
    assert first["totalCount"] == 4 and first["pageInfo"]["hasNextPage"]
    rest = run(seeded, CANDIDATES, first=3, after=first["pageInfo"]["endCursor"])["duplicateCandidates"]
    assert not rest["pageInfo"]["hasNextPage"]
    scores = [e["node"]["score"] for e in first["edges"] + rest["edges"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 4

    assert run(seeded, CANDIDATES, SANYA_SUPERVISOR)["duplicateCandidates"]["totalCount"] == 0
    assert run(seeded, CANDIDATES, f={"regionCode": "460108"})["duplicateCandidates"]["totalCount"] == 4
    assert run(seeded, CANDIDATES, ANALYST)["duplicateCandidates"]["totalCount"] == 4
    expect_error(seeded, CANDIDATES, CLERK, "FORBIDDEN")
    expect_error(seeded, CANDIDATES, SUPERVISOR, "BAD_USER_INPUT", f={"minScore": 1.5})


def test_a_red_line_moved_off_the_other_project_drops_the_pair(seeded: Container) -> None:
    """Land supply replaces the red line: the renamed owner's park is rescored without the overlap."""
    approver = Actor("approver-1", "approver", "hk-zrzy", "460100")
    seeded.projects.supply_land(
        Invocation(approver, "req-land"),
        SupplyLand(
            PARK_RENAMED,
            mode="allocation",
            red_line=square(110.33, 20.03, 110.34, 20.04),
            supplied_on=date(2026, 5, 6),
            contract_number=None,
        ),
    )
    found = pairs(run(seeded, CANDIDATES, f={"minScore": RULES.keep_from}))
    assert found[(PARK, PARK_RENAMED)]["score"] < RULES.threshold
    assert "红线重叠" not in " ".join(found[(PARK, PARK_RENAMED)]["reasons"])


ALIAS = """query($code: String!) {
  project(code: $code) { code mergedCodes }
  auditTrail(subject: $code, first: 50) { totalCount edges { node { eventType position } } }
  cases(filter: {projectCode: $code}) { totalCount edges { node { id projectCode } } }
  warnings(filter: {projectCode: $code}) { totalCount edges { node { rule projectCode } } }
  licenses(filter: {projectCode: $code}) { totalCount }
}"""

QUALITY = """{ dataQuality { category rule count examples } }"""


def submit(container: Container, code: str) -> str:
    answer = container.cases.submit(
        Invocation(CLERK, f"req-case-{code}"),
        SubmitCase(project_code=code, item_code="GJ-1-02"),
    )
    return str(answer.id)


def test_after_a_merge_the_pair_is_gone_and_every_query_by_the_alias_answers_with_the_canonical(
    seeded: Container,
) -> None:
    before = {r["rule"]: r for r in run(seeded, QUALITY)["dataQuality"]}["score_over_threshold"]
    assert before["count"] == 4 and any(e.startswith(f"{LEGACY} ≈ {CURRENT} (") for e in before["examples"])
    case_on_alias, case_on_canonical = submit(seeded, LEGACY), submit(seeded, CURRENT)
    alone = run(seeded, ALIAS, code=LEGACY)
    assert alone["project"]["code"] == LEGACY and alone["cases"]["totalCount"] == 1
    codes = Duplicates(seeded.db)
    assert codes.family(LEGACY) == [LEGACY] and codes.family("2611-460100-04-01-999999") == ["2611-460100-04-01-999999"]

    # Step. The supervisor merges the legacy code into the current one.
    seeded.projects.merge(
        Invocation(SUPERVISOR, "req-merge"), MergeProject(LEGACY, canonical_code=CURRENT, reason="旧版代码重复赋码")
    )
    by_alias, by_canonical = run(seeded, ALIAS, code=LEGACY), run(seeded, ALIAS, code=CURRENT)
    assert by_alias == by_canonical
    assert codes.family(LEGACY) == codes.family(CURRENT) == [CURRENT, LEGACY]  # the alias: from its canonical
    assert by_alias["project"] == {"code": CURRENT, "mergedCodes": [LEGACY]}
    assert {e["node"]["id"] for e in by_alias["cases"]["edges"]} == {case_on_alias, case_on_canonical}
    assert by_alias["cases"]["totalCount"] == 2
    trail = [e["node"] for e in by_alias["auditTrail"]["edges"]]
    assert by_alias["auditTrail"]["totalCount"] == len(trail)  # the merge, about both codes, once
    assert [t["eventType"] for t in trail].count("Project.MergedInto") == 1
    assert {"Project.Generated", "Project.DuplicateAbsorbed", "Case.Received"} <= {t["eventType"] for t in trail}
    assert [t["position"] for t in trail] == sorted(t["position"] for t in trail)
    # W8 (same owner, similar names) was raised on the current code and is found by the legacy one
    assert any(w["node"]["rule"] == "W8" and w["node"]["projectCode"] == CURRENT for w in by_alias["warnings"]["edges"])

    # Step. The merged pair left the candidates and the review report; the other three stay.
    assert set(pairs(run(seeded, CANDIDATES))) == TRUE_PAIRS - {(LEGACY, CURRENT)}
    after = {r["rule"]: r for r in run(seeded, QUALITY)["dataQuality"]}
    assert after["score_over_threshold"]["count"] == 3
    assert after["score_over_threshold"]["category"] == "duplicate_candidates"
    assert after["case_on_merged_project"]["count"] == 1  # the alias's case still names the legacy code


def test_a_rebuild_gives_the_same_candidates(seeded: Container) -> None:
    seeded.projects.merge(
        Invocation(SUPERVISOR, "req-merge"), MergeProject(LOGISTICS_AGAIN, canonical_code=LOGISTICS, reason="重复")
    )
    seeded.engine.catch_up()
    tables = ("dup_projects", "dup_blocks", "dup_candidates")
    before = {t: sorted(map(str, seeded.db.query(f"SELECT * FROM {t}"))) for t in tables}
    seeded.engine.rebuild("duplicates")
    assert {t: sorted(map(str, seeded.db.query(f"SELECT * FROM {t}"))) for t in tables} == before
