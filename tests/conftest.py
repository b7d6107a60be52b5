"""Test fixtures: real PostgreSQL servers, never stand-ins.

Integration tests run against the embedded server (started once per session in a
temporary directory) and, when ``SALDO_TEST_DATABASE_URL`` names another server, against
that one too: each test that asks for ``database_url`` runs once per server. With
``CI=true`` a missing or unreachable external server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from saldo import bootstrap
from saldo.platform import embedded
from saldo.platform.db import Database, login_as
from saldo.platform.migrations import upgrade

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Settings read without SALDO_SECRET_KEY make a development key in the data directory:
# the tests' goes to a temporary one, never to the user's (each xdist worker its own).
os.environ.setdefault("SALDO_DATA_DIR", tempfile.mkdtemp(prefix="saldo-test-data-"))
# No test process fetches NBG's rates on its own (the machine has no internet; the fx
# tests drive the client against a stand-in server).
os.environ.setdefault("SALDO_RATES_SCHEDULE", "false")
EXTERNAL_URL = os.environ.get("SALDO_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("SALDO_TEST_REDIS_URL")

#: Tables emptied between tests: the platform's, then every registered context's.
TABLES = ["events", "snapshots", "projection_checkpoints", "event_type_counts",
          *bootstrap.tables()]

#: The application role the API's pool logs in as (row-level security applies to it).
APP_ROLE = "saldo_app"


@pytest.fixture(scope="session")
def embedded_url() -> Iterator[str]:
    root = Path(tempfile.mkdtemp(prefix="saldo-test-"))
    return embedded.start(root)


def _fresh_database(server_url: str) -> tuple[str, str]:
    """Create an empty database on ``server_url``; return (its URL, its name)."""
    name = f"saldo_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    info = psycopg.conninfo.conninfo_to_dict(server_url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info), name  # type: ignore[arg-type]


@pytest.fixture
def scratch_database_url(embedded_url: str) -> Iterator[str]:
    """The URL of a brand-new, empty (unmigrated) database on the embedded server."""
    url, name = _fresh_database(embedded_url)
    yield url
    with psycopg.connect(embedded_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def external_url() -> Iterator[str]:
    if not EXTERNAL_URL:
        if IN_CI:
            pytest.fail("CI=true but SALDO_TEST_DATABASE_URL is not set: the external "
                        "PostgreSQL leg of the suite must run in CI")
        pytest.skip("SALDO_TEST_DATABASE_URL is not set; only the embedded server is tested")
    try:
        url, name = _fresh_database(EXTERNAL_URL)
    except psycopg.OperationalError as exc:
        if IN_CI:
            pytest.fail(f"SALDO_TEST_DATABASE_URL is unreachable in CI: {exc}")
        pytest.skip(f"SALDO_TEST_DATABASE_URL is unreachable: {exc}")
    yield url
    with psycopg.connect(EXTERNAL_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["embedded", "external"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database: once on the embedded server, once on the external one."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture(scope="session")
async def migrated_db(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, min_size=1, max_size=12)
    await db.open()
    async with db.connection() as conn:
        await upgrade(conn, bootstrap.migrations())
    yield db
    await db.close()


@pytest.fixture
async def db(migrated_db: Database) -> AsyncIterator[Database]:
    """The session's migrated database, emptied before each test."""
    async with migrated_db.transaction() as conn:
        await conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    return migrated_db


@pytest.fixture(scope="session")
async def migrated_app_db(migrated_db: Database) -> AsyncIterator[Database]:
    """The same database, logged in as the application role (as the API's pool is)."""
    app_db = Database(login_as(migrated_db.url, APP_ROLE), min_size=1, max_size=8)
    await app_db.open()
    yield app_db
    await app_db.close()


@pytest.fixture
async def app_db(db: Database, migrated_app_db: Database) -> Database:
    """The emptied test database as the API sees it: the application role, under
    row-level security. ``db`` stays privileged (it sees every company)."""
    return migrated_app_db


@pytest.fixture(scope="session")
def redis_url() -> str:
    """``SALDO_TEST_REDIS_URL``, checked to answer. Unset or unreachable: the Redis tests
    skip on a laptop, and fail in CI (``CI=true``), like the external PostgreSQL leg."""
    if not REDIS_URL:
        if IN_CI:
            pytest.fail("CI=true but SALDO_TEST_REDIS_URL is not set: the Redis leg of the "
                        "suite must run in CI")
        pytest.skip("SALDO_TEST_REDIS_URL is not set")
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"SALDO_TEST_REDIS_URL is unreachable in CI: {exc}")
        pytest.skip(f"SALDO_TEST_REDIS_URL is unreachable: {exc}")
    finally:
        client.close()
    return REDIS_URL
