"""Billing's rules: counterparties, VAT codes, documents and payments. No I/O here.

Sources (../shared/reference/georgia.md): §1.1 the 18% rate; §1.4 reverse charge; §1.5 the
codes and advances; §6 tax ids and IBANs. Worked examples are in docs/billing.md.

A document (sales invoice, credit note, purchase bill, supplier note) is an event-sourced
aggregate: drafted, posted (its journal transaction commits with it), then credited and
settled by other documents and payments. Its ``amount_due`` is what remains of its total
after the credit notes and the allocations made to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from saldo.kernel import iban as kernel_iban
from saldo.kernel.errors import Conflict, Forbidden, NotFound, RuleViolation
from saldo.kernel.events import DomainEvent, event_types
from saldo.kernel.money import InvalidAmount, parse_amount, round_half_up

#: ``date`` under another name, for classes that have a ``date`` field.
Day = date
ZERO = Decimal("0.00")
#: The standard VAT rate, Tax Code Art. 169 (georgia.md §1.1).
VAT_RATE = Decimal("0.18")
MAX_LINES = 500
MAX_AMOUNT = Decimal("1e13")

# ---------------------------------------------------------------------- errors


class InvalidTaxId(RuleViolation):
    code = "invalid_tax_id"
    title = "Invalid tax id"


class InvalidIban(RuleViolation):
    code = "invalid_iban"
    title = "Invalid IBAN"


class DuplicateTaxId(Conflict):
    code = "duplicate_tax_id"
    title = "A counterparty with this tax id exists"


class TaxIdUnknown(RuleViolation):
    """rs.ge answered and knows no company with this 9-digit tax id (decision 0063)."""

    code = "tax_id_unknown"
    title = "The Revenue Service knows no company with this tax id"


class CounterpartyNotFound(NotFound):
    code = "counterparty_not_found"


class DocumentNotFound(NotFound):
    code = "document_not_found"


class PaymentNotFound(NotFound):
    code = "payment_not_found"


class InvalidLine(RuleViolation):
    code = "invalid_line"
    title = "Invalid document line"


class VatCodeDirection(RuleViolation):
    code = "vat_code_direction"
    title = "VAT code does not fit the document"


class CreditExceedsInvoice(RuleViolation):
    code = "credit_exceeds_invoice"
    title = "Credit note above what remains of the invoice"


class OverAllocation(RuleViolation):
    code = "over_allocation"
    title = "Allocation above what is due"


class AllocationMismatch(RuleViolation):
    code = "allocation_mismatch"
    title = "Allocation does not fit the payment"


class DuplicateSupplierReference(Conflict):
    code = "duplicate_supplier_reference"
    title = "A bill with this supplier reference exists"


class InvalidDocumentState(Conflict):
    code = "invalid_state"
    title = "Wrong document state"


class SegregationOfDuties(Forbidden):
    code = "segregation_of_duties"
    title = "Maker-checker: the author cannot approve"


class InvalidDocument(RuleViolation):
    code = "invalid_document"
    title = "Invalid document"


# ---------------------------------------------------------------------- identifiers

_TAX_ID = re.compile(r"^[0-9]{9}$|^[0-9]{11}$", re.ASCII)

def check_tax_id(tax_id: str, country: str) -> str:
    """A Georgian tax id is 9 digits (a company, or a foreigner's number from the Revenue
    Service) or 11 (a citizen's personal number), georgia.md §6; no public check digit
    exists, so the format is the check. Foreign tax ids are kept as given."""
    value = tax_id.strip()
    if country == "GE" and not _TAX_ID.fullmatch(value):
        raise InvalidTaxId("A Georgian tax id is 9 digits (company) or 11 (person).",
                           field="tax_id")
    if not value or len(value) > 30:
        raise InvalidTaxId("A tax id is 1 to 30 characters.", field="tax_id")
    return value


def check_iban(iban: str) -> str:
    """A valid IBAN, normalised (saldo.kernel.iban)."""
    value = kernel_iban.normalise(iban)
    if (why := kernel_iban.problem(value)) is not None:
        raise InvalidIban(f"The IBAN is {why}.", field="iban")
    return value


def bank_of(iban: str | None) -> tuple[str, str] | None:
    """(BIC, bank name) of a Georgian IBAN's bank code (saldo.kernel.iban)."""
    found = kernel_iban.bank(iban)
    return None if found is None else (found.bic, found.name)


# ---------------------------------------------------------------------- VAT codes


class VatCode(StrEnum):
    VAT18 = "vat18"
    EXPORT0 = "export0"
    EXEMPT_CREDIT = "exempt_credit"
    EXEMPT = "exempt"
    REVERSE_CHARGE18 = "reverse_charge18"
    IMPORT18 = "import18"
    OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True, slots=True)
