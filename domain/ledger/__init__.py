"""账本 — the tamper-evident ledger: an RFC 9162 Merkle tree over the one log (pure: no I/O, no clock)."""

from domain.ledger.checkpoint import Checkpoint, leaf_data, uuid_text
from domain.ledger.hashing import ALGORITHMS, TreeHasher, digest
from domain.ledger.merkle import (
    Frontier,
    MemoryTree,
    ProofError,
    complete_subtrees,
    consistency_ranges,
    fold,
    inclusion_ranges,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "ALGORITHMS",
    "Checkpoint",
    "Frontier",
    "MemoryTree",
    "ProofError",
    "TreeHasher",
    "complete_subtrees",
    "consistency_ranges",
    "digest",
    "fold",
    "inclusion_ranges",
    "leaf_data",
    "root_from_inclusion",
    "uuid_text",
    "verify_consistency",
    "verify_inclusion",
]
