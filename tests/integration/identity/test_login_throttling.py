"""Login throttling, through the API: in memory (one node) and in Redis (several)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any
from uuid import uuid4

import pytest
from identity_harness import PASSWORD, Harness

pytestmark = pytest.mark.integration

LOCK = 0.3  # seconds: short so the expiry test is fast


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def th(request: pytest.FixtureRequest,
             make_harness: Callable[..., AbstractAsyncContextManager[Harness]],
             ) -> AsyncIterator[Harness]:
    # A test that needs the lock to outlast slow work (20 password hashes on a loaded
    # machine take longer than LOCK) is marked long_lock.
    lock = getattr(request, "node", None) and request.node.get_closest_marker("long_lock")
    settings: dict[str, Any] = {"login_lock_seconds": 60 if lock else LOCK}
    if request.param == "redis":  # fails in CI when Redis is missing (tests/conftest.py)
        settings["redis_url"] = request.getfixturevalue("redis_url")
    async with make_harness(**settings) as harness:
        limiter: Any = harness.container.limiter
        if request.param == "redis":
            limiter._prefix = f"saldo-test:{uuid4().hex}:"  # each test its own keys
        yield harness


async def _login(h: Harness, username: str, password: str) -> Any:
    return await h.client.post("/api/v1/auth/token",
                               json={"username": username, "password": password})


async def test_the_sixth_rapid_failure_is_429_and_the_right_password_waits(th: Harness) -> None:
    await th.user("giorgi")
    for _ in range(5):
        assert (await _login(th, "giorgi", "wrong password!")).status_code == 401
    sixth = await _login(th, "giorgi", "wrong password!")
    assert sixth.status_code == 429
    assert sixth.headers["content-type"] == "application/problem+json"
    assert int(sixth.headers["retry-after"]) >= 1
    # Even the right password is refused while the lock holds.
    assert (await _login(th, "giorgi", PASSWORD)).status_code == 429
    # The username is locked whatever its case.
    assert (await _login(th, "GIORGI", PASSWORD)).status_code == 429


async def test_the_lock_expires_and_back_off_grows(th: Harness) -> None:
    await th.user("giorgi")
    for _ in range(5):
        await _login(th, "giorgi", "wrong password!")
    assert (await _login(th, "giorgi", PASSWORD)).status_code == 429
    await asyncio.sleep(LOCK + 0.1)
    # Once locked, one more failure locks again, twice as long.
    assert (await _login(th, "giorgi", "wrong password!")).status_code == 401
    assert (await _login(th, "giorgi", PASSWORD)).status_code == 429
    await asyncio.sleep(LOCK + 0.1)
    assert (await _login(th, "giorgi", PASSWORD)).status_code == 429  # 2 x LOCK not over yet
    await asyncio.sleep(LOCK)
    assert (await _login(th, "giorgi", PASSWORD)).status_code == 200


async def test_success_clears_the_count(th: Harness) -> None:
    await th.user("giorgi")
    for _ in range(4):
        await _login(th, "giorgi", "wrong password!")
    assert (await _login(th, "giorgi", PASSWORD)).status_code == 200
    for _ in range(4):
        assert (await _login(th, "giorgi", "wrong password!")).status_code == 401
    assert (await _login(th, "giorgi", PASSWORD)).status_code == 200


async def test_one_address_spraying_many_usernames_is_locked(make_harness: Callable[
        ..., AbstractAsyncContextManager[Harness]]) -> None:
    async with make_harness(login_address_max_failures=8, login_lock_seconds=LOCK) as h:
        await h.user("giorgi")
        for i in range(8):
            assert (await _login(h, f"user{i}", "wrong password!")).status_code == 401
        # A new username from the same address: locked by address.
        assert (await _login(h, "giorgi", PASSWORD)).status_code == 429


async def test_unknown_usernames_are_throttled_like_known_ones(th: Harness) -> None:
    for _ in range(5):
        assert (await _login(th, "nobody", "wrong password!")).status_code == 401
    assert (await _login(th, "nobody", "wrong password!")).status_code == 429


@pytest.mark.long_lock
async def test_concurrent_wrong_passwords_cannot_outrun_the_lock(th: Harness) -> None:
    """Each attempt is reserved before its password is checked, atomically: 20 guesses
    at once get at most the threshold (5) verified, and the rest are refused."""
    await th.user("giorgi")
    responses = await asyncio.gather(*[_login(th, "giorgi", f"wrong password {i}!")
                                       for i in range(20)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(401) <= 5, statuses
    assert set(statuses) == {401, 429}, statuses
    assert statuses.count(429) >= 15
    # And the lock holds for the right password.
    assert (await _login(th, "giorgi", PASSWORD)).status_code == 429


async def test_a_success_refunds_the_address_its_attempt(make_harness: Callable[
        ..., AbstractAsyncContextManager[Harness]]) -> None:
    """Successful logins from one address (an office behind NAT) never lock it."""
    async with make_harness(login_address_max_failures=3, login_lock_seconds=LOCK) as h:
        for name in ("ana", "beka", "dato", "eka"):
            await h.user(name)
            assert (await _login(h, name, PASSWORD)).status_code == 200
        for name in ("ana", "beka"):
            assert (await _login(h, name, "wrong password!")).status_code == 401
        assert (await _login(h, "dato", PASSWORD)).status_code == 200
        assert (await _login(h, "eka", "wrong password!")).status_code == 401
        assert (await _login(h, "eka", PASSWORD)).status_code == 429  # address locked
