"""RFC 9162 Merkle tree: the published transparency-dev / RFC 6962 SHA-256 vectors, GB/T 32905 SM3
vectors cross-checked against gmssl (a second, pure-Python SM3), and every corrupted proof refused
over tree sizes 1..64.

Vectors: github.com/transparency-dev/merkle, proof/verify_test.go (leaves, roots for sizes 1..8,
inclusion and consistency proofs; the corruption probes below follow its corruptInclusionProof and
corruptConsistencyProof).
"""

from __future__ import annotations

import hashlib

import pytest
from gmssl import sm3 as gmssl_sm3
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.ledger import (
    Checkpoint,
    MemoryTree,
    ProofError,
    TreeHasher,
    digest,
    leaf_data,
    verify_consistency,
    verify_inclusion,
)

SHA = TreeHasher("sha256")
LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (1-based leaf, tree size, path)
INCLUSION = [
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        2,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (1, 1, []),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def sha_tree(size: int) -> MemoryTree:
    return MemoryTree(SHA, [SHA.hash_leaf(d) for d in LEAVES[:size]])


# --- known answers ---------------------------------------------------------------------------


def test_sha256_mode_reproduces_the_published_roots_for_sizes_1_to_8() -> None:
    assert SHA.empty_root().hex() == EMPTY_SHA256
    for size in range(1, 9):
        assert sha_tree(size).root().hex() == ROOTS[size - 1], size
    tree = sha_tree(8)
    assert [tree.root(n).hex() for n in range(1, 9)] == ROOTS


@pytest.mark.parametrize(("leaf", "size", "path"), INCLUSION)
def test_sha256_mode_generates_and_verifies_the_published_inclusion_proofs(
    leaf: int, size: int, path: list[str]
) -> None:
    tree = sha_tree(8)
    proof = tree.inclusion_proof(leaf - 1, size)
    assert [p.hex() for p in proof] == path
    verify_inclusion(SHA, leaf - 1, size, SHA.hash_leaf(LEAVES[leaf - 1]), proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_sha256_mode_generates_and_verifies_the_published_consistency_proofs(
    first: int, second: int, path: list[str]
) -> None:
    tree = sha_tree(8)
    proof = tree.consistency_proof(first, second) if first != second else []
    assert [p.hex() for p in proof] == path
    verify_consistency(SHA, first, second, proof, bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1]))


def test_sm3_gives_the_gb_t_32905_answers_and_agrees_with_gmssl() -> None:
    abc = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    abcd16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    assert digest("sm3", b"abc").hex() == abc
    assert digest("sm3", b"abcd" * 16).hex() == abcd16
    assert gmssl_sm3.sm3_hash(list(b"abc")) == abc
    assert gmssl_sm3.sm3_hash(list(b"abcd" * 16)) == abcd16


@pytest.mark.parametrize("prefer_hashlib", [True, False])
def test_sm3_tree_hashing_agrees_with_gmssl_on_prefixed_leaves_and_nodes(prefer_hashlib: bool) -> None:
    sm3 = TreeHasher("sm3", prefer_hashlib=prefer_hashlib)
    for data in [*LEAVES, bytes(range(256)) * 3]:
        assert sm3.hash_leaf(data).hex() == gmssl_sm3.sm3_hash(list(b"\x00" + data))
    left, right = sm3.hash_leaf(b"l"), sm3.hash_leaf(b"r")
    assert sm3.hash_children(left, right).hex() == gmssl_sm3.sm3_hash(list(b"\x01" + left + right))
    assert sm3.empty_root().hex() == gmssl_sm3.sm3_hash([])


def test_the_memory_tree_root_equals_the_rfc_recursive_definition_for_every_size_up_to_64() -> None:
    def mth(hasher: TreeHasher, data: list[bytes]) -> bytes:
        if not data:
            return hasher.empty_root()
        if len(data) == 1:
            return hasher.hash_leaf(data[0])
        k = 1 << ((len(data) - 1).bit_length() - 1)
        return hasher.hash_children(mth(hasher, data[:k]), mth(hasher, data[k:]))

    for algorithm in ("sha256", "sm3"):
        hasher = TreeHasher(algorithm)
        data = [hashlib.sha256(str(i).encode()).digest()[: i % 40] for i in range(64)]
        tree = MemoryTree(hasher, [hasher.hash_leaf(d) for d in data])
        for size in range(65):
            assert tree.root(size) == mth(hasher, data[:size]), (algorithm, size)


