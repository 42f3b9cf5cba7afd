"""限额 — request body sizes (413), the nesting depth of JSON bodies (400) and requests per token
subject (429 with Retry-After), all as problem+json. GraphQL depth, aliases, tokens and cost are limited
by the schema's extensions.

Requests are counted by the `limits` library in Redis when GONGJIAN_REDIS_URL is set, so that every
worker shares one count, and in this process otherwise. Redis is never required: when it fails the count
falls back to this process for a while (looser, since each worker counts alone, but nothing stops).
"""

from __future__ import annotations

import logging
import math
import re
import time
from urllib.parse import parse_qsl

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infrastructure.settings import Settings
from infrastructure.tokens import InvalidToken, verifier
from interfaces.rest.errors import PROBLEM_BASE, problem_response

log = logging.getLogger(__name__)
EXEMPT = frozenset({"/health", "/metrics"})  # probes of load balancers and Prometheus
REDIS_RETRY_S = 30.0  # after a Redis failure, count in-process this long before trying again
PREFIX = "gongjian:ratelimit"
# whole table dumps and IFC models (BIM 图审): settings.max_body_bytes_bulk
BULK_PATHS = ("/api/v1/exchange/spgl", "/api/v1/industry/bim/", "/api/v1/catalogue/editions")


# JSON nested deeper than this is refused before any parser sees it: Python's json recurses (3,000
# levels raised RecursionError, 100,000 reset the connection), and so do pydantic, graphql-core and our
# own walkers. Our deepest documents are GeoJSON MultiPolygons inside a body: 6 levels.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_INNERMOST = re.compile(rb"\[\]|\{\}")


