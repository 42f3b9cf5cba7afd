"""密钥库 — where seals' private keys live, so that no key ever enters an event.

`KeyStore` is the interface the signing service uses; `EncryptedFileKeyStore` is the embedded
default: one file per key, AES-256-GCM under a key derived by scrypt from
GONGJIAN_KEYSTORE_PASSPHRASE (the key id is the associated data, so files cannot be swapped).
The public development passphrase is refused outside the embedded SQLite default (Settings refuse
to start with it; the store checks again at first use). `MemoryKeyStore` is for tests.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

DEV_PASSPHRASE = "gongjian-embedded-development-keystore-passphrase"  # noqa: S105
_KEY_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class KeyStoreError(Exception):
    """The key store cannot be used: unknown key, wrong passphrase, or refused configuration."""


class KeyStore(Protocol):
    def put(self, key_id: str, private_key: bytes) -> None: ...

    def get(self, key_id: str) -> bytes: ...


class MemoryKeyStore:
    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}

    def put(self, key_id: str, private_key: bytes) -> None:
        self._keys[key_id] = private_key

    def get(self, key_id: str) -> bytes:
        try:
            return self._keys[key_id]
        except KeyError:
            raise KeyStoreError(f"no private key {key_id} in the key store") from None


class EncryptedFileKeyStore:
    def __init__(self, directory: str | Path, passphrase: str, *, allow_dev_passphrase: bool) -> None:
        self.directory = Path(directory)
        self._passphrase = passphrase
        self._allow_dev = allow_dev_passphrase
        self._aead: AESGCM | None = None
        self._lock = threading.Lock()

    def put(self, key_id: str, private_key: bytes) -> None:
        path = self._path(key_id)
        if path.exists():
            raise KeyStoreError(f"key {key_id} exists already; keys are never overwritten")
        nonce = os.urandom(12)
        sealed = self._cipher().encrypt(nonce, private_key, key_id.encode())
        body = json.dumps({"v": 1, "nonce": _b64(nonce), "ciphertext": _b64(sealed)})
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body)

    def get(self, key_id: str) -> bytes:
        path = self._path(key_id)
        if not path.exists():
            raise KeyStoreError(f"no private key {key_id} in the key store")
        body = json.loads(path.read_text(encoding="utf-8"))
        try:
            return self._cipher().decrypt(
                base64.b64decode(body["nonce"]), base64.b64decode(body["ciphertext"]), key_id.encode()
            )
        except InvalidTag:
            raise KeyStoreError(f"key {key_id} does not decrypt: wrong passphrase or altered file") from None

    def _path(self, key_id: str) -> Path:
        if not _KEY_ID.match(key_id):
            raise KeyStoreError(f"invalid key id {key_id!r}")
        return self.directory / f"{key_id}.key"

    def _cipher(self) -> AESGCM:
        with self._lock:
            if self._aead is None:
                if self._passphrase == DEV_PASSPHRASE and not self._allow_dev:
                    raise KeyStoreError(
                        "set GONGJIAN_KEYSTORE_PASSPHRASE: the development passphrase is refused "
                        "outside the embedded SQLite default"
                    )
                if len(self._passphrase) < 16:
                    raise KeyStoreError("GONGJIAN_KEYSTORE_PASSPHRASE must be at least 16 characters")
                self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                kdf = Scrypt(salt=self._salt(), length=32, n=2**15, r=8, p=1)
                self._aead = AESGCM(kdf.derive(self._passphrase.encode()))
            return self._aead

    def _salt(self) -> bytes:
        path = self.directory / "keystore.salt"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(fd, "wb") as f:
            salt = os.urandom(16)
            f.write(salt)
        return salt


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
