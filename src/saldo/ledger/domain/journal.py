"""Journal transactions (საბუღალტრო გატარება): a line, a transaction's content and the rules
of ARCHITECTURE §4 it meets, and the transaction as an event-sourced aggregate: its
command methods check the rules and record events; :meth:`JournalTransaction.apply` is
the only place its state changes, so replaying the stream rebuilds it exactly. No I/O.

Worked example (a sale of goods for 1,180.00 GEL including 18% VAT)::

    Dr 1410 Trade receivables     1,180.00
        Cr 6110 Sales revenue                1,000.00
        Cr 3330 Output VAT payable             180.00
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from saldo.kernel.events import Actor, DomainEvent, event_types
from saldo.kernel.money import (
    ISO_CURRENCIES,
    InvalidAmount,
    minor_units,
    parse_amount,
    round_half_up,
)
from saldo.ledger.domain.errors import (
    ExchangeRateMissing,
    InvalidAmountError,
    InvalidCurrency,
    InvalidLine,
    InvalidState,
    SegregationOfDuties,
    TooFewLines,
    UnbalancedTransaction,
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
MAX_LINES = 1000



@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in an input of many transactions (a batch, an imported file), with the
    row it concerns: the CSV line, or the transaction's row in a batch."""

    row: int
    code: str
    message: str



# ---------------------------------------------------------------------- journal content


@dataclass(frozen=True, slots=True)
class LineDraft:
    """One line of a transaction as its author wrote it (a person, through the API or a
    journal file, or a document flow, through the posting port); amounts are parsed but
    not yet checked. :func:`check_content` turns it into a :class:`Line`."""

    account_code: str
    #: In the transaction's currency (as the HTTP contract's ``entries[].debit``).
    debit: object = None
    credit: object = None
    #: In GEL, the base currency: given only to state the converted amount, or alone on a
    #: rounding or exchange-difference line.
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
class Line:
    """A checked line: exactly one side non-zero in the transaction currency, with its
    GEL amount; a rounding line has zero currency amount and a base amount only."""

    account_code: str
    #: In the transaction's currency.
    debit: Decimal
    credit: Decimal
    #: In GEL, the base currency (equal to the above in a GEL transaction).
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
    def from_data(cls, data: Mapping[str, Any]) -> Line:
        counterparty, document = data.get("counterparty_id"), data.get("document_id")
        return cls(data["account_code"], Decimal(data["debit"]), Decimal(data["credit"]),
                   Decimal(data["debit_base"]), Decimal(data["credit_base"]),
                   data.get("description") or "",
                   UUID(counterparty) if counterparty else None,
                   UUID(document) if document else None,
                   data.get("kind", REGULAR_LINE), data.get("currency"))

    def swapped(self) -> Line:
        return replace(self, debit=self.credit, credit=self.debit,
                       debit_base=self.credit_base, credit_base=self.debit_base)


@dataclass(frozen=True, slots=True)
class ContentInput:
    date: date
    description: str
    lines: Sequence[LineDraft]
    reference: str | None = None
    currency: str | None = None
    exchange_rate: object = None
    #: The document this transaction is made from (posting port only).
    source: SourceRef | None = None
    #: A batch item's idempotency key (a journal file's ``transaction`` value): posting a
    #: batch again posts only the items whose key the company has not seen.
    key: str | None = None


