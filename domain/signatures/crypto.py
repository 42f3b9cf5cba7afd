"""签章算法 — signing and verification with the national algorithms (SM2 over SM3, GM/T 0003 with
the standard signer id) and, as options, Ed25519 and ECDSA P-256 from `cryptography`.

Pure functions over bytes: no I/O, no clock. Randomness (keys, SM2's per-signature k) comes from
`secrets`, never from `random`. Encodings: SM2 public keys are uncompressed points (04‖x‖y, 65
bytes) and signatures r‖s (64 bytes), as gmssl and pysmx exchange them; Ed25519 keys and signatures
are raw (32/64 bytes); ECDSA P-256 keys are uncompressed points and signatures DER.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from domain.shared.errors import InvalidValue

SM2_SIGNER_ID = "1234567812345678"  # GM/T 0009 default user id (ENTL = 128 bits)


class Algorithm(StrEnum):
    """签名算法."""

    SM2 = "sm2-sm3"
    ED25519 = "ed25519"
    ECDSA_P256 = "ecdsa-p256-sha256"


class HashAlgorithm(StrEnum):
    """摘要算法 of documents and of the signature chain."""

    SM3 = "sm3"
    SHA256 = "sha256"


@dataclass(frozen=True)
class KeyPair:
    private_key: bytes
    public_key: bytes


# OpenSSL's SM3 (hashlib when its OpenSSL offers it, else `cryptography`'s): identical digests to
# pysmx's pure-Python one, about 1,000 times faster (a licence hashes its content three times).
_HASHLIB_SM3 = "sm3" in hashlib.algorithms_available


def sm3(data: bytes) -> bytes:
    if _HASHLIB_SM3:
        return hashlib.new("sm3", data).digest()
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def digest(algorithm: HashAlgorithm | str, data: bytes) -> bytes:
    if HashAlgorithm(algorithm) == HashAlgorithm.SM3:
        return sm3(data)
    return hashlib.sha256(data).digest()


def check_algorithm(value: str, field: str = "algorithm") -> Algorithm:
    try:
        return Algorithm(value)
    except ValueError:
        raise InvalidValue(field, f"one of {[a.value for a in Algorithm]}", "algorithm_unknown") from None


def check_hash(value: str, algorithm: str, field: str = "document_hash") -> str:
    """A lower-case hex digest of the right length for its algorithm (both sm3 and sha256: 32 bytes)."""
    try:
        HashAlgorithm(algorithm)
    except ValueError:
        raise InvalidValue("hash_algorithm", "sm3 or sha256", "hash_algorithm_unknown") from None
    text = value.strip().lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise InvalidValue(field, f"a {algorithm} digest: 64 hex digits", "hash_format")
    return text


def _sm2() -> ModuleType:
    """pysmx's SM2, imported on first use: importing pysmx builds its SM9 tables (≈ 0.2 s), which
    every process (each command-line call, each server) paid though few ever sign with SM2."""
    from pysmx import SM2

    return SM2


def generate_keypair(algorithm: Algorithm | str) -> KeyPair:
    algo = Algorithm(algorithm)
    if algo == Algorithm.SM2:
        pair = _sm2().generate_keypair()  # private scalar from secrets, in [1, n-1]
        return KeyPair(bytes(pair.privateKey), b"\x04" + bytes(pair.publicKey))
    if algo == Algorithm.ED25519:
        ed = ed25519.Ed25519PrivateKey.generate()
        raw = serialization.Encoding.Raw
        return KeyPair(
            ed.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()),
            ed.public_key().public_bytes(raw, serialization.PublicFormat.Raw),
        )
    p256 = ec.generate_private_key(ec.SECP256R1())
    return KeyPair(
        p256.private_numbers().private_value.to_bytes(32, "big"),
        p256.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint),
    )


def sign(algorithm: Algorithm | str, private_key: bytes, message: bytes) -> bytes:
    algo = Algorithm(algorithm)
    if algo == Algorithm.SM2:
        sm2 = _sm2()
        while True:  # a degenerate k (r = 0, r + k = n, s = 0) gives None: draw another
            k = f"{secrets.randbelow(sm2.sm2_N - 1) + 1:064x}"
            signature = sm2.Sign(message, private_key.hex(), k, 64, uid=SM2_SIGNER_ID)
            if signature:
                return bytes(signature)
    if algo == Algorithm.ED25519:
        return ed25519.Ed25519PrivateKey.from_private_bytes(private_key).sign(message)
    key = ec.derive_private_key(int.from_bytes(private_key, "big"), ec.SECP256R1())
    return key.sign(message, ec.ECDSA(hashes.SHA256()))


def verify(algorithm: Algorithm | str, public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True only for a well-formed signature by the key over the message; never raises on bad input."""
    try:
        algo = Algorithm(algorithm)
        if algo == Algorithm.SM2:
            return _verify_sm2(public_key, message, signature)
        if algo == Algorithm.ED25519:
            ed25519.Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
            return True
        point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
        point.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def _verify_sm2(public_key: bytes, message: bytes, signature: bytes) -> bool:
    if len(public_key) != 65 or public_key[0] != 4 or len(signature) != 64:
        return False
    sm2 = _sm2()
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (0 < r < sm2.sm2_N and 0 < s < sm2.sm2_N):  # GM/T 0003 B1, B2: pysmx does not check them
        return False
    return bool(sm2.Verify(signature, message, public_key[1:].hex(), 64, uid=SM2_SIGNER_ID))


def check_public_key(algorithm: Algorithm | str, public_key: bytes) -> bytes:
    """A public key of the algorithm's encoding (refused with 422 otherwise)."""
    algo = Algorithm(algorithm)
    expected = {Algorithm.SM2: 65, Algorithm.ED25519: 32, Algorithm.ECDSA_P256: 65}[algo]
    if len(public_key) != expected or (algo != Algorithm.ED25519 and public_key[0] != 4):
        raise InvalidValue("public_key", f"a {algo.value} public key of {expected} bytes", "public_key_format")
    return public_key
