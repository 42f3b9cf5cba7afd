"""外部推送 — what other systems must receive, put in the outbox and delivered at least once.

Producer: a process manager (infrastructure/process_manager.py, row `delivery_producer` of
`projection_tracking`; once `delivery_position`) that the projection engine's runner drives
(`DeliveryService.handle`; `produce` asks the engine for a round at once): case decisions become
Delivery messages:
- a decision of a completion-acceptance stage item (stage 4: 规划条件核实, 消防验收, 竣工验收备案)
  → `completion_acceptance.result` to `real_estate_registration` (approved, refused, revoked …);
- an approval of an item in `Routes.utility_items` (by default GJ-2-01 建设工程规划许可证 and GJ-3-03
  施工许可证) → `utility.project_notice` to every utility in `Routes.utilities` (water, power, gas).
A message's id is uuid5 of (topic, destination, source event): running the producer again over
the same events (a crash before the engine saved its position, two runners) makes nothing twice.

Worker (`DeliveryService.deliver_due`): one attempt for each message whose backoff ran out. The
HTTP call comes first, its outcome is recorded after it (Delivered / AttemptFailed /
DeadLettered): a crash in between means the same message is sent again with the same
`Idempotency-Key` (the message id), which receivers dedupe. Archive packages keep their own outbox
(`ArchivePackage` transfer, application/archives.py); the worker's round drives it too, and the
deliveries read model shows both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from application.archives import ArchiveService
from application.base import Service
from application.clock import Clock
from application.commands import Invocation
from application.commands.archives import ArchiveOutcome, TransferArchive
from application.commands.deliveries import DeliveryOutcome, RequeueDelivery
from application.policy import Actor, authorize
from application.ports import DeliveryError, Sender
from domain.approvals.case import Case
from domain.archives import ArchivePackage
from domain.catalog import CATALOG
from domain.exchange import Delivery, DeliveryState, RetrySchedule, delivery_id
from domain.industry.survey import JointSurvey, survey_id
from domain.ledger import uuid_text
from domain.projects import Project
from domain.shared.errors import NotFound
from domain.shared.events import Channel, Meta
from infrastructure.log import GongjianApplication
from infrastructure.process_manager import ManagerDriver

log = logging.getLogger("gongjian.delivery")

NAME = "delivery_producer"  # its row in projection_tracking (`deliveries` is the read model's)
# 外部推送: the producer and the worker act as this account, channel system_rule
DELIVERER = Actor("system:deliverer", "integration", "gongjian", "460000", "外部推送")
REAL_ESTATE = "real_estate_registration"
COMPLETION_STAGE = 4
DECISIONS: dict[str, str] = {
    get_topic(Case.Approved): "approved",
    get_topic(Case.ApprovedPendingMaterials): "approved_pending_materials",
    get_topic(Case.Refused): "refused",
    get_topic(Case.Revoked): "revoked",
    get_topic(Case.BackEntered): "",  # the decision is in the event
}
APPROVALS = frozenset({"approved", "approved_pending_materials"})
REASONED = frozenset({get_topic(Case.Refused), get_topic(Case.Revoked)})
OPEN_TOPICS = [get_topic(Delivery.Requested), get_topic(Delivery.Requeued)]


@dataclass(frozen=True)
class Routes:
    """Who receives what (Settings: GONGJIAN_DELIVERY_UTILITIES, GONGJIAN_DELIVERY_UTILITY_ITEMS)."""

    utilities: tuple[str, ...] = ("water", "power", "gas")
    utility_items: tuple[str, ...] = ("GJ-2-01", "GJ-3-03")


@dataclass
class Message:
    topic: str
    destination: str
    subject: str
    payload: dict[str, Any]


@dataclass
class Round:
    """What one worker round did."""

    position: int = 0
    requested: list[str] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    archive_attempts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        return bool(self.requested or self.attempts or self.archive_attempts)


class DeliveryService(Service):
    # the producer, a process manager the engine drives (`ProcessManager`)
    name = NAME
    topics: Sequence[str] = list(DECISIONS)
    legacy_position = "delivery_position"  # its own position table before issue 19

    def __init__(
        self,
        app: GongjianApplication,
        clock: Clock,
        position_of: Callable[[UUID, int], int | None],
        sender: Sender,
        schedule: RetrySchedule | None = None,
        routes: Routes | None = None,
        archives: ArchiveService | None = None,
        driver: ManagerDriver | None = None,
    ) -> None:
        super().__init__(app, clock, position_of)
        self.sender = sender
        self.schedule = schedule or RetrySchedule()
        self.routes = routes or Routes()
        self.archives = archives
        self.driver = driver  # the engine: reads the log for `handle` and keeps the position
        self._open: dict[UUID, None] = {}  # messages not yet delivered or dead, in request order
        self._seen = 0  # log position up to which _open is complete
        self._requested: list[str] | None = None  # what `produce` collects while the engine hands it events

    def meta_of_worker(self, request_id: str) -> Meta:
        return self.meta(DELIVERER, request_id, channel=Channel.SYSTEM_RULE)

    # --- the worker's round -----------------------------------------------------------------

    def run_once(self) -> Round:
        """Produce the messages of new events, then one attempt for each due message and transfer."""
        done = Round()
        self.produce(done)
        done.attempts = self.deliver_due()
        if self.archives is not None:
            done.archive_attempts = self.archives.deliver_due()
        return done

    # --- producing --------------------------------------------------------------------------

    def position(self) -> int:
        return self.driver.position(NAME) if self.driver is not None else 0

    def produce(self, done: Round | None = None) -> int:
        """Messages for the decisions after the producer's position, asked of the engine at once
        (the runner does the same on its own); returns how many were requested."""
        done = done or Round()
        if self.driver is None:
            raise RuntimeError("the delivery producer runs only when the projection engine drives it")
        self._requested = done.requested
        try:
            self.driver.drive(self)
        finally:
            self._requested = None
        done.position = self.position()
        return len(done.requested)

    def handle(self, batch: Sequence[Notification]) -> None:
        """The messages of a batch of decisions, each requested unless it exists already."""
        for n in batch:
            event = self.app.mapper.to_domain_event(n)
            for message in self.messages_for(event, n.topic):
                new = self._request(message, f"{uuid_text(n.originator_id)}@{n.originator_version}")
                if new and self._requested is not None:
                    self._requested.append(f"{message.topic} → {message.destination}")

    def idle(self) -> bool:
        return False  # sending is the worker's (`deliver_due`), on its own clock

    def messages_for(self, event: Any, topic: str) -> list[Message]:
        """The messages one case event makes (none for most)."""
        result = DECISIONS[topic] or str(getattr(event, "decision", ""))
        case = self.find(Case, event.originator_id)
        item = CATALOG.items.get(case.item_code) if case is not None else None
        completion = item is not None and item.stage == COMPLETION_STAGE
        utility = item is not None and item.code in self.routes.utility_items and result in APPROVALS
        if case is None or not (completion or utility):
            return []
        project = self.find(Project, case.project_id)
        owner = {"name": project.owner_name, "uscc": project.owner_uscc} if project else None
        common = {
            "project_code": case.project_code,
            "project_name": project.name if project else None,
            "owner": owner,
            "region_code": case.region_code,
            "case_id": str(case.id),
            "item_code": case.item_code,
            "item_name": case.item_name,
            "department": case.department,
            "result": result,
            "document_number": getattr(event, "document_number", None),
            "decided_at": event.business_time.isoformat(),
            "recorded_at": event.timestamp.isoformat(),
            "channel": str(event.channel),
        }
        messages: list[Message] = []
        if completion:
            # a back-entry's reason says why it was decided offline: not the decision's reason
            reason = getattr(event, "reason", None) if topic in REASONED else None
            # 联合测绘: the recorded survey results travel with the result, nothing is entered again
            survey = self.find(JointSurvey, survey_id(case.project_code))
            payload = {
                **common,
                "topic": "completion_acceptance.result",
                "reason": reason,
                "joint_survey": survey.export() if survey is not None else None,
            }
            messages.append(Message("completion_acceptance.result", REAL_ESTATE, str(case.id), payload))
        if utility:
            payload = {**common, "topic": "utility.project_notice", "red_line": project.red_line if project else None}
            messages += [
                Message("utility.project_notice", name, case.project_code, payload) for name in self.routes.utilities
            ]
        return messages

    def _request(self, message: Message, source: str) -> bool:
        """Put one message in the outbox unless it is there already; True when it was new."""
        message_id = delivery_id(message.topic, message.destination, source)
        if self.exists(message_id):
            return False

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            if self.exists(message_id):  # another producer won the race
                return [], {"id": str(message_id)}
            delivery = Delivery.request(
                meta,
                destination=message.destination,
                topic=message.topic,
                subject=message.subject,
                source=source,
                payload=message.payload,
            )
            return [delivery], {"id": str(delivery.id)}

        self.execute(self.meta_of_worker(f"delivery-request-{message_id}"), DELIVERER, None, work)
        return True

    # --- delivering -------------------------------------------------------------------------

    def _refresh(self) -> None:
        """Add the messages requested or requeued since the last look (read from the log itself)."""
        while True:
            page = self.app.recorder.select_notifications(
                self._seen, 1000, topics=OPEN_TOPICS, inclusive_of_start=False
            )
            for n in page:
                self._open[UUID(uuid_text(n.originator_id))] = None
            if page:
                self._seen = page[-1].id
            if len(page) < 1000:
                return

    def deliver_due(self) -> list[dict[str, Any]]:
        """One attempt for each open message whose backoff ran out; forgets finished ones."""
        self._refresh()
        results = []
        for message_id in list(self._open):
            delivery = self.find(Delivery, message_id)
            if delivery is None or not delivery.awaiting:
                self._open.pop(message_id, None)
                continue
            if delivery.is_due(self.clock.now()):
                results.append(self.attempt(delivery))
                if results[-1]["state"] not in (DeliveryState.PENDING, DeliveryState.RETRYING):
                    self._open.pop(message_id, None)
        return results

    def attempt(self, delivery: Delivery) -> dict[str, Any]:
        """Send, then record the outcome. Not atomic with the send, on purpose: at-least-once."""
        try:
            receipt: str | None = self.sender.send(
                delivery.destination, str(delivery.id), delivery.topic, delivery.body.encode("utf-8")
            )
            error, permanent = "", False
        except DeliveryError as exc:
            receipt, error, permanent = None, str(exc), exc.permanent

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            fresh = self.load(Delivery, delivery.id, "delivery")
            if not fresh.awaiting:  # another worker recorded it first: its record stands
                return [], _view(fresh)
            if receipt is not None:
                fresh.record_delivery(meta, receipt)
            else:
                fresh.record_failure(meta, error, self.schedule, permanent=permanent)
            return [fresh], _view(fresh)

        return self.execute(self.meta_of_worker(f"delivery-attempt-{delivery.id}"), DELIVERER, None, work)

    # --- operators --------------------------------------------------------------------------

    def requeue(self, by: Invocation, command: RequeueDelivery) -> DeliveryOutcome | ArchiveOutcome:
        """重新推送 — a dead letter back in the outbox; for an archive transfer, a new transfer request."""
        actor, message_id = by.actor, command.message_id
        authorize(actor, "delivery.requeue")
        if self.find(Delivery, message_id) is None:
            if self.archives is not None and self.find(ArchivePackage, message_id) is not None:
                return self.archives.transfer(by, TransferArchive(message_id))
            raise NotFound("delivery not found")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            delivery = self.load(Delivery, message_id, "delivery")
            delivery.requeue(meta, command.reason)
            return [delivery], _view(delivery)

        return DeliveryOutcome.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))


def _view(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": str(delivery.id),
        "destination": delivery.destination,
        "topic": delivery.topic,
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "retry_at": delivery.retry_at.isoformat() if delivery.retry_at else None,
        "last_error": delivery.last_error or None,
        "receipt": delivery.receipt,
    }
