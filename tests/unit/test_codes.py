"""Codes: 统一社会信用代码 (USCC), 国家项目代码, 宗地代码, 行政区划代码 (reference/codes.md)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.shared.codes import (
    USCC_ALPHABET,
    is_legacy_project_code,
    uscc_check_char,
    validate_parcel_code,
    validate_project_code,
    validate_region,
    validate_uscc,
)
from domain.shared.errors import InvalidValue

KNOWN_USCCS = ("914403001922038216", "91460000MA5T0P3X64")


def _rule(call: object, *args: str) -> str:
    with pytest.raises(InvalidValue) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.rule


@pytest.mark.parametrize("code", KNOWN_USCCS)
def test_published_usccs_pass(code: str) -> None:
    assert validate_uscc(code) == code
    assert uscc_check_char(code[:17]) == code[17]


def test_a_uscc_is_read_in_upper_case_without_surrounding_blanks() -> None:
    assert validate_uscc(" 91460000ma5t0p3x64 ") == "91460000MA5T0P3X64"


@given(
    code=st.sampled_from(KNOWN_USCCS),
    position=st.integers(min_value=0, max_value=17),
    replacement=st.sampled_from(USCC_ALPHABET),
)
def test_changing_any_one_character_of_a_valid_uscc_makes_it_fail(code: str, position: int, replacement: str) -> None:
    if code[position] == replacement:
        replacement = USCC_ALPHABET[(USCC_ALPHABET.index(replacement) + 1) % len(USCC_ALPHABET)]
    changed = code[:position] + replacement + code[position + 1 :]
    assert _rule(validate_uscc, changed) == "uscc_check_character"


@given(body=st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_a_uscc_completed_with_its_check_character_passes(body: str) -> None:
    assert validate_uscc(body + uscc_check_char(body)) == body + uscc_check_char(body)


@pytest.mark.parametrize("code", ["", "91460000MA5T0P3X6", "91460000MA5T0P3X641"])
def test_a_uscc_of_the_wrong_length_fails(code: str) -> None:
    assert _rule(validate_uscc, code) == "uscc_length"


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z", "-"])
def test_a_uscc_with_a_letter_outside_the_alphabet_fails(letter: str) -> None:
    assert _rule(validate_uscc, "91460000MA5T0P3X6" + letter) == "uscc_alphabet"


def test_the_failing_field_is_named() -> None:
    with pytest.raises(InvalidValue) as caught:
        validate_uscc("91460000MA5T0P3X65", "owner.uscc")
    assert caught.value.field == "owner.uscc"
    assert "expected 4" in caught.value.message


@pytest.mark.parametrize(
    ("code", "legacy"),
    [("2611-460100-04-01-123456", False), ("2019-460100-70-01-012345", True), ("2603-469028-04-03-000001", False)],
)
def test_current_and_legacy_project_codes_pass(code: str, legacy: bool) -> None:
    assert validate_project_code(code) == code
    assert is_legacy_project_code(code) is legacy


@pytest.mark.parametrize(
    "code",
    [
        "2611-460100-04-01-12345",
        "2611460100-04-01-123456",
        "2611-460100-4-01-123456",
        "2611-460100-04-01-12345A",
        "26110-460100-04-01-12345",
        "",
    ],
)
def test_a_project_code_of_the_wrong_shape_fails(code: str) -> None:
    assert _rule(validate_project_code, code) == "project_code_format"


@pytest.mark.parametrize("region", ["469003", "110101", "469031", "460199"])
def test_a_project_code_outside_the_current_hainan_divisions_fails(region: str) -> None:
    assert _rule(validate_project_code, f"2611-{region}-04-01-123456") == "project_code_region"


@pytest.mark.parametrize("head", ["2613", "1800", "2200"])
def test_a_project_code_whose_time_segment_is_neither_yymm_nor_a_year_fails(head: str) -> None:
    assert _rule(validate_project_code, f"{head}-460100-04-01-123456") == "project_code_time"


@pytest.mark.parametrize("code", ["460106004002GB00123", "469028001001JA00001", "460302010020ZX99999"])
def test_well_formed_parcel_codes_pass(code: str) -> None:
    assert validate_parcel_code(code.lower()) == code


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("460106004002GB0012", "parcel_code_format"),
        ("460106004002QB00123", "parcel_code_format"),
        ("4601060040021B00123", "parcel_code_format"),
        ("469003004002GB00123", "parcel_code_region"),
    ],
)
def test_malformed_parcel_codes_fail_with_their_rule(code: str, rule: str) -> None:
    assert _rule(validate_parcel_code, code) == rule


def test_the_old_danzhou_division_code_is_refused_and_the_current_one_passes() -> None:
    assert validate_region("460400") == "460400"
    assert _rule(validate_region, "469003") == "region_unknown"
