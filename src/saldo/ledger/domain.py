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


# ---------------------------------------------------------------------- the chart of accounts
#
# The chart of accounts is an aggregate like the journal transaction: its stream records
# that it was loaded (every account copied into the event, so a rebuild reproduces the
# company's chart even after the shipped CSV changes), then each account added, changed or
# deleted. The aggregate replays the stream and decides; what only the books know (whether
# an account has postings, its balance, drafts that use it) the service reads and hands in.
# The events write the data stored since the ledger began; accounts recorded before the
# cash-flow column take the standard activity of their code on reading.


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """What a change sets (None: unchanged). Stored as only the keys that change."""

    name: str | None = None
    name_ka: str | None = None
    active: bool | None = None
    type: AccountType | None = None
    normal_balance: NormalBalance | None = None
    classification: Classification | None = None
    cash_flow: CashFlow | None = None

    def as_data(self) -> dict[str, Any]:
        return {f: (v.value if isinstance(v, StrEnum) else v)
                for f in _CHANGEABLE if (v := getattr(self, f)) is not None}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AccountChanges:
        kind, normal = data.get("type"), data.get("normal_balance")
        classification, cash_flow = data.get("classification"), data.get("cash_flow")
        return cls(data.get("name"), data.get("name_ka"), data.get("active"),
                   AccountType(kind) if kind else None,
                   NormalBalance(normal) if normal else None,
                   Classification(classification) if classification else None,
                   CashFlow(cash_flow) if cash_flow else None)

    def applied_to(self, account: Account) -> Account:
        return replace(account, **{f: v for f in _CHANGEABLE
                                   if (v := getattr(self, f)) is not None})


_CHANGEABLE = ("name", "name_ka", "active", "type", "normal_balance", "classification",
               "cash_flow")


