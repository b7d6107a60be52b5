"""Login throttling: repeated failures lock a username (or a client address) for a while.

The rule, the same in both implementations:

* failures are counted per key within a window (``window`` seconds from the first);
* the ``threshold``-th failure locks the key for ``base`` seconds; once a key has been
  locked, every further failure locks it again at once, for twice as long as the last
  time (up to ``cap``) -- growing back-off against slow guessing;
* while locked, attempts are refused before the password is even checked, so a correct
  password does not get through either (and the attacker learns nothing);
* a successful login clears its username's record. The address record is not cleared by
  success: an attacker with one valid account must not reset the address counter; the
  success only takes back its own reservation (below).

Atomicity: an attempt is *reserved* before the password is checked -- in one atomic step
the keys are checked for a lock and, if none is locked, the attempt is counted as a
failure against each of them (:meth:`LoginLimiter.reserve`). Concurrent guesses therefore
cannot all pass the check before any of them is counted: of 40 simultaneous wrong
passwords for one username, ``threshold`` are verified and the rest are refused. A
successful login then clears the username and refunds the address its reservation.

One node keeps the counters in memory (under an ``asyncio.Lock``); several nodes share
them in Redis (set ``SALDO_REDIS_URL``), where one Lua script checks and counts every key
of an attempt atomically.
"""

from __future__ import annotations

import asyncio
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


@dataclass(frozen=True, slots=True)
class Reservation:
    """The outcome of :meth:`LoginLimiter.reserve`: refused for ``wait`` seconds (nothing
    counted), or admitted (``wait == 0``) with the attempt counted as a failure against
    every key; ``locked`` names the keys this very attempt locked."""

    wait: float
    locked: frozenset[str] = frozenset()


class LoginLimiter(Protocol):
    async def locked_for(self, keys: Sequence[ThrottleKey]) -> float:
        """Seconds until every key is unlocked; 0 when none is locked."""

    async def reserve(self, keys: Sequence[ThrottleKey]) -> Reservation:
        """Atomically: if a key is locked, refuse; else count a failure against each key."""

    async def refund(self, key: ThrottleKey, reservation: Reservation) -> None:
        """Take back one reserved failure of ``key`` (the login succeeded)."""

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


def _after_failure(state: _State, now: float, policy: ThrottlePolicy) -> bool:
    """The rule above, as a function (the Lua script below is its twin). True when this
    failure locked the key."""
    if state.window_end <= now:
        state.count, state.window_end = 0, now + policy.window
    state.count += 1
    locked = state.count >= (1 if state.strikes else policy.threshold)
    if locked:
        state.locked_until = now + min(policy.base * 2**state.strikes, policy.cap)
        state.strikes += 1
        state.count = 0
    state.expires = now + policy.keep
    return locked


def _refund(state: _State, policy: ThrottlePolicy, locked: bool) -> None:
    """Undo one reserved failure (the Lua refund script is its twin)."""
    if locked:  # the reservation locked the key: lift that lock, restore the count
        state.strikes = max(state.strikes - 1, 0)
        state.locked_until = 0.0
        state.count = 0 if state.strikes else policy.threshold - 1
    else:
        state.count = max(state.count - 1, 0)


class MemoryLimiter:
    """Counters in this process (one node), at most ``max_keys`` of them: expired records
    are pruned first, then the least recently updated ones."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self._clock, self._max_keys = clock, max_keys
        #: In update order (an update re-inserts its key): the first is the oldest.
        self._states: dict[str, _State] = {}
        self._lock = asyncio.Lock()

    def _wait(self, keys: Sequence[ThrottleKey], now: float) -> float:
        waits = [s.locked_until - now for k in keys if (s := self._states.get(k.name))]
        return max([0.0, *waits])

    async def locked_for(self, keys: Sequence[ThrottleKey]) -> float:
        return self._wait(keys, self._clock())

    def _count(self, keys: Sequence[ThrottleKey], now: float) -> frozenset[str]:
        locked = set()
        for key in keys:
            state = self._states.pop(key.name, None)
            if state is None or state.expires <= now:
                state = _State()
            self._make_room(now)
            if _after_failure(state, now, key.policy):
                locked.add(key.name)
            self._states[key.name] = state  # now the newest
        return frozenset(locked)

    def _make_room(self, now: float) -> None:
        if len(self._states) < self._max_keys:
            return
        self._states = {k: s for k, s in self._states.items() if s.expires > now}
        for oldest in list(self._states)[: len(self._states) - self._max_keys + 1]:
            del self._states[oldest]

    async def reserve(self, keys: Sequence[ThrottleKey]) -> Reservation:
        async with self._lock:  # check and count in one step
            now = self._clock()
            wait = self._wait(keys, now)
            if wait > 0:
                return Reservation(wait)
            return Reservation(0.0, self._count(keys, now))

    async def refund(self, key: ThrottleKey, reservation: Reservation) -> None:
        async with self._lock:
            if (state := self._states.get(key.name)) is not None:
                _refund(state, key.policy, key.name in reservation.locked)

    async def failed(self, keys: Sequence[ThrottleKey]) -> None:
        async with self._lock:
            self._count(keys, self._clock())

    async def succeeded(self, key: ThrottleKey) -> None:
        async with self._lock:
            self._states.pop(key.name, None)


# The failure rule for one key (KEYS[i]) with its policy at ARGV[o+1..o+5]; returns 1 when
# it locked the key. Shared by both scripts below.
_FAIL = """
local function fail(key, now, o)
    local threshold, window = tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2])
    local base, cap, keep = tonumber(ARGV[o + 3]), tonumber(ARGV[o + 4]), tonumber(ARGV[o + 5])
    local h = redis.call('HMGET', key, 'count', 'window_end', 'locked_until', 'strikes')
    local count, window_end = tonumber(h[1]) or 0, tonumber(h[2]) or 0
    local locked_until, strikes = tonumber(h[3]) or 0, tonumber(h[4]) or 0
    if window_end <= now then
        count, window_end = 0, now + window
    end
    count = count + 1
    local limit = threshold
    if strikes > 0 then limit = 1 end
    local locked = 0
    if count >= limit then
        locked_until = now + math.min(base * math.pow(2, strikes), cap)
        strikes = strikes + 1
        count = 0
        locked = 1
    end
    redis.call('HSET', key, 'count', count, 'window_end', window_end,
               'locked_until', math.floor(locked_until), 'strikes', strikes)
    redis.call('PEXPIRE', key, keep)
    return locked