@dataclass(frozen=True, slots=True)
class JournalDraft:
    """What a document flow asks the ledger to post (``LedgerService.post_journal``)."""

    date: date
    description: str
    lines: Sequence[LineDraft]
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
    lines: tuple[Line, ...]
    source: SourceRef | None = None

    @property
    def total(self) -> Decimal:
        """Debits in the base currency (equal to credits)."""
        return sum((e.debit_base for e in self.lines), Decimal("0.00"))

    def as_data(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "description": self.description,
                "reference": self.reference, "currency": self.currency,
                "exchange_rate": str(self.exchange_rate),
                "entries": [e.as_data() for e in self.lines],
                **({"source": self.source.as_data()} if self.source else {})}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Content:
        return cls(date.fromisoformat(data["date"]), data["description"], data.get("reference"),
                   data["currency"], Decimal(data["exchange_rate"]),
                   tuple(Line.from_data(e) for e in data["entries"]),
                   SourceRef.from_data(data.get("source")))

    def reversed(self, on: Day, description: str) -> Content:
        return replace(self, date=on, description=description,
                       lines=tuple(e.swapped() for e in self.lines))


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
        raise InvalidLine("The description is at most 500 characters.", field="description")
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
    if len(raw.lines) < 2:
        raise TooFewLines("A transaction needs at least two lines.", lines=len(raw.lines))
    if len(raw.lines) > MAX_LINES:
        raise InvalidLine(f"A transaction has at most {MAX_LINES} lines.", field="entries")
    places = minor_units(currency)
    checked = [_check_line(i, e, places, rate, foreign, document_flow)
               for i, e in enumerate(raw.lines)]
    for index, (draft, line) in enumerate(zip(raw.lines, checked, strict=True)):
        if draft.currency is None:
            continue
        item_currency = draft.currency.strip().upper()
        if line.kind != FX_DIFFERENCE:
            raise InvalidLine(f"entries[{index}]: only an exchange-difference line names "
                              "a currency of its own.", field=f"entries[{index}]")
        if item_currency not in ISO_CURRENCIES or item_currency == base_currency:
            raise InvalidLine(f"entries[{index}]: an exchange difference adjusts an item "
                              f"in a foreign currency, not {item_currency!r}.",
                              field=f"entries[{index}]")
        checked[index] = replace(line, currency=item_currency)
    debit = sum((e.debit for e in checked), Decimal(0))
    credit = sum((e.credit for e in checked), Decimal(0))
    if debit != credit:
        raise UnbalancedTransaction(
            f"Debits ({debit}) do not equal credits ({credit}) in {currency}.",
            debit=str(debit), credit=str(credit), currency=currency)
    debit_base = sum((e.debit_base for e in checked), Decimal(0))
    credit_base = sum((e.credit_base for e in checked), Decimal(0))
    if debit_base != credit_base:
        raise UnbalancedTransaction(
            f"Debits ({debit_base}) do not equal credits ({credit_base}) in {base_currency} "
            f"after conversion; add a rounding line of {abs(debit_base - credit_base)} "
            f"{base_currency} (a line with only debit_base or credit_base).",
            debit=str(debit_base), credit=str(credit_base), currency=base_currency)
    if debit_base == 0:
        raise InvalidLine("A transaction of zero carries nothing to post.", field="entries")
    rounding = sum((e.debit_base + e.credit_base for e in checked
                    if e.debit == e.credit == 0 and e.kind == REGULAR_LINE), Decimal(0))
    if rounding > Decimal("0.01") * len(checked):
        raise InvalidLine(f"Rounding lines total {rounding} {base_currency}, more than one "
                          "tetri per line: that is not a conversion difference.",
                          field="entries")
    return Content(raw.date, description, (raw.reference or None), currency, rate,
                   tuple(checked), raw.source if document_flow else None)


