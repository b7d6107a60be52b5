"""IAS 7.28 with the real IAS 21 revaluation (fx): the effect of exchange rates on cash is
its own line, the revaluation of receivables and payables is no cash flow, both methods
agree, and assets = liabilities + equity after the revaluation.

March 2026 (the fx tests' books, docs/currencies.md): USD capital 1,000 at 2.70 on 1220;
a USD 500 export invoice (1,350.00); a EUR 200 advertising bill (580.00); a USD 100
advance to a supplier paid from 1220 (270.00). Revalued on 31 March (USD 2.75, EUR 2.95):
1220 +45.00, 1410 +25.00 (Cr 8145 70.00), 3110 −10.00 (Dr 8245 10.00).

Cash 1220: 2,700.00 − 270.00 + 45.00 = 2,475.00. Profit: 1,350 − 580 + 70 − 10 = 830.
Indirect operating: 830 − 70 + 10 (unrealised differences reversed) − 1,620 (1400:
1410 −1,350 and 1480 −270; the +25 revalued is no working capital) + 580 (3110 without
its −10) = −270 = the advance paid, as the direct method says; financing +2,700;
effect of exchange rates on cash +45.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from ledger_harness import Books, Harness

from saldo.fx.domain import OfficialRate
from saldo.fx.service import FxService

pytestmark = pytest.mark.integration
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


async def march(h: Harness) -> Books:
    books = await h.books()
    service = h.container.services["fx"]
    assert isinstance(service, FxService)
    await service.store_rates([OfficialRate(c, date.fromisoformat(d), Decimal(r)) for c, d, r
                               in (("USD", "2026-03-02", "2.7000"),
                                   ("EUR", "2026-03-02", "2.9000"),
                                   ("USD", "2026-03-31", "2.7500"),
                                   ("EUR", "2026-03-31", "2.9500"))], "test")
    for day, currency, dr, cr, amount in (("2026-03-10", "USD", "1220", "5150", "1000.00"),
                                          ("2026-03-12", "USD", "1410", "6115", "500.00"),
                                          ("2026-03-15", "EUR", "7310", "3110", "200.00"),
                                          ("2026-03-20", "USD", "1480", "1220", "100.00")):
        await books.post([(dr, amount, ""), (cr, "", amount)], day=day, currency=currency)
    r = await h.client.post(books.url("/fx-revaluations"), json={"as_of": "2026-03-31"},
                            headers=books.chief)
    assert r.status_code == 201, r.text
    return books


async def report(books: Books, name: str, **params: Any) -> dict[str, Any]:
    r = await books.h.client.get(books.url(f"/reports/{name}"), params=params,
                                 headers=books.clerk)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_the_effect_of_exchange_rates_on_cash_after_a_revaluation(h: Harness) -> None:
    books = await march(h)
    flows = {}
    for method in ("direct", "indirect"):
        cf = await report(books, "cash-flow", method=method, **MARCH)
        flows[method] = cf
        assert (cf["operating"], cf["investing"], cf["financing"], cf["fx_effect"]) == (
            "-270.00", "0.00", "2700.00", "45.00"), method
        assert (cf["opening_cash"], cf["closing_cash"]) == ("0.00", "2475.00")
        assert cf["check"]["reconciled"] is True
    operating = {x["key"]: x["amount"] for x in flows["indirect"]["sections"][0]["lines"]}
    assert operating == {"profit": "830.00", "8145": "-70.00", "8245": "10.00",
                         "1400": "-1620.00", "3100": "580.00"}
    bs = await report(books, "balance-sheet", as_of="2026-03-31")
    assert bs["total_assets"] == bs["total_equity_and_liabilities"]
    assert bs["balanced"] is True