def test_leaf_data_is_length_prefixed_and_includes_the_position() -> None:
    oid = "0f8fad5bd9cb469fa16570867728950e"
    one = leaf_data(7, oid, 2, "domain.approvals.case:Case.Accepted", b'{"a":1}')
    assert one.startswith((7).to_bytes(8, "big") + (36).to_bytes(4, "big") + b"0f8fad5b-d9cb-469f-a165-70867728950e")
    assert leaf_data(8, oid, 2, "domain.approvals.case:Case.Accepted", b'{"a":1}') != one
    # moving a byte from the topic to the state changes the bytes (lengths are prefixed)
    assert leaf_data(7, oid, 2, "ab", b"c") != leaf_data(7, oid, 2, "a", b"bc")


def test_a_checkpoint_signature_binds_size_root_time_and_algorithm() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    head = Checkpoint(8, bytes.fromhex(ROOTS[7]), "2026-01-05T01:00:00+00:00", "sha256")
    signed = Checkpoint(**{**head.__dict__, "signature": key.sign(head.message())})
    assert signed.signature_valid(public)
    assert signed.signature == key.sign(head.message())  # Ed25519 is deterministic: rebuilds sign alike
    for change in (
        {"tree_size": 7},
        {"root_hash": bytes.fromhex(ROOTS[6])},
        {"time": "2026-01-05T01:00:01+00:00"},
        {"algorithm": "sm3"},
    ):
        assert not Checkpoint(**{**signed.__dict__, **change}).signature_valid(public)


# --- corrupted proofs are refused ----------------------------------------------------------


def flipped(h: bytes, bit: int = 3) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


