"""审批 — cases (办件): the lifecycle of reference/case_status.csv and its working-day clock."""

from domain.approvals.case import Case
from domain.approvals.clock import CaseClock, Pause
from domain.approvals.status import CaseStatus, Decision

__all__ = ["Case", "CaseClock", "CaseStatus", "Decision", "Pause"]
