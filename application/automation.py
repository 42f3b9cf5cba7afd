"""自动办理 — the process manager for the steps that normally happen on their own: an approval
issues its electronic licence, a concluded case gets its archive package.

A process manager (infrastructure/process_manager.py) driven by the projection engine: its position
is its row `automation` of `projection_tracking` (once `automation_position`, read when that row was
made), and it runs in the engine's runner (`gongjian serve`, `gongjian projections run`), outside
the engine's transactions (on SQLite one holds the write lock: the services' saves would wait on it):

1. `handle`: the Case events of a batch; it issues licences for approvals at once (through
   `LicenceService.issue`), and notes concluded cases in `automation_archives` and the skips, in one
   short transaction of its own; the engine records the position after that;
2. `idle` (the runner's own-clock turn): tries to archive (through `ArchiveService.generate`) at most
   `batch` noted cases whose concluding event a signed ledger checkpoint already covers (a case
   whose package exists is done), and writes the day's supervision-clock tick.

Exactly-once effect rests on the services' natural keys, not on the position: the licence id is
uuid5 of its number, the package id uuid5 of the case id; a repeat after a crash between the
commands and the position, or a restart, is a 409 that counts as done. Who acts, with which seal,
and when it declines: `application/policy.py` (LICENCE_ISSUER, ARCHIVER). A declined step is logged
and kept in `automation_skips` with its reason (`gongjian archive automation`); it is not retried —
an official issues or archives by hand. A failing round (not a decline) leaves the position: the
engine hands the same events again next round.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from application.archives import ArchiveService
from application.clock import Clock
from application.commands import Invocation
from application.commands.archives import GenerateArchive
from application.commands.licences import IssueLicence
from application.licences import LicenceService
from application.policy import ARCHIVER, AUTOMATIC_CHANNEL, LICENCE_ISSUER, department_org
from application.supervision_clock import SupervisionClockService
from domain.approvals.case import Case
from domain.approvals.status import CLOSED_STATUSES, DECIDED_STATUSES
from domain.archives import archive_id_for_case
from domain.catalog import CATALOG
from domain.licences import License, licence_id
from domain.projects import Project
from domain.shared.errors import Conflict, DomainError
from domain.shared.geometry import red_line_area_m2
from domain.signatures import Seal
from infrastructure.db import Database
from infrastructure.keystore import KeyStoreError
from infrastructure.log import GongjianApplication
from infrastructure.process_manager import ManagerDriver
from infrastructure.store import install_latest_edition

SUMMARY_S = 60.0  # the automation says what it did at most this often
log = logging.getLogger("gongjian.automation")

NAME = "automation"
CASE_TOPICS = [
    get_topic(c)
    for c in vars(Case).values()
    if isinstance(c, type) and issubclass(c, Case.Event) and c is not Case.Event
]
APPROVALS = (get_topic(Case.Approved), get_topic(Case.ApprovedPendingMaterials))
SEAL_REGISTERED = get_topic(Seal.Registered)
CONCLUDED = DECIDED_STATUSES | CLOSED_STATUSES


@dataclass
class Round:
    """What one round did (for tests, the CLI and the log)."""

    position: int = 0
    licences: list[str] = field(default_factory=list)
    archives: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, case id, reason)
    waiting: int = 0  # noted cases not yet archivable

    @property
    def busy(self) -> bool:
        return bool(self.licences or self.archives or self.skipped)


class Automation:
    """The process manager of the automatic steps (`ProcessManager`: name, topics, handle, idle)."""

    name = NAME
    topics: Sequence[str] = CASE_TOPICS
    legacy_position = "automation_position"  # its own position table before issue 19

    def __init__(
        self,
        app: GongjianApplication,
        db: Database,
        clock: Clock,
        licences: LicenceService,
        archives: ArchiveService,
        driver: ManagerDriver,
        batch: int = 200,
    ) -> None:
        self.app = app
        self.db = db
        self.clock = clock
        self.licences = licences
        self.archives = archives
        self.driver = driver  # the engine: reads the log for `handle` and keeps the position
        self.batch = batch
        self.ticker = SupervisionClockService(app, clock, lambda *_: None)  # 监管日钟, once a day
        self._ticked: object = None
        self._round: Round | None = None  # what `run_once` collects while the engine hands it events
        self._tally, self._said = Round(), -SUMMARY_S  # the runner's work since its last log line
        self.setup()

    def setup(self) -> None:
        big = "BIGINT" if self.db.dialect == "postgresql" else "INTEGER"
        with self.db.transaction() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS automation_archives (case_id TEXT PRIMARY KEY, position {big} NOT NULL)"
            )
            cur.execute(
                "CREATE TABLE IF NOT EXISTS automation_skips (case_id TEXT NOT NULL, kind TEXT NOT NULL,"
                f" reason TEXT NOT NULL, position {big} NOT NULL, recorded_at TEXT NOT NULL,"
                " PRIMARY KEY (case_id, kind))"
            )

    # --- the rounds -------------------------------------------------------------------------------

    def position(self) -> int:
        return self.driver.position(NAME)

    def run_once(self) -> Round:
        """The engine hands it every new Case event (`handle`), then it archives what is due: the
        runner's work, asked for at once (tests, `bench`)."""
        done = self._round = Round()
        try:
            self.driver.drive(self)
        finally:
            self._round = None
        self._archive(done)
        done.position = self.position()
        return done

    def run_until_idle(self, rounds: int = 100) -> Round:
        """Rounds until one reads nothing new and does nothing (tests, `bench`)."""
        total = Round()
        for _ in range(rounds):
            before = self.position()
            r = self.run_once()
            total.licences += r.licences
            total.archives += r.archives
            total.skipped += r.skipped
            total.position, total.waiting = r.position, r.waiting
            if not r.busy and r.position == before:
                break
        return total

    def handle(self, batch: Sequence[Notification]) -> None:
        """Licences for the approvals of a batch of Case events, and notes of the concluded cases; the
        skips and the notes in one short transaction (the engine then records the position)."""
        done = Round(position=batch[-1].id if batch else 0)
        concluded: dict[str, int] = {}
        for n in batch:
            event = self.app.mapper.to_domain_event(n)
            status = getattr(event, "status_code", None) or getattr(type(event), "STATUS", None)
            if status is not None and int(status) in CONCLUDED:
                concluded[str(n.originator_id)] = n.id
            if n.topic in APPROVALS and getattr(event, "document_number", None):
                self._issue(event, n.id, done)
        skips = [(case_id, kind, reason) for kind, case_id, reason in done.skipped]
        now = self.clock.now().isoformat()
        if skips or concluded:  # most batches (a submission, an acceptance) write nothing
            with self.db.transaction() as cur:
                for case_id, kind, reason in skips:
                    cur.execute(
                        "INSERT INTO automation_skips (case_id, kind, reason, position, recorded_at)"
                        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        (case_id, kind, reason, done.position, now),
                    )
                for case_id, position in concluded.items():
                    cur.execute(
                        "INSERT INTO automation_archives (case_id, position) VALUES (?, ?)"
                        " ON CONFLICT (case_id) DO UPDATE SET position = excluded.position",
                        (case_id, position),
                    )
        self._collect(done)

    # archive packages per runner turn (≈ 0.1 s each): the runner's read models get their turn
    # between packages, so a checkpoint covering many cases does not hold up read-your-writes for
    # seconds (200 a turn did); the runner asks for the next turn at once while there is work
    turn = 1

    def idle(self) -> bool:
        """The runner's own-clock turn: archives a checkpoint now covers (`turn` of them), the day's tick."""
        done = Round()
        self._archive(done, self.turn)
        self.tick_day()
        self._collect(done)
        return bool(done.archives or done.skipped)

    def _collect(self, done: Round) -> None:
        """Into `run_once`'s round when one asked, else into the runner's tally (one log line a minute)."""
        into = self._round or self._tally
        into.licences += done.licences
        into.archives += done.archives
        into.skipped += done.skipped
        if self._round is None and self._tally.busy and time.monotonic() - self._said >= SUMMARY_S:
            _summarise(self._tally)
            self._tally, self._said = Round(), time.monotonic()

    # --- 电子证照 ---------------------------------------------------------------------------------

    def _issue(self, event: Any, position: int, done: Round) -> None:
        case_id = event.originator_id
        case = self.licences.find(Case, case_id)
        if case is not None and case.item_code not in CATALOG.items:  # an edition this process has not met yet
            install_latest_edition(self.app, self.licences.position_of)
        item = CATALOG.items.get(case.item_code) if case is not None else None
        if case is None or item is None or item.licence_type is None:
            return
        number = str(event.document_number)
        try:
            existing = self.licences.find(License, licence_id(number))
        except ValueError:
            existing = None
        if existing is not None:
            if existing.case_id != str(case_id):  # the number is taken by another licence
                self._skip(done, "licence", case_id, f"licence number {number} is already issued")
            return
        org = department_org(case.region_code, item.department)
        seal, why = self._seal(org)
        if seal is None:
            self._skip(done, "licence", case_id, f"no usable seal of {org} for {LICENCE_ISSUER.actor_id}: {why}")
            return
        try:
            fields = self._content(case, item.licence_type, number, event, str(seal.id))
            by = Invocation(LICENCE_ISSUER, f"automation-licence-{case_id}", channel=AUTOMATIC_CHANNEL)
            self.licences.issue(by, IssueLicence(**fields))
        except Conflict as exc:
            if self.licences.find(License, licence_id(number)) is None:
                self._skip(done, "licence", case_id, str(exc))
            return  # issued already (a repeat after a restart): done
        except DomainError as exc:
            self._skip(done, "licence", case_id, str(exc))
            return
        log.debug("licence %s issued for case %s (position %d)", number, case_id, position)
        done.licences.append(number)

    def _seal(self, org: str) -> tuple[Seal | None, str]:
        """The newest seal of `org` the system signer may use now (and whose key we hold), or why none."""
        reasons: list[str] = []
        now = self.clock.now()
        registered = self.app.recorder.select_notifications(0, 10_000, topics=[SEAL_REGISTERED])
        for n in reversed(registered):
            seal = self.licences.find(Seal, UUID(str(n.originator_id)))
            if seal is None or seal.holder_org != org:
                continue
            problem = seal.problem_at(LICENCE_ISSUER.actor_id, now)
            if problem is None:
                try:
                    self.licences.keys.get(str(seal.id))
                except KeyStoreError:
                    problem = "its private key is not in the key store"
            if problem is None:
                return seal, ""
            reasons.append(f"seal {seal.id}: {problem.replace('_', ' ')}")
        return None, "; ".join(reasons) or "none registered"

    def _content(self, case: Case, licence_type: str, number: str, event: Any, seal_id: str) -> dict[str, Any]:
        """The licence's content from the case, its project and the approval; required topic fields
        the system does not know make `prepare` refuse (a skip)."""
        project = self.licences.load(Project, case.project_id, "project")
        topic: dict[str, Any] = {"project_name": project.name, "document_number": number}
        if licence_type in ("site_selection_opinion", "construction_land_planning_permit") and project.red_line:
            topic["land_area"] = str(Decimal(red_line_area_m2(project.red_line)).quantize(Decimal("0.01")))
        if licence_type == "construction_land_planning_permit" and project.parcel_codes:
            topic["parcel_code"] = project.parcel_codes[0]
        return {
            "number": number,
            "licence_type": licence_type,
            "holder_name": project.owner_name,
            "holder_uscc": project.owner_uscc,
            "project_code": case.project_code,
            "item_code": case.item_code,
            "region_code": case.region_code,
            "valid_from": event.business_date,
            "valid_until": getattr(event, "valid_until", None),
            "topic": topic,
            "case_id": str(case.id),
            "seal_id": seal_id,
        }

    # --- 电子档案 ---------------------------------------------------------------------------------

    def _archive(self, done: Round, limit: int | None = None) -> None:
        checkpoint = self.archives.ledger.latest_checkpoint()
        if checkpoint is None or not checkpoint.get("signature"):
            done.waiting = self._count("automation_archives")
            return  # nothing binds a package yet: wait (no ledger key, or no checkpoint so far)
        last = self.db.query(
            "SELECT position FROM ledger_leaves WHERE leaf_index = ?", (int(checkpoint["tree_size"]) - 1,)
        )
        covered = int(last[0]["position"]) if last else 0
        due = self.db.query(
            "SELECT case_id FROM automation_archives WHERE position <= ? ORDER BY position LIMIT ?",
            (covered, limit or self.batch),
        )
        for row in due:
            case_id = UUID(row["case_id"])
            if not self.archives.exists(archive_id_for_case(case_id)):
                try:
                    by = Invocation(ARCHIVER, f"automation-archive-{case_id}", channel=AUTOMATIC_CHANNEL)
                    self.archives.generate(by, GenerateArchive(case_id))
                    log.debug("archive package generated for case %s", case_id)
                    done.archives.append(str(case_id))
                except Conflict as exc:
                    if not self.archives.exists(archive_id_for_case(case_id)):
                        log.debug("case %s waits: %s", case_id, exc)
                        continue  # the ledger has not caught up with it yet: next round
                except DomainError as exc:
                    self._skip(done, "archive", case_id, str(exc), record=True)
            with self.db.transaction() as cur:
                cur.execute("DELETE FROM automation_archives WHERE case_id = ?", (row["case_id"],))
        done.waiting = self._count("automation_archives")

    # --- skips and status -------------------------------------------------------------------------

    def _skip(self, done: Round, kind: str, case_id: UUID, reason: str, record: bool = False) -> None:
        seen = "SELECT 1 FROM automation_skips WHERE case_id = ? AND kind = ?"
        if self.db.query(seen, (str(case_id), kind)):
            return  # recorded before a restart: once is enough
        log.debug("%s for case %s not made automatically: %s", kind, case_id, reason)
        done.skipped.append((kind, str(case_id), reason))
        if record:  # licence skips are recorded in handle's transaction
            with self.db.transaction() as cur:
                cur.execute(
                    "INSERT INTO automation_skips (case_id, kind, reason, position, recorded_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (str(case_id), kind, reason, self.position(), self.clock.now().isoformat()),
                )

    def _count(self, table: str) -> int:
        return int(self.db.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])  # noqa: S608

    def skips(self, limit: int = 50) -> list[dict[str, Any]]:
        return self.db.query(
            "SELECT case_id, kind, reason, position, recorded_at FROM automation_skips"
            " ORDER BY position DESC, case_id LIMIT ?",
            (limit,),
        )

    def status(self) -> dict[str, Any]:
        counts = self.db.query("SELECT kind, COUNT(*) AS n FROM automation_skips GROUP BY kind ORDER BY kind")
        return {
            "position": self.position(),
            "waiting_archives": self._count("automation_archives"),
            "skipped": {r["kind"]: int(r["n"]) for r in counts},
        }

    # --- the day's tick ---------------------------------------------------------------------------

    def tick_day(self) -> None:
        """Write the day's supervision-clock tick (W6 takes "today" from the log), once a day."""
        day = self.clock.now().date()
        if day != self._ticked:
            self.ticker.tick()
            self._ticked = day


def _summarise(done: Round) -> None:
    """One log line for many rounds (at most one per SUMMARY_S), not one per case or round: a first
    start over a large store, whose archives follow the checkpoints for minutes, stays readable."""
    if done.licences or done.archives:
        log.info(
            "automation: %d licences issued, %d archive packages generated", len(done.licences), len(done.archives)
        )
    if done.skipped:  # expected where no department has authorised the system signer (the demo)
        kinds = sorted({kind for kind, _, _ in done.skipped})
        log.info(
            "%d %s not made automatically since the last line (reasons: `gongjian archive automation`)",
            len(done.skipped),
            "/".join(kinds),
        )