# No "size + 1" probe: when the path's shape is the same for n and n + 1 (as for most leaves) the
# path alone cannot bind the size — the signed checkpoint does (it signs size and root together).
def corrupt_inclusion(index: int, size: int, path: list[bytes], root: bytes, leaf: bytes) -> list[tuple[str, tuple]]:
    probes: list[tuple[str, tuple]] = [
        ("index - 1", (index - 1, size, leaf, path, root)),
        ("index + 1", (index + 1, size, leaf, path, root)),
        ("index ^ 2", (index ^ 2, size, leaf, path, root)),
        ("size * 2", (index, size * 2, leaf, path, root)),
        ("size / 2", (index, size // 2, leaf, path, root)),
        ("wrong leaf", (index, size, b"WrongLeaf", path, root)),
        ("flipped leaf", (index, size, flipped(leaf), path, root)),
        ("empty-tree root", (index, size, leaf, path, SHA.empty_root())),
        ("random root", (index, size, leaf, path, SOME_HASH)),
        ("flipped root", (index, size, leaf, path, flipped(root))),
        ("trailing garbage", (index, size, leaf, [*path, b""], root)),
        ("trailing root", (index, size, leaf, [*path, root], root)),
        ("preceding garbage", (index, size, leaf, [b"", *path], root)),
        ("preceding root", (index, size, leaf, [root, *path], root)),
    ]
    for i in range(len(path)):
        probes.append((f"flipped path[{i}]", (index, size, leaf, [*path[:i], flipped(path[i]), *path[i + 1 :]], root)))
    if path:
        probes.append(("removed node", (index, size, leaf, path[:-1], root)))
        probes.append(("removed first node", (index, size, leaf, path[1:], root)))
    if len(path) > 1:
        probes.append(("inserted node", (index, size, leaf, [path[0], SOME_HASH, *path[1:]], root)))
        probes.append(("swapped nodes", (index, size, leaf, [path[1], path[0], *path[2:]], root)))
    return probes


def corrupt_consistency(first: int, second: int, r1: bytes, r2: bytes, path: list[bytes]) -> list[tuple[str, tuple]]:
    probes: list[tuple[str, tuple]] = [
        ("first - 1", (first - 1, second, path, r1, r2)),
        ("first + 1", (first + 1, second, path, r1, r2)),
        ("first ^ 2", (first ^ 2, second, path, r1, r2)),
        ("second * 2", (first, second * 2, path, r1, r2)),
        ("second / 2", (first, second // 2, path, r1, r2)),
        ("wrong first root", (first, second, path, b"WrongRoot", r2)),
        ("wrong second root", (first, second, path, r1, b"WrongRoot")),
        ("flipped first root", (first, second, path, flipped(r1), r2)),
        ("flipped second root", (first, second, path, r1, flipped(r2))),
        ("swapped roots", (first, second, path, r2, r1)),
        ("empty proof", (first, second, [], r1, r2)),
        ("trailing garbage", (first, second, [*path, b""], r1, r2)),
        ("trailing first root", (first, second, [*path, r1], r1, r2)),
        ("trailing second root", (first, second, [*path, r2], r1, r2)),
        ("preceding garbage", (first, second, [b"", *path], r1, r2)),
        ("preceding first root", (first, second, [r1, *path], r1, r2)),
        ("preceding second root", (first, second, [r2, *path], r1, r2)),
        ("preceding path[0]", (first, second, [path[0], *path], r1, r2)),
        ("truncated proof", (first, second, path[:-1], r1, r2)),
        ("removed first node", (first, second, path[1:], r1, r2)),
        ("inserted node", (first, second, [path[0], SOME_HASH, *path[1:]], r1, r2)),
    ]
    for i in range(len(path)):
        probes.append((f"flipped path[{i}]", (first, second, [*path[:i], flipped(path[i], 4), *path[i + 1 :]], r1, r2)))
    if len(path) > 1:
        probes.append(("swapped nodes", (first, second, [path[1], path[0], *path[2:]], r1, r2)))
    return probes


def _refused(check: object, args: tuple) -> bool:
    try:
        check(SHA, *args)  # type: ignore[operator]
    except ProofError:
        return True
    return False


BIG = MemoryTree(SHA, [SHA.hash_leaf(i.to_bytes(2, "big")) for i in range(64)])


def test_every_corrupted_inclusion_proof_is_refused_for_every_leaf_of_trees_of_size_1_to_64() -> None:
    accepted: list[str] = []
    for size in range(1, 65):
        root = BIG.root(size)
        for index in range(size):
            leaf = BIG.nodes[(0, index)]
            path = BIG.inclusion_proof(index, size)
            verify_inclusion(SHA, index, size, leaf, path, root)
            for name, args in corrupt_inclusion(index, size, path, root, leaf):
                if not _refused(verify_inclusion, args):
                    accepted.append(f"size {size} leaf {index}: {name}")
    assert accepted == []


def test_every_corrupted_consistency_proof_is_refused_for_every_pair_of_sizes_up_to_64() -> None:
    accepted: list[str] = []
    for second in range(2, 65):
        r2 = BIG.root(second)
        for first in range(1, second):
            r1 = BIG.root(first)
            path = BIG.consistency_proof(first, second)
            verify_consistency(SHA, first, second, path, r1, r2)
            for name, args in corrupt_consistency(first, second, r1, r2, path):
                if not _refused(verify_consistency, args):
                    accepted.append(f"{first}->{second}: {name}")
    assert accepted == []


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(1, 64),
    data=st.data(),
    bit=st.integers(0, 255),
)
def test_a_single_flipped_bit_anywhere_in_an_inclusion_proof_is_refused(
    size: int, data: st.DataObject, bit: int
) -> None:
    index = data.draw(st.integers(0, size - 1))
    path = BIG.inclusion_proof(index, size)
    blob = bytearray(b"".join([BIG.nodes[(0, index)], *path, BIG.root(size)]))
    blob[(bit * 7) % len(blob)] ^= 1 << (bit % 8)
    parts = [bytes(blob[i : i + 32]) for i in range(0, len(blob), 32)]
    assert _refused(verify_inclusion, (index, size, parts[0], parts[1:-1], parts[-1]))


def test_degenerate_consistency_cases_follow_the_rfc() -> None:
    r = BIG.root(5)
    verify_consistency(SHA, 0, 5, [], SHA.empty_root(), r)
    verify_consistency(SHA, 5, 5, [], r, r)
    for args in ((5, 5, [], r, BIG.root(4)), (5, 5, [r], r, r), (0, 5, [r], SHA.empty_root(), r), (5, 4, [], r, r)):
        assert _refused(verify_consistency, args)
