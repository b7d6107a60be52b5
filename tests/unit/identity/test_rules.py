"""Identity's pure rules: the role table, password, username and company rules."""

from __future__ import annotations

import pytest

from saldo.identity.domain import (
    ROLE_PERMISSIONS,
    InvalidCompany,
    InvalidPassword,
    NewCompany,
    Permission,
    Role,
    check_password,
    check_tax_id,
)

# Written out from the issue and api/v1.md, not copied from the code.
A, C, T, U, D = (Role.ACCOUNTANT, Role.CHIEF_ACCOUNTANT, Role.TAX_SPECIALIST, Role.AUDITOR,
                 Role.ADMIN)
EXPECTED: dict[str, set[Role]] = {
    "accounts:read": {A, C, T, U},
    "accounts:write": {A, C},
    "transactions:read": {A, C, T, U},
    "transactions:write": {A, C},
    "transactions:approve": {C},
    "reports:financial": {A, C, T, U},
    "reports:tax": {C, T, U},
    "periods:close": {C},
    "company:read": {A, C, T, U, D},
    "admin:users": {C, D},
    "admin:system": set(),  # superusers only, never through a company role
    # The sub-ledgers (decision 0014): accountants keep them, the chief approves documents
    # when the company asks for a second person, readers read.
    "documents:read": {A, C, T, U},
    "documents:write": {A, C},
    "documents:approve": {C},
    "payroll:read": {A, C, T, U},
    "payroll:write": {A, C},
    "bank:read": {A, C, T, U},
    "bank:write": {A, C},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_role_permission_matrix(role: Role, permission: Permission) -> None:
    assert (permission in ROLE_PERMISSIONS[role]) == (role in EXPECTED[permission.value])


def test_every_permission_of_the_issue_exists() -> None:
    assert {p.value for p in Permission} == set(EXPECTED)


def test_the_chief_accountant_has_everything_an_accountant_has() -> None:
    assert ROLE_PERMISSIONS[A] < ROLE_PERMISSIONS[C]


def test_the_auditor_only_reads() -> None:
    assert not any(p.value.endswith((":write", ":approve", ":close")) or p.value.startswith(
        "admin:") for p in ROLE_PERMISSIONS[U])


@pytest.mark.parametrize(("password", "rule"), [
    ("short", "min_length"), ("x" * 1025, "max_length"), ("Nino.Beridze", "not_username"),
    ("  nino.beridze ", "not_username")])
def test_password_rules(password: str, rule: str) -> None:
    with pytest.raises(InvalidPassword) as caught:
        check_password(password, "nino.beridze")
    assert caught.value.data["rule"] == rule


def test_a_good_password_passes() -> None:
    check_password("correct horse battery staple", "nino")


@pytest.mark.parametrize("tax_id", ["204567891", "01024056789"])
def test_valid_tax_ids(tax_id: str) -> None:
    assert check_tax_id(tax_id) == tax_id


@pytest.mark.parametrize("tax_id", ["", "20456789", "2045678910", "204 56789", "٢٠٤٥٦٧٨٩١",
                                    "204567891\n"])
def test_invalid_tax_ids(tax_id: str) -> None:
    with pytest.raises(InvalidCompany):
        check_tax_id(tax_id)


@pytest.mark.parametrize("change", [{"name": " "}, {"base_currency": "gel"},
                                    {"chart_of_accounts": "us-gaap"},
                                    {"fiscal_year_start_month": 13}])
def test_company_rules(change: dict[str, object]) -> None:
    values: dict[str, object] = {"name": "Rustavi Steel", "tax_id": "204567891",
                                 "vat_payer": True, **change}
    with pytest.raises(InvalidCompany):
        NewCompany(**values)  # type: ignore[arg-type]
