"""The project-name normaliser W8 compares names with (domain/supervision/names.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.supervision.names import normalise, similarity


@pytest.mark.parametrize(
    ("name", "text", "regions", "phases"),
    [
        ("海口市江东新区滨江安置区二期工程", "江东新区滨江安置区2期", {"460100"}, {2}),
        ("江东新区滨江安置区二期工程项目", "江东新区滨江安置区2期", set(), {2}),
        ("海南省海口市美兰区（Ａ栋）综合楼建设项目", "A栋综合楼", {"460000", "460100", "460108"}, set()),
        ("三亚海棠湾 第三期 酒店", "海棠湾3期酒店", {"460200"}, {3}),
        ("陵水黎族自治县Ⅱ期安置房工程", "2期安置房", {"469028"}, {2}),
        ("海口市项目", "项目", {"460100"}, set()),  # nothing left to strip: the suffix stays
    ],
)
def test_normalise_strips_regions_suffixes_punctuation_and_widths(
    name: str, text: str, regions: set[str], phases: set[int]
) -> None:
    n = normalise(name)
    assert (n.text, set(n.regions), set(n.phases)) == (text, regions, phases)


def test_the_planted_pair_of_issue_15_is_one_name_and_phases_or_cities_are_not() -> None:
    assert similarity("海口市江东新区滨江安置区二期工程", "江东新区滨江安置区二期工程项目") == 1.0
    assert similarity("江东新区滨江安置区一期工程", "江东新区滨江安置区二期工程") == 0.0
    assert similarity("江东新区滨江安置区", "江东新区滨江安置区二期") == 0.0  # one names a phase, one not
    assert similarity("海口市第一中学", "三亚市第一中学") == 0.0
    assert similarity("海南省海口市第一中学", "海口第一中学") == 1.0  # the province holds the city


names = st.text(alphabet="海口市三亚江东新区滨江安置一二期工程项目建设（）\uff21 A-·第2 ", min_size=1, max_size=20)


@given(names, names)
def test_similarity_is_symmetric_and_between_zero_and_one(a: str, b: str) -> None:
    assert similarity(a, b) == similarity(b, a)
    assert 0.0 <= similarity(a, b) <= 1.0


@given(names)
def test_a_name_is_like_itself_and_its_normal_form_is_stable(a: str) -> None:
    assert similarity(a, a) == 1.0
    assert normalise(normalise(a).text).text == normalise(a).text  # normalising twice changes nothing
