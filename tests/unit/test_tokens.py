"""Tokens: RS256/ES256 against a JWKS file chosen by kid, HS256 only with a real or embedded secret,
expiry and not-before with a bounded clock skew, and settings that refuse to start without a key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from infrastructure.settings import DEV_SECRET, Settings
from infrastructure.tokens import InvalidToken, Verifier, issue

SECRET = "test-secret-key-for-gongjian-tests-0123456789"
PG = "postgresql://postgres@127.0.0.1:5432/test"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "u-1",
        "role": "reviewer",
        "org": "460100-zjj",
        "region": "460100",
        "name": "审查员",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


def _jwks(path: Path, *keys: tuple[str, Any]) -> str:
    entries = []
    for kid, private in keys:
        if isinstance(private, rsa.RSAPrivateKey):
            jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
        entries.append({**jwk, "kid": kid, "use": "sig"})
    path.write_text(json.dumps({"keys": entries}))
    return str(path)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    """A token built by hand, as an attacker would (PyJWT refuses to make these)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest() if key else b""
    return f"{signing_input}.{_b64(signature)}"


@pytest.fixture
def jwks_file(tmp_path: Path) -> str:
    return _jwks(tmp_path / "jwks.json", ("rsa-2026", RSA_KEY), ("ec-2026", EC_KEY))


def test_rs256_and_es256_tokens_signed_by_a_key_of_the_set_verify(jwks_file: str) -> None:
    tokens = Verifier(jwks_file=jwks_file)
    rs = jwt.encode(_claims(sub="rs"), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-2026"})
    es = jwt.encode(_claims(sub="es"), EC_KEY, algorithm="ES256", headers={"kid": "ec-2026"})
    assert tokens.decode(rs)["sub"] == "rs"
    assert tokens.decode(es)["sub"] == "es"


def test_a_token_naming_an_unknown_kid_is_refused(jwks_file: str) -> None:
    token = jwt.encode(_claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-2025"})
    with pytest.raises(InvalidToken, match="unknown key id"):
        Verifier(jwks_file=jwks_file).decode(token)


def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(jwks_file: str) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(), stranger, algorithm="RS256", headers={"kid": "rsa-2026"})
    with pytest.raises(InvalidToken):
        Verifier(jwks_file=jwks_file).decode(token)


def test_the_algorithm_comes_from_the_key_not_from_the_token(jwks_file: str) -> None:
    # an ES256 signature presented under the RSA key's kid
    token = jwt.encode(_claims(), EC_KEY, algorithm="ES256", headers={"kid": "rsa-2026"})
    with pytest.raises(InvalidToken):
        Verifier(jwks_file=jwks_file).decode(token)


@pytest.mark.parametrize("kid", ["rsa-2026", None])
def test_alg_none_is_refused(jwks_file: str, kid: str | None) -> None:
    header = {"alg": "none", "typ": "JWT", **({"kid": kid} if kid else {})}
    with pytest.raises(InvalidToken):
        Verifier(secret=SECRET, jwks_file=jwks_file).decode(_forged(header, _claims(), None))


@pytest.mark.parametrize("kid", ["rsa-2026", None])
def test_hs256_keyed_with_the_public_key_is_refused(jwks_file: str, kid: str | None) -> None:
    # the classic confusion attack: the public key (which anyone has) used as an HMAC secret
    pem = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}
    with pytest.raises(InvalidToken):
        Verifier(jwks_file=jwks_file).decode(_forged(header, _claims(), pem))


def test_hs256_tokens_are_refused_when_no_secret_is_configured(jwks_file: str) -> None:
    with pytest.raises(InvalidToken, match="no key"):
        Verifier(secret=None, jwks_file=jwks_file).decode(issue(SECRET, "u", "reviewer", "o", "460100"))


def test_hs256_tokens_verify_with_the_configured_secret() -> None:
    assert Verifier(secret=SECRET).decode(issue(SECRET, "u", "reviewer", "o", "460100"))["sub"] == "u"


