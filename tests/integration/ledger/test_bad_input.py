"""Bad input, item by item (issue 4, "Bad input"): each answer is a 4xx problem with a
stable ``code``, never a 500, and nothing is written -- the company's ledger events and
journal rows are the same before and after."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ledger_harness import Books, Harness, expect_problem

pytestmark = pytest.mark.integration

Body = dict[str, Any]


def rent(**changes: Any) -> Body:
    """Office rent, 1,500.00 GEL, paid from the bank: a valid body to spoil."""
    return {"date": "2026-03-15", "description": "Office rent, March",
            "entries": [{"account_code": "7420", "debit": "1500.00"},
                        {"account_code": "1210", "credit": "1500.00"}], **changes}


def with_line(index: int, **line: Any) -> Body:
    body = rent()
    body["entries"][index] = {"account_code": body["entries"][index]["account_code"], **line}
    return body


def with_account(code: str) -> Body:
    body = rent()
    body["entries"][0]["account_code"] = code
    return body


def raw(text: str) -> bytes:
    """A body written by hand: JSON a Python client would never produce."""
    return text.encode()


RAW_RENT = ('{"date": "2026-03-15", "description": "Rent", "entries": ['
            '{"account_code": "7420", "debit": %s}, {"account_code": "1210", "credit": %s}]}')

#: (case, body: dict as JSON or raw bytes, status, code)
BAD_BODIES: list[tuple[str, Body | bytes, int, str]] = [
    ("unbalanced", with_line(1, credit="1400.00"), 422, "unbalanced_transaction"),
    ("debit_and_credit_on_one_line", with_line(0, debit="1500.00", credit="1500.00"), 422,
     "invalid_entry"),
    ("neither_debit_nor_credit", with_line(0, description="empty"), 422, "invalid_entry"),
    ("zero_amounts", {**rent(), "entries": [{"account_code": "7420", "debit": "0.00"},
                                            {"account_code": "1210", "credit": "0.00"}]},
     422, "invalid_entry"),
    ("negative_amount", {**rent(), "entries": [{"account_code": "7420", "debit": "-1500.00"},
                                               {"account_code": "1210", "debit": "1500.00"}]},
     422, "invalid_amount"),
    ("non_numeric_amount", with_line(0, debit="fifteen hundred"), 422, "invalid_amount"),
    ("three_decimals_in_gel", {**rent(), "entries": [
        {"account_code": "7420", "debit": "1500.005"},
        {"account_code": "1210", "credit": "1500.005"}]}, 422, "invalid_amount"),
    ("thousands_separator", {**rent(), "entries": [
        {"account_code": "7420", "debit": "1,000.00"},
        {"account_code": "1210", "credit": "1,000.00"}]}, 422, "invalid_amount"),
    ("nan_as_a_string", {**rent(), "entries": [{"account_code": "7420", "debit": "NaN"},
                                               {"account_code": "1210", "credit": "NaN"}]},
     422, "invalid_amount"),
    ("infinity_as_a_string", with_line(0, debit="Infinity"), 422, "invalid_amount"),
    ("exponent_as_a_string", with_line(0, debit="1.5e3"), 422, "invalid_amount"),
    ("boolean_amount", with_line(0, debit=True), 422, "invalid_amount"),
    ("amount_beyond_the_column", {**rent(), "entries": [
        {"account_code": "7420", "debit": "1000000000000000.00"},
        {"account_code": "1210", "credit": "1000000000000000.00"}]}, 422, "invalid_amount"),
    ("one_line", {**rent(), "entries": [{"account_code": "7420", "debit": "1500.00"}]}, 422,
     "too_few_entries"),
    ("no_lines", rent(entries=[]), 422, "too_few_entries"),
    ("unknown_account", with_account("9999"), 422, "unknown_account"),
    ("account_code_of_garbage", with_account("'; DROP TABLE accounts; --"), 422,
     "unknown_account"),
    ("header_account", with_account("1200"), 422, "non_postable_account"),
    ("class_header_account", with_account("1000"), 422, "non_postable_account"),
    ("date_before_any_openable_year", rent(date="1999-01-01"), 422,
     "fiscal_year_unavailable"),
    ("date_after_any_openable_year", rent(date="2030-01-01"), 422, "fiscal_year_unavailable"),
    ("rate_on_a_gel_transaction", rent(exchange_rate="2.7"), 422, "invalid_amount"),
    ("negative_exchange_rate", rent(currency="USD", exchange_rate="-2.7"), 422,
     "invalid_amount"),
    ("currency_not_iso", rent(currency="$$$"), 422, "invalid_currency"),
    ("nul_in_description", rent(description="Rent\x00"), 422, "validation_error"),
    ("nul_in_line_description", with_line(0, debit="1500.00", description="a\x00b"), 422,
     "validation_error"),
    ("entries_not_a_list", rent(entries={"account_code": "7420", "debit": "1500.00"}), 422,
     "validation_error"),
    ("entries_missing", {"date": "2026-03-15", "description": "Rent"}, 422,
     "validation_error"),
    ("date_not_a_date", rent(date="2026-02-30"), 422, "validation_error"),
    ("body_not_an_object", raw('["2026-03-15", "Rent"]'), 422, "validation_error"),
    ("amount_1e309", raw(RAW_RENT % ("1e309", "1e309")), 422, "invalid_amount"),
    ("float_noise", raw(RAW_RENT % ("0.30000000000000004", "0.30000000000000004")), 422,
     "invalid_amount"),
    ("nan_literal", raw(RAW_RENT % ("NaN", "NaN")), 400, "malformed_body"),
    ("infinity_literal", raw(RAW_RENT % ("Infinity", "Infinity")), 400, "malformed_body"),
    ("malformed_json", raw('{"date": "2026-03-15", "entries": [}'), 400, "malformed_body"),
    ("empty_body", b"", 400, "malformed_body"),
    ("deep_nesting", raw("[" * 100_000), 400, "malformed_body"),
]


async def _send(books: Books, body: Body | bytes, method: str = "POST",
                path: str = "/transactions") -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await books.h.client.request(
        method, books.url(path), content=content,
        headers={**books.clerk, "Content-Type": "application/json"})


#: The cases in groups, one test each (a company per case would be most of the run time).
GROUPS = {
    "lines": ("unbalanced", "debit_and_credit_on_one_line", "neither_debit_nor_credit",
              "zero_amounts", "one_line", "no_lines"),
    "amounts": ("negative_amount", "non_numeric_amount", "three_decimals_in_gel",
                "thousands_separator", "nan_as_a_string", "infinity_as_a_string",
                "exponent_as_a_string", "boolean_amount", "amount_beyond_the_column",
                "amount_1e309", "float_noise"),
    "accounts": ("unknown_account", "account_code_of_garbage", "header_account",
                 "class_header_account"),
    "dates_and_currencies": ("date_before_any_openable_year", "date_after_any_openable_year",
                             "date_not_a_date", "rate_on_a_gel_transaction",
                             "negative_exchange_rate", "currency_not_iso"),
    "shape": ("nul_in_description", "nul_in_line_description", "entries_not_a_list",
              "entries_missing", "body_not_an_object"),
    "malformed_json": ("nan_literal", "infinity_literal", "malformed_json", "empty_body",
                       "deep_nesting"),
}


def test_every_case_is_in_one_group() -> None:
    grouped = [case for cases in GROUPS.values() for case in cases]
    assert sorted(grouped) == sorted(case for case, *_ in BAD_BODIES)


@pytest.mark.parametrize("group", GROUPS)
async def test_bad_transaction_is_refused_and_nothing_is_written(h: Harness,
                                                                 group: str) -> None:
    books = await h.books()
    before = await books.state()
    for case, body, status, code in BAD_BODIES:
        if case in GROUPS[group]:
            r = await _send(books, body)
            assert r.status_code == status, (case, r.text)
            assert expect_problem(r, status)["code"] == code, (case, r.text)
    assert (await books.listing())["items"] == []
    assert await books.state() == before


async def test_bad_amendment_leaves_the_draft_as_it_was(h: Harness) -> None:
    books = await h.books()
    draft = await books.draft([("7420", "1500.00", ""), ("1210", "", "1500.00")])
    before = await books.state()
    cases = ("unbalanced", "unknown_account", "header_account", "amount_1e309",
             "nan_literal", "date_after_any_openable_year", "nul_in_description", "one_line")
    for case, body, status, code in BAD_BODIES:
        if case in cases:
            r = await _send(books, body, "PATCH", f"/transactions/{draft['id']}")
            expect_problem(r, status, code)
    assert await books.get(draft["id"]) == draft
    assert await books.state() == before


async def test_inactive_account(h: Harness) -> None:
    books = await h.books()
    r = await h.client.patch(books.url("/accounts/1120"), json={"active": False},
                             headers=books.chief)
    assert r.status_code == 200
    assert r.json()["active"] is False
    before = await books.state()
    expect_problem(await _send(books, with_account("1120")), 422, "inactive_account")
    assert await books.state() == before


async def test_a_draft_whose_account_was_deactivated_cannot_be_posted(h: Harness) -> None:
    books = await h.books()
    tx = await books.approved([("1120", "10.00", ""), ("6110", "", "10.00")])
    r = await h.client.patch(books.url("/accounts/1120"), json={"active": False},
                             headers=books.chief)
    assert r.status_code == 200, r.text
    before = await books.state()
    expect_problem(await books.act(tx["id"], "post", by="clerk"), 422, "inactive_account")
    assert await books.state() == before
    assert (await books.get(tx["id"]))["status"] == "approved"


async def test_posting_into_a_closed_period(h: Harness) -> None:
    books = await h.books()
    tx = await books.approved([("7420", "1500.00", ""), ("1210", "", "1500.00")])
    r = await h.client.post(books.url("/fiscal-periods/2026-03/close"), headers=books.chief)
    assert r.status_code == 200, r.text
    before = await books.state()
    expect_problem(await books.act(tx["id"], "post", by="clerk"), 422, "period_closed")
    assert await books.state() == before
    assert (await books.get(tx["id"]))["status"] == "approved"


async def test_approving_your_own_transaction(h: Harness) -> None:
    books = await h.books()
    tx = await books.draft([("7420", "1500.00", ""), ("1210", "", "1500.00")], by="chief")
    before = await books.state()
    expect_problem(await books.act(tx["id"], "approve"), 403, "segregation_of_duties")
    assert await books.state() == before


async def test_posting_a_draft(h: Harness) -> None:
    books = await h.books()
    tx = await books.draft([("7420", "1500.00", ""), ("1210", "", "1500.00")])
    before = await books.state()
    expect_problem(await books.act(tx["id"], "post", by="clerk"), 409, "invalid_state")
    assert await books.state() == before


async def test_reversing_twice(h: Harness) -> None:
    books = await h.books()
    tx = await books.post([("7420", "1500.00", ""), ("1210", "", "1500.00")])
    assert (await books.act(tx["id"], "reverse", reason="Duplicate")).status_code == 201
    before = await books.state()
    expect_problem(await books.act(tx["id"], "reverse", reason="Again"), 409, "invalid_state")
    assert await books.state() == before


async def test_amending_a_posted_transaction(h: Harness) -> None:
    books = await h.books()
    tx = await books.post([("7420", "1500.00", ""), ("1210", "", "1500.00")])
    before = await books.state()
    expect_problem(await _send(books, rent(description="Changed"), "PATCH",
                               f"/transactions/{tx['id']}"), 409, "invalid_state")
    assert await books.state() == before


async def test_reversal_needs_a_real_reason(h: Harness) -> None:
    books = await h.books()
    tx = await books.post([("7420", "1500.00", ""), ("1210", "", "1500.00")])
    before = await books.state()
    for reason in ("", "   ", "x" * 501, "why\x00"):
        r = await books.act(tx["id"], "reverse", reason=reason)
        assert r.status_code == 422, (reason, r.text)
        assert r.json()["code"] in ("validation_error", "invalid_entry"), r.text
    assert await books.state() == before


async def test_a_body_over_the_size_limit(h: Harness) -> None:
    books = await h.books()
    before = await books.state()
    line = {"account_code": "7420", "debit": "1.00", "description": "x" * 400}
    huge = rent(entries=[line] * 3000)  # ~1.3 MB
    content = json.dumps(huge).encode()
    assert len(content) > 1_048_576
    expect_problem(await _send(books, content), 413, "body_too_large")

    async def chunks() -> Any:  # no Content-Length: the limit holds while streaming too
        for _ in range(0, len(content), 65536):
            yield content[:65536]

    r = await h.client.post(books.url("/transactions"), content=chunks(),
                            headers={**books.clerk, "Content-Type": "application/json"})
    expect_problem(r, 413, "body_too_large")
    assert await books.state() == before


BATCH_CASES: list[tuple[str, bytes, int, str]] = [
    ("nan_literal", raw('{"transactions": [%s]}' % (RAW_RENT % ("NaN", "NaN"))), 400,
     "malformed_body"),
    ("empty_batch", raw('{"transactions": []}'), 422, "validation_error"),
    ("not_a_list", raw('{"transactions": {}}'), 422, "validation_error"),
    ("1e309", raw('{"transactions": [%s]}' % (RAW_RENT % ("1e309", "1e309"))), 422,
     "batch_rejected"),
]


@pytest.mark.parametrize(("body", "status", "code"),
                         [pytest.param(b, s, c, id=case) for case, b, s, c in BATCH_CASES])
async def test_bad_batch(h: Harness, body: bytes, status: int, code: str) -> None:
    books = await h.books()
    before = await books.state()
    r = await books.h.client.post(books.url("/transactions/batch"), content=body,
                                  headers={**books.chief, "Content-Type": "application/json"})
    expect_problem(r, status, code)
    assert await books.state() == before


async def test_bad_listing_parameters_and_ids(h: Harness) -> None:
    books = await h.books()
    for params, code in (({"cursor": "not-a-cursor"}, "invalid_cursor"),
                         ({"cursor": "WyIyMDI2LTAzLTE1Il0"}, "invalid_cursor"),  # no id
                         ({"status": "lost"}, "validation_error"),
                         ({"limit": 0}, "validation_error"),
                         ({"limit": 100000}, "validation_error"),
                         ({"date_from": "15.03.2026"}, "validation_error")):
        r = await h.client.get(books.url("/transactions"), params=params, headers=books.clerk)
        expect_problem(r, 422, code)
    for path, status in (("/transactions/not-a-uuid", 422),
                         ("/transactions/00000000-0000-0000-0000-000000000000", 404),
                         ("/transactions/00000000-0000-0000-0000-000000000000/history", 404),
                         ("/accounts/9999/balance", 404),
                         ("/accounts/1210/balance?as_of=2026-13-01", 422)):
        expect_problem(await h.client.get(books.url(path), headers=books.clerk), status)
