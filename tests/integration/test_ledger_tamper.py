"""Evidence against an insider: the tamper matrix of issue 16, on SQLite and PostgreSQL.

The insider has the database's superuser rights (the append-only triggers are off for them) and,
where said, the ledger's signing key. Checkpoints signed before are durable: a rebuild of the ledger
compares with them and stops; `audit verify` compares every signed root — the store's and those held
outside in earlier bundles — with the root recomputed from the raw events at that size, reports two
different signed roots for one size as an equivocation with both signed notes, and names the first
bad position. Expected values come from the fixture's own writes and an independent reading of the
C2SP signed-note format, never from the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

from application.bootstrap import Container
from application.ledger import Held, export_bundle, held_of, verify_store
from infrastructure.db import DatabaseURL
from projections.ledger import LedgerConfig, LedgerMismatch
from tests.conftest import JWT_SECRET
from tests.integration.test_ledger import EVERY, ledger_of, open_ledger
from tests.integration.test_projection_engine import fill

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINTS = "ledger_signed_checkpoints"


class Insider:
    """Someone with the database's superuser rights: the append-only triggers do not stop them
    (PostgreSQL: `session_replication_role = replica` for their session; SQLite: dropped)."""

    def __init__(self, url: str) -> None:
        self.url = DatabaseURL(url)
        self.sqlite = self.url.scheme == "sqlite"
        self.events, self.pos = ("stored_events", "rowid") if self.sqlite else ("gongjian_events", "notification_id")
        if self.sqlite:
            self.lite = sqlite3.connect(self.url.path, isolation_level=None)
            for table in (self.events, CHECKPOINTS):
                for (name,) in self.lite.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)
                ).fetchall():
                    self.lite.execute(f"DROP TRIGGER {name}")
        else:
            self.pg = psycopg.connect(self.url.conninfo, options=f"-c search_path={self.url.schema}", autocommit=True)
            self.pg.execute("SET session_replication_role = replica")

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        sql = sql.format(events=self.events, pos=self.pos)
        if self.sqlite:
            return self.lite.execute(sql, params).fetchall()
        cur = self.pg.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []

    def change_one_byte(self, position: int) -> None:
        """One byte of the event's stored state: the first letter of its request id, to the next letter
        (the JSON stays valid, so every reader still decodes it)."""
        (state,) = self.run("SELECT state FROM {events} WHERE {pos} = ?", (position,))[0]
        state = bytearray(state)
        at = state.index(b'"request_id":"') + len(b'"request_id":"')
        state[at] += 1
        self.run("UPDATE {events} SET state = ? WHERE {pos} = ?", (bytes(state), position))

    def forget_the_ledger(self) -> None:
        """What re-deriving the ledger over a forged log needs first: no signed checkpoint left."""
        self.run(f"DELETE FROM {CHECKPOINTS}")

    def close(self) -> None:
        (self.lite if self.sqlite else self.pg).close()


@pytest.fixture
def key(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "ledger.pem"


@pytest.fixture
def signed_twelve(store_url: str, key: Path) -> Iterator[Container]:
    """Four projects with an accepted case each (12 events: Generated, Received, Accepted at 3i+1 …
    3i+3), checkpoints signed at sizes 4, 8 and 12."""
    c = open_ledger(store_url, key)
    fill(c, 4)
    c.engine.catch_up()
    yield c
    c.close()


@pytest.fixture
def insider(store_url: str, signed_twelve: Container) -> Iterator[Insider]:
    i = Insider(store_url)
    yield i
    i.close()


def trusted_key(key: Path) -> bytes:
    """The raw public key, as a verifier gets it from the published `.pub.pem`."""
    loaded = load_pem_public_key(Path(str(key).removesuffix(".pem") + ".pub.pem").read_bytes())
    return loaded.public_bytes(Encoding.Raw, PublicFormat.Raw)


def held(c: Container, name: str = "held.json", leaves: bool = True) -> Held:
    bundle = json.loads(json.dumps(export_bundle(c.app, ledger_of(c))))
    if not leaves:
        bundle["events"] = []
    return held_of(bundle, name)


def cli(url: str, key: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GONGJIAN_DATABASE_URL": url,
        "GONGJIAN_JWT_SECRET": JWT_SECRET,
        "GONGJIAN_LEDGER_KEY_FILE": str(key),
        "GONGJIAN_LEDGER_CHECKPOINT_EVERY": str(EVERY),
        "COLUMNS": "250",
    }
    return subprocess.run(
        [sys.executable, "-m", "interfaces.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


def note_parts(note: str, public: bytes) -> tuple[str, int]:
    """Reads a C2SP signed note independently: body, blank line, `— <name> <base64(key id ‖ sig)>`;
    checks the key id and the Ed25519 signature over the body; returns the body and its tree size."""
    body, _, signatures = note.partition("\n\n")
    body += "\n"
    dash, name, blob = signatures.strip("\n").split(" ")
    assert dash == "\u2014"
    raw = base64.b64decode(blob)
    assert raw[:4] == hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], body.encode())  # raises when forged
    lines = body.splitlines()  # the C2SP form: origin, size, root; the v1 lines: header, algorithm, size …
    return body, int(lines[2] if lines[0] == "gongjian-ledger-checkpoint/v1" else lines[1])


# --- 1. one byte changed, then `projections rebuild ledger` --------------------------------------


def test_a_changed_byte_stops_the_ledger_rebuild_and_fails_verification(
    signed_twelve: Container, insider: Insider, store_url: str, key: Path
) -> None:
    c = signed_twelve
    before = held(c)
    signed = c.db.query(f"SELECT * FROM {CHECKPOINTS} ORDER BY tree_size")
    insider.change_one_byte(6)
    # Step: the project's own command would re-sign the new history; it refuses at size 8.
    rebuilt = cli(store_url, key, "projections", "rebuild", "ledger")
    assert rebuilt.returncode != 0
    assert "size 8 (up to position 8)" in rebuilt.stderr and "after position 4" in rebuilt.stderr
    with pytest.raises(LedgerMismatch, match=r"size 8 .*after position 4 \(size 4 still matches\)"):
        c.engine.rebuild("ledger")
    assert c.db.query(f"SELECT * FROM {CHECKPOINTS} ORDER BY tree_size") == signed
    # Step: verification against the durable checkpoints alone bounds it; a held bundle pins it.
    alone = verify_store(c.app, ledger_of(c))
    assert alone.first_bad is not None and alone.first_bad.position == 5
    assert "root of size 8 differs" in alone.first_bad.problem and "from 5 to 8" in alone.first_bad.problem
    against = verify_store(c.app, ledger_of(c), [before])
    assert against.first_bad is not None and against.first_bad.position == 6
    assert any("root of size 8 differs" in f.problem and "held.json" in f.problem for f in against.findings)
    assert not against.equivocations  # the store's signed roots were never rewritten: no second root


# --- 2. rolled back to an earlier copy, then new writes -----------------------------------------


class Copy:
    """A copy of the whole store, held aside and put back (a restore from an earlier backup)."""

    def __init__(self, url: str, where: Path) -> None:
        self.url, self.where = DatabaseURL(url), where

    def take(self) -> None:
        if self.url.scheme == "sqlite":
            with sqlite3.connect(self.url.path) as src, sqlite3.connect(self.where) as dst:
                src.backup(dst)
            return
        subprocess.run(["pg_dump", "-Fc", "-n", self.url.schema, "-f", str(self.where), self.url.conninfo], check=True)

    def restore(self) -> None:
        if self.url.scheme == "sqlite":
            with sqlite3.connect(self.where) as src, sqlite3.connect(self.url.path) as dst:
                src.backup(dst)
            return
        with psycopg.connect(self.url.conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{self.url.schema}" CASCADE')
        subprocess.run(["pg_restore", "-d", self.url.conninfo, str(self.where)], check=True)


def test_a_rollback_then_new_writes_is_reported_as_equivocation_with_both_signed_notes(
    store_url: str, key: Path, tmp_path: Path
) -> None:
    c = open_ledger(store_url, key)
    fill(c, 4)
    c.engine.catch_up()
    copy = Copy(store_url, tmp_path / "copy-a")
    copy.take()  # Step: copy A (12 events) held aside, and its bundle.
    bundle_a = tmp_path / "bundle-a.json"
    bundle_a.write_text(json.dumps(export_bundle(c.app, ledger_of(c))))
    fill(c, 2)
    c.engine.catch_up()
    bundle_b = tmp_path / "bundle-b.json"
    bundle_b.write_text(json.dumps(export_bundle(c.app, ledger_of(c))))  # Step: B (18 events, signed at 16) held.
    c.close()
    copy.restore()  # Step: the database is put back to A; the service writes other events.
    c = open_ledger(store_url, key)
    try:
        fill(c, 2)
        c.engine.catch_up()
        store_root = c.db.query(f"SELECT root_hash FROM {CHECKPOINTS} WHERE tree_size = 16")[0]["root_hash"]
        report = verify_store(c.app, ledger_of(c), [held_of(json.loads(bundle_b.read_text()), "bundle-b.json")])
    finally:
        c.close()
    assert not report.ok
    assert [e.tree_size for e in report.equivocations] == [16]
    fork = report.equivocations[0]
    public = trusted_key(key)
    held_root = next(cp["root_hash"] for cp in json.loads(bundle_b.read_text())["checkpoints"] if cp["tree_size"] == 16)
    roots = set()
    for note in fork.notes:
        body, size = note_parts(note, public)
        assert size == 16
        roots.add(base64.b64decode(body.splitlines()[2]).hex())  # the C2SP form: origin, size, base64 root
    assert roots == {store_root, held_root} and store_root != held_root
    assert report.first_bad is not None and report.first_bad.position == 13  # the first event written after A
    # Step: the same through the command line.
    assert cli(store_url, key, "audit", "verify", "--against", str(bundle_a)).returncode == 0  # A is a prefix
    out = cli(store_url, key, "audit", "verify", "--against", str(bundle_a), "--against", str(bundle_b))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "EQUIVOCATION at size 16" in out.stdout and "first bad position 13" in out.stdout
    assert out.stdout.count("\u2014 gongjian.hainan.gov.cn/ledger ") == 2  # the key name is the origin
    assert base64.b64encode(bytes.fromhex(store_root)).decode() in out.stdout
    assert base64.b64encode(bytes.fromhex(held_root)).decode() in out.stdout


# --- 3. an event deleted, the ledger recomputed and re-signed with the stolen key --------------------


def _delete_and_recompute(c: Container, insider: Insider) -> None:
    """The case accepted at position 6 disappears (the last event of its case: no version jumps);
    the service writes on; the insider re-derives the ledger with the same cadence (sizes 4, 8, 12)."""
    insider.run("DELETE FROM {events} WHERE {pos} = 6")
    fill(c, 1)  # 3 more events: 14 remain
    insider.forget_the_ledger()
    c.engine.rebuild("ledger")
    sizes = [r["tree_size"] for r in c.db.query(f"SELECT tree_size FROM {CHECKPOINTS} ORDER BY tree_size")]
    assert sizes == [4, 8, 12]


def test_a_deleted_event_recomputed_and_re_signed_with_the_stolen_key_fails_against_a_held_checkpoint(
    signed_twelve: Container, insider: Insider, key: Path
) -> None:
    c = signed_twelve
    with_leaves, roots_only = held(c, "b.json"), held(c, "b-roots.json", leaves=False)
    _delete_and_recompute(c, insider)
    # alone, the store is consistent with itself: only evidence held outside tells
    assert verify_store(c.app, ledger_of(c)).ok
    report = verify_store(c.app, ledger_of(c), [with_leaves])
    assert report.first_bad is not None and report.first_bad.position == 6
    assert any(
        "root of size 8 differs" in f.problem and "first bad position is 6" in f.problem for f in report.findings
    )
    assert [e.tree_size for e in report.equivocations] == [8, 12]  # the same key signed two histories
    bounded = verify_store(c.app, ledger_of(c), [roots_only])
    assert bounded.first_bad is not None and bounded.first_bad.position == 5  # size 4 still matches
    # the 8th remaining event is at position 9: the difference lies from 5 to 9
    assert "from 5 to 9" in bounded.first_bad.problem and "b-roots.json" in bounded.first_bad.problem


def test_a_deleted_event_recomputed_with_unsigned_checkpoints_fails_under_the_trusted_key(
    signed_twelve: Container, insider: Insider, key: Path
) -> None:
    c = signed_twelve
    before = held(c)
    ledger_of(c).config = LedgerConfig(every=EVERY, signer=None)  # the insider has no key this time
    _delete_and_recompute(c, insider)
    trusted = trusted_key(key)
    assert verify_store(c.app, ledger_of(c)).unsigned == 3
    report = verify_store(c.app, ledger_of(c), public_key=trusted)
    assert not report.ok
    assert {f.problem for f in report.findings} == {
        f"checkpoint {size} in the store is unsigned, and a trusted key was given" for size in (4, 8, 12)
    }
    against = verify_store(c.app, ledger_of(c), [before])
    assert against.first_bad is not None and against.first_bad.position == 6


def test_missing_checkpoints_fail_under_the_trusted_key(signed_twelve: Container, insider: Insider, key: Path) -> None:
    c = signed_twelve
    insider.run(f"DELETE FROM {CHECKPOINTS} WHERE tree_size < 12")
    trusted = trusted_key(key)
    assert verify_store(c.app, ledger_of(c)).ok  # without a trusted key a thin ledger is only thin
    report = verify_store(c.app, ledger_of(c), public_key=trusted)
    assert [f.problem for f in report.findings] == [
        f"no signed checkpoint covers leaves 0 to 11: the ledger signs at least every {EVERY} leaves"
        " (a checkpoint is missing)"
    ]


# --- stores from before the durable table ----------------------------------------------------------


def test_checkpoints_of_a_store_from_before_are_carried_over_once_and_then_held_to(
    signed_twelve: Container, insider: Insider, store_url: str, key: Path
) -> None:
    c = signed_twelve
    signed = c.db.query(f"SELECT * FROM {CHECKPOINTS} ORDER BY tree_size")
    c.close()
    # Step: as the store was before: the checkpoints are rows of the read model's own table.
    insider.run(f"CREATE TABLE ledger_checkpoints AS SELECT * FROM {CHECKPOINTS}")
    insider.run(f"DROP TABLE {CHECKPOINTS}")
    again = open_ledger(store_url, key)
    try:
        assert again.db.query(f"SELECT * FROM {CHECKPOINTS} ORDER BY tree_size") == signed
        assert not again.db.query(
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'ledger_checkpoints'"
            if not store_url.startswith("sqlite")
            else "SELECT 1 FROM sqlite_master WHERE name = 'ledger_checkpoints'"
        )
        later = Insider(store_url)  # every start re-installs the triggers: bypassed again
        later.change_one_byte(2)
        later.close()
        with pytest.raises(LedgerMismatch, match="size 4"):
            again.engine.rebuild("ledger")
    finally:
        again.close()
