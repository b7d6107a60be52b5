"""``saldo gateway`` against real upstream processes (stand-ins speaking HTTP, and Saldo's
own services): routing, the token checked at the edge, rate limits, the body limit,
idempotent-only retries, the circuit breaker through a failing, a slow and a killed
upstream, shadow mode and its diff report."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from gateway_harness import SECRET, Processes, metric, token

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def seen(base: str) -> dict[str, int]:
    return dict(httpx.get(f"{base}/_seen", timeout=5).json()["seen"])


def mode(base: str, value: str) -> None:
    httpx.post(f"{base}/_mode", json={"mode": value}, timeout=5).raise_for_status()


def bearer(value: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {value or token()}"}


def test_routes_by_prefix_checks_tokens_at_the_edge_and_limits_bodies(
    procs: Processes,
) -> None:
    legacy, _ = procs.standin("legacy")
    saldo, _ = procs.standin("saldo")
    gw = procs.gateway({
        "upstreams": {"ledger": {"url": saldo}, "legacy": {"url": legacy}},
        "routes": [
            {"prefix": "/api/v1/companies/*/transactions", "upstream": "ledger"},
            {"prefix": "/api/v1", "legacy": "legacy", "mode": "legacy"},
            {"prefix": "/public", "legacy": "legacy", "mode": "legacy", "auth": False},
        ],
        "max_body_bytes": 2048,
    })
    with httpx.Client(base_url=gw, timeout=10) as c:
        r = c.get("/api/v1/companies/c1/transactions/t9", headers=bearer())
        assert r.status_code == 200
        assert r.json()["balance"] == "100.00"  # the saldo service answered
        r = c.get("/api/v1/companies/c1/accounts", headers=bearer())
        assert r.json()["balance"] == "100.0"  # the legacy system answered
        assert c.get("/public/prices").status_code == 200  # no token needed
        assert c.get("/elsewhere", headers=bearer()).json()["code"] == "not_found"

        # The request id is passed on and returned; the security headers are set.
        r = c.get("/api/v1/companies/c1/transactions/1",
                  headers={**bearer(), "X-Request-ID": "req-42"})
        assert r.headers["x-request-id"] == "req-42"
        assert r.json()["request_id"] == "req-42"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert "max-age" in r.headers["strict-transport-security"]
        assert c.get("/public/x").headers["x-request-id"]  # made when missing

        # Tokens are checked at the edge: none of these reaches the upstream.
        before = seen(saldo)
        for headers in ({}, bearer("not-a-jwt"), bearer(token(key="another-key-" + "y" * 40)),
                        bearer(token(expires_in=-60)), bearer(token(kind="refresh")),
                        {"Authorization": f"Basic {token()}"}):
            r = c.get("/api/v1/companies/c1/transactions/1", headers=headers)
            assert r.status_code == 401, (headers, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["code"] == "not_authenticated"
            assert r.headers["www-authenticate"] == "Bearer"
        assert seen(saldo) == before
        assert metric(gw, "saldo_gateway_rejected_tokens_total") == 6

        # The body limit: 2048 bytes pass, 2049 do not (declared or streamed).
        ok = c.post("/api/v1/companies/c1/transactions", headers=bearer(), content=b"x" * 2048)
        assert ok.status_code == 200
        assert ok.json()["body_bytes"] == 2048
        big = c.post("/api/v1/companies/c1/transactions", headers=bearer(),
                     content=b"x" * 2049)
        assert big.status_code == 413
        assert big.json()["code"] == "payload_too_large"

        def chunks():  # no Content-Length: the limit holds while reading
            yield b"y" * 2000
            yield b"y" * 2000

        assert c.post("/api/v1/companies/c1/transactions", headers=bearer(),
                      content=chunks()).status_code == 413
        assert metric(gw, "saldo_gateway_requests_total", route="/api/v1/companies/*/transactions",
                      upstream="ledger", status="200") >= 3
        assert c.get("/metrics").status_code == 401


def test_rate_limits_per_address_and_per_user_in_memory(procs: Processes) -> None:
    saldo, _ = procs.standin("saldo")
    gw = procs.gateway({
        "upstreams": {"s": {"url": saldo}},
        "routes": [{"prefix": "/", "upstream": "s"}],
        "rate_limit": {"per_user": 3, "per_address": 5, "window_seconds": 3600},
    })
    alice, bob = token("alice"), token("bob")
    with httpx.Client(base_url=gw, timeout=10) as c:
        # alice: 3 allowed, the 4th refused (per user)
        codes = [c.get("/x", headers=bearer(alice)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = c.get("/x", headers=bearer(bob))  # the address's 5th request: allowed
        assert r.status_code == 200
        r = c.get("/x", headers=bearer(bob))  # the address's 6th: refused
        assert r.status_code == 429
        assert r.json()["code"] == "rate_limited"
        assert 0 < int(r.headers["retry-after"]) <= 3600
    assert metric(gw, "saldo_gateway_rate_limited_total", scope="user") == 1
    assert metric(gw, "saldo_gateway_rate_limited_total", scope="address") == 1


def test_rate_limit_is_shared_through_redis(procs: Processes, redis_url: str) -> None:
    saldo, _ = procs.standin("saldo")
    config = {
        "upstreams": {"s": {"url": saldo}},
        "routes": [{"prefix": "/", "upstream": "s"}],
        "rate_limit": {"per_user": 0, "per_address": 4, "window_seconds": 3600,
                       "redis_url": redis_url, "namespace": f"t{uuid4().hex[:12]}"},
    }
    first, second = procs.gateway(dict(config)), procs.gateway(dict(config))
    codes = [httpx.get(f"{gw}/x", headers=bearer(), timeout=10).status_code
             for gw in (first, second, first, second, first, second)]
    # 4 per address across both replicas (one Redis counter): the 5th and 6th are refused.
    assert codes == [200, 200, 200, 200, 429, 429]


def test_retries_only_idempotent_requests(procs: Processes) -> None:
    saldo, _ = procs.standin("saldo")
    gw = procs.gateway({
        "upstreams": {"s": {"url": saldo, "retries": 2,
                            "breaker": {"failure_threshold": 100}}},
        "routes": [{"prefix": "/", "upstream": "s"}],
    })
    mode(saldo, "unavailable")
    assert httpx.get(f"{gw}/items/1", headers=bearer(), timeout=10).status_code == 503
    assert httpx.put(f"{gw}/items/2", headers=bearer(), json={}, timeout=10).status_code == 503
    assert httpx.post(f"{gw}/items", headers=bearer(), json={}, timeout=10).status_code == 503
    assert httpx.patch(f"{gw}/items/3", headers=bearer(), json={},
                       timeout=10).status_code == 503
    counts = seen(saldo)
    assert counts["GET /items/1"] == 3  # once and 2 retries
    assert counts["PUT /items/2"] == 3
    assert counts["POST /items"] == 1  # never repeated
    assert counts["PATCH /items/3"] == 1
    assert metric(gw, "saldo_gateway_retries_total", upstream="s") == 4


def _breaker_cycle(gw: str, c: httpx.Client, standin: str, upstream: str) -> None:
    """Three failures open the circuit: then 503 at once, without calling the upstream."""
    before = seen(standin)
    started = time.monotonic()
    r = c.get("/s/items/1", headers=bearer())
    assert r.status_code == 503
    assert r.json()["code"] == "upstream_unavailable"
    assert int(r.headers["retry-after"]) >= 1
    assert time.monotonic() - started < 0.1  # fast: the upstream was not asked
    assert seen(standin) == before
    assert metric(gw, "saldo_gateway_breaker_state", upstream=upstream, state="open") == 1


def test_breaker_opens_on_failing_slow_and_killed_upstreams_then_recovers(
    procs: Processes,
) -> None:
    saldo, process = procs.standin("saldo")
    port = int(saldo.rsplit(":", 1)[1])
    gw = procs.gateway({
        "upstreams": {"s": {"url": saldo, "timeout": 0.5, "retries": 0,
                            "breaker": {"failure_threshold": 3, "reset_seconds": 1.0}}},
        "routes": [{"prefix": "/s", "upstream": "s"}],
    })
    with httpx.Client(base_url=gw, timeout=10) as c:
        assert c.get("/s/items/1", headers=bearer()).status_code == 200

        # 1. Failing: three 500s pass through, then the circuit is open.
        mode(saldo, "fail")
        assert [c.get("/s/items/1", headers=bearer()).status_code for _ in range(3)] \
            == [500, 500, 500]
        _breaker_cycle(gw, c, saldo, "s")
        # Half-open after reset_seconds: one trial; it succeeds, the circuit closes.
        mode(saldo, "ok")
        time.sleep(1.1)
        assert c.get("/s/items/1", headers=bearer()).status_code == 200
        assert metric(gw, "saldo_gateway_breaker_state", upstream="s", state="closed") == 1

        # 2. Slow: three timeouts (504), open; a failed trial opens it again.
        mode(saldo, "slow")
        assert [c.get("/s/items/1", headers=bearer()).json()["code"] for _ in range(3)] \
            == ["upstream_timeout"] * 3
        _breaker_cycle(gw, c, saldo, "s")
        time.sleep(1.1)
        assert c.get("/s/items/1", headers=bearer()).status_code == 504  # the trial
        _breaker_cycle(gw, c, saldo, "s")  # open again at once
        mode(saldo, "ok")
        time.sleep(1.1)
        assert c.get("/s/items/1", headers=bearer()).status_code == 200

        # 3. Killed: connections refused (502), open; restarted, it recovers.
        procs.stop(process)
        assert [c.get("/s/items/1", headers=bearer()).status_code for _ in range(3)] \
            == [502, 502, 502]
        started = time.monotonic()
        r = c.get("/s/items/1", headers=bearer())
        assert r.status_code == 503
        assert time.monotonic() - started < 0.1
        procs.standin("saldo", port=port)
        time.sleep(1.1)
        assert c.get("/s/items/1", headers=bearer()).status_code == 200

    transitions = {(f, t): metric(gw, "saldo_gateway_breaker_transitions_total",
                                  upstream="s", from_state=f, to_state=t)
                   for f, t in (("closed", "open"), ("open", "half_open"),
                                ("half_open", "closed"), ("half_open", "open"))}
    assert transitions == {("closed", "open"): 3, ("open", "half_open"): 4,
                           ("half_open", "closed"): 3, ("half_open", "open"): 1}
    # The fast refusals above: 1 (failing) + 2 (slow, and after its failed trial) + 1 (killed)
    assert metric(gw, "saldo_gateway_breaker_rejected_total", upstream="s") == 4


def test_shadow_mode_answers_from_legacy_and_reports_the_differing_field(
    procs: Processes, tmp_path: Path,
) -> None:
    legacy, _ = procs.standin("legacy")
    saldo, _ = procs.standin("saldo")
    log = tmp_path / "shadow.jsonl"
    gw = procs.gateway({
        "upstreams": {"saldo": {"url": saldo}, "legacy": {"url": legacy}},
        "routes": [{"prefix": "/api/v1/items", "upstream": "saldo", "legacy": "legacy",
                    "mode": "shadow"},
                   {"prefix": "/api/v1/same", "upstream": "legacy", "legacy": "legacy",
                    "mode": "shadow"}],
        "shadow_log": str(log),
    })
    with httpx.Client(base_url=gw, timeout=10) as c:
        for n in range(3):
            r = c.get(f"/api/v1/items/{n}", headers=bearer())
            assert r.json()["balance"] == "100.0"  # the client gets the legacy answer
        assert c.get("/api/v1/same/1", headers=bearer()).status_code == 200
        r = c.post("/api/v1/items", headers=bearer(), json={})  # a write: legacy only
        assert r.status_code == 200
    deadline = time.monotonic() + 10
    while metric(gw, "saldo_gateway_shadow_comparisons_total", route="/api/v1/items",
                 result="different") < 3:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert metric(gw, "saldo_gateway_shadow_comparisons_total", route="/api/v1/same",
                  result="same") == 1
    assert seen(saldo) == {f"GET /api/v1/items/{n}": 1 for n in range(3)}  # reads only
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(entries) == 3
    assert entries[0]["fields"] == [{"field": "balance", "legacy": "100.0", "new": "100.00"}]

    report = subprocess.run([sys.executable, "-m", "saldo", "gateway", "diff-report",
                             "--log", str(log)], capture_output=True, text=True, timeout=60,
                            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin",
                                 "SALDO_SECRET_KEY": SECRET}, check=False)
    assert report.returncode == 0, report.stderr
    assert "/api/v1/items" in report.stdout
    assert "balance (3)" in report.stdout
