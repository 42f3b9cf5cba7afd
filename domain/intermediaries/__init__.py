"""中介超市 — the intermediary marketplace (agencies, service orders) and 评估评审 assessment reviews."""

from domain.intermediaries.agency import SERVICE_TYPES, Agency, agency_id
from domain.intermediaries.order import OrderState, SelectionMode, ServiceOrder, draw
from domain.intermediaries.review import AssessmentReview, ReviewResult

__all__ = [
    "SERVICE_TYPES",
    "Agency",
    "AssessmentReview",
    "OrderState",
    "ReviewResult",
    "SelectionMode",
    "ServiceOrder",
    "agency_id",
    "draw",
]
