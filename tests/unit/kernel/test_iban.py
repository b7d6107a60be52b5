"""saldo.kernel.iban: the one IBAN check and the one table of Georgian bank codes."""

from __future__ import annotations

import pytest

from saldo.kernel import iban


def georgian(bank: str, digits: str) -> str:
    """A Georgian IBAN with its check digits computed here (ISO 7064 MOD 97-10)."""
    number = int("".join(str(int(ch, 36)) for ch in bank + digits + "GE00"))
    return f"GE{98 - number % 97:02d}{bank}{digits}"


def test_a_valid_georgian_iban_has_no_problem_and_names_its_bank() -> None:
    value = georgian("TB", "0000000123456789")
    assert iban.problem(value) is None
    assert iban.bank(value) == iban.Bank("TB", "TBCBGE22", "TBC Bank")
    assert iban.bank_code(value) == "TB"


def test_normalise_removes_blanks_and_upper_cases() -> None:
    value = georgian("BG", "0000000000000001")
    spaced = " ".join(value[i:i + 4] for i in range(0, len(value), 4)).lower()
    assert iban.normalise(spaced) == value


@pytest.mark.parametrize("code", ["FG", "TR", "NB", "MB", "BC", "PV"])
def test_every_code_of_the_reference_list_is_known(code: str) -> None:
    found = iban.bank(georgian(code, "1234567890123456"))
    assert found is not None
    assert found.code == code
    assert found.bic.endswith("GE22")


def test_an_unknown_bank_code_has_a_code_but_no_bank() -> None:
    value = georgian("QQ", "1234567890123456")
    assert iban.problem(value) is None
    assert iban.bank_code(value) == "QQ"
    assert iban.bank(value) is None


def test_wrong_check_digits_and_foreign_ibans() -> None:
    value = georgian("TB", "0000000123456789")
    broken = value[:2] + f"{(int(value[2:4]) + 1) % 100:02d}" + value[4:]
    assert "check digits" in (iban.problem(broken) or "")
    assert iban.bank("DE89370400440532013000") is None
    assert iban.problem("DE89370400440532013000") is None
    assert "Georgian" in (iban.problem("GE29NB0000000101904917X") or "")
