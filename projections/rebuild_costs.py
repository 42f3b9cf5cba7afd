"""How the parallel rebuild (ProjectionEngine.rebuild_groups) weighs each read model, and how a worker
process hands its error back."""

from __future__ import annotations

import pickle

# µs per event each read model adds to a rebuild: its rebuild alone (bench/rebuild.py, 20,073
# events) less the ≈ 33 µs every rebuild pays to read and decode the log. Only the proportions
# matter (they balance the parallel groups); a read model missing here counts as a middling one.
REBUILD_COST: dict[str, float] = {
    "spgl_exchange": 143,
    "audit_trail": 135,
    "case_timeline": 107,
    "offline_warnings": 104,
    "ledger": 82,
    "duplicates": 41,
    "ratings": 21,
    "industry": 20,
    "intermediaries": 19,
    "utility_connections": 18,
    "project_overview": 16,
    "window_assessment": 14,
    "blueprint": 14,
    "licence_library": 11,
    "deliveries": 11,
    "process_catalogue": 6,
    "inquiries": 5,
}


def rebuild_cost(name: str) -> float:
    return REBUILD_COST.get(name, 20.0)


def portable(exc: Exception) -> Exception:
    """The error itself if it survives pickling (the parent raises it as it is), else its text."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 — our own bytes, just made
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
