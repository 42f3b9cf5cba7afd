"""GraphQL of offline-approval warnings (体外循环, 隐形审批, 先批后录): `warnings(filter, first, after,
atLeast)`, merged into the schema's Query in schema.py. Rules and evidence: docs/supervision.md.

Scope: officials, supervisors, analysts and accountability officers see the warnings of their
region; applicants and integrations see none; admins see all.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import partial
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.types import Info

from interfaces.graphql.common import MAX_PAGE, error, region_scope, utc, wait
from interfaces.graphql.context import Context
from interfaces.graphql.duplicates import family, family_page
from interfaces.graphql.router import IsAuthenticated
from interfaces.graphql.types import Connection, connection, decode_cursor
from projections.offline_warnings import OfflineWarnings

BLIND_ROLES = frozenset({"applicant", "integration"})


@strawberry.input(description="Filters for `warnings`; `raisedFrom` inclusive, `raisedTo` exclusive (recording time).")
class WarningFilter:
    rule: str | None = None
    region_code: str | None = None
    department: str | None = None
    status: str | None = None
    project_code: str | None = None
    case_id: str | None = None
    raised_from: datetime | None = None
    raised_to: datetime | None = None


@strawberry.type(description="预警 — an anomaly the log proves, with the positions of the events that prove it.")
class Warning:
    id: strawberry.ID
    rule: str = strawberry.field(description="W1–W10 (docs/supervision.md)")
    severity: str = strawberry.field(description="low, medium or high (warning_rules.toml)")
    reason: str = strawberry.field(description="language-neutral reason code, e.g. `W2.back_entry`")
    subject: str
    project_code: str | None
    case_id: str | None
    region_code: str | None
    department: str | None
    explanation: str
    evidence: list[int] = strawberry.field(description="log positions of the events that prove it")
    status: str = strawberry.field(description="open, acknowledged, in_inquiry, closed_explained or resolved")
    inquiry_id: str | None
    raised_position: int
    raised_at: datetime = strawberry.field(description="recording time of the event that completed the evidence")
    resolved_position: int | None = strawberry.field(description="the later fact that removed the evidence, if any")


def warning_node(row: dict[str, Any]) -> Warning:
    return Warning(
        id=strawberry.ID(row["warning_id"]),
        rule=row["rule"],
        severity=row["severity"],
        reason=row["reason"],
        subject=row["subject"],
        project_code=row["project_code"],
        case_id=row["case_id"],
        region_code=row["region_code"],
        department=row["department"],
        explanation=row["explanation"],
        evidence=json.loads(row["evidence"]),
        status=row["status"],
        inquiry_id=row["inquiry_id"],
        raised_position=int(row["raised_position"]),
        raised_at=datetime.fromisoformat(row["raised_at"]),
        resolved_position=row["resolved_position"],
    )


@strawberry.type
class WarningsQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="预警 — offline-approval and other warnings in the actor's region, in the order raised.",
    )
    async def warnings(
        self,
        info: Info[Context, None],
        filter: WarningFilter | None = None,
        first: int = 20,
        after: str | None = None,
        at_least: int | None = None,
    ) -> Connection[Warning]:
        await wait(info, at_least)
        actor = info.context.actor
        if actor is None:
            raise error("not authenticated", "UNAUTHENTICATED", 401)
        if not 0 < first <= MAX_PAGE:
            raise error(f"first must be between 1 and {MAX_PAGE}", "BAD_USER_INPUT", 422)
        if actor.role in BLIND_ROLES:
            return connection([], False, 0)
        f = filter or WarningFilter()
        model = OfflineWarnings(info.context.container.db)
        fetch = partial(
            model.list,
            rule=f.rule,
            region_scope=region_scope(actor, f.region_code),
            department=f.department,
            status=f.status,
            case_id=f.case_id,
            raised_from=utc(f.raised_from),
            raised_to=utc(f.raised_to),
            after=decode_cursor(after),
            first=first,
        )
        if f.project_code is None:
            rows, has_next, total = await anyio.to_thread.run_sync(fetch)
        else:
            # a merged code answers with its canonical project: the warnings about any of its codes
            codes = await anyio.to_thread.run_sync(family, info, f.project_code)
            rows, has_next, total = await anyio.to_thread.run_sync(
                family_page, lambda code: fetch(project_code=code), codes, "seq", first
            )
        return connection([(int(r["seq"]), warning_node(r)) for r in rows], has_next, total)
