"""Bank statements end to end over HTTP: import in every format, re-import (all
duplicates), undo, reconcile to an account, unreconcile, and bad files refused whole.

The company's bank account is 1210 (GEL at a resident bank). The statement, in every
format: opening 1,000.00; a customer pays 1,180.00 (INV-2026-0017); the bank takes a
2.50 commission; 850.00 rent goes out. Closing 1,000.00 + 1,180.00 - 2.50 - 850.00 =
1,327.50.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from bank_files import (
    CUSTOMER_IBAN,
    OTHER_IBAN,
    OUR_IBAN,
    Entry,
    bog_csv,
    bog_xlsx,
    camt053,
    mt940,
    tbc_csv,
    tbc_xlsx,
)
from ledger_harness import Books, Harness, expect_problem

from saldo.banking.projections import READ_MODELS

pytestmark = pytest.mark.integration

ENTRIES = [
    Entry("1180.00", date(2026, 3, 5), "Payment for INV-2026-0017", "B-1", "E2E-17",
          "Kolkheti Foods LLC", CUSTOMER_IBAN, "204567890"),
    Entry("-2.50", date(2026, 3, 5), "Commission for transfer", "B-2"),
    Entry("-850.00", date(2026, 3, 6), "Office rent March", "B-3", "", "Vake Estates",
          "", "405000111"),
]

WRITERS: dict[str, Callable[[list[Entry]], bytes]] = {
    "camt.053.001.02": lambda e: camt053(e, version="02"),
    "camt.053.001.08": camt053,
    "mt940": mt940,
    "tbc.csv": tbc_csv,
    "tbc.xlsx": tbc_xlsx,
    "bog.xlsx": bog_xlsx,
    "bog.csv": bog_csv,
}


async def upload(books: Books, content: bytes, account_code: str = "1210",
                 name: str = "statement") -> Any:
    return await books.h.client.post(
        books.url("/bank-statements"), params={"account_code": account_code},
        files={"file": (name, content, "application/octet-stream")}, headers=books.clerk)


async def lines(books: Books, **params: str) -> list[dict[str, Any]]:
    r = await books.h.client.get(books.url("/bank-statements/lines"), params=params,
                                 headers=books.clerk)
    assert r.status_code == 200, r.text
    return list(r.json())


async def register(books: Books, iban: str = OUR_IBAN, code: str = "1210") -> dict[str, Any]:
    r = await books.h.client.post(books.url("/bank-accounts"), headers=books.clerk,
                                  json={"iban": iban, "account_code": code})
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.mark.parametrize("fmt", list(WRITERS))
async def test_import_reimport_undo_in_every_format(h: Harness, fmt: str) -> None:
    books = await h.books()
    account = await register(books)
    assert (account["bank_code"], account["bic"], account["currency"]) == (
        "TB", "TBCBGE22", "GEL")
    content = WRITERS[fmt](ENTRIES)
    r = await upload(books, content)
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["lines_imported"], first["duplicates_skipped"]) == (3, 0)
    assert first["format"] == fmt
    got = await lines(books, status="unreconciled")
    assert [(ln["date"], ln["amount"]) for ln in got] == [
        ("2026-03-05", "1180.00"), ("2026-03-05", "-2.50"), ("2026-03-06", "-850.00")]
    assert {"counterparty_name", "counterparty_iban", "counterparty_tax_id", "description",
            "suggestions"} <= got[0].keys()
    # The same file again: nothing imported, every line counted as a duplicate.
    r = await upload(books, content)
    assert r.status_code == 201, r.text
    assert (r.json()["lines_imported"], r.json()["duplicates_skipped"]) == (0, 3)
    assert len(await lines(books)) == 3
    # Undo the first import: the lines go; importing again brings them back.
    r = await h.client.delete(books.url(f"/bank-statements/imports/{first['id']}"),
                              headers=books.clerk)
    assert r.status_code == 204, r.text
    assert await lines(books) == []
    r = await upload(books, content)
    assert (r.json()["lines_imported"], r.json()["duplicates_skipped"]) == (3, 0)


async def test_the_same_movements_in_another_format_are_duplicates(h: Harness) -> None:
    books = await h.books()
    r = await upload(books, camt053(ENTRIES))
    assert r.json()["lines_imported"] == 3
    # MT940 carries the same bank references (B-1..B-3): all three are known.
    r = await upload(books, mt940(ENTRIES))
    assert (r.json()["lines_imported"], r.json()["duplicates_skipped"]) == (0, 3)


async def test_first_import_registers_the_account_and_checks_later_ibans(h: Harness) -> None:
    books = await h.books()
    r = await upload(books, camt053(ENTRIES))
    assert r.status_code == 201, r.text
    r = await h.client.get(books.url("/bank-accounts"), headers=books.clerk)
    assert [(a["iban"], a["account_code"]) for a in r.json()] == [(OUR_IBAN, "1210")]
    before = await lines(books)
    r = await upload(books, camt053(ENTRIES[:1], iban=OTHER_IBAN))
    expect_problem(r, 422, "iban_mismatch")
    r = await upload(books, camt053([Entry("5.00", date(2026, 3, 9), "x", "B-9")],
                                    currency="USD"))
    expect_problem(r, 422, "currency_mismatch")
    assert await lines(books) == before


async def test_a_gap_between_statements_is_a_finding_not_a_refusal(h: Harness) -> None:
    books = await h.books()
    await upload(books, camt053(ENTRIES))  # closes at 1,327.50
    later = [Entry("10.00", date(2026, 4, 2), "Interest", "B-10")]
    r = await upload(books, camt053(later, opening="1400.00"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["lines_imported"] == 1
    assert [(f["code"], f["severity"]) for f in body["findings"]] == [("balance_gap", "warning")]
    r = await upload(books, camt053([Entry("1.00", date(2026, 4, 3), "Interest", "B-11")],
                                    opening="1410.00"))
    assert r.json()["findings"] == []


async def test_reconcile_to_an_account_then_unreconcile(h: Harness) -> None:
    books = await h.books()
    await upload(books, camt053(ENTRIES))
    fee = next(ln for ln in await lines(books) if ln["amount"] == "-2.50")
    url = books.url(f"/bank-statements/lines/{fee['id']}")
    r = await h.client.post(f"{url}/reconcile", json={"account_code": "7492"},
                            headers=books.clerk)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["rule_suggestion"] == {"contains": "Commission", "account_code": "7492",
                                       "direction": "out"}
    tx = await books.get(done["transaction_id"])
    assert (tx["status"], tx["source"]["type"]) == ("posted", "bank_line")
    assert sorted((e["account_code"], e["debit"], e["credit"]) for e in tx["entries"]) == [
        ("1210", "0.00", "2.50"), ("7492", "2.50", "0.00")]
    assert await books.balance("7492") == "2.50"
    # Twice is refused; the first reconciliation stands.
    r = await h.client.post(f"{url}/reconcile", json={"account_code": "7492"},
                            headers=books.clerk)
    expect_problem(r, 409, "already_reconciled")
    assert [ln["id"] for ln in await lines(books, status="reconciled")] == [fee["id"]]
    # A statement with a reconciled line cannot be undone.
    r = await h.client.delete(books.url(f"/bank-statements/imports/{fee['statement_id']}"),
                              headers=books.clerk)
    expect_problem(r, 409, "statement_reconciled")
    r = await h.client.post(f"{url}/unreconcile", headers=books.clerk)
    assert r.status_code == 200, r.text
    assert await books.balance("7492") == "0.00"
    assert len(await lines(books, status="unreconciled")) == 3
    r = await h.client.post(f"{url}/unreconcile", headers=books.clerk)
    expect_problem(r, 409, "not_reconciled")
    r = await h.client.delete(books.url(f"/bank-statements/imports/{fee['statement_id']}"),
                              headers=books.clerk)
    assert r.status_code == 204


async def test_rules_learnt_and_applied_in_bulk(h: Harness) -> None:
    books = await h.books()
    fees = [Entry("-2.50", date(2026, 3, d), f"Commission for transfer {d}", f"F-{d}")
            for d in (2, 3, 4)]
    await upload(books, camt053([*fees, ENTRIES[0]]))
    r = await h.client.post(books.url("/bank-rules"), headers=books.clerk,
                            json={"contains": "Commission", "account_code": "7492",
                                  "direction": "out"})
    assert r.status_code == 201, r.text
    r = await h.client.post(books.url("/bank-rule-runs"), headers=books.clerk, json={})
    preview = r.json()
    assert r.status_code == 200, r.text
    assert len(preview["matches"]) == 3
    assert preview["reconciled"] == []
    r = await h.client.post(books.url("/bank-rule-runs"), headers=books.clerk,
                            json={"confirm": True})
    assert r.status_code == 200, r.text
    assert len(r.json()["reconciled"]) == 3
    # 3 x 2.50 = 7.50 of bank charges; the customer's payment stays open.
    assert await books.balance("7492") == "7.50"
    assert [ln["amount"] for ln in await lines(books, status="unreconciled")] == ["1180.00"]


async def test_a_rule_learnt_while_reconciling(h: Harness) -> None:
    books = await h.books()
    fees = [Entry("-1.20", date(2026, 3, d), f"Commission SEPA {d}", f"L-{d}") for d in (2, 3)]
    await upload(books, camt053(fees))
    first, second = await lines(books)
    r = await h.client.post(books.url(f"/bank-statements/lines/{first['id']}/reconcile"),
                            json={"account_code": "7492", "learn": True}, headers=books.clerk)
    assert r.status_code == 200, r.text
    assert r.json()["rule_id"] is not None
    r = await h.client.get(books.url("/bank-rules"), headers=books.clerk)
    assert [(x["contains"], x["account_code"], x["direction"]) for x in r.json()] == [
        ("Commission", "7492", "out")]
    # One confirmation takes the other fee: 1.20 + 1.20 = 2.40 of bank charges.
    r = await h.client.post(books.url("/bank-rule-runs"), json={"confirm": True},
                            headers=books.clerk)
    assert [x["line_id"] for x in r.json()["matches"]] == [second["id"]]
    assert await books.balance("7492") == "2.40"


async def test_bad_lines_refuse_the_whole_file_with_every_finding(h: Harness) -> None:
    books = await h.books()
    text = tbc_csv(ENTRIES).decode()
    text = text.replace("05/03/2026,Commission", "31/02/2026,Commission")
    text = text.replace("850.00", "85O.00", 1)
    r = await upload(books, text.encode(), name="march.csv")
    body = expect_problem(r, 422, "invalid_statement")
    assert [(f["row"], f["code"]) for f in body["findings"]] == [
        (4, "malformed_date"), (5, "malformed_amount")]
    assert await lines(books) == []


async def test_hostile_and_foreign_files_are_refused(h: Harness) -> None:
    books = await h.books()
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
              b"<Document>&lol2;</Document>")
    expect_problem(await upload(books, laughs), 422, "unsafe_xml")
    xxe = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b"<Document>&x;</Document>")
    expect_problem(await upload(books, xxe), 422, "unsafe_xml")
    expect_problem(await upload(books, b"%PDF-1.7 not a statement"), 422, "not_a_statement")
    content = camt053(ENTRIES)
    expect_problem(await upload(books, content[:300]), 422, "invalid_statement")
    # 50 MB: refused at the edge before it is read.
    r = await h.client.post(books.url("/bank-statements"), params={"account_code": "1210"},
                            content=b"x" * (50 * 1024 * 1024), headers=books.clerk)
    expect_problem(r, 413)
    assert await lines(books) == []


async def test_bank_accounts_are_checked(h: Harness) -> None:
    books = await h.books()
    r = await h.client.post(books.url("/bank-accounts"), headers=books.clerk,
                            json={"iban": "GE28NB0000000101904917", "account_code": "1210"})
    expect_problem(r, 422, "invalid_iban")
    r = await h.client.post(books.url("/bank-accounts"), headers=books.clerk,
                            json={"iban": OUR_IBAN, "account_code": "1200"})
    expect_problem(r, 422, "unknown_account")
    await register(books)
    r = await h.client.post(books.url("/bank-accounts"), headers=books.clerk,
                            json={"iban": OUR_IBAN, "account_code": "1290"})
    expect_problem(r, 409, "bank_account_exists")


async def test_bad_parameters_are_422(h: Harness) -> None:
    books = await h.books()
    r = await h.client.get(books.url("/bank-statements/lines"), params={"status": "bogus"},
                           headers=books.clerk)
    expect_problem(r, 422)
    r = await h.client.post(books.url("/bank-rule-runs"), json={"confirm": "yes"},
                            headers=books.clerk)
    expect_problem(r, 422)
    r = await h.client.post(books.url("/bank-statements"), headers=books.clerk,
                            json={"account_code": "1210", "content_base64": "***"})
    expect_problem(r, 422, "not_a_statement")


async def test_another_company_sees_nothing(h: Harness) -> None:
    books = await h.books()
    await upload(books, camt053(ENTRIES))
    [line, *_] = await lines(books)
    other = await h.other_books("b")
    r = await h.client.post(other.url(f"/bank-statements/lines/{line['id']}/reconcile"),
                            json={"account_code": "7492"}, headers=other.clerk)
    expect_problem(r, 404)
    r = await h.client.get(other.url("/bank-statements/lines"), headers=other.clerk)
    assert r.json() == []


async def test_a_usd_account_reconciles_at_the_official_rate(h: Harness) -> None:
    """A USD account (1220): the 12.00 USD fee on 5 March at the NBG rate of 2.7000 GEL
    per USD is 32.40 GEL of bank charges (12.00 x 2.7000)."""
    books = await h.books()
    await h.user("root", superuser=True)
    r = await h.client.put("/api/v1/rates/USD/2026-03-05", json={"rate": "2.7000"},
                           headers=await h.headers("root"))
    assert r.status_code in (200, 201), r.text
    usd_iban = OTHER_IBAN
    r = await h.client.post(books.url("/bank-accounts"), headers=books.clerk,
                            json={"iban": usd_iban, "account_code": "1220", "currency": "USD"})
    assert r.status_code == 201, r.text
    fee = Entry("-12.00", date(2026, 3, 5), "Commission", "U-1")
    r = await upload(books, camt053([fee], iban=usd_iban, currency="USD"), "1220")
    assert r.status_code == 201, r.text
    [line] = await lines(books)
    assert (line["amount"], line["currency"]) == ("-12.00", "USD")
    r = await h.client.post(books.url(f"/bank-statements/lines/{line['id']}/reconcile"),
                            json={"account_code": "7492"}, headers=books.clerk)
    assert r.status_code == 200, r.text
    assert await books.balance("7492") == "32.40"
    # A GEL statement is not this account's.
    r = await upload(books, camt053([fee], iban=usd_iban), "1220")
    expect_problem(r, 422, "currency_mismatch")


async def test_the_same_file_imported_twice_at_once(h: Harness) -> None:
    """Two imports of one file race (the first of the account, so both would register
    it): one imports the three lines, the other skips all three; nothing fails."""
    books = await h.books()
    content = camt053(ENTRIES)
    first, second = await asyncio.gather(upload(books, content), upload(books, content))
    assert {first.status_code, second.status_code} == {201}, (first.text, second.text)
    counts = sorted((r.json()["lines_imported"], r.json()["duplicates_skipped"])
                    for r in (first, second))
    assert counts == [(0, 3), (3, 0)]
    assert len(await lines(books)) == 3


async def test_replay_rebuilds_identical_read_models(h: Harness) -> None:
    """Bank accounts, statements, lines with their reconciliation, allocations and rules
    come back the same from the event log (the suggestions, a cache, are kept)."""
    books = await h.books()
    await upload(books, camt053(ENTRIES))
    undone = await upload(books, mt940([Entry("7.00", date(2026, 3, 20), "Refund", "R-1")]))
    await h.client.delete(books.url(f"/bank-statements/imports/{undone.json()['id']}"),
                          headers=books.clerk)
    fee, rent = [ln for ln in await lines(books) if ln["amount"].startswith("-")]
    for line in (fee, rent):
        r = await h.client.post(books.url(f"/bank-statements/lines/{line['id']}/reconcile"),
                                json={"account_code": "7492"}, headers=books.clerk)
        assert r.status_code == 200, r.text
    await h.client.post(books.url(f"/bank-statements/lines/{rent['id']}/unreconcile"),
                        headers=books.clerk)
    await h.client.post(books.url("/bank-rules"), headers=books.clerk,
                        json={"contains": "Commission", "account_code": "7492"})
    tables = list(READ_MODELS)

    async def snapshot() -> dict[str, list[Any]]:
        found = {}
        async with h.container.db.transaction() as conn:
            for table in tables:
                cursor = await conn.execute(f"SELECT * FROM {table}")
                found[table] = sorted((tuple(r.items()) for r in await cursor.fetchall()),
                                      key=repr)
        return found

    live = await snapshot()
    assert len(live["bank_lines"]) == 3
    assert await h.container.runner.rebuild("banking") > 0
    assert await snapshot() == live
