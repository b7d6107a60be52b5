"""Delivery that loses nothing: the stand-in down, slow, failing every call, or failing
after accepting the header; a worker killed mid-send resumes; nothing is sent twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from rsge_harness import Rs
from sandbox_server import free_port

from saldo.rsge.service import RsgeService
from saldo.rsge.settings import load_rs_settings


def later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def _deliver_later(rs: Rs, seconds: float = 3600) -> None:
    """Move the queue's clock on by ``seconds`` (past any backoff), then deliver."""
    rs.skipped += seconds
    skipped = rs.skipped
    rs.service.clock = lambda: later(skipped)
    await rs.service.deliver_due()


async def test_stand_in_down_then_back(rs: Rs) -> None:
    await rs.set_credentials()
    doc = rs.billing.invoice(("Sand", "118.00", "18.00"))
    await rs.queue(doc)
    # Nothing listens on this port: connection refused.
    rs.service.settings = load_rs_settings(url=f"http://127.0.0.1:{free_port()}", timeout=1)
    rs.service._client = None
    await rs.service.deliver_due()
    state = await rs.state(doc)
    assert state["status"] == "queued", state
    assert state["attempts"] == 1
    assert "unreachable" in state["last_error"]
    # The next attempt waits: 5 s × 2^0 with jitter in [2.5 s, 5 s].
    due = datetime.fromisoformat(state["next_attempt_at"])
    assert timedelta(seconds=2) < due - datetime.now(UTC) <= timedelta(seconds=5)
    assert await rs.service.deliver_due() == 0  # not due yet

    rs.service.settings = load_rs_settings(url=rs.sandbox.url, timeout=2)
    rs.service._client = None
    await _deliver_later(rs)
    state = await rs.state(doc)
    assert state["status"] == "sent", state
    assert state["last_error"] is None
    assert rs.sandbox.state.calls["save_invoice_n"] == 1


@pytest.mark.parametrize("mode", ["fault", "html", "truncated"])
async def test_failing_every_call_dead_letters_then_retry(rs: Rs, mode: str) -> None:
    await rs.set_credentials()
    rs.service.settings = load_rs_settings(url=rs.sandbox.url, timeout=2, max_attempts=3)
    doc = rs.billing.invoice(("Sand", "118.00", "18.00"))
    await rs.queue(doc)
    rs.sandbox.fault(mode)
    for _ in range(3):
        await _deliver_later(rs)
    state = await rs.state(doc)
    assert state["status"] == "failed", state
    assert state["attempts"] == 3
    assert state["last_error"]
    await _deliver_later(rs)  # the dead letter is not tried again by itself
    assert (await rs.state(doc))["attempts"] == 3
    r = await rs.h.client.get(rs.url("/rs/e-invoices"), params={"status": "failed"},
                              headers=rs.books.clerk)
    assert [row["document_id"] for row in r.json()] == [str(doc)]

    rs.sandbox.clear_faults()
    r = await rs.h.client.post(rs.url(f"/sales-invoices/{doc}/e-invoice/retry"),
                               headers=rs.books.clerk)
    assert r.status_code == 202
    await _deliver_later(rs)
    assert (await rs.state(doc))["status"] == "sent"
    assert len(rs.sandbox.state.invoices) == 1


async def test_slow_answer_is_a_timeout_not_a_loss(rs: Rs) -> None:
    await rs.set_credentials()
    rs.service.settings = load_rs_settings(url=rs.sandbox.url, timeout=0.5)
    rs.service._client = None
    doc = rs.billing.invoice(("Sand", "118.00", "18.00"))
    await rs.queue(doc)
    rs.sandbox.fault("slow", "chek", delay=1.5, count=1)
    await rs.service.deliver_due()
    state = await rs.state(doc)
    assert state["status"] == "queued"
    assert "timeout" in state["last_error"]
    await _deliver_later(rs)
    assert (await rs.state(doc))["status"] == "sent"


async def test_failing_after_the_header_resumes_without_a_second_header(rs: Rs) -> None:
    await rs.set_credentials()
    doc = rs.billing.invoice(("A", "118.00", "18.00"), ("B", "59.00", "9.00"),
                             ("C", "11.80", "1.80"))
    await rs.queue(doc)
    # The header is accepted, the first line works, the second fails.
    rs.sandbox.fault("fault", "save_invoice_desc", count=1)
    await rs.service.deliver_due()
    state = await rs.state(doc)
    assert state["status"] == "queued", state
    assert state["rs_id"] is not None
    assert state["lines_saved"] == 0
    await _deliver_later(rs)
    state = await rs.state(doc)
    assert state["status"] == "sent", state
    held = rs.sandbox.state.invoices[state["rs_id"]]
    assert [line["goods"] for line in held["lines"]] == ["A", "B", "C"]
    assert rs.sandbox.state.calls["save_invoice_n"] == 1
    assert len(rs.sandbox.state.invoices) == 1


