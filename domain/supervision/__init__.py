"""监管问责 — supervision: dispositions of warnings and accountability inquiries."""

from domain.supervision.inquiry import ACTIONS, ALLOWED, Finding, Inquiry, Phase
from domain.supervision.warning import DispositionStatus, WarningDisposition, warning_disposition_id

__all__ = [
    "ACTIONS",
    "ALLOWED",
    "DispositionStatus",
    "Finding",
    "Inquiry",
    "Phase",
    "WarningDisposition",
    "warning_disposition_id",
]
