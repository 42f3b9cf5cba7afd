"""令牌 — bearer tokens (JWT) carrying who acts: sub, role, org, region, name.

Production verifies RS256/ES256 tokens against a JWKS file (`GONGJIAN_JWT_JWKS_FILE`), the key chosen
by the token's `kid` and the algorithm by the key, never by the token. HS256 with a shared secret is
kept for the embedded default and for deployments that set a real secret; `issue` signs those.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from jwt import PyJWK, PyJWKSet

ALGORITHM = "HS256"
# asymmetric algorithms a key set may name; symmetric ("oct") keys never belong in a public key file
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"})
REQUIRED_CLAIMS = ("sub", "role", "org", "region", "exp", "iat")


class InvalidToken(Exception):
    """令牌无效 — missing, malformed, badly signed or expired token (maps to 401)."""


def issue(
    secret: str,
    sub: str,
    role: str,
    org: str,
    region: str,
    name: str = "",
    ttl_hours: float = 12,
    now: datetime | None = None,
) -> str:
    """Sign an HS256 token valid for `ttl_hours` from `now` (default: the current time)."""
    issued = now or datetime.now(UTC)
    claims = {
        "sub": sub,
        "role": role,
        "org": org,
        "region": region,
        "name": name,
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(hours=ttl_hours)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def load_key_set(path: str) -> PyJWKSet:
    """A JWKS file of public keys, each with a `kid`; raises ValueError when unusable."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        keys = PyJWKSet.from_dict(data)
    except (OSError, ValueError, jwt.PyJWTError) as exc:
        raise ValueError(f"JWKS file {path}: {exc}") from exc
    for key in keys:
        if not key.key_id:
            raise ValueError(f"JWKS file {path}: every key needs a kid")
        if key.algorithm_name not in ASYMMETRIC:
            raise ValueError(f"JWKS file {path}: key {key.key_id} has algorithm {key.algorithm_name}")
    return keys


@dataclass
class Verifier:
    """Checks signature, algorithm, `exp`, `nbf` and `iat` (with `leeway_s` of clock skew) and the claims.

    The JWKS file is re-read when its modification time changes: rotating a key is adding the new
    one to the file, issuing with it, and removing the old one once its tokens have expired.
    """

    secret: str | None = None  # HS256 shared secret; None refuses HS256 tokens
    jwks_file: str | None = None
    leeway_s: float = 30.0
    issuer: str | None = None
    audience: str | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: PyJWKSet | None = None
        self._mtime: float | None = None
        if self.jwks_file:
            self._keys, self._mtime = load_key_set(self.jwks_file), os.stat(self.jwks_file).st_mtime

    def _key_set(self) -> PyJWKSet | None:
        if not self.jwks_file:
            return None
        try:
            mtime = os.stat(self.jwks_file).st_mtime
        except OSError:
            return self._keys  # keep the last good set while the file is being replaced
        if mtime != self._mtime:
            # a half-written file: keep the last good set, retry next time
            with self._lock, contextlib.suppress(ValueError):
                self._keys, self._mtime = load_key_set(self.jwks_file), mtime
        return self._keys

    def _key_for(self, header: dict[str, Any]) -> tuple[Any, str]:
        alg, kid = header.get("alg"), header.get("kid")
        keys = self._key_set()
        if kid is not None:
            if keys is None or not isinstance(kid, str):
                raise InvalidToken("the token names a key (kid) but no key set is configured")
            try:
                key: PyJWK = keys[kid]
            except KeyError:
                raise InvalidToken(f"unknown key id {kid!r}") from None
            return key.key, str(key.algorithm_name)
        if alg == ALGORITHM and self.secret:
            return self.secret, ALGORITHM
        raise InvalidToken("the token names no key (kid) of the configured key set")

    def decode(self, token: str) -> dict[str, Any]:
        """The verified claims, or InvalidToken."""
        try:
            key, algorithm = self._key_for(jwt.get_unverified_header(token))
            # the algorithm comes from the key: a token cannot pick `none`, or HS256 keyed with a public key
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                leeway=self.leeway_s,
                issuer=self.issuer,
                audience=self.audience,
                options={
                    "require": [
                        *REQUIRED_CLAIMS,
                        *(["iss"] if self.issuer else []),
                        *(["aud"] if self.audience else []),
                    ],
                    "verify_aud": self.audience is not None,
                },
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("the token is not yet valid (nbf/iat in the future)") from None
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"invalid token: {exc}") from None
        for claim in ("sub", "role", "org", "region"):
            if not isinstance(claims.get(claim), str):
                raise InvalidToken(f"claim {claim} must be a string")
        if not isinstance(claims.setdefault("name", ""), str):
            raise InvalidToken("claim name must be a string")
        return claims


_verifiers: dict[tuple[object, ...], Verifier] = {}


def verifier(settings: Any) -> Verifier:
    """The verifier of these settings, built once (the key set is loaded and then watched)."""
    key = (
        settings.jwt_hs256_secret,
        settings.jwt_jwks_file,
        settings.jwt_leeway_s,
        settings.jwt_issuer,
        settings.jwt_audience,
    )
    found = _verifiers.get(key)
    if found is None:
        found = _verifiers[key] = Verifier(*key)
    return found


def decode(secret: str, token: str) -> dict[str, Any]:
    """Verify an HS256 token with `secret` (default leeway); returns the claims or raises InvalidToken."""
    return Verifier(secret=secret).decode(token)