class VatCodeInfo:
    code: VatCode
    rate: Decimal
    sales: bool
    purchases: bool
    #: The revenue account a sales line takes by default.
    revenue_account: str
    label: str
    label_ka: str


#: The contract's codes (api/v1.md "VAT codes"); georgia.md §1.5 for their meaning.
VAT_CODES: dict[VatCode, VatCodeInfo] = {c.code: c for c in (
    VatCodeInfo(VatCode.VAT18, VAT_RATE, True, True, "6110",
                "Taxable at the standard rate", "დასაბეგრი სტანდარტული განაკვეთით"),
    VatCodeInfo(VatCode.EXPORT0, Decimal(0), True, True, "6115",
                "Export of goods (exempt with credit)", "საქონლის ექსპორტი"),
    VatCodeInfo(VatCode.EXEMPT_CREDIT, Decimal(0), True, True, "6110",
                "Exempt with the right of credit", "ჩათვლის უფლებით გათავისუფლებული"),
    VatCodeInfo(VatCode.EXEMPT, Decimal(0), True, True, "6110",
                "Exempt without the right of credit", "ჩათვლის უფლების გარეშე გათავისუფლებული"),
    VatCodeInfo(VatCode.REVERSE_CHARGE18, VAT_RATE, False, True, "",
                "Services of a non-resident (reverse charge)", "უკუდაბეგვრა"),
    VatCodeInfo(VatCode.IMPORT18, VAT_RATE, False, True, "",
                "Import VAT paid at customs", "იმპორტის დღგ"),
    VatCodeInfo(VatCode.OUT_OF_SCOPE, Decimal(0), True, True, "6110",
                "Not a VAT transaction", "არ არის დღგ-ით დასაბეგრი ოპერაცია"),
)}

# Accounts of the ge-standard chart (georgia.md §5.4 patterns).
RECEIVABLES, PAYABLES = "1410", "3110"
ADVANCES_RECEIVED, ADVANCES_PAID = "3120", "1480"
OUTPUT_VAT, OUTPUT_VAT_ADVANCES, REVERSE_CHARGE_PAYABLE = "3330", "3331", "3332"
INPUT_VAT, IMPORT_VAT, REVERSE_CHARGE_INPUT = "3340", "3342", "3343"
FX_GAIN, FX_LOSS = "8140", "8240"
DEFAULT_BANK = "1210"


def line_vat(net: Decimal, code: VatCode) -> Decimal:
    """Line VAT = round_half_up(net × rate, 2), per line (api/v1.md "VAT codes")."""
    return round_half_up(net * VAT_CODES[code].rate, 2)


def advance_vat(gross: Decimal) -> Decimal:
    """VAT contained in an advance received, gross × 18/118 rounded half-up (Tax Code:
    VAT is charged on advances received, georgia.md §1.5)."""
    return round_half_up(gross * VAT_RATE / (1 + VAT_RATE), 2)


# ---------------------------------------------------------------------- documents


