"""The demo's banner figures that must agree with the read side: the overdue count (超期) is the
one definition of domain/approvals/overdue.py, on the work calendar published in the log — the
same number `statistics` and the monthly report give for the same cases and day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from domain.approvals.overdue import counts_as_overdue

if TYPE_CHECKING:
    from application.bootstrap import Container


def count_overdue(container: Container, case_ids: Iterable[UUID], today: date, first_year: int) -> int:
    """超期 — how many of these cases are overdue as of `today` (cases accepted from `first_year`)."""
    calendar = container.work_calendars.calendar(range(first_year, today.year + 2))
    overdue = 0
    for case_id in case_ids:
        case = container.cases.get(case_id)
        overdue += counts_as_overdue(int(case.status), case.clock.with_calendar(calendar), today)
    return overdue
