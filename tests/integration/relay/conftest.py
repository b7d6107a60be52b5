"""Fixtures for the relay: the machine's NATS server (``SALDO_TEST_NATS_URL``; with
``CI=true`` a missing or unreachable server fails the run), synthetic events in bulk,
and the relay run as a real process (``saldo relay``) that a test can kill."""

from __future__ import annotations

import asyncio
import fcntl
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
NATS_URL = os.environ.get("SALDO_TEST_NATS_URL")


@pytest.fixture(scope="session")
def nats_url() -> str:
    if not NATS_URL:
        if IN_CI:
            pytest.fail("CI=true but SALDO_TEST_NATS_URL is not set: the NATS leg of the "
                        "suite must run in CI")
        pytest.skip("SALDO_TEST_NATS_URL is not set")
    import nats

    async def ping() -> None:
        nc = await nats.connect(NATS_URL, connect_timeout=3, max_reconnect_attempts=0)
        await nc.jetstream().account_info()
        await nc.close()

    try:
        asyncio.run(ping())
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"SALDO_TEST_NATS_URL is unreachable in CI: {exc!r}")
        pytest.skip(f"SALDO_TEST_NATS_URL is unreachable: {exc!r}")
    return NATS_URL


#: Held for the whole of a test that uses the machine's JetStream: the relay's subjects
#: (``accounting.>``) can be captured by one stream only, and each such test starts by
#: deleting the streams that capture them, so two xdist workers must not overlap there.
NATS_LOCK = Path(tempfile.gettempdir()) / "saldo-tests-jetstream.lock"


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[Any]:
    """A JetStream context on a clean slate (no stream captures ``accounting.>``), the
    machine's JetStream to this test alone until it ends."""
    import nats

    with NATS_LOCK.open("a") as lock:
        await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
        try:
            nc = await nats.connect(nats_url)
            js = nc.jetstream()
            for info in await js.streams_info():
                if any(s.startswith("accounting.") for s in info.config.subjects or []):
                    await js.delete_stream(info.config.name)
            yield js
            await nc.close()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture
def spawn() -> Iterator[Any]:
    """Start ``saldo relay`` processes; every one still running is killed at the end."""
    started: list[subprocess.Popen[str]] = []

    def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
        process = subprocess.Popen([sys.executable, "-m", "saldo", "relay", *args], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
