"""办理状态 — the case statuses of reference/case_status.csv (BLZT 1–15), the decisions that end a
case, and the phases with the actions each permits (`ALLOWED`): the state machine that
domain/approvals/case.py enforces."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from domain.shared.reference import REFERENCE


class CaseStatus(IntEnum):
    """办理状态 (BLZT), codes of reference/case_status.csv."""

    RECEIVED = 1
    WITHDRAWN_BEFORE_ACCEPTANCE = 2
    ACCEPTED = 3
    NOT_ACCEPTED = 4
    ACCEPTANCE_REFUSED = 5
    CORRECTION_REQUESTED = 6
    CORRECTION_COMPLETED = 7
    REVIEW_STARTED = 8
    SPECIAL_PROCEDURE_STARTED = 9
    SPECIAL_PROCEDURE_ENDED = 10
    APPROVED = 11
    APPROVED_PENDING_MATERIALS = 12
    REFUSED = 13
    WITHDRAWN = 14
    REVOKED = 15

    @property
    def label(self) -> str:
        return REFERENCE.case_statuses[self.value].name


class Decision(StrEnum):
    """The outcome a back-entry records."""

    APPROVED = "approved"
    APPROVED_PENDING_MATERIALS = "approved_pending_materials"
    REFUSED = "refused"

    @property
    def status(self) -> CaseStatus:
        return {
            Decision.APPROVED: CaseStatus.APPROVED,
            Decision.APPROVED_PENDING_MATERIALS: CaseStatus.APPROVED_PENDING_MATERIALS,
            Decision.REFUSED: CaseStatus.REFUSED,
        }[self]


class Phase(StrEnum):
    RECEIVED = "received"  # not yet accepted (1, or 7 before acceptance)
    CORRECTION = "correction"  # 6
    IN_REVIEW = "in_review"  # 3, 8, 10, or 7 after acceptance
    SUSPENDED = "suspended"  # 9
    DECIDED = "decided"  # 11, 12
    CLOSED = "closed"  # 2, 4, 5, 13, 14, 15


ALLOWED: dict[Phase, frozenset[str]] = {
    Phase.RECEIVED: frozenset({"accept", "not-accept", "refuse-acceptance", "request-correction", "withdraw"}),
    Phase.CORRECTION: frozenset({"complete-correction", "withdraw"}),
    Phase.IN_REVIEW: frozenset(
        {
            "request-correction",
            "start-review",
            "record-opinion",
            "start-special-procedure",
            "approve",
            "approve-pending-materials",
            "approve-on-commitment",
            "refuse",
            "withdraw",
        }
    ),
    Phase.SUSPENDED: frozenset({"end-special-procedure", "withdraw"}),
    # supply-materials only while 容缺 materials are pending; verify-commitment once, on a commitment approval
    Phase.DECIDED: frozenset({"revoke", "supply-materials", "verify-commitment"}),
    Phase.CLOSED: frozenset(),
}

ACTIONS: tuple[str, ...] = tuple(sorted(set().union(*ALLOWED.values())))
CLOSED_STATUSES = frozenset({2, 4, 5, 13, 14, 15})
DECIDED_STATUSES = frozenset({11, 12})