end
"""

# KEYS: the attempt's keys; ARGV: check (1: refuse when locked, 0: just count), now, then
# per key threshold, window, base, cap, keep (milliseconds). Returns {wait_ms, locked...}:
# wait_ms > 0 when refused (nothing counted), else one 0/1 per key (1: this attempt locked
# it). One script, so checking and counting every key is one atomic step.
_RESERVE_SCRIPT = _FAIL + """
local check, now = tonumber(ARGV[1]), tonumber(ARGV[2])
if check == 1 then
    local wait = 0
    for i = 1, #KEYS do
        local until_ = tonumber(redis.call('HGET', KEYS[i], 'locked_until')) or 0
        if until_ - now > wait then wait = until_ - now end
    end
    if wait > 0 then return {wait} end
end
local result = {0}
for i = 1, #KEYS do
    result[i + 1] = fail(KEYS[i], now, 2 + (i - 1) * 5)
end
return result
"""

# KEYS[1]: the key; ARGV: threshold, locked (1: the reservation locked the key).
_REFUND_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local h = redis.call('HMGET', KEYS[1], 'count', 'strikes')
local count, strikes = tonumber(h[1]) or 0, tonumber(h[2]) or 0
if tonumber(ARGV[2]) == 1 then
    strikes = math.max(strikes - 1, 0)
    if strikes > 0 then count = 0 else count = tonumber(ARGV[1]) - 1 end
    redis.call('HSET', KEYS[1], 'count', count, 'strikes', strikes, 'locked_until', 0)
else
    redis.call('HSET', KEYS[1], 'count', math.max(count - 1, 0))
end
return 1
"""


class RedisLimiter:
    """Counters shared by every node through Redis; one atomic script per attempt."""

    def __init__(self, redis: Redis, prefix: str = "saldo:login:",
                 clock: Callable[[], float] = time.time) -> None:
        self._redis, self._prefix, self._clock = redis, prefix, clock
        self._reserve: Any = redis.register_script(_RESERVE_SCRIPT)
        self._refund: Any = redis.register_script(_REFUND_SCRIPT)

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

    async def _run(self, keys: Sequence[ThrottleKey], *, check: bool) -> Reservation:
        args: list[int] = [int(check), math.floor(self._clock() * 1000)]
        for key in keys:
            p = key.policy
            args += [p.threshold, math.ceil(p.window * 1000), math.ceil(p.base * 1000),
                     math.ceil(p.cap * 1000), math.ceil(p.keep * 1000)]
        result = await self._reserve(keys=[self._prefix + k.name for k in keys], args=args)
        wait_ms = int(result[0])
        if wait_ms > 0:
            return Reservation(wait_ms / 1000)
        return Reservation(0.0, frozenset(k.name for k, flag in zip(keys, result[1:], strict=True)
                                          if int(flag)))

    async def reserve(self, keys: Sequence[ThrottleKey]) -> Reservation:
        return await self._run(keys, check=True)

    async def refund(self, key: ThrottleKey, reservation: Reservation) -> None:
        await self._refund(keys=[self._prefix + key.name],
                           args=[key.policy.threshold, int(key.name in reservation.locked)])

    async def failed(self, keys: Sequence[ThrottleKey]) -> None:
        await self._run(keys, check=False)

    async def succeeded(self, key: ThrottleKey) -> None:
        await self._redis.delete(self._prefix + key.name)
