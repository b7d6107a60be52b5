"""A foreign-currency transaction without ``exchange_rate`` takes the official rate in
effect on its date; with none at all it is 422 ``rate_not_found`` and nothing is written
(issue 12 item 1; docs/currencies.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from ledger_harness import Books, Harness, expect_problem

from saldo.fx.domain import OfficialRate
from saldo.fx.service import FxService
from saldo.identity.domain import Permission
from saldo.kernel.events import Actor
from saldo.kernel.ids import new_id
from saldo.ledger.service import JournalDraft, LineDraft, PostedJournal, SourceRef
from saldo.platform.uow import UnitOfWork

pytestmark = pytest.mark.integration


async def rates(h: Harness, *rows: tuple[str, str, str]) -> None:
    service = h.container.services["fx"]
    assert isinstance(service, FxService)
    await service.store_rates([OfficialRate(c, date.fromisoformat(d), Decimal(r))
                               for c, d, r in rows], "test")


def usd_receipt(day: str, **extra: Any) -> dict[str, Any]:
    return {"date": day, "description": "USD receipt", "currency": "USD", **extra,
            "entries": [{"account_code": "1220", "debit": "100.00"},
                        {"account_code": "6115", "credit": "100.00"}]}


async def test_a_transaction_without_a_rate_takes_the_rate_in_effect(h: Harness) -> None:
    books = await h.books()
    # Fixed Friday 2026-03-13 (2.7123) and Monday 2026-03-16 (2.7201).
    await rates(h, ("USD", "2026-03-13", "2.7123"), ("USD", "2026-03-16", "2.7201"))
    r = await h.client.post(books.url("/transactions"), headers=books.clerk,
                            json=usd_receipt("2026-03-15"))  # a Sunday: Friday's rate
    assert r.status_code == 201, r.text
    tx = r.json()
    # 100.00 USD × 2.7123 = 271.23 GEL
    assert Decimal(tx["exchange_rate"]) == Decimal("2.7123")
    assert [(e["debit_base"], e["credit_base"]) for e in tx["entries"]] == [
        ("271.23", "0.00"), ("0.00", "271.23")]
    r = await h.client.post(books.url("/transactions"), headers=books.clerk,
                            json=usd_receipt("2026-03-16"))
    assert r.status_code == 201, r.text
    assert Decimal(r.json()["exchange_rate"]) == Decimal("2.7201")
    assert r.json()["total"] == "272.01"  # 100.00 × 2.7201


async def test_a_rate_given_wins_over_the_official_one(h: Harness) -> None:
    books = await h.books()
    await rates(h, ("USD", "2026-03-13", "2.7123"))
    r = await h.client.post(books.url("/transactions"), headers=books.clerk,
                            json=usd_receipt("2026-03-16", exchange_rate="2.70"))
    assert r.status_code == 201, r.text
    assert r.json()["total"] == "270.00"


async def test_no_rate_at_all_is_rate_not_found_and_writes_nothing(h: Harness) -> None:
    books = await h.books()
    await rates(h, ("USD", "2026-03-16", "2.7201"))  # only after the transaction's date
    before = await books.state()
    r = await h.client.post(books.url("/transactions"), headers=books.clerk,
                            json=usd_receipt("2026-03-13"))
    body = expect_problem(r, 422, "rate_not_found")
    assert "USD" in body["detail"]
    assert "2026-03-13" in body["detail"]
    r = await h.client.post(books.url("/transactions"), headers=books.clerk,
                            json={**usd_receipt("2026-03-13"), "currency": "EUR"})
    expect_problem(r, 422, "rate_not_found")
    assert await books.state() == before


async def test_a_batch_takes_rates_per_row_and_names_the_row_without_one(h: Harness) -> None:
    books = await h.books()
    await rates(h, ("EUR", "2026-03-02", "2.9500"))
    batch = {"transactions": [usd_receipt("2026-03-10", currency="EUR"),
                              usd_receipt("2026-03-01", currency="EUR")]}
    before = await books.state()
    r = await h.client.post(books.url("/transactions/batch"), headers=books.chief,
                            json=batch)
    body = expect_problem(r, 422)
    assert [(f["row"], f["code"]) for f in body["findings"]] == [(2, "rate_not_found")]
    assert await books.state() == before
    batch["transactions"].pop()
    r = await h.client.post(books.url("/transactions/batch"), headers=books.chief,
                            json=batch)
    assert r.status_code == 201, r.text
    assert await books.balance("1220") == "295.00"  # 100.00 EUR × 2.9500


async def test_the_posting_port_takes_the_official_rate(h: Harness) -> None:
    books: Books = await h.books()
    await rates(h, ("USD", "2026-03-02", "2.6950"))
    ctx = await h.container.identity.member_context(books.company_id, "clerk",
                                                    Permission.TRANSACTIONS_WRITE)
    actor = Actor(ctx.user.id, ctx.user.username)
    invoice_id = new_id()

    async def invoice(uow: UnitOfWork) -> PostedJournal:
        return await h.container.ledger.post_journal(uow, JournalDraft(
            date(2026, 3, 10), "Export invoice", source=SourceRef("sales_invoice", invoice_id),
            currency="USD",
            lines=[LineDraft("1410", debit=Decimal("1000.00"), document_id=invoice_id),
                   LineDraft("6115", credit=Decimal("1000.00"), document_id=invoice_id)]))

    posted = await h.container.units.run(books.company_id, actor, invoice)
    assert posted.content.exchange_rate == Decimal("2.695")
    assert await books.balance("1410") == "2695.00"  # 1,000.00 USD × 2.6950
