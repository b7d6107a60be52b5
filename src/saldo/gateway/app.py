"""The gateway as an ASGI application (served by uvicorn in ``saldo gateway``).

A bare ASGI callable rather than a framework's router: every request takes the same path
(read the body up to the limit, hand it to :class:`~saldo.gateway.service.Gateway`, write
the answer), and what the gateway adds to each request's latency is the benchmark's
subject (bench/gateway.py). Its own endpoints: ``/health``, ``/health/ready`` (the
breakers' states) and ``/metrics`` (Prometheus; bearer token, off when unset).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from saldo.gateway.service import SECURITY_HEADERS, Gateway, Incoming, Outgoing, problem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class GatewayApp:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":  # websockets are not routed
            return
        path: str = scope["path"]
        if path in ("/health", "/health/ready", "/metrics"):
            await _send(send, self._own(path, scope))
            return
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1"))
                   for k, v in scope["headers"]]
        limit = self.gateway.config.max_body_bytes
        declared = next((v for k, v in headers if k == "content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send(send, _too_large(limit))
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await _send(send, _too_large(limit))
                return
            if not message.get("more_body"):
                break
        client = scope.get("client")
        request = Incoming(scope["method"], path, scope.get("query_string", b"").decode(
            "latin-1"), headers, bytes(body), client[0] if client else "unknown")
        await _send(send, await self.gateway.handle(request))

    def _own(self, path: str, scope: Scope) -> Outgoing:
        if path == "/health":
            return _json(200, {"status": "ok"})
        if path == "/health/ready":
            states = {name: b.state.value for name, b in self.gateway.breakers.items()}
            return _json(200, {"status": "ready", "breakers": states})
        token = self.gateway.config.metrics_token
        auth = next((v.decode("latin-1") for k, v in scope["headers"]
                     if k == b"authorization"), "")
        if token is None:
            return problem(404, "not_found", "Not found", "Metrics are off.")
        if not hmac.compare_digest(auth.encode(), f"Bearer {token}".encode()):
            return problem(401, "not_authenticated", "Not authenticated",
                           "The metrics token is required.")
        return Outgoing(200, [("content-type", CONTENT_TYPE_LATEST)],
                        generate_latest(self.gateway.metrics.registry))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.gateway.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _json(status: int, body: object) -> Outgoing:
    return Outgoing(status, [("content-type", "application/json"), *SECURITY_HEADERS],
                    json.dumps(body).encode())


def _too_large(limit: int) -> Outgoing:
    answer = problem(413, "payload_too_large", "Payload too large",
                     f"The request body is larger than {limit} bytes.")
    answer.headers.extend(SECURITY_HEADERS)
    return answer


async def _send(send: Send, answer: Outgoing) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
