"""The gateway's pure parts: the breaker's state machine, the in-memory rate limit, the
shadow comparison, route matching and the configuration's checks."""

from __future__ import annotations

import pytest

from saldo.gateway import shadow
from saldo.gateway.breaker import CircuitBreaker, State
from saldo.gateway.config import GatewayConfig
from saldo.gateway.ratelimit import MemoryLimiter
from saldo.gateway.service import Gateway


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_threshold_half_opens_once_and_closes() -> None:
    clock, changes = Clock(), []
    breaker = CircuitBreaker("up", 3, 10.0, clock=clock,
                             on_change=lambda n, a, b: changes.append((a.value, b.value)))
    for _ in range(2):
        assert breaker.allow()
        breaker.failure()
    breaker.success()  # a success resets the count: 3 *consecutive* failures are needed
    for _ in range(3):
        assert breaker.allow()
        breaker.failure()
    assert breaker.state is State.OPEN
    assert not breaker.allow()
    breaker.success()  # a late answer to a request sent before it opened: still open
    assert breaker.state is State.OPEN
    assert breaker.retry_after() == 10.0
    clock.now += 9.9
    assert not breaker.allow()
    clock.now += 0.1  # 10 s after opening: one trial request, not two
    assert breaker.allow()
    assert breaker.state is State.HALF_OPEN
    assert not breaker.allow()
    breaker.failure()  # the trial failed: open for another 10 s
    assert breaker.state is State.OPEN
    clock.now += 10
    assert breaker.allow()
    breaker.success()
    assert breaker.state is State.CLOSED
    assert changes == [("closed", "open"), ("open", "half_open"), ("half_open", "open"),
                       ("open", "half_open"), ("half_open", "closed")]


async def test_memory_limiter_counts_per_key_and_window() -> None:
    clock = Clock()
    clock.now = 120.0  # the start of a 60 s window
    limiter = MemoryLimiter(60, clock=clock)
    assert [(await limiter.hit("a", 2)).allowed for _ in range(3)] == [True, True, False]
    assert (await limiter.hit("b", 2)).allowed  # another key has its own count
    clock.now = 135.5
    refused = await limiter.hit("a", 2)
    assert not refused.allowed
    # The window [120, 180) ends in 180 - 135.5 = 44.5 s, rounded up: 45.
    assert refused.retry_after == 45
    clock.now = 180.0  # the next window: counting starts again
    assert (await limiter.hit("a", 2)).allowed


def test_shadow_differences_name_the_fields() -> None:
    legacy = b'{"id": 1, "balance": "100.0", "lines": [{"a": 1}, {"a": 2}], "request_id": "x"}'
    new = b'{"id": 1, "balance": "100.00", "lines": [{"a": 1}, {"a": 3}], "request_id": "y"}'
    assert shadow.compare(200, legacy, 200, new) == [
        ("balance", "100.0", "100.00"), ("lines/1/a", 2, 3)]
    assert shadow.compare(200, b'{"a": 1}', 404, b'{"a": 1}') == [("(status)", 200, 404)]
    assert shadow.compare(200, b"<p>x</p>", 200, b"<p>x</p>") == []
    assert shadow.compare(200, b"<p>x</p>", 200, b"<p>y</p>") == [
        ("(body)", "8 bytes", "8 bytes")]


def test_routes_match_the_longest_prefix_and_wildcards() -> None:
    config = GatewayConfig.model_validate({
        "upstreams": {"a": {"url": "http://a"}, "b": {"url": "http://b"},
                      "l": {"url": "http://l"}},
        "routes": [{"prefix": "/api/v1", "upstream": "a"},
                   {"prefix": "/api/v1/companies/*/transactions", "upstream": "b"},
                   {"prefix": "/", "legacy": "l", "mode": "legacy"}]})
    gateway = Gateway(config, "k" * 40)
    assert gateway.match("/api/v1/companies/42/transactions/7").upstream == "b"  # type: ignore[union-attr]
    assert gateway.match("/api/v1/companies/42/accounts").upstream == "a"  # type: ignore[union-attr]
    assert gateway.match("/api/v1x").mode == "legacy"  # type: ignore[union-attr]


@pytest.mark.parametrize(("routes", "message"), [
    ([{"prefix": "/x", "mode": "new"}], "needs an upstream"),
    ([{"prefix": "/x", "upstream": "a", "mode": "shadow"}], "needs a legacy upstream"),
    ([{"prefix": "/x", "upstream": "nope"}], "unknown upstream"),
    ([{"prefix": "x", "upstream": "a"}], "must start with /"),
])
def test_configuration_errors_are_named(routes: list[dict[str, str]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GatewayConfig.model_validate({"upstreams": {"a": {"url": "http://a"}},
                                      "routes": routes})
