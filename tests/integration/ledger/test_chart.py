"""The chart of accounts through HTTP: the Georgian practitioner chart a new company gets,
the company's own sub-accounts, renaming, deactivating and deleting, and balances as of a
date (სალდო)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from ledger_harness import Books, Harness, expect_problem

pytestmark = pytest.mark.integration

LEAVES = ["1110", "1210", "1410", "1610", "3110", "3130", "3310", "3320", "3330", "3340",
          "5310", "6110", "7210", "7410", "8140", "8240", "9210"]
TYPES = {"asset", "liability", "equity", "revenue", "expense"}
GEORGIAN = re.compile(r"[\u10D0-\u10FF]")  # Mkhedruli


async def accounts(books: Books) -> dict[str, dict[str, Any]]:
    r = await books.h.client.get(books.url("/accounts"), headers=books.clerk)
    assert r.status_code == 200, r.text
    return {a["code"]: a for a in r.json()}


async def add(books: Books, expect: int = 201, **account: Any) -> dict[str, Any]:
    r = await books.h.client.post(books.url("/accounts"), json=account, headers=books.chief)
    assert r.status_code == expect, r.text
    return dict(r.json())


async def patch(books: Books, code: str, **changes: Any) -> Any:
    return await books.h.client.patch(books.url(f"/accounts/{code}"), json=changes,
                                      headers=books.chief)


async def test_a_new_company_gets_the_georgian_chart(h: Harness) -> None:
    books = await h.books()
    chart = await accounts(books)
    for code in LEAVES:
        account = chart[code]
        assert account["postable"], account
        assert account["active"], account
        assert GEORGIAN.search(account["name_ka"]), account
        assert account["name"]
        assert account["name"] != account["name_ka"]
    assert chart["1100"]["postable"] is False
    assert chart["1110"]["parent_code"] == "1100"
    assert chart["1210"]["type"] == "asset"
    assert chart["3330"]["type"] == "liability"
    assert chart["5310"]["type"] == "equity"
    assert chart["6110"]["type"] == "revenue"
    assert chart["7410"]["type"] == "expense"
    assert chart["9210"]["type"] == "expense"
    assert chart["3330"]["name_ka"] == "გადასახდელი დღგ"  # output VAT payable
    for account in chart.values():
        assert account["type"] in TYPES, account
        assert account["name_ka"].strip(), account
        assert account["parent_code"] is None or account["parent_code"] in chart, account
        # Four-digit codes in classes 1-9; headers are the ones with children.
        assert re.fullmatch(r"[1-9][0-9]{3}", account["code"]), account
    parents = {a["parent_code"] for a in chart.values()}
    assert {c for c, a in chart.items() if not a["postable"]} == parents - {None}
    assert {code[0] for code in chart} == set("123456789")
    # Posting to a header is refused.
    r = await h.client.post(books.url("/transactions"), headers=books.clerk, json={
        "date": "2026-03-15", "description": "Cash",
        "entries": [{"account_code": "1100", "debit": "10.00"},
                    {"account_code": "6110", "credit": "10.00"}]})
    expect_problem(r, 422, "non_postable_account")


async def test_sub_account_of_a_bank_account(h: Harness) -> None:
    books = await h.books()
    added = await add(books, code="1210.01", name="TBC Bank, GEL current account",
                      name_ka="თიბისი ბანკი, ლარის ანგარიში")
    assert (added["code"], added["type"], added["parent_code"]) == ("1210.01", "asset", "1210")
    assert added["postable"]
    assert added["active"]
    chart = await accounts(books)
    assert chart["1210.01"]["name_ka"] == "თიბისი ბანკი, ლარის ანგარიში"
    assert chart["1210"]["postable"] is False  # a header now: lines go to its sub-accounts
    await add(books, code="1210.02", name="Bank of Georgia, GEL")

    await books.post([("1210.01", "10000.00", ""), ("5150", "", "10000.00")],
                     description="Charter capital paid in")
    await books.post([("1210.02", "2500.00", ""), ("1210.01", "", "2500.00")],
                     description="Transfer between banks")
    assert await books.balance("1210.01") == "7500.00"
    assert await books.balance("1210.02") == "2500.00"
    assert await books.balance("1210") == "10000.00"
    assert await books.balance("1200") == "10000.00"
    assert await books.balance("1000") == "10000.00"
    expect_problem(await h.client.post(books.url("/transactions"), headers=books.clerk, json={
        "date": "2026-03-15", "description": "Bank fee",
        "entries": [{"account_code": "7492", "debit": "5.00"},
                    {"account_code": "1210", "credit": "5.00"}]}),
                   422, "non_postable_account")


async def test_no_sub_account_under_a_leaf_with_postings(h: Harness) -> None:
    books = await h.books()
    await books.post([("1410", "1180.00", ""), ("6110", "", "1000.00"),
                      ("3330", "", "180.00")])
    before = await books.state()
    r = await h.client.post(books.url("/accounts"), headers=books.chief,
                            json={"code": "1410.01", "name": "Customer Gorgia"})
    expect_problem(r, 422, "account_has_postings")
    assert "1410.01" not in await accounts(books)
    assert (await accounts(books))["1410"]["postable"] is True
    assert await books.state() == before


async def test_a_sub_account_must_keep_its_parents_type(h: Harness) -> None:
    books = await h.books()
    r = await h.client.post(books.url("/accounts"), headers=books.chief,
                            json={"code": "1210.01", "name": "Odd", "type": "expense"})
    expect_problem(r, 422, "invalid_account")
    # Under a group header a new four-digit account may be added.
    added = await add(books, code="7497", name="Software subscriptions",
                      name_ka="პროგრამული უზრუნველყოფის გამოწერა")
    assert (added["parent_code"], added["type"]) == ("7400", "expense")


async def test_rename_and_deactivate(h: Harness) -> None:
    books = await h.books()
    r = await patch(books, "1110", name="Cash desk, Tbilisi office",
                    name_ka="სალარო, თბილისის ოფისი")
    assert r.status_code == 200, r.text
    chart = await accounts(books)
    assert chart["1110"]["name"] == "Cash desk, Tbilisi office"
    assert chart["1110"]["name_ka"] == "სალარო, თბილისის ოფისი"

    r = await patch(books, "1110", active=False)
    assert r.status_code == 200
    assert r.json()["active"] is False
    assert (await accounts(books))["1110"]["active"] is False
    cash_sale = {"date": "2026-03-15", "description": "Cash sale",
                 "entries": [{"account_code": "1110", "debit": "50.00"},
                             {"account_code": "6110", "credit": "50.00"}]}
    expect_problem(await h.client.post(books.url("/transactions"), headers=books.clerk,
                                       json=cash_sale), 422, "inactive_account")
    # Reactivated, it takes postings again.
    assert (await patch(books, "1110", active=True)).status_code == 200
    r = await h.client.post(books.url("/transactions"), headers=books.clerk, json=cash_sale)
    assert r.status_code == 201, r.text


async def test_an_account_with_a_balance_stays_active(h: Harness) -> None:
    books = await h.books()
    await books.post([("1110", "50.00", ""), ("6110", "", "50.00")])
    before = await books.state()
    expect_problem(await patch(books, "1110", active=False), 422, "account_has_balance")
    assert (await accounts(books))["1110"]["active"] is True
    assert await books.state() == before
    # Once the cash is banked (balance zero, postings remain) it may be deactivated.
    await books.post([("1210", "50.00", ""), ("1110", "", "50.00")])
    assert (await patch(books, "1110", active=False)).status_code == 200


async def test_delete_accounts(h: Harness) -> None:
    books = await h.books()
    await add(books, code="1210.01", name="TBC Bank, GEL")
    await add(books, code="1210.02", name="Liberty Bank, GEL")
    await books.post([("1210.01", "300.00", ""), ("6110", "", "300.00")])
    await books.post([("1410", "1180.00", ""), ("6110", "", "1000.00"),
                      ("3330", "", "180.00")])
    before = await books.state()
    for used in ("1210.01", "1410"):
        r = await h.client.delete(books.url(f"/accounts/{used}"), headers=books.chief)
        expect_problem(r, 422, "account_has_postings")
    assert await books.state() == before

    r = await h.client.delete(books.url("/accounts/1210.02"), headers=books.chief)
    assert r.status_code == 204
    assert r.content == b""
    chart = await accounts(books)
    assert "1210.02" not in chart
    assert "1210.01" in chart
    expect_problem(await h.client.get(books.url("/accounts/1210.02"), headers=books.clerk),
                   404)
    expect_problem(await h.client.delete(books.url("/accounts/1210.02"),
                                         headers=books.chief), 404)
    # The code is free again.
    assert (await add(books, code="1210.02", name="Liberty Bank, GEL"))["postable"]


async def test_duplicate_code(h: Harness) -> None:
    books = await h.books()
    await add(books, code="1210.01", name="TBC Bank, GEL")
    before = await books.state()
    for code in ("1210.01", "1410"):
        r = await h.client.post(books.url("/accounts"), headers=books.chief,
                                json={"code": code, "name": "Again"})
        expect_problem(r, 409, "account_exists")
    assert (await accounts(books))["1410"]["name"] == "Trade receivables"
    assert await books.state() == before


@pytest.mark.parametrize("account", [
    {"code": "12", "name": "Too short"},
    {"code": "1210.01.01.01.01", "name": "Too deep"},
    {"code": "1210/01", "name": "Slash"},
    {"code": "1210.01", "name": ""},
    {"code": "1210.01", "name": "NUL\x00"},
    {"code": "1210.01", "name": "Bad type", "type": "income"},
    {"code": "4999.01", "name": "No such parent"},
])
async def test_bad_accounts_are_refused(h: Harness, account: dict[str, Any]) -> None:
    books = await h.books()
    before = await books.state()
    r = await h.client.post(books.url("/accounts"), headers=books.chief, json=account)
    assert r.status_code == 422, r.text
    assert r.json()["code"] in ("validation_error", "invalid_account"), r.text
    assert await books.state() == before


async def test_balance_as_of_a_date_includes_that_day(h: Harness) -> None:
    books = await h.books()
    await books.post([("1410", "1180.00", ""), ("6110", "", "1000.00"),
                      ("3330", "", "180.00")], day="2026-03-15")
    await books.post([("1210", "1180.00", ""), ("1410", "", "1180.00")], day="2026-04-02")

    async def balance(code: str, as_of: str) -> dict[str, Any]:
        r = await h.client.get(books.url(f"/accounts/{code}/balance"),
                               params={"as_of": as_of}, headers=books.clerk)
        assert r.status_code == 200, r.text
        return dict(r.json())

    assert (await balance("1410", "2026-03-14"))["balance"] == "0.00"
    on_the_day = await balance("1410", "2026-03-15")
    assert on_the_day == {"code": "1410", "as_of": "2026-03-15", "debit": "1180.00",
                          "credit": "0.00", "balance": "1180.00", "currency": "GEL"}
    assert (await balance("1410", "2026-04-01"))["balance"] == "1180.00"
    paid = await balance("1410", "2026-04-02")
    assert (paid["debit"], paid["credit"], paid["balance"]) == ("1180.00", "1180.00", "0.00")
    assert (await balance("3330", "2026-03-15"))["balance"] == "-180.00"
    assert (await balance("1000", "2026-04-02"))["balance"] == "1180.00"
    assert (await balance("1000", "2026-03-31"))["balance"] == "1180.00"
    assert (await balance("1210", "2026-03-31"))["balance"] == "0.00"
    # Without as_of: today's balance (the postings are in the past).
    r = await h.client.get(books.url("/accounts/1210/balance"), headers=books.clerk)
    assert r.status_code == 200
    assert r.json()["balance"] == "1180.00"


async def test_deleting_the_last_sub_account_makes_its_parent_a_leaf_again(h: Harness) -> None:
    books = await h.books()
    r = await h.client.post(books.url("/accounts"), headers=books.clerk,
                            json={"code": "1290.01", "name": "Deposit"})
    assert r.status_code == 201, r.text
    parent = (await h.client.get(books.url("/accounts/1290"), headers=books.clerk)).json()
    assert parent["postable"] is False
    r = await h.client.delete(books.url("/accounts/1290.01"), headers=books.clerk)
    assert r.status_code == 204, r.text
    parent = (await h.client.get(books.url("/accounts/1290"), headers=books.clerk)).json()
    assert parent["postable"] is True


async def test_changing_an_account_type_moves_it_to_that_types_statement(h: Harness) -> None:
    books = await h.books()
    r = await h.client.post(books.url("/accounts"), headers=books.clerk,
                            json={"code": "7497", "name": "Misc"})
    assert r.status_code == 201, r.text
    assert r.json()["classification"] == "operating_expense"
    r = await h.client.patch(books.url("/accounts/7497"), headers=books.clerk,
                             json={"type": "liability"})
    assert r.status_code == 200, r.text
    assert (r.json()["type"], r.json()["classification"]) == ("liability", "current_liability")
