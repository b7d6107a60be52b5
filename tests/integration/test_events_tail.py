"""``saldo events tail`` as an operator runs it: every company's events in commit order, one
JSON line each, filtered by stream type and event type, resumed exactly after a printed
checkpoint, and followed as new events commit (decision 0067)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from identity_harness import as_url

from saldo.platform.db import Database
from saldo.platform.eventstore import NO_STREAM, EventStore, Metadata, NewEvent

pytestmark = [pytest.mark.integration, pytest.mark.slow]

A, B = UUID(int=0xA), UUID(int=0xB)


def env(db: Database) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    values.update(SALDO_DATABASE_URL=as_url(db.url), SALDO_WORKER_POLL_INTERVAL="0.05",
                  SALDO_SECRET_KEY="tail-test-key-" + "x" * 40)
    return values


def tail(db: Database, *args: str) -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "saldo", "events", "tail", *args],
                          env=env(db), capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def keys(lines: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(line["stream_id"], line["type"], line["version"]) for line in lines]


async def write_the_log(db: Database) -> None:
    """Four transactions, one of which took its transaction id first and appends last: in
    commit order its event comes before the one written meanwhile, whose position is
    lower."""
    store = EventStore()
    async with db.transaction() as conn:
        await store.append(conn, "order-1", "order", NO_STREAM, [
            NewEvent("OrderPlaced", {"amount": "118.00"}),
            NewEvent("OrderShipped", {"carrier": "Georgian Post"})],
            Metadata(actor="clerk", company_id=A))
    async with db.transaction() as late:
        await late.execute("SELECT pg_current_xact_id()")  # its id is taken now
        async with db.transaction() as conn:
            await store.append(conn, "invoice-1", "invoice", NO_STREAM,
                               [NewEvent("InvoiceIssued", {"number": "INV-1"})],
                               Metadata(company_id=B))
            await store.append(conn, "order-2", "order", NO_STREAM,
                               [NewEvent("OrderPlaced", {"amount": "5.90"})],
                               Metadata(company_id=B))
        await store.append(late, "order-1", "order", 2,
                           [NewEvent("OrderPlaced", {"amount": "1.00", "again": True})],
                           Metadata(company_id=A))
    async with db.transaction() as conn:
        await store.append(conn, "user-anna", "user", NO_STREAM,
                           [NewEvent("UserRegistered", {"username": "anna"})])


async def test_tail_prints_every_company_in_commit_order_filters_and_resumes(
        db: Database) -> None:
    await write_the_log(db)

    lines = tail(db)
    assert keys(lines) == [
        ("order-1", "OrderPlaced", 1), ("order-1", "OrderShipped", 2),
        ("order-1", "OrderPlaced", 3),  # took its transaction id before the next two
        ("invoice-1", "InvoiceIssued", 1), ("order-2", "OrderPlaced", 1),
        ("user-anna", "UserRegistered", 1)]
    positions = [line["position"] for line in lines]
    assert positions[2] > positions[3]  # commit order, not insertion order
    assert [line["company_id"] for line in lines] == [str(A)] * 3 + [str(B)] * 2 + [None]
    for line in lines:
        assert line["checkpoint"] == f"{line['transaction_id']}/{line['position']}"
        recorded = datetime.fromisoformat(line["recorded_at"])
        assert timedelta(0) <= datetime.now(UTC) - recorded < timedelta(minutes=10)
    assert lines[0]["data"] == {"amount": "118.00"}
    assert lines[0]["metadata"] == {"actor": "clerk", "company_id": str(A)}
    assert (lines[3]["stream_type"], lines[3]["data"]) == ("invoice", {"number": "INV-1"})

    placed = tail(db, "--stream-type", "order", "--type", "OrderPlaced")
    assert keys(placed) == [("order-1", "OrderPlaced", 1), ("order-1", "OrderPlaced", 3),
                            ("order-2", "OrderPlaced", 1)]
    assert keys(tail(db, "--stream-type", "invoice", "--stream-type", "user")) == [
        ("invoice-1", "InvoiceIssued", 1), ("user-anna", "UserRegistered", 1)]
    assert tail(db, "--type", "NoSuchEvent") == []

    # Resuming after a printed checkpoint gives exactly the lines after it.
    for k in (0, 2):  # after line 2 comes a lower position, which resuming by position loses
        assert tail(db, "--after", lines[k]["checkpoint"]) == lines[k + 1:]
    assert tail(db, "--after", lines[-1]["checkpoint"]) == []

    refused = subprocess.run([sys.executable, "-m", "saldo", "events", "tail", "--after", "12"],
                             env=env(db), capture_output=True, text=True, timeout=120,
                             check=False)
    assert refused.returncode == 2
    assert "TRANSACTION/POSITION" in refused.stderr


async def test_tail_follows_new_events_until_stopped(db: Database) -> None:
    await write_the_log(db)
    last = tail(db)[-1]["checkpoint"]
    follower = subprocess.Popen(
        [sys.executable, "-m", "saldo", "events", "tail", "--follow", "--after", last,
         "--type", "InvoicePaid"],
        env=env(db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert follower.stderr is not None
        while "following events after" not in (said := follower.stderr.readline()):
            assert said, "the follower ended before it started following"
        async with db.transaction() as conn:
            await EventStore().append(conn, "invoice-1", "invoice", 1, [
                NewEvent("InvoiceReminded", {}), NewEvent("InvoicePaid", {"paid": "118.00"})],
                Metadata(company_id=B))
        assert follower.stdout is not None
        ready, _, _ = select.select([follower.stdout], [], [], 60)
        assert ready, "no line within a minute"
        line = json.loads(follower.stdout.readline())
        assert (line["stream_id"], line["type"], line["version"], line["data"]) == (
            "invoice-1", "InvoicePaid", 3, {"paid": "118.00"})
    finally:
        follower.send_signal(signal.SIGTERM)
        rest, stderr = follower.communicate(timeout=30)
    assert follower.returncode == 0, stderr
    assert rest == ""  # nothing else: the reminder is filtered out
