"""令牌 — bearer tokens (JWT, HS256) carrying who acts: sub, role, org, region, name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

ALGORITHM = "HS256"
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
    """Sign a token valid for `ttl_hours` from `now` (default: the current time)."""
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


def decode(secret: str, token: str) -> dict[str, Any]:
    """Verify signature and expiry; returns the claims or raises InvalidToken."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": list(REQUIRED_CLAIMS)}
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(f"invalid token: {exc}") from None
    for claim in ("sub", "role", "org", "region"):
        if not isinstance(claims.get(claim), str):
            raise InvalidToken(f"claim {claim} must be a string")
    claims.setdefault("name", "")
    return claims
