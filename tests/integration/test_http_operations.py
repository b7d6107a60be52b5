"""Operations endpoints and HTTP plumbing, through the real ASGI app and a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from saldo import bootstrap
from saldo.platform.db import Database
from saldo.platform.settings import load_settings

pytestmark = pytest.mark.integration


async def _client(url: str, **settings: object) -> AsyncIterator[httpx.AsyncClient]:
    # The URL is handed over directly: the fixtures give libpq conninfo strings, not URLs.
    container = bootstrap.build(load_settings(**settings), url)
    app = bootstrap.create_app(container)
    await container.db.open()
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://saldo.test") as client:
            yield client
    finally:
        await container.db.close()


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(db.url):
        yield c


async def test_liveness_and_readiness_on_a_migrated_database(client: httpx.AsyncClient) -> None:
    live = await client.get("/health")
    assert live.status_code == 200
    assert live.json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "migrations": "current"}


async def test_readiness_is_503_while_migrations_are_pending(scratch_database_url: str) -> None:
    async for client in _client(scratch_database_url):
        response = await client.get("/health/ready")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["code"] == "not_ready"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["migrations"].startswith("pending")


METRICS_TOKEN = "metrics-token-for-the-tests"


async def test_metrics_are_prometheus_text_with_request_counts(db: Database) -> None:
    async for client in _client(db.url, metrics_token=METRICS_TOKEN):
        await client.get("/health")
        response = await client.get("/metrics",
                                    headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'saldo_http_requests_total{method="GET",route="/health",status="200"}' in response.text


async def test_unknown_path_is_a_problem_with_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nowhere", headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "abc-123"
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert body["status"] == 404


async def test_a_hostile_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "x\"; DROP TABLE events"})
    request_id = response.headers["x-request-id"]
    assert request_id != "x\"; DROP TABLE events"
    assert len(request_id) == 32
    assert request_id.isalnum()


async def test_security_headers_on_every_response(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_an_oversized_body_is_refused_before_it_is_read(db: Database) -> None:
    async for client in _client(db.url, max_body_bytes=1024):
        response = await client.post("/health", content=b"x" * 5000)
        assert response.status_code == 413
        assert response.json()["code"] == "body_too_large"


async def test_metrics_still_answer_while_the_database_is_down() -> None:
    url = "postgresql://saldo@127.0.0.1:1/saldo"  # nothing listens on port 1
    container = bootstrap.build(load_settings(metrics_token=METRICS_TOKEN), url)
    app = bootstrap.create_app(container)  # the pool is never opened: the database is "down"
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://saldo.test") as client:
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/health/ready")).status_code == 503
        response = await client.get("/metrics",
                                    headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert "saldo_http_requests_total" in response.text
