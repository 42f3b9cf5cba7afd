"""统计 — what statistics, the monthly report and data quality read, as one object the composition
root hands to application/statistics.py (it implements the port `CaseFigures` of application/ports.py):
`case_timeline`'s working calendar, its `cases` rows and its summary (projections/case_summary.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.approvals.selection import CaseSelection
from domain.shared.workdays import Calendar
from infrastructure.db import Database
from projections.case_summary import cases_selected, statistics_rows
from projections.case_timeline import read_calendar


class CaseFigures:
    def __init__(self, db: Database) -> None:
        self.db = db

    def calendar(self) -> Calendar:
        return read_calendar(self.db)

    def cases(self, selection: CaseSelection) -> list[dict[str, Any]]:
        return cases_selected(self.db, selection)

    def summary_rows(
        self, by: Sequence[str], selection: CaseSelection, calendar: str, today: str
    ) -> list[dict[str, Any]]:
        return statistics_rows(self.db, by, selection, calendar, today)
