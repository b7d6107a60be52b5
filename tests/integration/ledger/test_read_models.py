"""The ledger's read models are a function of its events: rebuilding them by replaying the
log (``saldo projections rebuild ledger``) gives, row for row and column for column, the
tables the inline projection kept while the books were written."""

from __future__ import annotations

from typing import Any

import pytest
from ledger_harness import Books, Harness

pytestmark = pytest.mark.integration

#: Each read model and its key: rows are compared in key order, every column included.
READ_MODELS = {
    "accounts": "company_id, code",
    "fiscal_periods": "company_id, period",
    "transaction_numbers": "company_id, fiscal_year",
    "journal_transactions": "company_id, id",
    "journal_lines": "company_id, entry_date, transaction_id, line_no",
    "account_turnover": "company_id, account_code, day",
}

SALE = [("1410", "1180.00", ""), ("6110", "", "1000.00"), ("3330", "", "180.00")]


async def snapshot(h: Harness) -> dict[str, list[dict[str, Any]]]:
    """Every row of every read model, of every company (the privileged pool)."""
    tables = {}
    async with h.container.db.transaction() as conn:
        for table, key in READ_MODELS.items():
            cursor = await conn.execute(f"SELECT * FROM {table} ORDER BY {key}")
            tables[table] = list(await cursor.fetchall())
    return tables


