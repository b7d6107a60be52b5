"""Bank accounts, statements and their lines, reconciliation and rules: the rules, no I/O.

A statement file is read by :mod:`saldo.banking.formats` into a :class:`ParsedStatement`
(its lines and the findings against it, each with its row in the file). Importing it
records one ``StatementImported`` event on the statement's stream; reconciling a line
records ``LineReconciled`` on the line's own stream (a small stream, so reconciling one
line of a 10,000-line statement does not load the statement), and the journal
transaction it posted commits in the same unit of work.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from saldo.kernel import iban as kernel_iban
from saldo.kernel.errors import Conflict, NotFound, RuleViolation, SaldoError
from saldo.kernel.events import DomainEvent, event_types
from saldo.kernel.money import amount_text

# ---------------------------------------------------------------------- IBAN

class InvalidIban(RuleViolation):
    code = "invalid_iban"
    title = "Invalid IBAN"


normalise_iban = kernel_iban.normalise


def check_iban(text: str) -> str:
    """A valid IBAN, normalised (saldo.kernel.iban)."""
    iban = normalise_iban(text)
    if (why := kernel_iban.problem(iban)) is not None:
        raise InvalidIban(f"{text!r} is {why}.", iban=text)
    return iban


def bank_of(iban: str) -> tuple[str | None, str | None, str | None]:
    """(bank code, BIC, bank name) of a Georgian IBAN; Nones for an unknown code."""
    found = kernel_iban.bank(iban)
    if found is None:
        return kernel_iban.bank_code(iban), None, None
    return found


# ---------------------------------------------------------------------- errors


class NotAStatement(RuleViolation):
    code = "not_a_statement"
    title = "Not a bank statement"


class UnsafeXml(RuleViolation):
    """A DTD, an entity declaration or an external reference: never expanded."""

    code = "unsafe_xml"
    title = "Refused XML"


class StatementRefused(RuleViolation):
    """Lines that cannot be read: the whole file is refused, every finding listed."""

    code = "invalid_statement"
    title = "Statement refused"
    exposed = ("findings",)


class IbanMismatch(RuleViolation):
    code = "iban_mismatch"
    title = "Statement of another account"
    exposed = ("statement_iban", "account_iban")


class CurrencyMismatch(RuleViolation):
    code = "currency_mismatch"
    title = "Statement in another currency"
    exposed = ("statement_currency", "account_currency")


class StatementTooLarge(SaldoError):
    code = "statement_too_large"
    title = "Statement file too large"


class BankAccountNotFound(NotFound):
    code = "bank_account_not_found"


class StatementNotFound(NotFound):
    code = "statement_not_found"


class LineNotFound(NotFound):
    code = "bank_line_not_found"


class RuleNotFound(NotFound):
    code = "bank_rule_not_found"


class BankAccountExists(Conflict):
    code = "bank_account_exists"


class AlreadyReconciled(Conflict):
    code = "already_reconciled"
    title = "Line already reconciled"


class NotReconciled(Conflict):
    code = "not_reconciled"
    title = "Line not reconciled"


class StatementHasReconciledLines(Conflict):
    code = "statement_reconciled"
    title = "Statement has reconciled lines"


class OverAllocation(RuleViolation):
    code = "over_allocation"
    title = "Allocation exceeds what is due"


class InvalidReconciliation(RuleViolation):
    code = "invalid_reconciliation"
    title = "Invalid reconciliation"


class DocumentsUnavailable(RuleViolation):
    code = "documents_unavailable"
    title = "No documents to allocate to"


# ---------------------------------------------------------------------- findings


@dataclass(frozen=True, slots=True)
class Finding:
    """Something wrong with a file, at its row (1-based line or entry number; 0: the
    file as a whole). ``error`` refuses the file; ``warning`` is reported only."""

    row: int
    code: str
    message: str
    severity: str = "error"

    def as_data(self) -> dict[str, Any]:
        return {"row": self.row, "code": self.code, "message": self.message,
                "severity": self.severity}


# ---------------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One booked movement as the bank reported it. ``amount`` is signed: positive money
    in (a credit to the account at the bank), negative money out."""

    row: int
    booking_date: date
    amount: Decimal
    value_date: date | None = None
    bank_id: str = ""
    reference: str = ""
    description: str = ""
    counterparty_name: str = ""
    counterparty_iban: str = ""
    counterparty_tax_id: str = ""
    currency: str = ""

    def text(self) -> str:
        """Everything a person reads on the line, for matching and rules."""
        return " ".join(p for p in (self.reference, self.description,
                                    self.counterparty_name) if p)


