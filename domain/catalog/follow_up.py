"""An item's terms for decisions that leave something to follow (docs/catalogue.md):

- 容缺受理 (`pending_materials`): the working days after the decision within which the materials to
  follow are due (`period_days`), and the latest an official may set instead (`max_days`);
- 告知承诺制 (`commitment`): whether the item may be approved on the applicant's commitment, the
  working days after the decision within which the commitment is verified, and the legal basis.

Both are optional keys of an item of the catalogue (or `extra` of a published definition); a bad
entry is refused on load (ValueError) or at publication (InvalidValue, domain/catalog/definition.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_FOLLOW_UP_DAYS = 250  # about a working year: a longer period is not a follow-up any more


@dataclass(frozen=True)
class PendingMaterialsTerms:
    """容缺受理 — when the materials to follow are due, in working days after the decision."""

    period_days: int
    max_days: int


# our assumption (docs/catalogue.md): no reference text gives a period; 20 working days ≈ a month
DEFAULT_PENDING_MATERIALS = PendingMaterialsTerms(period_days=20, max_days=60)


@dataclass(frozen=True)
class CommitmentTerms:
    """告知承诺制 — the item may be approved on commitment, verified within `verify_days` working days."""

    verify_days: int
    basis: str
    basis_assumed: bool  # true: the basis is our assumption, not a citation from the reference data


def _days(item_code: str, raw: dict[str, Any], key: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_FOLLOW_UP_DAYS:
        raise ValueError(f"item {item_code}: {key} must be 1..{MAX_FOLLOW_UP_DAYS} working days")
    return value


def parse_pending_materials(item_code: str, raw: Any) -> PendingMaterialsTerms:
    if not isinstance(raw, dict):
        raise ValueError(f"item {item_code}: pending_materials is an object")
    period = _days(item_code, raw, "period_days")
    maximum = _days(item_code, {"max_days": raw.get("max_days", DEFAULT_PENDING_MATERIALS.max_days)}, "max_days")
    if period > maximum:
        raise ValueError(f"item {item_code}: period_days {period} exceeds max_days {maximum}")
    return PendingMaterialsTerms(period, maximum)


def parse_commitment(item_code: str, raw: Any) -> CommitmentTerms:
    if not isinstance(raw, dict):
        raise ValueError(f"item {item_code}: commitment is an object")
    basis = raw.get("basis")
    if not isinstance(basis, str) or not basis.strip():
        raise ValueError(f"item {item_code}: commitment needs its legal basis (basis)")
    assumed = raw.get("basis_assumed", False)
    if not isinstance(assumed, bool):
        raise ValueError(f"item {item_code}: basis_assumed is true or false")
    return CommitmentTerms(_days(item_code, raw, "verify_days"), basis.strip(), assumed)


def follow_up_terms(item_code: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The `Item` fields for these terms, from an item of the catalogue or a definition's `extra`."""
    return {
        "pending_materials": (
            parse_pending_materials(item_code, raw["pending_materials"])
            if "pending_materials" in raw
            else DEFAULT_PENDING_MATERIALS
        ),
        "commitment": parse_commitment(item_code, raw["commitment"]) if "commitment" in raw else None,
    }
