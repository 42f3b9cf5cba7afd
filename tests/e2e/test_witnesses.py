"""Witnesses, end to end: three `gongjian witness serve` processes on free loopback ports; the service
submits its checkpoints through the outbox; one witness is down for a while and catches up when it is
back; an insider with the ledger key tries a fork and a rollback and is refused (409, and 422 at the
size a witness holds); `gongjian audit verify` passes with a quorum of 2 of 3 and fails, naming the
checkpoint, when cosignatures are missing."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from application.bootstrap import Container, bootstrap
from application.ledger import signed_note
from application.witnessing import check_quorum, witness_outbox
from domain.ledger import Checkpoint
from domain.ledger.checkpoint import checkpoint_of
from domain.ledger.note import (
    COSIGNATURE_V1,
    ED25519,
    Verifier,
    parse_note,
    parse_signature_line,
    parse_vkey,
    raw_public_key,
    verify_cosignature,
)
from infrastructure.checkpoint_log import cosignature_rows
from infrastructure.ledger_key import generate_key, load_key
from infrastructure.settings import Settings
from projections.ledger import Ledger
from tests.conftest import JWT_SECRET
from tests.integration.test_projection_engine import fill

pytestmark = pytest.mark.long_running(30)  # scheduled first (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "gongjian.test/ledger"
EVERY = 4
NAMES = ("w1.test/witness", "w2.test/witness", "w3.test/witness")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class WitnessProcess:
    name: str
    key: Path
    state: Path
    port: int
    log_vkey: str
    proc: subprocess.Popen[bytes] | None = None
    vkey: str = field(default="")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "interfaces.cli", "witness", "serve", "--port", str(self.port), "--key",
             str(self.key), "--state", str(self.state), "--name", self.name, "--log", self.log_vkey, "--hash", "sm3"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                assert self.proc.poll() is None, f"witness {self.name} exited"
                time.sleep(0.1)
        raise AssertionError(f"witness {self.name} did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None


@dataclass
class World:
    tmp: Path
    ledger_key: Path
    witnesses: list[WitnessProcess]
    container: Container
    settings: Settings

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "GONGJIAN_DATABASE_URL": self.settings.database_url,
            "GONGJIAN_JWT_SECRET": JWT_SECRET,
            "GONGJIAN_LEDGER_KEY_FILE": str(self.ledger_key),
            "GONGJIAN_LEDGER_CHECKPOINT_EVERY": str(EVERY),
            "GONGJIAN_LEDGER_ORIGIN": ORIGIN,
            "GONGJIAN_WITNESS_URLS": json.dumps({w.name: w.url for w in self.witnesses}),
            "GONGJIAN_WITNESS_KEYS": json.dumps([w.vkey for w in self.witnesses]),
            "GONGJIAN_WITNESS_QUORUM": "2",
            "GONGJIAN_WITNESS_MAX_AGE_S": "0",
            "COLUMNS": "250",
            **extra,
        }

    def cli(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "interfaces.cli", *args], cwd=ROOT, env=self.env(**extra), capture_output=True,
            text=True, timeout=180,
        )  # fmt: skip

    @property
    def ledger(self) -> Ledger:
        model = self.container.engine.models["ledger"]
        assert isinstance(model, Ledger)
        return model

    def cosigned(self) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {w.name: [] for w in self.witnesses}
        for r in cosignature_rows(self.container.db):
            found[str(r["witness"])].append(int(r["tree_size"]))
        return found


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    ledger_key = tmp_path / "secrets" / "ledger.pem"
    log_vkey = Verifier(ORIGIN, ED25519, raw_public_key(generate_key(ledger_key))).vkey()
    witnesses = []
    for i, name in enumerate(NAMES):
        key = tmp_path / f"witness{i + 1}" / "key.pem"
        w = WitnessProcess(name, key, tmp_path / f"witness{i + 1}" / "state.db", free_port(), log_vkey)
        w.vkey = Verifier(name, COSIGNATURE_V1, raw_public_key(generate_key(key))).vkey()
        witnesses.append(w)
    for w in witnesses:
        w.start()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/store/gongjian.db",
        jwt_secret=JWT_SECRET,
        ledger_key_file=str(ledger_key),
        ledger_checkpoint_every=EVERY,
        ledger_origin=ORIGIN,
        witness_urls={w.name: w.url for w in witnesses},
        witness_keys=[w.vkey for w in witnesses],
        witness_quorum=2,
        witness_max_age_s=0,
        witness_retry_base_s=1.0,
        witness_retry_cap_s=2.0,
        witness_timeout_s=5,
    )
    (tmp_path / "store").mkdir()
    container = bootstrap(settings)
    try:
        yield World(tmp_path, ledger_key, witnesses, container, settings)
    finally:
        container.close()
        for w in witnesses:
            w.stop()


def insider_request(world: World, old: int, size: int, root: bytes) -> bytes:
    """What an insider holding the ledger key can send: a validly signed checkpoint of their choosing."""
    key = load_key(world.ledger_key)
    checkpoint = Checkpoint(size, root, "2026-12-05T00:00:00+00:00", "sm3", origin=ORIGIN)
    checkpoint = Checkpoint(size, root, checkpoint.time, "sm3", key.sign(checkpoint.message()), ORIGIN)
    proof = world.ledger.consistency_proof(old, size).path if 0 < old < size else []
    lines = "".join(base64.b64encode(p).decode() + "\n" for p in proof)
    return f"old {old}\n{lines}\n{signed_note(checkpoint, raw_public_key(key))}".encode()


def test_three_witnesses_cosign_catch_up_refuse_forks_and_audit_verify_counts_the_quorum(world: World) -> None:
    c = world.container
    fill(c, 4)  # 12 events: checkpoints at 4, 8, 12
    c.engine.catch_up()
    outbox = witness_outbox(c.db, world.ledger, world.settings)
    assert outbox is not None
    # a cosignature lost in a crash: w1 cosigned checkpoint 4, the store kept no record of it
    first = world.ledger.checkpoint_rows()[0]
    lost = f"old 0\n\n{signed_note(checkpoint_of(first), bytes.fromhex(first['public_key']))}"
    assert httpx.post(world.witnesses[0].url + "/add-checkpoint", content=lost.encode()).status_code == 200
    attempts = outbox.run_once()
    assert (
        {(a.witness, a.tree_size, a.outcome) for a in attempts}
        == {
            (NAMES[0], 4, "moved"),  # 409 "4": a size this log signed, so the submitter goes on from it
            *((NAMES[0], size, "cosigned") for size in (8, 12)),
            *((name, size, "cosigned") for name in NAMES[1:] for size in (4, 8, 12)),
        }
    )
    assert world.cosigned() == {NAMES[0]: [8, 12], NAMES[1]: [4, 8, 12], NAMES[2]: [4, 8, 12]}

    # each stored cosignature verifies with the witness's key over the store's C2SP checkpoint text
    rows = {int(r["tree_size"]): r for r in world.ledger.checkpoint_rows()}
    for r in cosignature_rows(c.db):
        w = next(w for w in world.witnesses if w.name == r["witness"])
        text = Checkpoint(int(r["tree_size"]), bytes.fromhex(rows[int(r["tree_size"])]["root_hash"]), "", "sm3",
                          origin=ORIGIN).note_text()  # fmt: skip
        assert verify_cosignature(parse_signature_line(r["signature"]), text, parse_vkey(w.vkey)) == r["timestamp"]

    ok = world.cli("audit", "verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "cosignatures: 3 of 3 checkpoints past the age have 2" in ok.stdout

    # witness 3 down: the outbox keeps its checkpoints and retries with backoff
    w3 = world.witnesses[2]
    w3.stop()
    fill(c, 4)  # 24 events: checkpoints at 16, 20, 24
    c.engine.catch_up()
    attempts = outbox.run_once()
    assert {(a.tree_size, a.outcome) for a in attempts if a.witness == w3.name} == {(16, "retry")}
    assert outbox.backoff[w3.name].failures == 1
    assert outbox.pending() == {NAMES[0]: 0, NAMES[1]: 0, NAMES[2]: 3}
    assert outbox.run_once() == []  # within the backoff: no attempt at all
    assert check_quorum(c.db, world.settings).findings == []  # 2 of 3 is the quorum
    three = check_quorum(c.db, world.settings.model_copy(update={"witness_quorum": 3}))
    assert [f.problem.split(" (")[0] for f in three.findings or []] == [f"checkpoint {n}" for n in (4, 16, 20, 24)]
    assert "missing: w1.test/witness" in (three.findings or [])[0].problem
    assert "missing: w3.test/witness" in (three.findings or [])[1].problem

    # it comes back (same state, same port): the outbox catches up, in order, from the size it holds
    w3.start()
    outbox.start(0.2)  # the service's thread (as in `gongjian serve`)
    try:
        deadline = time.monotonic() + 30
        while any(outbox.pending().values()):
            assert time.monotonic() < deadline, f"still pending: {outbox.pending()}, {outbox.backoff}"
            time.sleep(0.2)
    finally:
        outbox.stop()
    assert world.cosigned() == {
        NAMES[0]: [8, 12, 16, 20, 24], NAMES[1]: [4, 8, 12, 16, 20, 24], NAMES[2]: [4, 8, 12, 16, 20, 24]
    }  # fmt: skip
    status = world.cli("witness", "status")
    assert "w3.test/witness: 6 cosignatures, latest size 24" in status.stdout, status.stdout + status.stderr

    # an insider with the ledger key forks at 24 (another root) or rolls back: every witness refuses
    forged_root = hashlib.sha256(b"another history").digest()
    with httpx.Client(timeout=10) as http:
        for w in world.witnesses:
            fork = http.post(w.url + "/add-checkpoint", content=insider_request(world, 20, 24, forged_root))
            assert (fork.status_code, fork.text, fork.headers["content-type"]) == (409, "24\n", "text/x.tlog.size")
            same = http.post(w.url + "/add-checkpoint", content=insider_request(world, 24, 24, forged_root))
            assert same.status_code == 422, same.text
            rollback = http.post(
                w.url + "/add-checkpoint", content=insider_request(world, 16, 16, world.ledger.root(16))
            )
            assert rollback.status_code == 409 and rollback.text == "24\n"
            # the witness still holds the true head, with the log's signature and its cosignature
            held = http.get(f"{w.url}/{hashlib.sha256(ORIGIN.encode()).hexdigest()}/checkpoint")
            assert held.status_code == 200
            note = parse_note(held.text)
            assert note.text.splitlines()[1:] == ["24", base64.b64encode(world.ledger.root(24)).decode()]
            assert {s.name for s in note.signatures} == {ORIGIN, w.name}

    # two witnesses down: new checkpoints get one cosignature; audit verify fails naming them
    world.witnesses[1].stop()
    w3.stop()
    fill(c, 2)  # 30 events: checkpoint at 28
    c.engine.catch_up()
    submitted = world.cli("witness", "submit")  # the outbox worker as a command, one round
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    assert f"{NAMES[0]}: checkpoint 28 cosigned" in submitted.stdout
    assert f"{NAMES[1]}: 1 pending" in submitted.stdout and f"{NAMES[2]}: 1 pending" in submitted.stdout
    assert world.cosigned()[NAMES[0]][-1] == 28
    bad = world.cli("audit", "verify")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "checkpoint 28" in bad.stdout and "1 valid cosignatures, 2 required" in bad.stdout
    assert "checkpoint 24" not in bad.stdout
    young = world.cli("audit", "verify", GONGJIAN_WITNESS_MAX_AGE_S="3600")  # not yet old enough to need them
    assert young.returncode == 0, young.stdout + young.stderr

    # the witnesses' own view: w1 holds the true 28 (w2 and w3 are down, so not compared) ...
    compared = world.cli("audit", "verify", "--witnesses", GONGJIAN_WITNESS_MAX_AGE_S="3600")
    assert compared.returncode == 0, compared.stdout + compared.stderr
    assert compared.stdout.count("witness not compared") == 2
    # ... and a fourth witness that was shown another history of size 28 (first sight: it had no state)
    w4 = WitnessProcess("w4.test/witness", world.tmp / "w4" / "key.pem", world.tmp / "w4" / "state.db", free_port(),
                        world.witnesses[0].log_vkey)  # fmt: skip
    w4.vkey = Verifier(w4.name, COSIGNATURE_V1, raw_public_key(generate_key(w4.key))).vkey()
    w4.start()
    try:
        with httpx.Client(timeout=10) as http:
            shown = http.post(w4.url + "/add-checkpoint", content=insider_request(world, 0, 28, forged_root))
        assert shown.status_code == 200, shown.text
        world.witnesses.append(w4)
        forked = world.cli("audit", "verify", "--witnesses", GONGJIAN_WITNESS_MAX_AGE_S="3600")
    finally:
        w4.stop()
    assert forked.returncode == 1, forked.stdout + forked.stderr
    assert "EQUIVOCATION at size 28" in forked.stdout and "witness w4.test/witness" in forked.stdout
    assert base64.b64encode(forged_root).decode() in forked.stdout  # both signed notes are printed
