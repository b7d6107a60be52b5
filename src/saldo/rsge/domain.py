"""The Revenue Service (შემოსავლების სამსახური, rs.ge) exchange: e-invoices and waybills.

An outgoing e-invoice (ელექტრონული ანგარიშ-ფაქტურა) is a stream of its own,
``rs-einvoice-<document id>``: queued with a snapshot of the invoice, then each step of
the several-call exchange with rs.ge is recorded as it succeeds (the header's rs.ge id,
each line, the send), so a worker that dies between two calls resumes after the last
recorded step and never repeats one (georgia.md §8.3 "design implications"). Failures
are recorded with the next attempt's time; after :data:`MAX_ATTEMPTS` the item is
``failed`` (the dead letter) until someone asks for it again.

No I/O here: the SOAP client is ``saldo.rsge.soap``, the use cases ``saldo.rsge.service``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import ClassVar
from uuid import UUID

from saldo.kernel.errors import Conflict, NotFound, RuleViolation, SaldoError
from saldo.kernel.events import DomainEvent, event_types
from saldo.kernel.money import round_half_up as round_money

EINVOICE_STREAM = "rs_einvoice"


def einvoice_stream(document_id: UUID) -> str:
    return f"rs-einvoice-{document_id}"


# ---------------------------------------------------------------------- credentials


@dataclass(frozen=True, slots=True)
class Credentials:
    """The company's rs.ge service user (სერვისის მომხმარებელი, georgia.md §8.1).

    The password never appears in ``repr`` (so never in a log line or a traceback)."""

    service_user: str
    service_password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(service_user={self.service_user!r}, service_password='***')"


class NoCredentials(RuleViolation):
    code = "rs_credentials_missing"
    title = "No rs.ge service user"


def check_credentials(service_user: str, service_password: str) -> Credentials:
    user, password = service_user.strip(), service_password
    if not user or len(user) > 100:
        raise RuleViolation("service_user must be 1-100 characters.", field="service_user")
    if not password or len(password) > 200:
        raise RuleViolation("service_password must be 1-200 characters.",
                            field="service_password")
    return Credentials(user, password)


# ---------------------------------------------------------------------- rs.ge codes


class NtosStatus(IntEnum):
    """``ntosservice`` invoice statuses (georgia.md §1.6; Odoo ``l10n_ge_edi``)."""

    DELETED = -1
    SAVED = 0  # also "rejected by the buyer": a rejected invoice returns to 0
    SENT = 1
    CONFIRMED = 2
    CORRECTED = 3
    NEW_CORRECTION = 4
    CORRECTION_SENT = 5
    CANCELLED = 6
    CANCELLATION_CONFIRMED = 7
    CORRECTION_CONFIRMED = 8


#: ``change_invoice_status`` values (rs-ge-services.md).
SEND, SEND_CORRECTION = 1, 5


class CorrectionType(IntEnum):
    """``k_invoice`` types (georgia.md §1.6, ``dimakura/rs.ge`` factura.rb)."""

    OPERATION_CANCELLED = 1
    OPERATION_TYPE_CHANGED = 2
    PRICE_CHANGED = 3
    GOODS_RETURNED = 4


class WaybillType(IntEnum):
    """georgia.md §8.2 TYPE."""

    INNER = 1
    TRANSPORT = 2
    WITHOUT_TRANSPORT = 3
    DISTRIBUTION = 4
    RETURN = 5
    SUB_WAYBILL = 6


#: georgia.md §8.2 STATUS.
WAYBILL_STATUS = {0: "saved", 1: "active", 2: "closed", 8: "sent_to_transporter",
                  -1: "deleted", -2: "cancelled"}


class EInvoiceStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    FAILED = "failed"


class UnknownStatus(SaldoError):
    code = "rs_unknown_status"


def buyer_decision(rs_status: int) -> EInvoiceStatus | None:
    """What an rs.ge status means for an invoice Saldo has sent: ``None`` while it waits.

    A rejected invoice returns to 0 (SAVED) on rs.ge (Odoo maps 0 to "rejected");
    2 and 8 are the buyer's confirmation of an invoice and of a correction. An unknown
    code raises :class:`UnknownStatus` (a finding on the document, not a guess)."""
    try:
        status = NtosStatus(rs_status)
    except ValueError:
        raise UnknownStatus(f"rs.ge answered with an unknown invoice status {rs_status}",
                            rs_status=rs_status) from None
    if status in (NtosStatus.CONFIRMED, NtosStatus.CORRECTION_CONFIRMED,
                  NtosStatus.CANCELLATION_CONFIRMED):
        return EInvoiceStatus.CONFIRMED
    if status in (NtosStatus.SAVED, NtosStatus.DELETED):
        return EInvoiceStatus.REJECTED
    return None  # sent, correction sent, corrected, cancelled: waiting for the buyer


# ---------------------------------------------------------------------- the invoice snapshot


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line as rs.ge takes it: ``full_amount`` includes VAT (georgia.md §8.3 step 4:
    the sample 100 with ``drg_amount`` 15.25 = 100 × 18/118)."""

    goods: str
    unit: str
    quantity: Decimal
    full_amount: Decimal
    vat: Decimal
    excise: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class InvoiceForRs:
    """What Saldo sends about a posted sales invoice or its correction (a credit note)."""

    document_id: UUID
    number: str
    date: date
    buyer_tax_id: str
    buyer_name: str
    lines: tuple[InvoiceLine, ...]
    #: A credit note: the invoice it corrects, and the ``k_invoice`` type.
    corrects: UUID | None = None
    correction_type: int | None = None

    def __post_init__(self) -> None:
        if not self.lines:
            raise RuleViolation("An e-invoice needs at least one line.",
                                document_id=str(self.document_id))


