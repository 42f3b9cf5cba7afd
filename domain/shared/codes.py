"""Codes the system validates: USCC (GB 32100-2015), national project code (GB/T 40058-2021),
parcel code. Rules from ../shared/reference/codes.md."""

from __future__ import annotations

import re

from domain.shared.errors import InvalidValue
from domain.shared.reference import REFERENCE

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}

PROJECT_CODE_RE = re.compile(r"^(\d{4})-(\d{6})-(\d{2})-(\d{2})-(\d{6})$")
PARCEL_CODE_RE = re.compile(r"^(\d{6})(\d{3})(\d{3})([GJZ])([A-Z])(\d{5})$")


def uscc_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a USCC."""
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str, field: str = "uscc") -> str:
    """统一社会信用代码 — 18 characters from the 31-symbol alphabet, check character verified."""
    code = value.strip().upper()
    if len(code) != 18:
        raise InvalidValue(field, f"a USCC has 18 characters, got {len(code)}", "uscc_length")
    bad = sorted({ch for ch in code if ch not in _USCC_VALUE})
    if bad:
        raise InvalidValue(field, f"characters not allowed in a USCC: {''.join(bad)}", "uscc_alphabet")
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise InvalidValue(field, f"check character is {code[17]}, expected {expected}", "uscc_check_character")
    return code


def validate_project_code(value: str, field: str = "project_code") -> str:
    """国家项目代码 — `TTTT-RRRRRR-DD-PP-NNNNNC`, current (YYMM) or legacy (YYYY) time segment.

    The check character's algorithm is not public: structure and region are checked, it is not.
    """
    code = value.strip()
    m = PROJECT_CODE_RE.match(code)
    if not m:
        raise InvalidValue(
            field, "expected TTTT-RRRRRR-DD-PP-NNNNNC (e.g. 2611-460100-04-01-123456)", "project_code_format"
        )
    time_seg, region = m.group(1), m.group(2)
    if region not in REFERENCE.gbt_regions:
        raise InvalidValue(
            field, f"region segment {region} is not a current Hainan division code", "project_code_region"
        )
    if not _valid_time_segment(time_seg):
        raise InvalidValue(field, f"time segment {time_seg} is neither YYMM nor a year", "project_code_time")
    return code


def _valid_time_segment(seg: str) -> bool:
    year_or_yy, month = int(seg[:2]), int(seg[2:])
    if 1 <= month <= 12 and year_or_yy >= 0:
        return True  # YYMM (current form)
    return 1990 <= int(seg) <= 2100  # legacy form: a year


def is_legacy_project_code(code: str) -> bool:
    """Legacy codes (before 2020-11) carry a year where current ones carry YYMM.

    A segment such as 2011 reads both ways; it is taken as the current form.
    """
    return not 1 <= int(code[2:4]) <= 12


def validate_parcel_code(value: str, field: str = "parcel_code") -> str:
    """宗地代码 — region(6) + zone(3) + sub-zone(3) + ownership(G/J/Z) + feature letter + 5 digits."""
    code = value.strip().upper()
    m = PARCEL_CODE_RE.match(code)
    if not m:
        raise InvalidValue(
            field,
            "expected 19 characters: 6-digit region, 3+3 zone digits, G/J/Z, a letter, 5 digits",
            "parcel_code_format",
        )
    if m.group(1) not in REFERENCE.gbt_regions:
        raise InvalidValue(
            field, f"region segment {m.group(1)} is not a current Hainan division code", "parcel_code_region"
        )
    return code


def validate_region(value: str, field: str = "region_code") -> str:
    """行政区划代码 — a current code of regions.csv (old codes such as 469003 are refused) or a park
    with approval powers of the catalogue in force."""
    if not REFERENCE.is_region(value):
        raise InvalidValue(field, f"{value} is not a current Hainan division code (GB/T 2260)", "region_unknown")
    return value
