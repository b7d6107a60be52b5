"""Outgoing e-invoices through the stand-in: issue → send → confirm, reject → correction,
and the queue's states seen through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ledger_harness import expect_problem
from rsge_harness import Rs

from saldo.platform.eventstore import Metadata, NewEvent
from saldo.rsge.domain import CorrectionType


def later(hours: float) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


async def test_issue_send_confirm(rs: Rs) -> None:
    await rs.set_credentials()
    # 2 lines: 118.00 incl. 18.00 VAT (100 × 18%) and 59.00 incl. 9.00 VAT (50 × 18%).
    doc = rs.billing.invoice(("Oak planks", "118.00", "18.00"), ("Nails", "59.00", "9.00"))
    assert await rs.queue(doc) == {"status": "queued"}
    state = await rs.state(doc)
    assert state["status"] == "queued"
    assert state["attempts"] == 0
    assert state["rs_id"] is None

    assert await rs.service.deliver_due() == 1
    state = await rs.state(doc)
    assert state["status"] == "sent", state
    assert state["series"] == "ეა-05"
    assert state["number"] is not None
    assert state["lines_saved"] == 2
    assert state["last_error"] is None
    held = rs.sandbox.state.invoices[state["rs_id"]]
    assert held["status"] == 1
    assert len(held["lines"]) == 2
    assert sum(line["full_amount"] for line in held["lines"]) == 177  # 118 + 59
    assert sum(line["drg_amount"] for line in held["lines"]) == 27  # 18 + 9
    assert held["note"] == f"saldo:{doc}"

    # Nothing is due: the first poll comes poll_seconds (300) after the send.
    assert await rs.service.deliver_due() == 0
    assert await rs.service.poll_sent() == 0
    rs.service.clock = lambda: later(1)
    assert await rs.service.poll_sent() == 1  # the buyer has not decided yet
    assert (await rs.state(doc))["status"] == "sent"
    assert await rs.service.poll_sent() == 0  # the next poll is poll_seconds away

    rs.sandbox.control("decide", rs_id=state["rs_id"], decision="confirm")
    rs.service.clock = lambda: later(2)
    assert await rs.service.poll_sent() == 1
    state = await rs.state(doc)
    assert state["status"] == "confirmed"
    # Queuing it again is a conflict, not a second invoice on rs.ge.
    r = await rs.h.client.post(rs.url(f"/sales-invoices/{doc}/e-invoice"),
                               headers=rs.books.clerk)
    expect_problem(r, 409, "e_invoice_exists")
    assert rs.sandbox.state.calls["save_invoice_n"] == 1


async def test_reject_then_correction(rs: Rs) -> None:
    await rs.set_credentials()
    doc = rs.billing.invoice(("Cement 50 kg", "236.00", "36.00"))  # 200 + 18% = 236
    await rs.queue(doc)
    await rs.service.deliver_due()
    rs_id = (await rs.state(doc))["rs_id"]
    rs.sandbox.control("decide", rs_id=rs_id, decision="reject")
    r = await rs.h.client.get(rs.url(f"/sales-invoices/{doc}/e-invoice"),
                              params={"refresh": "true"}, headers=rs.books.clerk)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected"

    # The seller corrects with a credit note (the price was wrong): k_invoice, type 3.
    # 236.00 → 177.00: the correction carries the corrected line (150 + 27 VAT).
    note = rs.billing.invoice(("Cement 50 kg", "177.00", "27.00"), number="CN-0001",
                              corrects=doc, correction_type=CorrectionType.PRICE_CHANGED)
    await rs.queue(note)
    await rs.service.deliver_due()
    state = await rs.state(note)
    assert state["status"] == "sent", state
    assert state["kind"] == "correction"
    assert state["corrects"] == str(doc)
    correction = rs.sandbox.state.invoices[state["rs_id"]]
    assert correction["corrects"] == rs_id
    assert correction["k_type"] == 3
    assert correction["status"] == 5  # correction sent
    assert rs.sandbox.state.invoices[rs_id]["k_id"] == state["rs_id"]

    rs.sandbox.control("decide", rs_id=state["rs_id"], decision="confirm")
    rs.service.clock = lambda: later(1)
    await rs.service.poll_sent()
    assert (await rs.state(note))["status"] == "confirmed"  # 8: correction confirmed


async def test_correction_before_its_invoice_was_sent_is_refused(rs: Rs) -> None:
    await rs.set_credentials()
    doc = rs.billing.invoice(("Sand", "118.00", "18.00"))
    note = rs.billing.invoice(("Sand", "59.00", "9.00"), corrects=doc, correction_type=4)
    r = await rs.h.client.post(rs.url(f"/sales-invoices/{note}/e-invoice"),
                               headers=rs.books.clerk)
    expect_problem(r, 409)


async def test_without_credentials_and_unknown_invoice(rs: Rs) -> None:
    doc = rs.billing.invoice(("Sand", "118.00", "18.00"))
    r = await rs.h.client.post(rs.url(f"/sales-invoices/{doc}/e-invoice"),
                               headers=rs.books.clerk)
    expect_problem(r, 422, "rs_credentials_missing")
    await rs.set_credentials()
    r = await rs.h.client.post(rs.url("/sales-invoices/00000000-0000-0000-0000-000000000001"
                                      "/e-invoice"), headers=rs.books.clerk)
    expect_problem(r, 404)
    r = await rs.h.client.get(rs.url(f"/sales-invoices/{doc}/e-invoice"),
                              headers=rs.books.clerk)
    expect_problem(r, 404, "e_invoice_not_found")


async def test_wrong_credentials_fail_at_once_then_retry(rs: Rs) -> None:
    await rs.set_credentials(password="not-the-password")
    doc = rs.billing.invoice(("Sand", "118.00", "18.00"))
    await rs.queue(doc)
    await rs.service.deliver_due()
    state = await rs.state(doc)
    # Retrying cannot help until the password changes: dead-lettered on the first attempt.
    assert state["status"] == "failed", state
    assert state["attempts"] == 1
    assert "refused the service user" in state["last_error"]
    assert "not-the-password" not in str(state)

    await rs.set_credentials()
    r = await rs.h.client.post(rs.url(f"/sales-invoices/{doc}/e-invoice/retry"),
                               headers=rs.books.clerk)
    assert r.status_code == 202, r.text
    await rs.service.deliver_due()
    assert (await rs.state(doc))["status"] == "sent"
    r = await rs.h.client.post(rs.url(f"/sales-invoices/{doc}/e-invoice/retry"),
                               headers=rs.books.clerk)
    expect_problem(r, 409)


async def test_posting_event_queues_through_the_outbox(rs: Rs) -> None:
    """The event store is the outbox: billing's posting event queues the e-invoice."""
    await rs.set_credentials()
    doc = rs.billing.invoice(("Sand", "118.00", "18.00"))
    events = rs.h.container.store

    async with rs.h.container.app_db.transaction(company_id=rs.company_id) as conn:
        await events.append(conn, f"test-invoice-{doc}", "test_invoice", 0,
                            [NewEvent("TestInvoicePosted", {"invoice_id": str(doc)})],
                            Metadata(actor="clerk", company_id=rs.company_id))
    await rs.h.container.runner.catch_up("rsge_outbox")
    assert (await rs.state(doc))["status"] == "queued"
    await rs.service.deliver_due()
    assert (await rs.state(doc))["status"] == "sent"
    # A replay of the outbox does not queue it twice.
    await rs.h.container.runner.rebuild("rsge_outbox")
    r = await rs.h.client.get(rs.url("/rs/e-invoices"), headers=rs.books.clerk)
    assert [row["status"] for row in r.json()] == ["sent"]


