"""智能查重 scoring: the score is symmetric, within [0, 1], monotone in the red-line overlap; the
signals and reasons of known pairs; the blocks a pair must share; the rules file is checked."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import shape

from projections.duplicates import (
    RULES,
    Facts,
    Signals,
    block_keys,
    blocking_name,
    load_rules,
    may_reach,
    name_similarity,
    normalised_name,
    overlap_ratio,
    reasons,
    score,
    signals,
)
from tests.unit.test_blueprint import square

OWNER = "91460000MA5T0P3X64"
OTHER_OWNER = "914403001922038216"

signals_st = st.builds(
    Signals,
    same_owner=st.booleans(),
    name=st.floats(0, 1),
    overlap=st.none() | st.floats(0, 1),
    same_unit=st.booleans(),
    legacy_current=st.booleans(),
)


def facts(code: str, name: str, owner: str = OWNER, red_line: tuple[float, ...] | None = None, **kw: str) -> Facts:
    return Facts(
        code=code,
        owner_uscc=owner,
        owner_name=kw.get("owner_name", "海南测试建设有限公司"),
        name_key=normalised_name(name),
        region_code=kw.get("region_code", "460108"),
        unit_code=kw.get("unit_code", "460100"),
        red_line=shape(square(*red_line)) if red_line else None,
    )


boxes = st.tuples(st.floats(110.0, 110.1), st.floats(20.0, 20.1), st.floats(0.001, 0.02), st.floats(0.001, 0.02)).map(
    lambda t: (t[0], t[1], t[0] + t[2], t[1] + t[3])
)
names = st.sampled_from(["江东总部大厦", "江东总部大厦二期", "美兰机场扩建", "海口湾公园", "三亚湾酒店", ""])
codes = st.sampled_from(
    ["2611-460100-04-01-123456", "2019-460100-70-01-123450", "2603-460100-04-01-654321", "2018-460200-70-01-111111"]
)
owners = st.sampled_from([OWNER, OTHER_OWNER])


@given(signals_st)
def test_the_score_lies_between_0_and_1(s: Signals) -> None:
    assert 0 <= score(s) <= 1


@given(signals_st, st.floats(0, 1), st.floats(0, 1))
def test_the_score_never_falls_when_the_overlap_grows(s: Signals, x: float, y: float) -> None:
    low, high = sorted((x, y))
    assert score(replace(s, overlap=low)) <= score(replace(s, overlap=high))
    assert score(replace(s, overlap=None)) == score(replace(s, overlap=0.0))  # missing = no evidence


@given(codes, codes, names, names, owners, owners, st.none() | boxes, st.none() | boxes)
def test_the_score_of_a_pair_is_symmetric(
    code_a: str, code_b: str, name_a: str, name_b: str, owner_a: str, owner_b: str, box_a: object, box_b: object
) -> None:
    a = facts(code_a, name_a, owner_a, box_a)  # type: ignore[arg-type]
    b = facts(code_b, name_b, owner_b, box_b)  # type: ignore[arg-type]
    assert score(signals(a, b)) == score(signals(b, a))
    assert 0 <= score(signals(a, b)) <= 1


@given(codes, codes, names, names, owners, owners, st.none() | boxes, st.none() | boxes, st.floats(0, 1))
def test_the_cheap_bound_never_drops_a_pair_that_reaches_the_floor(
    code_a: str, code_b: str, name_a: str, name_b: str, owner_a: str, owner_b: str, box_a: object, box_b: object,
    floor: float,
) -> None:  # fmt: skip
    a = facts(code_a, name_a, owner_a, box_a)  # type: ignore[arg-type]
    b = facts(code_b, name_b, owner_b, box_b)  # type: ignore[arg-type]
    if score(signals(a, b)) >= floor:
        assert may_reach(a, b, floor)


@given(boxes, boxes)
def test_overlap_is_a_share_of_the_smaller_red_line_and_symmetric(a: tuple[float, ...], b: tuple[float, ...]) -> None:
    first, second = shape(square(*a)), shape(square(*b))
    ratio = overlap_ratio(first, second)
    assert ratio is not None and 0 <= ratio <= 1
    assert ratio == pytest.approx(overlap_ratio(second, first))
    assert overlap_ratio(first, first) == pytest.approx(1.0)


def test_names_are_normalised_before_they_are_compared() -> None:
    assert (
        normalised_name("海口江东（一期） 总部大厦项目")
        == normalised_name("海口江东(一期)总部大厦")
        == "海口江东一期总部大厦"
    )
    assert name_similarity("江东总部大厦", "江东总部大厦") == 1.0
    assert name_similarity("江东总部大厦", "") == 0.0
    assert 0.8 < name_similarity("江东总部大厦", "江东总部大厦二期") < 0.9


def test_a_legacy_and_a_current_code_of_one_project_score_top_and_say_why() -> None:
    legacy = facts("2019-460100-70-01-123450", "江东总部大厦", red_line=(110.40, 20.00, 110.41, 20.01))
    current = facts("2611-460100-04-01-123456", "江东总部大厦项目", red_line=(110.40, 20.00, 110.41, 20.01))
    s = signals(legacy, current)
    assert s.legacy_current and s.same_owner and s.name == 1.0 and s.overlap == pytest.approx(1.0)
    assert score(s) == 1.0
    assert reasons(legacy, current, s) == [
        "同一建设单位",
        "名称相似 1.00",
        "红线重叠 100%",
        "旧版/新版代码",
        "同一区域 460100",
    ]


def test_a_renamed_owner_is_named_in_the_reasons() -> None:
    a = facts("2603-460100-04-01-111111", "江东总部大厦", red_line=(110.40, 20.00, 110.41, 20.01))
    b = facts(
        "2611-460100-04-01-222222",
        "江东新区总部大楼",
        red_line=(110.402, 20.00, 110.412, 20.01),
        owner_name="海南江东发展有限公司",
    )
    s = signals(a, b)
    assert reasons(a, b, s)[0] == "同一建设单位（已更名：海南测试建设有限公司 / 海南江东发展有限公司）"
    assert s.overlap == pytest.approx(0.8, abs=0.01) and score(s) >= RULES.threshold


def test_two_current_codes_are_no_legacy_current_pair_and_far_apart_projects_share_no_grid_cell() -> None:
    a = facts("2603-460100-04-01-123456", "江东总部大厦", red_line=(110.40, 20.00, 110.41, 20.01))
    b = facts("2611-460100-04-01-123456", "美兰机场扩建", red_line=(110.60, 19.90, 110.61, 19.91))
    assert not signals(a, b).legacy_current
    grid_a = {k for k in block_keys(a) if k.startswith("g:")}
    grid_b = {k for k in block_keys(b) if k.startswith("g:")}
    assert grid_a and grid_b and not grid_a & grid_b
    assert f"o:{OWNER}" in block_keys(a) & block_keys(b)  # the owner block still pairs them


def test_no_pair_without_the_same_owner_or_an_overlap_reaches_the_threshold() -> None:
    """Why the owner and grid blocks find every pair above the threshold (projections/duplicates.py)."""
    best = Signals(same_owner=False, name=1.0, overlap=0.0, same_unit=True, legacy_current=True)
    assert score(best) < RULES.threshold


def test_the_rules_file_is_checked() -> None:
    good = """threshold = 0.7\nkeep_from = 0.6\n[weights]\nowner = 0.3\nname = 0.3\nred_line = 0.3\nregion = 0.1
