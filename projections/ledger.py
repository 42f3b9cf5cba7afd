"""ledger — the tamper-evident ledger: an RFC 9162 Merkle tree over the one log.

Answers: is this event in the log the ledger signed (inclusion proof), does today's log extend the
one of an earlier checkpoint (consistency proof), what was the signed tree head. Consumes every
event; hashes the *stored* bytes (read from the events table in the batch's transaction, so the
leaf is exactly what `audit verify` re-reads from the store), not a re-encoding.

Tables: `ledger_leaves` (leaf index → position, aggregate, leaf hash, the previous leaf hash of the
same aggregate: a per-aggregate hash chain), `ledger_nodes` (every complete subtree above the
leaves by (level, index), so any proof is O(log n) rows), `ledger_heads` (each aggregate's last
leaf), `ledger_meta` (the hash algorithm).

Signed checkpoints (every N events or at the first event recorded T seconds after the last one;
time = recording time of the last event) are not rows of this read model: they go to the durable,
append-only `ledger_signed_checkpoints` (infrastructure/checkpoint_log.py), which no rebuild clears.
Reaching a size signed before, the model compares its recomputed root with the signed one and stops
with `LedgerMismatch` on a difference; it signs only sizes beyond the largest ever signed. The hash
algorithm is that of the signed checkpoints once there are any (a rebuild cannot switch it).
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from domain.ledger import (
    Checkpoint,
    Frontier,
    ProofError,
    TreeHasher,
    complete_subtrees,
    consistency_ranges,
    fold,
    inclusion_ranges,
    uuid_text,
)
from domain.ledger.checkpoint import checkpoint_of
from domain.ledger.merkle import Node, Range
from infrastructure.checkpoint_log import (
    AHEAD,
    BEHIND,
    COSIGNATURES,
    INSERT,
    SIGNED,
    create_checkpoint_log,
    latest_row,
    signed_rows,
)
from infrastructure.checkpoint_log import TABLE as CHECKPOINT_LOG
from infrastructure.db import Cursor, Database
from infrastructure.ledger_key import ledger_signer
from infrastructure.settings import Settings
from infrastructure.store import events_table, position_column
from projections.base import Envelope, ReadModel, bigint, fetch_together

log = logging.getLogger(__name__)
CHUNK = 400  # parameters per IN (...) list
# the algorithm, the tree size and the time of the first leaf, in one look-up
STATE = (
    "SELECT (SELECT value FROM ledger_meta WHERE key = 'algorithm') AS algorithm,"
    " (SELECT MAX(leaf_index) FROM ledger_leaves) AS m,"
    " (SELECT recorded_at FROM ledger_leaves WHERE leaf_index = 0) AS first_time",
    (),
)
VERIFIED = "leaf_index, position, leaf_hash, prev_leaf_hash"  # the leaf columns `audit verify` compares
LEAF_COLUMNS = (
    "leaf_index", "position", "originator_id", "originator_version", "leaf_hash", "prev_leaf_hash", "recorded_at",
)  # fmt: skip


class LedgerMismatch(RuntimeError):
    """账本不符 — the log no longer hashes to a root that was signed: the ledger stops there."""


class Signer(Protocol):
    @property
    def public_key(self) -> bytes: ...
    def sign(self, message: bytes) -> bytes: ...


@dataclass(frozen=True)
class LedgerConfig:
    algorithm: str = "sm3"
    every: int = 1000
    seconds: int = 60
    signer: Signer | None = None
    origin: str = "gongjian.hainan.gov.cn/ledger"  # the C2SP checkpoint origin line (and the note's key name)


def ledger_config(settings: Settings) -> LedgerConfig:
    return LedgerConfig(
        algorithm=settings.ledger_algorithm,
        every=settings.ledger_checkpoint_every,
        seconds=settings.ledger_checkpoint_seconds,
        signer=ledger_signer(settings),
        origin=settings.ledger_origin,
    )


@dataclass(frozen=True)
class InclusionProof:
    position: int
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    path: list[bytes]
    root_hash: bytes


@dataclass(frozen=True)
class ConsistencyProof:
    first_size: int
    second_size: int
    first_root: bytes
    second_root: bytes
    path: list[bytes]


class Ledger(ReadModel):
    name = "ledger"
    tables = ("ledger_leaves", "ledger_nodes", "ledger_heads", "ledger_meta")
    durable = (CHECKPOINT_LOG, COSIGNATURES)  # the signed checkpoints, their cosignatures: no rebuild clears them

    def __init__(self, db: Database, config: LedgerConfig | None = None) -> None:
        super().__init__(db)
        self.config = config or LedgerConfig()

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ledger_leaves ("
            f" leaf_index {big} PRIMARY KEY, position {big} NOT NULL UNIQUE,"
            " originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL,"
            " leaf_hash TEXT NOT NULL, prev_leaf_hash TEXT, recorded_at TEXT NOT NULL)"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS ledger_nodes (level INTEGER NOT NULL, idx {big} NOT NULL,"
            " hash TEXT NOT NULL, PRIMARY KEY (level, idx))"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ledger_heads (originator_id TEXT PRIMARY KEY,"
            " originator_version INTEGER NOT NULL, leaf_hash TEXT NOT NULL)"
        )
        cur.execute("CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        create_checkpoint_log(cur, dialect)

    # --- projection -----------------------------------------------------------------------------

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        if not batch:
            return
        # the state, the batch's stored rows and the heads it continues: independent, so together
        # (one round trip in a live batch); the aggregates come from the events, the same rows
        continuing = {cast(Any, env.event).originator_id for env in batch if env.event.originator_version > 1}
        head_queries = self._head_queries(continuing)
        state, signed, behind, ahead, stored, *head_rows = fetch_together(
            cur, [STATE, (SIGNED, ()), (BEHIND, ()), (AHEAD, (len(batch),)), self._stored_query(batch), *head_queries]
        )
        algorithm, size, last_time = self._state(cur, state[0] if state else {}, signed[0], behind)
        signed_size = int(signed[0]["signed_size"] or 0)  # never sign at or below the largest size signed before
        known = {int(r["tree_size"]): r for r in ahead}
        good = behind[0] if behind else None  # the last signed checkpoint the recomputed tree matched
        rows = self._stored(batch, stored)
        heads = {r["originator_id"]: r["leaf_hash"] for found in head_rows for r in found}
        hasher = TreeHasher(algorithm)
        frontier = Frontier(hasher, size, [bytes.fromhex(h) for h in self._hashes(cur, Frontier.positions(size))])
        stored_heads = set(heads)  # the aggregates ledger_heads already has a row for
        leaves: list[tuple[Any, ...]] = []
        nodes: list[tuple[Any, ...]] = []
        checkpoints: list[tuple[Any, ...]] = []
        every, seconds = self.config.every, self.config.seconds
        new_leaf, new_node, edge = hasher.new_leaf, hasher.new_node, frontier.nodes
        # leaf_data's bytes as the verifier packs them: a head per topic's layout, then the state;
        # each aggregate's canonical id (and its length-prefixed bytes) worked out once a batch
        ids: dict[Any, tuple[str, bytes]] = {}

        for env, row in zip(batch, rows, strict=True):
            position = env.position
            found = ids.get(row["originator_id"])
            if found is None:
                oid = uuid_text(row["originator_id"])
                found = ids[row["originator_id"]] = (oid, _prefixed(oid))
            oid = found[0]
            version = int(row["originator_version"])
            stored_state = row["state"]
            pack, topic = _LAYOUTS.get(row["topic"]) or _layout(row["topic"])
            hashing = new_leaf()
            hashing.update(pack(position, found[1], version, topic, len(stored_state)))
            hashing.update(stored_state)
            leaf = node = hashing.digest()
            leaf_hex = leaf.hex()
            recorded = cast(datetime, getattr(env.event, "timestamp")).astimezone(UTC)  # noqa: B009
            index = frontier.size
            leaves.append((index, position, oid, version, leaf_hex, heads.get(oid), recorded.isoformat()))
            heads[oid] = leaf_hex
            level = 0
            while index & 1:  # Frontier.append inline: the subtrees this leaf completes
                hashing = new_node()
                hashing.update(edge.pop() + node)
                node = hashing.digest()
                level += 1
                index >>= 1
                nodes.append((level, index, node.hex()))
            edge.append(node)
            frontier.size = size = frontier.size + 1
            if last_time is None:
                last_time = recorded  # T counts from the first event
            before = known.get(size)
            if before is not None:  # signed before: the same root, or the log changed since
                self._check(hasher, frontier, before, position, good)
                good, last_time = before, recorded
            elif size > signed_size and (
                size % every == 0 or (seconds and (recorded - last_time).total_seconds() >= seconds)
            ):
                checkpoints.append(self._checkpoint(hasher, frontier, recorded, position))
                last_time = recorded
        # COPY on PostgreSQL: a prepared INSERT per leaf and node was most of this model's rebuild time
        cur.insert_rows("ledger_leaves", LEAF_COLUMNS, leaves)
        cur.insert_rows("ledger_nodes", ("level", "idx", "hash"), nodes)
        latest = {oid: (version, leaf) for _, _, oid, version, leaf, _, _ in leaves}
        # new aggregates by COPY, the few that continue from an earlier batch by UPDATE
        cur.insert_rows(
            "ledger_heads",
            ("originator_id", "originator_version", "leaf_hash"),
            [(oid, version, leaf) for oid, (version, leaf) in latest.items() if oid not in stored_heads],
        )
        moved = [(version, leaf, oid) for oid, (version, leaf) in latest.items() if oid in stored_heads]
        if moved:
            cur.executemany(
                "UPDATE ledger_heads SET originator_version = ?, leaf_hash = ? WHERE originator_id = ?", moved
            )
        if checkpoints:
            cur.executemany(INSERT, checkpoints)

    @staticmethod
    def _check(
        hasher: TreeHasher, frontier: Frontier, signed: dict[str, Any], position: int, good: dict[str, Any] | None
    ) -> None:
        """The recomputed head of a size signed before must be the signed one (root, algorithm, last
        position); else stop: the batch rolls back and the ledger stays at its last good batch."""
        if (signed["root_hash"], signed["algorithm"], int(signed["last_position"])) == (
            frontier.root().hex(),
            hasher.algorithm,
            position,
        ):
            return
        after = f" after position {good['last_position']} (size {good['tree_size']} still matches) and" if good else ""
        raise LedgerMismatch(
            f"the recomputed root of size {frontier.size} (up to position {position}) differs from the signed"
            f" checkpoint of that size: the log changed{after} at or before position {position};"
            " the ledger stops here and nothing is signed anew (`gongjian audit verify --against` a held"
            " bundle names the first bad position)"
        )

    def _checkpoint(self, hasher: TreeHasher, frontier: Frontier, time: datetime, position: int) -> tuple[Any, ...]:
        origin = self.config.origin
        head = Checkpoint(frontier.size, frontier.root(), time.isoformat(), hasher.algorithm, origin=origin)
        signer = self.config.signer
        signature = signer.sign(head.message()).hex() if signer else None
        public = signer.public_key.hex() if signer else None
        return (head.tree_size, head.root_hash.hex(), head.time, head.algorithm, position, signature, public, origin)

    def _state(
        self, cur: Cursor, row: dict[str, Any], signed: dict[str, Any], behind: list[dict[str, Any]]
    ) -> tuple[str, int, datetime | None]:
        """The algorithm, the tree size and the time T counts from (`STATE`'s row, the first signed
        checkpoint's algorithm, the last signed checkpoint the ledger has reached)."""
        algorithm = row.get("algorithm")
        if algorithm is None:
            # fixed by the checkpoints signed so far, else by the settings (until one is signed)
            algorithm = signed.get("algorithm") or self.config.algorithm
            if algorithm != self.config.algorithm:
                log.warning("ledger: keeping %s, the algorithm of the signed checkpoints, not %s", algorithm,
                            self.config.algorithm)  # fmt: skip
            TreeHasher(algorithm)  # refuses an unknown name before anything is written
            cur.execute("INSERT INTO ledger_meta (key, value) VALUES ('algorithm', ?)", (algorithm,))
        size = 0 if row.get("m") is None else int(row["m"]) + 1
        time = behind[0]["time"] if behind else row.get("first_time")
        return str(algorithm), size, datetime.fromisoformat(time) if time else None

    def _size(self, cur: Cursor) -> int:
        cur.execute("SELECT MAX(leaf_index) AS m FROM ledger_leaves")
        row = cur.fetchone()
        return 0 if row is None or row["m"] is None else int(row["m"]) + 1

    def _stored_query(self, batch: Sequence[Envelope]) -> tuple[str, Sequence[Any]]:
        """The batch's rows exactly as stored (one range query)."""
        pos = position_column(self.db)
        # PostgreSQL's text of a uuid is uuid_text's spelling: no UUID object made for each row
        oid = "originator_id::text AS originator_id" if self.db.dialect == "postgresql" else "originator_id"
        return (
            f"SELECT {pos} AS position, {oid}, originator_version, topic, state"  # noqa: S608 — fixed names
            f" FROM {events_table(self.db)} WHERE {pos} >= ? AND {pos} <= ? ORDER BY {pos}",
            (batch[0].position, batch[-1].position),
        )

    @staticmethod
    def _stored(batch: Sequence[Envelope], found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        wanted = {env.position for env in batch}
        rows = [r for r in found if int(r["position"]) in wanted]
        if [int(r["position"]) for r in rows] != [env.position for env in batch]:
            raise RuntimeError("the stored rows of this batch are not the notifications it was given")
        return rows

    @staticmethod
    def _head_queries(oids: set[Any]) -> list[tuple[str, Sequence[Any]]]:
        keys = sorted(uuid_text(o) for o in oids)
        return [
            (
                "SELECT originator_id, leaf_hash FROM ledger_heads"  # noqa: S608 — marks only
                f" WHERE originator_id IN ({', '.join('?' * len(keys[i : i + CHUNK]))})",
                keys[i : i + CHUNK],
            )
            for i in range(0, len(keys), CHUNK)
        ]

    def _hashes(self, cur: Cursor, wanted: Sequence[Node]) -> list[str]:
        """Hex hashes of complete subtrees (level 0: leaves), in the order asked."""
        found: dict[Node, str] = {}
        leaves = [idx for level, idx in wanted if level == 0]
        inner = [(level, idx) for level, idx in wanted if level > 0]
        parts: list[str] = []  # leaves and inner nodes in one query: one round trip
        if leaves:
            parts.append(
                "SELECT 0 AS level, leaf_index AS idx, leaf_hash AS hash FROM ledger_leaves"  # noqa: S608 — marks only
                f" WHERE leaf_index IN ({', '.join('?' * len(leaves))})"
            )
        if inner:
            parts.append(
                "SELECT level, idx, hash FROM ledger_nodes WHERE "  # noqa: S608 — placeholders only
                + " OR ".join("(level = ? AND idx = ?)" for _ in inner)
            )
        if parts:
            cur.execute(" UNION ALL ".join(parts), [*leaves, *(v for node in inner for v in node)])
            found.update({(int(r["level"]), int(r["idx"])): r["hash"] for r in cur.fetchall()})
        missing = [n for n in wanted if n not in found]
        if missing:
            raise ProofError(f"the ledger lacks subtrees {missing}")
        return [found[n] for n in wanted]

    # --- queries --------------------------------------------------------------------------------

    def _read(self) -> _ReadCursor:
        return _ReadCursor(self.db)

    def algorithm(self) -> str:
        rows = self.db.query("SELECT value FROM ledger_meta WHERE key = 'algorithm'")
        return str(rows[0]["value"]) if rows else self.config.algorithm

    def size(self) -> int:
        return self._size(self._read())

    def checkpoints(self) -> list[Checkpoint]:
        return [checkpoint_of(r) for r in self.checkpoint_rows()]

    def checkpoint_rows(self, up_to: int | None = None) -> list[dict[str, Any]]:
        """The durable signed checkpoints (of at most `up_to` leaves), whether or not the ledger's
        leaves reach them yet."""
        return signed_rows(self.db, up_to)

    def latest_checkpoint(self) -> dict[str, Any] | None:
        """The latest signed checkpoint the ledger's leaves reach (its root can be proved to)."""
        return latest_row(self.db)

    def leaf(self, position: int) -> dict[str, Any] | None:
        rows = self.db.query("SELECT * FROM ledger_leaves WHERE position = ?", (position,))
        return rows[0] if rows else None

    def leaves_between(self, first: int, last: int) -> dict[int, dict[str, Any]]:
        """The leaves of the events at positions first..last, by position."""
        rows = self.db.query("SELECT * FROM ledger_leaves WHERE position BETWEEN ? AND ?", (first, last))
        return {int(r["position"]): r for r in rows}

    def leaves(self, batch: int = 5000, columns: str = "*") -> Iterator[dict[str, Any]]:
        """Every leaf in order, a page at a time (memory does not grow with the log); `columns`:
        those wanted (`VERIFIED`: what `audit verify` compares), `leaf_index` among them."""
        after = -1
        while True:
            rows = self.db.query(
                f"SELECT {columns} FROM ledger_leaves WHERE leaf_index > ? ORDER BY leaf_index LIMIT ?",  # noqa: S608
                (after, batch),
            )
            yield from rows
            if len(rows) < batch:
                return
            after = int(rows[-1]["leaf_index"])

    def _range_roots(self, size: int, ranges: Iterable[Range]) -> list[bytes]:
        ranges = list(ranges)
        if size > self.size():
            raise ProofError(f"the ledger holds {self.size()} leaves, not {size}")
        per_range = [complete_subtrees(s, e) for s, e in ranges]
        wanted = list(dict.fromkeys(n for nodes in per_range for n in nodes))
        hashes = dict(zip(wanted, (bytes.fromhex(h) for h in self._hashes(self._read(), wanted)), strict=True))
        hasher = TreeHasher(self.algorithm())
        return [fold(hasher, [hashes[n] for n in nodes]) for nodes in per_range]

    def root(self, size: int) -> bytes:
        if size == 0:
            return TreeHasher(self.algorithm()).empty_root()
        return self._range_roots(size, [(0, size)])[0]

    def default_tree_size(self, leaf_index: int) -> int:
        """The latest checkpoint that covers the leaf, else the whole ledger (not yet signed)."""
        latest = self.latest_checkpoint()
        if latest is not None and int(latest["tree_size"]) > leaf_index:
            return int(latest["tree_size"])
        return self.size()

    def inclusion_proof(self, position: int, tree_size: int | None = None) -> InclusionProof | None:
        leaf = self.leaf(position)
        if leaf is None:
            return None
        index = int(leaf["leaf_index"])
        size = self.default_tree_size(index) if tree_size is None else tree_size
        ranges = inclusion_ranges(index, size)
        roots = self._range_roots(size, [*ranges, (0, size)])
        return InclusionProof(position, index, size, bytes.fromhex(leaf["leaf_hash"]), roots[:-1], roots[-1])

    def consistency_proof(self, first: int, second: int) -> ConsistencyProof:
        if first == 0:  # every tree extends the empty one: the proof is empty (§2.1.4.2)
            return ConsistencyProof(0, second, self.root(0), self.root(second), [])
        ranges = consistency_ranges(first, second) if first != second else []
        roots = self._range_roots(second, [*ranges, (0, first), (0, second)])
        return ConsistencyProof(first, second, roots[-2], roots[-1], roots[:-2])


class _ReadCursor:
    """Runs the handler's look-ups outside a transaction (queries share the SQL with `handle`)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._rows: list[dict[str, Any]] = []

    @property
    def rowcount(self) -> int:
        return len(self._rows)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._rows = self.db.query(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError("read-only")

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError("read-only")

    def fetchall(self) -> list[dict[str, Any]]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> dict[str, Any] | None:
        return self._rows.pop(0) if self._rows else None


_U32 = struct.Struct(">I")
_LAYOUTS: dict[str, tuple[Callable[..., bytes], bytes]] = {}


def _layout(topic: str) -> tuple[Callable[..., bytes], bytes]:
    """The packer of `leaf_data`'s head for this topic (position, length-prefixed aggregate id,
    version, length-prefixed topic, the state's length) and the topic's length-prefixed bytes."""
    raw = topic.encode()
    found = _LAYOUTS[topic] = (struct.Struct(f">Q40sQ{4 + len(raw)}sI").pack, _U32.pack(len(raw)) + raw)
    return found


def _prefixed(oid: str) -> bytes:
    raw = oid.encode()
    if len(raw) != 36:  # uuid_text's 8-4-4-4-12 text: the layout's 40 bytes
        raise ValueError(f"not a canonical aggregate id: {oid!r}")
    return _U32.pack(len(raw)) + raw
