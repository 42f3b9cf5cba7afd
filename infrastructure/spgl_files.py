"""Dumps of the national data-sharing tables on disk: one file per table, `SPGL_*.csv` (header =
field names, UTF-8) or `SPGL_*.json` (a list of objects)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from domain.exchange import spgl


def read_dump(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Every SPGL_* file of the folder, by table name (the file name without its suffix)."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(folder.iterdir()):
        if not path.name.upper().startswith("SPGL_"):
            continue
        name = path.stem.upper()
        if path.suffix.lower() == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as f:
                tables.setdefault(name, []).extend(dict(r) for r in csv.DictReader(f))
        elif path.suffix.lower() == ".json":
            rows = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(rows, list):
                raise ValueError(f"{path}: a JSON dump file holds a list of rows")
            tables.setdefault(name, []).extend(rows)
    return tables


def columns(table: str, rows: list[dict[str, str]]) -> list[str]:
    """The standard's fields of the table in its order, then any other fields the rows carry."""
    known = list(spgl.tables()[table].fields)
    extra = sorted({k for r in rows for k in r} - set(known))
    return known + extra


def write_dump(folder: Path, tables: dict[str, list[dict[str, str]]], fmt: str = "csv") -> dict[str, int]:
    """Write one file per table (every table, even an empty one); returns rows per table."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for table, rows in tables.items():
        if fmt == "json":
            (folder / f"{table}.json").write_text(
                json.dumps(rows, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8"
            )
        else:
            with (folder / f"{table}.csv").open("w", encoding="utf-8", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=columns(table, rows), lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows)
        counts[table] = len(rows)
    return counts