def _check_line(index: int, raw: LineDraft, places: int, rate: Decimal,
                foreign: bool, document_flow: bool = False) -> Line:
    where = f"entries[{index}]"
    if len(raw.description) > 500:
        raise InvalidLine(f"{where}: the description is at most 500 characters.", field=where)
    debit = _amount(raw.debit, f"{where}.debit", places)
    credit = _amount(raw.credit, f"{where}.credit", places)
    debit_base = _amount(raw.debit_base, f"{where}.debit_base", BASE_PLACES)
    credit_base = _amount(raw.credit_base, f"{where}.credit_base", BASE_PLACES)
    # A person's journal entry carries no sub-ledger keys: only documents set them.
    party, document = ((raw.counterparty_id, raw.document_id) if document_flow
                       else (None, None))
    if raw.kind == FX_DIFFERENCE:
        if not document_flow:
            raise InvalidLine(f"{where}: exchange differences are posted by the payment "
                              "and revaluation flows, not typed in.", field=where)
        if debit or credit or bool(debit_base) == bool(credit_base):
            raise InvalidLine(f"{where}: an exchange difference is a base-currency amount "
                              "only, on one side.", field=where)
        zero = Decimal("0").quantize(Decimal(1).scaleb(-places))
        return Line(raw.account_code, zero, zero, debit_base, credit_base, raw.description,
                    party, document, FX_DIFFERENCE)
    if raw.kind != REGULAR_LINE:
        raise InvalidLine(f"{where}: unknown line kind {raw.kind!r}.", field=where)
    if debit and credit:
        raise InvalidLine(f"{where}: a line is either a debit or a credit, not both.",
                          field=where)
    if not debit and not credit:
        if not foreign or (bool(debit_base) == bool(credit_base)):
            raise InvalidLine(f"{where}: a line needs a positive debit or credit.", field=where)
        # A rounding line: base currency only (ARCHITECTURE §4).
        return Line(raw.account_code, Decimal("0").quantize(Decimal(1).scaleb(-places)),
                    Decimal("0").quantize(Decimal(1).scaleb(-places)),
                    debit_base, credit_base, raw.description, party, document)
    if debit_base or credit_base:
        expected = round_half_up((debit or credit) * rate, BASE_PLACES)
        given = debit_base or credit_base
        if (bool(debit) != bool(debit_base)) or given != expected:
            raise InvalidLine(f"{where}: the base amount is the amount times the rate "
                              f"({expected}); put a difference on a rounding line.",
                              field=where)
    zero_base = Decimal("0.00")
    base = round_half_up((debit or credit) * rate, BASE_PLACES)
    if base >= MAX_AMOUNT:  # a large amount at a large rate
        raise InvalidAmountError(f"{where}: {base} in the base currency is larger than "
                                 f"Saldo accepts (below {MAX_AMOUNT:,.0f}).", field=where)
    if debit:
        return Line(raw.account_code, debit, credit, base, zero_base, raw.description, party,
                    document)
    return Line(raw.account_code, debit, credit, zero_base, base, raw.description, party,
                document)



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
    return [imported_draft(transaction_id, content, actor, reverses, kind),
            imported_posting(number, fiscal_year, actor)]


def imported_draft(transaction_id: UUID, content: Content, actor: Actor,
                   reverses: UUID | None = None, kind: str = REGULAR) -> TransactionDrafted:
    """The first of :func:`imported_events`: what bulk posting builds before it has taken
    the transaction's number (the number is only in the second)."""
    return TransactionDrafted(transaction_id, content, *_by(actor), reverses, kind)


def imported_posting(number: int, fiscal_year: int, actor: Actor) -> TransactionPosted:
    """The second of :func:`imported_events`: the transaction posted under ``number``."""
    return TransactionPosted(number, fiscal_year, *_by(actor))


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


def closing_content(balances: Mapping[str, Decimal], year_end: date, year: int,
                    base_currency: str) -> Content | None:
    """The year-end closing transaction: every revenue and expense account's balance
    (``debit − credit`` as of the year's last day) moved to retained earnings -- 5310 for a
    profit, 5320 for a loss. ``None`` when there is nothing to move.

    Worked example: revenue 6110 has a credit balance of 1,000.00 and expense 7410 a debit
    balance of 600.00; the entry is Dr 6110 1,000.00, Cr 7410 600.00, Cr 5310 400.00."""
    lines: list[Line] = []
    zero = Decimal("0.00")
    for code, balance in sorted(balances.items()):
        if balance > 0:
            lines.append(Line(code, zero, balance, zero, balance, "Year-end closing"))
        elif balance < 0:
            lines.append(Line(code, -balance, zero, -balance, zero, "Year-end closing"))
    if not lines:
        return None
    result = -sum(balances.values(), Decimal(0))  # credit balances are profit
    if result > 0:
        lines.append(Line(RETAINED_EARNINGS, zero, result, zero, result,
                          f"Profit of fiscal year {year}"))
    elif result < 0:
        lines.append(Line(ACCUMULATED_LOSSES, -result, zero, -result, zero,
                          f"Loss of fiscal year {year}"))
    return Content(year_end, f"Year-end closing of fiscal year {year}", None, base_currency,
                   Decimal(1), tuple(lines))
