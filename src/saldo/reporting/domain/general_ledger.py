"""The general ledger: one card per account (ანგარიშის ბარათი), each line with its
running balance; and the cards as the web shows them, a page of lines at a time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from saldo.reporting.domain.chart import ZERO, Account, Chart, Sums, money, sides


@dataclass(frozen=True, slots=True)
class LedgerLine:
    day: date
    number: int
    transaction_id: UUID
    description: str
    counter_accounts: tuple[str, ...]
    debit: Decimal
    credit: Decimal
    balance: Decimal  # running, debit − credit


@dataclass(frozen=True, slots=True)
class AccountCard:
    """One account's page of the general ledger (ანგარიშის ბარათი)."""

    account: Account
    opening: Decimal
    lines: tuple[LedgerLine, ...]

    @property
    def debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)

    @property
    def credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)

    @property
    def closing(self) -> Decimal:
        return self.opening + self.debit - self.credit

    def as_json(self, lang: str) -> dict[str, Any]:
        return _card_json(self.account, self.opening, self.debit, self.credit, self.closing,
                          self.lines, lang)


def account_card(account: Account, opening: Decimal,
                 lines: Iterable[Mapping[str, Any]]) -> AccountCard:
    """The card of ``account``: ``lines`` in date and number order, each with the running
    balance after it."""
    balance = opening
    out: list[LedgerLine] = []
    for raw in lines:
        debit, credit = Decimal(raw["debit"]), Decimal(raw["credit"])
        balance += debit - credit
        out.append(LedgerLine(raw["date"], raw["number"], raw["transaction_id"],
                              raw["description"], tuple(raw["counter_accounts"]), debit,
                              credit, balance))
    return AccountCard(account, opening, tuple(out))


@dataclass(frozen=True, slots=True)
class GeneralLedger:
    date_from: date
    date_to: date
    account: str | None
    cards: tuple[AccountCard, ...]

    @property
    def line_count(self) -> int:
        return sum(len(card.lines) for card in self.cards)

    def as_json(self, lang: str) -> dict[str, Any]:
        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
                "account": self.account, "accounts": [c.as_json(lang) for c in self.cards]}



# ---------------------------------------------------------------------- a page of the cards


def _card_json(account: Account, opening: Decimal, debit: Decimal, credit: Decimal,
               closing: Decimal, lines: Iterable[LedgerLine], lang: str) -> dict[str, Any]:
    """A card's account, balances, turnover and lines: what a whole card and a page of
    one both say."""
    od, oc = sides(opening)
    cd, cc = sides(closing)
    return {"code": account.code, "name": account.label(lang), "name_ka": account.name_ka,
            "opening": money(opening), "opening_debit": money(od), "opening_credit": money(oc),
            "lines": [_line_json(ln) for ln in lines],
            "debit": money(debit), "credit": money(credit),
            "closing": money(closing), "closing_debit": money(cd), "closing_credit": money(cc)}


def _line_json(ln: LedgerLine) -> dict[str, Any]:
    return {"date": ln.day.isoformat(), "number": ln.number,
            "transaction_id": str(ln.transaction_id), "description": ln.description,
            "counter_accounts": list(ln.counter_accounts), "debit": money(ln.debit),
            "credit": money(ln.credit), "balance": money(ln.balance)}


@dataclass(frozen=True, slots=True)
class CardPage:
    """One account's card as one page shows it: the range's opening balance and totals,
    the page's lines with their running balances, and the balance brought forward to
    the page's first line (the opening plus every line before it) and carried forward
    from its last."""

    account: Account
    opening: Decimal
    #: The turnover of the whole range, not of the page.
    debit: Decimal
    credit: Decimal
    lines: tuple[LedgerLine, ...]
    brought_forward: Decimal
    #: The card's lines in the range, and how many of them come before this page.
    line_count: int
    skip: int

    @property
    def closing(self) -> Decimal:
        return self.opening + self.debit - self.credit

    @property
    def carried_forward(self) -> Decimal:
        return self.lines[-1].balance if self.lines else self.brought_forward

    @property
    def first(self) -> bool:
        """The page starts at the card's opening balance."""
        return self.skip == 0

    @property
    def last(self) -> bool:
        """The page ends with the card's last line: the closing balance follows."""
        return self.skip + len(self.lines) >= self.line_count

    def as_json(self, lang: str) -> dict[str, Any]:
        return {**_card_json(self.account, self.opening, self.debit, self.credit,
                             self.closing, self.lines, lang),
                "brought_forward": money(self.brought_forward),
                "carried_forward": money(self.carried_forward),
                "line_count": self.line_count, "first": self.first, "last": self.last}


@dataclass(frozen=True, slots=True)
class CardPages:
    """Page ``page`` of ``pages`` of the cards of ``account`` (one per leaf for a header)
    over a range, ``per_page`` lines of each card a page."""

    date_from: date
    date_to: date
    account: str
    page: int
    pages: int
    per_page: int
    cards: tuple[CardPage, ...]

    def as_json(self, lang: str) -> dict[str, Any]:
        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
                "account": self.account, "page": self.page, "pages": self.pages,
                "per_page": self.per_page, "accounts": [c.as_json(lang) for c in self.cards]}


def card_codes(chart: Chart, account: str, sums: Mapping[str, Sums],
               counts: Mapping[str, int]) -> list[str]:
    """The accounts whose cards ``account``'s page shows: the account itself when it is
    postable (even if it did not move); under a header, each of its postable accounts
    that has lines in the range (``counts``) or an opening balance."""
    leaves = chart.leaves(account)
    if chart[account].postable:
        return leaves
    return [c for c in leaves if counts.get(c) or (c in sums and sums[c].opening)]


def card_page_count(counts: Iterable[int], per_page: int) -> int:
    """Pages of ``per_page`` lines the longest card needs; one for cards with no lines."""
    return max([1, *((n + per_page - 1) // per_page for n in counts)])


def card_pages(chart: Chart, account: str, codes: Sequence[str], sums: Mapping[str, Sums],
               counts: Mapping[str, int], rows: Iterable[Mapping[str, Any]],
               date_from: date, date_to: date, page: int, pages: int,
               per_page: int) -> CardPages:
    """Page ``page`` of the cards of ``codes``: ``rows`` are that page's lines of each
    card, in card order, each with ``moved`` (debit − credit of its card's lines in the
    range up to and including it), as ``saldo.ledger.queries.account_card_page`` reads
    them; a card with no line on the page has all its lines before it (the page is past
    its end), so it brings forward its closing balance."""
    by_account: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_account.setdefault(row["account_code"], []).append(row)
    skip = (page - 1) * per_page
    cards = []
    for code in codes:
        s = sums.get(code, Sums())
        lines = tuple(
            LedgerLine(r["date"], r["number"], r["transaction_id"], r["description"],
                       tuple(r["counter_accounts"]), Decimal(r["debit"]),
                       Decimal(r["credit"]), s.opening + Decimal(r["moved"]))
            for r in by_account.get(code, ()))
        brought = (lines[0].balance - lines[0].debit + lines[0].credit if lines
                   else s.closing)
        cards.append(CardPage(chart[code], s.opening, s.debit, s.credit, lines, brought,
                              counts.get(code, 0), skip))
    return CardPages(date_from, date_to, account, page, pages, per_page, tuple(cards))
