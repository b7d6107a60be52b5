"""Fixed-window rate limits per key (a user, an address): in memory, or in Redis so
every gateway replica counts the same requests.

A window is ``window_seconds`` long and aligned to the clock; a key may make ``limit``
requests in it. Refused requests are answered 429 with ``Retry-After`` = the seconds
left in the window. Redis: ``INCR`` the window's key and give it a TTL in one pipeline
(``<namespace>:gw:rl:<key>:<window>``), so the counters expire on their own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int = 0


class Limiter(Protocol):
    async def hit(self, key: str, limit: int) -> Decision: ...

    async def close(self) -> None: ...


class MemoryLimiter:
    def __init__(self, window_seconds: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.window, self._clock = window_seconds, clock
        self._counts: dict[tuple[str, int], int] = {}

    async def hit(self, key: str, limit: int) -> Decision:
        now = self._clock()
        window = int(now // self.window)
        if len(self._counts) > 100_000:  # forget past windows
            self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
        count = self._counts.get((key, window), 0) + 1
        self._counts[(key, window)] = count
        if count <= limit:
            return Decision(True)
        return Decision(False, max(1, math.ceil((window + 1) * self.window - now)))

    async def close(self) -> None:
        return None


class RedisLimiter:
    def __init__(self, url: str, window_seconds: int, namespace: str = "saldo",
                 clock: Callable[[], float] = time.time) -> None:
        import redis.asyncio as aioredis

        self.window, self._clock, self.namespace = window_seconds, clock, namespace
        self._redis: Any = aioredis.Redis.from_url(url, socket_connect_timeout=1,
                                                   socket_timeout=1)

    async def hit(self, key: str, limit: int) -> Decision:
        now = self._clock()
        window = int(now // self.window)
        name = f"{self.namespace}:gw:rl:{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, self.window + 1)
            count, _ = await pipe.execute()
        if int(count) <= limit:
            return Decision(True)
        return Decision(False, max(1, math.ceil((window + 1) * self.window - now)))

    async def close(self) -> None:
        await self._redis.aclose()
