from __future__ import annotations

import pytest
from ledger_harness import Harness

from saldo.identity.domain import Permission

pytestmark = pytest.mark.integration


async def test_closing_moves_profit_to_5310_and_reopening_undoes_it(h: Harness) -> None:
    books = await h.books()
    await books.post([("1410", "1180.00", ""), ("6110", "", "1000.00"), ("3330", "", "180.00")],
                     day="2025-03-15")
    await books.post([("7420", "300.00", ""), ("1210", "", "300.00")], day="2025-04-15")
    ctx = await h.container.identity.member_context(books.company_id, "chief",
                                                     Permission.PERIODS_CLOSE)
    result = await h.container.ledger.close_fiscal_year(ctx, 2025)
    assert result["closing_transaction"] is not None
    assert await books.balance("6110", "2025-12-31") == "0.00"
    assert await books.balance("7420", "2025-12-31") == "0.00"
    assert await books.balance("5310", "2025-12-31") == "-700.00"
    r = await h.client.post(books.url("/transactions"), headers=books.clerk, json={
        "date": "2025-05-01", "description": "x", "entries": [
            {"account_code": "1110", "debit": "1"}, {"account_code": "6110", "credit": "1"}]})
    tx = r.json()["id"]
    await h.client.post(books.url(f"/transactions/{tx}/approve"), headers=books.chief)
    r = await h.client.post(books.url(f"/transactions/{tx}/post"), headers=books.clerk)
    assert r.status_code == 422, r.text
    await h.container.ledger.reopen_fiscal_year(ctx, 2025)
    assert await books.balance("6110", "2025-12-31") == "-1000.00"
    assert await books.balance("5310", "2025-12-31") == "0.00"
    r = await h.client.post(books.url(f"/transactions/{tx}/post"), headers=books.clerk)
    assert r.status_code == 200, r.text
    await h.container.runner.rebuild("ledger")
    assert await books.balance("6110", "2025-12-31") == "-1001.00"
