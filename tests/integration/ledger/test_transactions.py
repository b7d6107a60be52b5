"""Journal transactions through HTTP, as an accountant meets them: draft, amend, discard,
approve (maker-checker), post (gap-free numbers), reverse; idempotent retries, foreign
currency with its rounding line, the list and history views, and bulk posting."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from ledger_harness import Books, Harness, expect_problem

pytestmark = pytest.mark.integration

#: A sale of goods for 1,180.00 GEL including 18% VAT.
SALE = [("1410", "1180.00", ""), ("6110", "", "1000.00"), ("3330", "", "180.00")]


def body(entries: list[dict[str, Any]], day: str = "2026-03-15",
         description: str = "Test", **extra: Any) -> dict[str, Any]:
    return {"date": day, "description": description, **extra, "entries": entries}


async def test_full_lifecycle_draft_approve_post(h: Harness) -> None:
    books = await h.books()
    draft = await books.draft(SALE, description="Invoice 17 to Gorgia")
    assert draft["status"] == "draft"
    assert draft["number"] is None
    assert draft["created_by"] == "clerk"
    assert draft["approved_by"] is None
    assert draft["total"] == "1180.00"
    assert draft["currency"] == "GEL"
    assert [(e["account_code"], e["debit"], e["credit"]) for e in draft["entries"]] == [
        ("1410", "1180.00", "0.00"), ("6110", "0.00", "1000.00"), ("3330", "0.00", "180.00")]
    # A draft moves no balance.
    assert await books.balance("1410") == "0.00"

    r = await books.act(draft["id"], "approve")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    assert r.json()["approved_by"] == "chief"
    assert await books.balance("1410") == "0.00"

    r = await books.act(draft["id"], "post", by="clerk")
    assert r.status_code == 200, r.text
    posted = r.json()
    assert posted["status"] == "posted"
    assert posted["number"] == 1
    assert posted["fiscal_year"] == 2026
    assert posted["posted_by"] == "clerk"

    shown = await books.get(draft["id"])
    assert shown["status"] == "posted"
    assert shown["number"] == 1
    assert (shown["created_by"], shown["approved_by"], shown["posted_by"]) == (
        "clerk", "chief", "clerk")
    assert shown["reverses"] is None
    assert shown["reversed_by"] is None
    assert [e["debit_base"] for e in shown["entries"]] == ["1180.00", "0.00", "0.00"]
    assert [e["credit_base"] for e in shown["entries"]] == ["0.00", "1000.00", "180.00"]
    assert await books.balance("1410") == "1180.00"
    assert await books.balance("6110") == "-1000.00"
    assert await books.balance("3330") == "-180.00"


async def test_amend_a_draft(h: Harness) -> None:
    books = await h.books()
    draft = await books.draft([("7420", "1500.00", ""), ("1210", "", "1500.00")],
                              description="Office rent, March")
    r = await h.client.patch(books.url(f"/transactions/{draft['id']}"), headers=books.clerk,
                             json=body([{"account_code": "7420", "debit": "1650.00"},
                                        {"account_code": "1110", "credit": "1650.00"}],
                                       day="2026-03-31", description="Office rent, March",
                                       reference="Lease 4/2026"))
    assert r.status_code == 200, r.text
    amended = await books.get(draft["id"])
    assert amended["status"] == "draft"
    assert amended["date"] == "2026-03-31"
    assert amended["total"] == "1650.00"
    assert amended["reference"] == "Lease 4/2026"
    assert {e["account_code"] for e in amended["entries"]} == {"7420", "1110"}

    assert (await books.act(draft["id"], "approve")).status_code == 200
    assert (await books.act(draft["id"], "post", by="clerk")).status_code == 200
    assert await books.balance("7420") == "1650.00"
    assert await books.balance("1110") == "-1650.00"
    assert await books.balance("1210") == "0.00"


async def test_discard_a_draft(h: Harness) -> None:
    books = await h.books()
    draft = await books.draft(SALE)
    r = await h.client.delete(books.url(f"/transactions/{draft['id']}"), headers=books.clerk)
    assert r.status_code == 204
    assert r.content == b""
    assert (await books.get(draft["id"]))["status"] == "discarded"
    expect_problem(await books.act(draft["id"], "approve"), 409, "invalid_state")
    expect_problem(await h.client.delete(books.url(f"/transactions/{draft['id']}"),
                                         headers=books.clerk), 409, "invalid_state")
    assert await books.balance("1410") == "0.00"


async def test_the_author_cannot_approve_their_own_transaction(h: Harness) -> None:
    books = await h.books()
    mine = await books.draft(SALE, by="chief")
    expect_problem(await books.act(mine["id"], "approve", by="chief"), 403,
                   "segregation_of_duties")
    # An accountant cannot approve at all: the permission is the chief accountant's.
    assert (await books.act(mine["id"], "approve", by="clerk")).status_code == 403
    assert (await books.get(mine["id"]))["status"] == "draft"


async def test_posting_a_draft_is_refused(h: Harness) -> None:
    books = await h.books()
    draft = await books.draft(SALE)
    expect_problem(await books.act(draft["id"], "post", by="clerk"), 409, "invalid_state")
    assert (await books.get(draft["id"]))["number"] is None
    assert await books.balance("1410") == "0.00"


async def test_amending_a_posted_transaction_is_refused(h: Harness) -> None:
    books = await h.books()
    posted = await books.post(SALE)
    r = await h.client.patch(books.url(f"/transactions/{posted['id']}"), headers=books.clerk,
                             json=body([{"account_code": "1410", "debit": "1.00"},
                                        {"account_code": "6110", "credit": "1.00"}]))
    expect_problem(r, 409, "invalid_state")
    assert (await books.get(posted["id"]))["total"] == "1180.00"
    assert await books.balance("1410") == "1180.00"


async def test_reverse_a_posted_transaction(h: Harness) -> None:
    books = await h.books()
    original = await books.post(SALE, description="Invoice 17 to Gorgia")
    r = await books.act(original["id"], "reverse", reason="Invoice issued twice",
                        date="2026-03-20")
    assert r.status_code == 201, r.text
    reversal = r.json()
    assert reversal["status"] == "posted"
    assert reversal["number"] == 2
    assert reversal["reverses"] == original["id"]
    assert reversal["date"] == "2026-03-20"
    assert [(e["account_code"], e["debit"], e["credit"]) for e in reversal["entries"]] == [
        ("1410", "0.00", "1180.00"), ("6110", "1000.00", "0.00"), ("3330", "180.00", "0.00")]

    shown = await books.get(original["id"])
    assert shown["reversed_by"] == reversal["id"]
    assert shown["status"] == "posted"
    assert shown["reversal_reason"] == "Invoice issued twice"
    assert (await books.get(reversal["id"]))["reverses"] == original["id"]
    for code in ("1410", "6110", "3330", "1400"):
        assert await books.balance(code) == "0.00"
    # Before the reversal's date the sale still stands.
    assert await books.balance("1410", as_of="2026-03-19") == "1180.00"

    r = await h.client.get(books.url(f"/transactions/{original['id']}/history"),
                           headers=books.clerk)
    assert [e["type"] for e in r.json()] == ["TransactionDrafted", "TransactionApproved",
                                             "TransactionPosted", "TransactionReversed"]
    assert r.json()[-1]["actor"] == "chief"
    assert r.json()[-1]["data"]["reversed_by"] == reversal["id"]
    r = await h.client.get(books.url(f"/transactions/{reversal['id']}/history"),
                           headers=books.clerk)
    assert [(e["type"], e["actor"]) for e in r.json()] == [
        ("TransactionDrafted", "chief"), ("TransactionPosted", "chief")]


async def test_reversing_twice_or_reversing_a_reversal_is_refused(h: Harness) -> None:
    books = await h.books()
    original = await books.post(SALE)
    r = await books.act(original["id"], "reverse", reason="Wrong customer")
    assert r.status_code == 201, r.text
    reversal = r.json()
    assert reversal["date"] == "2026-03-15"  # the original's date by default
    expect_problem(await books.act(original["id"], "reverse", reason="Again"), 409,
                   "invalid_state")
    expect_problem(await books.act(reversal["id"], "reverse", reason="Undo"), 409,
                   "invalid_state")
    listed = await books.listing()
    assert len(listed["items"]) == 2
    assert await books.balance("1410") == "0.00"


async def test_reversing_needs_the_chief_accountant(h: Harness) -> None:
    books = await h.books()
    original = await books.post(SALE)
    assert (await books.act(original["id"], "reverse", by="clerk",
                            reason="Mistake")).status_code == 403
    assert (await books.get(original["id"]))["reversed_by"] is None
    assert await books.balance("1410") == "1180.00"


async def test_reversing_a_draft_is_refused(h: Harness) -> None:
    books = await h.books()
    draft = await books.draft(SALE)
    expect_problem(await books.act(draft["id"], "reverse", reason="Mistake"), 409,
                   "invalid_state")


async def test_numbers_are_gap_free_per_fiscal_year(h: Harness) -> None:
    books = await h.books()
    cash = [("1110", "50.00", ""), ("6110", "", "50.00")]
    first = await books.post(cash, day="2026-01-05")
    # Drafts, discarded drafts and refused postings take no number.
    skipped = await books.draft(cash, day="2026-01-06")
    await h.client.delete(books.url(f"/transactions/{skipped['id']}"), headers=books.clerk)
    pending = await books.draft(cash, day="2026-01-07")
    expect_problem(await books.act(pending["id"], "post", by="clerk"), 409, "invalid_state")
    second = await books.post(cash, day="2026-02-10")
    third = await books.post(cash, day="2026-12-31")
    january = await books.post(cash, day="2027-01-02")
    fourth = await books.post(cash, day="2026-06-30")
    reversal = (await books.act(second["id"], "reverse", reason="Duplicate")).json()
    next_year = await books.post(cash, day="2027-01-03")

    assert [t["number"] for t in (first, second, third, fourth, reversal)] == [1, 2, 3, 4, 5]
    assert {t["fiscal_year"] for t in (first, second, third, fourth, reversal)} == {2026}
    assert (january["number"], january["fiscal_year"]) == (1, 2027)
    assert (next_year["number"], next_year["fiscal_year"]) == (2, 2027)
    posted = await books.listing(status="posted", limit=100)
    numbers = sorted((t["fiscal_year"], t["number"]) for t in posted["items"])
    assert numbers == [(2026, n) for n in range(1, 6)] + [(2027, 1), (2027, 2)]


async def test_idempotency_key_returns_the_same_transaction(h: Harness) -> None:
    books = await h.books()
    key = {"Idempotency-Key": "invoice-17-2026"}

    def request(amount: Any) -> dict[str, Any]:
        return body([{"account_code": "1410", "debit": amount},
                     {"account_code": "6110", "credit": amount}], description="Invoice 17")

    first = await h.client.post(books.url("/transactions"), json=request("100.00"),
                                headers={**books.clerk, **key})
    assert first.status_code == 201, first.text
    for same in ("100.00", "100", 100):  # however the amount is written
        again = await h.client.post(books.url("/transactions"), json=request(same),
                                    headers={**books.clerk, **key})
        assert again.status_code in (200, 201), again.text
        assert again.json()["id"] == first.json()["id"]
    other = await h.client.post(books.url("/transactions"), json=request("101.00"),
                                headers={**books.clerk, **key})
    expect_problem(other, 409, "idempotency_key_reused")
    listed = await books.listing()
    assert [t["id"] for t in listed["items"]] == [first.json()["id"]]
    assert listed["items"][0]["total"] == "100.00"
    # Another key is another transaction.
    fresh = await h.client.post(books.url("/transactions"), json=request("101.00"),
                                headers={**books.clerk, "Idempotency-Key": "invoice-18-2026"})
    assert fresh.status_code == 201
    assert fresh.json()["id"] != first.json()["id"]


async def test_foreign_currency_transaction_carries_base_amounts(h: Harness) -> None:
    books = await h.books()
    # A receipt of USD 1,000.00 at 2.7000 GEL per dollar: 2,700.00 GEL.
    tx = await books.post([("1220", "1000.00", ""), ("6110", "", "1000.00")],
                          currency="USD", exchange_rate="2.7000",
                          description="Export sale, USD")
    assert tx["currency"] == "USD"
    assert Decimal(tx["exchange_rate"]) == Decimal("2.7")
    assert [(e["debit"], e["debit_base"], e["credit"], e["credit_base"])
            for e in tx["entries"]] == [("1000.00", "2700.00", "0.00", "0.00"),
                                        ("0.00", "0.00", "1000.00", "2700.00")]
    assert tx["total"] == "2700.00"
    shown = await books.get(tx["id"])
    assert shown["currency"] == "USD"
    assert Decimal(shown["exchange_rate"]) == Decimal("2.7")
    assert await books.balance("1220") == "2700.00"
    assert await books.balance("6110") == "-2700.00"


async def test_fx_rounding_difference_needs_an_explicit_rounding_line(h: Harness) -> None:
    books = await h.books()
    # USD 150.02 = 100.01 + 50.01 at 2.7000: 405.05 GEL on the debit side, but the credits
    # round to 270.03 + 135.03 = 405.06 GEL.
    lines = [{"account_code": "1410", "debit": "150.02"},
             {"account_code": "6110", "credit": "100.01"},
             {"account_code": "6110", "credit": "50.01"}]
    before = await books.state()
    r = await h.client.post(books.url("/transactions"), headers=books.clerk,
                            json=body(lines, currency="USD", exchange_rate="2.7000"))
    problem = expect_problem(r, 422, "unbalanced_transaction")
    assert (problem["debit"], problem["credit"], problem["currency"]) == (
        "405.05", "405.06", "GEL")
    assert await books.state() == before

    rounding = {"account_code": "8240", "debit_base": "0.01",
                "description": "Rounding difference"}
    r = await h.client.post(books.url("/transactions"), headers=books.clerk,
                            json=body([*lines, rounding], currency="USD",
                                      exchange_rate="2.7000"))
    assert r.status_code == 201, r.text
    tx = r.json()
    assert tx["entries"][3] == {"account_code": "8240", "debit": "0.00", "credit": "0.00",
                                "debit_base": "0.01", "credit_base": "0.00",
                                "description": "Rounding difference",
                                "counterparty_id": None, "document_id": None,
                                "kind": "regular"}
    assert tx["total"] == "405.06"
    assert (await books.act(tx["id"], "approve")).status_code == 200
    assert (await books.act(tx["id"], "post", by="clerk")).status_code == 200
    assert await books.balance("1410") == "405.05"
    assert await books.balance("6110") == "-405.06"
    assert await books.balance("8240") == "0.01"


async def test_foreign_currency_without_a_rate_is_refused(h: Harness) -> None:
    # No exchange_rate and no official rate in effect (docs/currencies.md).
    books = await h.books()
    before = await books.state()
    r = await h.client.post(books.url("/transactions"), headers=books.clerk,
                            json=body([{"account_code": "1220", "debit": "100.00"},
                                       {"account_code": "6110", "credit": "100.00"}],
                                      currency="EUR"))
    expect_problem(r, 422, "rate_not_found")
    assert await books.state() == before


async def test_another_companys_transaction_is_not_found(h: Harness) -> None:
    books = await h.books()
    theirs = await h.other_books("batumi")
    tx = await theirs.post(SALE)
    # Their id through our company: as if it did not exist.
    r = await h.client.get(books.url(f"/transactions/{tx['id']}"), headers=books.chief)
    expect_problem(r, 404)
    expect_problem(await books.act(tx["id"], "reverse", reason="Probe"), 404)
    expect_problem(await h.client.get(books.url(f"/transactions/{tx['id']}/history"),
                                      headers=books.chief), 404)
    draft = await theirs.draft(SALE)
    expect_problem(await books.act(draft["id"], "approve"), 404)
    expect_problem(await h.client.delete(books.url(f"/transactions/{draft['id']}"),
                                         headers=books.clerk), 404)
    assert (await theirs.get(draft["id"]))["status"] == "draft"
    assert (await theirs.get(tx["id"]))["reversed_by"] is None


async def test_history_lists_the_events_with_their_actors(h: Harness) -> None:
    books = await h.books()
    draft = await books.draft(SALE)
    await h.client.patch(books.url(f"/transactions/{draft['id']}"), headers=books.clerk,
                         json=body([{"account_code": "1410", "debit": "2360.00"},
                                    {"account_code": "6110", "credit": "2000.00"},
                                    {"account_code": "3330", "credit": "360.00"}]))
    await books.act(draft["id"], "approve")
    await books.act(draft["id"], "post", by="clerk")
    r = await h.client.get(books.url(f"/transactions/{draft['id']}/history"),
                           headers=books.clerk)
    assert r.status_code == 200, r.text
    events = r.json()
    assert [(e["type"], e["version"], e["actor"]) for e in events] == [
        ("TransactionDrafted", 1, "clerk"), ("TransactionAmended", 2, "clerk"),
        ("TransactionApproved", 3, "chief"), ("TransactionPosted", 4, "clerk")]
    assert events[0]["data"]["entries"][0]["debit"] == "1180.00"
    assert events[1]["data"]["entries"][0]["debit"] == "2360.00"
    assert events[3]["data"]["number"] == 1
    times = [e["recorded_at"] for e in events]
    assert times == sorted(times)


async def _ledger_for_listing(books: Books) -> dict[str, str]:
    """Five transactions over three months, in several states."""
    capital = await books.post([("1210", "10000.00", ""), ("5150", "", "10000.00")],
                               day="2026-01-10", description="Charter capital")
    rent = await books.post([("7420", "1500.00", ""), ("1210", "", "1500.00")],
                            day="2026-02-05", description="Rent, February")
    charges = await books.draft([("7492", "12.00", ""), ("1210", "", "12.00")],
                                day="2026-02-20", description="Bank charges")
    sale = await books.approved(SALE, day="2026-03-03", description="Invoice 1")
    salary = await books.post([("7410", "3000.00", ""), ("3130", "", "3000.00")],
                              day="2026-03-31", description="Salaries, March")
    return {"capital": capital["id"], "rent": rent["id"], "charges": charges["id"],
            "sale": sale["id"], "salary": salary["id"]}


async def test_list_filters(h: Harness) -> None:
    books = await h.books()
    t = await _ledger_for_listing(books)

    async def ids(**params: Any) -> list[str]:
        page = await books.listing(**params)
        assert page["next_cursor"] is None
        return [item["id"] for item in page["items"]]

    assert await ids() == [t["salary"], t["sale"], t["charges"], t["rent"], t["capital"]]
    assert await ids(status="posted") == [t["salary"], t["rent"], t["capital"]]
    assert await ids(status="draft") == [t["charges"]]
    assert await ids(status="approved") == [t["sale"]]
    assert await ids(date_from="2026-02-01", date_to="2026-02-28") == [t["charges"], t["rent"]]
    assert await ids(date_from="2026-03-03") == [t["salary"], t["sale"]]
    assert await ids(date_to="2026-01-10") == [t["capital"]]
    assert await ids(account="1210") == [t["charges"], t["rent"], t["capital"]]
    assert await ids(account="7420") == [t["rent"]]
    assert await ids(account="1210", status="posted", date_from="2026-02-01") == [t["rent"]]
    assert await ids(account="9210") == []


async def test_cursor_pagination_walks_every_item_once_newest_first(h: Harness) -> None:
    books = await h.books()
    t = await _ledger_for_listing(books)
    # Two on one day: the id (time-ordered) breaks the tie.
    same_day = await books.post([("1110", "20.00", ""), ("6110", "", "20.00")],
                                day="2026-03-31", description="Cash sale")
    expected = [same_day["id"], t["salary"], t["sale"], t["charges"], t["rent"], t["capital"]]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await books.listing(**params)
        pages += 1
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert seen == expected
    assert pages == 3


async def test_batch_posts_several_transactions_with_consecutive_numbers(h: Harness) -> None:
    books = await h.books()
    await books.post(SALE, day="2026-03-01")
    batch = {"transactions": [
        body([{"account_code": "1210", "debit": "1180.00"},
              {"account_code": "1410", "credit": "1180.00"}], day="2026-03-10",
             description="Payment of invoice 17"),
        body([{"account_code": "1610", "debit": "500.00"},
              {"account_code": "3340", "debit": "90.00"},
              {"account_code": "3110", "credit": "590.00"}], day="2026-03-11",
             description="Goods from supplier"),
        body([{"account_code": "7210", "debit": "500.00"},
              {"account_code": "1610", "credit": "500.00"}], day="2026-03-12",
             description="Cost of goods sold"),
    ]}
    r = await h.client.post(books.url("/transactions/batch"), json=batch, headers=books.chief)
    assert r.status_code == 201, r.text
    posted = r.json()["posted"]
    assert [(p["fiscal_year"], p["number"]) for p in posted] == [(2026, 2), (2026, 3),
                                                                  (2026, 4)]
    for p in posted:
        shown = await books.get(p["id"])
        assert shown["status"] == "posted"
        assert shown["posted_by"] == "chief"
    assert await books.balance("1410") == "0.00"
    assert await books.balance("1210") == "1180.00"
    assert await books.balance("1610") == "0.00"
    assert await books.balance("3110") == "-590.00"
    assert await books.balance("7210") == "500.00"
    # Bulk posting skips the separate approval, so it needs the approver's permission.
    r = await h.client.post(books.url("/transactions/batch"), json=batch, headers=books.clerk)
    assert r.status_code == 403


async def test_a_batch_sent_again_posts_only_what_its_keys_have_not_posted(h: Harness) -> None:
    books = await h.books()
    pay = body([{"account_code": "1210", "debit": "100.00"},
                {"account_code": "1410", "credit": "100.00"}], description="Payment",
               key="BANK-1")
    fee = body([{"account_code": "7492", "debit": "2.00"},
                {"account_code": "1210", "credit": "2.00"}], description="Fee", key="BANK-2")
    r = await h.client.post(books.url("/transactions/batch"), headers=books.chief,
                            json={"transactions": [pay]})
    assert r.status_code == 201, r.text
    first = r.json()["posted"][0]
    # The client lost the answer and sends the whole batch again, now with one more item.
    r = await h.client.post(books.url("/transactions/batch"), headers=books.chief,
                            json={"transactions": [pay, fee]})
    assert r.status_code == 201, r.text
    assert r.json()["skipped"] == [{"row": 1, "id": first["id"]}]
    assert [p["number"] for p in r.json()["posted"]] == [2]
    assert await books.balance("1210") == "98.00"
    # A used key with other content, or the same key twice in a batch: nothing posted.
    before = await books.state()
    changed = {**pay, "entries": [{"account_code": "1210", "debit": "101.00"},
                                  {"account_code": "1410", "credit": "101.00"}]}
    r = await h.client.post(books.url("/transactions/batch"), headers=books.chief,
                            json={"transactions": [changed]})
    problem = expect_problem(r, 422, "batch_rejected")
    assert [(f["row"], f["code"]) for f in problem["findings"]] == [
        (1, "idempotency_key_reused")]
    twice = {**fee, "key": "BANK-3"}
    r = await h.client.post(books.url("/transactions/batch"), headers=books.chief,
                            json={"transactions": [twice, twice]})
    problem = expect_problem(r, 422, "batch_rejected")
    assert [(f["row"], f["code"]) for f in problem["findings"]] == [(2, "duplicate_key")]
    assert await books.state() == before


async def test_batch_with_a_bad_transaction_posts_nothing(h: Harness) -> None:
    books = await h.books()
    await books.post(SALE, day="2026-03-01")
    before = await books.state()
    good = body([{"account_code": "1210", "debit": "100.00"},
                 {"account_code": "1410", "credit": "100.00"}])
    unbalanced = body([{"account_code": "1210", "debit": "100.00"},
                       {"account_code": "1410", "credit": "90.00"}])
    r = await h.client.post(books.url("/transactions/batch"), headers=books.chief,
                            json={"transactions": [good, unbalanced, good]})
    problem = expect_problem(r, 422, "batch_rejected")
    assert [(f["row"], f["code"]) for f in problem["findings"]] == [
        (2, "unbalanced_transaction")]
    assert problem["findings"][0]["message"]

    unknown = body([{"account_code": "1210", "debit": "100.00"},
                    {"account_code": "1999", "credit": "100.00"}])
    header = body([{"account_code": "1200", "debit": "100.00"},
                   {"account_code": "1410", "credit": "100.00"}])
    r = await h.client.post(books.url("/transactions/batch"), headers=books.chief,
                            json={"transactions": [good, unknown, good, header]})
    problem = expect_problem(r, 422, "batch_rejected")
    assert [(f["row"], f["code"]) for f in problem["findings"]] == [
        (2, "unknown_account"), (4, "non_postable_account")]
    assert await books.state() == before
    assert await books.balance("1210") == "0.00"
    # The numbers were not consumed: the next posting is No. 2.
    assert (await books.post(SALE))["number"] == 2
