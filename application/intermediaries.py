"""中介超市 — the intermediary marketplace: agencies (admin registers, supervisors suspend), service
orders by project owners (applicant role) with the agency chosen by random draw, bidding or
self-selection, and the agency's side (bid, accept, deliver) under the `integration` role with the
agency's USCC as its organisation (docs/intermediaries.md).

The draw's candidates come from the `intermediaries` read model (every agency offering the
service type), caught up first; each candidate is then checked on its aggregate (qualified on the
day, not suspended), so a stale row can only leave an agency out, never let an unqualified one in.
The seed is 128 random bits, recorded in the event with the candidates.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from application.base import Service
from application.clock import Clock
from application.commands import Invocation
from application.commands.intermediaries import (
    AcceptOrder,
    AgencyChanged,
    AgencyRegistered,
    AwardOrder,
    BidForOrder,
    CancelOrder,
    ChangeAgency,
    DeliverResult,
    OrderAction,
    OrderOutcome,
    PlaceServiceOrder,
    RegisterAgency,
)
from application.policy import authorize
from application.ports import AgencyPool
from domain.intermediaries import Agency, ServiceOrder, agency_id
from domain.projects import Project, project_id
from domain.shared.codes import validate_project_code, validate_uscc
from domain.shared.errors import Conflict, Forbidden, InvalidValue, NotFound
from domain.shared.events import Meta
from domain.signatures import Seal
from domain.signatures.crypto import sign
from infrastructure.log import GongjianApplication

if TYPE_CHECKING:
    from infrastructure.keystore import KeyStore


class AgencyService(Service):
    def register(self, by: Invocation, command: RegisterAgency) -> AgencyRegistered:
        """中介机构入驻 — one agency per USCC (a second registration is a 409)."""
        authorize(by.actor, "agency.register")
        c = command

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            agency = Agency.register(
                meta,
                uscc=c.uscc,
                name=c.name,
                region_code=c.region_code,
                qualifications=[dict(q) for q in c.qualifications],
                service_types=list(c.service_types),
            )
            if self.exists(agency.id):
                raise Conflict(f"agency {agency.uscc} is already registered")
            return [agency], {"id": str(agency.id), "uscc": agency.uscc}

        return AgencyRegistered.of(self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work))

    def change(self, by: Invocation, command: ChangeAgency) -> AgencyChanged:
        """action ∈ suspend, reinstate."""
        uscc, action, reason = command.uscc, command.action, command.reason
        authorize(by.actor, f"agency.{action}")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            agency = self.get(uscc)
            getattr(agency, action)(meta, reason)
            return [agency], {"id": str(agency.id), "uscc": agency.uscc, "suspended": agency.suspended}

        return AgencyChanged.of(self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work))

    def get(self, uscc: str) -> Agency:
        return self.load(Agency, agency_id(validate_uscc(uscc, "uscc")), f"agency {uscc}")


class ServiceOrderService(Service):
    def __init__(
        self,
        app: GongjianApplication,
        clock: Clock,
        position_of: Callable[[UUID, int], int | None],
        keys: KeyStore,
        agencies: AgencyPool,
    ) -> None:
        super().__init__(app, clock, position_of)
        self.keys = keys
        self.agencies = agencies

    def get(self, order_id: UUID) -> ServiceOrder:
        return self.load(ServiceOrder, order_id, f"service order {order_id}")

    def _agency(self, uscc: str) -> Agency:
        return self.load(Agency, agency_id(validate_uscc(uscc, "agency_uscc")), f"agency {uscc}")

    def place(self, by: Invocation, command: PlaceServiceOrder) -> OrderOutcome:
        """下单; a random draw or a self-selected agency is chosen in the same request."""
        actor = by.actor
        code = validate_project_code(command.project_code)
        order_id = uuid4()
        seed = secrets.token_hex(16)
        chosen = command.agency_uscc

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            try:
                project = self.load(Project, project_id(code), f"project {code}")
            except NotFound:
                raise Conflict(f"project {code} has not been generated (未策划生成)") from None
            authorize(actor, "service-order.place", owner_org=project.owner_uscc, region_code=project.region_code)
            project.check_active("order-service")
            order = ServiceOrder.place(
                meta,
                order_id=order_id,
                project_code=project.code,
                owner_uscc=project.owner_uscc,
                region_code=project.region_code,
                service_type=command.service_type,
                mode=command.mode,
                description=command.description or "",
                budget=command.budget,
            )
            if order.mode.value == "self_selected":
                if not chosen:
                    raise Conflict("a self-selected order names its agency (agency_uscc)")
                order.select_self(meta, self._agency(chosen))
            elif chosen:
                raise Conflict(f"agency_uscc is only given when self-selecting, not for {order.mode.value}")
            if order.mode.value == "random":
                candidates = [
                    a for a in (self.find(Agency, agency_id(u)) for u in self.agencies.pool(order.service_type)) if a
                ]
                order.select_by_draw(meta, seed, candidates)
            return [order], _answer(order)

        return OrderOutcome.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def act(self, by: Invocation, command: OrderAction) -> OrderOutcome:
        """One of the order's actions: bid, award, accept, deliver, cancel."""
        actor, order_id, action = by.actor, command.order_id, command.action
        authorize(actor, f"service-order.{action}")
        keys = self.keys

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            order = self.get(order_id)
            authorize(actor, f"service-order.{action}", owner_org=order.owner_uscc, region_code=order.region_code)
            match command:
                case BidForOrder(amount=amount, days=days):
                    order.bid(meta, self._agency(actor.org), Decimal(str(amount)), int(days))
                case AwardOrder(agency_uscc=named):
                    bidders = {u: self._agency(u) for u in order.bids}
                    order.award(meta, self._agency(named) if named else None, bidders)
                case AcceptOrder():
                    order.accept(meta)
                case DeliverResult(title=title, document_hash=document_hash, seal_id=seal_id):
                    order.check_agency(actor.org, "deliver")
                    seal = self.load(Seal, seal_id, "seal")
                    if seal.holder_org != actor.org:
                        raise Forbidden(f"{actor.org} may not use the seal of {seal.holder_org}")
                    seal.check_usable(actor.actor_id, meta.now)  # before the private key is touched
                    payload = ServiceOrder.result_payload(
                        order.id, document_hash.strip().lower(), str(seal.id), actor.actor_id, meta.now
                    )
                    signature = sign(seal.algorithm, keys.get(str(seal.id)), payload)
                    order.deliver(meta, title, document_hash, seal, actor.actor_id, signature)
                case CancelOrder(reason=reason):
                    order.cancel(meta, reason)
            return [order], _answer(order)

        return OrderOutcome.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))


