"""历史数据迁移 — historical projects from a CSV file (`gongjian import projects FILE.csv`).

Every row is validated by the same rules as an online generation (a row is one `generate` command,
channel `import` because the importer acts as an integration account); valid rows become events,
invalid ones are reported with their row number (the header is row 1, as in a spreadsheet) and the
rule they break. The project id is derived from the project code, so a row whose code was already
generated writes nothing: running the same file again writes nothing new.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from application.commands import Invocation
from application.commands.migration import ImportProjects
from application.commands.projects import GenerateProject
from application.projects import ProjectService
from domain.projects import Project, project_id
from domain.shared.codes import validate_project_code
from domain.shared.errors import DomainError, InvalidValue
from domain.shared.events import SHANGHAI

REQUIRED = (
    "code", "name", "owner_name", "owner_uscc", "region_code", "flow_type", "investment_type", "category",
    "total_investment", "planned_start", "planned_end",
)  # fmt: skip
OPTIONAL = ("red_line", "planned_land_use", "plot_ratio", "height_m", "land_area_m2", "generated_on")
BUSINESS_HOUR = time(9)  # a historical generation date becomes 09:00 Shanghai that day


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    position: int | None = None

    @property
    def by_rule(self) -> dict[str, int]:
        return dict(sorted(Counter(e["rule"] for e in self.errors).items()))


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, cells) per record; quoted cells may hold the GeoJSON red line."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidValue("header", f"columns missing: {', '.join(missing)}", "csv_header")
        for index, record in enumerate(reader, start=2):
            yield index, {k: (v or "").strip() for k, v in record.items() if k is not None}


def _decimal(cells: dict[str, str], name: str) -> Decimal | None:
    if not cells.get(name):
        return None
    try:
        return Decimal(cells[name])
    except InvalidOperation:
        raise InvalidValue(name, f"{cells[name]!r} is not a number", "decimal") from None


def _date(cells: dict[str, str], name: str) -> date | None:
    if not cells.get(name):
        return None
    try:
        return date.fromisoformat(cells[name])
    except ValueError:
        raise InvalidValue(name, f"{cells[name]!r} is not an ISO date (YYYY-MM-DD)", "date") from None


def parse_row(cells: dict[str, str]) -> dict[str, Any]:
    """The generate command's arguments from one row; a missing or malformed cell is InvalidValue."""
    for name in REQUIRED:
        if not cells.get(name):
            raise InvalidValue(name, "required", "required")
    try:
        flow_type = int(cells["flow_type"])
    except ValueError:
        raise InvalidValue("flow_type", f"{cells['flow_type']!r} is not an integer", "integer") from None
    red_line = None
    if cells.get("red_line"):
        try:
            red_line = json.loads(cells["red_line"])
        except json.JSONDecodeError:
            raise InvalidValue("red_line", "not GeoJSON (JSON text)", "red_line_malformed") from None
        if not isinstance(red_line, dict):
            raise InvalidValue("red_line", "not a GeoJSON object", "red_line_malformed")
    generated_on = _date(cells, "generated_on")
    return {
        "code": cells["code"],
        "name": cells["name"],
        "owner_name": cells["owner_name"],
        "owner_uscc": cells["owner_uscc"],
        "region_code": cells["region_code"],
        "flow_type": flow_type,
        "investment_type": cells["investment_type"],
        "category": cells["category"],
        "total_investment": _decimal(cells, "total_investment"),
        "planned_start": _date(cells, "planned_start"),
        "planned_end": _date(cells, "planned_end"),
        "red_line": red_line,
        "planned_land_use": cells.get("planned_land_use") or None,
        "plot_ratio": _decimal(cells, "plot_ratio"),
        "height_m": _decimal(cells, "height_m"),
        "land_area_m2": _decimal(cells, "land_area_m2"),
        "occurred_at": datetime.combine(generated_on, BUSINESS_HOUR, SHANGHAI) if generated_on else None,
    }


def import_projects(
    service: ProjectService,
    by: Invocation,
    command: ImportProjects,
    progress: Callable[[Iterable[Any]], Iterable[Any]] = lambda it: it,
) -> ImportReport:
    report = ImportReport()
    seen: dict[str, int] = {}
    for number, cells in progress(list(command.rows)):
        report.rows += 1
        try:
            fields = parse_row(dict(cells))
            code = validate_project_code(fields["code"], "code")
            if code in seen:
                raise InvalidValue("code", f"the same code as row {seen[code]}", "duplicate_code_in_file")
            seen[code] = number
            if service.find(Project, project_id(code)) is not None:
                report.unchanged += 1  # generated before (by an earlier run or online): nothing to write
                continue
            row = Invocation(by.actor, f"{by.request_id}-row{number}", occurred_at=fields.pop("occurred_at", None))
            result = service.generate(row, GenerateProject(**fields))
        except InvalidValue as exc:
            report.errors.append({"row": number, "field": exc.field, "rule": exc.rule, "message": exc.message})
            continue
        except DomainError as exc:
            report.errors.append({"row": number, "field": "", "rule": type(exc).__name__, "message": str(exc)})
            continue
        report.imported += 1
        report.position = result.position
    return report
