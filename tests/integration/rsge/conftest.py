"""Fixtures of the rs.ge tests: the stand-in served over real HTTP, a Saldo app pointed at
it (``SALDO_RS_URL``) and a company with its service user (the shared pieces are in
tests/integration/harness/rsge_harness.py and sandbox_server.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from rsge_harness import FakeBilling, Rs
from sandbox_server import Served, serve_sandbox

from saldo.rsge.service import RsgeService


@pytest.fixture(scope="session")
def rs_server() -> Iterator[Served]:
    with serve_sandbox() as served:
        yield served


@pytest.fixture
def sandbox(rs_server: Served, monkeypatch: pytest.MonkeyPatch) -> Served:
    rs_server.control("reset")
    monkeypatch.setenv("SALDO_RS_URL", rs_server.url)
    monkeypatch.setenv("SALDO_RS_TIMEOUT", "2")
    monkeypatch.setenv("SALDO_RS_SYNC_MINUTES", "0")
    return rs_server


@pytest.fixture
async def rs(sandbox: Served, make_harness: Callable[..., Any]) -> AsyncIterator[Rs]:
    async with make_harness() as h:
        books = await h.books()
        service = h.container.wiring.service("rsge", RsgeService)
        billing = FakeBilling()
        service.billing = billing
        yield Rs(h, books, service, billing, sandbox)
        await service.aclose()
