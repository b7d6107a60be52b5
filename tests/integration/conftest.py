"""A Saldo app on the test database, built per test through the composition root
(``bootstrap.build`` and ``create_app``), its lifespan run for real, and driven through
``httpx.ASGITransport``: the identity, ledger and reporting tests share it.

The harness is the ledger's (``h.books()`` and its posting helpers), which is the
identity harness with more shortcuts. Both live in ``tests/integration/harness/``, which
pytest puts on ``sys.path`` (``pythonpath`` in pyproject.toml), so tests import them as
``identity_harness`` and ``ledger_harness``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from ledger_harness import Harness, settings_for_tests

from saldo import bootstrap
from saldo.platform.db import Database


@pytest.fixture
def make_harness(db: Database) -> Callable[..., Any]:
    """``async with make_harness(**settings) as h:`` for tests that need other settings."""
    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[Harness]:
        container = bootstrap.build(settings_for_tests(**overrides), db.url)
        app = bootstrap.create_app(container)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://saldo.test") as c:
                yield Harness(container, c, app)

    return make


@pytest.fixture
async def h(make_harness: Callable[..., Any]) -> AsyncIterator[Harness]:
    async with make_harness() as harness:
        yield harness


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its cheapest: tests log in hundreds of times, and the cost parameters
    are not what they test (production keeps argon2-cffi's defaults)."""
    from argon2 import PasswordHasher

    from saldo.identity import security

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(security, "_hasher", cheap)
    dummy = cheap.hash("dummy")
    monkeypatch.setattr(security, "_dummy_hash", lambda: dummy)
