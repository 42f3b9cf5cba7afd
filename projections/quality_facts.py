"""数据质量 — what application/data_quality.py reads, as one object the composition root hands it (it
implements the port `QualityFacts` of application/ports.py): the projects, the duplicate candidates
(projections/duplicates.py), the rows SPGL imports kept out and the open industry findings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infrastructure.db import Database
from projections.duplicates import Duplicates
from projections.industry import IndustryView
from projections.spgl_exchange import import_errors


class QualityFacts:
    def __init__(self, db: Database) -> None:
        self.db = db

    def projects(self, regions: Sequence[str] | None) -> list[dict[str, Any]]:
        if regions is None:
            return self.db.query("SELECT code, name, owner_uscc, merged_into FROM projects ORDER BY created_position")
        marks = ", ".join("?" for _ in regions)
        return self.db.query(
            f"SELECT code, name, owner_uscc, merged_into FROM projects WHERE region_code IN ({marks})"  # noqa: S608
            " ORDER BY created_position",
            list(regions),
        )

    def duplicate_threshold(self) -> float:
        return Duplicates.rules.threshold

    def duplicate_candidates(self, region_scope: str, first: int) -> tuple[list[dict[str, Any]], bool, int]:
        return Duplicates(self.db).candidates(region_scope=region_scope, first=first)

    def import_errors(self) -> list[dict[str, Any]]:
        return import_errors(self.db)

    def open_industry_findings(self, regions: Sequence[str] | None) -> dict[str, list[tuple[str, int]]]:
        return IndustryView(self.db).open_counts(regions)
