"""输入规范 — what text and business dates may hold, wherever they come from (REST, GraphQL, imports).

Text: no string anywhere may hold
- a control character (Unicode Cc: C0 U+0000–001F, DEL, C1 U+0080–009F) other than TAB, LF and CR;
  NUL keeps its own rule (`nul_character`): PostgreSQL text cannot hold it at all;
- a bidirectional control: the embeddings and overrides U+202A–202E, the isolates U+2066–2069 and the
  invisible marks U+200E, U+200F, U+061C (Trojan Source, CVE-2021-42574: they make a name read
  differently from what is stored, and our texts are Chinese and Latin, which never need them);
- a noncharacter: U+FDD0–FDEF and the last two code points of every plane (U+FFFE, U+FFFF, U+1FFFE …);
- a lone surrogate (U+D800–DFFF: JSON's `\\ud800` escapes decode to one; UTF-8 cannot encode it).
A single-line field (names, titles, codes, numbers) also refuses TAB, LF and CR. A multi-line field
(reasons, opinions, notes, explanations) takes TAB and LF, and CR only as part of CRLF.

Business dates lie within BUSINESS_DATES: from the founding of the People's Republic (1949-10-01), before
which no record of this system can be dated, to 2100-12-31, past every planned end or validity.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from domain.shared.errors import InvalidValue

BUSINESS_DATES = (date(1949, 10, 1), date(2100, 12, 31))

_BIDI = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_NONCHARACTERS = r"\ufdd0-\ufdef" + "".join(f"\\U{plane:04x}fffe\\U{plane:04x}ffff" for plane in range(17))
_FORBIDDEN = re.compile(rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}{_NONCHARACTERS}\ud800-\udfff]")
_IS_BIDI = re.compile(rf"[{_BIDI}]")
_LINE_BREAKS = re.compile(r"[\t\n\r]")
_BARE_CR = re.compile(r"\r(?!\n)")


def _rule(char: str) -> tuple[str, str]:
    point = ord(char)
    name = f"U+{point:04X}"
    if point == 0:
        return "nul_character", "text may not contain NUL (U+0000)"
    if 0xD800 <= point <= 0xDFFF:
        return "lone_surrogate", f"text may not contain a lone surrogate ({name})"
    if _IS_BIDI.match(char):
        return "bidi_control", f"text may not contain a bidirectional control ({name})"
    if point < 0xA0:
        return "control_character", f"text may not contain a control character ({name})"
    return "noncharacter", f"text may not contain a noncharacter ({name})"


def forbidden(value: str) -> tuple[str, str] | None:
    """(rule, message) of the first code point no text may hold, else None."""
    found = _FORBIDDEN.search(value)
    return None if found is None else _rule(found.group())


def forbidden_in(value: Any) -> tuple[str, str] | None:
    """`forbidden` over every string of decoded JSON (keys of objects too), walked without recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            problem = forbidden(item)
            if problem is not None:
                return problem
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def check_line(value: str, field: str = "text") -> str:
    """A single-line text: nothing forbidden, and no TAB, LF or CR."""
    problem = forbidden(value)
    if problem is not None:
        raise InvalidValue(field, problem[1], problem[0])
    if _LINE_BREAKS.search(value):
        raise InvalidValue(field, "a single-line text may not contain TAB, LF or CR", "single_line")
    return value


def check_lines(value: str, field: str = "text") -> str:
    """A multi-line text: nothing forbidden; TAB and LF allowed, CR only in CRLF."""
    problem = forbidden(value)
    if problem is not None:
        raise InvalidValue(field, problem[1], problem[0])
    if _BARE_CR.search(value):
        raise InvalidValue(field, "a carriage return (CR) is allowed only as part of CRLF", "bare_carriage_return")
    return value


def check_business_date(value: date, field: str = "date") -> date:
    """A business date (or the date of a business time) within BUSINESS_DATES."""
    day = value.date() if isinstance(value, datetime) else value
    first, last = BUSINESS_DATES
    if not first <= day <= last:
        raise InvalidValue(field, f"a business date lies between {first} and {last}", "date_out_of_range")
    return value
