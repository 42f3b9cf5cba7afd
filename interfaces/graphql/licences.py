"""电子证照库 — `license(number)` and `licenses(filter, first, after, atLeast)`, merged into the
schema's Query in schema.py.

Officials see the licences of their region; an applicant only those it holds (holder USCC = its
organisation). The status (valid / revoked / expired) is computed for today (the container's clock).
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from functools import partial
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from application.policy import Actor, in_scope
from domain.licences import LICENCE_TYPES
from domain.shared.events import SHANGHAI
from interfaces.graphql.common import actor_of, error, page, region_scope, wait
from interfaces.graphql.context import Context
from interfaces.graphql.duplicates import family, family_page
from interfaces.graphql.personal import may_see_personal_data, personal
from interfaces.graphql.router import IsAuthenticated
from interfaces.graphql.types import Connection, connection, decode_cursor
from projections.licence_library import LicenceLibrary


@strawberry.enum(description="证照状态 — revoked is recorded; expired follows from validUntil < today.")
class LicenseStatus(Enum):
    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"


@strawberry.input(description="主题字段 — one topic field to match: codes exactly, names normalised.")
class TopicMatch:
    field: str
    value: str


@strawberry.input(description="Filters for `licenses`; all given conditions must hold.")
class LicenseFilter:
    holder_uscc: str | None = None
    project_code: str | None = None
    item_code: str | None = None
    type: str | None = strawberry.field(default=None, description="licence type, e.g. construction_permit")
    status: LicenseStatus | None = None
    region_code: str | None = None
    topic: list[TopicMatch] | None = None


@strawberry.type(description="主题字段 — one topic field of a licence.")
class TopicField:
    field: str
    value: str


@strawberry.type(description="迁移来源 — where a migrated licence (在建工程迁移, 存量证照) comes from.")
class LicenseProvenance:
    source_file: str
    source_sha256: str = strawberry.field(description="SHA-256 of the migrated file's bytes")
    row: int = strawberry.field(description="row in the file; the header is row 1")
    migrated_by: str | None = personal("the migrating official")
    issuing_authority: str = strawberry.field(description="the original issuing authority (原发证机关)")


@strawberry.type(description="电子证照 — a licence issued on an approval and signed with the department's seal.")
class License:
    number: str
    type: str
    type_name: str = strawberry.field(description="e.g. 建筑工程施工许可证")
    holder_name: str | None = personal()
    holder_uscc: str | None = personal()
    project_code: str
    item_code: str
    case_id: str | None
    department: str
    region_code: str
    valid_from: date
    valid_until: date | None
    status: LicenseStatus
    topic: list[TopicField] | None = personal("主题字段: names of people and organisations among them")
    document_hash: str = strawberry.field(description="SM3 of the canonical licence content (docs/evidence.md)")
    hash_algorithm: str
    signature: JSON | None = personal("the signature entry (names the signer), as /signatures/verify takes it")
    revocation_reason: str | None
    revoked_at: str | None
    position: int = strawberry.field(description="log position of the issue")
    provenance: LicenseProvenance | None = strawberry.field(
        default=None, description="set on a migrated licence (在建工程迁移); null when issued in the system"
    )


def _node(row: dict[str, Any]) -> License:
    signature: Any = {  # the entry as the signing responses give it
        "signing_request_id": row["licence_id"],
        "document_hash": row["document_hash"],
        "hash_algorithm": row["hash_algorithm"],
        "seal_id": row["seal_id"],
        "signer": row["signer"],
        "algorithm": row["algorithm"],
        "signed_at": row["signed_at"],
        "previous_hash": "",
        "signature": row["signature"],
    }
    return License(
        number=row["number"],
        type=row["licence_type"],
        type_name=LICENCE_TYPES[row["licence_type"]][0],
        holder_name=row["holder_name"],
        holder_uscc=row["holder_uscc"],
        project_code=row["project_code"],
        item_code=row["item_code"],
        case_id=row["case_id"],
        department=row["department"],
        region_code=row["region_code"],
        valid_from=date.fromisoformat(row["valid_from"]),
        valid_until=date.fromisoformat(row["valid_until"]) if row["valid_until"] else None,
        status=LicenseStatus(row["status"]),
        topic=[TopicField(field=k, value=v) for k, v in sorted(row["topic"].items())],
        document_hash=row["document_hash"],
        hash_algorithm=row["hash_algorithm"],
        signature=signature,
        revocation_reason=row["revocation_reason"],
        revoked_at=row["revoked_at"],
        position=int(row["position"]),
        provenance=LicenseProvenance(**row["provenance"]) if row.get("provenance") else None,
    )


def _visible(actor: Actor, row: dict[str, Any]) -> bool:
    if actor.role == "applicant":
        return bool(row["holder_uscc"] == actor.org)
    return actor.role == "admin" or in_scope(actor, row["region_code"])


def _today(info: Info[Context, None]) -> date:
    return info.context.container.clock.now().astimezone(SHANGHAI).date()


@strawberry.type
class LicencesQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated], description="电子证照 — one licence by number, if the reader may see it."
    )
    async def license(self, info: Info[Context, None], number: str, at_least: int | None = None) -> License | None:
        actor = actor_of(info)
        await wait(info, at_least)
        library = LicenceLibrary(info.context.container.db)
        row = await anyio.to_thread.run_sync(partial(library.get, number, today=_today(info)))
        return _node(row) if row is not None and _visible(actor, row) else None

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="电子证照库 — licences matching the filter (topic fields: codes exact, names normalised).",
    )
    async def licenses(
        self,
        info: Info[Context, None],
        filter: LicenseFilter | None = None,
        first: int = 20,
        after: str | None = None,
        at_least: int | None = None,
    ) -> Connection[License]:
        actor = actor_of(info)
        await wait(info, at_least)
        f = filter or LicenseFilter()
        applicant = actor.role == "applicant"
        if (f.holder_uscc or f.topic) and not may_see_personal_data(actor.role):
            # a filter on withheld fields would tell who holds what
            raise error(f"role {actor.role} may not filter by holder or topic (personal data)", "FORBIDDEN", 403)
        library = LicenceLibrary(info.context.container.db)
        fetch = partial(
            library.search,
            today=_today(info),
            holder_uscc=actor.org if applicant else f.holder_uscc,
            item_code=f.item_code,
            licence_type=f.type,
            status=f.status.value if f.status else None,
            topic=[(t.field, t.value) for t in f.topic or []],
            region_scope=f.region_code if applicant else region_scope(actor, f.region_code),
            after=decode_cursor(after),
            first=page(first),
        )
        if f.project_code is None:
            rows, has_next, total = await anyio.to_thread.run_sync(fetch)
        else:
            # a merged code answers with its canonical project: the licences of any of its codes
            codes = await anyio.to_thread.run_sync(family, info, f.project_code)
            rows, has_next, total = await anyio.to_thread.run_sync(
                family_page, lambda code: fetch(project_code=code), codes, "position", page(first)
            )
        return connection([(int(r["position"]), _node(r)) for r in rows], has_next, total)
