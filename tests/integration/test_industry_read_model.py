"""The industry read model (projections/industry.py) on SQLite and PostgreSQL: drawing sets, BIM
findings (open until a later model of the stage replaces them), surveys, multi-plan opinions and
control lines as GraphQL connections, region-scoped, personal fields withheld from analysts, the
project overview's summary, and a rebuild from zero giving the same rows."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from application.bootstrap import Container, bootstrap
from application.commands import Invocation
from application.commands.cases import SubmitCase
from application.commands.drawings import (
    ApproveDrawings,
    CheckDrawingFiles,
    CommentSheet,
    DeliverDrawings,
    RequestDrawingRevision,
    ReviseDrawings,
)
from application.commands.industry import ApproveDesign, CorrectSurvey, RecordSurvey, SubmitModel
from application.commands.multiplan import ReceiveControlLine, ReceiveOpinion
from application.commands.seals import RegisterSeal
from application.policy import Actor
from infrastructure.settings import Settings
from interfaces.graphql.context import Context
from interfaces.graphql.schema import schema
from tests.conftest import JWT_SECRET
from tests.ifc_models import Tower, ifc_model
from tests.integration.test_industry import (
    ADMIN,
    APPLICANT,
    APPROVER,
    CLERK,
    DESIGNER,
    INSTITUTE,
    PLATFORM,
    REVIEWER,
    project,
    sheets,
    signed,
    survey_buildings,
)
from tests.unit.test_blueprint import square

SUPERVISOR = Actor("sup-1", "supervisor", "hn-sup", "460000")
ANALYST = Actor("ana-1", "analyst", "hn-stat", "460000")
SANYA = Actor("sy-1", "reviewer", "460200-zjj", "460200")


@pytest.fixture
def container(store_url: str, tmp_path: Path) -> Iterator[Container]:
    c = bootstrap(
        Settings(
            database_url=store_url,
            jwt_secret=JWT_SECRET,
            wait_timeout_s=2,
            keystore_path=str(tmp_path / "seal-keys"),
        )
    )
    yield c
    c.close()


def gql(c: Container, query: str, actor: Actor = SUPERVISOR, **variables: Any) -> Any:
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=Context(c, actor)))
    assert result.errors is None, result.errors
    return result.data, result.extensions or {}


def error_code(c: Container, query: str, actor: Actor) -> str:
    result = asyncio.run(schema.execute(query, context_value=Context(c, actor)))
    assert result.errors, query
    return str(result.errors[0].extensions["code"])


def seed(c: Container) -> tuple[str, UUID]:
    """One project in 江东 with everything: opinions and a control line received before generation,
    a drawing set revised, approved and checked, three BIM models, a survey corrected."""
    code = project(c)
    unit = f"{code}-001-001"
    c.multiplan.receive_opinion(
        Invocation(PLATFORM, "op-1"), ReceiveOpinion(code, department="海口市生态环境局", conclusion="conditional", opinion="原则同意", conditions=["避让生态保护红线"], document_number="海环函-2026-1", issued_on=date(2026, 3, 1)))  # fmt: skip
    c.multiplan.receive_line(
        Invocation(PLATFORM, "cl-1"), ReceiveControlLine(code, code="STHX-01", kind="ecological_protection", name="东寨港生态保护红线", geometry=square(110.4075, 20.006, 110.41, 20.009), region_code="460108"))  # fmt: skip
    now = datetime.now(UTC)
    seal = str(
        c.seals.register(
            Invocation(ADMIN, "seal-1"),
            RegisterSeal(
                holder_org=INSTITUTE,
                name="出图专用章",
                purpose="drawings",
                algorithm="sm2-sm3",
                valid_from=now - timedelta(days=1),
                valid_until=now + timedelta(days=365),
                signers=[DESIGNER.actor_id],
            ),
        ).id
    )
    case_id = c.cases.submit(
        Invocation(CLERK, "case-1"),
        SubmitCase(project_code=code, item_code="GJ-1-02"),
    ).id

    v1, _ = sheets(b"plan v1", b"elevation v1")
    set_id = c.drawings.deliver(
        Invocation(APPLICANT, "d-1"),
        DeliverDrawings(case_id, "architecture", "海南测试设计研究院", INSTITUTE, v1, signed(c, seal, v1)),
    ).id
    c.drawings.comment(Invocation(REVIEWER, "r-1"), CommentSheet(set_id, "JS-02", "立面图层数标注与平面不符"))
    c.drawings.request_revision(Invocation(REVIEWER, "r-2"), RequestDrawingRevision(set_id, "见意见"))
    v2, files = sheets(b"plan v1", b"elevation v2")
    c.drawings.revise(Invocation(APPLICANT, "d-2"), ReviseDrawings(set_id, v2, signed(c, seal, v2)))
    c.drawings.approve(Invocation(APPROVER, "a-1"), ApproveDrawings(set_id))
    files["JS-01"] = b"plan v1, quietly edited"
    checked = [{"number": n, "content": b} for n, b in files.items()]
    c.drawings.check_files(Invocation(REVIEWER, "chk"), CheckDrawingFiles(set_id, checked))
    # BIM: a design over the height limit, replaced by a compliant one (approved), a completion 10 % larger
    tall = ifc_model(Tower("1号楼", 21, 950, unit_work_code=unit))
    c.industry.submit_model(Invocation(APPLICANT, "m-1"), SubmitModel(code, "design", tall, "tall.ifc"))
    design = ifc_model(Tower("1号楼", 20, 1000, unit_work_code=unit))
    ok = c.industry.submit_model(Invocation(APPLICANT, "m-2"), SubmitModel(code, "design", design, "ok.ifc"))
    c.industry.approve_design(Invocation(REVIEWER, "ap-1"), ApproveDesign(code, ok.model_id))
    built = ifc_model(Tower("1号楼", 20, 1100, unit_work_code=unit))
    c.industry.submit_model(Invocation(APPLICANT, "m-3"), SubmitModel(code, "completion", built, "built.ifc"))
    fields: dict[str, Any] = {
        "report_number": "CH-2028-001", "report_sha256": "ab" * 32, "surveyed_on": date(2028, 5, 20),
        "footprint": square(110.4065, 20.0065, 110.4075, 20.0075),
    }  # fmt: skip
    surveyor = {"surveyor": "海南测绘院", "surveyor_uscc": INSTITUTE}
    c.industry.record_survey(
        Invocation(CLERK, "s-1"), RecordSurvey(code, buildings=survey_buildings(unit), **surveyor, **fields)
    )
    c.industry.correct_survey(
        Invocation(CLERK, "s-2"), CorrectSurvey(code, "复测", buildings=survey_buildings(unit, "1100"), **fields)
    )
    c.engine.catch_up()
    return code, set_id


LISTS = """query($code: String!) {
  drawingSets(filter: {projectCode: $code}) { totalCount edges { node {
    id status version sheetCount comments openComments approvedVersion approvedSetHash
    approvedSheets { number sha256 } designInstitute instituteUscc lastCheckIntact lastCheckChanged regionCode } } }
  open: bimFindings(filter: {projectCode: $code}) { totalCount edges { node {
    stage rule element { globalId ifcType name } value limit open } } }
  all: bimFindings(filter: {projectCode: $code, includeClosed: true}) { totalCount }
  heights: bimFindings(filter: {rule: "height_limit", includeClosed: true}) { totalCount }
  bimModels(filter: {projectCode: $code}) { edges { node { stage approved findingCount grossFloorAreaM2 } } }
  jointSurveys(filter: {withFindings: true}) { edges { node {
    projectCode surveyor surveyorUscc reportNumber grossFloorAreaM2 findingCount corrections } } }
  preProjectOpinions(filter: {projectCode: $code}) { edges { node { department conclusion opinion conditions } } }
  controlLines(filter: {projectCode: $code}) { edges { node { code kind regionCode } } }
}"""


def test_the_lists_show_every_industry_system_in_scope_with_personal_fields_withheld_from_analysts(
    container: Container,
) -> None:
    c = container
    code, set_id = seed(c)
    data, _ = gql(c, LISTS, code=code)
    [drawing] = [e["node"] for e in data["drawingSets"]["edges"]]
    assert drawing["id"] == str(set_id) and drawing["status"] == "approved" and drawing["version"] == 2
    assert drawing["approvedVersion"] == 2 and drawing["comments"] == 1 and drawing["openComments"] == 0
    assert [s["number"] for s in drawing["approvedSheets"]] == ["JS-01", "JS-02"]
    assert drawing["lastCheckIntact"] is False and drawing["lastCheckChanged"] == ["JS-01"]
    assert drawing["instituteUscc"] == INSTITUTE and drawing["regionCode"] == "460108"
    # the tall design's height finding was replaced by the compliant design: only completion findings are open
    opened = [e["node"] for e in data["open"]["edges"]]
    assert {f["stage"] for f in opened} == {"completion"} and "area_delta" in {f["rule"] for f in opened}
    assert data["all"]["totalCount"] == data["open"]["totalCount"] + 1 and data["heights"]["totalCount"] == 1
    models = [e["node"] for e in data["bimModels"]["edges"]]
    assert [(m["stage"], m["approved"]) for m in models] == [("design", False), ("design", True), ("completion", False)]
    [survey] = [e["node"] for e in data["jointSurveys"]["edges"]]
    assert survey["grossFloorAreaM2"] == "22000.00" and survey["corrections"] == 1 and survey["findingCount"] == 2
    [opinion] = [e["node"] for e in data["preProjectOpinions"]["edges"]]
    assert opinion["conclusion"] == "conditional" and opinion["conditions"] == ["避让生态保护红线"]
    assert [e["node"] for e in data["controlLines"]["edges"]] == [
        {"code": "STHX-01", "kind": "ecological_protection", "regionCode": "460108"}
    ]
    # an analyst counts the same rows but sees no institute, surveyor or opinion text
    seen, extensions = gql(c, LISTS, ANALYST, code=code)
    node = seen["drawingSets"]["edges"][0]["node"]
    assert node["designInstitute"] is None and node["instituteUscc"] is None and node["approvedSetHash"]
    assert seen["jointSurveys"]["edges"][0]["node"]["surveyorUscc"] is None
    assert seen["preProjectOpinions"]["edges"][0]["node"]["opinion"] is None
    assert "DrawingSetNode.instituteUscc" in extensions["personalData"]["withheld"]
    assert INSTITUTE not in str(seen) and "原则同意" not in str(seen)
    # another region sees nothing; an applicant may not list across projects
    elsewhere, _ = gql(c, LISTS, SANYA, code=code)
    assert elsewhere["drawingSets"]["totalCount"] == 0 and elsewhere["all"]["totalCount"] == 0
    assert elsewhere["controlLines"]["edges"] == []
    assert error_code(c, "{ drawingSets { totalCount } }", APPLICANT) == "FORBIDDEN"


def test_findings_page_with_cursors_and_the_project_overview_shows_the_summary(container: Container) -> None:
    c = container
    code, _ = seed(c)
    query = "query($a: String) { bimFindings(filter: {includeClosed: true}, first: 1, after: $a) {"
    query += " edges { cursor node { rule stage } } pageInfo { hasNextPage endCursor } } }"
    seen, after = [], None
    while True:
        page = gql(c, query, a=after)[0]["bimFindings"]
        seen += [e["node"]["rule"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    whole = gql(c, "{ bimFindings(filter: {includeClosed: true}, first: 100) { edges { node { rule } } } }")[0]
    assert seen == [e["node"]["rule"] for e in whole["bimFindings"]["edges"]] and len(seen) >= 3
    assert seen[0] == "height_limit"  # in the order recorded: the tall design came first
    overview = """query($code: String!) { project(code: $code) { industryOverview {
      preProjectOpinions { department conclusion } controlLines { code kind }
      drawingSets { discipline status } openBimFindings survey { reportNumber findingCount } } } }"""
    o = gql(c, overview, REVIEWER, code=code)[0]["project"]["industryOverview"]
    assert o["preProjectOpinions"] == [{"department": "海口市生态环境局", "conclusion": "conditional"}]
    assert o["controlLines"] == [{"code": "STHX-01", "kind": "ecological_protection"}]
    assert o["drawingSets"] == [{"discipline": "architecture", "status": "approved"}]
    assert o["openBimFindings"] >= 1 and o["survey"] == {
        "reportNumber": "CH-2028-001",
        "findingCount": 2,
    }  # unit work area, area against the design


def test_opinions_received_before_generation_join_their_region_once_the_project_exists(container: Container) -> None:
    c = container
    code = f"2611-460100-04-01-{uuid.uuid4().int % 10**6:06d}"
    c.multiplan.receive_opinion(
        Invocation(PLATFORM, "op-9"), ReceiveOpinion(code, department="海口市水务局", conclusion="agree", opinion="同意", conditions=[], document_number="海水函-1", issued_on=date(2026, 3, 2)))  # fmt: skip
    position = c.app.max_position()
    c.engine.catch_up()
    query = "query($p: Int) { preProjectOpinions(atLeast: $p) { totalCount edges { node { regionCode } } } }"
    province = gql(c, query, p=position)[0]["preProjectOpinions"]
    assert province["totalCount"] == 1 and province["edges"][0]["node"]["regionCode"] is None
    assert gql(c, query, REVIEWER, p=position)[0]["preProjectOpinions"]["totalCount"] == 0  # no region yet


def test_a_rebuild_from_zero_gives_the_same_rows(container: Container) -> None:
    c = container
    seed(c)
    model = c.engine.models["industry"]
    before = {t: sorted(map(str, c.db.query(f"SELECT * FROM {t}"))) for t in model.tables}
    assert all(before[t] for t in model.tables)
    c.engine.rebuild("industry")
    assert {t: sorted(map(str, c.db.query(f"SELECT * FROM {t}"))) for t in model.tables} == before


def test_data_quality_counts_open_bim_findings_and_survey_discrepancies_per_region(container: Container) -> None:
    c = container
    code, _ = seed(c)
    open_findings = gql(c, '{ bimFindings(filter: {regionCode: "460108"}) { totalCount } }')[0]
    quality = "query($r: String) { dataQuality(filter: {regionCode: $r}) { category rule count examples } }"
    rows = {r["rule"]: r for r in gql(c, quality, r="460108")[0]["dataQuality"]}
    bim, survey = rows["open_bim_findings"], rows["survey_discrepancies"]
    assert bim["category"] == survey["category"] == "industry_findings"
    assert bim["count"] == open_findings["bimFindings"]["totalCount"] >= 1
    assert bim["examples"] == [f"{code}: {bim['count']}"] and survey["count"] == 2
    elsewhere = {r["rule"]: r for r in gql(c, quality, r="460200")[0]["dataQuality"]}
    assert elsewhere["open_bim_findings"]["count"] == elsewhere["survey_discrepancies"]["count"] == 0
