"""The journal CSV reader: transactions with the line of their first row, and every
problem as a finding with its line number (the header is line 1), never an exception."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from saldo.ledger.domain import ContentInput, Finding
from saldo.ledger.imports import HEADER, parse_journal, read_journal

HEAD = ",".join(HEADER)


def csv(*rows: str) -> str:
    return "\n".join((HEAD, *rows)) + "\n"


def codes(findings: list[Finding]) -> list[tuple[int, str]]:
    return [(f.row, f.code) for f in findings]


def only(text: str | bytes) -> list[tuple[int, ContentInput]]:
    transactions, findings = parse_journal(text)
    assert findings == []
    return transactions


SALE = ("S-1,2025-01-15,Sale of goods,INV-1,,,1410,1180.00,,Customer",
        "S-1,,,,,,6110,,1000.00,Revenue",
        "S-1,,,,,,3330,,180.00,Output VAT 18%")


def test_consecutive_rows_form_one_transaction_with_the_first_rows_fields() -> None:
    [(row, sale), (row2, rent)] = only(csv(*SALE, "R-1,2025-01-31,Rent,,,,7420,500,,",
                                           "R-1,2025-01-31,,,,,1210,,500,"))
    assert (row, row2) == (2, 5)
    assert sale.date == date(2025, 1, 15)
    assert (sale.description, sale.reference, sale.currency, sale.exchange_rate) == (
        "Sale of goods", "INV-1", None, None)
    assert [(e.account_code, e.debit, e.credit, e.description) for e in sale.lines] == [
        ("1410", "1180.00", None, "Customer"), ("6110", None, "1000.00", "Revenue"),
        ("3330", None, "180.00", "Output VAT 18%")]
    assert rent.reference is None  # an empty column is no reference, not ""
    assert [e.account_code for e in rent.lines] == ["7420", "1210"]


def test_foreign_currency_fields_and_any_column_order() -> None:
    order = ["account", "debit", "credit", "transaction", "date", "description", "reference",
             "currency", "exchange_rate", "line_description"]
    text = "\n".join([",".join(order),
                      "1220,5000.00,,X,2025-06-18,Export,EXP-1,USD,2.70,",
                      "6110,,5000.00,X,,,,,,"])
    [(_, tx)] = only(text)
    assert (tx.currency, tx.exchange_rate, tx.reference) == ("USD", "2.70", "EXP-1")
    assert tx.lines[0].debit == "5000.00"


def test_georgian_text_round_trips_with_and_without_a_byte_order_mark() -> None:
    description = "საქონლის რეალიზაცია — შპს „თბილისი ტრეიდი“"
    line = "გადასახდელი დღგ 18%"
    text = csv(f'G-1,2025-03-01,"{description}",ანგ-1,,,1410,118.00,,მყიდველი',
               "G-1,,,,,,6110,,100.00,შემოსავალი", f"G-1,,,,,,3330,,18.00,{line}")
    plain = only(text.encode("utf-8"))
    with_bom = only(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert plain == with_bom == only(text)
    [(_, tx)] = plain
    assert tx.description == description
    assert tx.reference == "ანგ-1"
    assert [e.description for e in tx.lines] == ["მყიდველი", "შემოსავალი", line]


def test_crlf_line_endings_blank_lines_and_quoted_newlines_keep_physical_line_numbers() -> None:
    text = "\r\n".join([HEAD, "A,2025-01-02,\"two\nlines\",,,,1210,10,,",  # lines 2-3
                        "A,,,,,,5150,,10,",                                  # line 4
                        "",                                                   # line 5
                        "B,2025-01-03,b,,,,1210,5,,",                         # line 6
                        "B,,,,,,5150,,5,"]) + "\r\n"
    [(a_row, a), (b_row, _)] = only(text)
    assert (a_row, b_row) == (2, 6)
    assert a.description == "two\nlines"
    _, findings = parse_journal(text.replace("B,2025-01-03", "B,2025-01-32"))
    assert codes(findings) == [(6, "invalid_date")]


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty_file"),
    (b"\xef\xbb\xbf", "empty_file"),
    (b" \n\n", "empty_file"),
    (b"date,amount\n2025-01-01,5\n", "invalid_header"),
    (HEAD.replace("account", "acount").encode(), "invalid_header"),
    ((HEAD + ",debit").encode(), "invalid_header"),
])
def test_empty_files_and_wrong_headers_are_a_finding_on_line_1(data: bytes, code: str) -> None:
    transactions, findings = parse_journal(data)
    assert transactions == []
    assert codes(findings) == [(1, code)]


def test_the_header_finding_names_what_is_wrong_and_spots_semicolons() -> None:
    _, [missing] = parse_journal(HEAD.replace("account", "acount") + "\n")
    assert "missing account" in missing.message
    assert "'acount'" in missing.message
    _, [semicolons] = parse_journal(HEAD.replace(",", ";") + "\n")
    assert semicolons.code == "invalid_header"
    assert "not semicolons" in semicolons.message


def test_a_header_without_rows_is_a_finding() -> None:
    assert codes(parse_journal(HEAD + "\n")[1]) == [(2, "no_transactions")]


def test_bytes_that_are_not_utf8_are_a_finding_on_their_line() -> None:
    data = csv(*SALE).encode("utf-8").replace(b"Revenue", b"Revenu\xe9")  # Latin-1 é
    transactions, findings = parse_journal(data)
    assert transactions == []
    assert codes(findings) == [(3, "invalid_encoding")]


@pytest.mark.parametrize("amount", ['"1,000.00"', "1e3", "NaN", "-5.00", "12 000", "₾5",
                                    "5.", ".5", "Infinity", "0x10"])
def test_amounts_must_be_plain_positive_decimals(amount: str) -> None:
    transactions, findings = parse_journal(csv(*SALE, f"B,2025-01-02,x,,,,1210,{amount},,",
                                               "B,,,,,,5150,,5,"))
    assert [row for row, _ in transactions] == [2]  # the good transaction is still read
    assert codes(findings) == [(5, "invalid_amount")]
    if amount.startswith("-"):
        assert "positive" in findings[0].message


def test_each_bad_row_is_named_and_its_transaction_left_out() -> None:
    text = csv(
        "A,2025-02-30,bad date,,,,1210,10,,",        # 2: no 30 February
        "A,,,,,,5150,,10,",                           # 3
        "B,01.03.2025,dotted date,,,,1210,10,,",      # 4
        "B,,,,,,,,10,",                               # 5: blank account
        "C,2025-03-01,both sides,,,,1210,10,10,",     # 6
        "C,,,,,,5150,,,",                             # 7: neither side
        "D,2025-03-02,conflict,,,,1210,10,,",         # 8
        "D,2025-03-03,,,,,5150,,10,",                 # 9: another date on a later row
        ",2025-03-04,no key,,,,1210,10,,",            # 10
        "E,2025-03-05,short row,,,,1210,10",          # 11: nine columns
        "E,2025-03-05,long row,,,,5150,,10,,extra",   # 12: eleven columns
        "F,,no date,,,,1210,10,,",                    # 13
        "F,,,,,,5150,,10,",                           # 14
        "G,2025-03-06,rate,,USD,2,70,1220,10,,",      # 15: unquoted decimal comma
        *SALE,                                        # 16-18: fine
    )
    transactions, findings = parse_journal(text)
    assert [row for row, _ in transactions] == [16]
    assert codes(findings) == [
        (2, "invalid_date"), (4, "invalid_date"), (5, "missing_account"),
        (6, "invalid_entry"), (7, "invalid_entry"), (9, "conflicting_value"),
        (10, "missing_transaction"), (11, "missing_columns"), (12, "extra_columns"),
        (13, "missing_date"), (15, "extra_columns")]
    conflict = findings[5]
    assert "'2025-03-03'" in conflict.message
    assert "line 8" in conflict.message


def test_a_transaction_split_across_other_rows_is_a_finding_where_it_reappears() -> None:
    transactions, findings = parse_journal(csv(
        "A,2025-01-02,first,,,,1210,10,,",
        "B,2025-01-02,other,,,,1210,5,,",
        "B,,,,,,5150,,5,",
        "A,,,,,,5150,,10,",                     # line 5: A again
        "A,,,,,,5150,,10,"))                    # still the split part: one finding
    assert codes(findings) == [(5, "split_transaction")]
    assert "line 2" in findings[0].message
    assert [row for row, _ in transactions] == [3]  # neither part of A is read


def test_broken_quoting_is_a_finding_not_an_exception() -> None:
    transactions, findings = parse_journal(csv('A,2025-01-02,"open quote,,,,1210,10,,'))
    assert transactions == []
    assert [f.code for f in findings] == ["invalid_csv"]
    transactions, findings = parse_journal(csv(*SALE, "A,2025-01-02,nul\0byte,,,,1210,10,,"))
    assert transactions == []
    assert codes(findings) == [(5, "invalid_csv")]  # PostgreSQL text cannot hold NUL
    transactions, findings = parse_journal(csv("A,2025-01-02,\ud800,,,,1210,10,,"))
    assert codes(findings) == [(2, "invalid_encoding")]


def test_long_texts_are_findings() -> None:
    _, findings = parse_journal(csv(f"A,2025-01-02,x,{'r' * 101},,,1210,10,,",
                                    "A,,,,,,5150,,10,"))
    assert codes(findings) == [(2, "invalid_entry")]
    assert "reference" in findings[0].message


def test_read_journal_reads_the_file_as_bytes(tmp_path: Path) -> None:
    path = tmp_path / "journal.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv(*SALE).encode("utf-8"))
    transactions, findings = read_journal(str(path))
    assert findings == []
    assert [row for row, _ in transactions] == [2]
