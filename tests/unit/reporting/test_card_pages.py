"""The account card's pages as pure functions (decision 0069): how many pages the
longest card needs, which cards a header shows, and a page's balances from the lines the
ledger reads for it -- the running balance brought forward to a page's first line and
carried forward from its last, the closing total on the last page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

from saldo.reporting import domain as d

PER_PAGE = 100
START, END = date(2026, 2, 1), date(2026, 2, 28)


def account(code: str, parent: str | None = "1200", postable: bool = True
            ) -> dict[str, Any]:
    return {"code": code, "name": f"Account {code}", "name_ka": code, "type": "asset",
            "classification": "current_asset", "parent_code": parent,
            "postable": postable, "active": True}


CHART = d.Chart.from_rows([account("1200", None, postable=False), account("1210"),
                           account("1220"), account("1230")])


def rows(code: str, count: int, skip: int) -> list[dict[str, Any]]:
    """What the ledger reads for a page of a card whose every line debits 1.00: line i
    (from 1) has moved the balance by i."""
    return [{"account_code": code, "date": START, "number": i, "transaction_id": uuid4(),
             "description": f"TX-{i}", "counter_accounts": ["6110"], "debit": "1.00",
             "credit": "0.00", "position": i, "moved": Decimal(i)}
            for i in range(skip + 1, min(skip + PER_PAGE, count) + 1)]


def page(count: int, number: int) -> d.CardPage:
    # Opening 10.00; the range's turnover is the count's debits.
    sums = {"1210": d.Sums(opening_debit=Decimal("10.00"), debit=Decimal(count))}
    counts = {"1210": count} if count else {}
    pages = d.card_page_count(counts.values(), PER_PAGE)
    number = min(max(number, 1), pages)
    shown = d.card_pages(CHART, "1210", ["1210"], sums, counts,
                         rows("1210", count, (number - 1) * PER_PAGE), START, END,
                         number, pages, PER_PAGE)
    assert shown.pages == pages
    [card] = shown.cards
    return card


def test_a_long_card_is_split_with_its_balance_carried_across_pages() -> None:
    count = 2 * PER_PAGE + 1  # 201 lines: three pages, the last with one line
    assert d.card_page_count([count], PER_PAGE) == 3
    first = page(count, 1)
    assert len(first.lines) == PER_PAGE
    assert (first.first, first.last) == (True, False)
    assert first.brought_forward == Decimal("10.00")
    assert first.carried_forward == Decimal("110.00")  # 10.00 + 100 lines of 1.00
    assert first.closing == Decimal("211.00")  # the range's, on every page
    second = page(count, 2)
    assert second.lines[0].description == f"TX-{PER_PAGE + 1}"
    assert second.brought_forward == Decimal("110.00")
    assert second.carried_forward == Decimal("210.00")
    last = page(count, 3)
    assert [x.description for x in last.lines] == [f"TX-{count}"]
    assert (last.first, last.last) == (False, True)
    assert last.brought_forward == Decimal("210.00")
    assert last.carried_forward == last.closing == Decimal("211.00")
    assert last.as_json("en")["brought_forward"] == "210.00"


def test_a_card_without_lines_has_one_page() -> None:
    assert d.card_page_count([], PER_PAGE) == d.card_page_count([0], PER_PAGE) == 1
    assert d.card_page_count([PER_PAGE], PER_PAGE) == 1
    assert d.card_page_count([PER_PAGE + 1, 3], PER_PAGE) == 2
    empty = page(0, 1)
    assert empty.lines == ()
    assert (empty.first, empty.last) == (True, True)
    assert empty.brought_forward == empty.carried_forward == Decimal("10.00")


def test_a_header_shows_the_accounts_that_moved_or_have_an_opening_balance() -> None:
    sums = {"1210": d.Sums(debit=Decimal("150.00")),
            "1220": d.Sums(opening_debit=Decimal("7.00"), opening_credit=Decimal("2.00")),
            "1230": d.Sums(opening_debit=Decimal("3.00"), opening_credit=Decimal("3.00"))}
    counts = {"1210": 150}
    codes = d.card_codes(CHART, "1200", sums, counts)
    assert codes == ["1210", "1220"]  # 1230 neither moved nor has a balance
    # A postable account has its card even when it did not move.
    assert d.card_codes(CHART, "1230", {}, {}) == ["1230"]
    # Page 2 of a header whose longest card (1210, 150 lines) has two: 1220 has no line
    # on it and brings forward its closing balance.
    shown = d.card_pages(CHART, "1200", codes, sums, counts,
                         rows("1210", 150, PER_PAGE), START, END, 2, 2, PER_PAGE)
    bank, other = shown.cards
    assert len(bank.lines) == 50
    assert (bank.brought_forward, bank.carried_forward) == (Decimal("100.00"),
                                                          Decimal("150.00"))
    assert other.lines == ()
    assert (other.first, other.last) == (False, True)
    assert other.brought_forward == other.closing == Decimal("5.00")
