"""An item's 容缺 and 告知承诺 terms (domain/catalog/follow_up.py): loaded from the catalogue in force (the seed edition), carried
by a published flow version into the item a case is pinned to, and refused when malformed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from domain.catalog import CATALOG
from domain.catalog.definition import check_definition
from domain.catalog.follow_up import DEFAULT_PENDING_MATERIALS, CommitmentTerms, PendingMaterialsTerms
from domain.catalog.process import find_item, to_item
from domain.catalog.seed import licence_topic_fields, seed_definition
from domain.shared.errors import InvalidValue

TYPES = licence_topic_fields()
COMMITTING = {"GJ-3-03", "GJ-5-01", "GJ-5-02", "GJ-5-03"}  # the seed edition 2026.12-1


def test_the_catalogue_marks_which_items_allow_approval_on_commitment_and_that_the_basis_is_assumed() -> None:
    allowed = {code for code, item in CATALOG.items.items() if item.commitment is not None}
    assert allowed == COMMITTING
    for code in COMMITTING:
        terms = CATALOG.item(code).commitment
        assert terms is not None and terms.basis_assumed and "assumption" in terms.basis
        assert 0 < terms.verify_days <= 250
    assert all(item.pending_materials == DEFAULT_PENDING_MATERIALS for item in CATALOG.items.values())


def test_a_published_version_carries_its_own_terms_to_the_pinned_item() -> None:
    definition = copy.deepcopy(seed_definition(3))
    item = find_item(definition, "GJ-2-01")
    assert item is not None and to_item(item).commitment is None
    item["extra"]["commitment"] = {"verify_days": 15, "basis": "某办法 第三条", "basis_assumed": False}
    item["extra"]["pending_materials"] = {"period_days": 10, "max_days": 30}
    checked = find_item(check_definition(definition, TYPES), "GJ-2-01")
    assert checked is not None
    pinned = to_item(checked)
    assert pinned.commitment == CommitmentTerms(15, "某办法 第三条", False)
    assert pinned.pending_materials == PendingMaterialsTerms(10, 30)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("commitment", {"verify_days": 15}),  # no basis
        ("commitment", {"verify_days": 0, "basis": "x"}),
        ("commitment", {"verify_days": 15, "basis": "x", "basis_assumed": "yes"}),
        ("pending_materials", {"period_days": 40, "max_days": 30}),
        ("pending_materials", {"period_days": True}),
        ("pending_materials", []),
    ],
)
def test_malformed_terms_are_refused_at_publication_naming_the_item(key: str, value: Any) -> None:
    definition = copy.deepcopy(seed_definition(3))
    index = next(i for i, it in enumerate(definition["items"]) if it["code"] == "GJ-2-01")
    definition["items"][index]["extra"][key] = value
    with pytest.raises(InvalidValue) as caught:
        check_definition(definition, TYPES)
    assert (caught.value.field, caught.value.rule) == (f"definition.items.{index}.{key}", f"{key}_invalid")
