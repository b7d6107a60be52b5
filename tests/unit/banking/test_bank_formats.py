"""Reading statement files: each format written by the tests (bank_files), the format
detected from the bytes, bad lines reported with their rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from bank_files import (
    CUSTOMER_IBAN,
    OUR_IBAN,
    Entry,
    bog_csv,
    bog_xlsx,
    camt053,
    mt940,
    tbc_csv,
    tbc_xlsx,
)

from saldo.banking import formats
from saldo.banking.domain import NotAStatement, UnsafeXml, dedup_keys

#: A customer pays INV-2026-0017 (1,180.00 = 1,000.00 + 18% VAT), the bank takes a 2.50
#: commission, rent of 850.00 goes out: 1,000.00 + 1,180.00 - 2.50 - 850.00 = 1,327.50.
ENTRIES = [
    Entry("1180.00", date(2026, 3, 5), "Payment for INV-2026-0017", "B-1", "E2E-17",
          "Kolkheti Foods LLC", CUSTOMER_IBAN, "204567890"),
    Entry("-2.50", date(2026, 3, 5), "Commission for transfer", "B-2"),
    Entry("-850.00", date(2026, 3, 6), "Office rent March", "B-3", "", "Vake Estates",
          "", "405000111"),
]


def amounts(parsed: formats.ParsedStatement) -> list[Decimal]:
    return [line.amount for line in parsed.lines]


@pytest.mark.parametrize("version", ["02", "03", "04", "05", "06", "07", "08"])
def test_camt053_every_version(version: str) -> None:
    parsed = formats.read_statement(camt053(ENTRIES, version=version))
    assert parsed.format == f"camt.053.001.{version}"
    assert (parsed.iban, parsed.currency) == (OUR_IBAN, "GEL")
    assert amounts(parsed) == [Decimal("1180.00"), Decimal("-2.50"), Decimal("-850.00")]
    assert parsed.opening_balance == Decimal("1000.00")
    assert parsed.closing_balance == Decimal("1327.50")
    first = parsed.lines[0]
    assert (first.counterparty_name, first.counterparty_iban, first.counterparty_tax_id) == (
        "Kolkheti Foods LLC", CUSTOMER_IBAN, "204567890")
    assert (first.bank_id, first.reference) == ("B-1", "E2E-17")
    assert first.description == "Payment for INV-2026-0017"
    # Money out: the creditor is the other party.
    assert parsed.lines[2].counterparty_tax_id == "405000111"
    assert not parsed.findings


@pytest.mark.parametrize("envelope", [True, False])
def test_mt940_with_and_without_envelope(envelope: bool) -> None:
    parsed = formats.read_statement(mt940(ENTRIES, envelope=envelope))
    assert parsed.format == "mt940"
    assert parsed.iban == OUR_IBAN
    assert amounts(parsed) == [Decimal("1180.00"), Decimal("-2.50"), Decimal("-850.00")]
    assert parsed.opening_balance == Decimal("1000.00")
    assert parsed.closing_balance == Decimal("1327.50")
    assert parsed.lines[0].bank_id == "B-1"
    assert parsed.lines[0].reference == "E2E-17"
    assert parsed.lines[0].counterparty_iban == CUSTOMER_IBAN
    assert parsed.lines[0].counterparty_name == "Kolkheti Foods LLC"
    assert parsed.lines[1].booking_date == date(2026, 3, 5)
    assert not parsed.findings


def test_tbc_csv_and_xlsx() -> None:
    for content, name in ((tbc_csv(ENTRIES), "tbc.csv"), (tbc_xlsx(ENTRIES), "tbc.xlsx")):
        parsed = formats.read_statement(content)
        assert parsed.format == name
        assert amounts(parsed) == [Decimal("1180.00"), Decimal("-2.50"), Decimal("-850.00")]
        # From the running balance: 1,000.00 + 1,180.00 = 2,180.00 after the first line.
        assert parsed.opening_balance == Decimal("1000.00")
        assert parsed.closing_balance == Decimal("1327.50")
        assert parsed.lines[0].booking_date == date(2026, 3, 5)
        assert parsed.lines[0].counterparty_tax_id == "204567890"
        assert parsed.lines[0].bank_id == "B-1"
        assert not parsed.findings


def test_bog_business_xlsx() -> None:
    parsed = formats.read_statement(bog_xlsx(ENTRIES))
    assert parsed.format == "bog.xlsx"
    assert (parsed.iban, parsed.currency) == (OUR_IBAN, "GEL")
    assert amounts(parsed) == [Decimal("1180.00"), Decimal("-2.50"), Decimal("-850.00")]
    assert parsed.lines[0].booking_date == date(2026, 3, 5)  # Excel serial 46086
    assert parsed.lines[0].counterparty_name == "Kolkheti Foods LLC"
    assert parsed.lines[0].counterparty_tax_id == "204567890"
    assert parsed.lines[2].counterparty_tax_id == "405000111"
    assert parsed.lines[1].description == "Commission for transfer"


def test_bog_personal_csv() -> None:
    parsed = formats.read_statement(bog_csv(ENTRIES))
    assert parsed.format == "bog.csv"
    assert amounts(parsed) == [Decimal("1180.00"), Decimal("-2.50"), Decimal("-850.00")]


def test_not_a_statement() -> None:
    for content in (b"hello world", b"%PDF-1.7 ...", b"PK\x03\x04garbage",
                    b'<?xml version="1.0"?><html><body/></html>', b""):
        with pytest.raises(NotAStatement):
            formats.read_statement(content)


def test_binary_files_with_stray_line_ends_are_not_statements() -> None:
    """A PNG decodes as Latin-ish UTF-8 noise with a lone CR inside "fields": the csv
    module once raised on it, and the upload answered 500 (found by the fuzz test)."""
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08"
           b"\x00\x00\x00\x00:~\x9bU\x00\x00\x00\nIDATx\x9cc`\x00\x00\x00\x02\x00\x01H"
           b"\xaf\xa4q\x00\x00\x00\x00IEND\xaeB`\x82")
    for content in (png, b"a,b\rc,\"d\re\"\x00,f\n", b"\x00\x00,\r;\n"):
        with pytest.raises(NotAStatement):
            formats.read_statement(content)


def test_billion_laughs_and_xxe_are_refused_unexpanded() -> None:
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
              b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
              b"<Document>&lol3;</Document>")
    xxe = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b"<Document>&x;</Document>")
    for content in (laughs, xxe):
        with pytest.raises(UnsafeXml):
            formats.read_statement(content)


def test_truncated_xml_is_a_finding() -> None:
    content = camt053(ENTRIES)
    parsed = formats.read_statement(content[: len(content) // 2])
    assert parsed.refused
    assert parsed.findings[0].code == "malformed_xml"


def test_bad_lines_are_all_listed_with_rows() -> None:
    text = tbc_csv(ENTRIES).decode()
    text = text.replace("05/03/2026,Commission", "2026-13-45,Commission")
    text = text.replace("850.00", "85O.00", 1)
    parsed = formats.read_statement(text.encode())
    # Rows 1-2 are the headers; the entries are rows 3, 4 and 5.
    assert [(f.row, f.code) for f in parsed.findings] == [
        (4, "malformed_date"), (5, "malformed_amount")]
    mt = mt940(ENTRIES, envelope=False).decode().replace("C1180,00", "C11X0,00")
    parsed = formats.read_statement(mt.encode())
    assert [(f.row, f.code) for f in parsed.findings] == [(5, "malformed_line")]


def test_dedup_keys_count_equal_lines() -> None:
    fee = Entry("-1.00", date(2026, 3, 5), "Commission")
    parsed = formats.read_statement(bog_csv([fee, fee]))
    keys = dedup_keys(parsed.lines)
    assert keys == ["2026-03-05|-1.00|Commission|1", "2026-03-05|-1.00|Commission|2"]
