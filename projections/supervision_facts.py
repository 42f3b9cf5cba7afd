"""数据月报 — what the supervisor's sections of the monthly report read (application/report_supervision.py),
as one object the composition root hands it (it implements the port `SupervisionFacts` of
application/ports.py): warnings, inquiries, ratings, import errors, feedback and window assessment."""

from __future__ import annotations

from datetime import date
from typing import Any

from infrastructure.db import Database
from projections.feedback import FeedbackReports
from projections.inquiries import Inquiries
from projections.offline_warnings import OfflineWarnings
from projections.ratings import Ratings
from projections.spgl_exchange import import_errors
from projections.window_assessment import WindowAssessment

ALL_ROWS = 10**9  # read a whole period from a paged query


class SupervisionFacts:
    def __init__(self, db: Database) -> None:
        self.db = db

    def warnings(self, scope: str, raised_from: str, raised_to: str) -> list[dict[str, Any]]:
        rows, _more, _total = OfflineWarnings(self.db).list(
            region_scope=scope, raised_from=raised_from, raised_to=raised_to, first=ALL_ROWS
        )
        return rows

    def inquiries(self, scope: str, opened_from: date, opened_to: date) -> list[dict[str, Any]]:
        rows, _more, _total = Inquiries(self.db).search(
            region_scope=scope, opened_from=opened_from, opened_to=opened_to, first=ALL_ROWS
        )
        return rows

    def rating_groups(self, group_by: str, today: date, scope: str, month: str) -> list[dict[str, Any]]:
        return Ratings(self.db).groups(group_by, today=today, region_scope=scope, month=month)

    def bad_reviews(self, month: str, scope: str) -> list[dict[str, Any]]:
        return Ratings(self.db).bad_reviews(month=month, region_scope=scope)

    def import_errors(self) -> list[dict[str, Any]]:
        return import_errors(self.db)

    def feedback(self, month: str, scope: str) -> list[dict[str, Any]]:
        return FeedbackReports(self.db).month_rows(month, scope)

    def windows(self, month: str, scope: str) -> list[dict[str, Any]]:
        return WindowAssessment(self.db).assess(by_window=True, region_scope=scope, month=month)
