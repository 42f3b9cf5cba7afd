"""Reading a catalogue file (事项库, docs/catalogue.md "The catalogue file"): an XLSX workbook (one sheet
per table), a directory of `<sheet>.csv`, or a .zip of them, into rows `{sheet: [{column: cell}]}`
for domain/catalog/edition.py. Rows keep their place: a blank row stays (as empty cells) so that a
row's number is the spreadsheet's (header = 1). Also the file's SHA-256, recorded with the edition."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

Tables = dict[str, list[dict[str, Any]]]


class UnreadableFile(ValueError):
    """Not a catalogue file at all (not XLSX, CSV directory or zip; or a broken one)."""


def sha256_of(path: Path) -> str:
    """Of the file; of a directory, of its CSV files' names and bytes in name order."""
    digest = hashlib.sha256()
    if path.is_dir():
        for csv_path in sorted(path.glob("*.csv")):
            digest.update(csv_path.name.encode() + b"\0" + csv_path.read_bytes() + b"\0")
    else:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    return [{k: (v or "") for k, v in row.items() if k is not None} for row in reader]


def read_tables(path: Path) -> Tables:
    if path.is_dir():
        return {p.stem: _csv_rows(p.read_text(encoding="utf-8")) for p in sorted(path.glob("*.csv"))}
    if path.suffix.lower() == ".zip":
        return read_zip(path.read_bytes())
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx(path.read_bytes())
    raise UnreadableFile(f"{path.name}: a catalogue is an .xlsx workbook, a directory of <sheet>.csv or a .zip")


def read_zip(data: bytes) -> Tables:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {
                Path(name).stem: _csv_rows(archive.read(name).decode("utf-8"))
                for name in sorted(archive.namelist())
                if name.lower().endswith(".csv") and not name.startswith("__MACOSX")
            }
    except (zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"not a zip of UTF-8 CSV files: {exc}") from None


def cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a CSV would hold: dates ISO, whole numbers without '.0', yes/no
    (catalogue files and the 在建工程 migration's files read their XLSX cells alike)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


def read_xlsx(data: bytes) -> Tables:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
        raise UnreadableFile(f"not an XLSX workbook: {exc}") from None
    tables: Tables = {}
    try:
        for sheet in book.worksheets:
            rows = [[cell_text(c) for c in row] for row in sheet.iter_rows(values_only=True)]
            while rows and not any(rows[-1]):
                rows.pop()  # trailing blank rows are not rows
            if not rows:
                tables[sheet.title] = []
                continue
            header = list(rows[0])
            while header and not header[-1]:
                header.pop()
            tables[sheet.title] = [
                {name: (row[i] if i < len(row) else "") for i, name in enumerate(header) if name} for row in rows[1:]
            ]
    finally:
        book.close()
    return tables
