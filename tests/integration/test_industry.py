"""Industry systems on SQLite and PostgreSQL: a drawing set reviewed, revised, approved, carried
into the case's archive package and a later change of one file detected; IFC models checked against
the zone's height limit and a completion model compared with the approved design; the joint survey
recorded once and read by planning verification and the real-estate export; control lines from the
multi-plan platform in the blueprint check."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from application.archives import verify_package
from application.bootstrap import Container, bootstrap
from application.commands import Invocation
from application.commands.archives import GenerateArchive
from application.commands.blueprint import ImportZone
from application.commands.cases import AcceptCase, ApproveCase, BackEnterCase, SubmitCase
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
from application.commands.projects import GenerateProject, RegisterUnitWork
from application.commands.seals import RegisterSeal
from application.commands.signing import AddSignature, RequestSigning
from application.policy import Actor
from domain.archives import ArchivePackage
from domain.exchange import Delivery, delivery_id
from domain.industry.drawings import set_hash
from domain.shared.errors import Conflict, Forbidden, IllegalTransition, InvalidValue
from infrastructure.ledger_key import generate_key
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.ifc_models import Tower, ifc_model, storey_ids
from tests.unit.test_blueprint import INSIDE_BOTH, square

OWNER = "91460000MA5T0P3X64"
INSTITUTE = "91460100MA5T0P3X69"
ADMIN = Actor("admin-1", "admin", "ops", "460000")
APPLICANT = Actor("owner-1", "applicant", OWNER, "460100")
DESIGNER = Actor("designer-1", "applicant", INSTITUTE, "460100")
CLERK = Actor("clerk-1", "window_clerk", "460100-zwfw", "460100")
REVIEWER = Actor("reviewer-1", "reviewer", "460100-zjj", "460100")
APPROVER = Actor("approver-1", "approver", "460100-zjj", "460100")
PLATFORM = Actor("multiplan", "integration", "gongjian", "460000")


@pytest.fixture
def container(store_url: str, tmp_path: Path) -> Iterator[Container]:
    key = tmp_path / "keys" / "ledger.pem"  # not beside the SQLite file (refused outside development)
    generate_key(key)
    c = bootstrap(
        Settings(
            database_url=store_url,
            jwt_secret=JWT_SECRET,
            wait_timeout_s=2,
            keystore_path=str(tmp_path / "seal-keys"),
            ledger_key_file=str(key),
            ledger_checkpoint_every=1,
            archive_path=str(tmp_path / "archives"),
        )
    )
    yield c
    c.engine.stop()
    c.close()


def project(c: Container, zone: bool = True) -> str:
    """A project in 江东 zone HK-JD-01 (height limit 60 m, plot ratio 2.5), with one unit work."""
    if zone:
        c.blueprint.import_zone(
            Invocation(ADMIN, f"bp-{uuid.uuid4()}"),
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
            red_line=INSIDE_BOTH,
        ),
    )
    c.projects.register_unit_work(
        Invocation(CLERK, f"uw-{code}"),
        RegisterUnitWork(code, name="1号楼", floor_area_m2=Decimal("20000"), storeys=20),
    )
    return code


# --- 图纸电子化交付 ---------------------------------------------------------------------------


def sheets(*contents: bytes) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    files = {f"JS-{i + 1:02d}": content for i, content in enumerate(contents)}
    listed = [
        {"number": n, "title": f"建筑施工图 {n}", "sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}
        for n, b in files.items()
    ]
    return listed, files


def signed(c: Container, seal_id: str, listed: list[dict[str, Any]]) -> UUID:
    """The design institute signs the set hash with its seal (a real SM2 signature)."""
    request = c.signing.request(
        Invocation(DESIGNER, f"sr-{uuid.uuid4()}"),
        RequestSigning(
            document_hash=set_hash("architecture", listed),
            hash_algorithm="sm3",
            title="建筑施工图",
            parties=[{"seal_id": seal_id, "signer": DESIGNER.actor_id}],
            mode="ordered",
            mobile=False,
        ),
    )
    c.signing.sign(Invocation(DESIGNER, f"sign-{uuid.uuid4()}"), AddSignature(request.id))
    return request.id


def test_a_drawing_set_is_reviewed_revised_approved_archived_and_a_changed_file_is_detected(
    container: Container,
) -> None:
    c = container
    code = project(c, zone=False)
    now = datetime.now(UTC)
    seal = str(
        c.seals.register(
            Invocation(ADMIN, "seal-1"),
            RegisterSeal(
                holder_org=INSTITUTE,
                name="海南测试设计研究院出图专用章",
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

    # Step. Version 1 delivered, signed by the design institute.
    v1, files = sheets(b"plan v1", b"elevation v1", b"section v1")
    delivered = c.drawings.deliver(
        Invocation(APPLICANT, "d-1"),
        DeliverDrawings(case_id, "architecture", "海南测试设计研究院", INSTITUTE, v1, signed(c, seal, v1)),
    )
    set_id = delivered.id
    assert delivered.status == "under_review" and delivered.version == 1
    # Step. A signature over other sheets does not deliver anything.
    other, _ = sheets(b"something else")
    with pytest.raises(InvalidValue) as bad:
        c.drawings.revise(Invocation(APPLICANT, "d-x"), ReviseDrawings(set_id, other, signed(c, seal, v1)))
    # (not in revision yet: the state is checked after the signature is matched to the sheets)
    assert bad.value.rule == "signature_hash_mismatch"
    # Step. Review: no revision without a comment; a comment on sheet JS-02; back for revision.
    with pytest.raises(Conflict):
        c.drawings.request_revision(Invocation(REVIEWER, "r-0"), RequestDrawingRevision(set_id, "见意见"))
    with pytest.raises(Forbidden):
        c.drawings.comment(Invocation(APPLICANT, "r-x"), CommentSheet(set_id, "JS-02", "self-review"))
    c.drawings.comment(Invocation(REVIEWER, "r-1"), CommentSheet(set_id, "JS-02", "立面图层数标注与平面不符"))
    returned = c.drawings.request_revision(Invocation(REVIEWER, "r-2"), RequestDrawingRevision(set_id, "见意见"))
    assert returned.status == "revision_requested"
    with pytest.raises(IllegalTransition):
        c.drawings.approve(Invocation(APPROVER, "a-0"), ApproveDrawings(set_id))
    # Step. Version 2 changes JS-02 only and supersedes version 1; it is approved.
    v2, files = sheets(b"plan v1", b"elevation v2", b"section v1")
    revised = c.drawings.revise(Invocation(APPLICANT, "d-2"), ReviseDrawings(set_id, v2, signed(c, seal, v2)))
    assert revised.version == 2 and revised.status == "under_review"
    approved = c.drawings.approve(Invocation(APPROVER, "a-1"), ApproveDrawings(set_id))
    assert approved.approved_version == 2
    view = c.drawings.get(REVIEWER, set_id)
    assert [v["version"] for v in view["versions"]] == [1, 2]
    # Step. The case is decided and archived: the package carries the approved set's hashes.
    c.cases.act(Invocation(CLERK, "acc"), AcceptCase(case_id))
    c.cases.act(Invocation(APPROVER, "ok"), ApproveCase(case_id, document_number="琼规选-2026-001"))
    c.engine.catch_up(["ledger"])
    archived = c.archives.generate(Invocation(APPROVER, "arc"), GenerateArchive(case_id))
    data = c.archives.store.get(c.archives.load(ArchivePackage, archived.id, "archive").location)
    manifest = json.loads(data)["manifest"]
    [entry] = manifest["drawings"]
    assert entry["version"] == 2 and entry["set_hash"] == set_hash("architecture", v2)
    assert {s["number"]: s["sha256"] for s in entry["sheets"]} == {s["number"]: s["sha256"] for s in v2}
    assert verify_package(data).ok
    # Step. The files as approved are intact; a later change of one file is detected.
    as_approved = [{"number": n, "content": b} for n, b in files.items()]
    intact = c.drawings.check_files(Invocation(REVIEWER, "chk-1"), CheckDrawingFiles(set_id, as_approved))
    assert intact.intact is True
    files["JS-03"] = b"section v1, quietly edited"
    edited = [{"number": n, "content": b} for n, b in files.items()]
    changed = c.drawings.check_files(Invocation(REVIEWER, "chk-2"), CheckDrawingFiles(set_id, edited))
    assert changed.intact is False
    assert [x["sheet_number"] for x in changed.changed] == ["JS-03"]


# --- BIM 图审 ---------------------------------------------------------------------------------


def test_an_ifc_model_over_the_height_limit_is_flagged_at_its_top_storey_and_a_compliant_one_is_not(
    container: Container,
) -> None:
    c = container
    code = project(c)
    unit = f"{code}-001-001"
    # Step. 21 storeys of 3 m: 63 m against the zone's 60 m.
    tall = ifc_model(Tower("1号楼", 21, 950, unit_work_code=unit))
    result = c.industry.submit_model(Invocation(APPLICANT, "m-1"), SubmitModel(code, "design", tall, "tall.ifc"))
    [finding] = result.findings
    assert finding["rule"] == "height_limit" and finding["limit"] == "60.00" and finding["value"] == "63.00"
    assert finding["zone_code"] == "HK-JD-01"
    assert finding["element"] == {
        "global_id": storey_ids(tall)["1号楼/21F"],
        "ifc_type": "IfcBuildingStorey",
        "name": "21F",
    }
    with pytest.raises(Conflict):
        c.industry.approve_design(Invocation(REVIEWER, "ap-0"), ApproveDesign(code, result.model_id))
    # Step. 20 storeys: 60 m and 20,000 m², as declared: no finding; it becomes the approved design.
    design = ifc_model(Tower("1号楼", 20, 1000, unit_work_code=unit))
    ok = c.industry.submit_model(Invocation(APPLICANT, "m-2"), SubmitModel(code, "design", design, "ok.ifc"))
    assert ok.findings == [] and ok.height_m == "60.00" and ok.gross_floor_area_m2 == "20000.00"
    c.industry.approve_design(Invocation(REVIEWER, "ap-1"), ApproveDesign(code, ok.model_id))
    # Step. The completion model is 10 % larger on every storey: flagged against the design.
    built = ifc_model(Tower("1号楼", 20, 1100, unit_work_code=unit))
    done = c.industry.submit_model(Invocation(APPLICANT, "m-3"), SubmitModel(code, "completion", built, "built.ifc"))
    rules = {f["rule"]: f for f in done.findings}
    assert rules["area_delta"]["delta_percent"] == "10.0" and done.compared_with == ok.model_id
    assert rules["unit_work_area"]["limit"] == "20000.00"
    # Step. The same file twice at one stage is a conflict; not IFC at all is a 422.
    with pytest.raises(Conflict):
        c.industry.submit_model(Invocation(APPLICANT, "m-4"), SubmitModel(code, "completion", built, "again.ifc"))
    with pytest.raises(InvalidValue):
        c.industry.submit_model(Invocation(APPLICANT, "m-5"), SubmitModel(code, "design", b"PK\x03\x04", "x.ifc"))


# --- 联合测绘 ---------------------------------------------------------------------------------


def survey_buildings(unit: str, area: str = "1000") -> list[dict[str, Any]]:
    return [
        {
            "unit_work_code": unit,
            "height_m": "59.8",
            "storeys": [
                {"name": f"{i}F", "elevation_m": 3 * (i - 1), "height_m": 3, "gross_floor_area_m2": area}
                for i in range(1, 21)
            ],
            "units": [
                {"number": f"{i}01", "storey": f"{i}F", "use": "办公", "floor_area_m2": "900"} for i in range(1, 21)
            ],
        }
    ]


def test_the_joint_survey_is_recorded_once_and_feeds_planning_verification_and_the_real_estate_export(
    container: Container,
) -> None:
    c = container
    code = project(c)
    unit = f"{code}-001-001"
    surveyor = {"surveyor": "海南测绘院", "surveyor_uscc": INSTITUTE}
    fields: dict[str, Any] = {
        "report_number": "CH-2028-001",
        "report_sha256": "ab" * 32,
        "surveyed_on": date(2028, 5, 20),
        "footprint": square(110.4065, 20.0065, 110.4075, 20.0075),
    }
    # Step. Recorded once: no finding (20,000 m², 59.8 m); a second record is a conflict.
    record = RecordSurvey(code, buildings=survey_buildings(unit), **surveyor, **fields)
    recorded = c.industry.record_survey(Invocation(CLERK, "s-1"), record)
    assert recorded.findings == []
    with pytest.raises(Conflict):
        c.industry.record_survey(Invocation(CLERK, "s-2"), record)
    with pytest.raises(InvalidValue):
        c.industry.correct_survey(
            Invocation(CLERK, "s-3"), CorrectSurvey(code, "x", buildings=survey_buildings("nope"), **fields)
        )
    # Step. A correction (10 % more area) makes a finding that planning verification reads.
    corrected = c.industry.correct_survey(
        Invocation(CLERK, "s-4"), CorrectSurvey(code, "复测", buildings=survey_buildings(unit, "1100"), **fields)
    )
    assert [f["rule"] for f in corrected.findings] == ["unit_work_area"]
    verification = c.industry.planning_verification(REVIEWER, code)
    assert not verification["compliant"] and verification["gross_floor_area_m2"] == "22000.00"
    # Step. Completion acceptance decided: the real-estate message carries the survey as recorded.
    case = c.cases.back_enter(
        Invocation(CLERK, "be-1"),
        BackEnterCase(
            project_code=code,
            item_code="GJ-4-03",
            decision="approved",
            decided_at=datetime.now(UTC) - timedelta(hours=1),
            received_on=None,
            accepted_on=None,
            document_number="琼竣备-2028-001",
            reason="系统故障期间线下办理",
        ),
    )
    c.deliveries.produce()
    message_id = delivery_id("completion_acceptance.result", "real_estate_registration", f"{case.id}@1")
    message = json.loads(c.deliveries.load(Delivery, message_id, "delivery").body)
    survey = message["joint_survey"]
    assert survey["report_number"] == "CH-2028-001" and survey["gross_floor_area_m2"] == "22000.00"
    assert survey["buildings"][0]["unit_work_code"] == unit and survey["corrections"] == 1


# --- 多规合一 ---------------------------------------------------------------------------------


def test_control_lines_and_opinions_received_before_generation_are_used_by_the_blueprint_check(
    container: Container,
) -> None:
    c = container
    code = f"2611-460100-04-01-{uuid.uuid4().int % 10**6:06d}"
    c.multiplan.receive_opinion(
        Invocation(PLATFORM, "op-1"),
        ReceiveOpinion(
            code,
            department="海口市生态环境局",
            conclusion="conditional",
            opinion="原则同意",
            conditions=["避让生态保护红线"],
            document_number="海环函-2026-1",
            issued_on=date(2026, 3, 1),
        ),
    )
    c.multiplan.receive_line(
        Invocation(PLATFORM, "cl-1"),
        ReceiveControlLine(
            code,
            code="STHX-01",
            kind="ecological_protection",
            name="东寨港生态保护红线",
            geometry=square(110.4075, 20.006, 110.41, 20.009),
            region_code="460108",
        ),
    )
    with pytest.raises(Forbidden):
        c.multiplan.receive_line(
            Invocation(APPLICANT, "cl-2"),
            ReceiveControlLine(code, code="X", kind="water_body", name="x", geometry=INSIDE_BOTH, region_code="460108"),
        )
    answer = c.projects.generate(
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
            red_line=INSIDE_BOTH,
        ),
    )
    [conflict] = answer.conflicts
    assert conflict["rule"] == "control_line" and conflict["zone_code"] == "STHX-01"
    overview = c.multiplan.overview(REVIEWER, code)
    assert overview["opinions"][0]["conclusion"] == "conditional"
    assert overview["conflicts"] == [conflict]
