"""数据共享交换 — a dump of the national data-sharing tables from another system
(`POST /api/v1/exchange/spgl`, roles integration and admin)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Response
from pydantic import Field

from application.commands import Invocation
from application.commands.spgl import ImportSpglTables, RecordSpglUpload
from interfaces.rest.deps import ContainerDep, CurrentActor, RequestId, role_may
from interfaces.rest.schemas import Body, CommandResult

router = APIRouter(prefix="/api/v1/exchange", tags=["exchange 数据共享"])

Cell = str | int | float | None
MAX_ROWS = 50_000  # per request; a larger dump goes through `gongjian import spgl` or several requests


class SpglDump(Body):
    """Rows per table (`SPGL_*` names, fields as in the standard). Rows that break a rule are not
    an error of the request: they are kept out of the log and listed in the answer by rule, a row
    whose text holds a forbidden code point too (rule `text`, domain/shared/hygiene.py)."""

    rows_checked_by_the_import: ClassVar[frozenset[str]] = frozenset({"tables"})

    source_system: Annotated[str, Field(min_length=1, max_length=200, description="the system the rows come from")]
    tables: dict[Annotated[str, Field(max_length=64)], Annotated[list[dict[str, Cell]], Field(max_length=MAX_ROWS)]]


@router.post(
    "/spgl",
    dependencies=[role_may("spgl.import")],
    status_code=201,
    response_model=CommandResult,
    summary="共享交换导入 — 201 rows imported; 200 the same dump again (`unchanged: true`, nothing written)",
    responses={200: {"model": CommandResult, "description": "the same dump again: nothing written"}},
)
def import_spgl(
    body: SpglDump, response: Response, actor: CurrentActor, request_id: RequestId, c: ContainerDep
) -> dict[str, Any]:
    result = c.spgl.import_tables(Invocation(actor, request_id), ImportSpglTables(body.source_system, body.tables))
    if result.unchanged:
        response.status_code = 200
    return result.to_json()


class UploadResults(Body):
    """The national platform's answer per uploaded row: `{table, LSH, SJSCZT (1, -1, 3), SBYY}`."""

    results: Annotated[list[dict[str, Cell]], Field(min_length=1, max_length=MAX_ROWS)]


@router.post(
    "/spgl/upload-results",
    dependencies=[role_may("spgl.export")],
    status_code=201,
    response_model=CommandResult,
    summary="上报结果 — record the national platform's answer per row; the export shows it as SJSCZT/SBYY",
    responses={200: {"model": CommandResult, "description": "the same answers again: nothing written"}},
)
def upload_results(
    body: UploadResults, response: Response, actor: CurrentActor, request_id: RequestId, c: ContainerDep
) -> dict[str, Any]:
    result = c.spgl.record_upload(Invocation(actor, request_id), RecordSpglUpload(body.results))
    if result.unchanged:
        response.status_code = 200
    return result.to_json()
