"""A database outage (issue 11, 1 and 2): every request answers a fast 503
``service_unavailable`` with ``Retry-After``, the server recovers by itself when the
database returns, and no log line of the outage carries the password or a token.

The database is the test's real PostgreSQL, reached through a TCP relay the test can cut
and restore: cutting it drops every open connection and refuses new ones, as a stopped or
unreachable server does."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest
import structlog
from identity_harness import PASSWORD, Harness, settings_for_tests

from saldo import bootstrap
from saldo.platform import logging as saldo_logging
from saldo.platform.db import Database

pytestmark = pytest.mark.integration


class Relay:
    """Forwards TCP connections on 127.0.0.1 to PostgreSQL (a TCP address or a Unix
    socket); :meth:`cut` closes every relayed connection and stops listening."""

    def __init__(self, target: dict[str, str]) -> None:
        host, port = target.get("host", "localhost"), int(target.get("port") or 5432)
        self.unix = f"{host}/.s.PGSQL.{port}" if host.startswith("/") else None
        self.tcp = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.unix:
                up_reader, up_writer = await asyncio.open_unix_connection(self.unix)
            else:
                up_reader, up_writer = await asyncio.open_connection(*self.tcp)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()
        await self._server.wait_closed()
        self._server = None

    async def restore(self) -> None:
        await self.open()  # the same port: the pool's URL still names it


@pytest.fixture
async def relay(db: Database) -> AsyncIterator[Relay]:
    r = Relay(psycopg.conninfo.conninfo_to_dict(db.url))  # type: ignore[arg-type]
    await r.open()
    yield r
    if r._server is not None:
        await r.cut()


def _via(relay: Relay, url: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info.update(host="127.0.0.1", port=str(relay.port))
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]


async def test_an_outage_is_a_fast_503_and_the_server_recovers(
    db: Database, relay: Relay, capsys: pytest.CaptureFixture[str]
) -> None:
    saldo_logging.configure("info", "console")  # the format `make run` uses
    try:
        await _outage(db, relay, capsys)
    finally:
        structlog.reset_defaults()


async def _outage(db: Database, relay: Relay, capsys: pytest.CaptureFixture[str]) -> None:
    settings = settings_for_tests(db_pool_timeout=2.0, db_connect_timeout=2)
    container = bootstrap.build(settings, _via(relay, db.url))
    app = bootstrap.create_app(container)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://saldo.test",
                                     timeout=60) as client:
            h = Harness(container, client, app)
            await h.user("giorgi")
            token = await h.token("giorgi")
            me = {"Authorization": f"Bearer {token}"}
            assert (await client.get("/api/v1/me", headers=me)).status_code == 200

            await relay.cut()
            for _ in range(3):
                for request in (client.get("/api/v1/me", headers=me),
                                client.post("/api/v1/auth/token", json={
                                    "username": "giorgi", "password": PASSWORD})):
                    started = time.monotonic()
                    r = await request
                    elapsed = time.monotonic() - started
                    assert r.status_code == 503, r.text
                    assert r.headers["content-type"] == "application/problem+json"
                    assert r.json()["code"] == "service_unavailable"
                    assert int(r.headers["retry-after"]) > 0
                    assert elapsed < 4.0, elapsed  # the pool's 2 s wait, not its 30
            assert (await client.get("/health/ready")).status_code == 503
            assert (await client.get("/health")).status_code == 200

            await relay.restore()
            deadline = time.monotonic() + 30
            while (r := await client.get("/api/v1/me", headers=me)).status_code != 200:
                assert r.status_code == 503, r.text
                assert time.monotonic() < deadline, "did not recover within 30 s"
                await asyncio.sleep(0.5)
            login = await client.post("/api/v1/auth/token",
                                      json={"username": "giorgi", "password": PASSWORD})
            assert login.status_code == 200
    logs = capsys.readouterr()
    output = logs.out + logs.err
    assert "database_unavailable" in output
    for secret in (PASSWORD, token, token[-20:], login.json()["refresh_token"]):
        assert secret not in output
    assert len(output.splitlines()) < 200, len(output.splitlines())