async def test_lost_answers_are_found_on_rs_ge_not_sent_again(rs: Rs) -> None:
    """rs.ge does the work but the answer never arrives (the header, then a line): the
    resend asks rs.ge what it has -- the header by its note, the lines by the diffgram."""
    await rs.set_credentials()
    doc = rs.billing.invoice(("A", "118.00", "18.00"), ("B", "59.00", "9.00"))
    await rs.queue(doc)
    rs.sandbox.fault("lose_answer", "save_invoice_n", count=1)
    await rs.service.deliver_due()
    state = await rs.state(doc)
    assert state["rs_id"] is None  # Saldo never heard the id...
    assert len(rs.sandbox.state.invoices) == 1  # ...but rs.ge holds the header

    rs.sandbox.fault("lose_answer", "save_invoice_desc", count=1)
    await _deliver_later(rs)
    state = await rs.state(doc)
    assert state["rs_id"] is not None  # found by the note "saldo:<document id>"
    assert state["status"] == "queued"

    await _deliver_later(rs)
    state = await rs.state(doc)
    assert state["status"] == "sent", state
    assert len(rs.sandbox.state.invoices) == 1
    held = rs.sandbox.state.invoices[state["rs_id"]]
    assert [line["goods"] for line in held["lines"]] == ["A", "B"]  # B once, not twice


async def test_worker_killed_mid_send_resumes(rs: Rs) -> None:
    await rs.set_credentials()
    doc = rs.billing.invoice(("A", "118.00", "18.00"), ("B", "59.00", "9.00"),
                             ("C", "11.80", "1.80"))
    await rs.queue(doc)
    rs.sandbox.fault("slow", "save_invoice_desc", delay=0.5)
    task = asyncio.create_task(rs.service.deliver_due())
    # Kill the worker after the header and the first line were recorded.
    for _ in range(100):
        await asyncio.sleep(0.05)
        if (await rs.state(doc))["lines_saved"] >= 1:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    rs.sandbox.clear_faults()
    await asyncio.sleep(0.6)  # a line call may have reached rs.ge as the worker died
    state = await rs.state(doc)
    assert state["status"] == "queued"
    assert state["rs_id"] is not None

    # Another worker (a new process: a new service over the same database) takes over
    # once the dead worker's lease runs out.
    other = RsgeService(rs.service.units, rs.service.db, load_rs_settings(
        url=rs.sandbox.url, timeout=2), rs.service.cipher, rs.billing)
    assert await other.deliver_due() == 0  # still leased by the dead worker
    other.clock = lambda: later(rs.service.settings.lease_seconds + 1)
    assert await other.deliver_due() == 1
    await other.aclose()
    state = await rs.state(doc)
    assert state["status"] == "sent", state
    held = rs.sandbox.state.invoices[state["rs_id"]]
    assert [line["goods"] for line in held["lines"]] == ["A", "B", "C"]
    assert rs.sandbox.state.calls["save_invoice_n"] == 1


async def test_unknown_status_is_a_finding(rs: Rs) -> None:
    await rs.set_credentials()
    doc = rs.billing.invoice(("A", "118.00", "18.00"))
    await rs.queue(doc)
    await rs.service.deliver_due()
    rs_id = (await rs.state(doc))["rs_id"]
    rs.sandbox.state.invoices[rs_id]["status"] = 42
    r = await rs.h.client.get(rs.url(f"/sales-invoices/{doc}/e-invoice"),
                              params={"refresh": "true"}, headers=rs.books.clerk)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "sent"
    assert "unknown invoice status 42" in r.json()["last_error"]


async def test_worker_killed_before_the_header_answer_on_the_first_attempt(rs: Rs) -> None:
    """Killed while rs.ge was saving the header, before any failure was recorded: the
    next worker finds the expired lease, asks rs.ge, and adopts the header it made."""
    await rs.set_credentials()
    doc = rs.billing.invoice(("A", "118.00", "18.00"))
    await rs.queue(doc)
    rs.sandbox.fault("slow", "save_invoice_n", delay=0.6, count=1)
    task = asyncio.create_task(rs.service.deliver_due())
    for _ in range(100):
        await asyncio.sleep(0.05)
        if rs.sandbox.state.calls.get("save_invoice_n"):
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.8)  # rs.ge finishes the header the dead worker asked for
    assert len(rs.sandbox.state.invoices) == 1
    state = await rs.state(doc)
    assert state["rs_id"] is None
    assert state["attempts"] == 0

    other = RsgeService(rs.service.units, rs.service.db, load_rs_settings(
        url=rs.sandbox.url, timeout=2), rs.service.cipher, rs.billing)
    other.clock = lambda: later(rs.service.settings.lease_seconds + 1)
    assert await other.deliver_due() == 1
    await other.aclose()
    state = await rs.state(doc)
    assert state["status"] == "sent", state
    assert len(rs.sandbox.state.invoices) == 1  # adopted, not made twice
    assert rs.sandbox.state.calls["save_invoice_n"] == 1
