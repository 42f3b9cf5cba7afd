"""账本 — `ledger { checkpoint, checkpoints, inclusionProof, consistencyProof, events }`, merged into the
schema's Query, and what stands behind every `auditTrail` entry: the stored event (`AuditEntry.event`,
the inputs of its leaf) and its inclusion proof (`AuditEntry.proof`), each resolved only when asked.
`ledger.events` (raw stored events by position range) needs the policy's `ledger.raw` (auditors).

Hashes are lowercase hex. A proof's `rootHash` is the root of the tree of `treeSize`; by default the
latest signed checkpoint that covers the leaf (compare with `checkpoint`), or the whole ledger when
the leaf is newer than every checkpoint (not yet signed).
"""

from __future__ import annotations

import base64
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from application.policy import PERMISSIONS, authorize
from domain.ledger import ProofError, uuid_text
from domain.ledger.checkpoint import checkpoint_of
from domain.shared.errors import Forbidden
from interfaces.graphql.common import actor_of, error, wait
from interfaces.graphql.context import Context
from interfaces.graphql.router import IsAuthenticated
from projections.audit_trail import stored_events
from projections.ledger import Ledger as LedgerModel

RAW_SPAN = 1000  # positions per `ledger.events` call


@strawberry.type(description="签名树头 — a signed checkpoint: tree size, root, time of its last event, algorithm.")
class Checkpoint:
    tree_size: int
    root_hash: str
    time: str
    algorithm: str
    signature: str | None = strawberry.field(description="Ed25519 over the checkpoint text (docs/evidence.md)")
    public_key: str | None
    origin: str | None = strawberry.field(
        default=None, description="set: signed in the C2SP tlog-checkpoint form (origin, size, base64 root)"
    )
    signed_text: str | None = strawberry.field(
        default=None, description="the exact text the signature is over (rebuild it yourself to check)"
    )


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


@strawberry.type(
    description="存储事件 — one event exactly as the store holds it: the inputs of its ledger leaf. Leaf data ="
    " u64 position ‖ u32 len ‖ originatorId ‖ u64 originatorVersion ‖ u32 len ‖ topic ‖ u32 len ‖ state"
    " (big-endian, UTF-8); leaf hash = H(0x00 ‖ leaf data), H the ledger's algorithm (docs/evidence.md)."
)
class StoredEvent:
    position: int
    originator_id: str = strawberry.field(description="36-character lowercase UUID text")
    originator_version: int
    topic: str = strawberry.field(description="module:Aggregate.Event, as stored")
    state: str = strawberry.field(description="base64 of the stored bytes (JSON of the event's fields)")


@strawberry.type(
    description="账本事件 — a stored event with its leaf: index, hash and the previous leaf of its aggregate."
)
class LedgerEvent:
    event: StoredEvent
    leaf_index: int | None = strawberry.field(description="null: not yet in the ledger")
    leaf_hash: str | None
    prev_leaf_hash: str | None


def stored_event_of(row: dict[str, Any]) -> StoredEvent:
    return StoredEvent(
        position=int(row["position"]),
        originator_id=uuid_text(row["originator_id"]),
        originator_version=int(row["originator_version"]),
        topic=str(row["topic"]),
        state=base64.b64encode(bytes(row["state"])).decode(),
    )


async def stored_event(info: Info[Context, None], position: int) -> StoredEvent | None:
    """The stored event at a position, read from the events table (one query per response)."""
    loader = info.context.loaders.get("stored_event")
    if loader is None:
        audit = info.context.audit

        async def load(keys: list[int]) -> list[StoredEvent | None]:
            found = await anyio.to_thread.run_sync(audit.stored, keys)
            return [stored_event_of(found[k]) if k in found else None for k in keys]

        loader = info.context.loaders["stored_event"] = DataLoader(load_fn=load)
    result: StoredEvent | None = await loader.load(position)
    return result


def may_read_raw(info: Info[Context, None]) -> bool:
    actor = info.context.actor
    return actor is not None and actor.role in PERMISSIONS["ledger.raw"]


def _checkpoint(row: dict[str, Any]) -> Checkpoint:
    return Checkpoint(
        tree_size=row["tree_size"],
        root_hash=row["root_hash"],
        time=row["time"],
        algorithm=row["algorithm"],
        signature=row["signature"],
        public_key=row["public_key"],
        origin=row.get("origin") or None,
        signed_text=checkpoint_of(row).message().decode(),
    )


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
        return None if row is None else _checkpoint(row)

    @strawberry.field(
        description="Every durable signed checkpoint with a tree size above `after`, in size order (at most"
        " `first`, ≤ 1000), whether or not the ledger's leaves reach it yet."
    )
    async def checkpoints(self, info: Info[Context, None], after: int = 0, first: int = 100) -> list[Checkpoint]:
        if not 1 <= first <= 1000:
            raise error("first must lie between 1 and 1000", "BAD_USER_INPUT", 422)
        rows = await anyio.to_thread.run_sync(_model(info).checkpoint_rows)
        return [_checkpoint(r) for r in rows if int(r["tree_size"]) > after][:first]

    @strawberry.field(
        description="原始事件 — the stored events at positions from..to (at most 1000 positions), exactly as"
        " stored, with their leaves; auditors only (ledger.raw: supervisor, accountability officer, admin)."
    )
    async def events(
        self,
        info: Info[Context, None],
        from_: Annotated[int, strawberry.argument(name="from")],
        to: int,
    ) -> list[LedgerEvent]:
        try:
            authorize(actor_of(info), "ledger.raw")
        except Forbidden as exc:
            raise error(str(exc), "FORBIDDEN", 403) from None
        if not 1 <= from_ <= to or to - from_ >= RAW_SPAN:
            raise error(f"give 1 ≤ from ≤ to, at most {RAW_SPAN} positions", "BAD_USER_INPUT", 422)
        model, db = _model(info), info.context.container.db

        def read() -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
            return stored_events(db, "BETWEEN ? AND ?", (from_, to)), model.leaves_between(from_, to)

        rows, leaves = await anyio.to_thread.run_sync(read)
        found = []
        for row in rows:
            leaf = leaves.get(int(row["position"]))
            found.append(
                LedgerEvent(
                    event=stored_event_of(row),
                    leaf_index=int(leaf["leaf_index"]) if leaf else None,
                    leaf_hash=leaf["leaf_hash"] if leaf else None,
                    prev_leaf_hash=leaf["prev_leaf_hash"] if leaf else None,
                )
            )
        return found

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
