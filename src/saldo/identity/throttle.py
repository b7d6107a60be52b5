"""Login throttling: repeated failures lock a username (or a client address) for a while.

The rule, the same in both implementations:

* failures are counted per key within a window (``window`` seconds from the first);
* the ``threshold``-th failure locks the key for ``base`` seconds; once a key has been
  locked, every further failure locks it again at once, for twice as long as the last
  time (up to ``cap``) -- growing back-off against slow guessing;
* while locked, attempts are refused before the password is even checked, so a correct
  password does not get through either (and the attacker learns nothing);
* a successful login clears its username's record. The address record is not cleared by
  success: an attacker with one valid account must not reset the address counter.

One node keeps the counters in memory; several nodes share them in Redis (set
``SALDO_REDIS_URL``), where one Lua script updates a key atomically.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    threshold: int = 5
    window: float = 900.0
    base: float = 30.0
    cap: float = 3600.0

    @property
    def keep(self) -> float:
        """How long a key's record outlives its last failure (the back-off memory)."""
        return max(self.window, self.cap) * 2


@dataclass(frozen=True, slots=True)
class ThrottleKey:
    """What is counted (``user:nino``, ``addr:10.0.0.7``) under which policy."""

    name: str
    policy: ThrottlePolicy


class LoginLimiter(Protocol):
    async def locked_for(self, keys: Sequence[ThrottleKey]) -> float:
        """Seconds until every key is unlocked; 0 when none is locked."""

    async def failed(self, keys: Sequence[ThrottleKey]) -> None:
        """Count a failed login against each key."""

    async def succeeded(self, key: ThrottleKey) -> None:
        """Forget a key's failures and back-off."""


@dataclass(slots=True)
class _State:
    count: int = 0
    window_end: float = 0.0
    locked_until: float = 0.0
    strikes: int = 0
    expires: float = 0.0


def _after_failure(state: _State, now: float, policy: ThrottlePolicy) -> _State:
    """The rule above, as a function (the Lua script below is its twin)."""
    if state.window_end <= now:
        state.count, state.window_end = 0, now + policy.window
    state.count += 1
    if state.count >= (1 if state.strikes else policy.threshold):
        state.locked_until = now + min(policy.base * 2**state.strikes, policy.cap)
        state.strikes += 1
        state.count = 0
    state.expires = now + policy.keep
    return state


class MemoryLimiter:
    """Counters in this process (one node). Old records are pruned as it grows."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self._clock, self._max_keys = clock, max_keys
        self._states: dict[str, _State] = {}

    async def locked_for(self, keys: Sequence[ThrottleKey]) -> float:
        now = self._clock()
        waits = [s.locked_until - now for k in keys if (s := self._states.get(k.name))]
        return max([0.0, *waits])

    async def failed(self, keys: Sequence[ThrottleKey]) -> None:
        now = self._clock()
        if len(self._states) >= self._max_keys:
            self._states = {k: s for k, s in self._states.items() if s.expires > now}
        for key in keys:
            state = self._states.get(key.name)
            if state is None or state.expires <= now:
                state = _State()
            self._states[key.name] = _after_failure(state, now, key.policy)

    async def succeeded(self, key: ThrottleKey) -> None:
        self._states.pop(key.name, None)


# KEYS[1]: the key's hash; ARGV: now, threshold, window, base, cap, keep (milliseconds).
_FAILURE_SCRIPT = """
local now = tonumber(ARGV[1])
local threshold, window = tonumber(ARGV[2]), tonumber(ARGV[3])
local base, cap, keep = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local h = redis.call('HMGET', KEYS[1], 'count', 'window_end', 'locked_until', 'strikes')
local count, window_end = tonumber(h[1]) or 0, tonumber(h[2]) or 0
local locked_until, strikes = tonumber(h[3]) or 0, tonumber(h[4]) or 0
if window_end <= now then
    count, window_end = 0, now + window
end
count = count + 1
local limit = threshold
if strikes > 0 then limit = 1 end
if count >= limit then
    locked_until = now + math.min(base * math.pow(2, strikes), cap)
    strikes = strikes + 1
    count = 0
end
redis.call('HSET', KEYS[1], 'count', count, 'window_end', window_end,
           'locked_until', math.floor(locked_until), 'strikes', strikes)
redis.call('PEXPIRE', KEYS[1], keep)
return 1
"""


class RedisLimiter:
    """Counters shared by every node through Redis; one atomic script per failure."""

    def __init__(self, redis: Redis, prefix: str = "saldo:login:",
                 clock: Callable[[], float] = time.time) -> None:
        self._redis, self._prefix, self._clock = redis, prefix, clock
        self._failure: Any = redis.register_script(_FAILURE_SCRIPT)

    @classmethod
    def from_url(cls, url: str, prefix: str = "saldo:login:") -> RedisLimiter:
        return cls(Redis.from_url(url), prefix)

    async def close(self) -> None:
        await self._redis.aclose()

    async def locked_for(self, keys: Sequence[ThrottleKey]) -> float:
        now_ms = self._clock() * 1000
        wait = 0.0
        for key in keys:
            value = await self._redis.hget(self._prefix + key.name, "locked_until")
            if value is not None:
                wait = max(wait, (float(value) - now_ms) / 1000)
        return wait

    async def failed(self, keys: Sequence[ThrottleKey]) -> None:
        now_ms = math.floor(self._clock() * 1000)
        for key in keys:
            p = key.policy
            await self._failure(
                keys=[self._prefix + key.name],
                args=[now_ms, p.threshold, math.ceil(p.window * 1000), math.ceil(p.base * 1000),
                      math.ceil(p.cap * 1000), math.ceil(p.keep * 1000)],
            )

    async def succeeded(self, key: ThrottleKey) -> None:
        await self._redis.delete(self._prefix + key.name)
