"""账本 — `ledger { checkpoint, inclusionProof, consistencyProof }`, merged into the schema's Query,
and the inclusion proof behind every `auditTrail` entry (`AuditEntry.proof`, resolved only when asked).

Hashes are lowercase hex. A proof's `rootHash` is the root of the tree of `treeSize`; by default the
latest signed checkpoint that covers the leaf (compare with `checkpoint`), or the whole ledger when
the leaf is newer than every checkpoint (not yet signed).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

import anyio.to_thread
import strawberry
from strawberry.types import Info

from domain.ledger import ProofError
from interfaces.graphql.common import error, wait
from interfaces.graphql.context import Context
from interfaces.graphql.router import IsAuthenticated
from projections.ledger import Ledger as LedgerModel


@strawberry.type(description="签名树头 — a signed checkpoint: tree size, root, time of its last event, algorithm.")
class Checkpoint:
    tree_size: int
    root_hash: str
    time: str
    algorithm: str
    signature: str | None = strawberry.field(description="Ed25519 over the checkpoint text (docs/evidence.md)")
    public_key: str | None


@strawberry.type(description="存在性证明 — RFC 9162 inclusion proof of one event (leaf) in the tree of `treeSize`.")
class InclusionProof:
    position: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    root_hash: str


@strawberry.type(
    description="一致性证明 — RFC 9162 consistency proof: the tree of `toSize` extends that of `fromSize`."
)
class ConsistencyProof:
    from_size: int
    to_size: int
    from_root: str
    to_root: str
    path: list[str]


def _model(info: Info[Context, None]) -> LedgerModel:
    model = info.context.container.engine.models.get("ledger")
    if not isinstance(model, LedgerModel):
        raise error("the ledger read model is not running", "UNAVAILABLE", 503)
    return model


def inclusion_of(model: LedgerModel, position: int, tree_size: int | None) -> InclusionProof | None:
    proof = model.inclusion_proof(position, tree_size)
    if proof is None:
        return None
    return InclusionProof(
        position=proof.position,
        leaf_index=proof.leaf_index,
        tree_size=proof.tree_size,
        leaf_hash=proof.leaf_hash.hex(),
        audit_path=[p.hex() for p in proof.path],
        root_hash=proof.root_hash.hex(),
    )


async def inclusion_proof(
    info: Info[Context, None], position: int, tree_size: int | None = None
) -> InclusionProof | None:
    try:
        return await anyio.to_thread.run_sync(inclusion_of, _model(info), position, tree_size)
    except ProofError as exc:
        raise error(str(exc), "BAD_USER_INPUT", 422) from None


@strawberry.type(description="账本 — the tamper-evident ledger over the whole log.")
class Ledger:
    @strawberry.field(description="The latest signed checkpoint (null before the first one).")
    async def checkpoint(self, info: Info[Context, None]) -> Checkpoint | None:
        row = await anyio.to_thread.run_sync(_model(info).latest_checkpoint)
        if row is None:
            return None
        return Checkpoint(
            tree_size=row["tree_size"],
            root_hash=row["root_hash"],
            time=row["time"],
            algorithm=row["algorithm"],
            signature=row["signature"],
            public_key=row["public_key"],
        )

    @strawberry.field(description="Inclusion proof of the event at a log position (null: not yet in the ledger).")
    async def inclusion_proof(
        self, info: Info[Context, None], position: int, tree_size: int | None = None
    ) -> InclusionProof | None:
        return await inclusion_proof(info, position, tree_size)

    @strawberry.field(description="Consistency proof between two tree sizes (from ≤ to ≤ the ledger's size).")
    async def consistency_proof(
        self,
        info: Info[Context, None],
        from_: Annotated[int, strawberry.argument(name="from")],
        to: int,
    ) -> ConsistencyProof:
        if not 0 <= from_ <= to:  # from 0 to -1 reached the read model as an IndexError (tests/e2e/test_fuzz.py)
            raise error(f"no consistency proof from size {from_} to size {to}", "BAD_USER_INPUT", 422)
        try:
            proof = await anyio.to_thread.run_sync(partial(_model(info).consistency_proof, from_, to))
        except ProofError as exc:
            raise error(str(exc), "BAD_USER_INPUT", 422) from None
        return ConsistencyProof(
            from_size=proof.first_size,
            to_size=proof.second_size,
            from_root=proof.first_root.hex(),
            to_root=proof.second_root.hex(),
            path=[p.hex() for p in proof.path],
        )


@strawberry.type
class LedgerQuery:
    @strawberry.field(permission_classes=[IsAuthenticated], description="账本 — signed tree heads and proofs.")
    async def ledger(self, info: Info[Context, None], at_least: int | None = None) -> Ledger:
        await wait(info, at_least)
        return Ledger()
