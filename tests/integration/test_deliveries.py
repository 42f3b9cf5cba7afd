"""外部推送 on SQLite and PostgreSQL: decisions become outbox messages once, a real receiver on
loopback fails, goes down and comes back, and the deliveries read model shows every state;
archive transfers appear in the same read model; a tender award satisfies the bidding report."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from application.bootstrap import Container, bootstrap
from application.clock import SimulatedClock
from application.commands import Invocation
from application.commands.archives import GenerateArchive, TransferArchive
from application.commands.cases import BackEnterCase
from application.commands.deliveries import RequeueDelivery
from application.commands.exchange import ReportExternalRecord
from application.commands.projects import GenerateProject
from application.delivery import REAL_ESTATE
from application.policy import Actor
from domain.exchange import Delivery
from domain.shared.errors import Forbidden, IllegalTransition
from infrastructure.ledger_key import generate_key
from infrastructure.settings import Settings
from interfaces.graphql.context import Context
from interfaces.graphql.schema import schema
from tests.conftest import JWT_SECRET
from tests.receiver import Receiver

OWNER = "91460000MA5T0P3X64"
CLERK = Actor("clerk-1", "window_clerk", "460100-zwfw", "460100")
APPROVER = Actor("approver-1", "approver", "460100-zjj", "460100")
ADMIN = Actor("admin-1", "admin", "460000-ops", "460000")
SUPERVISOR = Actor("sup-1", "supervisor", "460000-jg", "460000")
INTEGRATION = Actor("ggzy-1", "integration", "460000-ggzy", "460000")
DESTINATIONS = (REAL_ESTATE, "water", "power", "gas")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=1)
    yield r
    r.stop()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime.now(UTC))


@pytest.fixture
def container(store_url: str, receiver: Receiver, clock: SimulatedClock, tmp_path: Path) -> Iterator[Container]:
    key = tmp_path / "keys" / "ledger.pem"
    generate_key(key)
    settings = Settings(
        database_url=store_url,
        jwt_secret=JWT_SECRET,
        wait_timeout_s=0.5,
        ledger_key_file=str(key),
        ledger_checkpoint_every=1,
        archive_path=str(tmp_path / "archives"),
        archive_transfer_url=receiver.url,
        archive_max_attempts=2,
        delivery_urls=dict.fromkeys(DESTINATIONS, receiver.url),
        delivery_retry_base_s=10,
        delivery_retry_cap_s=40,
        delivery_max_attempts=3,
    )
    c = bootstrap(settings, clock)
    yield c
    c.close()


def new_project(c: Container) -> str:
    code = f"2611-460100-04-01-{uuid.uuid4().int % 10**6:06d}"
    c.projects.generate(
        Invocation(CLERK, f"gen-{code}"),
        GenerateProject(
            code=code,
            name="海口测试安置房",
            owner_name="海南测试建设有限公司",
            owner_uscc=OWNER,
            region_code="460106",
            flow_type=3,
            investment_type="enterprise",
            category="房屋建筑",
            total_investment=Decimal("12800.50"),
            planned_start=date(2026, 1, 1),
            planned_end=date(2027, 6, 30),
            red_line=None,
        ),
    )
    return code


def decide(c: Container, code: str, item_code: str, decision: str = "approved") -> str:
    result = c.cases.back_enter(
        Invocation(APPROVER, f"be-{code}-{item_code}"),
        BackEnterCase(
            project_code=code,
            item_code=item_code,
            decision=decision,
            decided_at=c.clock.now() - timedelta(days=3),
            received_on=None,
            accepted_on=None,
            document_number=f"琼建{item_code}〔2026〕1号" if decision != "refused" else None,
            reason="系统故障期间线下办理",
        ),
    )
    return str(result.id)


def gql(c: Container, query: str, actor: Actor = SUPERVISOR, **variables: Any) -> Any:
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=Context(c, actor)))
    return result


def rows(c: Container) -> dict[str, dict[str, Any]]:
    c.engine.catch_up(["deliveries"])
    return {r["delivery_id"]: r for r in c.db.query("SELECT * FROM deliveries")}


def test_decisions_become_messages_once_and_every_state_shows_in_the_read_model(
    container: Container, receiver: Receiver, clock: SimulatedClock
) -> None:
    c = container
    # Step: a completion filing approved, a construction permit approved, a site opinion approved,
    # a planning verification refused.
    code = new_project(c)
    filing = decide(c, code, "GJ-4-03")
    decide(c, code, "GJ-3-03")
    decide(c, code, "GJ-1-02")
    verification = decide(c, code, "GJ-4-01", "refused")

    # Step: the producer puts 5 messages in the outbox: 2 completion results, 3 utility notices.
    first = c.deliveries.produce()
    assert first == 5
    assert c.deliveries.produce() == 0
    with c.db.transaction() as cur:  # a restart that lost its position makes nothing twice
        cur.execute("UPDATE projection_tracking SET position = 0 WHERE read_model = 'delivery_producer'")
    assert c.deliveries.produce() == 0
    by_subject = {(r["destination"], r["subject"]): r for r in rows(c).values()}
    assert set(by_subject) == {
        (REAL_ESTATE, filing),
        (REAL_ESTATE, verification),
        ("water", code),
        ("power", code),
        ("gas", code),
    }
    assert {r["state"] for r in by_subject.values()} == {"pending"}

    # Step: one round; the receiver answers 500 to the first call, takes the other four.
    done = c.deliveries.run_once()
    assert sorted(a["state"] for a in done.attempts) == ["delivered"] * 4 + ["retrying"]
    retrying = next(a for a in done.attempts if a["state"] == "retrying")
    assert c.deliveries.deliver_due() == []  # not due before its backoff ran out

    # Step: the receiver goes down; the message fails twice more and becomes a dead letter.
    receiver.stop()
    for _ in range(2):
        clock.advance(seconds=41)
        assert len(c.deliveries.deliver_due()) == 1
    row = rows(c)[retrying["id"]]
    assert row["state"] == "dead_letter" and row["attempts"] == 3
    assert "unreachable" in row["last_error"] and row["next_retry_at"] is None
    clock.advance(days=1)
    assert c.deliveries.deliver_due() == []

    # Step: GraphQL shows the dead letter to a supervisor, and refuses an analyst.
    query = "query($f: DeliveryFilter) { deliveries(filter: $f) { totalCount edges { node { id state lastError } } } }"
    dead = gql(c, query, f={"state": "DEAD_LETTER"})
    assert dead.errors is None, dead.errors
    assert [e["node"]["id"] for e in dead.data["deliveries"]["edges"]] == [retrying["id"]]
    delivered = gql(c, query, f={"state": "DELIVERED", "destination": "water"})
    assert delivered.data["deliveries"]["totalCount"] == 1
    refused = gql(c, query, Actor("an-1", "analyst", "460000-tj", "460000"))
    assert refused.errors[0].extensions["code"] == "FORBIDDEN"

    # Step: an operator requeues it once the receiver is back; it is delivered on the next round.
    with pytest.raises(Forbidden):
        c.deliveries.requeue(Invocation(SUPERVISOR, "rq"), RequeueDelivery(uuid.UUID(retrying["id"]), "back"))
    receiver.start()
    c.deliveries.requeue(Invocation(ADMIN, "rq"), RequeueDelivery(uuid.UUID(retrying["id"]), "the receiver is back"))
    with pytest.raises(IllegalTransition):
        c.deliveries.requeue(Invocation(ADMIN, "rq2"), RequeueDelivery(uuid.UUID(retrying["id"]), "twice"))
    assert [a["state"] for a in c.deliveries.deliver_due()] == ["delivered"]
    row = rows(c)[retrying["id"]]
    assert (row["state"], row["attempts"], row["requeues"]) == ("delivered", 4, 1)
    one = gql(c, "query($id: ID!) { delivery(id: $id) { state receipt attempts topic } }", id=retrying["id"])
    assert one.data["delivery"]["state"] == "DELIVERED" and one.data["delivery"]["receipt"].startswith('{"receipt"')

    # Step: each message took effect once at the receiver, with the body recorded in the log.
    assert set(receiver.effects) == set(rows(c))
    for message_id, effect in receiver.effects.items():
        delivery = c.deliveries.load(Delivery, uuid.UUID(message_id), "delivery")
        assert effect["body"]["project_code"] == code
        assert effect["body"]["topic"] == delivery.topic
    results = {
        e["body"]["case_id"]: e["body"]["result"]
        for e in receiver.effects.values()
        if e["body"]["topic"].startswith("completion")
    }
    assert results == {filing: "approved", verification: "refused"}


def test_archive_transfers_show_in_the_same_read_model_and_a_failed_one_is_requeued(
    container: Container, receiver: Receiver, clock: SimulatedClock
) -> None:
    c = container
    receiver.failures = 3  # two attempts allowed: the transfer gives up
    code = new_project(c)
    case_id = decide(c, code, "GJ-1-02")
    c.engine.catch_up(["ledger"])
    archive_id = c.archives.generate(Invocation(APPROVER, "arch"), GenerateArchive(uuid.UUID(case_id))).id
    c.archives.transfer(Invocation(APPROVER, "tr"), TransferArchive(archive_id))
    clock.advance(hours=1)
    c.deliveries.run_once()
    row = rows(c)[str(archive_id)]
    assert (row["kind"], row["destination"], row["state"], row["attempts"]) == (
        "archive_transfer",
        "archive_management",
        "dead_letter",
        2,
    )
    # Step: the requeue of an archive transfer is a new transfer request (first attempt at once).
    c.deliveries.requeue(Invocation(INTEGRATION, "rq"), RequeueDelivery(archive_id, "archive system fixed"))
    clock.advance(hours=1)
    c.deliveries.run_once()
    row = rows(c)[str(archive_id)]
    assert (row["state"], row["attempts"], row["requeues"]) == ("delivered", 4, 1)


def test_a_tender_award_from_public_resource_trading_satisfies_the_written_bidding_report(
    container: Container,
) -> None:
    c = container
    code, other = new_project(c), new_project(c)
    report = {
        "source": "public_resource_trading",
        "source_id": f"ZB-{code}",
        "kind": "tender_award",
        "project_code": code,
        "number": "ZBTZ-2026-0001",
        "issued_on": date(2026, 4, 1),
        "payload": {"winning_bidder": "海南测试建工集团有限公司", "bid_price": "9860.00"},
    }
    c.exchange.report(Invocation(INTEGRATION, "rep"), ReportExternalRecord(report))
    query = "query($p: String!) { biddingReport(projectCode: $p) { satisfied requirement tenderAwards { number winningBidder bidPrice } } }"
    c.engine.catch_up(["deliveries"])
    reviewer = Actor("rev-1", "reviewer", "460100-zjj", "460100")
    answer = gql(c, query, reviewer, p=code)
    assert answer.errors is None, answer.errors
    assert answer.data["biddingReport"] == {
        "satisfied": True,
        "requirement": "招标投标情况书面报告",
        "tenderAwards": [
            {"number": "ZBTZ-2026-0001", "winningBidder": "海南测试建工集团有限公司", "bidPrice": "9860.00"}
        ],
    }
    assert gql(c, query, reviewer, p=other).data["biddingReport"]["satisfied"] is False
    # an amended award replaces the reported one; other regions and applicants may not read it
    c.exchange.report(Invocation(INTEGRATION, "rep2"), ReportExternalRecord({**report, "number": "ZBTZ-2026-0002"}))
    c.engine.catch_up(["deliveries"])
    assert [a["number"] for a in gql(c, query, reviewer, p=code).data["biddingReport"]["tenderAwards"]] == [
        "ZBTZ-2026-0002"
    ]
    sanya = Actor("rev-2", "reviewer", "460200-zjj", "460200")
    assert gql(c, query, sanya, p=code).errors[0].extensions["code"] == "FORBIDDEN"
    assert gql(c, query, Actor("a", "applicant", OWNER, "460100"), p=code).errors[0].extensions["code"] == "FORBIDDEN"
    assert gql(c, query, reviewer, p="not-a-code").errors[0].extensions["code"] == "BAD_USER_INPUT"


def test_a_receiver_refusing_a_message_for_good_dead_letters_it_without_retries(
    container: Container, receiver: Receiver
) -> None:
    c = container
    receiver.refuse_with = 422
    decide(c, new_project(c), "GJ-4-03")
    done = c.deliveries.run_once()
    assert [(a["state"], a["attempts"]) for a in done.attempts] == [("dead_letter", 1)]
    assert done.attempts[0]["last_error"].startswith("HTTP 422 from real_estate_registration")
    assert receiver.effects == {}


def test_the_engines_runner_requests_the_messages_of_a_decision_by_itself(container: Container) -> None:
    """No `produce` asked for: the runner (`gongjian serve`, `projections run`) drives the producer."""
    c = container
    code = new_project(c)
    requested = [get_topic(Delivery.Requested)]
    c.engine.start(idle_timeout=0.05, managers=True)
    try:
        decide(c, code, "GJ-3-03")  # 施工许可证: a notice to each of the three utilities
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(c.app.recorder.select_notifications(0, 100, topics=requested)) < 3:
            time.sleep(0.05)
    finally:
        c.engine.stop()
    assert {r["destination"] for r in rows(c).values()} == {"water", "power", "gas"}
    assert c.deliveries.produce() == 0  # the runner's position is the producer's: nothing twice
