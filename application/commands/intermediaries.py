"""中介超市 commands (application/intermediaries.py `AgencyService`, `ServiceOrderService`). An
order's actions are one dataclass each (`action`: the policy's name for it), taken by
`ServiceOrderService.act`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class RegisterAgency:
    """中介机构入驻 — one agency per USCC."""

    uscc: str
    name: str
    region_code: str
    qualifications: Sequence[Mapping[str, Any]]
    service_types: Sequence[str]


@dataclass(frozen=True)
class ChangeAgency:
    """暂停/恢复 — `action` is suspend or reinstate."""

    uscc: str
    action: str
    reason: str


@dataclass(frozen=True)
class PlaceServiceOrder:
    """中介服务下单 — a random draw or a self-selected agency is chosen in the same request."""

    project_code: str
    service_type: str
    mode: str  # random | bidding | self_selected
    agency_uscc: str | None = None  # 自选: the agency the owner names
    description: str = ""
    budget: Decimal | None = None


@dataclass(frozen=True)
class BidForOrder:
    action: ClassVar[str] = "bid"
    order_id: UUID
    amount: Decimal
    days: int


@dataclass(frozen=True)
class AwardOrder:
    """竞价选取: the named bidder, or else the lowest bid."""

    action: ClassVar[str] = "award"
    order_id: UUID
    agency_uscc: str | None = None


@dataclass(frozen=True)
class AcceptOrder:
    action: ClassVar[str] = "accept"
    order_id: UUID


@dataclass(frozen=True)
class DeliverResult:
    """成果交付 — signed with the agency's seal as the service signs."""

    action: ClassVar[str] = "deliver"
    order_id: UUID
    title: str
    document_hash: str
    seal_id: UUID


@dataclass(frozen=True)
class CancelOrder:
    action: ClassVar[str] = "cancel"
    order_id: UUID
    reason: str = ""


OrderAction = BidForOrder | AwardOrder | AcceptOrder | DeliverResult | CancelOrder


@dataclass(frozen=True, kw_only=True)
class AgencyRegistered(Outcome):
    id: UUID
    uscc: str


@dataclass(frozen=True, kw_only=True)
class AgencyChanged(Outcome):
    id: UUID
    uscc: str
    suspended: bool


@dataclass(frozen=True, kw_only=True)
class OrderOutcome(Outcome):
    """The order's state and selection; `material` (what a case cites) once delivered."""

    id: UUID
    state: str
    mode: str
    agency_uscc: str | None
    selection: dict[str, Any] | None = None
    material: dict[str, Any] | None = None