async def write_a_year_of_books(h: Harness, books: Books) -> None:
    """Drafts, amendments, discards, approvals, postings, reversals, foreign currency
    with a rounding line, a batch, chart changes and period closes."""
    client, chief, clerk = h.client, books.chief, books.clerk
    # The company's own accounts: two banks under 1210, one deleted again, one renamed.
    for code, name in (("1210.01", "TBC Bank, GEL"), ("1210.02", "Bank of Georgia, GEL"),
                       ("1210.03", "Opened by mistake")):
        r = await client.post(books.url("/accounts"), headers=chief,
                              json={"code": code, "name": name})
        assert r.status_code == 201, r.text
    assert (await client.delete(books.url("/accounts/1210.03"), headers=chief)).status_code == 204
    r = await client.patch(books.url("/accounts/1210.02"), headers=chief,
                           json={"name": "Bank of Georgia, GEL current", "name_ka": "ბოგ"})
    assert r.status_code == 200, r.text
    assert (await client.patch(books.url("/accounts/1120"), headers=chief,
                               json={"active": False})).status_code == 200

    capital = await books.post([("1210.01", "20000.00", ""), ("5150", "", "20000.00")],
                               day="2026-01-05", description="Charter capital")
    await books.post(SALE, day="2026-01-20", description="Invoice 1")
    rent = await books.post([("7420", "1500.00", ""), ("1210.01", "", "1500.00")],
                            day="2026-02-01", description="Rent, February")
    r = await books.act(rent["id"], "reverse", reason="Paid by the landlord's mistake",
                        date="2026-02-03")
    assert r.status_code == 201, r.text
    # Foreign currency: USD 150.02 at 2.7000, with its rounding line.
    fx = await books.draft([("1410", "150.00", ""), ("6110", "", "150.00")],
                           day="2026-02-10", currency="USD", exchange_rate="2.7000")
    r = await client.patch(books.url(f"/transactions/{fx['id']}"), headers=clerk, json={
        "date": "2026-02-10", "description": "Export invoice 2", "currency": "USD",
        "exchange_rate": "2.7000", "entries": [
            {"account_code": "1410", "debit": "150.02"},
            {"account_code": "6110", "credit": "100.01"},
            {"account_code": "6110", "credit": "50.01"},
            {"account_code": "8240", "debit_base": "0.01", "description": "Rounding"}]})
    assert r.status_code == 200, r.text
    assert (await books.act(fx["id"], "approve")).status_code == 200
    assert (await books.act(fx["id"], "post", by="clerk")).status_code == 200
    # A discarded draft, an amended draft left open, an approved one not yet posted.
    gone = await books.draft(SALE, day="2026-02-11")
    assert (await client.delete(books.url(f"/transactions/{gone['id']}"),
                                headers=clerk)).status_code == 204
    open_draft = await books.draft(SALE, day="2026-02-12")
    r = await client.patch(books.url(f"/transactions/{open_draft['id']}"), headers=clerk,
                           json={"date": "2026-02-13", "description": "Invoice 3, corrected",
                                 "reference": "INV-3", "entries": [
                                     {"account_code": "1410", "debit": "590.00"},
                                     {"account_code": "6110", "credit": "500.00"},
                                     {"account_code": "3330", "credit": "90.00"}]})
    assert r.status_code == 200, r.text
    await books.approved([("7492", "4.50", ""), ("1210.02", "", "4.50")], day="2026-02-27")
    # An idempotent retry is one transaction.
    retry = {"date": "2026-03-02", "description": "Salaries, February", "entries": [
        {"account_code": "7410", "debit": "3000.00"},
        {"account_code": "3130", "credit": "2400.00"},
        {"account_code": "3320", "credit": "600.00"}]}
    for _ in range(2):
        r = await client.post(books.url("/transactions"), json=retry,
                              headers={**clerk, "Idempotency-Key": "payroll-2026-02"})
        assert r.status_code in (200, 201), r.text
    # A batch across two months and into the next fiscal year.
    r = await client.post(books.url("/transactions/batch"), headers=chief, json={
        "transactions": [
            {"date": "2026-03-10", "description": "Goods from supplier", "entries": [
                {"account_code": "1610", "debit": "1000.00"},
                {"account_code": "3340", "debit": "180.00"},
                {"account_code": "3110", "credit": "1180.00"}]},
            {"date": "2026-03-10", "description": "Customer pays", "entries": [
                {"account_code": "1210.02", "debit": "1180.00"},
                {"account_code": "1410", "credit": "1180.00"}]},
            {"date": "2027-01-04", "description": "January bank fee", "entries": [
                {"account_code": "7492", "debit": "3.00"},
                {"account_code": "1210.02", "credit": "3.00"}]}]})
    assert r.status_code == 201, r.text
    # Periods: January locked, February closed, March closed and reopened.
    for period, action in (("2026-01", "close"), ("2026-01", "lock"), ("2026-02", "close"),
                           ("2026-03", "close"), ("2026-03", "reopen")):
        r = await client.post(books.url(f"/fiscal-periods/{period}/{action}"), headers=chief)
        assert r.status_code == 200, r.text
    await books.post([("3130", "2400.00", ""), ("1210.01", "", "2400.00")], day="2026-03-05",
                     description="Salaries paid")
    assert capital["number"] == 1


async def test_rebuilt_read_models_equal_the_live_ones(h: Harness) -> None:
    books = await h.books()
    await write_a_year_of_books(h, books)
    other = await h.other_books("kutaisi", name="Kutaisi Mills LLC")
    await other.post(SALE, day="2026-05-05")
    await other.post([("1110", "75.00", ""), ("6110", "", "75.00")], day="2027-02-01")

    live = await snapshot(h)
    for table, rows in live.items():
        assert rows, f"{table} is empty: the scenario does not exercise it"
    statuses = {t["status"] for t in live["journal_transactions"]}
    assert statuses == {"draft", "approved", "posted", "discarded"}
    assert {p["status"] for p in live["fiscal_periods"]} == {"open", "closed", "locked"}

    replayed = await h.container.runner.rebuild("ledger")
    assert replayed > 0
    rebuilt = await snapshot(h)
    for table in READ_MODELS:
        assert len(rebuilt[table]) == len(live[table]), table
        for before, after in zip(live[table], rebuilt[table], strict=True):
            assert after == before, table

    # The books go on from the rebuilt state: the next number follows on.
    assert (await books.post(SALE, day="2026-03-20"))["number"] == 9
    assert await books.balance("1210") == "18780.00"
