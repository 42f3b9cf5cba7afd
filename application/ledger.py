"""账本验证 — verify the ledger against the raw store, export an evidence bundle, verify a bundle offline.

`verify_store` re-reads every stored event from the events table itself (`stored_rows`: one query
per 5,000 rows, the bytes as stored; not the read models), recomputes each leaf, the per-aggregate chains and the tree roots, and compares them with what the ledger
holds (its leaves, to name the first bad position), with the durable signed checkpoints, and with
checkpoints held outside the database (`Held`: earlier bundles). Every signed root at a size the
store reaches is compared with the store's recomputed root at that size; two different validly
signed roots for one size, wherever they come from, are an equivocation and both signed notes are
reported. The first bad position is exact where some leaf hashes are held that the intruder did not
rewrite (a held bundle's events, or the ledger's own leaves when it was not re-derived); with only
roots held it is the first position after the last size that still matches, and the finding says
up to where the difference can lie.
A gap in notification ids is not tampering (PostgreSQL skips ids after a rollback); a leaf whose
position the store no longer has is, and so is a checkpoint larger than the log (a removed tail).
Events after the ledger's last leaf are reported as not yet in the ledger, not as bad.

With a trusted key (given by the verifier, or the key of the bundles it held) an unsigned checkpoint,
a held one the store lacks, or a run of more than `every` leaves under no checkpoint fails.

`verify_bundle` runs the same checks on an exported bundle, with nothing but the bundle: the
events' stored bytes, the leaf hashes, the signed checkpoints and the public key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, NamedTuple

from application.app import GongjianApplication
from domain.ledger import Checkpoint, Frontier, TreeHasher, uuid_text
from domain.ledger.checkpoint import SIGNATURE_ALGORITHM, SignatureCheck
from infrastructure.db import Database
from infrastructure.store import events_table, position_column
from projections.ledger import VERIFIED, Ledger, checkpoint_of

BUNDLE_FORMAT = "gongjian-ledger-bundle/1"
PAGE = 5000
STORE = "the store"
KEY_NAME = "gongjian-ledger"  # the signer's name in a signed note
_U64 = struct.Struct(">Q").pack
_U32 = struct.Struct(">I").pack


class StoredEvent(NamedTuple):
    """One stored event as the store holds it (`originator_id` in its canonical text)."""

    position: int
    originator_id: str
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
        self.heads: dict[int, list[tuple[str, Checkpoint]]] = {}
        for name, c in [*((source, c) for c in checkpoints), *((h.source, c) for h in held for c in h.checkpoints)]:
            self.heads.setdefault(c.tree_size, []).append((name, c))
        self.held = [h for h in held if h.leaves]
        self.chains: dict[str, tuple[int, str]] = {}  # aggregate → its last version, leaf hash (hex)
        self.report = Report(algorithm, checkpoints=len(checkpoints))
        self.last_position = 0
        self.diverged: set[str] = set()  # held sources whose leaves no longer line up (compared no further)
        self.exact: int | None = None  # the lowest position whose leaf hash was found wrong
        self.good = (0, 0)  # the last (size, position) where every signed root matched

    def bad(self, position: int, problem: str) -> None:
        self.report.findings.append(Finding(position, problem))

    def run(self, events: Iterable[StoredEvent], leaves: Iterable[dict[str, Any]]) -> Report:
        started = time.perf_counter()
        self._check_signatures()
        self.report.signature_seconds = time.perf_counter() - started
        # the hot loop: each event's leaf bytes (`leaf_data`) hashed from a prefixed state, its
        # aggregate's chain, the comparison with the ledger's leaf, the tree's right edge kept inline
        # (`Frontier.append`); anything unexpected goes to the methods below, which report it
        report, chains, heads_at, held = self.report, self.chains, self.heads, self.held
        new_leaf, new_node = self.hasher.new_leaf, self.hasher.new_node
        frontier = self.frontier
        nodes, size = frontier.nodes, frontier.size
        ids: dict[str, bytes] = {}  # aggregate id → u32 length ‖ its text (36 characters: 40 bytes)
        topics: dict[str, tuple[Callable[..., bytes], bytes]] = {}  # topic → the head's packer, u32 length ‖ topic
        leaf_iter: Iterator[dict[str, Any]] = iter(leaves)
        pending = next(leaf_iter, None)
        aligned = True  # the ledger's leaves still line up with the store's events
        count = ledgered = hashed = 0
        for event in events:
            position, oid, version, topic, state = event
            count += 1
            oid_part = ids.get(oid)
            if oid_part is None:
                raw = uuid_text(oid).encode()
                assert len(raw) == 36  # uuid_text always gives the 8-4-4-4-12 text (the packer's 40s)
                oid_part = ids[oid] = _U32(len(raw)) + raw
            known = topics.get(topic)
            if known is None:
                raw = topic.encode()
                known = topics[topic] = (struct.Struct(f">Q40sQ{4 + len(raw)}sI").pack, _U32(len(raw)) + raw)
            # the leaf data up to the state: position, aggregate, version, topic, the state's length
            head = known[0](position, oid_part, version, known[1], len(state))
            hashed += len(head) + len(state)
            hashing = new_leaf()
            hashing.update(head)
            hashing.update(state)
            leaf = hashing.digest()
            leaf_hex = leaf.hex()
            before = chains.get(oid)  # the aggregate's versions run 1, 2, 3 …
            if version != (before[0] + 1 if before else 1):
                self.bad(position, f"aggregate {oid} jumps to version {version}")
            chains[oid] = (version, leaf_hex)
            prev = before[1] if before else None
            if aligned:
                if pending is None:
                    report.unledgered += 1  # newer than the ledger: not evidence of anything yet
                elif (
                    pending["position"] == position
                    and pending["leaf_hash"] == leaf_hex
                    and pending.get("prev_leaf_hash") == prev
                ):
                    ledgered += 1
                    pending = next(leaf_iter, None)
                else:
                    aligned = self._leaf(event, leaf_hex, pending, prev, size)
                    pending = next(leaf_iter, None) if aligned else pending
            if held:
                self._held_leaf(size, position, leaf_hex)
            node, index = leaf, size
            while index & 1:
                hashing = new_node()
                hashing.update(nodes.pop() + node)
                node = hashing.digest()
                index >>= 1
            nodes.append(node)
            size += 1
            heads = heads_at.get(size)
            if heads is not None:  # signed roots of this size: fold the right edge (`Frontier.root`)
                root = node
                for left in nodes[-2::-1]:
                    hashing = new_node()
                    hashing.update(left + root)
                    root = hashing.digest()
                for _, c in heads:
                    if c.root_hash != root:
                        frontier.size, self.last_position = size, position
                        self._roots(heads, position, root)
                        break
                else:
                    self.good = (size, position)
        frontier.size = size
        report.events += count
        report.leaves += ledgered
        report.bytes_hashed += hashed
        if count:
            self.last_position = position
        if aligned and pending is not None:
            self._exact(int(pending["position"]))
            self.bad(int(pending["position"]), "the ledger holds this event but the store no longer does")
        self._check_tail()
        self._check_cover()
        signed = max(self.checkpoints, default=0)
        self.report.uncovered = max(0, self.report.leaves - signed)
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _exact(self, position: int) -> None:
        self.exact = position if self.exact is None else min(self.exact, position)

    def _leaf(self, event: StoredEvent, leaf: str, stored: dict[str, Any], prev: str | None, index: int) -> bool:
        """Compares with the ledger's leaf; False when they no longer line up (compared no further)."""
        if int(stored["position"]) != event.position:
            missing = int(stored["position"])
            if event.position < missing:
                self.bad(event.position, f"an event the ledger never saw sits before leaf {index} (inserted)")
            else:
                self.bad(missing, f"leaf {index} is at this position but the store has no event there (removed)")
            self._exact(min(missing, event.position))
            return False
        if leaf != stored["leaf_hash"]:
            self._exact(event.position)
            self.bad(event.position, f"the stored event does not hash to leaf {index} (changed)")
        if stored.get("prev_leaf_hash") != prev:
            self.bad(event.position, f"the aggregate chain of {event.originator_id} is broken here")
        self.report.leaves += 1
        return True

    def _held_leaf(self, index: int, position: int, leaf: str) -> None:
        for held in self.held:
            if index < len(held.leaves) and held.source not in self.diverged:
                at, hashed = held.leaves[index]
                if at != position or hashed != leaf:
                    self.diverged.add(held.source)
                    self._exact(min(at, position))
                    self.bad(
                        min(at, position),
                        f"leaf {index} differs from the one held in {held.source}"
                        f" (held: position {at}; the store: position {position})",
                    )

    def _roots(self, heads: list[tuple[str, Checkpoint]], position: int, root: bytes) -> None:
        """Every signed root of this size must be the recomputed one (`root`: of the frontier)."""
        size = self.frontier.size
        wrong = [name for name, c in heads if c.root_hash != root]
        if not wrong:
            self.good = (size, position)
            return
        if self.exact is not None:
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


