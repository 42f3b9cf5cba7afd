"""C2SP encodings (domain/ledger/note.py) against the specifications' own examples, and the witness's
answers (application/witness.py, without HTTP: the e2e test runs it as a process) to each case of
c2sp.org/tlog-witness: cosign, 400, 403, 404, 409 (rollback, fork by a log that lost track), 422."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.witness import LogConfig, Witness
from domain.ledger import Checkpoint, MemoryTree, TreeHasher
from domain.ledger.note import (
    COSIGNATURE_V1,
    ED25519,
    Note,
    NoteError,
    Verifier,
    checkpoint_text,
    cosign,
    cosignature_message,
    cosignature_time,
    key_id,
    parse_checkpoint,
    parse_note,
    parse_signature_line,
    parse_vkey,
    raw_public_key,
    sign_note,
    verify_cosignature,
    verify_note,
)

# c2sp.org/signed-note, "Example"
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# c2sp.org/tlog-checkpoint and tlog-cosignature
SPEC_CHECKPOINT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_COSIGNATURE = (
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0"
    "xUe+mbIUBkBIfZ+qnA==\n"
)
SPEC_COSIGNED_MESSAGE = "cosignature/v1\ntime 1679315147\n" + SPEC_CHECKPOINT


def test_the_signed_note_example_verifies_with_its_vkey() -> None:
    verifier = parse_vkey(SPEC_VKEY)
    assert (verifier.name, verifier.sig_type, verifier.key_id.hex()) == ("example.com/foo", ED25519, "530d903a")
    assert key_id("example.com/foo", ED25519, verifier.public_key).hex() == "530d903a"  # SHA-256(name‖\n‖1‖key)[:4]
    assert verifier.vkey() == SPEC_VKEY
    note = parse_note(SPEC_NOTE)
    assert note.text == "This is an example message.\n"
    assert verify_note(note, [verifier]) == [verifier]
    assert note.render() == SPEC_NOTE


def test_a_changed_text_or_an_unknown_key_is_refused() -> None:
    verifier = parse_vkey(SPEC_VKEY)
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(parse_note(SPEC_NOTE.replace("example message", "example massage")), [verifier])
    other = Verifier("example.com/bar", ED25519, verifier.public_key)  # same key, another name: unknown
    with pytest.raises(NoteError, match="no signature from a known key"):
        verify_note(parse_note(SPEC_NOTE), [other])
    with pytest.raises(NoteError):
        parse_vkey(SPEC_VKEY.replace("530d903a", "530d903b"))  # the ID must be the one name and key give
    for bad in (
        "no blank line\n\u2014 a b\n",
        "text\n\n",
        "text\n\n\u2014 a+b AAAAAAA=\n",
        "te\tx\n\n\u2014 a AAAAAAA=\n",
    ):
        with pytest.raises(NoteError):
            parse_note(bad)


def test_the_checkpoint_example_round_trips() -> None:
    c = parse_checkpoint(SPEC_CHECKPOINT)
    assert (c.origin, c.tree_size, len(c.root_hash)) == ("example.com/behind-the-sofa", 20852163, 32)
    assert c.text() == SPEC_CHECKPOINT == checkpoint_text(c.origin, c.tree_size, c.root_hash)
    for bad in ("o\n012\nAAAA\n", "o\n12\n", "o\n12\nnot base64!\n", "o\n12\nAAAA\n\n"):
        with pytest.raises(NoteError):
            parse_checkpoint(bad)


def test_the_cosignature_example_line_carries_its_timestamp_and_the_message_is_the_specs() -> None:
    sig = parse_signature_line(SPEC_COSIGNATURE)
    assert sig.name == "witness.example.com/w1" and len(sig.key_id) == 4 and len(sig.signature) == 8 + 64
    assert cosignature_time(sig) == 1679315147  # the time of the spec's signed-message example
    assert cosignature_message(1679315147, SPEC_CHECKPOINT).decode() == SPEC_COSIGNED_MESSAGE


def test_a_cosignature_verifies_with_its_key_and_over_its_checkpoint_only() -> None:
    key = Ed25519PrivateKey.generate()
    verifier = Verifier("witness.example/w1", COSIGNATURE_V1, raw_public_key(key))
    sig = cosign(SPEC_CHECKPOINT, verifier.name, key, 1679315147)
    assert sig.key_id == key_id(verifier.name, 0x04, verifier.public_key)
    assert parse_vkey(verifier.vkey()) == verifier
    assert verify_cosignature(parse_signature_line(sig.line()), SPEC_CHECKPOINT, verifier) == 1679315147
    forked = SPEC_CHECKPOINT.replace("CsUY", "DsUY")
    assert verify_cosignature(sig, forked, verifier) is None
    as_note_key = Verifier(verifier.name, ED25519, verifier.public_key)  # type 0x01: another key ID
    assert verify_cosignature(sig, SPEC_CHECKPOINT, as_note_key) is None


def test_a_checkpoint_with_an_origin_signs_the_c2sp_text_and_one_without_the_v1_lines() -> None:
    root = bytes(range(32))
    c2sp = Checkpoint(7, root, "2026-12-05T00:00:00+00:00", "sm3", origin="gongjian.example/ledger")
    assert c2sp.message().decode() == f"gongjian.example/ledger\n7\n{base64.b64encode(root).decode()}\n"
    v1 = Checkpoint(7, root, "2026-12-05T00:00:00+00:00", "sm3")
    assert v1.message().decode().startswith("gongjian-ledger-checkpoint/v1\nsm3\n7\n")


# --- the witness's answers ------------------------------------------------------------------

ORIGIN = "gongjian.example/ledger"


class Log:
    """A log with its own tree and key, building add-checkpoint requests as a client would."""

    def __init__(self, hash_name: str = "sha256") -> None:
        self.key = Ed25519PrivateKey.generate()
        self.hasher = TreeHasher(hash_name)
        self.tree = MemoryTree(self.hasher)
        self.verifier = Verifier(ORIGIN, ED25519, raw_public_key(self.key))

    def grow(self, n: int) -> None:
        for _ in range(n):
            self.tree.append(self.hasher.hash_leaf(self.tree.size.to_bytes(8, "big")))

    def note(self, size: int, root: bytes | None = None, key: Ed25519PrivateKey | None = None) -> str:
        text = checkpoint_text(ORIGIN, size, root if root is not None else self.tree.root(size))
        return Note(text, (sign_note(text, ORIGIN, key or self.key),)).render()

    def request(self, old: int, size: int, root: bytes | None = None, proof: list[bytes] | None = None) -> bytes:
        path = proof if proof is not None else (self.tree.consistency_proof(old, size) if 0 < old < size else [])
        lines = "".join(base64.b64encode(p).decode() + "\n" for p in path)
        return f"old {old}\n{lines}\n{self.note(size, root)}".encode()


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def witness(log: Log, tmp_path: Path) -> Witness:
    return Witness("witness.example/w1", Ed25519PrivateKey.generate(), tmp_path / "w.db", [LogConfig(ORIGIN, (log.verifier,))],
                   clock=lambda: 1_800_000_000.0)  # fmt: skip


def test_the_witness_cosigns_consistent_checkpoints_and_keeps_its_state(log: Log, witness: Witness) -> None:
    log.grow(5)
    answer = witness.add_checkpoint(log.request(0, 5))
    assert answer.status == 200, answer.body
    sig = parse_signature_line(answer.body)
    assert verify_cosignature(sig, checkpoint_text(ORIGIN, 5, log.tree.root(5)), witness.verifier) == 1_800_000_000
    log.grow(6)
    assert witness.add_checkpoint(log.request(5, 11)).status == 200
    state = witness.state(ORIGIN)
    assert state is not None and state[0] == 11
    note = parse_note(state[1])  # the log's signature and the witness's cosignature (monitor retrieval)
    assert verify_note(note, [log.verifier]) == [log.verifier]
    assert witness.add_checkpoint(log.request(11, 11)).status == 200  # the same head again: fine


def test_the_witness_refuses_as_the_spec_says(log: Log, witness: Witness, tmp_path: Path) -> None:
    log.grow(8)
    assert witness.add_checkpoint(log.request(0, 4)).status == 200
    # a rollback: a smaller tree, with the old size the log claims
    rollback = witness.add_checkpoint(log.request(2, 3))
    assert (rollback.status, rollback.body, rollback.content_type) == (409, "4\n", "text/x.tlog.size")
    # a fork by a log that lost track (restored from a copy): same size, another root, old size of before
    other = Log()
    other.key, other.verifier = log.key, log.verifier  # the stolen key
    other.tree.append(b"\x01" * 32)  # its first leaf differs: no tree of it extends the log's
    other.grow(4)
    assert witness.add_checkpoint(other.request(0, 5)).status == 409
    # a fork at the size it holds (old = 4): 422, as the spec says for equal sizes with other roots
    assert witness.add_checkpoint(log.request(4, 4, root=b"\x02" * 32)).status == 422
    # a bad consistency proof
    assert witness.add_checkpoint(log.request(4, 8, proof=[b"\x03" * 32] * 3)).status == 422
    assert witness.add_checkpoint(other.request(4, 5)).status == 422  # a proof that cannot exist
    # a proof from 0
    assert witness.add_checkpoint(Log().request(0, 0, proof=[b"\x04" * 32])).status in (403, 422)
    # an old size above the size
    assert witness.add_checkpoint(log.request(8, 6)).status == 400
    # another key: 403; an unknown origin: 404; garbage: 400
    thief = Log()
    thief.grow(8)
    assert witness.add_checkpoint(thief.request(4, 8)).status == 403
    body = log.request(4, 8).replace(ORIGIN.encode(), b"other.example/log")
    assert witness.add_checkpoint(body).status == 404
    assert witness.add_checkpoint(b"hello").status == 400
    assert witness.add_checkpoint(log.request(4, 8)).status == 200  # the honest log goes on
    state = witness.state(ORIGIN)
    assert state is not None and state[0] == 8
