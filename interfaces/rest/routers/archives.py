"""电子档案 — archive packages: generate (归档), download, fixity, transfer (移交), receive (接收)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from application.commands import Invocation
from application.commands.archives import GenerateArchive, ReceiveArchive, TransferArchive
from domain.shared.errors import Conflict
from interfaces.rest.deps import ContainerDep, CurrentActor, IdemKey, RequestId, idempotency, role_may
from interfaces.rest.schemas import Checked, CommandResult

router = APIRouter(prefix="/api/v1", tags=["archives 电子档案"])


class ArchiveBody(Checked):
    case_id: UUID


@router.post(
    "/archives",
    dependencies=[role_may("archive.generate")],
    status_code=201,
    response_model=CommandResult,
    summary="归档 — generate the archive package of a decided or closed case",
)
def generate_archive(
    body: ArchiveBody, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    by = Invocation(actor, request_id, idempotency(key, "archive.generate", body))
    return c.archives.generate(by, GenerateArchive(body.case_id)).to_json()


@router.post(
    "/archives/received",
    dependencies=[role_may("archive.receive")],
    status_code=201,
    response_model=CommandResult,
    summary="档案接收 — receive an external package (the JSON bytes as body); a bad one is refused with the reason",
)
async def receive_archive(
    request: Request,
    actor: CurrentActor,
    request_id: RequestId,
    key: IdemKey,
    c: ContainerDep,
    source: Annotated[str, Query(description="the system the package comes from")] = "external",
) -> dict[str, Any]:
    data = await request.body()
    idem = idempotency(key, "archive.receive", None, source=source, sha256=hashlib.sha256(data).hexdigest())
    return c.archives.receive(Invocation(actor, request_id, idem), ReceiveArchive(data, source)).to_json()


@router.post(
    "/archives/{archive_id}/transfer",
    dependencies=[role_may("archive.transfer")],
    response_model=CommandResult,
    summary="档案移交 — transfer to the archive management system (first attempt now, retries by the worker)",
)
def transfer_archive(
    archive_id: UUID, actor: CurrentActor, request_id: RequestId, key: IdemKey, c: ContainerDep
) -> dict[str, Any]:
    by = Invocation(actor, request_id, idempotency(key, "archive.transfer", None, id=archive_id))
    return c.archives.transfer(by, TransferArchive(archive_id)).to_json()


@router.get("/archives/{archive_id}/package", summary="档案下载 — the package bytes, exactly as stored")
def download_archive(archive_id: UUID, actor: CurrentActor, c: ContainerDep) -> Response:
    return Response(c.archives.package(actor, archive_id), media_type="application/json")


@router.get(
    "/archives/{archive_id}/fixity",
    summary="固定性检查 — re-hash the stored package: 200 when it matches, 409 (with the reason) when it does not",
)
def archive_fixity(archive_id: UUID, actor: CurrentActor, c: ContainerDep) -> dict[str, Any]:
    result = c.archives.fixity(actor, archive_id)
    if not result["ok"]:  # a failed check is not a success a client could overlook in a 200
        raise Conflict(f"fixity check failed for archive package {archive_id}: {result['reason']}")
    return result