def too_deep(text: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays and objects deeper than `limit`, found without recursion: strings
    are dropped, then each pass removes the innermost bracket pairs, so the passes needed equal the
    depth. When a pass removes nothing the text is malformed (`[[[` never closed): what is left is
    counted bracket by bracket, since a parser recurses into it before it finds the error."""
    if text.count(b"[") + text.count(b"{") <= limit:
        return False  # most bodies: too few openers to nest that deep, strings included
    brackets = _JSON_STRING.sub(b"", text).translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        brackets, removed = _INNERMOST.subn(b"", brackets)
        if not removed:
            return _open_deeper_than(brackets, limit)
    return bool(brackets)


def _open_deeper_than(brackets: bytes, limit: int) -> bool:
    depth = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            return True
    return False


def _too_large(cap: int) -> str:
    return f"the request body is larger than {cap} bytes"


def _is_json(scope: Scope) -> bool:
    """FastAPI parses a body as JSON without a content type, or with application/json or …+json."""
    content_type = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
    return not content_type or content_type == b"application/json" or content_type.endswith(b"+json")


def _query_too_deep(scope: Scope) -> bool:
    """GraphQL over GET carries its variables and extensions as JSON in the query string."""
    query = scope.get("query_string", b"")
    if b"{" not in query and b"%7B" not in query.upper() and b"[" not in query and b"%5B" not in query.upper():
        return False
    pairs = parse_qsl(query.decode("latin-1"), encoding="utf-8", errors="replace")
    return any(too_deep(value.encode()) for key, value in pairs if key in ("variables", "extensions"))


def _deep_response() -> Response:
    return problem_response(
        400,
        PROBLEM_BASE + "too-deep",
        "JSON nested too deeply",
        f"the request's JSON nests arrays and objects deeper than {MAX_JSON_DEPTH} levels",
    )


class BodyLimit:
    """ASGI middleware: a body past the cap of its path is 413, told by Content-Length before anything
    is read, or, for a streamed body, as soon as the bytes read pass the cap. A JSON body is read whole
    (FastAPI and strawberry would read it whole anyway) and refused with 400 when nested deeper than
    MAX_JSON_DEPTH; so are GraphQL variables sent in a query string."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.cap = settings.max_body_bytes
        self.bulk_cap = settings.max_body_bytes_bulk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.bulk_cap if scope["path"].startswith(BULK_PATHS) else self.cap
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > cap:
            response = problem_response(413, PROBLEM_BASE + "too-large", "Content too large", _too_large(cap))
            await response(scope, receive, send)
            return
        if _query_too_deep(scope):
            await _deep_response()(scope, receive, send)
            return
        if _is_json(scope) and scope["method"] in ("POST", "PUT", "PATCH"):
            await self._json(scope, receive, send, cap)
            return
        read = 0

        async def counted() -> Message:
            nonlocal read
            message = await receive()
            read += len(message.get("body", b""))
            if read > cap:  # raised inside the app's body read: errors.py answers problem+json
                raise HTTPException(413, _too_large(cap))
            return message

        await self.app(scope, counted, send)

    async def _json(self, scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        chunks: list[bytes] = []
        read = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away: nobody to answer
            chunk = message.get("body", b"")
            read += len(chunk)
            if read > cap:
                response = problem_response(413, PROBLEM_BASE + "too-large", "Content too large", _too_large(cap))
                await response(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if too_deep(body):
            await _deep_response()(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # later calls wait for the disconnect, as the server's would
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class RateLimit:
    """ASGI middleware: each verified token subject (or, without a valid token, each client address)
    gets `settings.rate_limit` requests; past it, 429 problem+json with Retry-After."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.items: list[RateLimitItem] = parse_many(settings.rate_limit) if settings.rate_limit.strip() else []
        self.tokens = verifier(settings)
        self.redis_url = settings.redis_url
        self._shared: SlidingWindowCounterRateLimiter | None = None
        self._local: SlidingWindowCounterRateLimiter | None = None
        self._redis_down_until = 0.0

    def _limiters(self) -> tuple[SlidingWindowCounterRateLimiter | None, SlidingWindowCounterRateLimiter]:
        # built on first use: the storages bind to the running event loop
        if self._local is None:
            self._local = SlidingWindowCounterRateLimiter(MemoryStorage())
            if self.redis_url:
                storage: Storage = RedisStorage(
                    "async+" + self.redis_url,
                    implementation="redispy",
                    wrap_exceptions=True,
                    key_prefix=PREFIX,
                    socket_connect_timeout=0.5,
                    socket_timeout=0.5,
                )
                self._shared = SlidingWindowCounterRateLimiter(storage)
        shared = self._shared if time.monotonic() >= self._redis_down_until else None
        return shared, self._local

    def _subject(self, scope: Scope) -> str:
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            try:
                return "sub:" + self.tokens.decode(token.strip())["sub"]
            except InvalidToken:
                pass
        client = scope.get("client")
        return "ip:" + (client[0] if client else "unknown")

    async def _retry_after(self, subject: str) -> int | None:
        """None when the request may go on, else the seconds until it may be retried."""
        shared, local = self._limiters()
        limiter = shared or local
        try:
            return await self._check(limiter, subject)
        except StorageError as exc:
            log.warning("rate limit: Redis unavailable (%s); counting in-process for %ss", exc, REDIS_RETRY_S)
            self._redis_down_until = time.monotonic() + REDIS_RETRY_S
            return await self._check(local, subject)

    async def _check(self, limiter: SlidingWindowCounterRateLimiter, subject: str) -> int | None:
        for item in self.items:
            if not await limiter.hit(item, subject):
                reset_time, _ = await limiter.get_window_stats(item, subject)
                return max(1, math.ceil(reset_time - time.time()))
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.items or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        retry_after = await self._retry_after(self._subject(scope))
        if retry_after is None:
            await self.app(scope, receive, send)
            return
        response = problem_response(
            429,
            PROBLEM_BASE + "rate-limited",
            "Too many requests",
            f"the rate limit ({'; '.join(str(i) for i in self.items)}) is reached: retry after {retry_after}s",
            {"Retry-After": str(retry_after)},
        )
        await response(scope, receive, send)
