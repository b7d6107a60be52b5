"""The throttling rule on a fake clock (the Redis twin is tested against a real Redis in
tests/integration/identity/test_login_throttling.py)."""

from __future__ import annotations

from saldo.identity.throttle import MemoryLimiter, ThrottleKey, ThrottlePolicy

POLICY = ThrottlePolicy(threshold=5, window=900, base=30, cap=100)


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_five_failures_lock_then_back_off_doubles_up_to_the_cap() -> None:
    clock, key = Clock(), ThrottleKey("user:nino", POLICY)
    limiter = MemoryLimiter(clock)
    for _ in range(4):
        await limiter.failed([key])
    assert await limiter.locked_for([key]) == 0
    await limiter.failed([key])
    assert await limiter.locked_for([key]) == 30
    locks = []
    for _ in range(3):
        clock.now += await limiter.locked_for([key])
        await limiter.failed([key])  # one failure after a lock locks again
        locks.append(await limiter.locked_for([key]))
    assert locks == [60, 100, 100]


async def test_failures_outside_the_window_do_not_add_up() -> None:
    clock, key = Clock(), ThrottleKey("user:nino", POLICY)
    limiter = MemoryLimiter(clock)
    for _ in range(4):
        await limiter.failed([key])
    clock.now += 901
    await limiter.failed([key])
    assert await limiter.locked_for([key]) == 0


async def test_success_forgets_and_the_longest_lock_wins() -> None:
    clock = Clock()
    user, address = ThrottleKey("user:nino", POLICY), ThrottleKey("addr:x", POLICY)
    limiter = MemoryLimiter(clock)
    for _ in range(5):
        await limiter.failed([user])
    await limiter.succeeded(user)
    assert await limiter.locked_for([user]) == 0
    for _ in range(5):
        await limiter.failed([address])
    assert await limiter.locked_for([user, address]) == 30


async def test_memory_stays_bounded() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock, max_keys=10)
    for i in range(10):
        await limiter.failed([ThrottleKey(f"user:{i}", POLICY)])
    clock.now += POLICY.keep + 1
    await limiter.failed([ThrottleKey("user:new", POLICY)])
    assert len(limiter._states) == 1


async def test_memory_stays_bounded_when_nothing_has_expired() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock, max_keys=10)
    for i in range(25):
        await limiter.failed([ThrottleKey(f"user:{i}", POLICY)])
        clock.now += 1
    assert len(limiter._states) == 10
    # The oldest were evicted; the newest are kept.
    assert set(limiter._states) == {f"user:{i}" for i in range(15, 25)}


async def test_a_reservation_counts_and_a_refund_takes_it_back() -> None:
    clock, key = Clock(), ThrottleKey("addr:x", POLICY)
    limiter = MemoryLimiter(clock)
    for _ in range(4):
        reservation = await limiter.reserve([key])
        assert reservation.wait == 0
        assert not reservation.locked
    fifth = await limiter.reserve([key])
    assert fifth.locked == {"addr:x"}
    assert (await limiter.reserve([key])).wait == 30  # refused, and not counted
    await limiter.refund(key, fifth)  # the fifth attempt succeeded after all
    assert await limiter.locked_for([key]) == 0
    assert (await limiter.reserve([key])).locked == {"addr:x"}
