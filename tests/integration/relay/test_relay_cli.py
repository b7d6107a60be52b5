"""``saldo relay`` on the command line: a missing broker is a configuration error; ``--once``
publishes and exits; ``status`` and ``dead-letters`` report."""

from __future__ import annotations

import re
import subprocess
import sys
from uuid import uuid4

import pytest
from relay_harness import STREAM, append_synthetic, relay_env

from saldo.platform.db import Database
from saldo.platform.eventstore import EventStore, Metadata, NewEvent

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def saldo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "saldo", *args], env={**env, "COLUMNS": "200"},
                          capture_output=True, text=True, timeout=120, check=False)


async def test_relay_commands(db: Database, js: object, nats_url: str) -> None:
    done = saldo(relay_env(db.url), "relay", "--once")
    assert done.returncode == 2  # a configuration problem
    assert "SALDO_NATS_URL" in done.stderr

    await append_synthetic(db, 30, streams=3)
    async with db.transaction() as conn:
        await EventStore().append(conn, f"tx-{uuid4()}", "journal_transaction", 0,
                                  [NewEvent("TransactionPosted", {})], Metadata(actor="t"))
    env = relay_env(db.url, SALDO_NATS_URL=nats_url, SALDO_NATS_STREAM=STREAM)
    published = 0
    for _ in range(10):  # on a shared server the commit-order horizon may hold some back
        done = saldo(env, "relay", "--once")
        assert done.returncode == 0, done.stderr
        published += int(re.search(r"nats: published (\d+) events", done.stdout)[1])  # type: ignore[index]
        if published >= 31:
            break
    assert published == 31  # 30 published + 1 dead letter

    status = saldo(env, "relay", "status")
    assert status.returncode == 0, status.stderr
    row = next(line for line in status.stdout.splitlines() if "nats" in line)
    assert row.split("│")[3].strip() == "30"  # published
    assert row.split("│")[4].strip() == "1"  # dead letters
    assert row.split("│")[5].strip() == "0"  # behind

    letters = saldo(env, "relay", "dead-letters")
    assert "TransactionPosted" in letters.stdout
    assert "required property" in letters.stdout
