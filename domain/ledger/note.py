"""签名注记 — C2SP signed notes, checkpoints and cosignatures (pure: no I/O, no clock).

- c2sp.org/signed-note: a text ending in a newline, a blank line, signature lines
  `— <key name> base64(key ID ‖ signature)`; Ed25519 key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4];
  verifier keys (vkeys) `<name>+<hex key ID>+base64(type ‖ key)`.
- c2sp.org/tlog-checkpoint: the note text `<origin>\\n<tree size>\\n<base64 root hash>\\n[extensions]`.
- c2sp.org/tlog-cosignature (cosignature/v1, Ed25519): key ID with type 0x04; the signature is
  `u64 timestamp ‖ Ed25519(“cosignature/v1\\ntime <t>\\n” ‖ checkpoint text)`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01  # signed-note Ed25519 signature type
COSIGNATURE_V1 = 0x04  # tlog-cosignature timestamped Ed25519 checkpoint cosignature
DASH = "\u2014"  # the em dash opening a signature line
MAX_SIGNATURES = 64  # a note with more signature lines is refused (the spec: accept at least 16)
_U64 = struct.Struct(">Q")


class NoteError(ValueError):
    """A malformed note, checkpoint, vkey or signature line."""


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")


@dataclass(frozen=True)
class Verifier:
    """A known key: name, signature type (0x01 note signature, 0x04 cosignature) and public key."""

    name: str
    sig_type: int
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.sig_type, self.public_key)

    def vkey(self) -> str:
        blob = base64.b64encode(bytes([self.sig_type]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{blob}"


def parse_vkey(text: str) -> Verifier:
    """`<name>+<hex key ID>+base64(type ‖ key)`; the key ID must be the one the name and key give."""
    parts = text.strip().split("+", 2)  # the base64 may hold "+"
    if len(parts) != 3:
        raise NoteError(f"not a vkey (name+id+key): {text!r}")
    name, hex_id, blob = parts
    _check_name(name)
    try:
        raw = base64.b64decode(blob, validate=True)
        wanted = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"vkey {name}: bad encoding") from exc
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError(f"vkey {name}: only Ed25519 keys (types 0x01, 0x04) are supported")
    verifier = Verifier(name, raw[0], raw[1:])
    if len(wanted) != 4 or verifier.key_id != wanted:
        raise NoteError(f"vkey {name}: the key ID does not match the name and key")
    return verifier


def raw_public_key(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# --- notes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, key ID, the signature bytes after the ID."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{DASH} {self.name} {base64.b64encode(self.key_id + self.signature).decode()}\n"


def parse_signature_line(line: str) -> Signature:
    if not line.startswith(DASH + " "):
        raise NoteError(f"not a signature line: {line!r}")
    parts = line.removeprefix(DASH + " ").removesuffix("\n").split(" ")
    if len(parts) != 2:
        raise NoteError(f"malformed signature line: {line!r}")
    name, blob = parts
    _check_name(name)
    try:
        raw = base64.b64decode(blob, validate=True)
    except binascii.Error as exc:
        raise NoteError(f"signature of {name}: not base64") from exc
    if len(raw) < 5:
        raise NoteError(f"signature of {name}: too short")
    return Signature(name, raw[:4], raw[4:])


@dataclass(frozen=True)
class Note:
    text: str  # including its final newline
    signatures: tuple[Signature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def parse_note(data: str) -> Note:
    """Splits at the last blank line; the text must end in a newline, every line after it is a signature."""
    if any(ord(c) < 0x20 and c != "\n" for c in data):
        raise NoteError("a note holds no control characters other than newline")
    if not data.endswith("\n"):
        raise NoteError("a note ends in a newline")
    cut = data.rfind("\n\n")
    if cut < 0:
        raise NoteError("a note has a blank line between its text and its signatures")
    text, sigs = data[: cut + 1], data[cut + 2 :]
    lines = sigs.splitlines(keepends=True)
    if not lines:
        raise NoteError("a note has at least one signature")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"more than {MAX_SIGNATURES} signatures")
    return Note(text, tuple(parse_signature_line(line) for line in lines))


def sign_note(text: str, name: str, key: Ed25519PrivateKey) -> Signature:
    """An Ed25519 note signature (type 0x01) over `text`."""
    _check_name(name)
    return Signature(name, key_id(name, ED25519, raw_public_key(key)), key.sign(text.encode()))


def _verifies(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_note(note: Note, known: list[Verifier]) -> list[Verifier]:
    """The known keys whose signatures verify; unknown ones are ignored. A known key's signature that
    fails makes the whole note invalid (NoteError), and so does a note with none of the known keys."""
    verified: list[Verifier] = []
    for sig in note.signatures:
        for v in known:
            if (v.name, v.key_id) != (sig.name, sig.key_id) or v.sig_type != ED25519:
                continue
            if not _verifies(v.public_key, sig.signature, note.text.encode()):
                raise NoteError(f"the signature of {v.name} does not verify")
            verified.append(v)
    if not verified:
        raise NoteError("no signature from a known key")
    return verified


# --- checkpoints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointText:
    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.tree_size), base64.b64encode(self.root_hash).decode(), *self.extensions]
        return "\n".join(lines) + "\n"


def checkpoint_text(origin: str, tree_size: int, root_hash: bytes) -> str:
    return CheckpointText(origin, tree_size, root_hash).text()


def parse_checkpoint(text: str) -> CheckpointText:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise NoteError("a checkpoint is at least three non-empty lines, each ending in a newline")
    origin, size, root = lines[0], lines[1], lines[2]
    if not size.isascii() or not size.isdigit() or (size != "0" and size.startswith("0")):
        raise NoteError(f"tree size {size!r} is not a decimal without leading zeroes")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except binascii.Error as exc:
        raise NoteError("the root hash is not base64") from exc
    return CheckpointText(origin, int(size), root_hash, tuple(lines[3:-1]))


# --- cosignatures ---------------------------------------------------------------------------


def cosignature_message(timestamp: int, checkpoint: str) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint}".encode()


def cosign(checkpoint: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> Signature:
    """A timestamped Ed25519 cosignature (tlog-cosignature v1) of a checkpoint's text."""
    _check_name(name)
    if not 0 < timestamp < 2**63:
        raise NoteError("a cosignature timestamp is a positive POSIX time")
    signature = key.sign(cosignature_message(timestamp, checkpoint))
    return Signature(name, key_id(name, COSIGNATURE_V1, raw_public_key(key)), _U64.pack(timestamp) + signature)


def cosignature_time(sig: Signature) -> int:
    if len(sig.signature) != 8 + 64:
        raise NoteError(f"cosignature of {sig.name}: not a timestamped Ed25519 signature")
    return int(_U64.unpack(sig.signature[:8])[0])


def verify_cosignature(sig: Signature, checkpoint: str, verifier: Verifier) -> int | None:
    """The cosignature's timestamp when it is `verifier`'s and verifies over `checkpoint`, else None."""
    if verifier.sig_type != COSIGNATURE_V1 or (sig.name, sig.key_id) != (verifier.name, verifier.key_id):
        return None
    try:
        timestamp = cosignature_time(sig)
    except NoteError:
        return None
    message = cosignature_message(timestamp, checkpoint)
    return timestamp if _verifies(verifier.public_key, sig.signature[8:], message) else None