# --- from the store -------------------------------------------------------------------------


def stored_events(app: GongjianApplication, page: int = PAGE) -> Iterator[StoredEvent]:
    """Every stored event in log order, straight from the recorder (gaps in ids are skipped over)."""
    start = 0
    while True:
        notifications = app.recorder.select_notifications(start=start, limit=page, inclusive_of_start=False)
        for n in notifications:
            yield StoredEvent(n.id, uuid_text(n.originator_id), n.originator_version, n.topic, bytes(n.state))
        if len(notifications) < page:
            return
        start = notifications[-1].id


def stored_rows(db: Database, page: int = PAGE) -> Iterator[StoredEvent]:
    """Every stored event in log order, read from the events table itself a page at a time (one
    query per page, the columns the ledger hashed: `Ledger._stored_query`), its bytes as stored;
    the same events as `stored_events`, without the recorder's notification objects."""
    pos = position_column(db)
    sql = (
        f"SELECT {pos} AS position, originator_id, originator_version, topic, state"  # noqa: S608 — fixed names
        f" FROM {events_table(db)} WHERE {pos} > ? ORDER BY {pos} LIMIT ?"
    )
    ids: dict[Any, str] = {}  # the store's aggregate id → its canonical text (one parse per aggregate)
    after = 0
    while True:
        rows = db.query(sql, (after, page))
        for r in rows:
            raw = r["originator_id"]
            oid = ids.get(raw)
            if oid is None:
                oid = ids[raw] = uuid_text(raw)
            yield StoredEvent(r["position"], oid, r["originator_version"], r["topic"], bytes(r["state"]))
        if len(rows) < page:
            return
        after = rows[-1]["position"]


