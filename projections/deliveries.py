"""deliveries — what was sent to other systems, and where each message stands; and the tender
results public resource trading reported, which stand in for the written bidding report.

One row per outbox message: Delivery messages (real-estate registration, utilities) and archive
package transfers (ArchivePackage's own outbox, destination `archive_management`), with state
pending / retrying / delivered / dead_letter, attempts, last error, next retry and receipt.
Consumes: Delivery.*, ArchivePackage.TransferRequested / TransferFailed / TransferSucceeded,
ExternalRecord.Reported / Amended of kind tender_award.
Tables: `deliveries`, `tender_awards`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from domain.archives import ArchivePackage
from domain.exchange.delivery import Delivery
from domain.exchange.external_record import ExternalRecord
from infrastructure.db import Cursor
from projections.base import Envelope, Events, ReadModel, Where, bigint, to_json

ARCHIVE_DESTINATION = "archive_management"
ARCHIVE_TOPIC = "archive.package"
STATES = ("pending", "retrying", "delivered", "dead_letter")
# 招标投标情况书面报告: a tender award from public resource trading makes the written report unnecessary
WRITTEN_REPORT = "招标投标情况书面报告"


class Deliveries(ReadModel):
    name = "deliveries"
    tables = ("deliveries", "tender_awards")
    reads = Events(
        Delivery,
        ArchivePackage.TransferRequested,
        ArchivePackage.TransferFailed,
        ArchivePackage.TransferSucceeded,
        ExternalRecord,
    )

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS deliveries ("
            " delivery_id TEXT PRIMARY KEY, kind TEXT NOT NULL, destination TEXT NOT NULL, topic TEXT NOT NULL,"
            " subject TEXT NOT NULL, project_code TEXT, source TEXT, body_hash TEXT, state TEXT NOT NULL,"
            " attempts INTEGER NOT NULL, requeues INTEGER NOT NULL, last_error TEXT, next_retry_at TEXT,"
            " receipt TEXT, requested_at TEXT NOT NULL, delivered_at TEXT, dead_lettered_at TEXT,"
            f" requested_position {big} NOT NULL, last_position {big} NOT NULL, updated_at TEXT NOT NULL)"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (state, destination)")
        cur.execute("CREATE INDEX IF NOT EXISTS deliveries_position ON deliveries (requested_position)")
        cur.execute(
            "CREATE TABLE IF NOT EXISTS tender_awards ("
            " source TEXT NOT NULL, source_id TEXT NOT NULL, project_code TEXT, number TEXT NOT NULL,"
            " issued_on TEXT, winning_bidder TEXT, bid_price TEXT, payload TEXT NOT NULL, reported_at TEXT NOT NULL,"
            f" position {big} NOT NULL, last_position {big} NOT NULL, PRIMARY KEY (source, source_id))"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS tender_awards_project ON tender_awards (project_code)")

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        for env in batch:
            match env.event:
                case Delivery.Event():
                    self._message(cur, env)
                case (
                    ArchivePackage.TransferRequested()
                    | ArchivePackage.TransferFailed()
                    | ArchivePackage.TransferSucceeded()
                ):
                    self._transfer(cur, env)
                case ExternalRecord.Event(kind="tender_award"):
                    self._tender_award(cur, env)

    # --- Delivery messages --------------------------------------------------------------------

    def _message(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        at = e.timestamp.isoformat()
        message_id = str(e.originator_id)
        changes: dict[str, Any]
        match e:
            case Delivery.Requested():
                project_code = json.loads(e.body).get("project_code")
                row = (message_id, e.destination, e.topic, e.subject, project_code, e.source, e.body_hash, at)
                cur.execute(
                    "INSERT INTO deliveries (delivery_id, kind, destination, topic, subject, project_code, source,"
                    " body_hash, state, attempts, requeues, requested_at, requested_position, last_position,"
                    " updated_at) VALUES (?, 'message', ?, ?, ?, ?, ?, ?, 'pending', 0, 0, ?, ?, ?, ?)",
                    (*row, env.position, env.position, at),
                )
                return
            case Delivery.AttemptFailed():
                changes = {"state": "retrying", "attempts": e.attempt, "last_error": e.error}
                changes["next_retry_at"] = e.retry_at.isoformat()
            case Delivery.Delivered():
                changes = {"state": "delivered", "attempts": e.attempt, "receipt": e.receipt, "delivered_at": at}
                changes["next_retry_at"] = None
            case Delivery.DeadLettered():
                changes = {"state": "dead_letter", "attempts": e.attempts, "last_error": e.last_error}
                changes.update(dead_lettered_at=at, next_retry_at=None)
            case Delivery.Requeued():
                changes = {"state": "pending", "next_retry_at": None, "dead_lettered_at": None}
                cur.execute("UPDATE deliveries SET requeues = requeues + 1 WHERE delivery_id = ?", (message_id,))
            case _:
                return
        _update(cur, message_id, changes, env.position, at)

    # --- archive package transfers (ArchivePackage's own outbox) -------------------------------

    def _transfer(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        at = e.timestamp.isoformat()
        archive_id = str(e.originator_id)
        cur.execute("SELECT attempts FROM deliveries WHERE delivery_id = ?", (archive_id,))
        row = cur.fetchone()
        changes: dict[str, Any]
        match e:
            case ArchivePackage.TransferRequested():
                if row is None:
                    cur.execute(
                        "INSERT INTO deliveries (delivery_id, kind, destination, topic, subject, state, attempts,"
                        " requeues, requested_at, requested_position, last_position, updated_at)"
                        " VALUES (?, 'archive_transfer', ?, ?, ?, 'pending', 0, 0, ?, ?, ?, ?)",
                        (
                            archive_id,
                            ARCHIVE_DESTINATION,
                            ARCHIVE_TOPIC,
                            archive_id,
                            at,
                            env.position,
                            env.position,
                            at,
                        ),
                    )
                    return
                cur.execute("UPDATE deliveries SET requeues = requeues + 1 WHERE delivery_id = ?", (archive_id,))
                changes = {"state": "pending", "next_retry_at": None, "dead_lettered_at": None}
            case ArchivePackage.TransferFailed():
                attempts = (row["attempts"] if row else 0) + 1
                changes = {"attempts": attempts, "last_error": e.error}
                if e.retry_at is None:
                    changes.update(state="dead_letter", next_retry_at=None, dead_lettered_at=at)
                else:
                    changes.update(state="retrying", next_retry_at=e.retry_at.isoformat())
            case ArchivePackage.TransferSucceeded():
                attempts = (row["attempts"] if row else 0) + 1
                changes = {"state": "delivered", "attempts": attempts, "receipt": e.receipt, "delivered_at": at}
                changes["next_retry_at"] = None
            case _:
                return
        _update(cur, archive_id, changes, env.position, at)

    # --- tender results received --------------------------------------------------------------

    def _tender_award(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        payload = e.payload or {}
        price = payload.get("bid_price")
        row = (
            e.project_code,
            e.number,
            e.issued_on.isoformat() if e.issued_on else None,
            payload.get("winning_bidder"),
            None if price is None else str(price),
            to_json(payload),
            e.business_time.isoformat(),
            env.position,
        )
        cur.execute(
            "INSERT INTO tender_awards (project_code, number, issued_on, winning_bidder, bid_price, payload,"
            " reported_at, last_position, source, source_id, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (source, source_id) DO UPDATE SET project_code = excluded.project_code,"
            " number = excluded.number, issued_on = excluded.issued_on, winning_bidder = excluded.winning_bidder,"
            " bid_price = excluded.bid_price, payload = excluded.payload, reported_at = excluded.reported_at,"
            " last_position = excluded.last_position",
            (*row, e.source, e.source_id, env.position),
        )

    # --- queries ------------------------------------------------------------------------------

    def get(self, delivery_id: str) -> dict[str, Any] | None:
        rows = self.db.query("SELECT * FROM deliveries WHERE delivery_id = ?", (delivery_id,))
        return rows[0] if rows else None

    def search(
        self,
        *,
        state: str | None = None,
        destination: str | None = None,
        topic: str | None = None,
        subject: str | None = None,
        project_code: str | None = None,
        after: int = 0,
        first: int = 50,
    ) -> tuple[list[dict[str, Any]], bool, int]:
        """Messages in request order after position `after`; (rows, has_next, total matching)."""
        where = Where().equal("state", state).equal("destination", destination).equal("topic", topic)
        where.equal("subject", subject).equal("project_code", project_code)
        return where.page(self.db, "deliveries", "requested_position", after, first)

    def counts(self) -> list[dict[str, Any]]:
        """Messages per destination and state (operations: `gongjian exchange status`)."""
        return self.db.query(
            "SELECT destination, state, COUNT(*) AS n FROM deliveries GROUP BY destination, state"
            " ORDER BY destination, state"
        )

    def tender_awards(self, project_code: str) -> list[dict[str, Any]]:
        return self.db.query("SELECT * FROM tender_awards WHERE project_code = ? ORDER BY position", (project_code,))


def _update(cur: Cursor, delivery_id: str, changes: dict[str, Any], position: int, at: str) -> None:
    changes = {**changes, "last_position": position, "updated_at": at}
    assignments = ", ".join(f"{column} = ?" for column in changes)
    cur.execute(
        f"UPDATE deliveries SET {assignments} WHERE delivery_id = ?",  # noqa: S608 — fixed column names
        (*changes.values(), delivery_id),
    )