def _answer(order: ServiceOrder) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "id": str(order.id),
        "state": order.state.value,
        "mode": order.mode.value,
        "agency_uscc": order.agency_uscc,
        **(
            {"selection": {**order.selection, "bid_amount": _text(order.selection["bid_amount"])}}
            if order.selection
            else {}
        ),
    }
    if order.result is not None:
        answer["material"] = order.material()
    return answer


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def check_cited_results(
    find: Callable[[type[Any], UUID], Any], project_code: str, materials: list[dict[str, Any]]
) -> None:
    """A case citing an intermediary result (`materials[i].service_order_id`) cites a delivered
    order of its own project, with the document hash that was signed (422 naming the material)."""
    for i, material in enumerate(materials):
        cited = material.get("service_order_id")
        if cited is None:
            continue
        field = f"materials.{i}.service_order_id"
        try:
            order = find(ServiceOrder, UUID(str(cited)))
        except ValueError:
            order = None
        if order is None or order.result is None:
            raise InvalidValue(field, f"no delivered intermediary result {cited}", "result_unknown")
        if order.project_code != project_code:
            raise InvalidValue(field, f"the result is for project {order.project_code}", "result_other_project")
        given = (material.get("signature") or {}).get("document_hash", order.result.document_hash)
        if given != order.result.document_hash:
            raise InvalidValue(field, "the document hash differs from the signed result", "result_hash_mismatch")
