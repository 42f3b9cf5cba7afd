"""见证 — a C2SP tlog-witness (c2sp.org/tlog-witness): cosigns a log's checkpoints, never a fork or a rollback.

Its own process (`gongjian witness serve`, interfaces/cli_witness.py), key and state: a SQLite file
with, per log origin, the latest checkpoint it cosigned (`witness_state`), and every request it
refused after a valid log signature (`witness_refusals`: possible evidence of log misbehaviour).

`add_checkpoint(body)` answers as the specification says:
- 400 a malformed request, or an old size above the checkpoint's size;
- 404 an unknown origin; 403 no signature of the log's trusted key, or one that fails;
- 409 the old size is not the size it last cosigned (the body: that size, `text/x.tlog.size`) —
  a rollback, or a fork by a log that does not know the witness's state;
- 422 a bad consistency proof, a proof from size 0, a size-0 checkpoint without the empty root,
  or the same size with another root (a fork at the size it holds);
- 200 one timestamped cosignature line (tlog-cosignature v1, Ed25519), after storing the new state.
The check of the old size and the update are one SQLite write transaction (BEGIN IMMEDIATE), so two
concurrent requests cannot roll the state back.

Hashing: RFC 6962 SHA-256 by default; a log whose tree uses SM3 (our ledger's default) is
configured with `hash="sm3"` — the same tree (RFC 9162 shapes), another hash function.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.ledger import ProofError, TreeHasher, verify_consistency
from domain.ledger.note import (
    COSIGNATURE_V1,
    ED25519,
    NoteError,
    Verifier,
    cosign,
    parse_checkpoint,
    parse_note,
    raw_public_key,
    verify_note,
)

log = logging.getLogger("gongjian.witness")
MAX_PROOF = 63
MAX_BODY = 64 << 10
SIZE_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class LogConfig:
    origin: str
    keys: tuple[Verifier, ...]  # the log's trusted note keys (type 0x01)
    hash: str = "sha256"


class Witness:
    def __init__(
        self,
        name: str,
        key: Ed25519PrivateKey,
        state: Path,
        logs: list[LogConfig],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.key = key
        self.logs = {c.origin: c for c in logs}
        self.clock = clock
        self.path = state
        self._lock = threading.Lock()
        state.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS witness_state (origin TEXT PRIMARY KEY, size INTEGER NOT NULL,"
                " root_hash TEXT NOT NULL, note TEXT NOT NULL, cosignature TEXT NOT NULL, updated_at INTEGER NOT NULL)"
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS witness_refusals (id INTEGER PRIMARY KEY, origin TEXT NOT NULL,"
                " old_size INTEGER NOT NULL, size INTEGER NOT NULL, status INTEGER NOT NULL, reason TEXT NOT NULL,"
                " request TEXT NOT NULL, at INTEGER NOT NULL)"
            )

    @property
    def verifier(self) -> Verifier:
        """Its own cosigning key (type 0x04): what logs and verifiers configure."""
        return Verifier(self.name, COSIGNATURE_V1, raw_public_key(self.key))

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    def state(self, origin: str) -> tuple[int, str] | None:
        """(size, note with its cosignature) of the latest checkpoint cosigned for `origin`."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT size, note, cosignature FROM witness_state WHERE origin = ?", (origin,)
            ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]) + str(row[2]))

    def add_checkpoint(self, body: bytes) -> Answer:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return Answer(400, "not UTF-8\n")
        head, sep, note_text = text.partition("\n\n")
        if not sep:
            return Answer(400, "no blank line between the proof and the checkpoint\n")
        lines = head.split("\n")
        if not lines[0].startswith("old "):
            return Answer(400, "the first line is `old <size>`\n")
        old_text = lines[0].removeprefix("old ")
        if not old_text.isascii() or not old_text.isdigit() or (old_text != "0" and old_text.startswith("0")):
            return Answer(400, "the old size is a decimal without leading zeroes\n")
        old = int(old_text)
        if len(lines) - 1 > MAX_PROOF:
            return Answer(400, f"more than {MAX_PROOF} proof lines\n")
        try:
            proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
            note = parse_note(note_text)
            checkpoint = parse_checkpoint(note.text)
        except (binascii.Error, NoteError) as exc:
            return Answer(400, f"{exc}\n")
        config = self.logs.get(checkpoint.origin)
        if config is None:
            return Answer(404, f"unknown log {checkpoint.origin}\n")
        try:
            trusted = verify_note(note, list(config.keys))
        except NoteError as exc:
            return Answer(403, f"{exc}\n")
        if old > checkpoint.tree_size:
            return Answer(400, f"old size {old} is larger than the checkpoint's {checkpoint.tree_size}\n")
        hasher = TreeHasher(config.hash)
        if checkpoint.tree_size == 0 and checkpoint.root_hash != hasher.empty_root():
            return Answer(422, "a checkpoint of size 0 has the empty tree's root\n")
        with self._lock, self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")  # the check and the update: one write transaction
            try:
                known = {(v.name, v.key_id) for v in trusted}
                signed = note.text + "\n" + "".join(s.line() for s in note.signatures if (s.name, s.key_id) in known)
                answer = self._decide(conn, hasher, old, proof, signed, checkpoint.origin, checkpoint.tree_size,
                                      checkpoint.root_hash)  # fmt: skip
                if answer.status != 200:
                    conn.execute(
                        "INSERT INTO witness_refusals (origin, old_size, size, status, reason, request, at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (checkpoint.origin, old, checkpoint.tree_size, answer.status, answer.body.strip(), text,
                         int(self.clock())),
                    )  # fmt: skip
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        if answer.status != 200:
            log.warning("refused %s size %d (old %d): %d %s", checkpoint.origin, checkpoint.tree_size, old,
                        answer.status, answer.body.strip())  # fmt: skip
        return answer

    def _decide(
        self,
        conn: sqlite3.Connection,
        hasher: TreeHasher,
        old: int,
        proof: list[bytes],
        signed: str,
        origin: str,
        size: int,
        root: bytes,
    ) -> Answer:
        row = conn.execute("SELECT size, root_hash FROM witness_state WHERE origin = ?", (origin,)).fetchone()
        held_size, held_root = (int(row[0]), base64.b64decode(row[1])) if row else (0, hasher.empty_root())
        if old != held_size:
            return Answer(409, f"{held_size}\n", SIZE_TYPE)
        if old == 0 and proof:
            return Answer(422, "a proof from size 0 is empty\n")
        if old == size and root != held_root:
            return Answer(422, f"size {size} was cosigned with another root hash\n")
        if old > 0:
            try:
                verify_consistency(hasher, old, size, proof, held_root, root)
            except ProofError as exc:
                return Answer(422, f"the consistency proof from {old} to {size} does not verify: {exc}\n")
        timestamp = max(1, int(self.clock()))
        text = signed[: signed.rindex("\n\n") + 1]  # the checkpoint's text, without the log's signatures
        line = cosign(text, self.name, self.key, timestamp).line()
        conn.execute(
            "INSERT INTO witness_state (origin, size, root_hash, note, cosignature, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root_hash = excluded.root_hash,"
            " note = excluded.note, cosignature = excluded.cosignature, updated_at = excluded.updated_at",
            (origin, size, base64.b64encode(root).decode(), signed, line, timestamp),
        )
        return Answer(200, line)


def origin_hash(origin: str) -> str:
    return hashlib.sha256(origin.encode()).hexdigest()


def log_config(vkey: Verifier, hash_name: str) -> LogConfig:
    if vkey.sig_type != ED25519:
        raise NoteError(f"the log key {vkey.name} is not a note signing key (type 0x01)")
    TreeHasher(hash_name)  # refuses an unknown hash
    return LogConfig(vkey.name, (vkey,), hash_name)
