"""The account card a page at a time (decision 0069): reporting reads one page of each
card's lines, the balance brought forward to the page from the daily turnover and the
lines before it on the page's first day, the range's totals from the turnover.

The books: on 15 January 1,000.00 paid into the GEL bank account 1210 and 500.00 into the
currency account 1220 (both under the header 1200, bank accounts). In February, three
transactions a day (``k`` = 0 to 69): every fourth, from the first, pays rent out of 1210
(``k + 10``.00, one line on 1210), the others are sales paid in two parts (``k + 1``.00
and 0.``k mod 10``5, two lines on 1210). That is 18 rents and 52 sales, 122 lines on
1210: a page of CARD_LINES (100) and 22 more. The first page ends inside a day and inside
a transaction: line 100 is the first part of sale 57 on 20 February, its second part
opens page 2. 1220 takes 10.00 three times. A March sale must not show.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from ledger_harness import Books, Harness
from test_web import plant, sign_in

from saldo.identity.domain import Permission
from saldo.web.api import CARD_LINES

pytestmark = pytest.mark.integration

#: A line's row on the card: its number links to the transaction.
LINE = re.compile(r'<td><a href="/c/[^"]+/journal/[0-9a-f-]{36}">')
FEBRUARY = {"date_from": date(2026, 2, 1), "date_to": date(2026, 2, 28)}


def february() -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    txs: list[tuple[str, str, list[tuple[str, str, str]]]] = []
    for k in range(70):
        day = date(2026, 2, 1 + k // 3).isoformat()
        if k % 4 == 0:
            rent = f"{k + 10}.00"
            txs.append((day, f"Rent {k}", [("7420", rent, ""), ("1210", "", rent)]))
        else:
            second = f"0.{k % 10}5"
            total = Decimal(k + 1) + Decimal(second)
            txs.append((day, f"Sale {k}", [("1210", f"{k + 1}.00", ""), ("1210", second, ""),
                                           ("6110", "", str(total))]))
    for day in ("2026-02-02", "2026-02-10", "2026-02-20"):
        txs.append((day, "Transfer in", [("1220", "10.00", ""), ("6110", "", "10.00")]))
    return txs



@pytest.fixture
async def books(h: Harness) -> Books:
    books = await h.books()
    await books.post_batch([("2026-01-15", "Capital paid in", [
        ("1210", "1000.00", ""), ("1220", "500.00", ""), ("5150", "", "1500.00")])])
    await books.post_batch(february())
    await books.post_batch([("2026-03-01", "Sale in March", [("1210", "999.00", ""),
                                                             ("6110", "", "999.00")])])
    return books


def bank_lines() -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """1210's February lines in card order: (description, debit, credit, balance)."""
    balance = Decimal("1000.00")
    out = []
    for _, text, entries in february():
        for account, debit, credit in entries:
            if account == "1210":
                dr, cr = Decimal(debit or "0.00"), Decimal(credit or "0.00")
                balance += dr - cr
                out.append((text, dr, cr, balance))
    return out


async def card_page(h: Harness, books: Books, code: str, page: int) -> Any:
    ctx = await h.container.identity.member_context(books.company_id, "clerk",
                                                   Permission.REPORTS_FINANCIAL)
    return await h.container.reporting.account_card_page(ctx, code, page=page,
                                                         per_page=CARD_LINES, **FEBRUARY)


def shown(card: Any) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    return [(ln.description, ln.debit, ln.credit, ln.balance) for ln in card.lines]