# ---------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class EInvoiceQueued(DomainEvent):
    document_id: UUID
    number: str
    date: date
    buyer_tax_id: str
    buyer_name: str
    lines: tuple[InvoiceLine, ...]
    corrects: UUID | None = None
    correction_type: int | None = None
    #: The rs.ge id of the invoice a correction corrects (known when it was queued).
    corrects_rs_id: int | None = None


@dataclass(frozen=True, slots=True)
class EInvoiceHeaderSaved(DomainEvent):
    """``save_invoice`` (or ``k_invoice``) answered with this rs.ge id: recorded before
    any line is sent, so a resend never makes a second header."""

    rs_id: int
    attempt: int


@dataclass(frozen=True, slots=True)
class EInvoiceLineSaved(DomainEvent):
    index: int
    line_rs_id: int


@dataclass(frozen=True, slots=True)
class EInvoiceSent(DomainEvent):
    rs_id: int
    series: str
    number: int | None
    rs_status: int


@dataclass(frozen=True, slots=True)
class EInvoiceAttemptFailed(DomainEvent):
    attempt: int
    error: str
    #: ``None``: no further automatic attempt (the dead letter, status ``failed``).
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class EInvoiceRetryRequested(DomainEvent):
    by: str


@dataclass(frozen=True, slots=True)
class EInvoiceDecided(DomainEvent):
    """The buyer confirmed or rejected it on rs.ge (found by polling)."""

    status: str
    rs_status: int


EINVOICE_EVENTS = event_types(EInvoiceQueued, EInvoiceHeaderSaved, EInvoiceLineSaved,
                              EInvoiceSent, EInvoiceAttemptFailed, EInvoiceRetryRequested,
                              EInvoiceDecided)


# ---------------------------------------------------------------------- delivery policy

#: Attempts before an item is dead-lettered (``failed``). A company's operator can retry.
MAX_ATTEMPTS = 8
#: Exponential backoff: 5 s, 10 s, 20 s, … capped at 30 minutes, with full jitter so a
#: thousand invoices failing together do not come back together (AWS "full jitter").
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=30)
_JITTER = random.Random()  # noqa: S311 - jitter, not security


