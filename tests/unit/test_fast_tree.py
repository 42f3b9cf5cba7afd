"""The fast tree computations (`Frontier`, `fold`, `MemoryTree`, and the verifier's inline loop:
leaf bytes hashed from a prefixed state, the right edge kept in a list, every signed root folded)
equal the plain recursive RFC 9162 §2.1.1 definition, written here independently with hashlib,
for random leaf sets."""

from __future__ import annotations

import dataclasses
import hashlib
import struct
import uuid

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from application.ledger import StoredEvent, _Verifier
from domain.ledger import Checkpoint, Frontier, MemoryTree, TreeHasher
from domain.ledger.checkpoint import checkpoints_of

ALGORITHMS = st.sampled_from(["sha256", "sm3"])


def h(algorithm: str, data: bytes) -> bytes:
    return hashlib.new(algorithm, data).digest()


def mth(algorithm: str, entries: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 9162 §2.1.1 states it: recursive, over the leaf data."""
    n = len(entries)
    if n == 0:
        return h(algorithm, b"")
    if n == 1:
        return h(algorithm, b"\x00" + entries[0])
    k = 1
    while k * 2 < n:  # the largest power of two smaller than n
        k *= 2
    return h(algorithm, b"\x01" + mth(algorithm, entries[:k]) + mth(algorithm, entries[k:]))


def encoded(position: int, oid: str, version: int, topic: str, state: bytes) -> bytes:
    """The leaf data of domain/ledger/checkpoint.py's docstring, spelled out independently."""
    o, t = oid.encode(), topic.encode()
    return (
        struct.pack(">QI", position, len(o))
        + o
        + struct.pack(">QI", version, len(t))
        + t
        + struct.pack(">I", len(state))
        + state
    )


@settings(max_examples=150, deadline=None)
@given(algorithm=ALGORITHMS, entries=st.lists(st.binary(max_size=80), max_size=70))
def test_frontier_fold_and_memory_tree_give_the_recursive_root_at_every_size(
    algorithm: str, entries: list[bytes]
) -> None:
    hasher = TreeHasher(algorithm)
    frontier = Frontier(hasher)
    tree = MemoryTree(hasher)
    assert frontier.root() == mth(algorithm, [])
    for size, entry in enumerate(entries, start=1):
        leaf = hasher.hash_leaf(entry)
        assert leaf == h(algorithm, b"\x00" + entry)
        frontier.append(leaf)
        tree.append(leaf)
        expected = mth(algorithm, entries[:size])
        assert frontier.root() == expected
        assert tree.root() == expected
    for start in range(len(entries)):  # every aligned range root (proofs are built from these)
        width = 1
        while start % (width * 2) == 0 and start + width * 2 <= len(entries):
            width *= 2
        assert tree.range_root(start, start + width) == mth(algorithm, entries[start : start + width])


EVENT = st.tuples(
    st.integers(0, 3), st.sampled_from(["a:A.Created", "b:B.Changed", "案件:受理"]), st.binary(max_size=120)
)


@settings(max_examples=100, deadline=None)
@given(
    algorithm=ALGORITHMS,
    drawn=st.lists(EVENT, max_size=60),
    signed=st.sets(st.integers(1, 60)),
    wrong=st.integers(0, 60),
)
def test_the_verifiers_leaves_chains_and_signed_roots_are_the_recursive_definitions(
    algorithm: str, drawn: list[tuple[int, str, bytes]], signed: set[int], wrong: int
) -> None:
    """Leaf hashes and chain links the ledger holds, and checkpoints at random sizes, all made with the
    reference: the verifier finds nothing; one root changed, it names exactly that size."""
    oids = [str(uuid.UUID(int=i * 7919 + 1)) for i in range(4)]
    versions = [0] * 4
    events, leaves, data = [], [], []
    prev: dict[str, str] = {}
    for i, (aggregate, topic, state) in enumerate(drawn):
        position = 2 * i + 5  # gaps in positions are not tampering
        versions[aggregate] += 1
        oid = oids[aggregate]
        events.append(StoredEvent(position, oid, versions[aggregate], topic, state))
        data.append(encoded(position, oid, versions[aggregate], topic, state))
        leaf = h(algorithm, b"\x00" + data[-1]).hex()
        leaves.append({"position": position, "leaf_hash": leaf, "prev_leaf_hash": prev.get(oid)})
        prev[oid] = leaf
    sizes = sorted(s for s in signed if s <= len(events))
    checkpoints = [Checkpoint(s, mth(algorithm, data[:s]), "t", algorithm) for s in sizes]
    report = _Verifier(algorithm, checkpoints, None).run(events, leaves)
    assert report.ok, report.findings
    assert (report.events, report.leaves, report.checkpoints) == (len(events), len(events), len(sizes))
    assert report.bytes_hashed == sum(map(len, data))
    if wrong in sizes:
        bad = [
            c if c.tree_size != wrong else Checkpoint(wrong, bytes(len(c.root_hash)), "t", algorithm)
            for c in checkpoints
        ]
        findings = _Verifier(algorithm, bad, None).run(events, leaves).findings
        assert [f"root of size {wrong} differs" in f.problem for f in findings] == [True]


TAMPER = st.sampled_from(["none", "leaf_changed", "chain_broken", "ledger_behind", "extra_leaf", "event_removed"])


@settings(max_examples=150, deadline=None)
@given(
    drawn=st.lists(EVENT, min_size=1, max_size=40),
    page=st.integers(1, 9),
    tamper=TAMPER,
    at=st.integers(0, 39),
)
def test_verifying_a_page_at_a_time_names_the_same_first_bad_leaf_whatever_the_page(
    drawn: list[tuple[int, str, bytes]], page: int, tamper: str, at: int
) -> None:
    """The verifier compares a whole page with the ledger's leaves at once while all match and leaf
    by leaf from the first difference: wherever a page boundary falls, one changed leaf, one broken
    chain link, a ledger behind the store, a leaf the store lacks or an event the store lost is
    named at its position (the reference leaves and every root made independently, as above)."""
    algorithm = "sm3"
    oids = [str(uuid.UUID(int=i * 7919 + 1)) for i in range(4)]
    versions = [0] * 4
    events, leaves, data = [], [], []
    prev: dict[str, str] = {}
    for i, (aggregate, topic, state) in enumerate(drawn):
        position = 3 * i + 2
        versions[aggregate] += 1
        oid = oids[aggregate]
        events.append(StoredEvent(position, oid, versions[aggregate], topic, state))
        data.append(encoded(position, oid, versions[aggregate], topic, state))
        leaf = h(algorithm, b"\x00" + data[-1]).hex()
        leaves.append({"position": position, "leaf_hash": leaf, "prev_leaf_hash": prev.get(oid)})
        prev[oid] = leaf
    n, i = len(events), at % len(events)
    assume(tamper != "event_removed" or n > 1)  # (an empty store is only a removed tail)
    checkpoints = [Checkpoint(s, mth(algorithm, data[:s]), "t", algorithm) for s in range(1, n + 1)]
    position = events[i].position
    expected: list[tuple[int, str]] = []
    if tamper == "leaf_changed":
        leaves[i] = {**leaves[i], "leaf_hash": "00" * 32}
        expected = [(position, f"the stored event does not hash to leaf {i} (changed)")]
    elif tamper == "chain_broken":
        leaves[i] = {**leaves[i], "prev_leaf_hash": "ff" * 32}
        expected = [(position, f"the aggregate chain of {events[i].originator_id} is broken here")]
    elif tamper == "ledger_behind":
        leaves = leaves[:i]
    elif tamper == "extra_leaf":
        extra = {"position": events[-1].position + 1, "leaf_hash": "11" * 32, "prev_leaf_hash": None}
        leaves.append(extra)
        expected = [(extra["position"], "the ledger holds this event but the store no longer does")]
    elif tamper == "event_removed":
        del events[i]

    report = _Verifier(algorithm, checkpoints, None).run(events, leaves, page=page)
    found = sorted((f.position, f.problem) for f in report.findings)
    whole = _Verifier(algorithm, checkpoints, None).run(events, leaves, page=n + 1)
    assert found == sorted((f.position, f.problem) for f in whole.findings)  # paging changes nothing
    if tamper == "event_removed" and i == n - 1:  # the last one: a removed tail
        assert (position, "the ledger holds this event but the store no longer does") in found
        assert any(f"a checkpoint signs {n} leaves but only {n - 1} events remain" in p for _, p in found)
        return
    if tamper == "event_removed":
        assert report.first_bad is not None and report.first_bad.position == position
        removed = f"leaf {i} is at this position but the store has no event there (removed)"
        assert (position, removed) in found
        differ = [s for s in range(1, n + 1) if any(f"root of size {s} differs" in p for _, p in found)]
        assert differ == list(range(i + 1, n))  # every signed root from size i + 1 on (n: the tail)
        return
    assert found == expected
    ledgered = i if tamper == "ledger_behind" else n
    assert (report.events, report.leaves, report.unledgered) == (n, ledgered, n - ledgered)


HEX = st.binary(min_size=32, max_size=32).map(bytes.hex)


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(1, 2**40),
            HEX,
            st.text(max_size=30),
            st.sampled_from(["sha256", "sm3"]),
            st.one_of(st.none(), st.just(""), st.binary(min_size=64, max_size=64).map(bytes.hex)),
            st.one_of(st.none(), st.just(""), st.text(min_size=1, max_size=20)),
        ),
        max_size=8,
    )
)
def test_checkpoints_read_in_bulk_are_the_ones_the_constructor_makes(rows: list[tuple]) -> None:
    """`checkpoints_of` (how `audit verify` reads thousands) gives the same frozen checkpoints as
    `Checkpoint(...)` on the decoded row: equal, same hash, same signed message, still frozen."""
    made = checkpoints_of(rows)
    expected = [
        Checkpoint(s, bytes.fromhex(r), t, a, bytes.fromhex(g) if g else None, o or None) for s, r, t, a, g, o in rows
    ]
    assert made == expected
    assert [hash(c) for c in made] == [hash(c) for c in expected]
    for c, e in zip(made, expected, strict=True):
        assert vars(c) == vars(e)
        if c.origin is not None or c.time:
            assert c.message() == e.message()
        with pytest.raises(dataclasses.FrozenInstanceError):
            c.tree_size = 0  # type: ignore[misc]


@settings(max_examples=60, deadline=None)
@given(algorithm=ALGORITHMS, n=st.integers(2, 12), data=st.data())
def test_one_source_signing_two_roots_for_a_size_is_compared_root_by_root(
    algorithm: str, n: int, data: st.DataObject
) -> None:
    """A bundle that names one size twice with different roots: the verifier's general path (not
    the one-root-per-size shortcut) compares each, so the wrong one is reported at its size."""
    leaves = [bytes([i]) * 3 for i in range(n)]
    events = [StoredEvent(i + 1, str(uuid.UUID(int=i + 1)), 1, "T", leaves[i]) for i in range(n)]
    size = data.draw(st.integers(2, n))
    good = Checkpoint(size, mth(algorithm, [encoded(*e) for e in events[:size]]), "t", algorithm)
    forged = Checkpoint(size, bytes(len(good.root_hash)), "t", algorithm)
    for heads in ([good, forged], [forged, good]):  # whichever comes last
        report = _Verifier(algorithm, heads, None).run(events, [])
        assert any(f"the recomputed root of size {size} differs" in f.problem for f in report.findings)
    clean = _Verifier(algorithm, [good, good], None).run(events, [])
    assert not any("differs" in f.problem for f in clean.findings)
