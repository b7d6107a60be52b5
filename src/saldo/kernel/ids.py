"""Identifiers. Time-ordered UUIDs (version 7) keep B-tree inserts local to the index's end."""

from __future__ import annotations

import os
import time
import uuid


def new_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562 §5.7): 48-bit Unix milliseconds, version, 74 random bits."""
    return _uuid7(_now_ms(), int.from_bytes(os.urandom(10), "big"))


def new_ids(count: int) -> list[uuid.UUID]:
    """``count`` UUIDv7s of the same millisecond, their random bits from one system call,
    in ascending order (RFC 9562 §6.2 allows monotonic ids within a millisecond). Bulk
    posting takes three per transaction: rows inserted in id order land at the end of
    the indexes on their ids instead of on random pages."""
    ms, pool = _now_ms(), os.urandom(10 * count)
    return sorted(_uuid7(ms, int.from_bytes(pool[start:start + 10], "big"))
                  for start in range(0, 10 * count, 10))


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _uuid7(ms: int, rand: int) -> uuid.UUID:
    """The UUIDv7 of Unix milliseconds ``ms`` and 80 random bits ``rand`` (74 are used)."""
    rand_a = (rand >> 62) & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)
