"""Reading a catalogue file (infrastructure/catalogue_files.py): the same tables from an XLSX workbook,
a CSV directory and a zip of it; a blank row keeps the spreadsheet's row numbers; the packaged seed
read from disk is the seed edition."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from domain.catalog import SEED_CATALOG
from domain.catalog.catalog import seed_tables
from domain.catalog.edition import CatalogueErrors
from domain.catalog.edition_rows import parse_edition
from infrastructure.catalogue_files import UnreadableFile, read_tables, sha256_of

SEED_DIR = Path(__file__).parents[2] / "domain" / "catalog" / "data" / "seed"


def write_xlsx(path: Path, tables: dict[str, list[dict[str, str]]]) -> None:
    book = Workbook()
    book.remove(book.active)
    for sheet, rows in tables.items():
        ws = book.create_sheet(sheet)
        header = list(rows[0]) if rows else []
        ws.append(header)
        for row in rows:
            ws.append([int(v) if v.isdigit() and len(v) < 6 else (v or None) for v in (row[h] for h in header)])
    book.save(path)


def test_xlsx_csv_directory_and_zip_give_the_same_edition(tmp_path: Path) -> None:
    tables = seed_tables()
    write_xlsx(tmp_path / "seed.xlsx", tables)
    with zipfile.ZipFile(tmp_path / "seed.zip", "w") as archive:
        for p in sorted(SEED_DIR.glob("*.csv")):
            archive.write(p, f"catalogue/{p.name}")
    editions = [parse_edition(read_tables(p)) for p in (SEED_DIR, tmp_path / "seed.xlsx", tmp_path / "seed.zip")]
    assert editions[0] == editions[1] == editions[2] == SEED_CATALOG.edition


def test_a_blank_row_keeps_the_row_numbers_and_a_bad_cell_is_named_by_them(tmp_path: Path) -> None:
    folder = tmp_path / "cat"
    folder.mkdir()
    for p in SEED_DIR.glob("*.csv"):
        (folder / p.name).write_bytes(p.read_bytes())
    rows = list(csv.DictReader((folder / "items.csv").open(encoding="utf-8")))
    rows.insert(2, dict.fromkeys(rows[0], ""))  # a blank line after the second item
    rows[5]["legal_limit_days"] = "a week"
    with (folder / "items.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(CatalogueErrors) as caught:
        parse_edition(read_tables(folder))
    assert [(e.sheet, e.row, e.column, e.rule) for e in caught.value.errors] == [
        ("items", 7, "legal_limit_days", "integer")
    ]
    assert sha256_of(folder) != sha256_of(SEED_DIR)


def test_a_file_that_is_no_catalogue_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "x.xlsx").write_bytes(b"not a workbook")
    for path in (tmp_path / "x.pdf", tmp_path / "x.xlsx"):
        with pytest.raises(UnreadableFile):
            read_tables(path)
