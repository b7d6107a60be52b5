"""What the browser tests share: where the browser, its driver and axe-core are, and the
served app's address with an API client (imported by name: ``tests/browser`` is on the
path of its own tests)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from identity_harness import PASSWORD, settings_for_tests

from saldo import bootstrap

__all__ = ["AXE", "CHROMEDRIVER", "CHROMIUM", "PASSWORD", "SCREENS", "Live", "free_port",
           "missing", "serve_live"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("SALDO_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SALDO_CHROMEDRIVER", "/usr/bin/chromedriver")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
#: Set to a folder (docs/screens) to save the main screens in both languages.
SCREENS = os.environ.get("SALDO_SCREENSHOTS")


def missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but {what}: the browser tests must run in CI "
                    "(apt-get install -y chromium chromium-driver; npm ci --prefix tests/browser)")
    pytest.skip(what)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Live:
    """The served app: its address, and an API client for setting up the books."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.api = httpx.Client(base_url=url, timeout=30)
        self.admin: dict[str, str] = {}

    def token(self, username: str) -> dict[str, str]:
        r = self.api.post("/api/v1/auth/token", json={"username": username,
                                                      "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def post(self, path: str, headers: dict[str, str], **body: Any) -> dict[str, Any]:
        r = self.api.post(path, json=body, headers=headers)
        assert r.status_code in (200, 201), r.text
        result: dict[str, Any] = r.json()
        return result




@contextmanager
def serve_live(database_url: str, **settings: Any) -> Iterator[Live]:
    """Saldo served on a free port by uvicorn in a thread, over the test database, with
    ``settings`` (e.g. ``projections_in_process=True``) on top of the tests' own."""
    container = bootstrap.build(settings_for_tests(db_pool_max=6, **settings), database_url)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(bootstrap.create_app(container), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"saldo-live-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the Saldo server did not start")
        time.sleep(0.05)
    live = Live(f"http://127.0.0.1:{port}")
    try:
        yield live
    finally:
        live.api.close()
        server.should_exit = True
        thread.join(timeout=30)
