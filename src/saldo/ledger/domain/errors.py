"""The ledger's refusals, each with its stable code (the problem response's ``code``)."""

from __future__ import annotations

from saldo.kernel.errors import Conflict, Forbidden, NotFound, RuleViolation

# ---------------------------------------------------------------------- errors


class InvalidLine(RuleViolation):
    """A line that is not one positive debit or one positive credit (and other refusals
    of a transaction's lines). The code is the HTTP contract's, which calls lines
    ``entries``; so is ``too_few_entries``."""

    code = "invalid_entry"
    title = "Invalid journal line"


class InvalidAmountError(RuleViolation):
    code = "invalid_amount"
    title = "Invalid amount"


class TooFewLines(RuleViolation):
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
