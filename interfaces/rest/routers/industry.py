"""工程行业系统 — drawing delivery (图纸电子化交付), BIM review (BIM 图审), joint surveying (联合测绘)
and the multi-plan platform (多规合一). Thin: parse, call one service method, answer."""

from __future__ import annotations

import base64
import binascii
import hashlib
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from pydantic import Field

from application.commands import Invocation
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
from domain.industry.drawings import Discipline
from domain.industry.multiplan import Conclusion, LineKind
from domain.shared.errors import InvalidValue
from interfaces.rest.deps import ContainerDep, CurrentActor, IdemKey, RequestId, idempotency, role_may
from interfaces.rest.schemas import (
    MAX_LIST,
    Body,
    BusinessDate,
    CommandResult,
    GeoJSON,
    Name,
    ProjectCode,
    RegionCode,
    Short,
    Text,
    Uscc,
)

router = APIRouter(prefix="/api/v1/industry", tags=["industry 工程行业系统"])
Code = Annotated[str, Field(max_length=60)]


class Sheet(Body):
    number: Annotated[str, Field(min_length=1, max_length=40)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")]
    size: Annotated[int, Field(ge=0)] = 0


Sheets = Annotated[list[Sheet], Field(min_length=1, max_length=2000)]


class DrawingDelivery(Body):
    """图纸交付 — version 1 of a discipline's set, signed by the institute (a completed signing request)."""

    case_id: UUID
    discipline: Discipline
    design_institute: Name
    institute_uscc: Uscc
    sheets: Sheets
    signing_request_id: UUID


class Revision(Body):
    sheets: Sheets
    signing_request_id: UUID


class SheetComment(Body):
    sheet_number: Annotated[str, Field(min_length=1, max_length=40)]
    comment: Text


class Reason(Body):
    reason: Text


class FileCheck(Body):
    number: Annotated[str, Field(min_length=1, max_length=40)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")] | None = None
    content_base64: str | None = None


class FilesCheck(Body):
    files: Annotated[list[FileCheck], Field(max_length=2000)]


def _files(body: FilesCheck) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, f in enumerate(body.files):
        if f.content_base64 is None:
            out.append({"number": f.number, "sha256": f.sha256})
            continue
        try:
            out.append({"number": f.number, "content": base64.b64decode(f.content_base64, validate=True)})
        except (binascii.Error, ValueError):
            raise InvalidValue(f"files.{i}.content_base64", "not base64", "base64") from None
    return out


@router.post(
    "/drawing-sets",
    dependencies=[role_may("drawings.deliver")],
    status_code=201,
    response_model=CommandResult,
    summary="图纸交付 — deliver a drawing set",
)
def deliver_drawings(
    body: DrawingDelivery, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    fields = body.model_dump()
    fields["discipline"] = body.discipline.value
    by = Invocation(actor, request_id, idempotency(key, "drawings.deliver", body))
    return c.drawings.deliver(by, DeliverDrawings(**fields)).to_json()


@router.post(
    "/drawing-sets/{set_id}/comments",
    dependencies=[role_may("drawings.review")],
    response_model=CommandResult,
    summary="审查意见 — comment on a sheet",
)
def comment_sheet(
    set_id: UUID, body: SheetComment, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "drawings.comment", body, id=set_id)
    return c.drawings.comment(Invocation(actor, request_id, idem), CommentSheet(set_id, **body.model_dump())).to_json()


@router.post(
    "/drawing-sets/{set_id}/request-revision",
    dependencies=[role_may("drawings.review")],
    response_model=CommandResult,
    summary="退回修改",
)
def request_revision(
    set_id: UUID, body: Reason, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "drawings.request-revision", body, id=set_id)
    command = RequestDrawingRevision(set_id, body.reason)
    return c.drawings.request_revision(Invocation(actor, request_id, idem), command).to_json()


@router.post(
    "/drawing-sets/{set_id}/revisions",
    dependencies=[role_may("drawings.deliver")],
    response_model=CommandResult,
    summary="图纸修改版交付",
)
def revise_drawings(
    set_id: UUID, body: Revision, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "drawings.revise", body, id=set_id)
    return c.drawings.revise(Invocation(actor, request_id, idem), ReviseDrawings(set_id, **body.model_dump())).to_json()


@router.post(
    "/drawing-sets/{set_id}/approve",
    dependencies=[role_may("drawings.approve")],
    response_model=CommandResult,
    summary="图纸审查合格 — fix this version",
)
def approve_drawings(
    set_id: UUID, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    by = Invocation(actor, request_id, idempotency(key, "drawings.approve", None, id=set_id))
    return c.drawings.approve(by, ApproveDrawings(set_id)).to_json()


@router.post(
    "/drawing-sets/{set_id}/check-files",
    dependencies=[role_may("drawings.check")],
    response_model=CommandResult,
    summary="图纸一致性核验",
)
def check_files(
    set_id: UUID, body: FilesCheck, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "drawings.check", body, id=set_id)
    command = CheckDrawingFiles(set_id, _files(body))
    return c.drawings.check_files(Invocation(actor, request_id, idem), command).to_json()


@router.get("/drawing-sets/{set_id}", summary="图纸 — versions, sheets, comments, approval")
def drawing_set(set_id: UUID, actor: CurrentActor, c: ContainerDep) -> dict[str, Any]:
    return c.drawings.get(actor, set_id)


@router.post(
    "/bim/{project_code}/models",
    dependencies=[role_may("bim.submit")],
    status_code=201,
    response_model=CommandResult,
    summary="BIM 模型报审 — the IFC file as the body (application/octet-stream)",
)
async def submit_model(
    project_code: ProjectCode,
    request: Request,
    actor: CurrentActor,
    request_id: RequestId,
    key: IdemKey,
    c: ContainerDep,
    stage: Annotated[Literal["design", "completion"], Query()],
    file_name: Annotated[Short, Query()] = "model.ifc",
    case_id: Annotated[UUID | None, Query()] = None,
) -> dict[str, Any]:
    data = await request.body()
    idem = idempotency(key, "bim.submit", None, code=project_code, stage=stage, sha256=hashlib.sha256(data).hexdigest())
    command = SubmitModel(project_code, stage, data, file_name, case_id)
    outcome = await to_thread.run_sync(lambda: c.industry.submit_model(Invocation(actor, request_id, idem), command))
    return outcome.to_json()


@router.post(
    "/bim/{project_code}/models/{model_id}/approve",
    dependencies=[role_may("bim.approve-design")],
    response_model=CommandResult,
    summary="BIM 审查合格",
)
def approve_model(
    project_code: ProjectCode, model_id: UUID, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    idem = idempotency(key, "bim.approve-design", None, code=project_code, model=model_id)
    command = ApproveDesign(project_code, str(model_id))
    return c.industry.approve_design(Invocation(actor, request_id, idem), command).to_json()


@router.get("/bim/{project_code}", summary="BIM 图审 — the project's models, facts and findings")
def models(project_code: ProjectCode, actor: CurrentActor, c: ContainerDep) -> dict[str, Any]:
    return c.industry.models(actor, project_code)


class SurveyStorey(Body):
    name: Short
    elevation_m: Decimal = Decimal(0)
    height_m: Annotated[Decimal, Field(ge=0)] = Decimal(0)
    gross_floor_area_m2: Annotated[Decimal, Field(gt=0)]


class SurveyUnit(Body):
    number: Short
    storey: Short
    use: Short
    floor_area_m2: Annotated[Decimal, Field(gt=0)]


class SurveyBuilding(Body):
    unit_work_code: Code
    name: Short = ""
    height_m: Annotated[Decimal, Field(gt=0)]
    storeys: Annotated[list[SurveyStorey], Field(min_length=1, max_length=300)]
    units: Annotated[list[SurveyUnit], Field(max_length=5000)] = []


class SurveyResults(Body):
    report_number: Short
    report_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    surveyed_on: BusinessDate
    footprint: GeoJSON
    buildings: Annotated[list[SurveyBuilding], Field(min_length=1, max_length=MAX_LIST)]


class SurveyRecord(SurveyResults):
    """联合测绘成果 — recorded once per project."""

    surveyor: Name
    surveyor_uscc: Uscc


class SurveyCorrection(SurveyResults):
    reason: Text


@router.post(
    "/surveys/{project_code}",
    dependencies=[role_may("survey.record")],
    status_code=201,
    response_model=CommandResult,
    summary="联合测绘成果",
)
def record_survey(
    project_code: ProjectCode,
    body: SurveyRecord,
    actor: CurrentActor,
    request_id: RequestId,
    key: IdemKey,
    c: ContainerDep,
) -> dict[str, Any]:
    idem = idempotency(key, "survey.record", body, code=project_code)
    command = RecordSurvey(project_code, **body.model_dump(mode="json") | {"surveyed_on": body.surveyed_on})
    return c.industry.record_survey(Invocation(actor, request_id, idem), command).to_json()


@router.post(
    "/surveys/{project_code}/corrections",
    dependencies=[role_may("survey.record")],
    response_model=CommandResult,
    summary="联合测绘成果更正",
)
def correct_survey(
    project_code: ProjectCode,
    body: SurveyCorrection,
    actor: CurrentActor,
    request_id: RequestId,
    key: IdemKey,
    c: ContainerDep,
) -> dict[str, Any]:
    idem = idempotency(key, "survey.correct", body, code=project_code)
    command = CorrectSurvey(project_code, **body.model_dump(mode="json") | {"surveyed_on": body.surveyed_on})
    return c.industry.correct_survey(Invocation(actor, request_id, idem), command).to_json()


@router.get("/surveys/{project_code}", summary="联合测绘成果 — as recorded (null when none)")
def survey(project_code: ProjectCode, actor: CurrentActor, c: ContainerDep) -> dict[str, Any] | None:
    return c.industry.survey(actor, project_code)


@router.get(
    "/surveys/{project_code}/planning-verification", summary="规划条件核实 — the survey against the planning conditions"
)
def planning_verification(project_code: ProjectCode, actor: CurrentActor, c: ContainerDep) -> dict[str, Any]:
    return c.industry.planning_verification(actor, project_code)


class Opinion(Body):
    """前期意见 — a department's pre-project opinion from the multi-plan platform."""

    department: Name
    conclusion: Conclusion
    opinion: Text
    conditions: Annotated[list[Text], Field(max_length=MAX_LIST)] = []
    document_number: Short = ""
    issued_on: BusinessDate


class ControlLine(Body):
    """规划控制线 — a planning control line the project must respect."""

    code: Code
    kind: LineKind
    name: Short = ""
    geometry: GeoJSON
    region_code: RegionCode


@router.post(
    "/multi-plan/{project_code}/opinions",
    dependencies=[role_may("multiplan.receive")],
    response_model=CommandResult,
    summary="前期意见",
)
def receive_opinion(
    project_code: ProjectCode, body: Opinion, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    fields = body.model_dump()
    fields["conclusion"] = body.conclusion.value
    idem = idempotency(key, "multiplan.opinion", body, code=project_code)
    return c.multiplan.receive_opinion(
        Invocation(actor, request_id, idem), ReceiveOpinion(project_code, **fields)
    ).to_json()


@router.post(
    "/multi-plan/{project_code}/control-lines",
    dependencies=[role_may("multiplan.receive")],
    response_model=CommandResult,
    summary="规划控制线",
)
def receive_line(
    project_code: ProjectCode,
    body: ControlLine,
    actor: CurrentActor,
    request_id: RequestId,
    key: IdemKey,
    c: ContainerDep,
) -> dict[str, Any]:
    fields = body.model_dump()
    fields["kind"] = body.kind.value
    idem = idempotency(key, "multiplan.control-line", body, code=project_code)
    command = ReceiveControlLine(project_code, **fields)
    return c.multiplan.receive_line(Invocation(actor, request_id, idem), command).to_json()


@router.get("/multi-plan/{project_code}", summary="多规合一 — opinions, control lines, conflicts")
def multiplan(project_code: ProjectCode, actor: CurrentActor, c: ContainerDep) -> dict[str, Any]:
    return c.multiplan.overview(actor, project_code)
