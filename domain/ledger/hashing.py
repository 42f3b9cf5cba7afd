"""哈希算法 — the ledger's hash functions: SM3 (GB/T 32905, the default) and SHA-256 (RFC 6962 vectors).

`TreeHasher` adds the RFC 9162 domain separation: a leaf is hashed as H(0x00 ‖ data), an interior
node as H(0x01 ‖ left ‖ right). Both use OpenSSL: `hashlib` when its OpenSSL offers SM3 (lower
per-call cost), otherwise `cryptography`'s SM3. The prefix bytes are pre-absorbed and the hash
state copied, which halves the per-call cost of the many 65-byte node hashes. Hot loops (the
verifier, `Frontier`, `fold`) call `new_leaf()` / `new_node()` directly: a prefixed state to update
with the data and digest, without a method call per hash.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from cryptography.hazmat.primitives import hashes

ALGORITHMS = ("sm3", "sha256")
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


class _State(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def copy(self) -> _State: ...
    def digest(self) -> bytes: ...


class _CryptographySM3:
    """`cryptography`'s SM3 behind hashlib's interface (update / copy / digest)."""

    def __init__(self, ctx: hashes.Hash | None = None) -> None:
        self._ctx = ctx or hashes.Hash(hashes.SM3())

    def update(self, data: bytes, /) -> None:
        self._ctx.update(data)

    def copy(self) -> _CryptographySM3:
        return _CryptographySM3(self._ctx.copy())

    def digest(self) -> bytes:
        return self._ctx.copy().finalize()


def _new_state(algorithm: str, *, prefer_hashlib: bool = True) -> _State:
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "sm3":
        if prefer_hashlib and "sm3" in hashlib.algorithms_available:
            return hashlib.new("sm3")
        return _CryptographySM3()
    raise ValueError(f"unknown ledger hash algorithm {algorithm!r}; known: {', '.join(ALGORITHMS)}")


def digest(algorithm: str, data: bytes) -> bytes:
    """The plain hash of `data` (no prefix)."""
    state = _new_state(algorithm)
    state.update(data)
    return state.digest()


class TreeHasher:
    """RFC 9162 §2.1.1 hashing for one algorithm."""

    def __init__(self, algorithm: str, *, prefer_hashlib: bool = True) -> None:
        self.algorithm = algorithm
        self._empty = _new_state(algorithm, prefer_hashlib=prefer_hashlib)
        self._leaf = self._empty.copy()
        self._leaf.update(LEAF_PREFIX)
        self._node = self._empty.copy()
        self._node.update(NODE_PREFIX)
        self.size = len(self._empty.digest())
        self.new_leaf = self._leaf.copy  # a fresh state with the leaf prefix absorbed
        self.new_node = self._node.copy  # a fresh state with the node prefix absorbed

    def empty_root(self) -> bytes:
        """MTH({}) = HASH() — the root of the empty tree."""
        return self._empty.digest()

    def hash_leaf(self, data: bytes) -> bytes:
        state = self._leaf.copy()
        state.update(data)
        return state.digest()

    def hash_children(self, left: bytes, right: bytes) -> bytes:
        state = self._node.copy()
        state.update(left + right)  # one update: cheaper than two for two 32-byte hashes
        return state.digest()
