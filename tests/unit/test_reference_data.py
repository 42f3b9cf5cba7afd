"""Reference data: our copies equal ../shared/reference, and the item catalogue (事项库) is sound."""

from __future__ import annotations

import copy
import os
from graphlib import CycleError, TopologicalSorter
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from domain.catalog import CATALOG, SEED_CATALOG, Catalog
from domain.shared.errors import InvalidValue
from domain.shared.reference import REFERENCE

SHARED = Path(__file__).parents[2].parent / "shared" / "reference"
DATA = Path(str(resources.files("domain.catalog").joinpath("data")))
OUR_CSVS = sorted(p.name for p in DATA.glob("*.csv"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _need_shared() -> None:
    """Outside CI a checkout may lack ../shared; in CI it must be there (fail, never skip)."""
    if not SHARED.is_dir():
        if IN_CI:
            pytest.fail(f"{SHARED} is missing: CI must check our copies against the shared reference")
        pytest.skip(f"{SHARED} is not next to this checkout")


def test_the_shared_reference_folder_exists_in_ci() -> None:
    _need_shared()
    assert OUR_CSVS, "no reference CSVs packaged"


@pytest.mark.parametrize("name", OUR_CSVS)
def test_our_copy_of_a_reference_table_equals_the_shared_one(name: str) -> None:
    shared = SHARED / name
    _need_shared()
    assert shared.is_file(), f"{name} is not in {SHARED}"
    assert (DATA / name).read_bytes() == shared.read_bytes(), f"{name} differs from {shared}"


def test_our_copy_of_the_data_sharing_tables_equals_the_shared_one() -> None:
    """domain/exchange/spgl.py reads the tables, fields and rule wording from this copy."""
    _need_shared()
    assert (DATA / "spgl.md").read_bytes() == (SHARED / "spgl.md").read_bytes()


def test_every_shared_reference_table_has_a_copy() -> None:
    _need_shared()
    assert sorted(p.name for p in SHARED.glob("*.csv")) == OUR_CSVS


def test_there_are_nineteen_city_county_units() -> None:
    units = REFERENCE.city_county_units()
    assert len(units) == 19
    assert {u.name for u in units} >= {"海口市", "三亚市", "三沙市", "儋州市", "琼中黎族苗族自治县"}


def test_the_case_statuses_are_blzt_one_to_fifteen() -> None:
    assert sorted(REFERENCE.case_statuses) == list(range(1, 16))


@pytest.mark.parametrize("stage", [1, 2, 3, 4])
def test_each_main_stage_has_milestone_items(stage: int) -> None:
    assert [i for i in CATALOG.by_stage(stage) if i.milestone], f"stage {stage} has no milestone item"


def test_item_stages_are_reference_stages() -> None:
    assert {i.stage for i in CATALOG.items.values()} <= set(REFERENCE.stages)


def test_item_prerequisites_are_known_and_acyclic() -> None:
    graph = {code: set(item.prerequisites) for code, item in CATALOG.items.items()}
    assert set().union(*graph.values()) <= set(graph)
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"prerequisite cycle: {exc.args[1]}")
    assert set(order) == set(graph)


def test_a_prerequisite_never_lies_in_a_later_main_stage() -> None:
    for item in CATALOG.items.values():
        for code in item.prerequisites:
            assert CATALOG.item(code).stage <= item.stage, (item.code, code)


def test_promised_limits_are_within_the_legal_limits() -> None:
    for item in CATALOG.items.values():
        assert 0 < item.promised_limit_days <= item.legal_limit_days, item.code


def test_every_item_belongs_to_a_known_department() -> None:
    assert {i.department for i in CATALOG.items.values()} <= set(CATALOG.departments)


def test_the_glossary_in_docs_is_the_shared_one_marked_as_binding() -> None:
    _need_shared()
    ours = (Path(__file__).parents[2] / "docs" / "glossary.md").read_text(encoding="utf-8")
    first, _, rest = ours.partition("\n\n")
    assert "binding copy" in first
    assert rest == (SHARED.parent / "GLOSSARY.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("stage", [1, 2, 3, 4])
def test_each_main_stage_has_a_limit_within_spjdsx_that_covers_its_milestones(stage: int) -> None:
    limit = CATALOG.stage_limit(stage)
    assert 1 <= limit <= 50
    # the milestone items' promised limits plus a margin of 1-5 working days, a multiple of 5
    promised = sum(i.promised_limit_days for i in CATALOG.by_stage(stage) if i.milestone)
    assert promised < limit <= promised + 5 and limit % 5 == 0


def test_the_parallel_stage_has_no_limit() -> None:
    with pytest.raises(InvalidValue):
        CATALOG.stage_limit(5)


def test_every_flow_type_has_a_target_between_the_stage_limits_and_the_national_ceiling() -> None:
    floor = sum(CATALOG.stage_limit(s) for s in (1, 2, 3, 4))
    assert set(CATALOG.project_targets) == set(REFERENCE.flow_types)
    for flow in REFERENCE.flow_types:
        assert floor <= CATALOG.project_target(flow) <= 120, flow
    # Hainan's 2019 reform: government investment 120, general social investment 100, small and medium 80
    assert (CATALOG.project_target(1), CATALOG.project_target(3), CATALOG.project_target(5)) == (120, 100, 80)


def test_an_unknown_flow_type_has_no_target() -> None:
    with pytest.raises(InvalidValue):
        CATALOG.project_target(99)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["stages"][0].update(limit_days=51), "outside 1..50"),
        (lambda d: d["stages"][0].update(limit_days=0), "outside 1..50"),
        (lambda d: d["stages"].pop(), "one limit per main stage"),
        (lambda d: d["project_targets"].pop(), "one target per flow type"),
        (lambda d: d["project_targets"][0].update(target_days=121), "outside"),
    ],
)
def test_a_catalogue_with_bad_stage_limits_or_targets_is_refused(change: Any, message: str) -> None:
    data = copy.deepcopy(SEED_CATALOG.edition)  # the packaged seed edition, normalised
    change(data)
    with pytest.raises(ValueError, match=message):
        Catalog(data)
