"""实时推送 — fan-out of live messages (GraphQL subscriptions).

Through Redis pub/sub when GONGJIAN_REDIS_URL is set, so a projection runner in another process
reaches every API process; in-process otherwise, or whenever Redis fails (then only subscribers
in the publishing process hear it). Never the source of truth: a missed message is still in the
read model.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import redis
import redis.asyncio as aioredis

log = logging.getLogger(__name__)
PREFIX = "gongjian:live:"


class Broadcaster:
    def __init__(self, redis_url: str | None = None) -> None:
        self.redis_url = redis_url
        self._client: redis.Redis | None = None
        self._lock = threading.Lock()
        self._local: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[dict[str, Any]]]]] = {}

    def publish(self, topic: str, message: dict[str, Any]) -> None:
        """Called from any thread (the projection engine's, typically), after the rows committed."""
        if self.redis_url and self._publish_redis(topic, message):
            return
        with self._lock:
            listeners = list(self._local.get(topic, ()))
        for loop, queue in listeners:
            loop.call_soon_threadsafe(queue.put_nowait, message)

    def _publish_redis(self, topic: str, message: dict[str, Any]) -> bool:
        try:
            if self._client is None:
                assert self.redis_url is not None
                self._client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
            self._client.publish(PREFIX + topic, json.dumps(message, ensure_ascii=False, default=str))
        except redis.RedisError as exc:
            log.warning("live messages fall back to in-process: Redis publish failed (%s)", exc)
            return False
        return True

    async def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]:
        """Yield messages of a topic until the consumer stops iterating."""
        if self.redis_url:
            try:
                client = aioredis.Redis.from_url(self.redis_url, socket_connect_timeout=0.5)
                pubsub = client.pubsub()
                await pubsub.subscribe(PREFIX + topic)
            except (redis.RedisError, OSError) as exc:
                log.warning("live subscription falls back to in-process: Redis unavailable (%s)", exc)
            else:
                try:
                    async for raw in pubsub.listen():
                        if raw.get("type") == "message":
                            yield json.loads(raw["data"])
                finally:
                    await pubsub.aclose()
                    await client.aclose()
                return
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._local.setdefault(topic, set()).add(entry)
        try:
            while True:
                yield await queue.get()
        finally:
            with self._lock:
                self._local[topic].discard(entry)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
