"""The general ledger: one card per account (ანგარიშის ბარათი), each line with its
running balance."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from saldo.reporting.domain.chart import ZERO, Account, money, sides


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
        od, oc = sides(self.opening)
        cd, cc = sides(self.closing)
        return {
            "code": self.account.code, "name": self.account.label(lang),
            "name_ka": self.account.name_ka,
            "opening": money(self.opening), "opening_debit": money(od),
            "opening_credit": money(oc),
            "lines": [{"date": ln.day.isoformat(), "number": ln.number,
                       "transaction_id": str(ln.transaction_id),
                       "description": ln.description,
                       "counter_accounts": list(ln.counter_accounts),
                       "debit": money(ln.debit), "credit": money(ln.credit),
                       "balance": money(ln.balance)} for ln in self.lines],
            "debit": money(self.debit), "credit": money(self.credit),
            "closing": money(self.closing), "closing_debit": money(cd),
            "closing_credit": money(cc),
        }


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
