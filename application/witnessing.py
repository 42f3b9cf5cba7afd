"""见证提交 — the ledger's checkpoints go to independent witnesses (C2SP tlog-witness); their cosignatures
are kept, and `audit verify` asks for a quorum of them.

**The outbox** is the durable checkpoint log itself: a checkpoint in the C2SP form
(`ledger_signed_checkpoints` with an origin and a signature) that a configured witness has not
cosigned (no row in `ledger_cosignatures`) is pending for that witness. Nothing is lost while a
witness is down: the rows wait, append-only, and `WitnessOutbox.run_once` submits each pending
checkpoint to each witness in size order — `old <the size it last cosigned>`, the consistency proof
from that size (from the ledger read model), the signed note — and stores the cosignature the witness
returns once it verifies with the witness's configured key. A witness that fails (down, 5xx,
a refusal) is retried after base·2^(n-1) seconds (capped), never given up: the backoff lives in the
submitter's memory, the work in the database. A 409 names the size the witness holds: when it is a
size this log signed (a cosignature stored before a crash got lost, another submitter went first)
the submitter continues from it; a size this log never signed is reported (a fork, or another log
using our origin) and retried with backoff, never papered over.

**Cosignatures** (`ledger_cosignatures`: tree size, witness → key ID, timestamp, signature line) are
append-only like the checkpoints (`refuse_changes`).

**Quorum** (`check_quorum`): every checkpoint in the C2SP form older than `GONGJIAN_WITNESS_MAX_AGE_S`
needs `GONGJIAN_WITNESS_QUORUM` valid cosignatures of distinct configured witnesses, verified over the
store's own checkpoint text (a cosignature of another root does not count: it fails). Checkpoints
signed before the C2SP form (no origin) were never submitted: they are counted, not failed.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from application.ledger import Finding, Held, signed_note
from application.ports import LedgerReader
from domain.ledger import Checkpoint
from domain.ledger.checkpoint import checkpoint_of
from domain.ledger.note import (
    COSIGNATURE_V1,
    ED25519,
    NoteError,
    Verifier,
    key_id,
    parse_checkpoint,
    parse_note,
    parse_signature_line,
    parse_vkey,
    verify_cosignature,
)
from domain.shared.retry import RetrySchedule
from infrastructure.checkpoint_log import INSERT_COSIGNATURE, cosignature_rows, signed_rows
from infrastructure.db import Database
from infrastructure.settings import Settings

log = logging.getLogger("gongjian.witnessing")


@dataclass(frozen=True)
class WitnessEndpoint:
    name: str
    url: str  # the submission prefix: POST <url>/add-checkpoint
    verifier: Verifier


def witness_verifiers(settings: Settings) -> dict[str, Verifier]:
    """The configured witnesses' cosigning keys by name (vkeys of type 0x04)."""
    verifiers: dict[str, Verifier] = {}
    for text in settings.witness_keys:
        v = parse_vkey(text)
        if v.sig_type != COSIGNATURE_V1:
            raise NoteError(f"witness key {v.name}: a cosignature key has type 0x04")
        verifiers[v.name] = v
    return verifiers


def witness_endpoints(settings: Settings) -> list[WitnessEndpoint]:
    verifiers = witness_verifiers(settings)
    missing = sorted(set(settings.witness_urls) - set(verifiers))
    if missing:
        raise NoteError(f"GONGJIAN_WITNESS_KEYS has no key for {', '.join(missing)}")
    return [
        WitnessEndpoint(name, url.rstrip("/"), verifiers[name]) for name, url in sorted(settings.witness_urls.items())
    ]


class Poster(Protocol):
    """POSTs a body; returns (status, text). Raises OSError-like errors when the witness is unreachable."""

    def post(self, url: str, body: bytes) -> tuple[int, str]: ...


class HttpPoster:
    def __init__(self, timeout_s: float) -> None:
        import httpx

        self._client = httpx.Client(timeout=timeout_s)  # keep-alive, as the protocol recommends

    def post(self, url: str, body: bytes) -> tuple[int, str]:
        response = self._client.post(url, content=body)
        return response.status_code, response.text

    def close(self) -> None:
        self._client.close()