def test_expiry_is_forgiven_within_the_clock_skew_and_not_beyond(jwks_file: str) -> None:
    tokens = Verifier(jwks_file=jwks_file, leeway_s=30)
    now = int(time.time())
    slightly = jwt.encode(_claims(iat=now - 600, exp=now - 10), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-2026"})
    long_ago = jwt.encode(_claims(iat=now - 600, exp=now - 60), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-2026"})
    assert tokens.decode(slightly)["sub"] == "u-1"
    with pytest.raises(InvalidToken, match="expired"):
        tokens.decode(long_ago)


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_a_token_not_yet_valid_beyond_the_skew_is_refused(jwks_file: str, claim: str) -> None:
    tokens = Verifier(jwks_file=jwks_file, leeway_s=30)
    now = int(time.time())
    soon = jwt.encode(_claims(**{claim: now + 10}), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-2026"})
    later = jwt.encode(_claims(**{claim: now + 120}), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-2026"})
    assert tokens.decode(soon)["sub"] == "u-1"
    with pytest.raises(InvalidToken, match="not yet valid"):
        tokens.decode(later)


@pytest.mark.parametrize("missing", ["sub", "role", "org", "region", "exp", "iat"])
def test_a_token_without_a_required_claim_is_refused(jwks_file: str, missing: str) -> None:
    claims = _claims()
    del claims[missing]
    token = jwt.encode(claims, RSA_KEY, algorithm="RS256", headers={"kid": "rsa-2026"})
    with pytest.raises(InvalidToken):
        Verifier(jwks_file=jwks_file).decode(token)


def test_issuer_and_audience_are_required_when_configured(jwks_file: str) -> None:
    tokens = Verifier(jwks_file=jwks_file, issuer="https://idp.hainan.gov.cn", audience="gongjian")
    good = _claims(iss="https://idp.hainan.gov.cn", aud="gongjian")
    assert tokens.decode(jwt.encode(good, RSA_KEY, algorithm="RS256", headers={"kid": "rsa-2026"}))
    for bad in (_claims(aud="gongjian"), _claims(iss="https://idp.hainan.gov.cn", aud="other")):
        with pytest.raises(InvalidToken):
            tokens.decode(jwt.encode(bad, RSA_KEY, algorithm="RS256", headers={"kid": "rsa-2026"}))


def test_rotating_the_key_file_takes_effect_without_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    tokens = Verifier(jwks_file=_jwks(path, ("old", RSA_KEY)))
    old = jwt.encode(_claims(), RSA_KEY, algorithm="RS256", headers={"kid": "old"})
    new = jwt.encode(_claims(), EC_KEY, algorithm="ES256", headers={"kid": "new"})
    assert tokens.decode(old)
    _jwks(path, ("new", EC_KEY))
    os.utime(path, (time.time() + 5, time.time() + 5))  # a new mtime even within the clock's resolution
    assert tokens.decode(new)
    with pytest.raises(InvalidToken, match="unknown key id"):
        tokens.decode(old)


def test_a_symmetric_key_in_the_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{"kty": "oct", "kid": "k", "k": _b64(b"x" * 32)}]}))
    with pytest.raises(ValueError, match="algorithm HS256"):
        Verifier(jwks_file=str(path))


def test_production_refuses_to_start_with_the_development_key_and_no_key_set() -> None:
    with pytest.raises(ValueError, match="GONGJIAN_JWT_JWKS_FILE"):
        Settings(database_url=PG, jwt_secret=DEV_SECRET)
    with pytest.raises(ValueError, match="GONGJIAN_JWT_JWKS_FILE"):
        Settings(database_url=PG, jwt_secret="")


@pytest.mark.parametrize("secret", ["short", "changeme-changeme-changeme-changeme", "a" * 40])
def test_placeholder_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="GONGJIAN_JWT_SECRET"):
        Settings(database_url=PG, jwt_secret=secret)


def test_production_with_a_key_set_accepts_no_development_tokens(jwks_file: str) -> None:
    settings = Settings(database_url=PG, jwt_jwks_file=jwks_file)  # secret left at the development key
    assert settings.jwt_hs256_secret is None
    with pytest.raises(ValueError, match="JWKS file"):
        Settings(database_url=PG, jwt_jwks_file=jwks_file + ".missing")


def test_the_embedded_default_keeps_the_development_key() -> None:
    assert Settings(database_url="sqlite:///var/gongjian.db").jwt_hs256_secret == DEV_SECRET


@pytest.mark.parametrize(
    "url", ["sqlite:///var/x.db", "sqlite:////srv/county/gongjian.db", "sqlite:///var/gongjian.db?x=1", PG]
)
def test_any_other_store_refuses_the_development_key_without_the_switch(url: str) -> None:
    with pytest.raises(ValueError, match="GONGJIAN_DEVELOPMENT"):
        Settings(database_url=url)


def test_the_development_switch_turns_development_mode_on_for_another_store() -> None:
    settings = Settings(database_url="sqlite:////srv/county/gongjian.db", development=True)
    assert settings.development_mode and settings.jwt_hs256_secret == DEV_SECRET
    production = Settings(
        database_url="sqlite:////srv/county/gongjian.db", jwt_secret="k" * 8 + "0123456789abcdefghijklmnopqrstuv"
    )
    assert not production.development_mode
