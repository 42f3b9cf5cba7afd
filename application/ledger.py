"""账本验证 — verify the ledger against the raw store, export an evidence bundle, verify a bundle offline.

`verify_store` re-reads every stored event through the recorder (not the read models), recomputes
each leaf, the per-aggregate chains and the tree roots, and compares them with what the ledger
holds: the leaves (to name the first bad position) and the signed checkpoints (the evidence).
A gap in notification ids is not tampering (PostgreSQL skips ids after a rollback); a leaf whose
position the store no longer has is, and so is a checkpoint larger than the log (a removed tail).
Events after the ledger's last leaf are reported as not yet in the ledger, not as bad.

`verify_bundle` runs the same checks on an exported bundle, with nothing but the bundle: the
events' stored bytes, the leaf hashes, the signed checkpoints and the public key.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from application.app import GongjianApplication
from domain.ledger import Checkpoint, Frontier, TreeHasher, leaf_data, uuid_text
from domain.ledger.checkpoint import SIGNATURE_ALGORITHM
from projections.ledger import Ledger, checkpoint_of

BUNDLE_FORMAT = "gongjian-ledger-bundle/1"
PAGE = 5000


@dataclass(frozen=True)
class StoredEvent:
    position: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class Finding:
    position: int
    problem: str


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
    seconds: float = 0.0
    bytes_hashed: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_bad(self) -> Finding | None:
        return min(self.findings, key=lambda f: f.position) if self.findings else None

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
        return f"TAMPERED: first bad position {bad.position}: {bad.problem} ({len(self.findings)} findings)"


class _Verifier:
    """Streams events and the ledger's leaves side by side; keeps O(log n) tree state plus one
    entry per aggregate for the chains."""

    def __init__(self, algorithm: str, checkpoints: list[Checkpoint], public_key: bytes | None) -> None:
        self.hasher = TreeHasher(algorithm)
        self.frontier = Frontier(self.hasher)
        self.checkpoints = {c.tree_size: c for c in checkpoints}
        self.public_key = public_key
        self.chains: dict[str, tuple[int, bytes]] = {}
        self.report = Report(algorithm, checkpoints=len(checkpoints))
        self.last_position = 0

    def bad(self, position: int, problem: str) -> None:
        self.report.findings.append(Finding(position, problem))

    def run(self, events: Iterable[StoredEvent], leaves: Iterable[dict[str, Any]]) -> Report:
        started = time.perf_counter()
        self._check_signatures()
        leaf_iter: Iterator[dict[str, Any]] = iter(leaves)
        pending = next(leaf_iter, None)
        for event in events:
            self.report.events += 1
            if pending is None:
                self.report.unledgered += 1  # newer than the ledger: not evidence of anything yet
                continue
            if not self._leaf(event, pending):
                break  # everything after a shift is off too: the first bad position is named
            pending = next(leaf_iter, None)
        else:
            if pending is not None:
                self.bad(int(pending["position"]), "the ledger holds this event but the store no longer does")
        self._check_tail()
        signed = max(self.checkpoints, default=0)
        self.report.uncovered = max(0, self.frontier.size - signed)
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _leaf(self, event: StoredEvent, stored: dict[str, Any]) -> bool:
        index = self.frontier.size
        if int(stored["position"]) != event.position:
            missing = int(stored["position"])
            if event.position < missing:
                self.bad(event.position, f"an event the ledger never saw sits before leaf {index} (inserted)")
            else:
                self.bad(missing, f"leaf {index} is at this position but the store has no event there (removed)")
            return False
        data = leaf_data(event.position, event.originator_id, event.originator_version, event.topic, event.state)
        self.report.bytes_hashed += len(data)
        leaf = self.hasher.hash_leaf(data)
        if leaf.hex() != stored["leaf_hash"]:
            self.bad(event.position, f"the stored event does not hash to leaf {index} (changed)")
        self._chain(event, leaf, stored)
        self.frontier.append(leaf)
        self.report.leaves += 1
        self.last_position = event.position
        held = self.checkpoints.get(self.frontier.size)
        if held is not None and held.root_hash != self.frontier.root():
            self.bad(event.position, f"the recomputed root of size {held.tree_size} differs from the signed checkpoint")
        return True

    def _chain(self, event: StoredEvent, leaf: bytes, stored: dict[str, Any]) -> None:
        before = self.chains.get(event.originator_id)
        expected_version = before[0] + 1 if before else 1
        if event.originator_version != expected_version:
            self.bad(event.position, f"aggregate {event.originator_id} jumps to version {event.originator_version}")
        prev = before[1].hex() if before else None
        if stored.get("prev_leaf_hash") != prev:
            self.bad(event.position, f"the aggregate chain of {event.originator_id} is broken here")
        self.chains[event.originator_id] = (event.originator_version, leaf)

    def _check_tail(self) -> None:
        larger = [c for c in self.checkpoints.values() if c.tree_size > self.frontier.size]
        if larger:
            biggest = max(larger, key=lambda c: c.tree_size)
            self.bad(
                self.last_position + 1,
                f"a checkpoint signs {biggest.tree_size} leaves but only {self.frontier.size} events remain"
                " (events after this position were removed)",
            )

    def _check_signatures(self) -> None:
        for c in self.checkpoints.values():
            if c.algorithm != self.hasher.algorithm:
                self.bad(0, f"checkpoint {c.tree_size} is for {c.algorithm}, the ledger uses {self.hasher.algorithm}")
            if c.signature is None:
                self.report.unsigned += 1
            elif self.public_key is None or not c.signature_valid(self.public_key):
                self.bad(0, f"the signature of checkpoint {c.tree_size} does not verify")


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


def verify_store(
    app: GongjianApplication,
    ledger: Ledger,
    extra_checkpoints: Iterable[Checkpoint] = (),
    public_key: bytes | None = None,
) -> Report:
    """`extra_checkpoints`: heads held outside the database (an earlier bundle) are checked too,
    under `public_key` (trusted, from outside) or else the key the ledger's checkpoints name."""
    rows = ledger.checkpoint_rows()
    held = [checkpoint_of(r) for r in rows]
    held_sizes = {c.tree_size for c in held}
    held.extend(c for c in extra_checkpoints if c.tree_size not in held_sizes)
    keys = {r["public_key"] for r in rows if r.get("public_key")}
    if public_key is None and len(keys) == 1:
        public_key = bytes.fromhex(next(iter(keys)))
    verifier = _Verifier(ledger.algorithm(), held, public_key)
    if len(keys) > 1:
        verifier.bad(0, "checkpoints are signed by more than one key")
    return verifier.run(stored_events(app), ledger.leaves())


# --- bundles --------------------------------------------------------------------------------


def export_bundle(app: GongjianApplication, ledger: Ledger) -> dict[str, Any]:
    """Everything a third party needs: algorithm, public key, signed checkpoints, each ledgered
    event's stored bytes with its leaf hash and chain link."""
    rows = ledger.checkpoint_rows()
    keys = {r["public_key"] for r in rows if r.get("public_key")}
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
            {k: r[k] for k in ("tree_size", "root_hash", "time", "algorithm", "signature", "last_position")}
            for r in rows
        ],
        "events": events,
    }


def bundle_checkpoints(bundle: dict[str, Any]) -> list[Checkpoint]:
    return [checkpoint_of(c) for c in bundle["checkpoints"]]


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
    verifier = _Verifier(bundle["algorithm"], bundle_checkpoints(bundle), public_key)
    report = verifier.run(events, leaves)
    if not bundle["checkpoints"]:
        report.findings.append(Finding(0, "the bundle holds no signed checkpoint: nothing binds its events"))
    return report


def load_bundle(text: str) -> dict[str, Any]:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a bundle is a JSON object")
    return data
