"""The stand-in rs.ge served over real HTTP (uvicorn on a free port, in a thread)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from saldo.rsge.sandbox import Sandbox


class Served:
    def __init__(self, sandbox: Sandbox, url: str) -> None:
        self.sandbox, self.url = sandbox, url

    def control(self, action: str, **payload: object) -> dict:
        r = httpx.post(f"{self.url}/_sandbox/{action}", json=payload, timeout=5)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def fault(self, mode: str, *operations: str, count: int | None = None,
              delay: float = 0.0) -> None:
        self.control("faults", mode=mode, operations=list(operations), count=count, delay=delay)

    def clear_faults(self) -> None:
        self.control("faults", mode="none")

    @property
    def state(self):  # type: ignore[no-untyped-def]
        return self.sandbox.state


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_sandbox() -> Iterator[Served]:
    sandbox = Sandbox()
    port = free_port()
    config = uvicorn.Config(sandbox.app(), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the rs.ge stand-in did not start")
        time.sleep(0.02)
    try:
        yield Served(sandbox, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(5)