def verify_store(
    app: GongjianApplication, ledger: Ledger, held: Sequence[Held] = (), public_key: bytes | None = None
) -> Report:
    """`held`: checkpoints (and leaf hashes) held outside the database, compared too. `public_key`:
    the key the verifier trusts (obtained from outside); without it the key of the held bundles is
    trusted, and without those the key the store's checkpoints name (then unsigned or missing
    checkpoints are only counted, not failed)."""
    rows = ledger.checkpoint_rows()
    keys = {r["public_key"] for r in rows if r.get("public_key")}
    held_keys = {h.public_key for h in held if h.public_key}
    trusted = public_key or (next(iter(held_keys)) if len(held_keys) == 1 else None)
    key = trusted or (bytes.fromhex(next(iter(keys))) if len(keys) == 1 else None)
    verifier = _Verifier(
        ledger.algorithm(),
        [checkpoint_of(r) for r in rows],
        key,
        held=held,
        trusted=trusted is not None,
        every=ledger.config.every,
    )
    if len(keys) > 1:
        verifier.bad(0, "checkpoints are signed by more than one key")
    elif trusted is not None and keys and keys != {trusted.hex()}:
        verifier.bad(0, "the store's checkpoints are signed by another key than the trusted one")
    for h in held:
        if h.public_key is not None and h.public_key != key:
            verifier.bad(0, f"{h.source} is signed by another key than the trusted one")
    return verifier.run(stored_rows(ledger.db), ledger.leaves(columns=VERIFIED))


