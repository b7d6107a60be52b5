"""The gateway's work for one request: route, check, limit, forward, protect, measure.

In order: the route by the longest matching prefix (404 if none); the address's rate
limit; the access token when the route requires one (401 at the edge: nothing reaches an
upstream); the user's rate limit (429 with ``Retry-After``); then the route's mode —
``new`` forwards to the Saldo service, ``legacy`` to the legacy system, ``shadow`` answers
from the legacy system and compares Saldo's answer to the same read in the background.

Forwarding goes through the upstream's circuit breaker (503 ``upstream_unavailable`` at
once while it is open), with the upstream's timeouts (504 ``upstream_timeout``) and, for
idempotent methods only, retries after a connection failure or a 502/503/504. Every
answer carries the request id and the security headers.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from saldo.gateway import shadow
from saldo.gateway.breaker import CircuitBreaker, State
from saldo.gateway.config import GatewayConfig, Route, Upstream
from saldo.gateway.edge import Caller, Rejected, TokenCheck
from saldo.gateway.ratelimit import Limiter, MemoryLimiter, RedisLimiter

log = structlog.get_logger(__name__)

#: Methods RFC 9110 §9.2.2 calls idempotent: only these are ever sent twice.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: Reads: the only requests shadow mode also sends to Saldo (a write would happen twice).
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate",
                        "proxy-authorization", "te", "trailer", "transfer-encoding",
                        "upgrade", "host", "content-length", "content-encoding"})
SECURITY_HEADERS = (
    ("strict-transport-security", "max-age=31536000; includeSubDomains"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
    ("cross-origin-opener-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")

Headers = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Incoming:
    method: str
    path: str
    query: str
    headers: Headers
    body: bytes
    client: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)


@dataclass(slots=True)
class Outgoing:
    status: int
    headers: Headers = field(default_factory=list)
    body: bytes = b""


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("saldo_gateway_requests_total", "Requests answered",
                                ["route", "upstream", "status"], registry=r)
        self.latency = Histogram("saldo_gateway_request_duration_seconds",
                                 "Time to answer a request, upstream included", ["route"],
                                 registry=r, buckets=(.001, .0025, .005, .01, .025, .05, .1,
                                                      .25, .5, 1, 2.5, 5, 10))
        self.upstream_latency = Histogram("saldo_gateway_upstream_duration_seconds",
                                          "Time an upstream took to answer", ["upstream"],
                                          registry=r)
        self.breaker_state = Gauge("saldo_gateway_breaker_state", "1 for the circuit's "
                                   "current state", ["upstream", "state"], registry=r)
        self.breaker_transitions = Counter("saldo_gateway_breaker_transitions_total",
                                           "Circuit state changes",
                                           ["upstream", "from_state", "to_state"], registry=r)
        self.breaker_rejected = Counter("saldo_gateway_breaker_rejected_total",
                                        "Requests refused because the circuit was open",
                                        ["upstream"], registry=r)
        self.retries = Counter("saldo_gateway_retries_total", "Idempotent requests sent "
                               "again", ["upstream"], registry=r)
        self.rate_limited = Counter("saldo_gateway_rate_limited_total", "Requests refused "
                                    "by a rate limit", ["scope"], registry=r)
        self.rejected_tokens = Counter("saldo_gateway_rejected_tokens_total", "Requests "
                                       "refused at the edge for their token", registry=r)
        self.shadow = Counter("saldo_gateway_shadow_comparisons_total", "Shadow-mode "
                              "comparisons", ["route", "result"], registry=r)

    def breaker_changed(self, upstream: str, before: State, after: State) -> None:
        self.breaker_transitions.labels(upstream, before.value, after.value).inc()
        for state in State:
            self.breaker_state.labels(upstream, state.value).set(1 if state is after else 0)
        log.warning("gateway_breaker", upstream=upstream, from_state=before.value,
                    to_state=after.value)


def problem(status: int, code: str, title: str, detail: str,
            headers: Headers | None = None) -> Outgoing:
    body = json.dumps({"type": f"https://saldo.ge/problems/{code}", "title": title,
                       "status": status, "detail": detail, "code": code}).encode()
    return Outgoing(status, [("content-type", "application/problem+json"),
                             *(headers or [])], body)


class Gateway:
    def __init__(self, config: GatewayConfig, signing_key: str) -> None:
        self.config = config
        self.tokens = TokenCheck(signing_key)
        self.metrics = Metrics()
        self.breakers = {
            name: CircuitBreaker(name, up.breaker.failure_threshold, up.breaker.reset_seconds,
                                 on_change=self.metrics.breaker_changed)
            for name, up in config.upstreams.items()}
        for name in config.upstreams:
            self.metrics.breaker_state.labels(name, State.CLOSED.value).set(1)
        self.clients = {name: _client(up) for name, up in config.upstreams.items()}
        limits = config.rate_limit
        self.limiter: Limiter = (RedisLimiter(limits.redis_url, limits.window_seconds,
                                                     limits.namespace)
                                 if limits.redis_url else MemoryLimiter(limits.window_seconds))
        # Longest prefix first; a literal segment before a wildcard at the same length.
        self.routes = sorted(config.routes, key=lambda r: (-len(r.segments),
                                                           r.segments.count("*")))
        self.shadow_log = Path(config.shadow_log) if config.shadow_log else None
        self._background: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        for client in self.clients.values():
            await client.aclose()
        await self.limiter.close()

    # ------------------------------------------------------------------ routing

    def match(self, path: str) -> Route | None:
        parts = [p for p in path.split("/") if p]
        for route in self.routes:
            segments = route.segments
            if len(segments) <= len(parts) and all(
                    s in ("*", p) for s, p in zip(segments, parts, strict=False)):
                return route
        return None

    # ------------------------------------------------------------------ handling

    async def handle(self, request: Incoming) -> Outgoing:
        started = time.perf_counter()
        request_id = request.header("x-request-id") or ""
        if not _REQUEST_ID.match(request_id):
            request_id = uuid.uuid4().hex
        route = self.match(request.path)
        upstream = "-"
        if route is None:
            answer = problem(404, "not_found", "Not found",
                             f"No service answers {request.path}.")
        else:
            upstream = (route.legacy if route.mode != "new" else route.upstream) or "-"
            answer = await self._routed(route, request, request_id)
        route_label = route.prefix if route else "(none)"
        self.metrics.requests.labels(route_label, upstream, str(answer.status)).inc()
        self.metrics.latency.labels(route_label).observe(time.perf_counter() - started)
        present = {k for k, _ in answer.headers}
        answer.headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
        answer.headers.append(("x-request-id", request_id))
        return answer

    async def _routed(self, route: Route, request: Incoming, request_id: str) -> Outgoing:
        limits = self.config.rate_limit
        if limits.per_address:
            refused = await self._limit("address", request.client, limits.per_address)
            if refused is not None:
                return refused
        if route.auth:
            try:
                caller: Caller | None = self.tokens.caller(request.header("authorization"))
            except Rejected as exc:
                self.metrics.rejected_tokens.inc()
                return problem(401, "not_authenticated", "Not authenticated", str(exc),
                               [("www-authenticate", "Bearer")])
            if limits.per_user and caller is not None:
                refused = await self._limit("user", caller.user_id, limits.per_user)
                if refused is not None:
                    return refused
        if route.mode == "new":
            assert route.upstream is not None
            return await self.forward(route.upstream, request, request_id)
        assert route.legacy is not None
        answer = await self.forward(route.legacy, request, request_id)
        if route.mode == "shadow" and request.method in SAFE:
            assert route.upstream is not None
            task = asyncio.create_task(self._shadow(route, route.upstream, request,
                                                    request_id, answer))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return answer

    async def _limit(self, scope: str, key: str, limit: int) -> Outgoing | None:
        try:
            decision = await self.limiter.hit(f"{scope}:{key}", limit)
        except Exception as exc:  # Redis down: fail open rather than refuse everyone
            log.warning("gateway_rate_limit_store_failed", error=repr(exc))
            return None
        if decision.allowed:
            return None
        self.metrics.rate_limited.labels(scope).inc()
        return problem(429, "rate_limited", "Too many requests",
                       f"Too many requests from this {scope}; try again in "
                       f"{decision.retry_after} s.", [("retry-after", str(decision.retry_after))])

    async def _shadow(self, route: Route, upstream: str, request: Incoming, request_id: str,
                      legacy: Outgoing) -> None:
        new = await self.forward(upstream, request, request_id)
        diffs = shadow.compare(legacy.status, legacy.body, new.status, new.body)
        self.metrics.shadow.labels(route.prefix, "different" if diffs else "same").inc()
        if diffs:
            log.warning("gateway_shadow_difference", route=route.prefix, path=request.path,
                        fields=[d[0] for d in diffs])
            shadow.record(self.shadow_log, route.prefix, request.method, request.path, diffs)

    async def forward(self, name: str, request: Incoming, request_id: str) -> Outgoing:
        upstream = self.config.upstreams[name]
        breaker, client = self.breakers[name], self.clients[name]
        attempts = 1 + (upstream.retries if request.method in IDEMPOTENT else 0)
        headers = _upstream_headers(request, request_id)
        target = request.path + (f"?{request.query}" if request.query else "")
        answer = problem(502, "bad_gateway", "Bad gateway", f"The {name} service failed.")
        for attempt in range(attempts):
            if attempt:
                self.metrics.retries.labels(name).inc()
                await asyncio.sleep(0.05 * 2 ** (attempt - 1))
            if not breaker.allow():
                self.metrics.breaker_rejected.labels(name).inc()
                wait = max(1, round(breaker.retry_after()))
                return problem(503, "upstream_unavailable", "Service unavailable",
                               f"The {name} service is failing; the gateway is not sending "
                               "it requests for now.", [("retry-after", str(wait))])
            started = time.perf_counter()
            try:
                response = await client.request(request.method, target, headers=headers,
                                                content=request.body)
            except httpx.TimeoutException as exc:
                breaker.failure()
                if isinstance(exc, httpx.ConnectTimeout):
                    continue
                return problem(504, "upstream_timeout", "Gateway timeout",
                               f"The {name} service did not answer within "
                               f"{upstream.timeout:g} s.")
            except httpx.TransportError:
                breaker.failure()  # refused, reset: retried if idempotent
                continue
            finally:
                self.metrics.upstream_latency.labels(name).observe(time.perf_counter() - started)
            if response.status_code >= 500:
                breaker.failure()
            else:
                breaker.success()
            answer = Outgoing(response.status_code,
                              [(k, v) for k, v in response.headers.multi_items()
                               if k.lower() not in HOP_BY_HOP], response.content)
            if response.status_code not in (502, 503, 504):
                return answer
        return answer


def _client(upstream: Upstream) -> httpx.AsyncClient:
    timeout = httpx.Timeout(upstream.timeout, connect=upstream.connect_timeout)
    return httpx.AsyncClient(base_url=upstream.url, timeout=timeout, follow_redirects=False,
                             limits=httpx.Limits(max_connections=200,
                                                 max_keepalive_connections=50))


def _upstream_headers(request: Incoming, request_id: str) -> Headers:
    headers: Headers = [(k, v) for k, v in request.headers
                        if k not in HOP_BY_HOP and k not in ("x-request-id", "x-forwarded-for")]
    forwarded = request.header("x-forwarded-for")
    headers += [("x-request-id", request_id),
                ("x-forwarded-for", f"{forwarded}, {request.client}" if forwarded
                 else request.client),
                ("x-forwarded-host", request.header("host") or "")]
    return headers


def routes_table(routes: Sequence[Route]) -> list[tuple[str, str, str, str]]:
    return [(r.prefix, r.mode, r.upstream or "-", r.legacy or "-") for r in routes]