@dataclass(frozen=True, slots=True)
class ChartOfAccountsLoaded(DomainEvent):
    chart: str
    accounts: tuple[Account, ...]
    by: str
    by_id: UUID

    def to_data(self) -> dict[str, Any]:
        return {"chart": self.chart, "accounts": [a.as_data() for a in self.accounts],
                "by": self.by, "by_id": str(self.by_id)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ChartOfAccountsLoaded:
        return cls(data["chart"], tuple(Account.from_data(a) for a in data["accounts"]),
                   data["by"], UUID(data["by_id"]))


@dataclass(frozen=True, slots=True)
class AccountAdded(DomainEvent):
    account: Account
    #: The parent was a leaf: it becomes a header (it had no postings).
    parent_becomes_header: bool
    by: str
    by_id: UUID

    def to_data(self) -> dict[str, Any]:
        return {"account": self.account.as_data(),
                "parent_becomes_header": self.parent_becomes_header,
                "by": self.by, "by_id": str(self.by_id)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AccountAdded:
        return cls(Account.from_data(data["account"]),
                   bool(data.get("parent_becomes_header")), data["by"], UUID(data["by_id"]))


@dataclass(frozen=True, slots=True)
class AccountChanged(DomainEvent):
    code: str
    changes: AccountChanges
    by: str
    by_id: UUID

    def to_data(self) -> dict[str, Any]:
        return {"code": self.code, "changes": self.changes.as_data(), "by": self.by,
                "by_id": str(self.by_id)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AccountChanged:
        return cls(data["code"], AccountChanges.from_data(data["changes"]), data["by"],
                   UUID(data["by_id"]))


@dataclass(frozen=True, slots=True)
class AccountDeleted(DomainEvent):
    code: str
    by: str
    by_id: UUID


ChartEvent = ChartOfAccountsLoaded | AccountAdded | AccountChanged | AccountDeleted
CHART_EVENTS: dict[str, type[ChartEvent]] = event_types(
    ChartOfAccountsLoaded, AccountAdded, AccountChanged, AccountDeleted)


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What the books (not the chart) know of an account, read by the service."""

    has_postings: bool = False
    #: Debit minus credit over all time (a header's: its sub-accounts').
    balance: Decimal = Decimal(0)
    #: Drafts or approved transactions not yet posted that use the account.
    has_open_drafts: bool = False


@dataclass(slots=True)
class ChartOfAccounts:
    """A company's chart of accounts: its accounts, in the order they were recorded."""

    version: int = 0
    chart: str | None = None
    accounts: dict[str, Account] = field(default_factory=dict)
    pending: list[ChartEvent] = field(default_factory=list)

    @classmethod
    def load(cls, chart: str, accounts: Sequence[Account], actor: Actor) -> ChartOfAccounts:
        """A new company's chart, copied from the shipped one it chose."""
        new = cls()
        new._record(ChartOfAccountsLoaded(chart, tuple(accounts), actor.username, actor.id))
        return new

    @classmethod
    def replay(cls, events: Iterable[tuple[str, Mapping[str, Any]]]) -> ChartOfAccounts | None:
        chart = cls()
        for event_type, data in events:
            chart.apply(CHART_EVENTS[event_type].from_data(data))
        return chart if chart.version else None

    def account(self, code: str) -> Account:
        found = self.accounts.get(code)
        if found is None:
            raise AccountNotFound(f"No account {code}.", code=code)
        return found

    def has_children(self, code: str) -> bool:
        return any(a.parent_code == code for a in self.accounts.values())

    # -------------------------------------------------------------- commands

    def add(self, code: str, name: str, name_ka: str | None, account_type: AccountType | None,
            parent_code: str | None, actor: Actor, parent_has_postings: bool,
            classification: Classification | None = None,
            cash_flow: CashFlow | None = None) -> Account:
        """A company's own account (see :func:`new_sub_account`); ``parent_code`` defaults
        to the code's own parent (``1210.01`` → ``1210``, ``7497`` → ``7400``)."""
        if code in self.accounts:
            raise AccountExists(f"Account {code} exists already.", code=code)
        parent_of = parent_code or default_parent(code)
        parent = self.accounts.get(parent_of) if parent_of else None
        account = new_sub_account(code, name, name_ka, account_type, parent,
                                  parent_has_postings, classification, cash_flow)
        assert parent is not None
        self._record(AccountAdded(account, parent.postable, actor.username, actor.id))
        return account

    def change(self, code: str, requested: Mapping[str, Any], actor: Actor,
               facts: AccountFacts) -> Account:
        """Rename, (de)activate, retype or reclassify an account. Deactivating needs a
        zero balance; the type is fixed once the account has postings, and a header's
        follows its accounts. Nothing changes: no event."""
        account = self.account(code)
        changes = _account_changes(account, requested)
        if changes.active is False and account.active and facts.balance:
            raise AccountHasBalance(
                f"Account {code} has a balance of {facts.balance}; clear it before "
                "deactivating the account.", code=code, balance=str(facts.balance))
        if changes.type is not None:
            if facts.has_postings:
                raise AccountHasPostings(f"Account {code} has postings; its type is fixed.",
                                         code=code)
            if not account.postable:
                raise InvalidAccount("A header's type follows its accounts.", field="type")
        changed = changes.applied_to(account)
        if changes.classification is not None or changes.cash_flow is not None:
            check_attributes(changed.type, changed.classification, changed.cash_flow)
        if changes != AccountChanges():
            self._record(AccountChanged(code, changes, actor.username, actor.id))
        return changed

    def delete(self, code: str, actor: Actor, facts: AccountFacts) -> None:
        """Only an account that never took a posting, has no sub-accounts and is used by
        no unposted transaction leaves the chart; others are deactivated instead."""
        self.account(code)
        if facts.has_postings:
            raise AccountHasPostings(f"Account {code} has postings and stays in the chart; "
                                     "deactivate it instead.", code=code)
        if self.has_children(code):
            raise InvalidAccount(f"Account {code} has sub-accounts; delete them first.",
                                 field="code")
        if facts.has_open_drafts:
            raise InvalidAccount(f"Unposted transactions use account {code}.", field="code")
        self._record(AccountDeleted(code, actor.username, actor.id))

    def _record(self, event: ChartEvent) -> None:
        self.apply(event)
        self.pending.append(event)

    # -------------------------------------------------------------- state

    def apply(self, event: ChartEvent) -> None:
        self.version += 1
        if isinstance(event, ChartOfAccountsLoaded):
            self.chart = event.chart
            self.accounts = {a.code: a for a in event.accounts}
        elif isinstance(event, AccountAdded):
            parent = event.account.parent_code
            if event.parent_becomes_header and parent in self.accounts:
                self.accounts[parent] = replace(self.accounts[parent], postable=False)
            self.accounts[event.account.code] = event.account
        elif isinstance(event, AccountChanged):
            if event.code in self.accounts:
                self.accounts[event.code] = event.changes.applied_to(self.accounts[event.code])
        elif isinstance(event, AccountDeleted):
            gone = self.accounts.pop(event.code, None)
            # A parent left without sub-accounts is a leaf again (as the read model does).
            if gone is not None and gone.parent_code in self.accounts and not self.has_children(
                    gone.parent_code):
                self.accounts[gone.parent_code] = replace(self.accounts[gone.parent_code],
                                                          postable=True)


def default_parent(code: str) -> str | None:
    """``1210.01`` → ``1210``; a new four-digit ``7497`` → its group header ``7400``."""
    if "." in code:
        return code.rsplit(".", 1)[0]
    if len(code) == 4 and code.isdigit():
        return code[0] + "000" if code[2:] == "00" else code[:2] + "00"
    return None


def _account_changes(account: Account, requested: Mapping[str, Any]) -> AccountChanges:
    """The changes ``requested`` makes to ``account`` (what already holds is no change).
    A new type brings its normal balance and its default statement line: a liability
    never stays in profit or loss."""
    texts: dict[str, str] = {}
    for key in ("name", "name_ka"):
        if requested.get(key) is not None and requested[key] != getattr(account, key):
            text = str(requested[key]).strip()
            if not text or len(text) > 200:
                raise InvalidAccount(f"The {key} must be 1 to 200 characters.", field=key)
            texts[key] = text
    active = None
    if requested.get("active") is not None and requested["active"] != account.active:
        active = bool(requested["active"])
    new_type = normal = classification = None
    if requested.get("type") is not None and AccountType(requested["type"]) != account.type:
        new_type = AccountType(requested["type"])
        normal = normal_balance_of(new_type)
        classification = default_classification(new_type)
    if requested.get("classification") is not None:
        wanted = Classification(requested["classification"])
        if wanted != account.classification or classification is not None:
            classification = wanted
    cash_flow = (CashFlow(requested["cash_flow"]) if requested.get("cash_flow") is not None
                 else None)
    if cash_flow == account.cash_flow:
        cash_flow = None
    return AccountChanges(texts.get("name"), texts.get("name_ka"), active, new_type, normal,
                          classification, cash_flow)


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


# ---------------------------------------------------------------------- the journal transaction
#
# A journal transaction's stream: drafted → amended* → approved → posted → reversed (or
# drafted → discarded; or drafted and posted at once). Its events are typed like the fiscal
# year's; each writes exactly the data the ledger has stored since it began (a draft's
# content is flat in its data, the actor is ``by``/``by_id``), so old streams read as they
# are and the ledger's projection, which reads the stored JSON set-wise, is unchanged.
# Fields added later (``kind``, ``source``, a line's ``counterparty_id`` …) are absent from
# older events and take their defaults on reading: that is the upcasting these events need
# (tests/unit/ledger/test_stored_events.py reads events in each older stored form).

#: A transaction's kind: ``closing`` is the year-end transfer of profit or loss to
#: retained earnings, which the profit or loss statement must not count.
REGULAR, CLOSING = "regular", "closing"


def _by(actor: Actor) -> tuple[str, UUID]:
    return actor.username, actor.id


@dataclass(frozen=True, slots=True)
class TransactionDrafted(DomainEvent):
    id: UUID
    content: Content
    by: str
    by_id: UUID
    reverses: UUID | None = None
    kind: str = REGULAR

    def to_data(self) -> dict[str, Any]:
        return {"id": str(self.id), **self.content.as_data(),
                "reverses": str(self.reverses) if self.reverses else None,
                **({"kind": self.kind} if self.kind != REGULAR else {}),
                "by": self.by, "by_id": str(self.by_id)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> TransactionDrafted:
        reverses = data.get("reverses")
        return cls(UUID(data["id"]), Content.from_data(data), data["by"], UUID(data["by_id"]),
                   UUID(reverses) if reverses else None, data.get("kind") or REGULAR)


@dataclass(frozen=True, slots=True)
class TransactionAmended(DomainEvent):
    content: Content
    by: str
    by_id: UUID

    def to_data(self) -> dict[str, Any]:
        return {**self.content.as_data(), "by": self.by, "by_id": str(self.by_id)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> TransactionAmended:
        return cls(Content.from_data(data), data["by"], UUID(data["by_id"]))


@dataclass(frozen=True, slots=True)
class TransactionDiscarded(DomainEvent):
    by: str
    by_id: UUID


@dataclass(frozen=True, slots=True)
class TransactionApproved(DomainEvent):
    by: str
    by_id: UUID


@dataclass(frozen=True, slots=True)
class TransactionPosted(DomainEvent):
    number: int
    fiscal_year: int
    by: str
    by_id: UUID

    def to_data(self) -> dict[str, Any]:
        return {"number": self.number, "fiscal_year": self.fiscal_year, "by": self.by,
                "by_id": str(self.by_id)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> TransactionPosted:
        return cls(data["number"], data["fiscal_year"], data["by"], UUID(data["by_id"]))


@dataclass(frozen=True, slots=True)
class TransactionReversed(DomainEvent):
    reversed_by: UUID
    reason: str | None
    by: str
    by_id: UUID


TransactionEvent = (TransactionDrafted | TransactionAmended | TransactionDiscarded
                    | TransactionApproved | TransactionPosted | TransactionReversed)
TRANSACTION_EVENTS: dict[str, type[TransactionEvent]] = event_types(
    TransactionDrafted, TransactionAmended, TransactionDiscarded, TransactionApproved,
    TransactionPosted, TransactionReversed)

TRANSACTION_DRAFTED = TransactionDrafted.type
TRANSACTION_AMENDED = TransactionAmended.type
TRANSACTION_DISCARDED = TransactionDiscarded.type
TRANSACTION_APPROVED = TransactionApproved.type
TRANSACTION_POSTED = TransactionPosted.type
TRANSACTION_REVERSED = TransactionReversed.type
CHART_LOADED = ChartOfAccountsLoaded.type
ACCOUNT_ADDED = AccountAdded.type
ACCOUNT_CHANGED = AccountChanged.type
ACCOUNT_DELETED = AccountDeleted.type
FISCAL_YEAR_OPENED = FiscalYearOpened.type
PERIOD_CLOSED = MonthClosed.type
PERIOD_REOPENED = MonthReopened.type
PERIOD_LOCKED = MonthLocked.type
FISCAL_YEAR_CLOSED = FiscalYearClosed.type
FISCAL_YEAR_REOPENED = FiscalYearReopened.type


class Status(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    POSTED = "posted"
    DISCARDED = "discarded"


def imported_events(transaction_id: UUID, content: Content, actor: Actor, number: int,
                    fiscal_year: int, reverses: UUID | None = None,
                    kind: str = REGULAR) -> list[TransactionEvent]:
    """The events of a transaction drafted and posted at once (see
    :meth:`JournalTransaction.born_posted`), without building its state: bulk posting
    writes thousands and never looks at them again."""
    by, by_id = _by(actor)
    return [TransactionDrafted(transaction_id, content, by, by_id, reverses, kind),
            TransactionPosted(number, fiscal_year, by, by_id)]


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
    pending: list[TransactionEvent] = field(default_factory=list)

    # -------------------------------------------------------------- commands

    @classmethod
    def draft(cls, transaction_id: UUID, content: Content, actor: Actor,
              reverses: UUID | None = None, kind: str = REGULAR) -> JournalTransaction:
        tx = cls(transaction_id)
        tx._record(TransactionDrafted(transaction_id, content, *_by(actor), reverses, kind))
        return tx

    def amend(self, content: Content, actor: Actor) -> None:
        self._require(Status.DRAFT, "amended")
        self._record(TransactionAmended(content, *_by(actor)))

    def discard(self, actor: Actor) -> None:
        self._require(Status.DRAFT, "discarded")
        self._record(TransactionDiscarded(*_by(actor)))

    def approve(self, actor: Actor) -> None:
        self._require(Status.DRAFT, "approved")
        if actor.id == self.created_by_id:
            raise SegregationOfDuties(
                "You created this transaction; another member must approve it.",
                transaction_id=str(self.id))
        self._record(TransactionApproved(*_by(actor)))

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
            tx._record(event)
        return tx

    def check_postable(self) -> Content:
        self._require(Status.APPROVED, "posted")
        assert self.content is not None
        return self.content

    def post(self, number: int, fiscal_year: int, actor: Actor) -> None:
        """Give the approved transaction its number; the books now hold it for good."""
        self.check_postable()
        self._record(TransactionPosted(number, fiscal_year, *_by(actor)))

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
        self._record(TransactionReversed(reversal_id, reason, *_by(actor)))

    def mark_closing_reversed(self, reversal_id: UUID, reason: str, actor: Actor) -> None:
        """A year-end closing transaction is reversed only by reopening its year."""
        if self.kind != CLOSING or self.status is not Status.POSTED or self.reversed_by:
            raise InvalidState("Only a posted, unreversed closing transaction is reversed "
                               "when its year reopens.")
        self._record(TransactionReversed(reversal_id, reason, *_by(actor)))

    def _require(self, status: Status, verb: str) -> None:
        if self.status is not status:
            raise InvalidState(f"A {self.status.value} transaction cannot be {verb}; it must "
                               f"be {status.value}.", status=self.status.value)

    def _record(self, event: TransactionEvent) -> None:
        self.apply(event)
        self.pending.append(event)

    # -------------------------------------------------------------- state

    def apply(self, event: TransactionEvent) -> None:
        self.version += 1
        if isinstance(event, TransactionDrafted):
            self.content = event.content
            self.created_by, self.created_by_id = event.by, event.by_id
            self.reverses, self.kind = event.reverses, event.kind
        elif isinstance(event, TransactionAmended):
            self.content = event.content
        elif isinstance(event, TransactionDiscarded):
            self.status = Status.DISCARDED
        elif isinstance(event, TransactionApproved):
            self.status, self.approved_by = Status.APPROVED, event.by
        elif isinstance(event, TransactionPosted):
            self.status, self.posted_by = Status.POSTED, event.by
            self.number, self.fiscal_year = event.number, event.fiscal_year
        elif isinstance(event, TransactionReversed):
            self.reversed_by, self.reversal_reason = event.reversed_by, event.reason

    @classmethod
    def replay(cls, transaction_id: UUID, events: Iterable[tuple[str, Mapping[str, Any]]]
               ) -> JournalTransaction | None:
        """The transaction from its stored events (type and data, as the store reads
        them), or None for an empty stream."""
        tx = cls(transaction_id)
        for event_type, data in events:
            tx.apply(TRANSACTION_EVENTS[event_type].from_data(data))
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