@dataclass
class _Backoff:
    failures: int = 0
    next_at: float = 0.0
    last_error: str = ""


@dataclass(frozen=True)
class Attempt:
    witness: str
    tree_size: int
    outcome: str  # cosigned | retry | conflict | moved


def _pending_rows(db: Database, ledger: LedgerReader) -> list[dict[str, Any]]:
    """Checkpoints in the C2SP form the ledger's leaves reach (a consistency proof can be given)."""
    size = ledger.size()
    return [r for r in signed_rows(db, size) if r.get("origin") and r.get("signature")]


class WitnessOutbox:
    def __init__(
        self,
        db: Database,
        ledger: LedgerReader,
        endpoints: list[WitnessEndpoint],
        poster: Poster,
        *,
        retry_base_s: float = 5.0,
        retry_cap_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.ledger = ledger
        self.endpoints = endpoints
        self.poster = poster
        self.retry = RetrySchedule(retry_base_s, retry_cap_s, max_attempts=None)  # never given up
        self.clock = clock
        self.backoff: dict[str, _Backoff] = {e.name: _Backoff() for e in endpoints}
        self.held: dict[str, int] = {}  # the size each witness said it holds (from a 409)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- one round ------------------------------------------------------------------------------

    def run_once(self) -> list[Attempt]:
        rows = _pending_rows(self.db, self.ledger)
        cosigned: dict[str, set[int]] = {}
        for r in cosignature_rows(self.db):
            cosigned.setdefault(str(r["witness"]), set()).add(int(r["tree_size"]))
        attempts: list[Attempt] = []
        for endpoint in self.endpoints:
            attempts += self._submit(endpoint, rows, cosigned.get(endpoint.name, set()))
        return attempts

    def pending(self) -> dict[str, int]:
        """How many checkpoints each witness has yet to cosign."""
        rows = _pending_rows(self.db, self.ledger)
        cosigned: dict[str, set[int]] = {}
        for r in cosignature_rows(self.db):
            cosigned.setdefault(str(r["witness"]), set()).add(int(r["tree_size"]))
        done = {e.name: max(cosigned.get(e.name, set()) | {self.held.get(e.name, 0)}) for e in self.endpoints}
        return {name: sum(1 for r in rows if int(r["tree_size"]) > size) for name, size in done.items()}

    def _submit(self, endpoint: WitnessEndpoint, rows: list[dict[str, Any]], cosigned: set[int]) -> list[Attempt]:
        backoff = self.backoff[endpoint.name]
        if self.clock() < backoff.next_at:
            return []
        sizes = {int(r["tree_size"]) for r in rows}
        old = max(cosigned | {self.held.get(endpoint.name, 0)})
        attempts: list[Attempt] = []
        for _ in range(len(rows) + 2):  # bounded: each turn cosigns one or moves `old` forward
            row = next((r for r in rows if int(r["tree_size"]) > old), None)
            if row is None:
                break
            size = int(row["tree_size"])
            outcome, new_old = self._post(endpoint, row, old, sizes)
            attempts.append(Attempt(endpoint.name, size, outcome))
            if new_old is None:
                return attempts
            old = new_old
        backoff.failures, backoff.next_at = 0, 0.0
        return attempts

    def _post(
        self, endpoint: WitnessEndpoint, row: dict[str, Any], old: int, sizes: set[int]
    ) -> tuple[str, int | None]:
        """One request; returns the outcome and the size to continue from (None: stop, retry later)."""
        checkpoint = checkpoint_of(row)
        size = checkpoint.tree_size
        proof = self.ledger.consistency_proof(old, size).path if 0 < old < size else []
        note = signed_note(checkpoint, bytes.fromhex(row["public_key"]))
        body = f"old {old}\n" + "".join(base64.b64encode(p).decode() + "\n" for p in proof) + "\n" + note
        try:
            status, text = self.poster.post(endpoint.url + "/add-checkpoint", body.encode())
        except Exception as exc:  # unreachable, timeout: the checkpoint stays pending
            return self._failed(endpoint, size, f"{type(exc).__name__}: {exc}"), None
        if status == 200:
            if self._store(endpoint, checkpoint.note_text(), size, text):
                return "cosigned", size
            return self._failed(endpoint, size, "200 without a valid cosignature of its key"), None
        if status == 409:
            held = text.strip()
            if held.isdigit() and (int(held) in sizes or int(held) == 0) and int(held) != old:
                self.held[endpoint.name] = int(held)
                log.warning("witness %s holds size %s, not %d: continuing from it", endpoint.name, held, old)
                return "moved", int(held)
            log.error("witness %s holds size %s, which this log never signed (a fork?)", endpoint.name, held)
            return self._failed(endpoint, size, f"409: the witness holds size {held}", "conflict"), None
        return self._failed(endpoint, size, f"{status}: {text.strip()[:200]}"), None

    def _failed(self, endpoint: WitnessEndpoint, size: int, error: str, outcome: str = "retry") -> str:
        b = self.backoff[endpoint.name]
        b.failures += 1
        b.next_at = self.clock() + self.retry.delay_s(b.failures)
        b.last_error = error
        log.warning("witness %s, checkpoint %d: %s (try %d, next in %.0f s)", endpoint.name, size, error,
                    b.failures, b.next_at - self.clock())  # fmt: skip
        return outcome

    def _store(self, endpoint: WitnessEndpoint, text: str, size: int, answer: str) -> bool:
        for line in answer.splitlines(keepends=True):
            try:
                sig = parse_signature_line(line)
            except NoteError:
                continue
            timestamp = verify_cosignature(sig, text, endpoint.verifier)
            if timestamp is None:
                continue
            recorded = datetime.now(UTC).isoformat()
            try:
                with self.db.transaction() as cur:
                    cur.execute(INSERT_COSIGNATURE, (size, endpoint.name, sig.key_id.hex(), timestamp, sig.line(),
                                                     recorded))  # fmt: skip
            except Exception as exc:  # already stored (another submitter): append-only, the first one stays
                log.info("cosignature of %s on %d not stored again: %s", endpoint.name, size, exc)
            return True
        return False

    # --- the service's thread -------------------------------------------------------------------

    def start(self, every_s: float) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, args=(every_s,), name="witnesses", daemon=True)
            self._thread.start()

    def _run(self, every_s: float) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the store restarting, the ledger rebuilding: the next round tries again
                log.exception("witness submission round failed")
            self._stop.wait(every_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None


def witness_outbox(db: Database, ledger: LedgerReader, settings: Settings) -> WitnessOutbox | None:
    """The submitter the settings configure; None without witnesses."""
    endpoints = witness_endpoints(settings)
    if not endpoints:
        return None
    return WitnessOutbox(
        db,
        ledger,
        endpoints,
        HttpPoster(settings.witness_timeout_s),
        retry_base_s=settings.witness_retry_base_s,
        retry_cap_s=settings.witness_retry_cap_s,
    )


# --- verification ---------------------------------------------------------------------------


@dataclass
class QuorumReport:
    quorum: int
    required: int = 0  # checkpoints old enough to need the quorum
    met: int = 0
    legacy: int = 0  # signed before the C2SP form: never submitted
    findings: list[Finding] | None = None

    def summary(self) -> str:
        if not self.quorum:
            return "cosignatures: no quorum configured (GONGJIAN_WITNESS_QUORUM=0)"
        legacy = f"; {self.legacy} checkpoints of before the C2SP form not witnessed" if self.legacy else ""
        return f"cosignatures: {self.met} of {self.required} checkpoints past the age have {self.quorum}{legacy}"


def check_quorum(
    db: Database, settings: Settings, now: datetime | None = None, verifiers: dict[str, Verifier] | None = None
) -> QuorumReport:
    """Every checkpoint in the C2SP form older than `witness_max_age_s` must carry `witness_quorum`
    valid cosignatures of distinct configured witnesses; each failure is a finding naming it."""
    report = QuorumReport(settings.witness_quorum, findings=[])
    assert report.findings is not None
    if not settings.witness_quorum:
        return report
    verifiers = witness_verifiers(settings) if verifiers is None else verifiers
    now = now or datetime.now(UTC)
    by_size: dict[int, list[dict[str, Any]]] = {}
    for r in cosignature_rows(db):
        by_size.setdefault(int(r["tree_size"]), []).append(r)
    for row in signed_rows(db):
        if not row.get("signature"):
            continue  # unsigned: `verify_store` reports it
        if not row.get("origin"):
            report.legacy += 1
            continue
        age = (now - datetime.fromisoformat(row["time"])).total_seconds()
        if age < settings.witness_max_age_s:
            continue
        report.required += 1
        checkpoint = checkpoint_of(row)
        text = checkpoint.note_text()
        valid: list[str] = []
        for c in by_size.get(checkpoint.tree_size, []):
            verifier = verifiers.get(str(c["witness"]))
            if verifier is None:
                continue  # a witness no longer configured: ignored, as notes ignore unknown keys
            try:
                sig = parse_signature_line(str(c["signature"]))
            except NoteError:
                sig = None
            if sig is None or verify_cosignature(sig, text, verifier) is None:
                report.findings.append(
                    Finding(
                        0, f"the cosignature of {c['witness']} on checkpoint {checkpoint.tree_size} does not verify"
                    )
                )
                continue
            valid.append(verifier.name)
        if len(set(valid)) >= settings.witness_quorum:
            report.met += 1
            continue
        missing = sorted(set(verifiers) - set(valid))
        report.findings.append(
            Finding(
                0,
                f"checkpoint {checkpoint.tree_size} (root {base64.b64encode(checkpoint.root_hash).decode()},"
                f" {row['time']}) has {len(set(valid))} valid cosignatures, {settings.witness_quorum} required"
                f" (cosigned by: {', '.join(sorted(set(valid))) or 'none'}; missing: {', '.join(missing)})",
            )
        )
    return report


# --- the witnesses' own view ----------------------------------------------------------------


def witness_heads(settings: Settings, algorithm: str, public_key: bytes) -> tuple[list[Held], list[str]]:
    """Each configured witness's latest cosigned checkpoint of our origin (GET <prefix>/<origin hash>/
    checkpoint), with the log signature it verified, held like an earlier bundle: `verify_store`
    compares its root with the store's at that size, and two validly signed roots for one size are an
    equivocation. Returns the heads and, for the witnesses that could not be asked, why."""
    import hashlib

    import httpx

    origin = settings.ledger_origin
    wanted = key_id(origin, ED25519, public_key)
    heads: list[Held] = []
    problems: list[str] = []
    with httpx.Client(timeout=settings.witness_timeout_s) as client:
        for endpoint in witness_endpoints(settings):
            url = f"{endpoint.url}/{hashlib.sha256(origin.encode()).hexdigest()}/checkpoint"
            try:
                response = client.get(url)
            except httpx.HTTPError as exc:
                problems.append(f"{endpoint.name}: {type(exc).__name__}: {exc}")
                continue
            if response.status_code == 404:
                continue  # it has cosigned nothing of this log yet
            try:
                if response.status_code != 200:
                    raise NoteError(f"answered {response.status_code}")
                note = parse_note(response.text)
                head = parse_checkpoint(note.text)
                sig = next(s for s in note.signatures if (s.name, s.key_id) == (origin, wanted))
            except (NoteError, StopIteration) as exc:
                problems.append(f"{endpoint.name}: no checkpoint of ours with our signature ({exc})")
                continue
            checkpoint = Checkpoint(head.tree_size, head.root_hash, "", algorithm, sig.signature, origin)
            heads.append(Held(f"witness {endpoint.name}", (checkpoint,)))  # verified with the verifier's key
    return heads, problems
