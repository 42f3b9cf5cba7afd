"""事项库版本 — one edition of the item catalogue as data: the tables of a catalogue file (docs/catalogue.md,
"The catalogue file"), checked row by row and normalised into plain JSON-able data (it is carried
whole by `Catalogue.EditionPublished`).

Pure: a reader (infrastructure/catalogue_files.py, or a REST body) hands in the rows (edition_rows.py
`parse_edition`), as
`{sheet: [{column: cell}]}` with the header as row 1. Every bad cell is reported (`CatalogueErrors`:
sheet, row, column, rule), all at once; an edition with any error is not an edition.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from domain.shared.codes import validate_uscc
from domain.shared.errors import InvalidValue
from domain.shared.reference import REFERENCE

VERSION_RE = re.compile(r"^(\d{4})\.(\d{2})-(\d+)$")  # 2026.12-1: year, month, number in the month
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # department function and licence type codes
ITEM_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
NATIONAL_CODE_RE = re.compile(r"^[0-9A-Z]{6,40}$")
REGION_RE = re.compile(r"^\d{6}$")
TEXT_MAX, LONG_MAX = 200, 2000
YES, NO = ("yes", "是", "true", "y", "1"), ("no", "否", "false", "n", "0")
MATERIAL_CLASSES = ("applicant", "intermediary", "free", "shared")
FIELD_TYPES = ("string", "number", "integer", "date")
TOPIC_KINDS = ("name", "code", "area", "money", "date")
DEPARTMENT_KINDS = ("government", "enterprise")
DEFAULT_TOPIC_FIELDS = ("holder_uscc", "project_code")
DEFAULT_PENDING_MAX_DAYS = 60  # domain/catalog/follow_up.py's default latest due date
# topic fields every licence has (domain/licences/licence.py): implied, never a licence_fields row
IMPLIED_TOPIC_FIELDS = frozenset(
    {"project_name", "document_number", "location", "holder_name", "holder_uscc", "project_code"}
    | {"item_code", "region_code"}
)
SHEETS: dict[str, tuple[tuple[str, ...], bool]] = {  # sheet: (required columns, required sheet)
    "edition": (("key", "value"), True),
    "regions": (("code", "name", "level", "parent_code"), False),
    "departments": (("code", "region_code", "name"), True),
    "licence_types": (("code", "name"), True),
    "licence_fields": (("licence_type", "name", "label", "kind"), False),
    "items": (("code", "name", "stage", "department", "legal_limit_days", "promised_limit_days"), True),
    "implementations": (("item_code", "region_code", "implementation_code"), False),
    "situations": (("item_code", "code", "name"), False),
    "materials": (("item_code", "code", "name", "class"), False),
    "form_fields": (("item_code", "name", "label", "type"), False),
    "stages": (("stage", "limit_days"), True),
    "project_targets": (("flow_type", "target_days"), True),
    "flows": (("flow_type", "region_code", "items"), False),
}


@dataclass(frozen=True)
class RowError:
    """One bad cell: `row` as the spreadsheet numbers it (header = 1), `index` 0-based in the table."""

    sheet: str
    index: int | None
    column: str | None
    rule: str
    message: str

    @property
    def row(self) -> int | None:
        return None if self.index is None else self.index + 2

    @property
    def path(self) -> str:
        """`tables.items[3].legal_limit_days`: where the cell sits in the REST body."""
        where = f"tables.{self.sheet}" + ("" if self.index is None else f"[{self.index}]")
        return where + (f".{self.column}" if self.column else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "rule": self.rule,
            "message": self.message,
        }


class CatalogueErrors(InvalidValue):
    """Every bad row of a catalogue file (422 with each one's path, sheet, row and column)."""

    def __init__(self, errors: list[RowError]) -> None:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first.path, f"sheet {first.sheet} row {first.row}: {first.message}{more}", first.rule)
        self.errors = errors


class _Bad(Exception):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule, self.message = rule, message