# --- bundles --------------------------------------------------------------------------------


def export_bundle(app: GongjianApplication, ledger: Ledger) -> dict[str, Any]:
    """Everything a third party needs: algorithm, public key, signed checkpoints, each ledgered
    event's stored bytes with its leaf hash and chain link."""
    keys = {r["public_key"] for r in ledger.checkpoint_rows() if r.get("public_key")}
    events = []
    for event, leaf in zip(stored_events(app), ledger.leaves(), strict=False):
        events.append(
            {
                "position": event.position,
                "originator_id": event.originator_id,
                "originator_version": event.originator_version,
                "topic": event.topic,
                "state": base64.b64encode(event.state).decode(),
                "leaf_hash": leaf["leaf_hash"],
                "prev_leaf_hash": leaf["prev_leaf_hash"],
            }
        )
    return {
        "format": BUNDLE_FORMAT,
        "algorithm": ledger.algorithm(),
        "signature_algorithm": SIGNATURE_ALGORITHM,
        "public_key": keys.pop() if len(keys) == 1 else None,
        "checkpoints": [
            {
                k: r.get(k)
                for k in ("tree_size", "root_hash", "time", "algorithm", "signature", "last_position", "origin")
            }
            for r in ledger.checkpoint_rows(up_to=len(events))  # those the exported events reach
        ],
        "events": events,
    }


def bundle_checkpoints(bundle: dict[str, Any]) -> list[Checkpoint]:
    return [checkpoint_of(c) for c in bundle["checkpoints"]]


def held_of(bundle: dict[str, Any], source: str) -> Held:
    """An earlier bundle kept outside the database: its signed checkpoints, its public key and its
    events' leaf hashes (check the bundle itself with `verify_bundle`)."""
    if bundle.get("format") != BUNDLE_FORMAT:
        raise ValueError(f"{source} is not a {BUNDLE_FORMAT} bundle")
    key = bundle.get("public_key")
    leaves = tuple((int(e["position"]), str(e["leaf_hash"])) for e in bundle.get("events", ()))
    return Held(source, tuple(bundle_checkpoints(bundle)), bytes.fromhex(key) if key else None, leaves)


def verify_bundle(bundle: dict[str, Any], trusted_public_key: bytes | None = None) -> Report:
    """Offline: no database, only the bundle. A verifier who got the authority's public key some
    other way passes it as `trusted_public_key`: a bundle re-signed with another key then fails."""
    if bundle.get("format") != BUNDLE_FORMAT:
        report = Report(str(bundle.get("algorithm")))
        report.findings.append(Finding(0, f"not a {BUNDLE_FORMAT} bundle"))
        return report
    public_key = bytes.fromhex(bundle["public_key"]) if bundle.get("public_key") else None
    if trusted_public_key is not None and public_key != trusted_public_key:
        report = Report(str(bundle.get("algorithm")))
        report.findings.append(Finding(0, "the bundle is signed by another key than the trusted one"))
        return report
    events = [
        StoredEvent(
            int(e["position"]),
            uuid_text(e["originator_id"]),
            int(e["originator_version"]),
            e["topic"],
            base64.b64decode(e["state"]),
        )
        for e in bundle["events"]
    ]
    leaves = [
        {"position": e["position"], "leaf_hash": e["leaf_hash"], "prev_leaf_hash": e["prev_leaf_hash"]}
        for e in bundle["events"]
    ]
    verifier = _Verifier(
        bundle["algorithm"],
        bundle_checkpoints(bundle),
        public_key,
        trusted=trusted_public_key is not None,
        source="the bundle",
    )
    report = verifier.run(events, leaves)
    if not bundle["checkpoints"]:
        report.findings.append(Finding(0, "the bundle holds no signed checkpoint: nothing binds its events"))
    return report


def load_bundle(text: str) -> dict[str, Any]:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a bundle is a JSON object")
    return data
