"""Text hygiene and JSON depth, as properties: what the rules refuse is written out here from the
Unicode definitions (general category Cc, the bidi controls, the noncharacters, the surrogates), not
read from domain/shared/hygiene.py."""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.shared.errors import InvalidValue
from domain.shared.hygiene import check_business_date, check_line, check_lines, forbidden, forbidden_in
from interfaces.rest.limits import too_deep

BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def expected_rule(char: str) -> str | None:
    """The rule a code point breaks in any text, from the Unicode definitions."""
    point = ord(char)
    if point == 0:
        return "nul_character"
    if unicodedata.category(char) == "Cs":
        return "lone_surrogate"
    if point in BIDI:
        return "bidi_control"
    if unicodedata.category(char) == "Cc" and char not in "\t\n\r":
        return "control_character"
    if 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFF) in (0xFFFE, 0xFFFF):
        return "noncharacter"
    return None


FORBIDDEN = [chr(p) for p in range(0x110000) if expected_rule(chr(p)) is not None]
# every code point, surrogates included, with the forbidden ones and line breaks drawn often
characters = st.one_of(st.characters(exclude_categories=()), st.sampled_from(FORBIDDEN), st.sampled_from("\t\n\r"))


def refused(check: Any, value: str) -> str | None:
    try:
        check(value)
    except InvalidValue as exc:
        return exc.rule
    return None


def test_the_forbidden_set_is_what_unicode_defines() -> None:
    # 65 Cc less TAB, LF, CR; 12 bidi; 32 + 34 noncharacters; 2,048 surrogates
    assert len(FORBIDDEN) == 62 + 12 + 66 + 2048


def test_every_forbidden_code_point_is_refused_with_its_rule() -> None:
    wrong = [
        f"U+{ord(c):04X}"
        for c in FORBIDDEN
        for value in [f"海口{c}项目"]
        if not refused(check_line, value) == refused(check_lines, value) == expected_rule(c) or forbidden(value) is None
    ]
    assert wrong == []


@given(st.text(characters, max_size=40))
def test_a_single_line_text_is_accepted_exactly_when_it_holds_nothing_forbidden_and_no_line_break(
    value: str,
) -> None:
    bad = any(expected_rule(c) for c in value) or any(c in "\t\n\r" for c in value)
    assert (refused(check_line, value) is not None) == bad


@given(st.text(characters, max_size=40))
def test_a_multi_line_text_is_accepted_exactly_when_it_holds_nothing_forbidden_and_cr_only_in_crlf(
    value: str,
) -> None:
    bare_cr = any(c == "\r" and value[i + 1 : i + 2] != "\n" for i, c in enumerate(value))
    bad = any(expected_rule(c) for c in value) or bare_cr
    assert (refused(check_lines, value) is not None) == bad


def strings_of(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in strings_of(v)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *strings_of(v)]]
    return []


nested_text = st.recursive(
    st.none() | st.integers() | st.text(characters, max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(characters, max_size=4), inner, max_size=3),
    max_leaves=20,
)


@given(nested_text)
def test_decoded_json_is_refused_exactly_when_a_string_or_key_in_it_holds_a_forbidden_code_point(
    value: Any,
) -> None:
    bad = any(expected_rule(c) for s in strings_of(value) for c in s)
    assert (forbidden_in(value) is not None) == bad


def test_multi_line_text_takes_tab_lf_and_crlf() -> None:
    assert check_lines("第一行\r\n第二行\n\t第三行") == "第一行\r\n第二行\n\t第三行"
    assert refused(check_lines, "旧式\r换行") == "bare_carriage_return"
    assert refused(check_line, "名称\t") == "single_line"


@pytest.mark.parametrize(
    ("day", "ok"),
    [
        (date(1949, 9, 30), False),
        (date(1949, 10, 1), True),
        (date(2026, 3, 1), True),
        (date(2100, 12, 31), True),
        (date(2101, 1, 1), False),
        (date(1, 1, 1), False),
    ],
)
def test_business_dates_lie_between_1949_10_01_and_2100_12_31(day: date, ok: bool) -> None:
    assert (refused(check_business_date, day) is None) == ok


# --- JSON depth --------------------------------------------------------------------------


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


# strings full of brackets, quotes and backslashes: only real nesting may count
tricky = st.text(st.sampled_from('[]{}"\\ ab'), max_size=8)
documents = st.recursive(
    st.none() | st.integers() | tricky,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky, inner, max_size=3),
    max_leaves=40,
)


@given(documents, st.integers(min_value=0, max_value=12))
def test_too_deep_agrees_with_the_nesting_of_the_parsed_document(document: Any, limit: int) -> None:
    assert too_deep(json.dumps(document).encode(), limit) == (depth(document) > limit)


@pytest.mark.parametrize("levels", [33, 3_000, 100_000])
def test_unclosed_nesting_counts_as_deep(levels: int) -> None:
    assert too_deep(b"[" * levels)
    assert not too_deep(b"[" * 32)
