"""Known answers and interoperability of the national algorithms: SM3 vectors of GB/T 32905 and
SM2 signatures (GM/T 0003, signer id 1234567812345678) across two independent implementations:
ours (snowland-smx) and gmssl, each direction."""

from __future__ import annotations

import secrets

import pytest
from cryptography.hazmat.primitives import hashes
from gmssl import sm2 as gmssl_sm2
from gmssl import sm3 as gmssl_sm3
from hypothesis import given
from hypothesis import strategies as st

from domain.signatures.crypto import Algorithm, generate_keypair, sign, sm3, verify

SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)

# GB/T 32905-2016, Appendix A
SM3_VECTORS = {
    b"abc": "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
    b"abcd" * 16: "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732",
}


@pytest.mark.parametrize(("message", "expected"), SM3_VECTORS.items(), ids=["abc", "abcd*16"])
def test_sm3_gives_the_digests_of_the_standard(message: bytes, expected: str) -> None:
    assert sm3(message).hex() == expected
    assert gmssl_sm3.sm3_hash(list(message)) == expected


@given(st.binary(max_size=300))
def test_sm3_from_openssl_equals_the_pure_python_reference_on_any_bytes(data: bytes) -> None:
    # crypto.sm3 takes OpenSSL's SM3 (hashlib, or `cryptography` where hashlib lacks it)
    assert sm3(data).hex() == gmssl_sm3.sm3_hash(list(data))
    fallback = hashes.Hash(hashes.SM3())
    fallback.update(data)
    assert fallback.finalize() == sm3(data)


def _gmssl(private_key: bytes, public_key: bytes) -> gmssl_sm2.CryptSM2:
    # gmssl strips a leading "04" with lstrip("04"), eating 0/4 digits of x too: hand it bare x‖y
    return gmssl_sm2.CryptSM2(private_key=private_key.hex(), public_key=public_key[1:].hex())


def _keypair_gmssl_reads() -> tuple[bytes, bytes]:
    while True:  # avoid x‖y beginning with "04", which gmssl's constructor would corrupt
        pair = generate_keypair(Algorithm.SM2)
        if not pair.public_key[1:].hex().startswith("04"):
            return pair.private_key, pair.public_key


@pytest.mark.parametrize("message", [b"abc", "施工许可决定书".encode(), secrets.token_bytes(300)])
def test_an_sm2_signature_made_here_verifies_in_gmssl(message: bytes) -> None:
    private_key, public_key = _keypair_gmssl_reads()
    signature = sign(Algorithm.SM2, private_key, message)
    assert _gmssl(private_key, public_key).verify_with_sm3(signature.hex(), message)
    assert not _gmssl(private_key, public_key).verify_with_sm3(signature.hex(), message + b"!")


@pytest.mark.parametrize("message", [b"abc", "施工许可决定书".encode(), secrets.token_bytes(300)])
def test_an_sm2_signature_made_by_gmssl_verifies_here(message: bytes) -> None:
    private_key, public_key = _keypair_gmssl_reads()
    k = f"{secrets.randbelow(SM2_N - 1) + 1:064x}"
    signature = bytes.fromhex(_gmssl(private_key, public_key).sign_with_sm3(message, k))
    assert verify(Algorithm.SM2, public_key, message, signature)
    assert not verify(Algorithm.SM2, public_key, message[:-1] + b"\x00", signature)


def test_two_sm2_signatures_of_one_message_differ_because_k_is_random() -> None:
    pair = generate_keypair(Algorithm.SM2)
    assert sign(Algorithm.SM2, pair.private_key, b"m") != sign(Algorithm.SM2, pair.private_key, b"m")


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_a_flipped_bit_or_a_malformed_signature_does_not_verify(algorithm: Algorithm) -> None:
    pair = generate_keypair(algorithm)
    signature = bytearray(sign(algorithm, pair.private_key, b"document"))
    assert verify(algorithm, pair.public_key, b"document", bytes(signature))
    signature[len(signature) // 2] ^= 0x01
    assert not verify(algorithm, pair.public_key, b"document", bytes(signature))
    assert not verify(algorithm, pair.public_key, b"document", b"")
    assert not verify(algorithm, pair.public_key, b"document", b"\x00" * 64)
    assert not verify(algorithm, b"\x04" + b"\x01" * 64, b"document", bytes(signature))