class DocumentKind(StrEnum):
    SALES_INVOICE = "sales_invoice"
    CREDIT_NOTE = "credit_note"
    PURCHASE_BILL = "purchase_bill"
    SUPPLIER_CREDIT_NOTE = "supplier_credit_note"
    SUPPLIER_DEBIT_NOTE = "supplier_debit_note"

    @property
    def sales(self) -> bool:
        return self in (DocumentKind.SALES_INVOICE, DocumentKind.CREDIT_NOTE)

    @property
    def credit(self) -> bool:
        """A note that reduces another document (its journal is the mirror image)."""
        return self in (DocumentKind.CREDIT_NOTE, DocumentKind.SUPPLIER_CREDIT_NOTE)


class DocumentStatus(StrEnum):
    DRAFT = "draft"
    POSTED = "posted"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    CREDITED = "credited"


@dataclass(frozen=True, slots=True)
class LineInput:
    description: str
    quantity: object
    unit_price: object
    vat_code: str
    account_code: str | None = None


@dataclass(frozen=True, slots=True)
class Line:
    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_code: VatCode
    account_code: str
    net: Decimal
    vat: Decimal

    @property
    def gross(self) -> Decimal:
        """What the counterparty owes or is owed for the line: reverse-charge and import
        VAT are not the supplier's to collect (paid to the budget), so they are not in it."""
        if self.vat_code is VatCode.REVERSE_CHARGE18:
            return self.net  # the supplier is paid the net; the VAT is self-assessed
        if self.vat_code is VatCode.IMPORT18:
            return self.vat  # a customs declaration: the customs value is the base only
        return self.net + self.vat


def _decimal(value: object, where: str, places: int) -> Decimal:
    try:
        amount = parse_amount(value)
    except InvalidAmount as exc:
        raise InvalidLine(f"{where}: {exc}", field=where) from None
    if amount <= 0:
        raise InvalidLine(f"{where} must be positive (use a credit note to reduce an "
                          "invoice).", field=where)
    if amount >= MAX_AMOUNT:
        raise InvalidLine(f"{where} is too large.", field=where)
    if amount != round_half_up(amount, places):
        raise InvalidLine(f"{where}: at most {places} decimals.", field=where)
    return amount


def check_lines(raw: Sequence[LineInput], kind: DocumentKind, vat_payer: bool) -> list[Line]:
    """Check and price a document's lines: net = round_half_up(quantity × unit price, 2),
    VAT per line by its code; a company that is not a VAT payer charges no VAT on its
    sales and deducts none on its purchases (its VAT is part of the cost), but still
    self-assesses reverse-charge VAT (georgia.md §1.4)."""
    if not raw:
        raise InvalidLine("A document needs at least one line.", field="lines")
    if len(raw) > MAX_LINES:
        raise InvalidLine(f"A document has at most {MAX_LINES} lines.", field="lines")
    lines = []
    for i, r in enumerate(raw):
        where = f"lines[{i}]"
        try:
            code = VatCode(r.vat_code)
        except ValueError:
            raise InvalidLine(f"{where}.vat_code: unknown code {r.vat_code!r}; one of "
                              f"{', '.join(c.value for c in VatCode)}.",
                              field=f"{where}.vat_code") from None
        info = VAT_CODES[code]
        if kind.sales and not info.sales:
            raise VatCodeDirection(f"{where}.vat_code: {code.value} is for purchases only.",
                                   field=f"{where}.vat_code")
        quantity = _decimal(r.quantity, f"{where}.quantity", 4)
        price = _decimal(r.unit_price, f"{where}.unit_price", 4)
        net = round_half_up(quantity * price, 2)
        if net >= MAX_AMOUNT:
            raise InvalidLine(f"{where}: the line's net amount is too large.", field=where)
        if net <= 0:
            raise InvalidLine(f"{where}: the line's net amount rounds to zero.", field=where)
        vat = line_vat(net, code)
        if not vat_payer and kind.sales:
            vat = ZERO
        account = (r.account_code or "").strip()
        if not account:
            if not kind.sales:
                raise InvalidLine(f"{where}.account_code: a purchase line names the account "
                                  "it is booked to.", field=f"{where}.account_code")
            account = info.revenue_account
        if len(r.description) > 500:
            raise InvalidLine(f"{where}.description: at most 500 characters.", field=where)
        lines.append(Line(r.description.strip(), quantity, price, code, account, net, vat))
    if sum((x.net + x.vat for x in lines), ZERO) >= MAX_AMOUNT:
        raise InvalidLine("The document's total is too large.", field="lines")
    return lines


