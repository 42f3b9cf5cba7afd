"""电子档案 — generate a closed case's archive package, verify packages offline, check fixity,
transfer to the archive management system through an outbox, receive external packages.

A package is one deterministic JSON document (UTF-8, keys sorted, no spaces, non-ASCII kept):

    {"format": "gongjian-archive-package/1", "manifest": {...}, "manifest_hash": "<hex>"}

The manifest (template `case-archive/1`) holds the case's every stored event (position, version,
topic, the stored bytes in base64, the leaf hash and the per-aggregate chain link from the ledger,
the inclusion proof against the checkpoint), the documents recorded on the case (numbers, titles:
the system keeps no document files, so no file hashes), the signatures that reference the case
(none can yet: signing requests carry no case link), and the latest signed ledger checkpoint with
its Ed25519 public key. `manifest_hash` is the ledger's hash algorithm (SM3 by default) of the
manifest's canonical bytes; `ArchivePackage.Generated` records it and the hash of the whole file.

`verify_package` needs nothing but the bytes (no database): see docs/evidence.md.

No checkpoint covering the case's events yet → 409 ("wait for the next ledger checkpoint"): a
checkpoint is cut by the ledger projection, deterministically from the log, so the service does
not cut one of its own (a rebuild would not reproduce it).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from application.archive_drawings import DrawingFiles, verify_drawings
from application.base import Service
from application.clock import Clock
from application.commands import Invocation
from application.commands.archives import ArchiveOutcome, GenerateArchive, ReceiveArchive, TransferArchive
from application.policy import Actor, authorize
from application.ports import ArchiveStorage, ArchiveSystem, LedgerReader, TransferError
from domain.approvals.case import Case
from domain.approvals.status import CLOSED_STATUSES, DECIDED_STATUSES
from domain.archives import ArchivePackage, ArchiveStatus, archive_id_for_case, received_archive_id
from domain.ledger import Checkpoint, ProofError, TreeHasher, digest, leaf_data, uuid_text, verify_inclusion
from domain.ledger.checkpoint import SIGNATURE_ALGORITHM
from domain.shared.errors import Conflict, IllegalTransition, InvalidValue, NotFound
from domain.shared.events import Channel, Meta
from domain.shared.retry import RetrySchedule
from infrastructure.log import GongjianApplication

PACKAGE_FORMAT = "gongjian-archive-package/1"
TEMPLATE = "case-archive/1"
TRANSFER_TOPIC = "domain.archives.package:ArchivePackage.TransferRequested"
WORKER = Actor("archive-transfer", "integration", "gongjian", "460000", "档案移交")


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --- offline verification ---------------------------------------------------------------------


@dataclass
class PackageReport:
    """The outcome of verifying a package; `reason` is the first problem found."""

    problems: list[str] = field(default_factory=list)
    case_id: str = ""
    project_code: str = ""
    item_code: str = ""
    hash_algorithm: str = ""
    manifest_hash: str = ""
    events: int = 0
    tree_size: int = 0
    root_hash: str = ""
    drawings: list[dict[str, Any]] = field(default_factory=list)  # per approved set (application/archive_drawings.py)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def reason(self) -> str:
        return self.problems[0] if self.problems else ""

    def summary(self) -> str:
        if self.ok:
            return (
                f"package intact: case {self.case_id}, {self.events} events included in the signed checkpoint of"
                f" {self.tree_size} leaves ({self.hash_algorithm}), manifest {self.manifest_hash}"
            )
        return f"INVALID: {self.reason} ({len(self.problems)} problems)"


def verify_package(
    data: bytes, trusted_public_key: bytes | None = None, drawing_files: DrawingFiles | None = None
) -> PackageReport:
    """Offline: every event hashes to its leaf, every proof leads to the checkpoint root, the
    checkpoint signature verifies, the chain and versions are complete, the documents are in the
    events, each approved drawing set's sheet hashes give its signed set hash (and, with
    `drawing_files`, each file still hashes to its approved sheet hash), the manifest hash matches
    and the bytes are the canonical form."""
    report = PackageReport()
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        report.problems.append(f"the package is not UTF-8 JSON ({exc})")
        return report
    try:
        _verify(doc, report, trusted_public_key, drawing_files)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        report.problems.append(f"the manifest is malformed ({type(exc).__name__}: {exc})")
    if canonical(doc) != data:
        report.problems.append("the package bytes are not the canonical form of its content (changed outside)")
    return report


def _verify(
    doc: Any, report: PackageReport, trusted_public_key: bytes | None, drawing_files: DrawingFiles | None = None
) -> None:
    if not isinstance(doc, dict) or doc.get("format") != PACKAGE_FORMAT:
        report.problems.append(f"not a {PACKAGE_FORMAT} package")
        return
    manifest = doc["manifest"]
    algorithm = manifest["hash_algorithm"]
    hasher = TreeHasher(algorithm)
    case = manifest["case"]
    report.case_id, report.project_code, report.item_code = case["case_id"], case["project_code"], case["item_code"]
    report.hash_algorithm, report.manifest_hash = algorithm, doc["manifest_hash"]
    cp = manifest["checkpoint"]
    checkpoint = Checkpoint(
        int(cp["tree_size"]),
        bytes.fromhex(cp["root_hash"]),
        cp["time"],
        cp["algorithm"],
        bytes.fromhex(cp["signature"]) if cp.get("signature") else None,
        cp.get("origin") or None,  # set: signed in the C2SP checkpoint form
    )
    report.tree_size, report.root_hash = checkpoint.tree_size, cp["root_hash"]
    states = _verify_events(manifest["events"], case["case_id"], hasher, checkpoint, report)
    _verify_checkpoint(manifest, checkpoint, algorithm, trusted_public_key, report)
    for d in manifest["documents"]:
        state = states.get(int(d["position"]))
        if state is None or state.get("document_number") != d["document_number"]:
            report.problems.append(f"document {d['document_number']} is not in the event at position {d['position']}")
    report.drawings = verify_drawings(manifest.get("drawings") or [], drawing_files, report.problems)
    if digest(algorithm, canonical(manifest)).hex() != doc["manifest_hash"]:
        report.problems.append("the manifest hash does not match the manifest (changed)")


def _verify_events(
    events: list[dict[str, Any]], case_id: str, hasher: TreeHasher, checkpoint: Checkpoint, report: PackageReport
) -> dict[int, dict[str, Any]]:
    """Checks each event; returns the decoded state of each by position (for the documents)."""
    states: dict[int, dict[str, Any]] = {}
    prev_leaf: str | None = None
    last_position = 0
    if not events:
        report.problems.append("the package holds no event")
    for version, e in enumerate(events, start=1):
        report.events += 1
        where = f"event at position {e['position']} (version {e['originator_version']})"
        if uuid_text(e["originator_id"]) != uuid_text(case_id) or int(e["originator_version"]) != version:
            report.problems.append(f"{where}: not version {version} of case {case_id} (history incomplete)")
        if int(e["position"]) <= last_position:
            report.problems.append(f"{where}: positions do not increase")
        last_position = int(e["position"])
        try:
            state = base64.b64decode(e["state"], validate=True)
        except (binascii.Error, ValueError):
            report.problems.append(f"{where}: its stored bytes are not base64")
            continue
        leaf = hasher.hash_leaf(leaf_data(last_position, e["originator_id"], version, e["topic"], state))
        if leaf.hex() != e["leaf_hash"]:
            report.problems.append(f"{where}: its bytes do not hash to its leaf hash (changed)")
        if e.get("prev_leaf_hash") != prev_leaf:
            report.problems.append(f"{where}: the case's hash chain is broken here")
        prev_leaf = e["leaf_hash"]
        try:
            verify_inclusion(
                hasher,
                int(e["leaf_index"]),
                checkpoint.tree_size,
                leaf,
                [bytes.fromhex(p) for p in e["proof"]],
                checkpoint.root_hash,
            )
        except (ProofError, ValueError):
            report.problems.append(f"{where}: its inclusion proof does not lead to the checkpoint root")
        try:
            states[last_position] = json.loads(state)
        except ValueError:
            states[last_position] = {}
    return states


def _verify_checkpoint(
    manifest: dict[str, Any],
    checkpoint: Checkpoint,
    algorithm: str,
    trusted_public_key: bytes | None,
    report: PackageReport,
) -> None:
    public_key = bytes.fromhex(manifest["public_key"]) if manifest.get("public_key") else None
    if checkpoint.algorithm != algorithm:
        report.problems.append(f"the checkpoint is for {checkpoint.algorithm}, the manifest uses {algorithm}")
    if trusted_public_key is not None and public_key != trusted_public_key:
        report.problems.append("the checkpoint is signed by another key than the trusted one")
    elif public_key is None or not checkpoint.signature_valid(public_key):
        report.problems.append(f"the signature of the checkpoint of {checkpoint.tree_size} leaves does not verify")


# --- storage and the archive management system ------------------------------------------------


# --- the service -------------------------------------------------------------------------------


class ArchiveService(Service):
    def __init__(
        self,
        app: GongjianApplication,
        clock: Clock,
        position_of: Callable[[UUID, int], int | None],
        ledger: LedgerReader,
        store: ArchiveStorage,
        system: ArchiveSystem,
        backoff: RetrySchedule | None = None,
        drawings: Callable[[UUID], list[dict[str, Any]]] | None = None,
    ) -> None:
        super().__init__(app, clock, position_of)
        self.ledger = ledger
        self.store = store
        self.system = system
        self.backoff = backoff or RetrySchedule(max_attempts=8)
        self.drawings = drawings  # 图纸电子化交付: the case's approved drawing sets (application/drawings.py)

    # generation

    def generate(self, by: Invocation, command: GenerateArchive) -> ArchiveOutcome:
        """归档 — build, store and record the package of a decided or closed case."""
        actor, case_id = by.actor, command.case_id
        authorize(actor, "archive.generate")
        case = self.load(Case, case_id, "case")
        authorize(actor, "archive.generate", region_code=case.region_code)
        archive_id = archive_id_for_case(case_id)

        def already(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            raise Conflict(f"case {case_id} is already archived as {archive_id}")

        def stamp() -> Meta:  # the automation names its own channel; no business time
            return self.meta(actor, by.request_id, channel=by.channel)

        if self.exists(archive_id):
            return ArchiveOutcome.of(self.execute(stamp(), actor, by.key, already))  # replays a keyed repeat
        if case.status.value not in DECIDED_STATUSES | CLOSED_STATUSES:
            raise IllegalTransition(f"case {case_id}", f"{case.status.value} {case.status.label}", "archive")
        data, summary = self.build(case_id)
        package_hash = digest(summary["hash_algorithm"], data).hex()
        location = self.store.put(archive_id, package_hash, data)
        fields = {
            **summary,
            "case_id": str(case_id),
            "project_code": case.project_code,
            "item_code": case.item_code,
            "package_hash": package_hash,
            "package_size": len(data),
            "location": location,
        }

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            if self.exists(archive_id):
                return already(meta)
            package = ArchivePackage.generate(meta, archive_id=archive_id, **fields)
            return [package], _view(package)

        return ArchiveOutcome.of(self.execute(stamp(), actor, by.key, work))

    def build(self, case_id: UUID) -> tuple[bytes, dict[str, Any]]:
        """The package bytes from the store and the ledger (template case-archive/1)."""
        case = self.load(Case, case_id, "case")
        stored = self.app.recorder.select_events(case_id)
        leaves = self.ledger.db.query(
            "SELECT * FROM ledger_leaves WHERE originator_id = ? ORDER BY originator_version", (uuid_text(case_id),)
        )
        if len(leaves) < len(stored):
            raise Conflict(f"the ledger has not yet taken in all events of case {case_id}; retry shortly")
        leaves = leaves[: len(stored)]
        checkpoint = self.ledger.latest_checkpoint()
        last_index = int(leaves[-1]["leaf_index"])
        if checkpoint is None or int(checkpoint["tree_size"]) <= last_index:
            raise Conflict(
                f"no signed ledger checkpoint covers the events of case {case_id} yet: wait for the next ledger checkpoint"
            )
        if not checkpoint.get("signature"):
            raise Conflict("the ledger's checkpoints are unsigned (no ledger key configured): nothing binds a package")
        algorithm = self.ledger.algorithm()
        hasher = TreeHasher(algorithm)
        size = int(checkpoint["tree_size"])
        events, documents = [], []
        for event, leaf in zip(stored, leaves, strict=False):
            position = int(leaf["position"])
            state = bytes(event.state)
            if (
                hasher.hash_leaf(leaf_data(position, case_id, event.originator_version, event.topic, state)).hex()
                != (leaf["leaf_hash"])
            ):
                raise Conflict(f"the store and the ledger disagree at position {position}: run `gongjian audit verify`")
            proof = self.ledger.inclusion_proof(position, size)
            assert proof is not None
            events.append(
                {
                    "position": position,
                    "originator_id": uuid_text(case_id),
                    "originator_version": event.originator_version,
                    "topic": event.topic,
                    "state": base64.b64encode(state).decode(),
                    "leaf_index": proof.leaf_index,
                    "leaf_hash": leaf["leaf_hash"],
                    "prev_leaf_hash": leaf["prev_leaf_hash"],
                    "proof": [p.hex() for p in proof.path],
                }
            )
            fields = json.loads(state)
            if fields.get("document_number"):
                documents.append(
                    {
                        "position": position,
                        "event": event.topic.rsplit(":", 1)[-1],
                        "document_number": fields["document_number"],
                        "document_title": fields.get("document_title"),
                    }
                )
        manifest = {
            "template": TEMPLATE,
            "case": {
                "case_id": str(case_id),
                "project_code": case.project_code,
                "item_code": case.item_code,
                "item_name": case.item_name,
                "department": case.department,
                "region_code": case.region_code,
                "applicant_org": case.applicant_org,
                "status_code": case.status.value,
                "status": case.status.label,
            },
            "hash_algorithm": algorithm,
            "events": events,
            "documents": documents,
            "signatures": [],  # signing requests carry no case link yet
            "checkpoint": {
                k: checkpoint.get(k) for k in ("tree_size", "root_hash", "time", "algorithm", "signature", "origin")
            },
            "signature_algorithm": SIGNATURE_ALGORITHM,
            "public_key": checkpoint["public_key"],
        }
        approved_drawings = self.drawings(case_id) if self.drawings is not None else []
        if approved_drawings:  # each approved set's sheet hashes and signature, fixed by the manifest hash
            manifest["drawings"] = approved_drawings
        manifest_hash = digest(algorithm, canonical(manifest)).hex()
        data = canonical({"format": PACKAGE_FORMAT, "manifest": manifest, "manifest_hash": manifest_hash})
        summary = {
            "hash_algorithm": algorithm,
            "manifest_hash": manifest_hash,
            "events": len(events),
            "tree_size": size,
            "root_hash": checkpoint["root_hash"],
        }
        return data, summary

    # reading and fixity

    def _readable(self, actor: Actor, archive_id: UUID) -> ArchivePackage:
        """The package, if the actor may read it: a case's package inside the actor's scope."""
        package = self.load(ArchivePackage, archive_id, "archive package")
        case_id = _uuid(package.case_id)
        case = self.find(Case, case_id) if case_id else None
        if case is None:
            authorize(actor, "archive.read")
        else:
            authorize(actor, "archive.read", owner_org=case.applicant_org, region_code=case.region_code)
        return package

    def package(self, actor: Actor, archive_id: UUID) -> bytes:
        package = self._readable(actor, archive_id)
        authorize(actor, "personal-data.read")  # the package holds every event, actors and all
        return self.store.get(package.location)

    def fixity(self, actor: Actor, archive_id: UUID) -> dict[str, Any]:
        """固定性检查 — re-hash the stored bytes against the hash the events recorded."""
        package = self._readable(actor, archive_id)
        try:
            found = digest(package.hash_algorithm, self.store.get(package.location)).hex()
        except NotFound as exc:
            return {"id": str(archive_id), "ok": False, "reason": str(exc)}
        ok = found == package.package_hash
        reason = "" if ok else f"the stored bytes hash to {found}, the package was recorded as {package.package_hash}"
        return {"id": str(archive_id), "ok": ok, "reason": reason}

    # receipt of external packages

    def receive(self, by: Invocation, command: ReceiveArchive) -> ArchiveOutcome:
        """档案接收 — verify an external package offline; refuse a bad one with the reason (422)."""
        actor, data, source = by.actor, command.data, command.source
        authorize(actor, "archive.receive")
        report = verify_package(data)
        if not report.ok:
            more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
            raise InvalidValue("package", report.reason + more, "package_invalid")
        archive_id = received_archive_id(report.manifest_hash)
        package_hash = digest(report.hash_algorithm, data).hex()
        location = self.store.put(archive_id, package_hash, data)

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            if self.exists(archive_id):
                raise Conflict(f"this package was already received as {archive_id}")
            package = ArchivePackage.receive(
                meta,
                archive_id=archive_id,
                source=source,
                case_id=report.case_id,
                project_code=report.project_code,
                item_code=report.item_code,
                hash_algorithm=report.hash_algorithm,
                manifest_hash=report.manifest_hash,
                package_hash=package_hash,
                package_size=len(data),
                location=location,
                events=report.events,
                tree_size=report.tree_size,
                root_hash=report.root_hash,
            )
            return [package], _view(package)

        return ArchiveOutcome.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    # transfer: the outbox

    def transfer(self, by: Invocation, command: TransferArchive) -> ArchiveOutcome:
        """档案移交 — record the request, then make the first attempt at once (the worker retries)."""
        actor, archive_id = by.actor, command.archive_id
        authorize(actor, "archive.transfer")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            package = self.load(ArchivePackage, archive_id, "archive package")
            package.request_transfer(meta, self.system.destination)
            return [package], _view(package)

        result = self.execute(self.meta(actor, by.request_id), actor, by.key, work)
        if result.get("replayed"):
            return ArchiveOutcome.of(result)
        return ArchiveOutcome.of(self.attempt(archive_id) or result)

    def pending(self) -> list[UUID]:
        """Packages with a transfer requested and not finished: read from the log itself (the outbox)."""
        ids: dict[UUID, None] = {}
        start = 0
        while True:
            page = self.app.recorder.select_notifications(
                start, 1000, topics=[TRANSFER_TOPIC], inclusive_of_start=False
            )
            ids.update((UUID(uuid_text(n.originator_id)), None) for n in page)
            if len(page) < 1000:
                break
            start = page[-1].id
        return [i for i in ids if (p := self.find(ArchivePackage, i)) and p.status == ArchiveStatus.TRANSFER_PENDING]

    def deliver_due(self) -> list[dict[str, Any]]:
        """The worker's round: one attempt for each pending package whose backoff has run out."""
        return [r for i in self.pending() if (r := self.attempt(i)) is not None]

    def attempt(self, archive_id: UUID) -> dict[str, Any] | None:
        """One delivery attempt, recorded as TransferSucceeded or TransferFailed; None when not due."""
        package = self.load(ArchivePackage, archive_id, "archive package")
        if not package.is_due(self.clock.now()):
            return None
        try:
            receipt: str | None = self.system.transfer(
                str(archive_id), package.manifest_hash, self.store.get(package.location)
            )
            error = ""
        except (TransferError, NotFound) as exc:
            receipt, error = None, str(exc)

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            fresh = self.load(ArchivePackage, archive_id, "archive package")
            if receipt is not None:
                fresh.record_transfer_success(meta, receipt)
            else:
                fresh.record_transfer_failure(meta, error, self.backoff.retry_at(meta.now, fresh.attempts + 1))
            return [fresh], _view(fresh)

        return self.execute(
            self.meta(WORKER, f"archive-transfer-{archive_id}", channel=Channel.SYSTEM_RULE), WORKER, None, work
        )


def _uuid(value: str) -> UUID | None:
    """A received package may carry another system's case id, which is no UUID of ours."""
    try:
        return UUID(value)
    except (ValueError, TypeError):
        return None


def _view(package: ArchivePackage) -> dict[str, Any]:
    return {
        "id": str(package.id),
        "case_id": package.case_id,
        "status": package.status.value,
        "manifest_hash": package.manifest_hash,
        "package_hash": package.package_hash,
        "hash_algorithm": package.hash_algorithm,
        "events": package.events,
        "tree_size": package.tree_size,
        "attempts": package.attempts,
        "retry_at": package.retry_at.isoformat() if package.retry_at else None,
        "receipt": package.receipt,
    }
