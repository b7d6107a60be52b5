from __future__ import annotations

import pytest
from ledger_harness import Harness

pytestmark = pytest.mark.integration


async def test_sale_cycle(h: Harness) -> None:
    books = await h.books()
    tx = await books.post([("1410", "1180.00", ""), ("6110", "", "1000.00"),
                           ("3330", "", "180.00")])
    assert tx["status"] == "posted" and tx["number"] == 1
    assert await books.balance("1410") == "1180.00"
    assert await books.balance("3330") == "-180.00"
    assert await books.balance("1400") == "1180.00"
