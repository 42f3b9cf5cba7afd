"""默克尔树 — RFC 9162 §2.1 Merkle tree hashes, inclusion and consistency proofs, for any hasher.

Proof generation is split in two: which subtree ranges a proof needs (`inclusion_ranges`,
`consistency_ranges`: pure index arithmetic) and the hash of each range (`range_root`, from the
complete subtrees `complete_subtrees` names). A store that keeps complete subtrees by (level,
index) answers any proof with O(log n) nodes; `MemoryTree` does the same from a list of leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from domain.ledger.hashing import TreeHasher

Range = tuple[int, int]  # [start, end) of leaf indexes
Node = tuple[int, int]  # (level, index): leaves [index·2^level, (index+1)·2^level)


class ProofError(ValueError):
    """A proof that does not verify (wrong index, size, root, or a corrupted path)."""


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): RFC 9162's k."""
    return 1 << ((n - 1).bit_length() - 1)


def complete_subtrees(start: int, end: int) -> list[Node]:
    """The complete subtrees whose concatenation is [start, end), left to right. `start` must be
    aligned as in the RFC recursion (a multiple of the largest power of two ≤ end - start)."""
    nodes: list[Node] = []
    while start < end:
        size = end - start
        width = size if size & (size - 1) == 0 else _split(size)
        level = width.bit_length() - 1
        if start % width:
            raise ValueError(f"range [{start}, {end}) is not aligned to complete subtrees")
        nodes.append((level, start >> level))
        start += width
    return nodes


def fold(hasher: TreeHasher, subtree_roots: Sequence[bytes]) -> bytes:
    """MTH of a range from its complete subtrees (left to right): they join right to left."""
    root = subtree_roots[-1]
    new_node = hasher.new_node
    for i in range(len(subtree_roots) - 2, -1, -1):
        state = new_node()
        state.update(subtree_roots[i] + root)
        root = state.digest()
    return root


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose MTH make up PATH(index, D[size]) (§2.1.3.1), in proof order."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return ranges[::-1]


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The ranges whose MTH make up PROOF(first, D[second]) (§2.1.4.1), in proof order."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    ranges: list[Range] = []
    start, end, whole = 0, second, True
    while True:
        if first - start == end - start:
            if not whole:
                ranges.append((start, end))
            break
        k = _split(end - start)
        if first - start <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            whole = False
    return ranges[::-1]


def root_from_inclusion(hasher: TreeHasher, index: int, size: int, leaf_hash: bytes, path: Sequence[bytes]) -> bytes:
    """§2.1.3.2: the root an inclusion path leads to; ProofError if the path cannot fit."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_lengths(hasher, [leaf_hash, *path])
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            raise ProofError("inclusion path is longer than the tree is high")
        if fn & 1 or fn == sn:
            r = hasher.hash_children(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hasher.hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion path is shorter than the tree is high")
    return r


def verify_inclusion(
    hasher: TreeHasher, index: int, size: int, leaf_hash: bytes, path: Sequence[bytes], root: bytes
) -> None:
    """Raises ProofError unless `leaf_hash` is leaf `index` of the tree of `size` with `root`."""
    if root_from_inclusion(hasher, index, size, leaf_hash, path) != root:
        raise ProofError(f"inclusion path for leaf {index} does not lead to the root of size {size}")


def verify_consistency(
    hasher: TreeHasher, first: int, second: int, path: Sequence[bytes], first_root: bytes, second_root: bytes
) -> None:
    """§2.1.4.2: raises ProofError unless the tree of size `second` extends the one of size `first`."""
    if first > second:
        raise ProofError(f"size {first} is larger than size {second}")
    if first == second:
        if path or first_root != second_root:
            raise ProofError("equal sizes need equal roots and an empty proof")
        return
    if first == 0:
        if path:
            raise ProofError("a proof from the empty tree is empty")
        return
    if not path:
        raise ProofError("empty consistency proof between different sizes")
    _check_lengths(hasher, [*path, first_root, second_root])
    c = list(path)
    if first & (first - 1) == 0:
        c.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = c[0]
    for p in c[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than needed")
        if fn & 1 or fn == sn:
            fr = hasher.hash_children(p, fr)
            sr = hasher.hash_children(p, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = hasher.hash_children(sr, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != first_root or sr != second_root:
        raise ProofError(f"the tree of size {second} does not extend the tree of size {first}")


def _check_lengths(hasher: TreeHasher, hashes: Sequence[bytes]) -> None:
    if any(len(h) != hasher.size for h in hashes):
        raise ProofError(f"every hash must be {hasher.size} bytes")


class Frontier:
    """The right edge of a growing tree: the roots of its complete subtrees, largest first.
    Appending a leaf costs one leaf hash plus (amortised) one node hash; `root()` is O(log n)."""

    def __init__(self, hasher: TreeHasher, size: int = 0, nodes: Sequence[bytes] = ()) -> None:
        self.hasher = hasher
        self.size = size
        self.nodes = list(nodes)  # one per set bit of `size`, from the highest bit
        if len(self.nodes) != size.bit_count():
            raise ValueError("a frontier needs one subtree root per set bit of the size")

    def append(self, leaf_hash: bytes, on_node: Callable[[Node, bytes], None] | None = None) -> None:
        """Add a leaf; `on_node((level, index), hash)` sees every subtree it completes."""
        index = self.size
        node = leaf_hash
        level = 0
        nodes, new_node = self.nodes, self.hasher.new_node
        while (index >> level) & 1:
            state = new_node()
            state.update(nodes.pop() + node)
            node = state.digest()
            level += 1
            if on_node is not None:
                on_node((level, index >> level), node)
        nodes.append(node)
        self.size += 1

    def root(self) -> bytes:
        return fold(self.hasher, self.nodes) if self.nodes else self.hasher.empty_root()

    @staticmethod
    def positions(size: int) -> list[Node]:
        """(level, index) of the frontier's subtrees for a tree of `size`, largest first."""
        nodes: list[Node] = []
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                nodes.append((level, start >> level))
                start += 1 << level
        return nodes


class MemoryTree:
    """A whole tree in memory (tests, offline bundles): leaf hashes and every complete subtree."""

    def __init__(self, hasher: TreeHasher, leaf_hashes: Sequence[bytes] = ()) -> None:
        self.hasher = hasher
        self.nodes: dict[Node, bytes] = {}
        self.frontier = Frontier(hasher)
        for leaf in leaf_hashes:
            self.append(leaf)

    def append(self, leaf_hash: bytes) -> None:
        self.nodes[(0, self.frontier.size)] = leaf_hash
        self.frontier.append(leaf_hash, self.nodes.__setitem__)

    @property
    def size(self) -> int:
        return self.frontier.size

    def range_root(self, start: int, end: int) -> bytes:
        return fold(self.hasher, [self.nodes[n] for n in complete_subtrees(start, end)])

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        return self.range_root(0, size) if size else self.hasher.empty_root()

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return [self.range_root(s, e) for s, e in inclusion_ranges(index, self.size if size is None else size)]

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        return [self.range_root(s, e) for s, e in consistency_ranges(first, self.size if second is None else second)]
