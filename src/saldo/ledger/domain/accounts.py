"""Accounts and the chart of accounts (ანგარიშთა გეგმა): an account's type, statement
line and cash-flow activity, which accounts take postings, and the chart as an
event-sourced aggregate. No I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from saldo.kernel.events import Actor, DomainEvent, event_types
from saldo.ledger.domain.errors import (
    AccountExists,
    AccountHasBalance,
    AccountHasPostings,
    AccountNotFound,
    HeaderAccount,
    InactiveAccount,
    InvalidAccount,
    UnknownAccount,
)

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


#: The shape of :meth:`ChartOfAccounts.snapshot_state`. Raise it whenever that shape, or
#: what replaying the chart's events yields, changes: a stored snapshot of another schema
#: version is then ignored and the stream replayed in full (decision 0067).
CHART_SNAPSHOT_SCHEMA = 1


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
    def replay(cls, events: Iterable[tuple[str, Mapping[str, Any]]],
               start: ChartOfAccounts | None = None) -> ChartOfAccounts | None:
        """The chart its stream's events make, applied from the beginning or on ``start``
        (a chart restored from a snapshot); None while nothing at all is recorded."""
        chart = start if start is not None else cls()
        for event_type, data in events:
            chart.apply(CHART_EVENTS[event_type].from_data(data))
        return chart if chart.version else None

    def snapshot_state(self) -> dict[str, Any]:
        """The state as JSON values (schema :data:`CHART_SNAPSHOT_SCHEMA`): the chart's
        name and every account in recorded order, as the events write them. Pending
        events are not state until they are stored: a snapshot is taken after they are
        appended, at :attr:`version`."""
        return {"chart": self.chart, "accounts": [a.as_data() for a in self.accounts.values()]}

    @classmethod
    def from_snapshot(cls, state: Mapping[str, Any], version: int) -> ChartOfAccounts:
        """The chart as :meth:`snapshot_state` wrote it at stream version ``version``;
        the events after that version are applied to it (:meth:`replay` with ``start``)."""
        accounts = (Account.from_data(a) for a in state["accounts"])
        return cls(version=version, chart=state["chart"], accounts={a.code: a for a in accounts})

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



CHART_LOADED = ChartOfAccountsLoaded.type
ACCOUNT_ADDED = AccountAdded.type
ACCOUNT_CHANGED = AccountChanged.type
ACCOUNT_DELETED = AccountDeleted.type
