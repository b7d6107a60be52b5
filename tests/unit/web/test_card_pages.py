"""The account card's pages: 500 lines each, the running balance brought forward to a
page's first line and carried forward from its last, the closing total on the last."""

from __future__ import annotations

from decimal import Decimal

from saldo.web.api import CARD_LINES, _card_pages


def card(count: int) -> dict[str, object]:
    # Each line debits 1.00: the balance after line i is the opening 10.00 + i + 1.
    lines = [{"number": f"TX-{i}", "debit": "1.00", "credit": "0.00",
              "balance": str(Decimal("10.00") + i + 1)} for i in range(count)]
    return {"code": "1210", "opening": "10.00", "lines": lines,
            "closing": str(Decimal("10.00") + count)}


def test_a_long_card_is_split_with_its_balance_carried_across_pages() -> None:
    count = 2 * CARD_LINES + 1  # 1,001 lines: three pages, the last with one line
    shown, pages = _card_pages([card(count)], 1)
    assert pages == 3
    first = shown[0]
    assert len(first["lines"]) == CARD_LINES
    assert (first["first"], first["last"]) == (True, False)
    assert first["brought_forward"] == "10.00"
    assert first["carried_forward"] == "510.00"  # 10.00 + 500 lines of 1.00
    second = _card_pages([card(count)], 2)[0][0]
    assert second["lines"][0]["number"] == f"TX-{CARD_LINES}"
    assert second["brought_forward"] == "510.00"
    assert second["carried_forward"] == "1010.00"
    last = _card_pages([card(count)], 3)[0][0]
    assert [x["number"] for x in last["lines"]] == [f"TX-{count - 1}"]
    assert (last["first"], last["last"]) == (False, True)
    assert last["brought_forward"] == "1010.00"


def test_a_page_beyond_the_card_or_before_it_shows_the_nearest_one() -> None:
    beyond, pages = _card_pages([card(3)], 7)
    assert pages == 1
    assert [x["number"] for x in beyond[0]["lines"]] == ["TX-0", "TX-1", "TX-2"]
    assert beyond[0]["last"] is True
    before, _ = _card_pages([card(3)], -2)
    assert before[0]["first"] is True
    empty, pages = _card_pages([card(0)], 1)
    assert pages == 1
    assert empty[0]["lines"] == []
    assert empty[0]["brought_forward"] == "10.00"