async def test_the_bank_card_in_two_pages_with_its_balance_carried_across(
        h: Harness, books: Books) -> None:
    assert CARD_LINES == 100
    expected = bank_lines()
    assert len(expected) == 122  # 52 sales × 2 + 18 rents
    # By hand: rents take Σ(k + 10) = (0 + 4 + … + 68) + 180 = 612 + 180 = 792.00.
    # Sales bring Σ(k + 1) = (1 + … + 70) − (612 + 18) = 1,855.00, and the second parts
    # Σ(k mod 10) / 10 + 52 × 0.05 = (7 × 45 − 72) / 10 + 2.60 = 26.90 (72: the rents'
    # last digits, 0 4 8 2 6 three times and 0 4 8).
    debit, credit = Decimal("1881.90"), Decimal("792.00")
    assert sum(d for _, d, _, _ in expected) == debit
    assert sum(c for _, _, c, _ in expected) == credit

    first = await card_page(h, books, "1210", 1)
    assert (first.page, first.pages, first.per_page) == (1, 2, 100)
    [card] = first.cards
    assert (card.account.code, card.line_count) == ("1210", 122)
    assert (card.first, card.last) == (True, False)
    assert card.opening == card.brought_forward == Decimal("1000.00")
    assert shown(card) == expected[:100]
    assert card.lines[-1].day == date(2026, 2, 20)
    assert (card.lines[-1].description, card.lines[-1].debit) == ("Sale 57", Decimal("58.00"))
    assert card.carried_forward == expected[99][3]
    # The whole range's totals, not the page's.
    assert (card.debit, card.credit) == (debit, credit)
    assert card.closing == Decimal("1000.00") + debit - credit == Decimal("2089.90")
    assert [ln.counter_accounts for ln in card.lines[:3]] == [("7420",), ("6110",), ("6110",)]

    second = await card_page(h, books, "1210", 2)
    assert (second.page, second.pages) == (2, 2)
    [card] = second.cards
    assert (card.first, card.last) == (False, True)
    # Brought forward: the opening and the first 100 lines.
    assert card.brought_forward == Decimal("1000.00") + sum(
        d - c for _, d, c, _ in expected[:100]) == expected[99][3]
    assert shown(card) == expected[100:]
    # The second part of sale 57, the same day and transaction as page 1's last line.
    assert (card.lines[0].description, card.lines[0].debit) == ("Sale 57", Decimal("0.75"))
    assert card.lines[0].day == date(2026, 2, 20)
    assert card.carried_forward == card.closing == Decimal("2089.90")
    # The rents 60, 64 and 68.
    assert [ln.counter_accounts for ln in card.lines if ln.credit] == [("7420",)] * 3

    # A page outside the card shows the nearest one.
    assert (await card_page(h, books, "1210", 9)).page == 2
    assert shown((await card_page(h, books, "1210", 0)).cards[0]) == expected[:100]


async def test_the_header_shows_one_card_per_bank_account_that_moved(
        h: Harness, books: Books) -> None:
    first = await card_page(h, books, "1200", 1)
    assert first.pages == 2  # the longest card's (1210's)
    assert [c.account.code for c in first.cards] == ["1210", "1220"]  # not 1230, 1290
    bank, currency = first.cards
    assert len(bank.lines) == 100
    assert (currency.first, currency.last, currency.line_count) == (True, True, 3)
    assert [ln.balance for ln in currency.lines] == [Decimal("510.00"), Decimal("520.00"),
                                                    Decimal("530.00")]
    assert (currency.debit, currency.credit, currency.closing) == (
        Decimal("30.00"), Decimal("0.00"), Decimal("530.00"))

    second = await card_page(h, books, "1200", 2)
    bank, currency = second.cards
    assert shown(bank) == bank_lines()[100:]
    # Every line of 1220 is before page 2: it brings forward its closing balance.
    assert currency.lines == ()
    assert (currency.first, currency.last) == (False, True)
    assert currency.brought_forward == currency.carried_forward == Decimal("530.00")


async def test_the_card_page_in_the_browser(h: Harness, books: Books) -> None:
    await sign_in(h.client, "clerk")
    plant(h.client, "saldo_lang", "en")
    url = f"/c/{books.company_id}/accounts/1210"
    query = "date_from=2026-02-01&date_to=2026-02-28"
    first = await h.client.get(f"{url}?{query}")
    assert first.status_code == 200
    assert len(LINE.findall(first.text)) == 100
    assert "page 1 of 2" in first.text
    assert 'rel="next"' in first.text
    assert 'rel="prev"' not in first.text
    carried = f"{bank_lines()[99][3]:,}"
    assert re.search(r"Carried forward</td><td class=\"num\">" + re.escape(carried),
                     first.text)
    second = await h.client.get(f"{url}?{query}&page=2")
    assert second.status_code == 200
    assert len(LINE.findall(second.text)) == 22
    assert re.search(r"Brought forward</td><td class=\"num\">" + re.escape(carried),
                     second.text)
    assert re.search(r"Closing balance</td><td class=\"num\">1,881.90</td>"
                     r"<td class=\"num\">792.00</td><td class=\"num\">2,089.90", second.text)
    assert 'rel="prev"' in second.text
    assert 'rel="next"' not in second.text
