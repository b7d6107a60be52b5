"""The exchange's rules without I/O: backoff, the buyer's decision from rs.ge's codes,
matching incoming e-invoices to bills, waybill checks, diffgrams, the cipher, settings."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
from lxml import etree

from saldo.kernel.errors import RuleViolation
from saldo.platform.settings import Settings, SettingsError
from saldo.rsge import domain as d
from saldo.rsge.crypto import Cipher, CredentialsUnreadable
from saldo.rsge.sandbox import _diffgram
from saldo.rsge.service import parse_incoming
from saldo.rsge.settings import credentials_key, load_rs_settings
from saldo.rsge.soap import diffgram_rows


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(7)
    for attempt, ceiling in ((1, 5), (2, 10), (3, 20), (4, 40), (10, 1800), (30, 1800)):
        wait = d.backoff(attempt, rng=rng).total_seconds()
        assert ceiling / 2 <= wait <= ceiling, (attempt, wait)


def test_dead_letter_after_max_attempts_or_at_once_when_not_retryable() -> None:
    item = d.EInvoice(uuid4(), attempts=2)
    now = datetime(2026, 12, 7, 10, tzinfo=UTC)
    assert item.fail("x", now, retryable=True, max_attempts=3).next_attempt_at is None
    assert item.fail("x", now, retryable=True, max_attempts=4).next_attempt_at is not None
    assert item.fail("x", now, retryable=False).next_attempt_at is None
    assert len(item.fail("e" * 900, now, retryable=True).error) == 500


@pytest.mark.parametrize(("code", "decision"), [
    (1, None), (5, None), (3, None), (2, d.EInvoiceStatus.CONFIRMED),
    (8, d.EInvoiceStatus.CONFIRMED), (0, d.EInvoiceStatus.REJECTED)])
def test_buyer_decision_from_rs_ge_status(code: int, decision: d.EInvoiceStatus | None) -> None:
    assert d.buyer_decision(code) == decision


def test_unknown_status_is_an_error_with_the_code() -> None:
    with pytest.raises(d.UnknownStatus) as caught:
        d.buyer_decision(42)
    assert caught.value.data == {"rs_status": 42}


def _incoming(number: str = "7001", total: str = "590.00") -> d.IncomingInvoice:
    return d.IncomingInvoice(1, "ეა-07", number, date(2026, 12, 2), "404987654", "S",
                             Decimal(total), Decimal("90.00"), 1)


def test_match_by_tax_id_number_and_amount() -> None:
    bill = d.BillCandidate(uuid4(), "404987654", "ეა-07 7001", Decimal("590.00"))
    other_supplier = d.BillCandidate(uuid4(), "205123456", "ეა-07 7001", Decimal("590.00"))
    assert d.match_bill(_incoming(), [other_supplier, bill]) == (bill, "exact")
    # The number typed without the series and with a dash still matches exactly.
    typed = d.BillCandidate(uuid4(), "404987654", "70-01", Decimal("590.00"))
    assert d.match_bill(_incoming(), [typed]) == (typed, "exact")
    # One bill of the supplier with that total and another number: by amount.
    assert d.match_bill(_incoming("9"), [bill]) == (bill, "amount")
    # 590.00 vs 590.01: no match.
    assert d.match_bill(_incoming(total="590.01"), [bill]) == (None, "unmatched")
    twin = d.BillCandidate(uuid4(), "404987654", "Z", Decimal("590.00"))
    assert d.match_bill(_incoming("9"), [bill, twin]) == (None, "ambiguous")


def test_waybill_rules() -> None:
    line = d.WaybillLine("Timber", 99, "მ³", Decimal(4), Decimal("12.345"), "T-1")
    assert line.amount == Decimal("49.38")  # 49.380 half-up
    good = d.WaybillDraft(None, 2, "205123456", "B", "A", "B", 1, "01024012345", "D",
                          "AA-123-BB", (line,))
    good.check()
    bad = d.WaybillDraft(None, 9, "123", "B", "A", "B", 1, "", "D", "", (line, line))
    with pytest.raises(RuleViolation) as caught:
        bad.check()
    findings = caught.value.data["findings"]
    assert "type must be one of 1-6, not 9" in findings
    assert "buyer_tax_id must have 9 or 11 digits" in findings
    assert "bar codes must not repeat within a waybill" in findings


def test_diffgram_rows_and_a_bad_row_is_a_finding() -> None:
    xml = _diffgram("get_buyer_invoices", "invoices", [
        {"ID": 5, "F_SERIES": "ეა-07", "F_NUMBER": 7001, "OPERATION_DT": "2026-12-02T00:00:00",
         "SA_IDENT_NO": "404987654", "ORG_NAME": "S", "FULL_AMOUNT": "590.00",
         "DRG_AMOUNT": "90.00", "STATUS": 1},
        {"ID": "x", "OPERATION_DT": "garbage"}])
    rows = diffgram_rows(etree.fromstring(xml))
    assert rows[0]["F_NUMBER"] == "7001"
    invoices, findings = parse_incoming(rows)
    assert [i.total for i in invoices] == [Decimal("590.00")]
    assert findings == ["row 2: unreadable (ValueError: invalid literal for int() with "
                        "base 10: 'x')"]
    assert diffgram_rows(etree.fromstring("<r/>")) == []


def test_cipher_binds_the_company() -> None:
    cipher = Cipher(b"k" * 32)
    a, b = uuid4(), uuid4()
    blob = cipher.encrypt(a, "secret-password")
    assert b"secret-password" not in blob
    assert cipher.decrypt(a, blob) == "secret-password"
    with pytest.raises(CredentialsUnreadable):
        cipher.decrypt(b, blob)  # copied into another company's row
    assert "secret" not in repr(d.Credentials("su", "secret-password"))


def test_production_refuses_to_start_without_the_key(tmp_path: Path) -> None:
    production = Settings(env="production", secret_key="x" * 40, data_dir=tmp_path)
    with pytest.raises(SettingsError, match="SALDO_RS_CREDENTIALS_KEY"):
        credentials_key(production, load_rs_settings())
    with pytest.raises(SettingsError, match="32 random bytes"):
        credentials_key(production, load_rs_settings(credentials_key="short"))
    development = Settings(data_dir=tmp_path)
    key = credentials_key(development, load_rs_settings())
    assert len(key) == 32
    assert credentials_key(development, load_rs_settings()) == key  # made once, reused
    assert (tmp_path / "rs_credentials_key").stat().st_mode & 0o077 == 0
    with pytest.raises(SettingsError, match="SALDO_RS_URL"):
        load_rs_settings(url="ftp://x")


def test_now_in_tbilisi_is_naive_utc_plus_four() -> None:
    from saldo.rsge.soap import tbilisi_now

    now = tbilisi_now()
    assert now.tzinfo is None
    utc = datetime.now(UTC).replace(tzinfo=None)
    assert abs((now - utc) - timedelta(hours=4)) < timedelta(seconds=5)