def line_data(line: Line) -> dict[str, Any]:
    return {"description": line.description, "quantity": str(line.quantity),
            "unit_price": str(line.unit_price), "vat_code": line.vat_code.value,
            "account_code": line.account_code, "net": str(line.net), "vat": str(line.vat)}


def line_from_data(data: Mapping[str, Any]) -> Line:
    return Line(data["description"], Decimal(data["quantity"]), Decimal(data["unit_price"]),
                VatCode(data["vat_code"]), data["account_code"], Decimal(data["net"]),
                Decimal(data["vat"]))


# ---------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class CounterpartyRegistered(DomainEvent):
    counterparty_id: UUID
    name: str
    tax_id: str | None
    country: str
    resident: bool
    vat_payer: bool
    iban: str | None
    email: str | None
    phone: str | None
    address: str | None
    by: str


#: What a tax-id check against a registry (rs.ge) found (decision 0063): ``verified``
#: (name and VAT status taken from it), ``pending`` (the registry could not be asked; it
#: is asked again), ``failed`` (it refused the company's service user: fix it, then check
#: again), ``not_registered`` (an 11-digit personal number the registry does not list).
TAX_ID_CHECK_STATES = ("verified", "pending", "failed", "not_registered")


@dataclass(frozen=True, slots=True)
class CounterpartyTaxIdChecked(DomainEvent):
    """A counterparty's tax id checked against a registry; when ``verified`` the
    registry's name and VAT status replace what the counterparty had."""

    counterparty_id: UUID
    status: str
    source: str
    name: str | None
    vat_payer: bool | None
    detail: str
    by: str


@dataclass(frozen=True, slots=True)
class DocumentDrafted(DomainEvent):
    document_id: UUID
    kind: str
    number: str
    counterparty_id: UUID
    date: date
    due_date: Day
    currency: str
    exchange_rate: Decimal
    reference: str | None
    supplier_reference: str | None
    #: The invoice or bill a note corrects.
    corrects: UUID | None
    lines: tuple[dict[str, Any], ...]
    net_total: Decimal
    vat_total: Decimal
    total: Decimal
    by: str


@dataclass(frozen=True, slots=True)
class DocumentPosted(DomainEvent):
    document_id: UUID
    number: str
    transaction_id: UUID
    #: The total in GEL as the journal booked it on the control account.
    total_base: Decimal
    #: Whether the company could deduct the document's input VAT (a VAT payer).
    vat_deductible: bool
    by: str


@dataclass(frozen=True, slots=True)
class DocumentApproved(DomainEvent):
    """A second person approved the draft (when the company requires it)."""

    document_id: UUID
    by: str


@dataclass(frozen=True, slots=True)
class BillingSettingsChanged(DomainEvent):
    require_approval: bool
    by: str


@dataclass(frozen=True, slots=True)
class DocumentSettled(DomainEvent):
    """Part of the document's amount due was settled by a payment or a note."""

    document_id: UUID
    by_document: UUID
    by_kind: str
    date: date
    amount: Decimal
    #: The GEL the control account was relieved of (the booked rate's share).
    amount_base: Decimal


@dataclass(frozen=True, slots=True)
class SettlementReversed(DomainEvent):
    """A settlement undone: the payment that made it was reversed (its amount due back)."""

    document_id: UUID
    by_document: UUID
    by_kind: str
    date: date
    amount: Decimal
    #: The GEL the control account is charged with again (what the settlement relieved).
    amount_base: Decimal