def version_key(version: str) -> tuple[int, int, int]:
    m = VERSION_RE.match(version)
    if not m:
        raise ValueError(f"not a catalogue version: {version!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


# --- cells ---------------------------------------------------------------------------------------


def _cell(row: dict[str, Any], column: str) -> str:
    value = row.get(column)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else ";".join(map(str, value))
    return str(value).strip()


def _text(value: str, required: bool = True, limit: int = TEXT_MAX) -> str | None:
    if not value:
        if required:
            raise _Bad("required", "required")
        return None
    if len(value) > limit:
        raise _Bad("text", f"text of at most {limit} characters")
    return value


def _int(lo: int, hi: int, required: bool = True) -> Callable[[str], int | None]:
    def parse(value: str) -> int | None:
        if not value:
            if required:
                raise _Bad("required", "required")
            return None
        if not re.fullmatch(r"-?\d+", value):
            raise _Bad("integer", f"{value!r} is not a whole number")
        number = int(value)
        if not lo <= number <= hi:
            raise _Bad("range", f"{number} is outside {lo}..{hi}")
        return number

    return parse


def _bool(value: str) -> bool:
    low = value.lower()
    if not low or low in NO:
        return False
    if low in YES:
        return True
    raise _Bad("boolean", f"{value!r}: yes/no (是/否, true/false)")


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _enum(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in options:
            raise _Bad("enum", f"{value!r} is not one of {', '.join(options)}")
        return value

    return parse


def _match(pattern: re.Pattern[str], rule: str, hint: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if not value:
            raise _Bad("required", "required")
        if not pattern.match(value):
            raise _Bad(rule, f"{value!r}: {hint}")
        return value

    return parse


def _json(value: str) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        raise _Bad("json", "not valid JSON") from None


class _Check:
    """Collects the errors of every row of every sheet."""

    def __init__(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        self.tables = tables
        self.errors: list[RowError] = []

    def bad(self, sheet: str, index: int | None, column: str | None, rule: str, message: str) -> None:
        self.errors.append(RowError(sheet, index, column, rule, message))

    def rows(self, sheet: str) -> Iterable[tuple[int, dict[str, Any]]]:
        """(index, row) of the sheet's non-blank rows."""
        for index, row in enumerate(self.tables.get(sheet) or []):
            if not isinstance(row, dict):
                self.bad(sheet, index, None, "object", "a row is an object of column: value")
                continue
            if any(_cell(row, c) for c in row):
                yield index, row

    def field(self, sheet: str, index: int, row: dict[str, Any], column: str, parse: Callable[[str], Any]) -> Any:
        try:
            return parse(_cell(row, column))
        except _Bad as bad:
            self.bad(sheet, index, column, bad.rule, bad.message)
            return None

    def unique(self, sheet: str, index: int, column: str, key: Any, seen: set[Any]) -> bool:
        if key in seen:
            self.bad(sheet, index, column, "duplicate", f"{key} is listed twice")
            return False
        seen.add(key)
        return True

    def headers(self) -> None:
        for sheet in self.tables:
            if sheet not in SHEETS:
                self.bad(sheet, None, None, "sheet_unknown", f"unknown sheet; sheets: {', '.join(SHEETS)}")
        for sheet, (columns, required) in SHEETS.items():
            rows = self.tables.get(sheet)
            if rows is None:
                if required:
                    self.bad(sheet, None, None, "sheet_missing", "this sheet is required")
                continue
            if not isinstance(rows, list):
                self.bad(sheet, None, None, "list", "a sheet is a list of rows")
                self.tables[sheet] = []
                continue
            present = set().union(*(r.keys() for r in rows if isinstance(r, dict))) if rows else set(columns)
            for column in columns:
                if column not in present:
                    self.bad(sheet, None, column, "column_missing", f"column {column} is missing")


def uscc(value: str) -> str | None:
    if not value:
        return None
    try:
        return validate_uscc(value)
    except InvalidValue as exc:
        raise _Bad(exc.rule, exc.message) from None


def reference_region(code: str) -> bool:
    return code in REFERENCE.gbt_regions
