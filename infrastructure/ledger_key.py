"""账本签名密钥 — the Ed25519 key that signs ledger checkpoints.

`GONGJIAN_LEDGER_KEY_FILE` names a PEM (PKCS#8) private key. Unset, the embedded default keeps it in
`keys/ledger-ed25519.pem` next to its SQLite file (`var/keys/` for `sqlite:///var/gongjian.db`) and
generates it on first use; outside the embedded default a key is never generated (a missing
configured file is an error, and with none configured checkpoints stay unsigned — `audit verify`
says so). The public key is written beside it (`.pub.pem`) for verifiers.

Outside development mode the key may not sit in the store's directory (next to its SQLite file):
whoever copies or restores the database directory would get the key that signs its history with it.
The service refuses to start so (`LedgerKeyError` from `ledger_signer`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from infrastructure.db import DatabaseURL
from infrastructure.settings import Settings

log = logging.getLogger(__name__)
KEY_NAME = "ledger-ed25519.pem"


class LedgerKeyError(RuntimeError):
    """The checkpoint key is missing where it may not be generated, or is not an Ed25519 key."""


@dataclass(frozen=True)
class Ed25519Signer:
    key: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        return self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)


def default_key_path(settings: Settings) -> Path:
    url = DatabaseURL(settings.database_url)
    base = Path(url.path).parent if url.scheme == "sqlite" and url.path != ":memory:" else Path("var")
    return base / "keys" / KEY_NAME


def ledger_signer(settings: Settings) -> Ed25519Signer | None:
    """The configured signer; generated only on the embedded default; None when none is configured
    outside it (checkpoints are then recorded unsigned)."""
    if settings.ledger_key_file:
        path = Path(settings.ledger_key_file)
        if not path.exists() and not settings.development_mode:
            raise LedgerKeyError(
                f"GONGJIAN_LEDGER_KEY_FILE={path} does not exist (keys are generated only when embedded)"
            )
        if not settings.development_mode and beside_store(settings, path):
            raise LedgerKeyError(
                f"GONGJIAN_LEDGER_KEY_FILE={path} is in the directory of the store's SQLite file: keep the key"
                " that signs the log away from the log (another directory, another volume)"
            )
    elif settings.development_mode:
        path = default_key_path(settings)
    else:
        log.warning("GONGJIAN_LEDGER_KEY_FILE is not set: ledger checkpoints are recorded unsigned")
        return None
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process generated it first
            generate_key(path)
    return Ed25519Signer(load_key(path))


def beside_store(settings: Settings, key: Path) -> bool:
    """The key file is in the directory of the SQLite store (PostgreSQL has no such directory)."""
    url = DatabaseURL(settings.database_url)
    if url.scheme != "sqlite" or url.path == ":memory:":
        return False
    return key.resolve().parent == Path(url.path).resolve().parent


def generate_key(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    # create with 0600 (no window where others may read it); O_EXCL: never overwrite a key
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public_pem_path(path).write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    log.info("generated the ledger checkpoint key %s", path)
    return key


def load_key(path: Path) -> Ed25519PrivateKey:
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise LedgerKeyError(f"{path} is not an Ed25519 private key")
    return key


def public_pem_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".pem") + ".pub.pem")
