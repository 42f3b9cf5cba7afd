"""How the parallel rebuild (ProjectionEngine.rebuild_groups) weighs each read model, and how a worker
process hands its error back."""

from __future__ import annotations

import pickle

# µs per event each read model's handler takes in a rebuild of every read model (wall clock, medians
# of 3 rounds of `python -m bench.rebuild --breakdown` at 20,048 events, issue 20 part 2; reading and
# decoding the log, ≈ 40–65 µs, is paid by every group). Only the proportions matter (they balance
# the parallel groups); a read model missing here counts as a middling one.
REBUILD_COST: dict[str, float] = {
    "offline_warnings": 186,
    "audit_trail": 112,
    "ledger": 89,
    "spgl_exchange": 78,
    "case_timeline": 74,
    "licence_library": 18,
    "ratings": 15,
    "window_assessment": 15,
    "project_overview": 8,
    "blueprint": 4,
    "duplicates": 3,
    "industry": 2,
    "process_catalogue": 2,
    "deliveries": 2,
    "utility_connections": 2,
    "intermediaries": 2,
    "feedback": 1,
    "inquiries": 1,
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
