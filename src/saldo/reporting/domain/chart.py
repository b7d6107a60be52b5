"""The chart of accounts as a tree, and the :class:`Sums` per account that every
statement is computed from (with the amounts, labels and sign helpers they share)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from saldo.kernel.money import amount_text

ZERO = Decimal("0.00")

#: Cash and cash equivalents of an account that is not in the chart (never for posted
#: lines): the ge-standard groups. Every charted account says so itself (``cash_flow``).
CASH_GROUPS = ("1100", "1200")
#: IAS 7 activities an account may carry (the ledger's ``CashFlow``), and the section of
#: the statement of cash flows each lands in (``fx_effect``: the line after the sections).
CASH_FLOW_SECTION = {"operating": "operating", "interest": "operating",
                     "profit_tax": "operating", "investing": "investing",
                     "financing": "financing", "fx_effect": "fx_effect"}


def money(amount: Decimal) -> str:
    """An amount as the API shows it: a string with two decimals ("1180.00"), no "-0.00"
    (a liability of zero times the sign -1 is still zero)."""
    return amount_text(amount)


# ---------------------------------------------------------------------- names


@dataclass(frozen=True, slots=True)
class Name:
    """A label in English and Georgian."""

    en: str
    ka: str

    def __call__(self, lang: str) -> str:
        return self.ka if lang == "ka" else self.en


# ---------------------------------------------------------------------- the chart


@dataclass(frozen=True, slots=True)
class Account:
    code: str
    name: str
    name_ka: str
    type: str  # asset, liability, equity, revenue, expense
    classification: str
    parent_code: str | None = None
    postable: bool = True
    active: bool = True
    #: IAS 7 activity: cash, operating, interest, profit_tax, investing, financing,
    #: fx_effect (the ledger's ``CashFlow``, the chart CSV's ``cash_flow`` column).
    cash_flow: str = "operating"

    @property
    def label(self) -> Name:
        return Name(self.name, self.name_ka)

    @property
    def in_profit_or_loss(self) -> bool:
        return self.type in ("revenue", "expense")


class Chart:
    """The company's accounts as a tree (``parent_code``)."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        self.accounts: dict[str, Account] = {a.code: a for a in accounts}
        self._lineage: dict[str, tuple[str, ...]] = {}
        self._children: dict[str, list[str]] = {}
        for a in sorted(self.accounts.values(), key=lambda a: a.code):
            if a.parent_code is not None:
                self._children.setdefault(a.parent_code, []).append(a.code)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> Chart:
        return cls(Account(r["code"], r["name"], r["name_ka"], r["type"], r["classification"],
                           r["parent_code"], r["postable"], r["active"],
                           r.get("cash_flow") or "operating") for r in rows)

    def __contains__(self, code: object) -> bool:
        return code in self.accounts

    def __getitem__(self, code: str) -> Account:
        account = self.accounts.get(code)
        if account is None:  # never for posted lines: accounts with postings stay
            cash = code[:2] in ("11", "12")
            account = Account(code, code, code, _type_of_class(code), "", None,
                              cash_flow="cash" if cash else "operating")
            self.accounts[code] = account
        return account

    def lineage(self, code: str) -> tuple[str, ...]:
        """The account's ancestors and itself, root first: ``1210.01`` →
        (1000, 1200, 1210, 1210.01)."""
        cached = self._lineage.get(code)
        if cached is None:
            chain = [code]
            parent = self[code].parent_code
            while parent is not None and parent in self.accounts and parent not in chain:
                chain.append(parent)
                parent = self.accounts[parent].parent_code
            cached = self._lineage[code] = tuple(reversed(chain))
        return cached

    def depth(self, code: str) -> int:
        return len(self.lineage(code)) - 1

    def is_under(self, code: str, ancestor: str) -> bool:
        return ancestor in self.lineage(code)

    def group_of(self, code: str) -> str:
        """The group header (``XY00``, depth 1) the account belongs to."""
        lineage = self.lineage(code)
        return lineage[min(1, len(lineage) - 1)]

    def class_of(self, code: str) -> int | None:
        root = self.lineage(code)[0]
        return int(root[0]) if root[:1].isdigit() else None

    def leaves(self, code: str) -> list[str]:
        """The postable accounts at or under ``code``."""
        found: list[str] = []
        stack = [code]
        while stack:
            current = stack.pop()
            if self[current].postable:
                found.append(current)
            stack.extend(self._children.get(current, ()))
        return sorted(found)

    def is_cash(self, code: str) -> bool:
        """Cash and cash equivalents (IAS 7.7): the account's activity is ``cash``."""
        return self[code].cash_flow == "cash"

    def activity(self, code: str) -> str:
        """The account's IAS 7 activity (``cash`` for cash and cash equivalents)."""
        return self[code].cash_flow


def _type_of_class(code: str) -> str:
    return {"1": "asset", "2": "asset", "3": "liability", "4": "liability", "5": "equity",
            "6": "revenue"}.get(code[:1], "expense")


# ---------------------------------------------------------------------- sums


@dataclass(frozen=True, slots=True)
class Sums:
    """One account's figures for a range: totals before it (``opening_*``), turnover in it,
    and the part of that turnover made by year-end closing transactions (``year_end_*``,
    included in ``debit``/``credit``)."""

    opening_debit: Decimal = ZERO
    opening_credit: Decimal = ZERO
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    year_end_debit: Decimal = ZERO
    year_end_credit: Decimal = ZERO

    @property
    def opening(self) -> Decimal:
        return self.opening_debit - self.opening_credit

    @property
    def movement(self) -> Decimal:
        return self.debit - self.credit

    @property
    def closing(self) -> Decimal:
        return self.opening + self.movement

    @property
    def regular_movement(self) -> Decimal:
        """The movement without year-end closing transactions (what profit or loss sees)."""
        return self.movement - (self.year_end_debit - self.year_end_credit)

    def __add__(self, other: Sums) -> Sums:
        return Sums(self.opening_debit + other.opening_debit,
                    self.opening_credit + other.opening_credit, self.debit + other.debit,
                    self.credit + other.credit, self.year_end_debit + other.year_end_debit,
                    self.year_end_credit + other.year_end_credit)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Sums:
        return cls(*(Decimal(row[k]) for k in ("opening_debit", "opening_credit", "debit",
                                                "credit", "year_end_debit",
                                                "year_end_credit")))


def sides(net: Decimal) -> tuple[Decimal, Decimal]:
    """A balance in the debit column when positive, else in the credit column."""
    return (net, ZERO) if net > 0 else (ZERO, -net)


def unclosed_result(chart: Chart, sums: Mapping[str, Sums]) -> tuple[Decimal, Decimal]:
    """Profit not yet closed into retained earnings, at the start and the end of the range:
    ``−Σ(revenue and expense balances)``, year-end closings included (zero once closed)."""
    opening = closing = ZERO
    for code, s in sums.items():
        if chart[code].in_profit_or_loss:
            opening -= s.opening
            closing -= s.closing
    return opening, closing


def profit(chart: Chart, sums: Mapping[str, Sums]) -> Decimal:
    """Profit for the range: income less expenses, year-end closings excluded."""
    return -sum((s.regular_movement for code, s in sums.items()
                 if chart[code].in_profit_or_loss), ZERO)