[code]\nlegacy_current_bonus = 0.15\nname_match = 0.9\n[blocking]\ngrid_degrees = 0.01\nname_key_chars = 4\n"""
    assert load_rules(good) == RULES
    with pytest.raises(ValueError, match="sum to 1"):
        load_rules(good.replace("region = 0.1", "region = 0.2"))
    with pytest.raises(ValueError, match="keep_from"):
        load_rules(good.replace("keep_from = 0.6", "keep_from = 0.8"))


def test_name_and_code_blocks_are_used_only_when_keep_from_lets_such_pairs_count() -> None:
    assert blocking_name(normalised_name("海口市江东新区总部大厦")) == "江东新区总部大厦"
    assert blocking_name("三亚湾滨海公园") == "湾滨海公园"  # the short form 三亚 too: the same for every such name
    a = facts("2019-460100-70-01-123450", "海口市美兰机场扩建", OTHER_OWNER)  # 海口市, 美兰(区) stripped
    b = facts("2611-460100-04-01-123456", "美兰机场扩建工程")
    assert not RULES.name_blocks and block_keys(a) & block_keys(b) == set()
    low = replace(RULES, keep_from=0.4)
    assert low.name_blocks
    assert block_keys(a, low) & block_keys(b, low) == {"c:460100:12345", "n:460100:^机场扩建", "n:460100:机场扩建$"}
