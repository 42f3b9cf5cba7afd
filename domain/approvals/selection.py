"""Which cases a statistics query covers (统计口径): the port application/ports.py `CaseFigures`
takes it, the read side (projections/case_summary.py) turns it into SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CaseSelection:
    """Equalities, regions (None: all) and an inclusive range of months of receipt (YYYY-MM,
    compared bytewise)."""

    item_code: str | None = None
    stage: int | None = None
    department: str | None = None
    regions: Sequence[str] | None = None
    month_from: str | None = None
    month_to: str | None = None
