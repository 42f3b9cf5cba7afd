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
from application.idempotency import IdempotencyKey
from application.policy import Actor, authorize
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

AgencyPool = Callable[[str], list[str]]  # service type → USCCs of the agencies offering it


class AgencyService(Service):
    def register(
        self, actor: Actor, request_id: str, key: IdempotencyKey | None, fields: dict[str, Any]
    ) -> dict[str, Any]:
        """中介机构入驻 — one agency per USCC (a second registration is a 409)."""
        authorize(actor, "agency.register")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            agency = Agency.register(meta, **fields)
            if self.exists(agency.id):
                raise Conflict(f"agency {agency.uscc} is already registered")
            return [agency], {"id": str(agency.id), "uscc": agency.uscc}

        return self.execute(self.meta(actor, request_id), actor, key, work)

    def change(
        self, actor: Actor, request_id: str, key: IdempotencyKey | None, uscc: str, action: str, reason: str
    ) -> dict[str, Any]:
        """action ∈ suspend, reinstate."""
        authorize(actor, f"agency.{action}")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            agency = self.get(uscc)
            getattr(agency, action)(meta, reason)
            return [agency], {"id": str(agency.id), "uscc": agency.uscc, "suspended": agency.suspended}

        return self.execute(self.meta(actor, request_id), actor, key, work)

    def get(self, uscc: str) -> Agency:
        return self.load(Agency, agency_id(validate_uscc(uscc, "uscc")), f"agency {uscc}")


class ServiceOrderService(Service):
    def __init__(
        self,
        app: GongjianApplication,
        clock: Clock,
        position_of: Callable[[UUID, int], int | None],
        keys: KeyStore,
        pool: AgencyPool,
    ) -> None:
        super().__init__(app, clock, position_of)
        self.keys = keys
        self.pool = pool

    def get(self, order_id: UUID) -> ServiceOrder:
        return self.load(ServiceOrder, order_id, f"service order {order_id}")

    def _agency(self, uscc: str) -> Agency:
        return self.load(Agency, agency_id(validate_uscc(uscc, "agency_uscc")), f"agency {uscc}")

    def place(
        self, actor: Actor, request_id: str, key: IdempotencyKey | None, fields: dict[str, Any]
    ) -> dict[str, Any]:
        """下单; a random draw or a self-selected agency is chosen in the same request."""
        code = validate_project_code(fields["project_code"])
        order_id = uuid4()
        seed = secrets.token_hex(16)
        chosen = fields.get("agency_uscc")

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
                service_type=fields["service_type"],
                mode=fields["mode"],
                description=fields.get("description") or "",
                budget=fields.get("budget"),
            )
            if order.mode.value == "self_selected":
                if not chosen:
                    raise Conflict("a self-selected order names its agency (agency_uscc)")
                order.select_self(meta, self._agency(chosen))
            elif chosen:
                raise Conflict(f"agency_uscc is only given when self-selecting, not for {order.mode.value}")
            if order.mode.value == "random":
                candidates = [a for a in (self.find(Agency, agency_id(u)) for u in self.pool(order.service_type)) if a]
                order.select_by_draw(meta, seed, candidates)
            return [order], _answer(order)

        return self.execute(self.meta(actor, request_id), actor, key, work)

    def act(
        self,
        actor: Actor,
        request_id: str,
        key: IdempotencyKey | None,
        order_id: UUID,
        action: str,
        body: dict[str, Any],
    ) -> dict[str, Any]:
        """action ∈ bid, award, accept, deliver, cancel."""
        authorize(actor, f"service-order.{action}")
        keys = self.keys

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            order = self.get(order_id)
            authorize(actor, f"service-order.{action}", owner_org=order.owner_uscc, region_code=order.region_code)
            match action:
                case "bid":
                    order.bid(meta, self._agency(actor.org), Decimal(str(body["amount"])), int(body["days"]))
                case "award":
                    named = body.get("agency_uscc")
                    bidders = {u: self._agency(u) for u in order.bids}
                    order.award(meta, self._agency(named) if named else None, bidders)
                case "accept":
                    order.accept(meta)
                case "deliver":
                    order.check_agency(actor.org, "deliver")
                    seal = self.load(Seal, UUID(str(body["seal_id"])), "seal")
                    if seal.holder_org != actor.org:
                        raise Forbidden(f"{actor.org} may not use the seal of {seal.holder_org}")
                    seal.check_usable(actor.actor_id, meta.now)  # before the private key is touched
                    payload = ServiceOrder.result_payload(
                        order.id, str(body["document_hash"]).strip().lower(), str(seal.id), actor.actor_id, meta.now
                    )
                    signature = sign(seal.algorithm, keys.get(str(seal.id)), payload)
                    order.deliver(meta, body["title"], body["document_hash"], seal, actor.actor_id, signature)
                case "cancel":
                    order.cancel(meta, body.get("reason", ""))
                case _:
                    raise NotFound(f"unknown service-order action {action}")
            return [order], _answer(order)

        return self.execute(self.meta(actor, request_id), actor, key, work)


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
