"""账本验证器 — the verifier `audit verify` runs (application/ledger.py reads the store and bundles for it).

It takes the events a page at a time: each page's leaves hashed and chains followed (`_hash`), the
page compared with the ledger's leaves in one list comparison while all match, leaf by leaf from the
first difference on (`_compare`: the first bad position), then added to the tree's right edge, each
signed root of a size the page reaches folded from the edge and compared (`_grow`). It keeps
O(log n) tree state, one entry per aggregate for the chains, and one page.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice, pairwise
from typing import Any, NamedTuple

from domain.ledger import Checkpoint, Frontier, TreeHasher, uuid_text
from domain.ledger.checkpoint import SignatureCheck

PAGE = 5000
STORE = "the store"
KEY_NAME = "gongjian-ledger"  # the signer's name in a signed note
_U32 = struct.Struct(">I").pack
EventRow = tuple[int, Any, int, str, bytes]  # position, originator id, version, topic, state (a `StoredEvent`)
LeafRow = tuple[int, int, str, str | None]  # the ledger's leaf: index, position, leaf hash, previous in its chain (hex)


class StoredEvent(NamedTuple):
    """One stored event as the store holds it (`originator_id` as the store gives it: a UUID, its
    text or SQLite's hex; `uuid_text` gives the canonical text the leaf hashes)."""

    position: int
    originator_id: Any
    originator_version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class Held:
    """Signed checkpoints held outside the database (an earlier bundle), with the leaf hashes of its
    events when it has them: (position, leaf hash hex) by leaf index. `source` names it in findings."""

    source: str
    checkpoints: tuple[Checkpoint, ...]
    public_key: bytes | None = None
    leaves: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Finding:
    position: int  # 0: not about one position (a signature, a key, a missing checkpoint)
    problem: str


@dataclass(frozen=True)
class Equivocation:
    """Two different roots for one tree size, each validly signed: the log was forked."""

    tree_size: int
    sources: tuple[str, str]
    notes: tuple[str, str]


@dataclass
class Report:
    """The outcome of a verification; `first_bad` is the lowest position found wrong."""

    algorithm: str
    events: int = 0
    leaves: int = 0
    checkpoints: int = 0
    unledgered: int = 0
    unsigned: int = 0
    uncovered: int = 0  # leaves after the last checkpoint: in the ledger, not yet under a signature
    findings: list[Finding] = field(default_factory=list)
    equivocations: list[Equivocation] = field(default_factory=list)
    seconds: float = 0.0
    bytes_hashed: int = 0
    signatures_verified: int = 0  # distinct signed checkpoints whose Ed25519 signature was checked
    signature_seconds: float = 0.0  # of `seconds`
    signature_cpu_seconds: float = 0.0  # this thread's CPU time of those checks

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_bad(self) -> Finding | None:
        positional = [f for f in self.findings if f.position > 0] or self.findings
        return min(positional, key=lambda f: f.position) if positional else None

    def summary(self) -> str:
        if self.ok:
            tail = f", {self.unledgered} newer events not yet in the ledger" if self.unledgered else ""
            if self.uncovered:
                tail += f", {self.uncovered} leaves after the last checkpoint (not yet signed)"
            unsigned = f" ({self.unsigned} unsigned)" if self.unsigned else ""
            return (
                f"ledger intact: {self.events} events, {self.leaves} leaves, {self.checkpoints} checkpoints"
                f"{unsigned} verified ({self.algorithm}){tail}"
            )
        bad = self.first_bad
        assert bad is not None
        forks = f", EQUIVOCATION at size {', '.join(str(e.tree_size) for e in self.equivocations)}"
        where = f"first bad position {bad.position}: " if bad.position else ""
        return f"TAMPERED: {where}{bad.problem} ({len(self.findings)} findings{forks if self.equivocations else ''})"


def signed_note(checkpoint: Checkpoint, public_key: bytes) -> str:
    """The checkpoint as a C2SP signed note: its text, a blank line, one signature line (key name,
    then base64 of the key id — 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key) — and the signature)."""
    body = checkpoint.message().decode()
    if checkpoint.signature is None:
        return body
    name = checkpoint.origin or KEY_NAME  # the C2SP form: the key name is the origin
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + public_key).digest()[:4]
    return f"{body}\n\u2014 {name} {base64.b64encode(key_id + checkpoint.signature).decode()}\n"