def backoff(attempt: int, *, base: timedelta = BACKOFF_BASE, cap: timedelta = BACKOFF_CAP,
            rng: random.Random | None = None) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1-based): a uniform draw in
    [ceiling/2, ceiling] where ceiling = min(cap, base × 2^(attempt-1))."""
    ceiling: timedelta = min(cap, base * (2 ** max(0, attempt - 1)))
    draw = (rng or random).uniform(0.5, 1.0)
    wait: timedelta = ceiling * draw
    return wait


@dataclass
class EInvoice:
    """The outgoing e-invoice aggregate, rebuilt from its stream."""

    document_id: UUID
    invoice: EInvoiceQueued | None = None
    status: EInvoiceStatus = EInvoiceStatus.QUEUED
    rs_id: int | None = None
    series: str | None = None
    number: int | None = None
    lines_saved: int = 0
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    version: int = 0

    @classmethod
    def load(cls, document_id: UUID, events: list[tuple[DomainEvent, int]]) -> EInvoice:
        item = cls(document_id)
        for event, version in events:
            item.apply(event)
            item.version = version
        return item

    def apply(self, e: DomainEvent) -> None:
        if isinstance(e, EInvoiceQueued):
            self.invoice, self.status = e, EInvoiceStatus.QUEUED
            self.attempts, self.last_error = 0, None
        elif isinstance(e, EInvoiceHeaderSaved):
            self.rs_id = e.rs_id
        elif isinstance(e, EInvoiceLineSaved):
            self.lines_saved = max(self.lines_saved, e.index + 1)
        elif isinstance(e, EInvoiceSent):
            self.status, self.series, self.number = EInvoiceStatus.SENT, e.series, e.number
            self.last_error, self.next_attempt_at = None, None
        elif isinstance(e, EInvoiceAttemptFailed):
            self.attempts, self.last_error = e.attempt, e.error
            self.next_attempt_at = e.next_attempt_at
            if e.next_attempt_at is None:
                self.status = EInvoiceStatus.FAILED
        elif isinstance(e, EInvoiceRetryRequested):
            self.status, self.attempts, self.next_attempt_at = EInvoiceStatus.QUEUED, 0, None
        elif isinstance(e, EInvoiceDecided):
            self.status = EInvoiceStatus(e.status)

    # -- commands

    def queue(self, invoice: InvoiceForRs, corrects_rs_id: int | None) -> EInvoiceQueued:
        if self.invoice is not None and self.status is not EInvoiceStatus.REJECTED:
            raise AlreadyQueued(f"Invoice {invoice.number} is already {self.status.value} "
                                "on rs.ge.", status=self.status.value)
        return EInvoiceQueued(invoice.document_id, invoice.number, invoice.date,
                              invoice.buyer_tax_id, invoice.buyer_name, invoice.lines,
                              invoice.corrects, invoice.correction_type, corrects_rs_id)

    def fail(self, error: str, now: datetime, *, retryable: bool,
             max_attempts: int = MAX_ATTEMPTS) -> EInvoiceAttemptFailed:
        attempt = self.attempts + 1
        dead = not retryable or attempt >= max_attempts
        return EInvoiceAttemptFailed(attempt, error[:500],
                                     None if dead else now + backoff(attempt))

    def retry(self, by: str) -> EInvoiceRetryRequested:
        if self.invoice is None:
            raise NotQueued("This invoice was never sent to rs.ge.")
        if self.status is not EInvoiceStatus.FAILED:
            raise Conflict(f"Only a failed e-invoice can be retried; this one is "
                           f"{self.status.value}.", status=self.status.value)
        return EInvoiceRetryRequested(by)

    @property
    def is_correction(self) -> bool:
        return self.invoice is not None and self.invoice.corrects is not None


class AlreadyQueued(Conflict):
    code = "e_invoice_exists"
    title = "Already sent to rs.ge"


class NotQueued(NotFound):
    code = "e_invoice_not_found"
    title = "No e-invoice"


# ---------------------------------------------------------------------- incoming invoices


@dataclass(frozen=True, slots=True)
class IncomingInvoice:
    """An e-invoice a supplier issued to the company (``get_buyer_invoices``)."""

    rs_id: int
    series: str
    number: str
    date: date
    supplier_tax_id: str
    supplier_name: str
    total: Decimal
    vat: Decimal
    rs_status: int

    @property
    def reference(self) -> str:
        """The invoice's official number as printed: series and number ("ეა-05 1234567")."""
        return f"{self.series} {self.number}".strip()


@dataclass(frozen=True, slots=True)
class BillCandidate:
    """A purchase bill that an incoming e-invoice may be."""

    document_id: UUID
    supplier_tax_id: str
    number: str
    total: Decimal
    #: Posted, so its input VAT is on 3340 (billing's journal) and may be held on 3344.
    posted: bool = False


def _norm(number: str) -> str:
    return "".join(ch for ch in number.upper() if ch.isalnum())


def match_bill(invoice: IncomingInvoice,
               candidates: list[BillCandidate]) -> tuple[BillCandidate | None, str]:
    """The purchase bill an incoming e-invoice is, by supplier tax id, number and amount.

    Returns the bill and how it matched: ``exact`` (tax id, number -- series optional,
    compared without spaces and dashes -- and total to the tetri), ``amount`` (tax id and
    total, one bill only: the accountant typed the number differently), or ``None`` and
    ``unmatched`` (then it is offered as a draft bill). Two bills that fit equally are
    not guessed between: ``ambiguous``."""
    total = round_money(invoice.total)
    same_supplier = [c for c in candidates if c.supplier_tax_id == invoice.supplier_tax_id]
    wanted = {_norm(invoice.number), _norm(invoice.reference)}
    exact = [c for c in same_supplier
             if _norm(c.number) in wanted and round_money(c.total) == total]
    if len(exact) == 1:
        return exact[0], "exact"
    if len(exact) > 1:
        return None, "ambiguous"
    by_amount = [c for c in same_supplier if round_money(c.total) == total]
    if len(by_amount) == 1:
        return by_amount[0], "amount"
    if len(by_amount) > 1:
        return None, "ambiguous"
    return None, "unmatched"