DOCUMENT_EVENTS = event_types(DocumentDrafted, DocumentApproved, DocumentPosted,
                              DocumentSettled, SettlementReversed)


@dataclass
class Document:
    id: UUID
    kind: DocumentKind
    number: str
    counterparty_id: UUID
    date: date
    due_date: Day
    currency: str
    exchange_rate: Decimal
    reference: str | None
    supplier_reference: str | None
    corrects: UUID | None
    lines: list[Line]
    net_total: Decimal
    vat_total: Decimal
    total: Decimal
    transaction_id: UUID | None = None
    total_base: Decimal = ZERO
    settled: Decimal = ZERO
    settled_base: Decimal = ZERO
    credited: Decimal = ZERO
    created_by: str = ""
    approved_by: str | None = None
    version: int = 0
    pending: list[DomainEvent] = field(default_factory=list)

    @classmethod
    def replay(cls, events: Iterable[tuple[str, Mapping[str, Any]]]) -> Document | None:
        doc: Document | None = None
        for kind, data in events:
            event = DOCUMENT_EVENTS[kind].from_data(data)
            if isinstance(event, DocumentDrafted):
                doc = cls(event.document_id, DocumentKind(event.kind), event.number,
                          event.counterparty_id,
                          event.date, event.due_date, event.currency, event.exchange_rate,
                          event.reference, event.supplier_reference, event.corrects,
                          [line_from_data(x) for x in event.lines], event.net_total,
                          event.vat_total, event.total, created_by=event.by)
            elif doc is not None:
                doc.apply(event)
            if doc is not None:
                doc.version += 1
        return doc

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, DocumentApproved):
            self.approved_by = event.by
        elif isinstance(event, DocumentPosted):
            self.transaction_id = event.transaction_id
            self.total_base = event.total_base
        elif isinstance(event, DocumentSettled):
            self.settled += event.amount
            self.settled_base += event.amount_base
            if event.by_kind in (DocumentKind.CREDIT_NOTE.value,
                                 DocumentKind.SUPPLIER_CREDIT_NOTE.value):
                self.credited += event.amount
        elif isinstance(event, SettlementReversed):
            self.settled -= event.amount
            self.settled_base -= event.amount_base
            if event.by_kind in (DocumentKind.CREDIT_NOTE.value,
                                 DocumentKind.SUPPLIER_CREDIT_NOTE.value):
                self.credited -= event.amount

    def record(self, event: DomainEvent) -> None:
        self.apply(event)
        self.pending.append(event)

    @property
    def posted(self) -> bool:
        return self.transaction_id is not None

    @property
    def amount_due(self) -> Decimal:
        return self.total - self.settled if self.posted else self.total

    @property
    def base_due(self) -> Decimal:
        return self.total_base - self.settled_base

    @property
    def status(self) -> DocumentStatus:
        return status_of(self.posted, self.total, self.settled, self.credited,
                         self.kind.credit)

    def approve(self, by: str) -> None:
        if self.posted or self.approved_by:
            raise InvalidDocumentState(f"{self.number} is not an unapproved draft.",
                                       document_id=str(self.id), status=self.status.value)
        if by == self.created_by:
            raise SegregationOfDuties("The author of a document cannot approve it.",
                                      document_id=str(self.id))
        self.record(DocumentApproved(self.id, by))

    def settle(self, by_document: UUID, by_kind: str, on: Day, amount: Decimal) -> Decimal:
        """Settle ``amount`` of what is due; returns the GEL share relieved (the whole
        remaining GEL when the document is settled in full, so nothing is left over)."""
        if not self.posted:
            raise InvalidDocumentState("Only a posted document can be paid or credited.",
                                       document_id=str(self.id))
        if amount <= 0:
            raise AllocationMismatch("An allocation is a positive amount.",
                                     document_id=str(self.id))
        if amount > self.amount_due:
            raise OverAllocation(
                f"{amount} is more than the {self.amount_due} {self.currency} due on "
                f"{self.number}.", document_id=str(self.id), amount_due=str(self.amount_due))
        base = (self.base_due if amount == self.amount_due
                else round_half_up(amount * self.base_due / self.amount_due, 2))
        self.record(DocumentSettled(self.id, by_document, by_kind, on, amount, base))
        return base

    def unsettle(self, by_document: UUID, by_kind: str, on: Day, amount: Decimal,
                 amount_base: Decimal) -> None:
        """Undo what ``by_document`` settled (its reversal): the amount due grows back."""
        if amount <= 0 or amount > self.settled:
            raise InvalidDocumentState(
                f"{self.number} has no settlement of {amount} to undo.",
                document_id=str(self.id))
        self.record(SettlementReversed(self.id, by_document, by_kind, on, amount,
                                       amount_base))


