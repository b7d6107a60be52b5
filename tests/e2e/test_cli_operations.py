"""The operator's commands, run as a user runs them: `saldo db`, `worker`, `projections`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import psycopg
import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture
def fresh_url(scratch_database_url: str) -> str:
    # The CLI reads SALDO_DATABASE_URL, which must be a URL, not a libpq key=value string.
    info = psycopg.conninfo.conninfo_to_dict(scratch_database_url)
    return f"postgresql://{info.get('user', 'postgres')}@/{info['dbname']}?host={info['host']}"


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    env.update(SALDO_DATABASE_URL=url, SALDO_WORKER_POLL_INTERVAL="0.05", COLUMNS="200")
    return env


def _saldo(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "saldo", *args], env=_env(url), text=True,
                          capture_output=True, timeout=60, check=False)


def _append(url: str, *types: str) -> None:
    with psycopg.connect(url) as conn:
        for event_type in types:
            conn.execute(
                "INSERT INTO events (event_id, stream_id, stream_type, version, event_type, data)"
                " VALUES (%s, %s, 'test', 1, %s, %s)",
                (uuid.uuid4(), f"s-{uuid.uuid4()}", event_type, json.dumps({"n": 1})),
            )


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT event_type, count FROM event_type_counts").fetchall())


def test_db_upgrade_then_status(fresh_url: str) -> None:
    before = _saldo(fresh_url, "db", "status")
    assert before.returncode == 0, before.stderr
    assert "0 applied" in before.stdout
    assert "pending" in before.stdout

    upgrade = _saldo(fresh_url, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    assert "applied 0001_event_store" in upgrade.stdout
    assert "0 pending" in _saldo(fresh_url, "db", "status").stdout
    assert "schema is current" in _saldo(fresh_url, "db", "upgrade").stdout


def test_worker_once_status_and_rebuild(fresh_url: str) -> None:
    assert _saldo(fresh_url, "db", "upgrade").returncode == 0
    _append(fresh_url, "Opened", "Opened", "Closed")

    status = _saldo(fresh_url, "projections", "status")
    assert "event_type_counts" in status.stdout
    assert "not started" in status.stdout

    once = _saldo(fresh_url, "worker", "--once")
    assert once.returncode == 0, once.stderr
    assert "event_type_counts: applied 3 events" in once.stdout
    assert _counts(fresh_url) == {"Opened": 2, "Closed": 1}

    with psycopg.connect(fresh_url) as conn:  # damage the read model by hand
        conn.execute("UPDATE event_type_counts SET count = 99")
    rebuilt = _saldo(fresh_url, "projections", "rebuild", "event_type_counts")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilt from 3 events" in rebuilt.stdout
    assert _counts(fresh_url) == {"Opened": 2, "Closed": 1}

    unknown = _saldo(fresh_url, "projections", "rebuild", "no_such_model")
    assert unknown.returncode == 1
    assert "no_such_model" in unknown.stderr


def test_worker_follows_new_events_until_stopped(fresh_url: str) -> None:
    assert _saldo(fresh_url, "db", "upgrade").returncode == 0
    worker = subprocess.Popen([sys.executable, "-m", "saldo", "worker"], env=_env(fresh_url),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _append(fresh_url, "Posted")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _counts(fresh_url) != {"Posted": 1}:
            time.sleep(0.1)
        assert _counts(fresh_url) == {"Posted": 1}
        _append(fresh_url, "Posted", "Reversed")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _counts(fresh_url) != {"Posted": 2, "Reversed": 1}:
            time.sleep(0.1)
        assert _counts(fresh_url) == {"Posted": 2, "Reversed": 1}
    finally:
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=20)
    assert worker.returncode == 0, stderr