async def test_outbox_loses_the_race_to_a_hand_queued_invoice(
        rs: Rs, monkeypatch: pytest.MonkeyPatch) -> None:
    """The request queued it between the outbox's check and its append: the outbox's
    append fails on the duplicate stream in a savepoint, and the projection goes on."""
    await rs.set_credentials()
    doc = rs.billing.invoice(("Sand", "118.00", "18.00"))
    await rs.queue(doc)
    store = rs.h.container.store

    async def never_seen(conn: object, stream_id: str) -> int:
        return 0

    monkeypatch.setattr(store, "stream_version", never_seen)
    async with rs.h.container.app_db.transaction(company_id=rs.company_id) as conn:
        await store.append(conn, f"test-invoice-{doc}", "test_invoice", 0,
                           [NewEvent("TestInvoicePosted", {"invoice_id": str(doc)})],
                           Metadata(actor="clerk", company_id=rs.company_id))
    await rs.h.container.runner.catch_up("rsge_outbox")
    statuses = {s.name: s.status for s in await rs.h.container.runner.status()}
    assert statuses["rsge_outbox"] == "running"
    async with rs.h.container.db.transaction() as conn:
        cursor = await conn.execute("SELECT count(*) AS n FROM events"
                                    " WHERE event_type = 'EInvoiceQueued'")
        assert (await cursor.fetchone())["n"] == 1
