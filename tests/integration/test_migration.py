"""在建工程迁移 on SQLite and PostgreSQL: projects under construction come in with their licences
(docs/examples/migration.csv, the file docs/operations.md shows), their remaining stages continue
through the REST API, the licences are in the library, the audit trail and GraphQL with their
provenance; a file with bad rows writes nothing and names every row and column; a re-run writes
nothing; a spreadsheet reads like its CSV."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from application.bootstrap import Container, bootstrap
from application.commands import Invocation
from application.commands.migration import MigrateProjects
from application.commands.projects import GenerateProject
from application.commands.seals import RegisterSeal
from application.migration import MigrationReport, MigrationService, check_header, read_table
from application.policy import LICENCE_ISSUER, Actor
from domain.approvals import Case, CaseStatus
from domain.approvals.migration import migrated_case_id
from domain.licences import License, licence_id
from infrastructure.settings import Settings
from interfaces.graphql.context import Context
from interfaces.graphql.schema import schema
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import auth, serving

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "migration.csv"
BUILDING = "2023-460100-48-01-000101"  # 安置房二期: up to its construction permit (GJ-3-03)
CENTRE = "2024-460100-48-01-000102"  # 社区服务中心: filing and site selection only
ADMIN = Actor("admin-1", "admin", "ops", "460000")
SUPERVISOR = Actor("sup-1", "supervisor", "hn-sup", "460000")
MIGRATOR = Actor("cli-integration", "integration", "gongjian", "460000")
CLERK = auth("window_clerk", org="460100-zwfw")


@pytest.fixture
def container(store_url: str, tmp_path: Path) -> Iterator[Container]:
    c = bootstrap(
        Settings(database_url=store_url, jwt_secret=JWT_SECRET, keystore_path=str(tmp_path / "keys"), wait_timeout_s=2)
    )
    yield c
    c.engine.stop()
    c.close()


def register_seals(c: Container, *orgs: str) -> None:
    """Each department authorises the system signer on its seal (the opt-in of automatic issue)."""
    now = datetime.now(UTC)
    for org in orgs:
        fields = {
            "holder_org": org,
            "name": f"{org} 行政审批专用章",
            "purpose": "licence",
            "algorithm": "ed25519",
            "valid_from": now - timedelta(days=1),
            "valid_until": now + timedelta(days=365),
            "signers": [LICENCE_ISSUER.actor_id],
        }
        c.seals.register(Invocation(ADMIN, f"seal-{org}"), RegisterSeal(**fields))


@pytest.fixture
def sealed(container: Container) -> Container:
    register_seals(container, "460100-zrzy", "460100-zjj")
    return container


def migrate(c: Container, path: Path, request_id: str = "req-migrate") -> MigrationReport:
    header, rows = read_table(path)
    check_header(header)
    service = MigrationService(c.projects, c.licences.keys)
    return service.migrate(Invocation(MIGRATOR, request_id), MigrateProjects("王迁移", path, rows))


def gql(c: Container, query: str, **variables: Any) -> Any:
    c.engine.catch_up()
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=Context(c, SUPERVISOR)))
    assert result.errors is None, result.errors
    return result.data


def example_rows() -> list[dict[str, str]]:
    with EXAMPLE.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


LICENCE = """query($number: String!) { license(number: $number) {
  number type itemCode projectCode validFrom status
  provenance { sourceFile sourceSha256 row migratedBy issuingAuthority } } }"""
TRAIL = """query($subject: String!) { auditTrail(subject: $subject, first: 100) {
  edges { node { eventType channel businessTime data } } } }"""


def test_a_migrated_project_with_its_construction_permit_files_completion_acceptance_through_rest(
    sealed: Container,
) -> None:
    c = sealed
    expected = example_rows()
    sha256 = hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    # Step. Migrate the documented example: 2 projects, 7 approvals, 6 of them issue a licence.
    report = migrate(c, EXAMPLE)
    assert report.errors == []
    licensing = [r for r in expected if r["item_code"] != "GJ-1-01"]  # 企业投资项目备案 issues no licence
    assert (report.rows, report.projects, report.approvals, report.licences) == (7, 2, 7, len(licensing))

    # Step. Each licence is a License.Issued of channel import, with the row it came from.
    for row_number, row in enumerate(expected, start=2):
        case = c.cases.get(migrated_case_id(row["code"], row["item_code"], row["licence_number"]))
        assert case.status == CaseStatus.APPROVED and case.provenance is not None
        assert case.provenance["row"] == row_number and case.provenance["source_sha256"] == sha256
        if row["item_code"] == "GJ-1-01":
            assert c.licences.find(License, licence_id(row["licence_number"])) is None
            continue
        licence = c.licences.get(row["licence_number"])
        assert licence.valid_from == date.fromisoformat(row["issued_on"])
        assert licence.provenance == {
            "source_file": "migration.csv",
            "source_sha256": sha256,
            "row": row_number,
            "migrated_by": "王迁移",
            "issuing_authority": row["issuing_authority"],
        }
        [stored] = c.app.recorder.select_events(licence.id)
        assert json.loads(stored.state)["channel"] == "import"

    # Step. The remaining stages continue: 规划条件核实 (GJ-4-01) needs the construction permit.
    with serving(c) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        filed = http.post("/api/v1/cases", json={"project_code": BUILDING, "item_code": "GJ-4-01"}, headers=CLERK)
        assert filed.status_code == 201, filed.text
        # the community centre migrated only stage 1 up to site selection: GJ-2-01 lacks GJ-1-03
        early = http.post("/api/v1/cases", json={"project_code": CENTRE, "item_code": "GJ-2-01"}, headers=CLERK)
        assert early.status_code == 409 and "GJ-1-03" in early.text, early.text
        allowed = http.post("/api/v1/cases", json={"project_code": CENTRE, "item_code": "GJ-1-03"}, headers=CLERK)
        assert allowed.status_code == 201, allowed.text

    # Step. The licence library and GraphQL show the provenance.
    permit = next(r for r in expected if r["item_code"] == "GJ-3-03")
    data = gql(c, LICENCE, number=permit["licence_number"])["license"]
    assert data["type"] == "construction_permit" and data["projectCode"] == BUILDING
    assert data["validFrom"] == permit["issued_on"] and data["status"] == "VALID"
    assert data["provenance"] == {
        "sourceFile": "migration.csv",
        "sourceSha256": sha256,
        "row": expected.index(permit) + 2,
        "migratedBy": "王迁移",
        "issuingAuthority": "海口市住房和城乡建设局",
    }
    [library_row] = c.db.query("SELECT provenance FROM licences WHERE number = ?", (permit["licence_number"],))
    assert json.loads(library_row["provenance"])["source_sha256"] == sha256

    # Step. The project's audit trail holds the migrated approvals and licences, with their provenance.
    nodes = [e["node"] for e in gql(c, TRAIL, subject=BUILDING)["auditTrail"]["edges"]]
    migrated = [n for n in nodes if n["eventType"] in ("Case.BackEntered", "License.Issued")]
    assert len(migrated) == 2 * sum(1 for r in expected if r["code"] == BUILDING)
    assert {n["channel"] for n in migrated} == {"import"}
    assert all(n["data"]["provenance"]["issuing_authority"] for n in migrated)
    assert nodes[0]["eventType"] == "Project.Generated" and nodes[0]["businessTime"].startswith("2023-02-10")


def test_the_same_file_again_writes_nothing(sealed: Container) -> None:
    c = sealed
    first = migrate(c, EXAMPLE)
    assert first.written
    written = c.app.max_position()
    again = migrate(c, EXAMPLE, "req-again")
    assert (again.projects, again.approvals, again.licences, again.unchanged) == (0, 0, 0, 7)
    assert again.errors == [] and not again.written
    assert c.app.max_position() == written


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_written(sealed: Container, tmp_path: Path) -> None:
    c = sealed
    migrate(c, EXAMPLE)  # its licence numbers are now taken
    taken = example_rows()[4]["licence_number"]  # the construction permit of 安置房二期
    rows = example_rows()
    for row in rows:
        row["code"] = row["code"].replace("-0001", "-0002")  # two new projects with new numbers
        row["licence_number"] += "B"
    rows[1]["issued_on"] = "2023-04-31"  # row 3: no such day
    rows[2]["item_code"] = "GJ-9-99"  # row 4: not in the catalogue
    rows[3]["topic.review_org"] = ""  # row 5: a required topic field of the drawing review certificate
    rows[4]["licence_number"] = taken  # row 6: the number belongs to another project's licence
    rows[6]["owner_name"] = "另一家公司"  # row 8: a later row of project 2 with other project cells
    rows.append({**rows[5], "owner_name": "", "name": "", "item_code": "GJ-1-03"})  # row 9: number of row 7
    rows[5]["issued_on"] = (date.today() + timedelta(days=2)).isoformat()  # row 7: not issued yet
    path = _write(tmp_path / "bad.csv", rows)
    before = c.app.max_position()

    report = migrate(c, path, "req-bad")
    assert [(e["row"], e["column"], e["rule"]) for e in report.errors] == [
        (3, "issued_on", "date"),
        (4, "item_code", "item_unknown"),
        (5, "topic.review_org", "required"),
        (6, "licence_number", "licence_number_taken"),
        (7, "issued_on", "occurred_in_future"),
        (8, "owner_name", "project_cells_differ"),
        (9, "licence_number", "duplicate_number_in_file"),
    ]
    assert not report.written and c.app.max_position() == before
    assert c.projects.find(Case, migrated_case_id(rows[0]["code"], "GJ-1-02", rows[0]["licence_number"])) is None

    # Step. Without a seal the system signer may use, a licensing row is refused too.
    sanya = {"code": "2023-460200-48-01-000301", "region_code": "460202", "licence_number": "三亚用字第1号"}
    lone = [{**example_rows()[0], **sanya}]  # 三亚's 自然资源和规划局 has no seal here
    lone_path = _write(tmp_path / "no-seal.csv", lone)
    refused = migrate(c, lone_path, "req-no-seal")
    assert [(e["row"], e["column"], e["rule"]) for e in refused.errors] == [(2, "item_code", "no_usable_seal")]
    assert c.app.max_position() == before


def test_a_spreadsheet_reads_like_its_csv(tmp_path: Path) -> None:
    header, rows = read_table(EXAMPLE)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    typed = {"issued_on", "generated_on", "planned_start", "planned_end"}
    numbers = {"flow_type", "total_investment", "topic.land_area", "topic.building_area", "topic.contract_price"}
    for _, cells in rows:
        values: list[Any] = []
        for h in header:  # as an office program stores them: dates and numbers typed
            v = cells[h]
            values.append(date.fromisoformat(v) if v and h in typed else int(v) if v and h in numbers else v or None)
        sheet.append(values)
    sheet.append([None] * len(header))  # a formatted empty row
    book.save(tmp_path / "migration.xlsx")
    assert read_table(tmp_path / "migration.xlsx") == (header, rows)


def test_the_rows_shown_in_the_operations_guide_are_those_of_the_example_file() -> None:
    guide = (EXAMPLE.parents[1] / "operations.md").read_text(encoding="utf-8")
    section = guide[guide.index("## Migrating 在建工程") :]
    block = section[section.index("```csv\n") + len("```csv\n") :]
    shown = block[: block.index("```")].splitlines()
    assert len(shown) >= 2 and shown == EXAMPLE.read_text(encoding="utf-8").splitlines()[: len(shown)]


def test_a_project_generated_before_keeps_its_cells_and_gets_the_migrated_approvals(sealed: Container) -> None:
    c = sealed
    # Step. 安置房二期 was generated online before the migration, under another name.
    c.projects.generate(
        Invocation(MIGRATOR, "req-online"),
        GenerateProject(
            code=BUILDING,
            name="安置房二期（立项名称）",
            owner_name="海南测试建设有限公司",
            owner_uscc="91460000MA5T0P3X64",
            region_code="460108",
            flow_type=3,
            investment_type="enterprise",
            category="房屋建筑",
            total_investment=Decimal("25800"),
            planned_start=date(2023, 3, 1),
            planned_end=date(2026, 12, 31),
            red_line=None,
        ),
    )
    report = migrate(c, EXAMPLE)
    assert report.errors == [] and (report.projects, report.approvals) == (1, 7)
    project = c.projects.get(BUILDING)
    assert project.name == "安置房二期（立项名称）"
    building_items = {r["item_code"] for r in example_rows() if r["code"] == BUILDING}
    assert set(project.approved_items) == building_items
    assert c.licences.get(example_rows()[4]["licence_number"]).topic["project_name"] == project.name
