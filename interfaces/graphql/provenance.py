"""来源追溯 — `provenance(subject)`: a licence number, a document hash or a case id, and the chain
behind it — generation → case → decisions → licence → signatures → archive (projections/provenance.py),
each step an `AuditEntry` with its stored event and inclusion proof. Merged into the schema's Query.

Visible as the audit trail is: the actor may read `auditTrail` of every case and project the chain
names (an official of another region gets 403, never a partial chain).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import strawberry
from strawberry.types import Info

from interfaces.graphql.common import wait
from interfaces.graphql.context import Context
from interfaces.graphql.router import IsAuthenticated
from interfaces.graphql.types import AuditEntry, audit_node
from interfaces.graphql.visibility import check_trail_visible
from projections.provenance import ORDER, Provenance, provenance


@strawberry.type(description="来源一步 — one step of a provenance chain: its stage and the event (with proof).")
class ProvenanceStep:
    stage: str = strawberry.field(description=f"one of {', '.join(ORDER)}")
    entry: AuditEntry


@strawberry.type(description="来源追溯 — the chain behind a licence, a document hash or a case.")
class ProvenanceChain:
    subject: str
    project_codes: list[str]
    case_ids: list[str]
    licence_numbers: list[str]
    document_hashes: list[str]
    seal_ids: list[str]
    steps: list[ProvenanceStep] = strawberry.field(description="stage by stage (in the order above), each in log order")


def _check(info: Info[Context, None], chain: Provenance) -> None:
    for subject in [*chain.case_ids, *chain.project_codes] or [chain.subject]:
        check_trail_visible(info, subject)


@strawberry.type
class ProvenanceQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="来源追溯 — a licence number, document hash or case id: generation → case → decisions →"
        " licence → signatures → archive, each step with its stored event and inclusion proof.",
    )
    async def provenance(
        self, info: Info[Context, None], subject: str, at_least: int | None = None
    ) -> ProvenanceChain | None:
        await wait(info, at_least)

        def read() -> Provenance:
            chain = provenance(info.context.audit, subject)
            _check(info, chain)
            return chain

        chain = await anyio.to_thread.run_sync(read)
        if not chain.steps:
            return None
        steps: list[ProvenanceStep] = []
        for stage, row in chain.steps:
            steps.append(ProvenanceStep(stage=stage, entry=audit_node(row)))
        fields: dict[str, Any] = {
            "subject": chain.subject,
            "project_codes": chain.project_codes,
            "case_ids": chain.case_ids,
            "licence_numbers": chain.licence_numbers,
            "document_hashes": chain.document_hashes,
            "seal_ids": chain.seal_ids,
        }
        return ProvenanceChain(**fields, steps=steps)
