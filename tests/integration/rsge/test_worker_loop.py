"""The worker loop: delivery, polling and the scheduled sync run by ``run_forever``."""

from __future__ import annotations

import asyncio

from rsge_harness import COMPANY_TIN, SUPPLIER_TIN, Rs

from saldo.rsge.settings import load_rs_settings


async def test_run_forever_sends_and_syncs_on_schedule(rs: Rs) -> None:
    await rs.set_credentials()
    rs.service.settings = load_rs_settings(url=rs.sandbox.url, timeout=2, sync_minutes=60)
    rs.sandbox.control("incoming", seller_tin=SUPPLIER_TIN, buyer_tin=COMPANY_TIN,
                       date="2026-12-02T00:00:00",
                       lines=[{"goods": "Paint", "full_amount": "236.00", "vat": "36.00"}])
    doc = rs.billing.invoice(("Sand", "118.00", "18.00"))
    await rs.queue(doc)
    stop = asyncio.Event()
    loop = asyncio.create_task(rs.service.run_forever(stop, interval=0.05))
    try:
        for _ in range(200):
            await asyncio.sleep(0.05)
            if (await rs.state(doc))["status"] == "sent":
                break
    finally:
        stop.set()
        await asyncio.wait_for(loop, 10)
    assert (await rs.state(doc))["status"] == "sent"
    r = await rs.h.client.get(rs.url("/rs/incoming-invoices"), headers=rs.books.clerk)
    assert [row["total"] for row in r.json()] == ["236.00"]
    # The next scheduled sync is an hour away.
    assert await rs.service.scheduled_sync() == 0