@dataclass(slots=True)
class ParsedStatement:
    format: str
    lines: list[StatementLine] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    iban: str | None = None
    currency: str | None = None
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    statement_id: str = ""

    @property
    def refused(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


def dedup_keys(lines: Sequence[StatementLine]) -> list[str]:
    """The key that recognises a line imported before: the bank's transaction id, or,
    when the format has none, the date, amount and reference -- with the occurrence
    number, so two genuine equal lines of one file (two 1.00 fees on a day) both import,
    and importing the same file again skips both."""
    seen: dict[str, int] = {}
    keys = []
    for line in lines:
        if line.bank_id:
            keys.append(f"id:{line.bank_id}")
            continue
        ref = line.reference or line.description
        base = f"{line.booking_date.isoformat()}|{amount_text(line.amount)}|{ref.strip()}"
        seen[base] = seen.get(base, 0) + 1
        keys.append(f"{base}|{seen[base]}")
    return keys


def check_balances(parsed: ParsedStatement) -> None:
    """The lines must take the opening balance to the closing one (a warning: the bank's
    figure is reported, the lines are what is imported)."""
    if parsed.opening_balance is None or parsed.closing_balance is None:
        return
    moved = sum((ln.amount for ln in parsed.lines), Decimal(0))
    expected = parsed.opening_balance + moved
    if expected != parsed.closing_balance:
        parsed.findings.append(Finding(
            0, "closing_balance_mismatch",
            f"opening {amount_text(parsed.opening_balance)} plus the lines "
            f"{amount_text(moved)} is {amount_text(expected)}, the statement says "
            f"{amount_text(parsed.closing_balance)}", "warning"))


# ---------------------------------------------------------------------- matching


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An open document a bank line may pay: an invoice, a bill, a payroll run or a tax
    return. ``direction`` is the bank movement that settles it: ``in`` (a customer pays
    an invoice) or ``out`` (the company pays a bill, wages or a tax)."""

    document_id: UUID
    kind: str
    number: str
    counterparty_id: UUID | None
    issued: date
    due_date: date | None
    currency: str
    amount_due: Decimal
    direction: str
    counterparty_tax_id: str = ""
    counterparty_iban: str = ""


@dataclass(frozen=True, slots=True)
class Suggestion:
    document_id: UUID
    kind: str
    number: str
    amount_due: Decimal
    allocate: Decimal
    score: int
    reasons: tuple[str, ...]
    counterparty_id: UUID | None = None

    def as_data(self) -> dict[str, Any]:
        due = amount_text(self.amount_due)
        return {"document_id": str(self.document_id), "kind": self.kind,
                "number": self.number, "amount_due": due,
                "allocate": due if self.allocate == self.amount_due
                else amount_text(self.allocate), "score": self.score,
                "reasons": list(self.reasons),
                "counterparty_id": str(self.counterparty_id) if self.counterparty_id else None}


_NOT_ALNUM = re.compile(r"[\W_]+")


def squash(text: str) -> str:
    """Upper-case letters and digits only: ``inv-2026/17`` -> ``INV202617``."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _NOT_ALNUM.sub("", text).upper()


_TOKEN_SPLIT = re.compile(r"[\s,;:#()\[\]\"'№]+")


_DIGIT = re.compile(r"[0-9]")


def tokens(text: str) -> set[str]:
    """What in a text may be a document number: its squashed words with a digit, and a
    word joined to the next one when that has a digit (``INV 17`` -> ``INV17``)."""
    words = [squash(w) for w in _TOKEN_SPLIT.split(text)]
    found = {w for w in words if _DIGIT.search(w)}
    found.update(a + b for a, b in itertools.pairwise(words) if b in found)
    return found


#: Points per kind of evidence (docs/banking.md, "Matching"). The number of the document
#: in the text is the strongest: a bank line rarely names another document's number.
SCORE_NUMBER = 50
SCORE_PARTY = 25
SCORE_AMOUNT = 20
SCORE_DATE = 5
MAX_SUGGESTIONS = 5


class Matcher:
    """Ranks open items for bank lines, with indexes so that 10,000 lines against 50,000
    documents is a few lookups per line rather than a product."""

    def __init__(self, items: Iterable[OpenItem]) -> None:
        self.items = [i for i in items if i.amount_due > 0]
        self.by_number: dict[str, list[int]] = {}
        self.by_tax_id: dict[str, list[int]] = {}
        self.by_iban: dict[str, list[int]] = {}
        self.by_amount: dict[Decimal, list[int]] = {}
        self._data: dict[UUID, dict[str, Any]] = {}
        for n, item in enumerate(self.items):
            key = squash(item.number)
            if len(key) >= 3:
                self.by_number.setdefault(key, []).append(n)
            if item.counterparty_tax_id:
                self.by_tax_id.setdefault(item.counterparty_tax_id, []).append(n)
            if item.counterparty_iban:
                self.by_iban.setdefault(normalise_iban(item.counterparty_iban), []).append(n)
            self.by_amount.setdefault(item.amount_due, []).append(n)
        # A party's documents in number order (the order equal scores are shown in).
        for index in (self.by_tax_id, self.by_iban):
            for found in index.values():
                found.sort(key=lambda n: self.items[n].number)

    def _party_in_number_order(self, line: StatementLine) -> list[int]:
        by_tax = self.by_tax_id.get(line.counterparty_tax_id.strip(), []) \
            if line.counterparty_tax_id else []
        by_iban = self.by_iban.get(normalise_iban(line.counterparty_iban), []) \
            if line.counterparty_iban else []
        if not by_iban or by_iban == by_tax:
            return by_tax
        if not by_tax:
            return by_iban
        return sorted(set(by_tax) | set(by_iban), key=lambda n: self.items[n].number)

    def as_data(self, found: Suggestion) -> dict[str, Any]:
        """``found.as_data()``, with each document's own fields (id, number, amount due as
        text) made once: a document suggested on many lines is written many times."""
        base = self._data.get(found.document_id)
        if base is None:
            base = self._data[found.document_id] = {
                "document_id": str(found.document_id), "kind": found.kind,
                "number": found.number, "amount_due": amount_text(found.amount_due),
                "counterparty_id": str(found.counterparty_id) if found.counterparty_id
                else None}
        return {**base, "allocate": base["amount_due"] if found.allocate == found.amount_due
                else amount_text(found.allocate), "score": found.score,
                "reasons": list(found.reasons)}

    @staticmethod
    def _in_time(item: OpenItem, day: date) -> bool:
        """Paid on or after the document's date and at most 30 days after it fell due."""
        return item.issued <= day and (day - (item.due_date or item.issued)).days <= 30

    def suggest(self, line: StatementLine, limit: int = MAX_SUGGESTIONS) -> list[Suggestion]:
        direction = "in" if line.amount > 0 else "out"
        amount = abs(line.amount)
        named = {n for t in tokens(line.text()) for n in self.by_number.get(t, ())}
        party: set[int] = set()
        if line.counterparty_tax_id:
            party.update(self.by_tax_id.get(line.counterparty_tax_id.strip(), ()))
        if line.counterparty_iban:
            party.update(self.by_iban.get(normalise_iban(line.counterparty_iban), ()))
        exact = {n for n in self.by_amount.get(amount, ())
                 if self.items[n].direction == direction}
        # An amount alone is weak evidence among 50,000 documents: it counts when it is
        # the only candidate, or together with the party or the number.
        candidates = named | party | (exact if len(exact) <= 3 or not (named or party)
                                      else exact & (named | party))
        crowd = 5 * min(len(exact) - 1, 3) if len(exact) > 1 else 0
        day = line.booking_date
        items = self.items
        strong = named | (candidates - party)
        # Scores as plain tuples; Suggestions only for the few shown. A document of the
        # party with neither its number nor its amount on the line scores the party and
        # perhaps the date, nothing else: those are taken in number order, at most
        # ``limit`` of each score, so a customer with 500 open invoices costs no more.
        scored: list[tuple[int, str, int]] = []
        currency = line.currency
        for n in strong:
            item = items[n]
            if item.direction != direction or (currency and item.currency != currency):
                continue
            score = ((SCORE_NUMBER if n in named else 0) + (SCORE_PARTY if n in party else 0)
                     + (SCORE_AMOUNT if item.amount_due == amount else 0)
                     + (SCORE_DATE if self._in_time(item, day) else 0))
            if crowd and n not in named and n not in party:
                score -= crowd  # one of several documents of that amount
            scored.append((-max(score, 1), item.number, n))
        timely = late = 0
        for n in self._party_in_number_order(line):
            item = items[n]
            if n in strong or item.direction != direction or (
                    currency and item.currency != currency):
                continue
            if self._in_time(item, day):
                if timely < limit:
                    timely += 1
                    scored.append((-(SCORE_PARTY + SCORE_DATE), item.number, n))
            elif late < limit:
                late += 1
                scored.append((-SCORE_PARTY, item.number, n))
            if timely >= limit:
                break
        scored.sort()
        best = []
        for negative, _, n in scored[:limit]:
            item = items[n]
            reasons = tuple(r for r, hit in (
                ("number", n in named), ("counterparty", n in party),
                ("amount", item.amount_due == amount), ("date", self._in_time(item, day)))
                if hit)
            best.append(Suggestion(item.document_id, item.kind, item.number, item.amount_due,
                                   min(item.amount_due, amount), -negative, reasons,
                                   item.counterparty_id))
        # Several documents for one line: a party's open items that add up to the line.
        if not any("amount" in s.reasons for s in best) and party:
            group = [self.items[n] for n in party if self.items[n].direction == direction]
            if 1 < len(group) <= 12 and sum(i.amount_due for i in group) == amount:
                best = [Suggestion(i.document_id, i.kind, i.number, i.amount_due,
                                   i.amount_due, SCORE_PARTY + SCORE_AMOUNT,
                                   ("counterparty", "sum"), i.counterparty_id)
                        for i in sorted(group, key=lambda i: (i.issued, i.number))] + [
                    s for s in best if s.document_id not in {i.document_id for i in group}]
                best = best[:max(limit, len(group))]
        return best


# ---------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Rule:
    """``text contains Commission -> 7492``: lines whose text contains ``contains`` (case
    folded), in ``direction`` (``in``, ``out`` or ``any``), go to ``account_code``."""

    id: UUID
    contains: str
    account_code: str
    direction: str = "any"

    def matches(self, line_text: str, amount: Decimal) -> bool:
        if self.direction == "in" and amount <= 0:
            return False
        if self.direction == "out" and amount >= 0:
            return False
        return self.contains.casefold() in line_text.casefold()


_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def learned_phrase(description: str) -> str | None:
    """What a rule learnt from a reconciliation looks for: the first word of the line's
    text (three letters or more, no digits) -- ``Commission for transfer 8812`` ->
    ``Commission``. The person confirms or edits it before it becomes a rule."""
    found = _WORD.search(description)
    return found.group(0) if found else None


def first_rule(rules: Sequence[Rule], line_text: str, amount: Decimal) -> Rule | None:
    for rule in rules:
        if rule.matches(line_text, amount):
            return rule
    return None


# ---------------------------------------------------------------------- events


@dataclasses.dataclass(frozen=True, slots=True)
class BankAccountOpened(DomainEvent):
    bank_account_id: UUID
    iban: str
    currency: str
    account_code: str
    name: str = ""
    bank_code: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class StatementImported(DomainEvent):
    """The lines carry their ids and dedup keys; ``lines`` are JSON objects (one event
    for a whole file keeps an import of 10,000 lines one append)."""

    statement_id: UUID
    bank_account_id: UUID
    format: str
    filename: str
    sha256: str
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    duplicates_skipped: int
    lines: tuple[dict[str, Any], ...]
    findings: tuple[dict[str, Any], ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class StatementUndone(DomainEvent):
    statement_id: UUID
    bank_account_id: UUID


@dataclasses.dataclass(frozen=True, slots=True)
class LineReconciled(DomainEvent):
    line_id: UUID
    statement_id: UUID
    transaction_id: UUID
    account_code: str | None = None
    allocations: tuple[dict[str, str], ...] = ()
    payment_id: UUID | None = None
    rule_id: UUID | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class LineUnreconciled(DomainEvent):
    line_id: UUID
    statement_id: UUID
    transaction_id: UUID
    reversal_id: UUID | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class RuleCreated(DomainEvent):
    rule_id: UUID
    contains: str
    account_code: str
    direction: str = "any"


@dataclasses.dataclass(frozen=True, slots=True)
class RuleDeleted(DomainEvent):
    rule_id: UUID


EVENTS = event_types(BankAccountOpened, StatementImported, StatementUndone, LineReconciled,
                     LineUnreconciled, RuleCreated, RuleDeleted)


# ---------------------------------------------------------------------- the line


@dataclass(slots=True)
class LineState:
    """A bank line's reconciliation, from its own stream."""

    line_id: UUID
    version: int = 0
    reconciled: LineReconciled | None = None

    @classmethod
    def replay(cls, line_id: UUID, events: Sequence[DomainEvent]) -> LineState:
        state = cls(line_id)
        for event in events:
            state.apply(event)
        return state

    def apply(self, event: DomainEvent) -> None:
        self.version += 1
        if isinstance(event, LineReconciled):
            self.reconciled = event
        elif isinstance(event, LineUnreconciled):
            self.reconciled = None

    def ensure_open(self) -> None:
        """Reconciling twice is refused: the first reconciliation stands."""
        if self.reconciled is not None:
            raise AlreadyReconciled(
                "The line is reconciled already; unreconcile it first.",
                transaction_id=str(self.reconciled.transaction_id))

    def unreconcile(self, reversal_id: UUID | None) -> LineUnreconciled:
        if self.reconciled is None:
            raise NotReconciled("The line is not reconciled.")
        return LineUnreconciled(self.line_id, self.reconciled.statement_id,
                                self.reconciled.transaction_id, reversal_id)


def check_allocations(line_amount: Decimal, allocations: Sequence[tuple[UUID, Decimal]],
                      due: dict[UUID, OpenItem]) -> None:
    """Each allocation positive and within its document's amount due, the documents of
    the line's direction, and together no more than the line."""
    if not allocations:
        raise InvalidReconciliation("Name at least one document to allocate to.")
    direction = "in" if line_amount > 0 else "out"
    total = Decimal(0)
    seen: set[UUID] = set()
    for document_id, amount in allocations:
        if document_id in seen:
            raise InvalidReconciliation(f"Document {document_id} is named twice.")
        seen.add(document_id)
        if amount <= 0:
            raise InvalidReconciliation("An allocation must be positive.")
        item = due.get(document_id)
        if item is None:
            raise InvalidReconciliation(f"Document {document_id} is not open.",
                                        document_id=str(document_id))
        if item.direction != direction:
            raise InvalidReconciliation(
                f"Document {item.number} is settled by money {item.direction}; the line "
                f"is money {direction}.")
        if amount > item.amount_due:
            raise OverAllocation(
                f"{amount_text(amount)} is more than the {amount_text(item.amount_due)} due "
                f"on {item.number}.", document_id=str(document_id))
        total += amount
    if total > abs(line_amount):
        raise OverAllocation(f"The allocations ({amount_text(total)}) exceed the line "
                             f"({amount_text(abs(line_amount))}).")