def status_of(posted: bool, total: Decimal, settled: Decimal,
              credited: Decimal, note: bool = False) -> DocumentStatus:
    """A credit note is ``posted`` once posted, whatever it was applied to; an invoice or
    bill is partly paid, paid, or credited (settled wholly by credit notes)."""
    if not posted:
        return DocumentStatus.DRAFT
    if note or settled <= 0:
        return DocumentStatus.POSTED
    if settled < total:
        return DocumentStatus.PARTLY_PAID
    return DocumentStatus.CREDITED if credited >= total else DocumentStatus.PAID


# ---------------------------------------------------------------------- payments


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class AllocationInput:
    document_id: UUID
    amount: object


@dataclass(frozen=True, slots=True)
class PaymentDraft:
    """A payment in or out, allocated to documents (``BillingService.pay``); what is not
    allocated stays an advance of the counterparty."""

    counterparty_id: UUID
    date: date
    direction: Direction
    amount: object
    allocations: Sequence[AllocationInput] = ()
    currency: str | None = None
    exchange_rate: object = None
    account_code: str = DEFAULT_BANK
    reference: str | None = None
    #: Whether VAT is charged on the advance part of a receipt (default: when the company
    #: is a VAT payer; georgia.md §1.5).
    advance_vat: bool | None = None


@dataclass(frozen=True, slots=True)
class PaymentRecorded(DomainEvent):
    payment_id: UUID
    counterparty_id: UUID
    date: date
    direction: str
    amount: Decimal
    currency: str
    exchange_rate: Decimal
    account_code: str
    reference: str | None
    #: [{document_id, amount, amount_base}]
    allocations: tuple[dict[str, Any], ...]
    unallocated: Decimal
    advance_vat: Decimal
    transaction_id: UUID
    by: str


@dataclass(frozen=True, slots=True)
class AdvanceApplied(DomainEvent):
    """A later allocation of a payment's unallocated remainder to documents."""

    payment_id: UUID
    date: date
    allocations: tuple[dict[str, Any], ...]
    amount: Decimal
    advance_vat: Decimal
    transaction_id: UUID
    by: str


@dataclass(frozen=True, slots=True)
class PaymentReversed(DomainEvent):
    """The payment undone (docs/decisions/0030, 0047): its journal transactions reversed
    (``transaction_id`` the payment's own; ``reversals`` every one, advances applied too),
    its allocations freed."""

    payment_id: UUID
    date: date
    reason: str
    transaction_id: UUID
    reversals: tuple[str, ...]
    #: [{document_id, amount, amount_base}] per document, all the payment settled.
    allocations: tuple[dict[str, Any], ...]
    by: str
    #: The transactions of the advance applications reversed (their VAT offsets undone).
    applications: tuple[str, ...] = ()


class PaymentAlreadyReversed(Conflict):
    code = "payment_reversed"
    title = "Payment reversed"


PAYMENT_EVENTS = event_types(PaymentRecorded, AdvanceApplied, PaymentReversed)


def positive_amount(value: object, where: str) -> Decimal:
    return _decimal(value, where, 2)
