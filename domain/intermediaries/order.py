"""中介服务 — the ServiceOrder aggregate: a project owner orders an intermediary service for a
project and a service type, an agency is selected (random draw 随机抽取, bidding 竞价, or
self-selected 自选), accepts, and delivers its result as a signed material (document hash signed
with the agency's seal) that later cases can cite.

The random draw is deterministic and auditable: the event records the seed and the candidates
(every qualified, non-suspended agency, by USCC), and anyone recomputes `draw(seed, order id,
candidates)` to the same agency. The service times (ordered → selected → delivered) are the
business dates of those events; read models count them in working days.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.intermediaries.agency import Agency, check_service_type
from domain.shared.codes import validate_project_code
from domain.shared.errors import Conflict, IllegalTransition, InvalidValue
from domain.shared.events import SHANGHAI, AuditedEvent, Meta
from domain.signatures.crypto import HashAlgorithm, check_hash, verify
from domain.signatures.seal import Seal
from domain.signatures.signing import SignatureEntry, signing_payload


class SelectionMode(StrEnum):
    """选取方式."""

    RANDOM = "random"  # 随机抽取
    BIDDING = "bidding"  # 竞价选取
    SELF_SELECTED = "self_selected"  # 自选


class OrderState(StrEnum):
    PLACED = "placed"
    SELECTED = "selected"
    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


def draw(seed: str, order_id: UUID, candidates: list[str]) -> int:
    """The index drawn: SHA-256 of "seed|order id" as a big number, modulo the candidates."""
    if not candidates:
        raise Conflict("no qualified, active agency offers this service: nothing to draw from")
    digest = hashlib.sha256(f"{seed}|{order_id}".encode()).digest()
    return int.from_bytes(digest, "big") % len(candidates)


class ServiceOrder(Aggregate):
    """中介服务订单 — an owner's order for an intermediary service, from selection to signed result."""

    class Event(AuditedEvent):
        pass

    class Placed(Event, Aggregate.Created):
        """中介服务下单 — the owner ordered a service for a project, naming how the agency is chosen."""

        project_code: str
        owner_uscc: str
        region_code: str
        service_type: str
        mode: str
        description: str
        budget: Decimal | None

    class BidSubmitted(Event):
        """中介竞价 — a qualified agency bid on an order in bidding mode."""

        agency_uscc: str
        agency_name: str
        amount: Decimal
        days: int

        def apply(self, aggregate: ServiceOrder) -> None:
            aggregate.bids[self.agency_uscc] = (self.amount, self.days, len(aggregate.bids))

    class AgencySelected(Event):
        """中介选取 — the agency was chosen: by draw (with seed and candidates), award of a bid, or the owner."""

        agency_uscc: str
        agency_name: str
        mode: str
        seed: str | None
        candidates: list[str]
        bid_amount: Decimal | None
        qualification: dict[str, str]

        def apply(self, aggregate: ServiceOrder) -> None:
            aggregate.state = OrderState.SELECTED
            aggregate.agency_uscc = self.agency_uscc
            aggregate.selection = {
                "seed": self.seed,
                "candidates": list(self.candidates),
                "bid_amount": self.bid_amount,
            }

    class Accepted(Event):
        """中介承接 — the selected agency took the order on."""

        def apply(self, aggregate: ServiceOrder) -> None:
            aggregate.state = OrderState.ACCEPTED

    class ResultDelivered(Event):
        """中介成果交付 — the result, its document hash signed with the agency's seal (a signed material)."""

        title: str
        document_hash: str
        hash_algorithm: str
        seal_id: str
        signer: str
        algorithm: str
        signed_at: datetime
        signature: str

        def apply(self, aggregate: ServiceOrder) -> None:
            aggregate.state = OrderState.DELIVERED
            aggregate.result = SignatureEntry(
                signing_request_id=str(aggregate.id),
                document_hash=self.document_hash,
                hash_algorithm=self.hash_algorithm,
                seal_id=self.seal_id,
                signer=self.signer,
                algorithm=self.algorithm,
                signed_at=self.signed_at,
                previous_hash="",
                signature=self.signature,
            )
            aggregate.result_title = self.title

    class Cancelled(Event):
        """中介服务撤单 — the owner cancelled the order before a result was delivered."""

        reason: str

        def apply(self, aggregate: ServiceOrder) -> None:
            aggregate.state = OrderState.CANCELLED

    def __init__(
        self,
        project_code: str,
        owner_uscc: str,
        region_code: str,
        service_type: str,
        mode: str,
        description: str,
        budget: Decimal | None,
    ) -> None:
        self.project_code = project_code
        self.owner_uscc = owner_uscc
        self.region_code = region_code
        self.service_type = service_type
        self.mode = SelectionMode(mode)
        self.description = description
        self.budget = budget
        self.state = OrderState.PLACED
        self.agency_uscc: str | None = None
        self.bids: dict[str, tuple[Decimal, int, int]] = {}  # uscc → (amount, days, order of arrival)
        self.result: SignatureEntry | None = None
        self.result_title: str | None = None
        self.selection: dict[str, Any] = {}

    @classmethod
    def place(
        cls,
        meta: Meta,
        *,
        order_id: UUID,
        project_code: str,
        owner_uscc: str,
        region_code: str,
        service_type: str,
        mode: str,
        description: str,
        budget: Decimal | None,
    ) -> ServiceOrder:
        try:
            chosen = SelectionMode(mode)
        except ValueError:
            raise InvalidValue("mode", f"one of {[m.value for m in SelectionMode]}", "enum") from None
        if budget is not None and budget < 0:
            raise InvalidValue("budget", "a budget is not negative", "range")
        return cls._create(
            cls.Placed,
            id=order_id,
            project_code=validate_project_code(project_code),
            owner_uscc=owner_uscc,
            region_code=region_code,
            service_type=check_service_type(service_type),
            mode=chosen.value,
            description=description.strip(),
            budget=budget,
            **meta.fields(),
        )

    # --- selection ---------------------------------------------------------------------

    def _check(self, state: OrderState, action: str) -> None:
        if self.state != state:
            raise IllegalTransition(f"service order {self.id}", self.state.value, action)

    def _check_mode(self, mode: SelectionMode, action: str) -> None:
        if self.mode != mode:
            raise IllegalTransition(f"service order {self.id}", f"{self.state.value} ({self.mode.value})", action)

    def _qualification(self, agency: Agency, meta: Meta) -> dict[str, str]:
        day = meta.business_time.astimezone(SHANGHAI).date()
        problem = agency.problem_for(self.service_type, day)
        if problem is not None:
            raise Conflict(problem)
        quals = agency.qualification_for(self.service_type, day)
        assert quals is not None
        return quals

    def select_by_draw(self, meta: Meta, seed: str, candidates: list[Agency]) -> None:
        """随机抽取 among the given agencies, each checked again: qualified and not suspended."""
        self._check_mode(SelectionMode.RANDOM, "draw")
        self._check(OrderState.PLACED, "draw")
        if not seed or len(seed) < 16:
            raise InvalidValue("seed", "a draw needs a seed of at least 16 characters", "seed")
        day = meta.business_time.astimezone(SHANGHAI).date()
        pool = sorted((a for a in candidates if a.problem_for(self.service_type, day) is None), key=lambda a: a.uscc)
        usccs = [a.uscc for a in pool]
        chosen = pool[draw(seed, self.id, usccs)]
        self._selected(meta, chosen, seed=seed, candidates=usccs, bid_amount=None)

    def select_self(self, meta: Meta, agency: Agency) -> None:
        """自选 — the owner names the agency; it must be qualified and active."""
        self._check_mode(SelectionMode.SELF_SELECTED, "self-select")
        self._check(OrderState.PLACED, "self-select")
        self._selected(meta, agency, seed=None, candidates=[agency.uscc], bid_amount=None)

    def bid(self, meta: Meta, agency: Agency, amount: Decimal, days: int) -> None:
        self._check_mode(SelectionMode.BIDDING, "bid")
        self._check(OrderState.PLACED, "bid")
        self._qualification(agency, meta)
        if agency.uscc in self.bids:
            raise Conflict(f"agency {agency.uscc} has already bid on this order")
        if amount <= 0 or not amount.is_finite():
            raise InvalidValue("amount", "a bid is a positive amount (元)", "range")
        if not 0 < days <= 365:
            raise InvalidValue("days", "1..365 working days", "range")
        self.trigger_event(
            self.BidSubmitted, agency_uscc=agency.uscc, agency_name=agency.name, amount=amount, days=days,
            **meta.fields(),
        )  # fmt: skip

    def award(self, meta: Meta, agency: Agency | None, agencies: dict[str, Agency]) -> None:
        """竞价选取: the named bidder, or else the lowest bid (the earliest of equal bids)."""
        self._check_mode(SelectionMode.BIDDING, "award")
        self._check(OrderState.PLACED, "award")
        if not self.bids:
            raise Conflict("no bids on this order yet")
        if agency is None:
            uscc = min(self.bids, key=lambda u: (self.bids[u][0], self.bids[u][2]))
            agency = agencies[uscc]
        elif agency.uscc not in self.bids:
            raise InvalidValue("agency_uscc", f"agency {agency.uscc} did not bid on this order", "not_a_bidder")
        self._selected(meta, agency, seed=None, candidates=sorted(self.bids), bid_amount=self.bids[agency.uscc][0])

    def _selected(
        self, meta: Meta, agency: Agency, *, seed: str | None, candidates: list[str], bid_amount: Decimal | None
    ) -> None:
        qualification = self._qualification(agency, meta)
        self.trigger_event(
            self.AgencySelected,
            agency_uscc=agency.uscc,
            agency_name=agency.name,
            mode=self.mode.value,
            seed=seed,
            candidates=candidates,
            bid_amount=bid_amount,
            qualification=qualification,
            **meta.fields(),
        )

    # --- the agency's side -------------------------------------------------------------

    def check_agency(self, org: str, action: str) -> None:
        if self.agency_uscc != org:
            raise IllegalTransition(
                f"service order {self.id}", f"{self.state.value} (agency {self.agency_uscc})", action
            )

    def accept(self, meta: Meta) -> None:
        self._check(OrderState.SELECTED, "accept")
        self.check_agency(meta.actor_org, "accept")
        self.trigger_event(self.Accepted, **meta.fields())

    @staticmethod
    def result_payload(order_id: UUID, document_hash: str, seal_id: str, signer: str, signed_at: datetime) -> bytes:
        """What the agency's seal signs: the ordinary signature payload, the order as the request."""
        return signing_payload(str(order_id), document_hash, HashAlgorithm.SM3.value, seal_id, signer, signed_at, "")

    def deliver(self, meta: Meta, title: str, document_hash: str, seal: Seal, signer: str, signature: bytes) -> None:
        self._check(OrderState.ACCEPTED, "deliver")
        self.check_agency(meta.actor_org, "deliver")
        if seal.holder_org != self.agency_uscc:
            raise InvalidValue("seal_id", f"the seal is held by {seal.holder_org}, not the agency", "seal_holder")
        if not title.strip():
            raise InvalidValue("title", "the result needs a title", "required")
        checked = check_hash(document_hash, HashAlgorithm.SM3.value)
        seal.check_usable(signer, meta.now)
        payload = self.result_payload(self.id, checked, str(seal.id), signer, meta.now)
        if not verify(seal.algorithm, seal.public_key_bytes, payload, signature):
            raise InvalidValue("signature", "does not verify with the seal's public key", "bad_signature")
        self.trigger_event(
            self.ResultDelivered,
            title=title.strip(),
            document_hash=checked,
            hash_algorithm=HashAlgorithm.SM3.value,
            seal_id=str(seal.id),
            signer=signer,
            algorithm=seal.algorithm,
            signed_at=meta.now,
            signature=base64.b64encode(signature).decode(),
            **meta.fields(),
        )

    def cancel(self, meta: Meta, reason: str) -> None:
        if self.state in (OrderState.DELIVERED, OrderState.CANCELLED):
            raise IllegalTransition(f"service order {self.id}", self.state.value, "cancel")
        if not reason.strip():
            raise InvalidValue("reason", "a reason is required", "required")
        self.trigger_event(self.Cancelled, reason=reason.strip(), **meta.fields())

    def material(self) -> dict[str, Any]:
        """The signed result as a later case cites it (`materials[]`), verifiable through 验真."""
        if self.result is None:
            raise IllegalTransition(f"service order {self.id}", self.state.value, "cite-result")
        return {"name": self.result_title, "service_order_id": str(self.id), "signature": self.result.as_dict()}