class _Verifier:
    """Streams events and the ledger's leaves side by side; keeps O(log n) tree state plus one
    entry per aggregate for the chains. `checkpoints` are the store's (or the bundle's) own."""

    def __init__(
        self,
        algorithm: str,
        checkpoints: list[Checkpoint],
        public_key: bytes | None,
        *,
        held: Sequence[Held] = (),
        trusted: bool = False,
        every: int | None = None,
        source: str = STORE,
    ) -> None:
        self.hasher = TreeHasher(algorithm)
        self.frontier = Frontier(self.hasher)
        self.checkpoints = {c.tree_size: c for c in checkpoints}
        self.public_key = public_key
        self.trusted = trusted
        self.every = every
        self.source = source
        self.heads: dict[int, list[tuple[str, Checkpoint]]] = {c.tree_size: [(source, c)] for c in checkpoints}
        # the root signed at each size; b"" where the signed roots of a size differ (each compared alone)
        self.roots = {c.tree_size: c.root_hash for c in checkpoints}
        if held or len(self.heads) < len(checkpoints):  # more than one head for some size
            self.heads = {}
            add = self.heads.setdefault
            for c in checkpoints:
                add(c.tree_size, []).append((source, c))
            for h in held:
                for c in h.checkpoints:
                    add(c.tree_size, []).append((h.source, c))
            self.roots = {
                size: heads[0][1].root_hash if len(heads) == 1 else _agreed(heads) for size, heads in self.heads.items()
            }
        self.held = [h for h in held if h.leaves]
        # aggregate → its last version, leaf hash (hex), u32 length ‖ its id's text (36 characters: 40 bytes)
        self.chains: dict[object, tuple[int, str | None, bytes]] = {}
        # topic → the head's packer, u32 length ‖ topic, the head's size
        self.topics: dict[str, tuple[Callable[..., bytes], bytes, int]] = {}
        self.leaf_rows: Iterator[LeafRow] = iter(())
        self.fast = True  # every leaf so far matched the ledger's: compared a page at a time
        self.pending: LeafRow | None = None  # leaf by leaf: the ledger's next leaf
        self.aligned = True  # the ledger's leaves still line up with the store's events
        self.report = Report(algorithm, checkpoints=len(checkpoints))
        self.last_position = 0
        self.diverged: set[str] = set()  # held sources whose leaves no longer line up (compared no further)
        self.exact: int | None = None  # the lowest position whose leaf hash was found wrong
        self.good = (0, 0)  # the last (size, position) where every signed root matched

    def bad(self, position: int, problem: str) -> None:
        self.report.findings.append(Finding(position, problem))

    def run(
        self, events: Iterable[EventRow], leaves: Iterable[LeafRow] | Iterable[Mapping[str, Any]], page: int = PAGE
    ) -> Report:
        """`events` one by one (a bundle, a list), taken `page` at a time; `leaves` as `LeafRow`s or
        as the ledger's dicts."""
        it = iter(events)
        return self.run_pages(iter(lambda: list(islice(it, page)), []), leaves)

    def run_pages(
        self, pages: Iterable[Sequence[EventRow]], leaves: Iterable[LeafRow] | Iterable[Mapping[str, Any]]
    ) -> Report:
        """Each page of events: hashed (leaves, chains), compared with the ledger's leaves, added to
        the tree (every signed root of a size it reaches compared). Anything unexpected goes to the
        methods below, which report it."""
        started, cpu = time.perf_counter(), time.thread_time()
        self._check_signatures()
        self.report.signature_seconds = time.perf_counter() - started
        self.report.signature_cpu_seconds = time.thread_time() - cpu
        self.leaf_rows = _leaf_rows(leaves)
        for page in pages:
            if page:
                digests, hexes, prevs = self._hash(page)
                positions = [e[0] for e in page]
                self._compare(page, positions, hexes, prevs)
                self._grow(digests, positions)
                self.report.events += len(page)
                self.last_position = positions[-1]
        if self.fast:  # every leaf matched so far: is there one more than the store has events?
            self.fast, self.pending = False, next(self.leaf_rows, None)
        if self.aligned and self.pending is not None:
            self._exact(self.pending[1])
            self.bad(self.pending[1], "the ledger holds this event but the store no longer does")
        self._check_tail()
        self._check_cover()
        signed = max(self.checkpoints, default=0)
        self.report.uncovered = max(0, self.report.leaves - signed)
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _hash(self, page: Sequence[EventRow]) -> tuple[list[bytes], list[str], list[str | None]]:
        """Each event's leaf hash (hex) and its aggregate's previous one; the versions checked. The
        leaf data (`leaf_data`) is hashed from a prefixed state: a packed head (position, aggregate,
        version, topic, the state's length), then the stored bytes as they are."""
        chains, topics, new_leaf = self.chains, self.topics, self.hasher.new_leaf
        digests: list[bytes] = []
        hexes: list[str] = []
        prevs: list[str | None] = []
        add_digest, add_hex, add_prev = digests.append, hexes.append, prevs.append
        hashed = 0
        for position, oid, version, topic, state in page:
            before = chains.get(oid)  # the aggregate's versions run 1, 2, 3 …
            if before is None:
                raw = uuid_text(oid).encode()
                assert len(raw) == 36  # uuid_text always gives the 8-4-4-4-12 text (the packer's 40s)
                before = (0, None, _U32(len(raw)) + raw)
            known = topics.get(topic)
            if known is None:
                raw = topic.encode()
                pack = struct.Struct(f">Q40sQ{4 + len(raw)}sI")
                known = topics[topic] = (pack.pack, _U32(len(raw)) + raw, pack.size)
            hashing = new_leaf()
            hashing.update(known[0](position, before[2], version, known[1], len(state)))
            hashing.update(state)
            hashed += known[2] + len(state)
            digest = hashing.digest()
            add_digest(digest)
            leaf = digest.hex()
            add_prev(before[1])
            if version != before[0] + 1:
                self.bad(position, f"aggregate {uuid_text(oid)} jumps to version {version}")
            chains[oid] = (version, leaf, before[2])
            add_hex(leaf)
        self.report.bytes_hashed += hashed
        return digests, hexes, prevs

    def _compare(
        self, page: Sequence[EventRow], positions: list[int], hexes: list[str], prevs: list[str | None]
    ) -> None:
        """The page's leaves against the ledger's: while all match, a page at a time (one list
        comparison); from the first difference on, leaf by leaf to name it."""
        report, start = self.report, self.frontier.size
        if self.fast:
            chunk = list(islice(self.leaf_rows, len(page)))
            if chunk == list(zip(range(start, start + len(page)), positions, hexes, prevs, strict=True)):
                report.leaves += len(chunk)
                self._held(start, positions, hexes)
                return
            self.fast, self.leaf_rows = False, chain(chunk, self.leaf_rows)
            self.pending = next(self.leaf_rows, None)
        rows, pending = self.leaf_rows, self.pending
        for j, (position, leaf, prev) in enumerate(zip(positions, hexes, prevs, strict=True)):
            if not self.aligned:  # the ledger's leaves no longer line up: compared no further
                break
            if pending is None:
                report.unledgered += 1  # newer than the ledger: not evidence of anything yet
            elif pending[1:] == (position, leaf, prev):
                report.leaves += 1
                pending = next(rows, None)
            else:
                self.aligned = self._leaf(position, page[j][1], leaf, pending, prev, start + j)
                pending = next(rows, None) if self.aligned else pending
        self.pending = pending
        self._held(start, positions, hexes)

    def _grow(self, digests: list[bytes], positions: list[int]) -> None:
        """The tree's right edge (`Frontier.append` inline) and, at each size a signed root names,
        its root folded from the edge (`Frontier.root`) and compared."""
        roots_at, new_node, frontier = self.roots, self.hasher.new_node, self.frontier
        nodes, size = frontier.nodes, frontier.size
        start = good = size
        for node in digests:
            index = size
            while index & 1:
                hashing = new_node()
                hashing.update(nodes.pop() + node)
                node = hashing.digest()
                index >>= 1
            nodes.append(node)
            size += 1
            signed = roots_at.get(size)
            if signed is not None:
                root = node
                for left in nodes[-2::-1]:
                    hashing = new_node()
                    hashing.update(left + root)
                    root = hashing.digest()
                if root == signed:
                    good = size
                else:
                    if good > start:  # `_roots` names the last size that matched
                        self.good, good = (good, positions[good - 1 - start]), start
                    frontier.size = size
                    self._roots(self.heads[size], positions[size - 1 - start], root)
        if good > start:  # the last size whose signed roots all matched, and its position
            self.good = (good, positions[good - 1 - start])
        frontier.size = size

    def _exact(self, position: int) -> None:
        self.exact = position if self.exact is None else min(self.exact, position)

    def _leaf(self, position: int, oid: object, leaf: str, stored: LeafRow, prev: str | None, index: int) -> bool:
        """Compares with the ledger's leaf; False when they no longer line up (compared no further)."""
        _, at, stored_leaf, stored_prev = stored
        if at != position:
            if position < at:
                self.bad(position, f"an event the ledger never saw sits before leaf {index} (inserted)")
            else:
                self.bad(at, f"leaf {index} is at this position but the store has no event there (removed)")
            self._exact(min(at, position))
            return False
        if leaf != stored_leaf:
            self._exact(position)
            self.bad(position, f"the stored event does not hash to leaf {index} (changed)")
        if stored_prev != prev:
            self.bad(position, f"the aggregate chain of {uuid_text(oid)} is broken here")
        self.report.leaves += 1
        return True

    def _held(self, start: int, positions: list[int], hexes: list[str]) -> None:
        for held in self.held:
            if held.source in self.diverged or start >= len(held.leaves):
                continue
            mine = list(zip(positions, hexes, strict=True))
            theirs = list(held.leaves[start : start + len(mine)])
            if theirs == mine[: len(theirs)]:
                continue
            j = next(j for j, (a, b) in enumerate(zip(theirs, mine, strict=False)) if a != b)
            (at, _), position = theirs[j], positions[j]
            self.diverged.add(held.source)
            self._exact(min(at, position))
            self.bad(
                min(at, position),
                f"leaf {start + j} differs from the one held in {held.source}"
                f" (held: position {at}; the store: position {position})",
            )

    def _roots(self, heads: list[tuple[str, Checkpoint]], position: int, root: bytes) -> None:
        """Every signed root of this size must be the recomputed one (`root`: of the frontier)."""
        size = self.frontier.size
        wrong = [name for name, c in heads if c.root_hash != root]
        if not wrong:
            self.good = (size, position)
            return
        if self.exact is not None and self.exact <= position:  # (leaves after it: found later in its page)
            at, where = self.exact, f"the first bad position is {self.exact} (its leaf differs)"
        else:
            at = self.good[1] + 1
            where = (
                f"the log differs at a position from {at} to {position}"
                f" (size {self.good[0]} still matches; no leaf hashes are held to narrow it)"
            )
        for name in dict.fromkeys(wrong):
            self.bad(at, f"the recomputed root of size {size} differs from the signed checkpoint in {name}: {where}")

    def _check_tail(self) -> None:
        larger = [(name, c) for size, heads in self.heads.items() if size > self.frontier.size for name, c in heads]
        if larger:
            name, biggest = max(larger, key=lambda h: h[1].tree_size)
            self.bad(
                self.last_position + 1,
                f"a checkpoint signs {biggest.tree_size} leaves but only {self.frontier.size} events remain"
                f" (in {name}; events after this position were removed)",
            )

    def _check_signatures(self) -> None:
        check = SignatureCheck(self.public_key) if self.public_key is not None else None
        for size in sorted(self.heads):
            valid: dict[bytes, tuple[str, Checkpoint]] = {}
            for name, c in self.heads[size]:
                if c.algorithm != self.hasher.algorithm:
                    self.bad(
                        0, f"checkpoint {size} in {name} is for {c.algorithm}, the ledger uses {self.hasher.algorithm}"
                    )
                if c.signature is None:
                    self.report.unsigned += name == self.source
                    if self.trusted:
                        self.bad(0, f"checkpoint {size} in {name} is unsigned, and a trusted key was given")
                elif check is None or not check(c):
                    self.bad(0, f"the signature of checkpoint {size} in {name} does not verify")
                else:
                    valid.setdefault(c.root_hash, (name, c))
            if len(valid) > 1:
                self._equivocation(size, list(valid.values()))
            if self.trusted and valid and size not in self.checkpoints:
                names = ", ".join(dict.fromkeys(name for name, _ in self.heads[size]))
                self.bad(0, f"the signed checkpoint of size {size} held in {names} is missing from {self.source}")
        self.report.signatures_verified = check.verified if check is not None else 0

    def _equivocation(self, size: int, signed: list[tuple[str, Checkpoint]]) -> None:
        assert self.public_key is not None  # only validly signed heads get here
        (first, a), (second, b) = signed[0], signed[1]
        notes = (signed_note(a, self.public_key), signed_note(b, self.public_key))
        self.report.equivocations.append(Equivocation(size, (first, second), notes))
        self.bad(
            0,
            f"equivocation: two different signed roots for size {size}, {a.root_hash.hex()} in {first}"
            f" and {b.root_hash.hex()} in {second}",
        )

    def _check_cover(self) -> None:
        """With a trusted key: no run of more than `every` ledgered leaves under no signed checkpoint."""
        if not (self.trusted and self.every):
            return
        sizes = [0, *sorted(s for s in self.checkpoints if s <= self.report.leaves)]
        gaps = [(a, b) for a, b in pairwise(sizes) if b - a > self.every]
        if self.report.leaves - sizes[-1] >= self.every:
            gaps.append((sizes[-1], self.report.leaves))
        for a, b in gaps:
            self.bad(
                0,
                f"no signed checkpoint covers leaves {a} to {b - 1}: the ledger signs at least every"
                f" {self.every} leaves (a checkpoint is missing)",
            )


def _agreed(heads: list[tuple[str, Checkpoint]]) -> bytes:
    roots = {c.root_hash for _, c in heads}
    return roots.pop() if len(roots) == 1 else b""


def _leaf_rows(leaves: Iterable[LeafRow] | Iterable[Mapping[str, Any]]) -> Iterator[LeafRow]:
    """Leaves as `LeafRow`s, from tuples or from the ledger's (or a bundle's) dicts."""
    it: Iterator[Any] = iter(leaves)
    first = next(it, None)
    if first is None:
        return iter(())
    rows = chain([first], it)
    if not isinstance(first, Mapping):
        return rows
    return (
        (int(d.get("leaf_index", i)), int(d["position"]), d["leaf_hash"], d.get("prev_leaf_hash"))
        for i, d in enumerate(rows)
    )
