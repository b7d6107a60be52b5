"""Bulk posting as an import does it: batches through ``LedgerService.post_batches``,
each all or nothing, the next checked while the previous one is written."""

from __future__ import annotations

from datetime import date

import pytest
from ledger_harness import Harness

from saldo.identity.domain import Permission
from saldo.ledger.domain import ContentInput, LineDraft

pytestmark = pytest.mark.integration


def _sale(row: int, amount: str, account: str = "1410") -> tuple[int, ContentInput]:
    return row, ContentInput(date(2026, 2, 1 + row % 27), f"Sale {row}", [
        LineDraft(account, debit=amount), LineDraft("6110", credit=amount)])


async def test_batches_post_in_order_and_stop_at_the_first_with_findings(h: Harness) -> None:
    books = await h.books()
    ctx = await h.container.identity.member_context(books.company_id, "chief",
                                                     Permission.TRANSACTIONS_APPROVE)
    good = [[_sale(r, "10.00") for r in range(b * 250, b * 250 + 250)] for b in range(3)]
    bad = [_sale(1000, "5.00"), _sale(1001, "5.00", account="9999")]  # unknown account
    never = [_sale(2000, "7.00")]
    results = [r async for r in h.container.ledger.post_batches(ctx, [*good, bad, never])]

    assert [r.ok for r in results] == [True, True, True, False]
    numbers = [n for r in results[:3] for _, _, n in r.posted]
    assert numbers == list(range(1, 751))  # gap-free, in the order of the batches
    assert [(f.row, f.code) for f in results[3].findings] == [(1001, "unknown_account")]
    # The three good batches are posted; the bad one and the one after it are not.
    assert await books.balance("1410") == "7500.00"
    assert await books.balance("6110") == "-7500.00"