#: Input VAT (ge-standard chart): recoverable, and awaiting confirmation on rs.ge.
INPUT_VAT, INPUT_VAT_AWAITING = "3340", "3344"


def awaiting_buyer(rs_status: int) -> bool:
    """An incoming e-invoice the company has still to confirm: sent (1) or a correction
    sent (5) (georgia.md §1.6)."""
    return rs_status in (NtosStatus.SENT, NtosStatus.CORRECTION_SENT)


class IncomingNotFound(NotFound):
    code = "rs_invoice_not_found"


# ---------------------------------------------------------------------- waybills


@dataclass(frozen=True, slots=True)
class WaybillLine:
    name: str
    unit_id: int
    unit_text: str
    quantity: Decimal
    price: Decimal
    bar_code: str

    @property
    def amount(self) -> Decimal:
        """AMOUNT = QUANTITY × PRICE (georgia.md §8.2), rounded half-up to the tetri."""
        return round_money(self.quantity * self.price)


@dataclass(frozen=True, slots=True)
class WaybillDraft:
    document_id: UUID | None
    type: int
    buyer_tax_id: str
    buyer_name: str
    start_address: str
    end_address: str
    transport_type: int
    driver_tax_id: str
    driver_name: str
    car_number: str
    lines: tuple[WaybillLine, ...]
    comment: str = ""
    #: 1 buyer, 2 seller (TRAN_COST_PAYER).
    transport_cost_payer: int = 2
    transport_cost: Decimal = Decimal(0)
    foreign_buyer: bool = False

    #: TRANS_ID 1 is transport by car on every list seen (georgia.md §8.2 warns the other
    #: ids differ between libraries; they are passed through unchanged).
    CAR: ClassVar[int] = 1

    def check(self) -> None:
        """The rules public clients enforce before calling rs.ge (``dimakura/rs.ge``
        waybill.rb, georgia.md §8.2): a Georgian buyer's TIN has 9 or 11 digits; with a
        car, its number and the driver's TIN are required; at least one line; quantity
        > 0; price >= 0; bar codes unique within the waybill."""
        findings: list[str] = []
        if self.type not in {t.value for t in WaybillType}:
            findings.append(f"type must be one of 1-6, not {self.type}")
        tin = self.buyer_tax_id
        if not self.foreign_buyer and not (tin.isdigit() and len(tin) in (9, 11)):
            findings.append("buyer_tax_id must have 9 or 11 digits")
        if self.type == WaybillType.TRANSPORT and self.transport_type == self.CAR:
            if not self.car_number.strip():
                findings.append("car_number is required for transport by car")
            if not (self.driver_tax_id.isdigit() and len(self.driver_tax_id) in (9, 11)):
                findings.append("driver_tax_id (9 or 11 digits) is required for transport by car")
        if not self.lines:
            findings.append("a waybill needs at least one goods line")
        codes = [line.bar_code for line in self.lines]
        if len(codes) != len(set(codes)):
            findings.append("bar codes must not repeat within a waybill")
        for n, line in enumerate(self.lines, 1):
            if line.quantity <= 0:
                findings.append(f"line {n}: quantity must be greater than 0")
            if line.price < 0:
                findings.append(f"line {n}: price must not be negative")
            if not line.bar_code.strip():
                findings.append(f"line {n}: bar_code is required")
        if findings:
            raise RuleViolation("The waybill cannot be saved: " + "; ".join(findings) + ".",
                                findings=findings)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


class WaybillNotFound(NotFound):
    code = "waybill_not_found"


class RsRequestFailed(SaldoError):
    """A request that called rs.ge and rs.ge did not do it (refused, faulted, down).

    Mapped to 502 (the gateway's failure, not the caller's) with the reason; a refusal
    that the caller's data caused is 422 (:class:`RsRejectedRequest`)."""

    code = "rs_unavailable"
    title = "rs.ge did not answer"
    exposed = ("operation",)


class RsRejectedRequest(RuleViolation):
    code = "rs_refused"
    title = "rs.ge refused the request"
    exposed = ("operation",)


@dataclass(frozen=True, slots=True)
class RsCredentialsSet(DomainEvent):
    """The company's service user was set (the audit trail: its name, never the password)."""

    service_user: str


def credentials_stream(company_id: UUID) -> str:
    return f"rs-credentials-{company_id}"
