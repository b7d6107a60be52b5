"""The general ledger's rules: accounts, journal transactions and the fiscal calendar.

No I/O here. A journal transaction (საბუღალტრო გატარება) is an event-sourced aggregate:
its command methods check the rules of ARCHITECTURE §4 and return events; :meth:`apply`
is the only place its state changes, so replaying the stream rebuilds it exactly.

Worked example (a sale of goods for 1,180.00 GEL including 18% VAT)::

    Dr 1410 Trade receivables     1,180.00
        Cr 6110 Sales revenue                1,000.00
        Cr 3330 Output VAT payable             180.00
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from saldo.kernel.errors import Conflict, Forbidden, NotFound, RuleViolation
from saldo.kernel.events import Actor as Actor  # re-exported: the ledger's actor
from saldo.kernel.events import DomainEvent, event_types
from saldo.kernel.money import (
    ISO_CURRENCIES,
    InvalidAmount,
    minor_units,
    parse_amount,
    round_half_up,
)

#: ``date`` under another name, for methods of classes that have a ``date`` field.
Day = date
BASE_PLACES = 2
#: The largest amount a line may carry, in its currency and in GEL: journal lines are
#: numeric(20, 2) (18 integer digits); sums (turnover, totals) are unbounded numeric.
MAX_AMOUNT = Decimal("1e15")
#: Rates are GEL per one unit; NBG publishes four decimals per quantity of up to 10 000
#: units (IRR, UZS), so a rate per unit has up to ten (saldo.fx.domain.RATE_PLACES).
RATE_PLACES = 10
MAX_ENTRIES = 1000


# ---------------------------------------------------------------------- errors


class InvalidEntry(RuleViolation):
    """A line that is not one positive debit or one positive credit."""

    code = "invalid_entry"
    title = "Invalid journal line"


class InvalidAmountError(RuleViolation):
    code = "invalid_amount"
    title = "Invalid amount"


class TooFewEntries(RuleViolation):
    code = "too_few_entries"
    title = "A transaction needs at least two lines"


class UnbalancedTransaction(RuleViolation):
    code = "unbalanced_transaction"
    title = "Debits do not equal credits"
    exposed = ("debit", "credit", "currency")


class UnknownAccount(RuleViolation):
    code = "unknown_account"
    title = "Unknown account"


class InactiveAccount(RuleViolation):
    code = "inactive_account"
    title = "Inactive account"


class HeaderAccount(RuleViolation):
    code = "non_postable_account"
    title = "Header accounts take no postings"


class InvalidCurrency(RuleViolation):
    code = "invalid_currency"
    title = "Invalid currency"


class ExchangeRateMissing(RuleViolation):
    code = "exchange_rate_missing"
    title = "No exchange rate"


class FiscalYearUnavailable(RuleViolation):
    code = "fiscal_year_unavailable"
    title = "Date outside the fiscal years the company can open"


class PeriodClosed(RuleViolation):
    code = "period_closed"
    title = "The period is closed"


class PeriodLocked(Conflict):
    code = "period_locked"
    title = "The period is locked"


class InvalidState(Conflict):
    code = "invalid_state"
    title = "Not allowed in this state"


class SegregationOfDuties(Forbidden):
    code = "segregation_of_duties"
    title = "Maker-checker: the author cannot approve"


class TransactionNotFound(NotFound):
    code = "transaction_not_found"


class AccountNotFound(NotFound):
    code = "account_not_found"


class PeriodNotFound(NotFound):
    code = "period_not_found"


class AccountExists(Conflict):
    code = "account_exists"


class InvalidAccount(RuleViolation):
    code = "invalid_account"
    title = "Invalid account"


class AccountHasPostings(RuleViolation):
    code = "account_has_postings"
    title = "The account has postings"


class AccountHasBalance(RuleViolation):
    code = "account_has_balance"
    title = "The account has a balance"


class DuplicateKey(RuleViolation):
    code = "duplicate_key"
    title = "The same key twice in one batch"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    title = "Idempotency key reused with another request"


# ---------------------------------------------------------------------- accounts


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    EXPENSE = "expense"


class NormalBalance(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class Classification(StrEnum):
    """The statement line an account feeds (issue 5's reports map accounts by this)."""

    CURRENT_ASSET = "current_asset"
    NON_CURRENT_ASSET = "non_current_asset"
    CURRENT_LIABILITY = "current_liability"
    NON_CURRENT_LIABILITY = "non_current_liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    COST_OF_SALES = "cost_of_sales"
    OPERATING_EXPENSE = "operating_expense"
    OTHER_INCOME = "other_income"
    OTHER_EXPENSE = "other_expense"
    FX_GAIN_LOSS = "fx_gain_loss"
    PROFIT_TAX = "profit_tax"


class CashFlow(StrEnum):
    """An account's activity in the statement of cash flows (IAS 7.6, 7.10): the chart's
    ``cash_flow`` column, settable per account. ``cash`` marks cash and cash equivalents
    (IAS 7.7); ``interest`` and ``profit_tax`` are operating activities shown on lines of
    their own (IAS 7.31, 7.35); ``fx_effect`` is an unrealised exchange difference, whose
    part on cash is the effect of exchange rates on cash (IAS 7.28). docs/reporting.md."""

    CASH = "cash"
    OPERATING = "operating"
    INTEREST = "interest"
    PROFIT_TAX = "profit_tax"
    INVESTING = "investing"
    FINANCING = "financing"
    FX_EFFECT = "fx_effect"


#: The ge-standard chart's activities by code prefix, the longest prefix deciding; the
#: chart CSV's ``cash_flow`` column holds the same values. Used for accounts recorded
#: before the column existed (their events carry no activity). IAS 7 and issue 12:
#: provisions, deferred income and deferred tax are operating; short-term investments and
#: loans granted investing; subscribed capital receivable financing; disposal gains and
#: losses investing (the proceeds are; the gain is a non-cash adjustment).
_CASH_FLOW_BY_PREFIX: dict[str, CashFlow] = {
    "11": CashFlow.CASH, "12": CashFlow.CASH, "13": CashFlow.INVESTING,
    "1450": CashFlow.INVESTING, "1460": CashFlow.FINANCING, "1810": CashFlow.INVESTING,
    "1820": CashFlow.INTEREST,
    "2": CashFlow.INVESTING, "2310": CashFlow.OPERATING, "2340": CashFlow.OPERATING,
    "32": CashFlow.FINANCING, "3310": CashFlow.PROFIT_TAX, "3410": CashFlow.INTEREST,
    "3420": CashFlow.FINANCING,
    "4": CashFlow.FINANCING, "4210": CashFlow.OPERATING, "43": CashFlow.OPERATING,
    "44": CashFlow.OPERATING,
    "5": CashFlow.FINANCING,
    "8110": CashFlow.INTEREST, "8120": CashFlow.INVESTING, "8130": CashFlow.INVESTING,
    "8145": CashFlow.FX_EFFECT, "8210": CashFlow.INTEREST, "8245": CashFlow.FX_EFFECT,
    "8250": CashFlow.INVESTING, "92": CashFlow.PROFIT_TAX,
}


def standard_cash_flow(code: str) -> CashFlow:
    """The ge-standard activity of ``code`` (a sub-account ``1210.01`` has its base's)."""
    for length in (4, 3, 2, 1):
        found = _CASH_FLOW_BY_PREFIX.get(code[:length])
        if found is not None:
            return found
    return CashFlow.OPERATING


#: The classifications an account of each type may have: where it may be presented.
#: An asset classified ``equity`` is deducted from equity (subscribed capital
#: receivable, IAS 32.22 / docs/reporting.md).
CLASSIFICATIONS_OF: dict[AccountType, frozenset[Classification]] = {
    AccountType.ASSET: frozenset({Classification.CURRENT_ASSET,
                                  Classification.NON_CURRENT_ASSET, Classification.EQUITY}),
    AccountType.LIABILITY: frozenset({Classification.CURRENT_LIABILITY,
                                      Classification.NON_CURRENT_LIABILITY}),
    AccountType.EQUITY: frozenset({Classification.EQUITY}),
    AccountType.REVENUE: frozenset({Classification.REVENUE, Classification.OTHER_INCOME,
                                    Classification.FX_GAIN_LOSS}),
    AccountType.EXPENSE: frozenset({Classification.COST_OF_SALES,
                                    Classification.OPERATING_EXPENSE,
                                    Classification.OTHER_EXPENSE, Classification.FX_GAIN_LOSS,
                                    Classification.PROFIT_TAX}),
}


def check_attributes(account_type: AccountType, classification: Classification,
                     cash_flow: CashFlow) -> None:
    """A classification that fits the type; ``cash`` only for an asset."""
    if classification not in CLASSIFICATIONS_OF[account_type]:
        allowed = ", ".join(sorted(c.value for c in CLASSIFICATIONS_OF[account_type]))
        raise InvalidAccount(f"An account of type {account_type.value} is classified as one "
                             f"of {allowed}, not {classification.value}.",
                             field="classification")
    if cash_flow is CashFlow.CASH and (account_type is not AccountType.ASSET
                                       or classification is Classification.EQUITY):
        raise InvalidAccount("Only an asset account holds cash or cash equivalents.",
                             field="cash_flow")


def normal_balance_of(account_type: AccountType) -> NormalBalance:
    if account_type in (AccountType.ASSET, AccountType.EXPENSE):
        return NormalBalance.DEBIT
    return NormalBalance.CREDIT


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in an input of many transactions (a batch, an imported file), with the
    row it concerns: the CSV line, or the transaction's row in a batch."""

    row: int
    code: str
    message: str


#: Account codes: four digits, then optional sub-account segments (``1210.01``).
ACCOUNT_CODE = re.compile(r"^[0-9]{4}(\.[0-9A-Za-z]{1,8}){0,3}$")


@dataclass(frozen=True, slots=True)
class Account:
    code: str
    name: str
    name_ka: str
    type: AccountType
    normal_balance: NormalBalance
    classification: Classification
    parent_code: str | None
    postable: bool
    active: bool = True
    custom: bool = False
    cash_flow: CashFlow = CashFlow.OPERATING

    def as_data(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "name_ka": self.name_ka,
                "type": self.type.value, "normal_balance": self.normal_balance.value,
                "classification": self.classification.value, "parent_code": self.parent_code,
                "postable": self.postable, "active": self.active, "custom": self.custom,
                "cash_flow": self.cash_flow.value}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Account:
        return cls(code=data["code"], name=data["name"], name_ka=data["name_ka"],
                   type=AccountType(data["type"]),
                   normal_balance=NormalBalance(data["normal_balance"]),
                   classification=Classification(data["classification"]),
                   parent_code=data["parent_code"], postable=data["postable"],
                   active=data.get("active", True), custom=data.get("custom", False),
                   cash_flow=CashFlow(data.get("cash_flow")
                                      or standard_cash_flow(data["code"])))


def new_sub_account(code: str, name: str, name_ka: str | None,
                    account_type: AccountType | None, parent: Account | None,
                    parent_has_postings: bool, classification: Classification | None = None,
                    cash_flow: CashFlow | None = None) -> Account:
    """A company's own account under ``parent`` (``1210.01`` for a second GEL bank
    account). It inherits the parent's classification and cash-flow activity unless
    given; under a leaf it also inherits the type, and the leaf becomes a header --
    allowed only while the leaf has no postings, so no posted line ever sits on a
    header."""
    if not ACCOUNT_CODE.fullmatch(code):
        raise InvalidAccount("An account code is four digits with optional segments, "
                             "such as 1210 or 1210.01.", field="code")
    if not name.strip() or len(name) > 200:
        raise InvalidAccount("The account name must be 1 to 200 characters.", field="name")
    if parent is None:
        raise InvalidAccount("A new account needs an existing parent account "
                             "(a group header such as 7400, or a leaf such as 1210).",
                             field="parent_code")
    if parent.postable and parent_has_postings:
        raise AccountHasPostings(f"Account {parent.code} has postings; a sub-account under it "
                                 "would leave posted lines on a header.", code=parent.code)
    account_type = account_type or parent.type
    if parent.postable and account_type != parent.type:
        raise InvalidAccount(f"A sub-account of {parent.code} must have its type "
                             f"({parent.type.value}).", field="type")
    if classification is None:
        classification = parent.classification
        if account_type != parent.type:
            classification = default_classification(account_type)
    if cash_flow is None:
        cash_flow = parent.cash_flow
        if cash_flow is CashFlow.CASH and account_type is not AccountType.ASSET:
            cash_flow = CashFlow.OPERATING
    check_attributes(account_type, classification, cash_flow)
    normal = parent.normal_balance if account_type == parent.type else normal_balance_of(
        account_type)
    return Account(code=code, name=name.strip(), name_ka=(name_ka or name).strip(),
                   type=account_type, normal_balance=normal, classification=classification,
                   parent_code=parent.code, postable=True, active=True, custom=True,
                   cash_flow=cash_flow)


def default_classification(account_type: AccountType) -> Classification:
    """Where an account of this type lands when nothing more specific is known."""
    return _DEFAULT_CLASSIFICATION[account_type]


_DEFAULT_CLASSIFICATION = {
    AccountType.ASSET: Classification.CURRENT_ASSET,
    AccountType.LIABILITY: Classification.CURRENT_LIABILITY,
    AccountType.EQUITY: Classification.EQUITY,
    AccountType.REVENUE: Classification.OTHER_INCOME,
    AccountType.EXPENSE: Classification.OTHER_EXPENSE,
}


@dataclass(frozen=True, slots=True)
class PostingTarget:
    """What posting needs to know of an account."""

    code: str
    postable: bool
    active: bool


def check_accounts(codes: Iterable[str], chart: Mapping[str, PostingTarget]) -> None:
    """Only active leaf accounts take postings (ARCHITECTURE §4)."""
    for code in codes:
        target = chart.get(code)
        if target is None:
            raise UnknownAccount(f"Account {code} is not in the chart of accounts.", code=code)
        if not target.postable:
            raise HeaderAccount(f"Account {code} is a header; post to one of its sub-accounts.",
                                code=code)
        if not target.active:
            raise InactiveAccount(f"Account {code} is inactive.", code=code)


# ---------------------------------------------------------------------- journal content


@dataclass(frozen=True, slots=True)
class EntryInput:
    """One line as the client wrote it; amounts are parsed but not yet checked."""

    account_code: str
    debit: object = None
    credit: object = None
    debit_base: object = None
    credit_base: object = None
    description: str = ""
    #: The sub-ledger's keys (set by document flows through the posting port): the
    #: customer or supplier, and the invoice, bill or payment the line belongs to.
    counterparty_id: UUID | None = None
    document_id: UUID | None = None
    kind: str = "regular"
    #: An exchange-difference line only: the currency of the item whose GEL value it
    #: adjusts, when not the transaction's (a revaluation in GEL adjusts USD and EUR items).
    currency: str | None = None


#: Line kinds. ``fx_difference``: a realised or unrealised exchange difference, a GEL
#: amount with no currency amount (IAS 21.28-30), which only the posting port accepts and
#: only for that purpose -- never a free-floating plug typed into a journal entry.
REGULAR_LINE, FX_DIFFERENCE = "regular", "fx_difference"


@dataclass(frozen=True, slots=True)
class SourceRef:
    """The document a journal transaction was made from (an invoice, a payroll run)."""

    type: str
    id: UUID

    def as_data(self) -> dict[str, str]:
        return {"type": self.type, "id": str(self.id)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> SourceRef | None:
        return cls(data["type"], UUID(data["id"])) if data else None


@dataclass(frozen=True, slots=True)
class Entry:
    """A checked line: exactly one side non-zero in the transaction currency, with its
    GEL amount; a rounding line has zero currency amount and a base amount only."""

    account_code: str
    debit: Decimal
    credit: Decimal
    debit_base: Decimal
    credit_base: Decimal
    description: str = ""
    counterparty_id: UUID | None = None
    document_id: UUID | None = None
    kind: str = REGULAR_LINE
    #: Exchange-difference lines: the item's currency, if not the transaction's.
    currency: str | None = None

    def as_data(self) -> dict[str, Any]:
        data = {"account_code": self.account_code, "debit": str(self.debit),
                "credit": str(self.credit), "debit_base": str(self.debit_base),
                "credit_base": str(self.credit_base), "description": self.description}
        # Only when set: events of plain journal entries keep their original shape.
        if self.counterparty_id is not None:
            data["counterparty_id"] = str(self.counterparty_id)
        if self.document_id is not None:
            data["document_id"] = str(self.document_id)
        if self.kind != REGULAR_LINE:
            data["kind"] = self.kind
        if self.currency is not None:
            data["currency"] = self.currency
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Entry:
        counterparty, document = data.get("counterparty_id"), data.get("document_id")
        return cls(data["account_code"], Decimal(data["debit"]), Decimal(data["credit"]),
                   Decimal(data["debit_base"]), Decimal(data["credit_base"]),
                   data.get("description") or "",
                   UUID(counterparty) if counterparty else None,
                   UUID(document) if document else None,
                   data.get("kind", REGULAR_LINE), data.get("currency"))

    def swapped(self) -> Entry:
        return replace(self, debit=self.credit, credit=self.debit,
                       debit_base=self.credit_base, credit_base=self.debit_base)


@dataclass(frozen=True, slots=True)
class ContentInput:
    date: date
    description: str
    entries: Sequence[EntryInput]
    reference: str | None = None
    currency: str | None = None
    exchange_rate: object = None
    #: The document this transaction is made from (posting port only).
    source: SourceRef | None = None
    #: A batch item's idempotency key (a journal file's ``transaction`` value): posting a
    #: batch again posts only the items whose key the company has not seen.
    key: str | None = None


#: A line of a journal draft made by a document (the posting port's word for it).
LineDraft = EntryInput


@dataclass(frozen=True, slots=True)
class JournalDraft:
    """What a document flow asks the ledger to post (``LedgerService.post_journal``)."""

    date: date
    description: str
    lines: Sequence[EntryInput]
    source: SourceRef
    reference: str | None = None
    currency: str | None = None
    #: GEL per one unit; ``None`` for the base currency or the official rate of the date.
    exchange_rate: object = None

    def content(self) -> ContentInput:
        return ContentInput(self.date, self.description, self.lines, self.reference,
                            self.currency, self.exchange_rate, self.source)


@dataclass(frozen=True, slots=True)
class Content:
    """A transaction's checked content: what the events carry."""

    date: date
    description: str
    reference: str | None
    currency: str
    exchange_rate: Decimal
    entries: tuple[Entry, ...]
    source: SourceRef | None = None

    @property
    def total(self) -> Decimal:
        """Debits in the base currency (equal to credits)."""
        return sum((e.debit_base for e in self.entries), Decimal("0.00"))

    def as_data(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "description": self.description,
                "reference": self.reference, "currency": self.currency,
                "exchange_rate": str(self.exchange_rate),
                "entries": [e.as_data() for e in self.entries],
                **({"source": self.source.as_data()} if self.source else {})}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Content:
        return cls(date.fromisoformat(data["date"]), data["description"], data.get("reference"),
                   data["currency"], Decimal(data["exchange_rate"]),
                   tuple(Entry.from_data(e) for e in data["entries"]),
                   SourceRef.from_data(data.get("source")))

    def reversed(self, on: Day, description: str) -> Content:
        return replace(self, date=on, description=description,
                       entries=tuple(e.swapped() for e in self.entries))


def _amount(value: object, where: str, places: int) -> Decimal:
    quantum = Decimal(1).scaleb(-places)
    if value is None or value == "":
        return Decimal(0).quantize(quantum)
    try:
        amount = parse_amount(value)
    except InvalidAmount as exc:
        raise InvalidAmountError(f"{where}: {exc}", field=where) from None
    if amount < 0:
        raise InvalidAmountError(f"{where}: amounts are positive; put a credit on the "
                                 "credit side instead of a negative debit.", field=where)
    if amount >= MAX_AMOUNT:
        raise InvalidAmountError(f"{where}: {value} is larger than Saldo accepts "
                                 f"(below {MAX_AMOUNT:,.0f}).", field=where)
    if amount != amount.quantize(quantum):
        raise InvalidAmountError(f"{where}: at most {places} decimals.", field=where)
    return amount.quantize(quantum)


def _rate(value: object) -> Decimal:
    try:
        rate = parse_amount(value)
    except InvalidAmount as exc:
        raise InvalidAmountError(f"exchange_rate: {exc}", field="exchange_rate") from None
    if rate <= 0 or rate >= Decimal(1_000_000):
        raise InvalidAmountError("exchange_rate must be positive (GEL per one unit).",
                                 field="exchange_rate")
    if rate != round_half_up(rate, RATE_PLACES):
        raise InvalidAmountError(f"exchange_rate: at most {RATE_PLACES} decimals.",
                                 field="exchange_rate")
    return rate.normalize() if rate == rate.to_integral() else rate


def check_content(raw: ContentInput, base_currency: str, *,
                  document_flow: bool = False) -> Content:
    """Check a transaction's content against ARCHITECTURE §4 and return it normalised.

    Debits must equal credits in the base currency after each line is converted and
    rounded (half-up to the tetri). In a foreign currency they must also balance in that
    currency, and a conversion difference must be an explicit *rounding line*: a line
    with a base amount only, at most one tetri per line of the transaction.

    ``document_flow``: the content comes from a document through the posting port, and
    may carry exchange-difference lines (``kind="fx_difference"``: a base amount only, of
    any size). A journal entry typed by a person (``document_flow=False``) may not.
    """
    description = raw.description.strip()
    if len(description) > 500:
        raise InvalidEntry("The description is at most 500 characters.", field="description")
    currency = base_currency if raw.currency is None else raw.currency.strip().upper()
    if currency not in ISO_CURRENCIES:
        raise InvalidCurrency(f"{currency!r} is not an ISO 4217 currency code.",
                              field="currency")
    foreign = currency != base_currency
    if not foreign:
        if raw.exchange_rate not in (None, "", 1, "1") and _rate(raw.exchange_rate) != 1:
            raise InvalidAmountError("A base-currency transaction has exchange rate 1.",
                                     field="exchange_rate")
        rate = Decimal(1)
    elif raw.exchange_rate is None or raw.exchange_rate == "":
        raise ExchangeRateMissing(
            f"No exchange rate for {currency} on {raw.date}: give exchange_rate (GEL per one "
            f"{currency}).", currency=currency)
    else:
        rate = _rate(raw.exchange_rate)
    if len(raw.entries) < 2:
        raise TooFewEntries("A transaction needs at least two lines.", lines=len(raw.entries))
    if len(raw.entries) > MAX_ENTRIES:
        raise InvalidEntry(f"A transaction has at most {MAX_ENTRIES} lines.", field="entries")
    places = minor_units(currency)
    entries = [_check_entry(i, e, places, rate, foreign, document_flow)
               for i, e in enumerate(raw.entries)]
    for index, (line, entry) in enumerate(zip(raw.entries, entries, strict=True)):
        if line.currency is None:
            continue
        item_currency = line.currency.strip().upper()
        if entry.kind != FX_DIFFERENCE:
            raise InvalidEntry(f"entries[{index}]: only an exchange-difference line names "
                               "a currency of its own.", field=f"entries[{index}]")
        if item_currency not in ISO_CURRENCIES or item_currency == base_currency:
            raise InvalidEntry(f"entries[{index}]: an exchange difference adjusts an item "
                               f"in a foreign currency, not {item_currency!r}.",
                               field=f"entries[{index}]")
        entries[index] = replace(entry, currency=item_currency)
    debit = sum((e.debit for e in entries), Decimal(0))
    credit = sum((e.credit for e in entries), Decimal(0))
    if debit != credit:
        raise UnbalancedTransaction(
            f"Debits ({debit}) do not equal credits ({credit}) in {currency}.",
            debit=str(debit), credit=str(credit), currency=currency)
    debit_base = sum((e.debit_base for e in entries), Decimal(0))
    credit_base = sum((e.credit_base for e in entries), Decimal(0))
    if debit_base != credit_base:
        raise UnbalancedTransaction(
            f"Debits ({debit_base}) do not equal credits ({credit_base}) in {base_currency} "
            f"after conversion; add a rounding line of {abs(debit_base - credit_base)} "
            f"{base_currency} (a line with only debit_base or credit_base).",
            debit=str(debit_base), credit=str(credit_base), currency=base_currency)
    if debit_base == 0:
        raise InvalidEntry("A transaction of zero carries nothing to post.", field="entries")
    rounding = sum((e.debit_base + e.credit_base for e in entries
                    if e.debit == e.credit == 0 and e.kind == REGULAR_LINE), Decimal(0))
    if rounding > Decimal("0.01") * len(entries):
        raise InvalidEntry(f"Rounding lines total {rounding} {base_currency}, more than one "
                           "tetri per line: that is not a conversion difference.",
                           field="entries")
    return Content(raw.date, description, (raw.reference or None), currency, rate,
                   tuple(entries), raw.source if document_flow else None)


def _check_entry(index: int, raw: EntryInput, places: int, rate: Decimal,
                 foreign: bool, document_flow: bool = False) -> Entry:
    where = f"entries[{index}]"
    if len(raw.description) > 500:
        raise InvalidEntry(f"{where}: the description is at most 500 characters.", field=where)
    debit = _amount(raw.debit, f"{where}.debit", places)
    credit = _amount(raw.credit, f"{where}.credit", places)
    debit_base = _amount(raw.debit_base, f"{where}.debit_base", BASE_PLACES)
    credit_base = _amount(raw.credit_base, f"{where}.credit_base", BASE_PLACES)
    # A person's journal entry carries no sub-ledger keys: only documents set them.
    party, document = ((raw.counterparty_id, raw.document_id) if document_flow
                       else (None, None))
    if raw.kind == FX_DIFFERENCE:
        if not document_flow:
            raise InvalidEntry(f"{where}: exchange differences are posted by the payment "
                               "and revaluation flows, not typed in.", field=where)
        if debit or credit or bool(debit_base) == bool(credit_base):
            raise InvalidEntry(f"{where}: an exchange difference is a base-currency amount "
                               "only, on one side.", field=where)
        zero = Decimal("0").quantize(Decimal(1).scaleb(-places))
        return Entry(raw.account_code, zero, zero, debit_base, credit_base, raw.description,
                     party, document, FX_DIFFERENCE)
    if raw.kind != REGULAR_LINE:
        raise InvalidEntry(f"{where}: unknown line kind {raw.kind!r}.", field=where)
    if debit and credit:
        raise InvalidEntry(f"{where}: a line is either a debit or a credit, not both.",
                           field=where)
    if not debit and not credit:
        if not foreign or (bool(debit_base) == bool(credit_base)):
            raise InvalidEntry(f"{where}: a line needs a positive debit or credit.", field=where)
        # A rounding line: base currency only (ARCHITECTURE §4).
        return Entry(raw.account_code, Decimal("0").quantize(Decimal(1).scaleb(-places)),
                     Decimal("0").quantize(Decimal(1).scaleb(-places)),
                     debit_base, credit_base, raw.description, party, document)
    if debit_base or credit_base:
        expected = round_half_up((debit or credit) * rate, BASE_PLACES)
        given = debit_base or credit_base
        if (bool(debit) != bool(debit_base)) or given != expected:
            raise InvalidEntry(f"{where}: the base amount is the amount times the rate "
                               f"({expected}); put a difference on a rounding line.",
                               field=where)
    zero_base = Decimal("0.00")
    base = round_half_up((debit or credit) * rate, BASE_PLACES)
    if base >= MAX_AMOUNT:  # a large amount at a large rate
        raise InvalidAmountError(f"{where}: {base} in the base currency is larger than "
                                 f"Saldo accepts (below {MAX_AMOUNT:,.0f}).", field=where)
    if debit:
        return Entry(raw.account_code, debit, credit, base, zero_base, raw.description, party,
                     document)
    return Entry(raw.account_code, debit, credit, zero_base, base, raw.description, party,
                 document)


# ---------------------------------------------------------------------- fiscal calendar


def fiscal_year_of(day: date, start_month: int) -> int:
    """The fiscal year holding ``day``, named by the calendar year it starts in."""
    return day.year if day.month >= start_month else day.year - 1


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True, slots=True)
class Period:
    period: str
    start: date
    end: date


def periods_of_year(year: int, start_month: int) -> list[Period]:
    """The twelve months of fiscal year ``year``."""
    out = []
    for i in range(12):
        month0 = start_month - 1 + i
        y, m = year + month0 // 12, month0 % 12 + 1
        out.append(Period(f"{y:04d}-{m:02d}", date(y, m, 1),
                          date(y, m, calendar.monthrange(y, m)[1])))
    return out


PERIOD = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def parse_period(text: str) -> date:
    match = PERIOD.fullmatch(text)
    if not match:
        raise PeriodNotFound(f"{text!r} is not a period such as 2026-03.", period=text)
    return date(int(match[1]), int(match[2]), 1)


def check_openable(year: int, today: date, start_month: int, history_years: int) -> None:
    """A company may open fiscal years from ``history_years`` before the current one (to
    migrate its past books) through the next one (to prepare January in December)."""
    current = fiscal_year_of(today, start_month)
    if not current - history_years <= year <= current + 1:
        raise FiscalYearUnavailable(
            f"Fiscal year {year} cannot be opened: Saldo opens {current - history_years} "
            f"to {current + 1}.", year=year)


class PeriodStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    LOCKED = "locked"


def next_period_status(current: PeriodStatus, action: str, period: str) -> PeriodStatus:
    """close: open → closed; reopen: closed → open; lock: open|closed → locked (final)."""
    if current is PeriodStatus.LOCKED:
        raise PeriodLocked(f"Period {period} is locked; a locked period never reopens.",
                           period=period)
    if action == "close":
        if current is not PeriodStatus.OPEN:
            raise InvalidState(f"Period {period} is {current.value}, not open.", period=period)
        return PeriodStatus.CLOSED
    if action == "reopen":
        if current is not PeriodStatus.CLOSED:
            raise InvalidState(f"Period {period} is {current.value}, not closed.", period=period)
        return PeriodStatus.OPEN
    if action == "lock":
        return PeriodStatus.LOCKED
    raise ValueError(action)


# ---------------------------------------------------------------------- the fiscal year
#
# The fiscal year is an aggregate like the journal transaction: its stream records that it
# was opened with its twelve months, each month's closing, reopening and locking, and the
# year-end close and reopening; the aggregate replays them and decides. Its events are
# typed (saldo.kernel.events); their data is the shape stored since the ledger began, so
# old streams read as they are. The month events keep their stored names (PeriodClosed,
# ...), which the error PeriodClosed (a posting into a closed month) also bears: the classes
# are named for the month.


@dataclass(frozen=True, slots=True)
class PeriodSpan:
    period: str
    start: date
    end: date


@dataclass(frozen=True, slots=True)
class FiscalYearOpened(DomainEvent):
    year: int
    periods: tuple[PeriodSpan, ...]
    by: str
    by_id: UUID


@dataclass(frozen=True, slots=True)
class MonthClosed(DomainEvent):
    type: ClassVar[str] = "PeriodClosed"
    period: str
    by: str
    by_id: UUID


@dataclass(frozen=True, slots=True)
class MonthReopened(DomainEvent):
    type: ClassVar[str] = "PeriodReopened"
    period: str
    by: str
    by_id: UUID


@dataclass(frozen=True, slots=True)
class MonthLocked(DomainEvent):
    type: ClassVar[str] = "PeriodLocked"
    period: str
    by: str
    by_id: UUID


@dataclass(frozen=True, slots=True)
class FiscalYearClosed(DomainEvent):
    year: int
    #: The year-end closing transaction (None: the year had no result to move).
    closing_transaction: UUID | None
    #: The months this close closed (reopening the year reopens these, not the months
    #: closed one by one before); missing in events written before it was recorded.
    closed_periods: tuple[str, ...] | None
    by: str
    by_id: UUID


@dataclass(frozen=True, slots=True)
class FiscalYearReopened(DomainEvent):
    year: int
    by: str
    by_id: UUID


FISCAL_YEAR_EVENTS = event_types(FiscalYearOpened, MonthClosed, MonthReopened, MonthLocked,
                                 FiscalYearClosed, FiscalYearReopened)
_MONTH_EVENTS: dict[str, type[MonthClosed | MonthReopened | MonthLocked]] = {
    "close": MonthClosed, "reopen": MonthReopened, "lock": MonthLocked}


@dataclass(slots=True)
class FiscalYear:
    """A fiscal year of one company: its months' statuses and whether it is closed."""

    year: int
    version: int = 0
    months: dict[str, PeriodStatus] = field(default_factory=dict)
    spans: dict[str, PeriodSpan] = field(default_factory=dict)
    closed: bool = False
    closing_transaction: UUID | None = None
    closed_by_close: tuple[str, ...] = ()
    pending: list[DomainEvent] = field(default_factory=list)

    @classmethod
    def open(cls, year: int, periods: Sequence[Period], actor: Actor) -> FiscalYear:
        fiscal_year = cls(year)
        fiscal_year._record(FiscalYearOpened(
            year, tuple(PeriodSpan(p.period, p.start, p.end) for p in periods),
            actor.username, actor.id))
        return fiscal_year

    @classmethod
    def replay(cls, year: int, events: Iterable[tuple[str, Mapping[str, Any]]]
               ) -> FiscalYear | None:
        fiscal_year = cls(year)
        for event_type, data in events:
            fiscal_year.apply(FISCAL_YEAR_EVENTS[event_type].from_data(data))
        return fiscal_year if fiscal_year.version else None

    # -------------------------------------------------------------- commands

    def change_month(self, period: str, action: str, actor: Actor) -> PeriodStatus:
        """close: open → closed; reopen: closed → open; lock: open|closed → locked."""
        current = self.months.get(period)
        if current is None:
            raise PeriodNotFound(f"Period {period} is not in fiscal year {self.year}.",
                                 period=period)
        status = next_period_status(current, action, period)
        self._record(_MONTH_EVENTS[action](period, actor.username, actor.id))
        return status

    def check_closable(self) -> None:
        if self.closed:
            raise YearClosed(f"Fiscal year {self.year} is closed already.", year=self.year)

    def close(self, actor: Actor, closing_transaction: UUID | None) -> list[str]:
        """Close the year: every month still open closes with it. Returns those months.
        The closing transaction (if the year has a result) is dated the year's last day,
        so that month must not be locked."""
        self.check_closable()
        last = list(self.months)[-1]
        if closing_transaction is not None and self.months[last] is PeriodStatus.LOCKED:
            raise PeriodLocked(f"Period {last} is locked; the closing transaction cannot be "
                               "posted into it.", period=last)
        closing = [p for p, status in self.months.items() if status is PeriodStatus.OPEN]
        for period in closing:
            self._record(MonthClosed(period, actor.username, actor.id))
        self._record(FiscalYearClosed(self.year, closing_transaction, tuple(closing),
                                      actor.username, actor.id))
        return closing

    def check_reopenable(self) -> None:
        if not self.closed:
            raise YearNotClosed(f"Fiscal year {self.year} is not closed.", year=self.year)
        locked = [p for p, status in self.months.items() if status is PeriodStatus.LOCKED]
        if locked:
            raise PeriodLocked(f"Periods {', '.join(locked)} are locked; fiscal year "
                               f"{self.year} can no longer be reopened.", periods=locked)

    def reopen(self, actor: Actor) -> None:
        """Undo the year-end close: the months that close closed open again."""
        self.check_reopenable()
        for period, status in list(self.months.items()):
            if status is PeriodStatus.CLOSED and period in self.closed_by_close:
                self._record(MonthReopened(period, actor.username, actor.id))
        self._record(FiscalYearReopened(self.year, actor.username, actor.id))

    def _record(self, event: DomainEvent) -> None:
        self.apply(event)
        self.pending.append(event)

    # -------------------------------------------------------------- state

    def apply(self, event: DomainEvent) -> None:
        self.version += 1
        if isinstance(event, FiscalYearOpened):
            self.months = {p.period: PeriodStatus.OPEN for p in event.periods}
            self.spans = {p.period: p for p in event.periods}
        elif isinstance(event, MonthClosed):
            self.months[event.period] = PeriodStatus.CLOSED
        elif isinstance(event, MonthReopened):
            self.months[event.period] = PeriodStatus.OPEN
        elif isinstance(event, MonthLocked):
            self.months[event.period] = PeriodStatus.LOCKED
        elif isinstance(event, FiscalYearClosed):
            self.closed, self.closing_transaction = True, event.closing_transaction
            # Events written before the close recorded its months: all of the year's.
            self.closed_by_close = (event.closed_periods if event.closed_periods is not None
                                    else tuple(self.months))
        elif isinstance(event, FiscalYearReopened):
            self.closed, self.closing_transaction = False, None


# ---------------------------------------------------------------------- the aggregate

TRANSACTION_DRAFTED = "TransactionDrafted"
TRANSACTION_AMENDED = "TransactionAmended"
TRANSACTION_DISCARDED = "TransactionDiscarded"
TRANSACTION_APPROVED = "TransactionApproved"
TRANSACTION_POSTED = "TransactionPosted"
TRANSACTION_REVERSED = "TransactionReversed"
CHART_LOADED = "ChartOfAccountsLoaded"
ACCOUNT_ADDED = "AccountAdded"
ACCOUNT_CHANGED = "AccountChanged"
ACCOUNT_DELETED = "AccountDeleted"
FISCAL_YEAR_OPENED = FiscalYearOpened.type
PERIOD_CLOSED = MonthClosed.type
PERIOD_REOPENED = MonthReopened.type
PERIOD_LOCKED = MonthLocked.type
FISCAL_YEAR_CLOSED = FiscalYearClosed.type
FISCAL_YEAR_REOPENED = FiscalYearReopened.type

#: A transaction's kind: ``closing`` is the year-end transfer of profit or loss to
#: retained earnings, which the profit or loss statement must not count.
REGULAR, CLOSING = "regular", "closing"


@dataclass(frozen=True, slots=True)
class Event:
    """A domain event before it is stored: the service turns it into a stored event."""

    type: str
    data: dict[str, Any]


class Status(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    POSTED = "posted"
    DISCARDED = "discarded"


def _drafted(transaction_id: UUID, content: Content, actor: Actor, reverses: UUID | None,
             kind: str) -> Event:
    return Event(TRANSACTION_DRAFTED, {"id": str(transaction_id), **content.as_data(),
                                       "reverses": str(reverses) if reverses else None,
                                       **({"kind": kind} if kind != REGULAR else {}),
                                       **actor.as_data()})


def imported_events(transaction_id: UUID, content: Content, actor: Actor, number: int,
                    fiscal_year: int, reverses: UUID | None = None,
                    kind: str = REGULAR) -> list[Event]:
    """The events of a transaction drafted and posted at once (see
    :meth:`JournalTransaction.born_posted`), without building its state: bulk posting
    writes thousands and never looks at them again. Their data hold only JSON values."""
    return [_drafted(transaction_id, content, actor, reverses, kind),
            Event(TRANSACTION_POSTED, {"number": number, "fiscal_year": fiscal_year,
                                       **actor.as_data()})]


@dataclass(slots=True)
class JournalTransaction:
    id: UUID
    version: int = 0
    status: Status = Status.DRAFT
    content: Content | None = None
    created_by: str | None = None
    created_by_id: UUID | None = None
    approved_by: str | None = None
    posted_by: str | None = None
    number: int | None = None
    fiscal_year: int | None = None
    reverses: UUID | None = None
    reversed_by: UUID | None = None
    reversal_reason: str | None = None
    kind: str = REGULAR
    pending: list[Event] = field(default_factory=list)

    # -------------------------------------------------------------- commands

    @classmethod
    def draft(cls, transaction_id: UUID, content: Content, actor: Actor,
              reverses: UUID | None = None, kind: str = REGULAR) -> JournalTransaction:
        tx = cls(transaction_id)
        drafted = _drafted(transaction_id, content, actor, reverses, kind)
        tx._record(drafted.type, drafted.data)
        return tx

    def amend(self, content: Content, actor: Actor) -> None:
        self._require(Status.DRAFT, "amended")
        self._record(TRANSACTION_AMENDED, {**content.as_data(), **actor.as_data()})

    def discard(self, actor: Actor) -> None:
        self._require(Status.DRAFT, "discarded")
        self._record(TRANSACTION_DISCARDED, actor.as_data())

    def approve(self, actor: Actor) -> None:
        self._require(Status.DRAFT, "approved")
        if actor.id == self.created_by_id:
            raise SegregationOfDuties(
                "You created this transaction; another member must approve it.",
                transaction_id=str(self.id))
        self._record(TRANSACTION_APPROVED, actor.as_data())

    @classmethod
    def born_posted(cls, transaction_id: UUID, content: Content, actor: Actor, number: int,
                    fiscal_year: int, reverses: UUID | None = None,
                    kind: str = REGULAR) -> JournalTransaction:
        """A transaction drafted and posted at once, with no separate approval: a reversal
        (which corrects what was approved already) or an imported journal (the importer
        must hold the approval permission; the service and the edges check it)."""
        tx = cls(transaction_id)
        for event in imported_events(transaction_id, content, actor, number, fiscal_year,
                                     reverses, kind):
            tx._record(event.type, event.data)
        return tx

    def check_postable(self) -> Content:
        self._require(Status.APPROVED, "posted")
        assert self.content is not None
        return self.content

    def post(self, number: int, fiscal_year: int, actor: Actor) -> None:
        """Give the approved transaction its number; the books now hold it for good."""
        self.check_postable()
        self._record(TRANSACTION_POSTED, {"number": number, "fiscal_year": fiscal_year,
                                          **actor.as_data()})

    def check_reversible(self) -> Content:
        if self.status is not Status.POSTED:
            raise InvalidState(f"Only posted transactions are reversed; this one is "
                               f"{self.status.value}.", status=self.status.value)
        if self.reversed_by is not None:
            raise InvalidState("This transaction is reversed already.",
                               reversed_by=str(self.reversed_by))
        if self.reverses is not None:
            raise InvalidState("This transaction is a reversal; post a new transaction "
                               "instead of reversing the reversal.",
                               reverses=str(self.reverses))
        if self.kind == CLOSING:
            raise InvalidState("This is a year-end closing transaction; reopen the fiscal "
                               "year instead of reversing it.")
        assert self.content is not None
        return self.content

    def mark_reversed(self, reversal_id: UUID, reason: str, actor: Actor) -> None:
        self.check_reversible()
        self._record(TRANSACTION_REVERSED, {"reversed_by": str(reversal_id), "reason": reason,
                                            **actor.as_data()})

    def mark_closing_reversed(self, reversal_id: UUID, reason: str, actor: Actor) -> None:
        """A year-end closing transaction is reversed only by reopening its year."""
        if self.kind != CLOSING or self.status is not Status.POSTED or self.reversed_by:
            raise InvalidState("Only a posted, unreversed closing transaction is reversed "
                               "when its year reopens.")
        self._record(TRANSACTION_REVERSED, {"reversed_by": str(reversal_id), "reason": reason,
                                            **actor.as_data()})

    def _require(self, status: Status, verb: str) -> None:
        if self.status is not status:
            raise InvalidState(f"A {self.status.value} transaction cannot be {verb}; it must "
                               f"be {status.value}.", status=self.status.value)

    def _record(self, event_type: str, data: dict[str, Any]) -> None:
        event = Event(event_type, data)
        self.apply(event.type, event.data)
        self.pending.append(event)

    # -------------------------------------------------------------- state

    def apply(self, event_type: str, data: Mapping[str, Any]) -> None:
        self.version += 1
        if event_type == TRANSACTION_DRAFTED:
            self.content = Content.from_data(data)
            self.created_by, self.created_by_id = data["by"], UUID(data["by_id"])
            self.reverses = UUID(data["reverses"]) if data.get("reverses") else None
            self.kind = data.get("kind", REGULAR)
        elif event_type == TRANSACTION_AMENDED:
            self.content = Content.from_data(data)
        elif event_type == TRANSACTION_DISCARDED:
            self.status = Status.DISCARDED
        elif event_type == TRANSACTION_APPROVED:
            self.status, self.approved_by = Status.APPROVED, data["by"]
        elif event_type == TRANSACTION_POSTED:
            self.status, self.posted_by = Status.POSTED, data["by"]
            self.number, self.fiscal_year = data["number"], data["fiscal_year"]
        elif event_type == TRANSACTION_REVERSED:
            self.reversed_by = UUID(data["reversed_by"])
            self.reversal_reason = data.get("reason")

    @classmethod
    def replay(cls, transaction_id: UUID, events: Iterable[tuple[str, Mapping[str, Any]]]
               ) -> JournalTransaction | None:
        tx = cls(transaction_id)
        for event_type, data in events:
            tx.apply(event_type, data)
        return tx if tx.version else None


# ---------------------------------------------------------------------- year-end closing

RETAINED_EARNINGS, ACCUMULATED_LOSSES = "5310", "5320"


class YearClosed(InvalidState):
    code = "fiscal_year_closed"
    title = "The fiscal year is closed"


class YearNotClosed(InvalidState):
    code = "fiscal_year_not_closed"
    title = "The fiscal year is not closed"


class YearsOutOfOrder(InvalidState):
    """Years close in order (an earlier open year's result would be swept into this one's
    closing entry) and reopen in reverse order."""

    code = "fiscal_years_out_of_order"
    title = "Fiscal years close and reopen in order"


class YearNotEnded(RuleViolation):
    code = "fiscal_year_not_ended"
    title = "The fiscal year has not ended"


class InvalidReversalDate(RuleViolation):
    code = "invalid_reversal_date"
    title = "A reversal cannot precede the original"


def closing_entry(balances: Mapping[str, Decimal], year_end: date, year: int,
                  base_currency: str) -> Content | None:
    """The year-end closing transaction: every revenue and expense account's balance
    (``debit − credit`` as of the year's last day) moved to retained earnings -- 5310 for a
    profit, 5320 for a loss. ``None`` when there is nothing to move.

    Worked example: revenue 6110 has a credit balance of 1,000.00 and expense 7410 a debit
    balance of 600.00; the entry is Dr 6110 1,000.00, Cr 7410 600.00, Cr 5310 400.00."""
    entries: list[Entry] = []
    zero = Decimal("0.00")
    for code, balance in sorted(balances.items()):
        if balance > 0:
            entries.append(Entry(code, zero, balance, zero, balance, "Year-end closing"))
        elif balance < 0:
            entries.append(Entry(code, -balance, zero, -balance, zero, "Year-end closing"))
    if not entries:
        return None
    result = -sum(balances.values(), Decimal(0))  # credit balances are profit
    if result > 0:
        entries.append(Entry(RETAINED_EARNINGS, zero, result, zero, result,
                             f"Profit of fiscal year {year}"))
    elif result < 0:
        entries.append(Entry(ACCUMULATED_LOSSES, -result, zero, -result, zero,
                             f"Loss of fiscal year {year}"))
    return Content(year_end, f"Year-end closing of fiscal year {year}", None, base_currency,
                   Decimal(1), tuple(entries))
