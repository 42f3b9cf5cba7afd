"""项目名称比对 — how W8 (重复赋码) compares two project names of one owner.

A name is normalised before it is compared (`normalise`):
1. Unicode NFKC: full-width letters, digits and brackets become their half-width forms
   (`（二期）` → `(二期)`, `Ａ栋` → `A栋`), roman numerals become letters (`Ⅱ` → `II`);
2. every character that is not a letter or a digit (punctuation, spaces, symbols) is dropped;
3. region prefixes are stripped, repeatedly: the names of reference/regions.csv (`海南省`, `海口市`,
   `美兰区`, `陵水黎族自治县` …) and, for the province and the prefecture- and county-level cities,
   the name without its `省`/`市` (`海南`, `海口`, `三亚`, `琼海` …);
4. generic suffixes are stripped, repeatedly: `建设项目`, `工程项目`, `项目`, `工程`, `建设`.

Two names are then scored with rapidfuzz's normalised Indel similarity (`fuzz.ratio` / 100,
0–1; the same measure difflib's ratio approximates). Two cases are never a name match however
close the text: the names carry different phases (`一期`/`二期`, `1期`, `首期`, `第三期`; a name
with a phase against one without counts as different), or they name regions of which neither
contains the other (`海口市…` against `三亚市…`). Red lines are judged apart from names (W8
still pairs two phases whose red lines overlap).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz

from domain.shared.reference import REFERENCE

SUFFIXES = ("建设项目", "工程项目", "项目", "工程", "建设")
_PHASE = re.compile(r"(?:第)?([一二三四五六七八九十首\d]+|I{1,3}|IV|V|VI{0,3})期")
_NUMERALS = {
    "首": 1,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "I": 1,
    "II": 2,
    "III": 3,
    "IV": 4,
    "V": 5,
    "VI": 6,
    "VII": 7,
    "VIII": 8,
}


@dataclass(frozen=True)
class Name:
    text: str  # the normalised name, what is scored
    regions: frozenset[str]  # codes of the region prefixes stripped
    phases: frozenset[int]  # phase numbers the name carries


@cache
def _prefixes() -> tuple[tuple[str, str], ...]:
    """(prefix, region code), longest first: full names, and short forms of cities and the province."""
    found: dict[str, str] = {}
    for region in REFERENCE.regions.values():
        found[region.name] = region.code
        if region.level in ("province", "prefecture", "county_city") and region.name[-1] in "省市":
            short = region.name[:-1]
            if len(short) >= 2:
                found.setdefault(short, region.code)
    return tuple(sorted(found.items(), key=lambda p: -len(p[0])))


def _phase(number: str) -> int:
    if number.isdigit():
        return int(number)
    if number in _NUMERALS:
        return _NUMERALS[number]
    if number.startswith("十"):  # 十一 … 十九
        return 10 + _NUMERALS.get(number[1:], 0)
    head, _, tail = number.partition("十")  # 二十, 二十三
    return _NUMERALS.get(head, 0) * 10 + _NUMERALS.get(tail, 0)


def normalise(name: str) -> Name:
    text = "".join(ch for ch in unicodedata.normalize("NFKC", name) if unicodedata.category(ch)[0] in "LN")
    text = text.upper()
    regions: set[str] = set()
    stripped = True
    while stripped:
        stripped = False
        for prefix, code in _prefixes():
            if text.startswith(prefix) and len(text) > len(prefix):
                text, stripped = text[len(prefix) :], True
                regions.add(code)
                break
    stripped = True
    while stripped:
        stripped = False
        for suffix in SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text, stripped = text[: -len(suffix)], True
                break
    phases = frozenset(_phase(m.group(1)) for m in _PHASE.finditer(text))
    text = _PHASE.sub(lambda m: f"{_phase(m.group(1))}期", text)  # 二期, 第二期, II期 and 2期 read alike
    return Name(text, frozenset(regions), phases)


def _within(code: str, other: str) -> bool:
    return REFERENCE.within(code, other) or REFERENCE.within(other, code)


def _specific(codes: frozenset[str]) -> set[str]:
    """The most specific regions named (海南省海口市 names 海口市)."""
    return {c for c in codes if not any(o != c and REFERENCE.within(o, c) for o in codes)}


def distinct(a: Name, b: Name) -> bool:
    """Names that cannot mean one project: other phases, or places neither of which holds the other."""
    if a.phases != b.phases:
        return True
    mine, theirs = _specific(a.regions), _specific(b.regions)
    return bool(mine and theirs) and not any(_within(x, y) for x in mine for y in theirs)


def similarity(first: str, second: str) -> float:
    """0–1: how alike two project names are after normalising; 0 for different phases or places."""
    a, b = normalise(first), normalise(second)
    if distinct(a, b):
        return 0.0
    return float(fuzz.ratio(a.text, b.text)) / 100
