"""How a long-running Saldo process sets itself up after start-up."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog

log = structlog.get_logger("saldo.runtime")


def freeze_startup_objects() -> None:
    """Move everything allocated at start-up out of the garbage collector's sight.

    Long-running processes create many short-lived dicts (one per event or request);
    each full collection would otherwise walk every imported module's objects again.
    ``saldo serve`` and ``saldo worker`` call this once started, and the event store
    benchmark calls it too, so that it measures the store as those processes run it.
    Measured: read-all through subscribe() +25 to +40 % (bench/eventstore.py).
    """
    gc.collect()
    gc.freeze()


@asynccontextmanager
async def in_background(
    work: Callable[[asyncio.Event], Awaitable[None]], *, name: str, retry_seconds: float = 5.0,
) -> AsyncIterator[None]:
    """Run ``work(stop)`` as a task while the block runs; on leaving, set ``stop`` and
    wait for it (cancelled after 10 s). An error (the database went away) is logged on
    one line and the work starts again ``retry_seconds`` later: a background loop inside
    the server must neither die quietly nor take the server down."""
    stop = asyncio.Event()

    async def supervise() -> None:
        while not stop.is_set():
            try:
                await work(stop)
            except Exception as exc:
                log.warning("background_work_failed", task=name,
                            error=f"{type(exc).__name__}: {str(exc).strip()[:300]}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=retry_seconds)

    task = asyncio.get_running_loop().create_task(supervise(), name=name)
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=10)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, made before anything else starts: a port that is
    taken stops ``saldo serve`` at once, before it starts the embedded PostgreSQL (which
    a late failure could leave running). Raises ``OSError`` naming the address."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock
