"""Identity's rules: roles and what they may do, and what a valid user or company is.

No I/O here. Users, companies and memberships live in tables (identity is read on every
request); every change to them is also recorded as an event for the audit trail
(docs/decisions/0010-identity-and-tenant-isolation.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from saldo.kernel.errors import Conflict, Forbidden, NotFound, RuleViolation, SaldoError
from saldo.kernel.money import ISO_CURRENCIES


class Permission(StrEnum):
    ACCOUNTS_READ = "accounts:read"
    ACCOUNTS_WRITE = "accounts:write"
    TRANSACTIONS_READ = "transactions:read"
    TRANSACTIONS_WRITE = "transactions:write"
    TRANSACTIONS_APPROVE = "transactions:approve"
    REPORTS_FINANCIAL = "reports:financial"
    REPORTS_TAX = "reports:tax"
    PERIODS_CLOSE = "periods:close"
    #: See the company's details and who belongs to it (every member may).
    COMPANY_READ = "company:read"
    #: Add, remove and change the roles of a company's members; read its identity audit.
    ADMIN_USERS = "admin:users"
    #: Saldo-wide administration: superusers only, never granted by a company role.
    ADMIN_SYSTEM = "admin:system"
    #: Counterparties, sales invoices, purchase bills, payments (the sub-ledgers).
    DOCUMENTS_READ = "documents:read"
    DOCUMENTS_WRITE = "documents:write"
    #: Approving a document when the company requires a second person (maker-checker).
    DOCUMENTS_APPROVE = "documents:approve"
    #: Employees, salaries, payroll runs, payslips (personal data: not the tax specialist's
    #: to change).
    PAYROLL_READ = "payroll:read"
    PAYROLL_WRITE = "payroll:write"
    #: Bank accounts, statements and reconciliation.
    BANK_READ = "bank:read"
    BANK_WRITE = "bank:write"


class Role(StrEnum):
    ACCOUNTANT = "accountant"
    CHIEF_ACCOUNTANT = "chief_accountant"  # მთავარი ბუღალტერი
    TAX_SPECIALIST = "tax_specialist"
    AUDITOR = "auditor"
    ADMIN = "admin"


P = Permission
_ACCOUNTANT = frozenset({
    P.ACCOUNTS_READ, P.ACCOUNTS_WRITE, P.TRANSACTIONS_READ, P.TRANSACTIONS_WRITE,
    P.REPORTS_FINANCIAL, P.COMPANY_READ, P.DOCUMENTS_READ, P.DOCUMENTS_WRITE,
    P.PAYROLL_READ, P.PAYROLL_WRITE, P.BANK_READ, P.BANK_WRITE,
})
_READER = frozenset({
    P.ACCOUNTS_READ, P.TRANSACTIONS_READ, P.REPORTS_FINANCIAL, P.REPORTS_TAX, P.COMPANY_READ,
    P.DOCUMENTS_READ, P.PAYROLL_READ, P.BANK_READ,
})

#: The one table that says what each company role may do. The chief accountant has
#: everything an accountant has plus approval, tax reports, users and period close; the
#: auditor reads all books and changes nothing; the admin administers membership only
#: (an office manager need not see the books).
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ACCOUNTANT: _ACCOUNTANT,
    Role.CHIEF_ACCOUNTANT: _ACCOUNTANT | {
        P.TRANSACTIONS_APPROVE, P.REPORTS_TAX, P.ADMIN_USERS, P.PERIODS_CLOSE,
        P.DOCUMENTS_APPROVE,
    },
    Role.TAX_SPECIALIST: _READER,
    Role.AUDITOR: _READER,
    Role.ADMIN: frozenset({P.ADMIN_USERS, P.COMPANY_READ}),
}


def may(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


# ---------------------------------------------------------------------- errors


class NotAuthenticated(SaldoError):
    """No credentials, or credentials that are wrong, expired or revoked (HTTP 401).

    The detail never says which: an attacker learns nothing about which part failed."""

    code = "not_authenticated"
    title = "Not authenticated"


class TooManyAttempts(SaldoError):
    """Logins for this username or address are locked for ``retry_after`` seconds (429)."""

    code = "too_many_attempts"
    title = "Too many login attempts"

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            f"Too many failed logins; try again in {max(1, round(retry_after))} seconds.",
            retry_after=retry_after,
        )
        self.retry_after = retry_after


class InvalidPassword(RuleViolation):
    code = "invalid_password"
    title = "Password not accepted"


class InvalidUsername(RuleViolation):
    code = "invalid_username"
    title = "Username not accepted"


class InvalidCompany(RuleViolation):
    code = "invalid_company"
    title = "Company details not accepted"


# ---------------------------------------------------------------------- rules

#: NIST SP 800-63B §5.1.1.2 asks for at least 8; Saldo guards books, so 12.
MIN_PASSWORD_LENGTH = 12
#: Argon2 accepts any length; a cap stops megabyte passwords from costing CPU.
MAX_PASSWORD_LENGTH = 1024
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{2,63}$")


def check_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise InvalidUsername(
            "A username is 3 to 64 characters: letters, digits and . _ @ + -, "
            "starting with a letter or digit.",
            username=username,
        )
    return username


def check_password(password: str, username: str) -> None:
    """The password rules; each failure names the rule that was broken."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidPassword(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.",
            rule="min_length",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidPassword(
            f"The password must be at most {MAX_PASSWORD_LENGTH} characters long.",
            rule="max_length",
        )
    if password.strip().casefold() == username.strip().casefold():
        raise InvalidPassword("The password must not be the username.", rule="not_username")


def check_tax_id(tax_id: str) -> str:
    """Georgian identification numbers (საიდენტიფიკაციო კოდი): 9 digits for a legal
    entity, 11 digits for a natural person (individual entrepreneur)."""
    if not (tax_id.isascii() and tax_id.isdigit() and len(tax_id) in (9, 11)):
        raise InvalidCompany(
            "The tax id must be a 9-digit company code or an 11-digit personal number.",
            field="tax_id",
        )
    return tax_id


#: The charts of accounts a company may be created with; the ledger ships one CSV per name
#: (src/saldo/ledger/charts/) and loads it when the company is created.
CHARTS = frozenset({"ge-standard"})


@dataclass(frozen=True, slots=True)
class NewCompany:
    name: str
    tax_id: str
    vat_payer: bool
    base_currency: str = "GEL"
    chart_of_accounts: str = "ge-standard"
    fiscal_year_start_month: int = 1

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > 200:
            raise InvalidCompany("The company name must be 1 to 200 characters.", field="name")
        check_tax_id(self.tax_id)
        if self.base_currency not in ISO_CURRENCIES:
            raise InvalidCompany("The base currency must be an ISO 4217 code such as GEL.",
                                 field="base_currency")
        if self.chart_of_accounts not in CHARTS:
            raise InvalidCompany(f"Unknown chart of accounts; known: {sorted(CHARTS)}.",
                                 field="chart_of_accounts")
        if not 1 <= self.fiscal_year_start_month <= 12:
            raise InvalidCompany("The fiscal year start month must be 1 to 12.",
                                 field="fiscal_year_start_month")


# ---------------------------------------------------------------------- principals


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    username: str
    full_name: str
    is_superuser: bool
    is_active: bool


@dataclass(frozen=True, slots=True)
class CompanyContext:
    """The caller inside one company: who, where, in which role (checked already)."""

    user: User
    company_id: UUID
    role: Role

    def may(self, permission: Permission) -> bool:
        return may(self.role, permission)


# ---------------------------------------------------------------------- audit events

#: Identity's events. They record what happened for the audit trail; the tables hold
#: the current state that authentication reads on every request.
USER_CREATED = "UserCreated"
LOGIN_SUCCEEDED = "LoginSucceeded"
LOGIN_FAILED = "LoginFailed"
TOKEN_FAMILY_REVOKED = "TokenFamilyRevoked"  # noqa: S105 - an event name
COMPANY_CREATED = "CompanyCreated"
MEMBER_ADDED = "MemberAdded"
MEMBER_INVITED = "MemberInvited"
MEMBER_ROLE_CHANGED = "MemberRoleChanged"
MEMBER_REMOVED = "MemberRemoved"


# ---------------------------------------------------------------- membership rules

class CompanyNotFound(NotFound):
    code = "company_not_found"



class MemberNotFound(NotFound):
    code = "member_not_found"


class AlreadyMember(Conflict):
    code = "already_member"


class LastAdministrator(Conflict):
    code = "last_administrator"
    title = "A company needs an administrator"


class PermissionDenied(Forbidden):
    code = "permission_denied"


class RoleNotGrantable(Forbidden):
    """Granting a role with a permission the granter does not hold (an escalation)."""

    code = "role_not_grantable"
    title = "Role exceeds your own"


class OwnRoleUnchangeable(Forbidden):
    """A member changing their own role: another administrator must do it."""

    code = "own_role_unchangeable"
    title = "You cannot change your own role"


def check_grantable(ctx: CompanyContext, role: Role) -> None:
    """A member may only grant a role whose permissions are a subset of their own."""
    extra = ROLE_PERMISSIONS[role] - ROLE_PERMISSIONS[ctx.role]
    if extra:
        raise RoleNotGrantable(
            f"Your role {ctx.role.value} cannot grant {role.value}: it holds permissions "
            "yours does not.",
            role=role.value, your_role=ctx.role.value,
            permissions=sorted(p.value for p in extra),
        )
