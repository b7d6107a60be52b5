"""A stand-in upstream for the gateway tests, run as a process: ``python standin.py PORT
FLAVOUR``. It answers any path with a small JSON document (``balance`` is "100.00" for
the ``saldo`` flavour and "100.0" for ``legacy``: shadow mode's one differing field),
and obeys ``POST /_mode`` (``ok``, ``fail`` = 500, ``unavailable`` = 503, ``slow`` = answers
after 2 s). ``GET /_seen`` tells how many requests reached it, by method and path, and
the last request's headers."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from typing import Any

import uvicorn

STATE: dict[str, Any] = {"mode": "ok", "seen": Counter(), "last_headers": {}}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return None
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path, method = scope["path"], scope["method"]
    headers = {k.decode(): v.decode() for k, v in scope["headers"]}
    if path == "/_mode":
        STATE["mode"] = json.loads(body)["mode"]
        return await answer(send, 200, {"mode": STATE["mode"]})
    if path == "/_seen":
        return await answer(send, 200, {"seen": dict(STATE["seen"]),
                                        "last_headers": STATE["last_headers"]})
    STATE["seen"][f"{method} {path}"] += 1
    STATE["last_headers"] = headers
    mode = STATE["mode"]
    if mode == "fail":
        return await answer(send, 500, {"error": "boom"})
    if mode == "unavailable":
        return await answer(send, 503, {"error": "down"})
    if mode == "slow":
        await asyncio.sleep(2)
    flavour = sys.argv[2]
    await answer(send, 200, {"id": path.rsplit("/", 1)[-1], "name": "Widget",
                             "balance": "100.00" if flavour == "saldo" else "100.0",
                             "currency": "GEL", "flavour_free": True,
                             "request_id": headers.get("x-request-id"),
                             "body_bytes": len(body)})
    return None


async def answer(send: Any, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                lifespan="off")
