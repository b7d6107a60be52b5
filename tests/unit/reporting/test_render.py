"""Renderers read back by the tools a user would open them with: the csv module for CSV,
openpyxl for XLSX (numbers, not text), pypdf for the PDF's text layer (Georgian intact)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.worksheet.worksheet import Worksheet
from pypdf import PdfReader

from saldo.reporting.document import Column, Label, ReportDocument, Row
from saldo.reporting.render import (
    EXACT_DOUBLE_DIGITS,
    MEDIA_TYPES,
    file_name,
    format_amount,
    plain_amount,
    render,
    xlsx_number,
)

TITLE = Label("Turnover trial balance", "ბრუნვითი უწყისი")
COMPANY = "შპს ალფა"  # Alpha LLC
TAX_ID = "204567890"
BIG = Decimal("999999999999.99")

COLUMNS = (
    Column("code", Label("Code", "კოდი")),
    Column("name", Label("Account", "ანგარიში")),
    Column("posted", Label("Posted", "გატარდა"), "date"),
    Column("count", Label("Lines", "სტრიქონები"), "int"),
    Column("debit", Label("Debit", "დებეტი"), "money"),
    Column("credit", Label("Credit", "კრედიტი"), "money"),
)


def row(
    code: str, en: str, ka: str, debit: Decimal | None, credit: Decimal | None, **kw: object
) -> Row:
    cells = {"code": code, "name": Label(en, ka), "debit": debit, "credit": credit}
    return Row(cells, **kw)  # type: ignore[arg-type]


# A worked example: GEL 1,000 of sales plus 18% VAT received in cash (1,180.00), a
# correction with a negative figure, and one very large balance.
ROWS = (
    row("1000", "Current assets", "მიმდინარე აქტივები", None, None, style="heading"),
    Row(
        {
            "code": "1110",
            "name": Label("Cash on hand, GEL", "ნაღდი ფული ეროვნულ ვალუტაში"),
            "posted": date(2025, 12, 31),
            "count": 3,
            "debit": Decimal("1180.00"),
            "credit": None,
        },
        level=1,
    ),
    row("1410", "Trade receivables", "მოთხოვნები მიწოდებიდან", Decimal("-1180.50"), None, level=1),
    row("2150", "Machinery", "მანქანა-დანადგარები", BIG, Decimal("1180"), level=1),
    row("3330", "Output VAT payable", "გადასახდელი დღგ", None, Decimal("180.00"), level=1),
    row(
        "6110", 'Sales, "net", GEL', "შემოსავალი\nრეალიზაციიდან", None, Decimal("1000.00"), level=1
    ),
    row("", "Subtotal", "შუალედური ჯამი", Decimal("-0.00"), Decimal("0"), style="subtotal"),
    row("", "Total", "სულ", Decimal("1180.00"), Decimal("1180.00"), style="total"),
)


def document(rows: tuple[Row, ...] = ROWS, **kw: object) -> ReportDocument:
    fields: dict[str, object] = {
        "name": "trial-balance",
        "title": TITLE,
        "company_name": COMPANY,
        "tax_id": TAX_ID,
        "period": Label("2025-01-01 – 2025-12-31", "2025-01-01 – 2025-12-31"),
        "columns": COLUMNS,
        "rows": rows,
        "generated_at": datetime(2026, 1, 5, 10, 30, tzinfo=UTC),
        "notes": (Label("Zero rows are hidden.", "ნულოვანი სტრიქონები დამალულია."),),
    }
    fields.update(kw)
    return ReportDocument(**fields)  # type: ignore[arg-type]


# ---------------------------------------------------------------- names and amounts


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_file_name_and_media_type(fmt: str) -> None:
    _, media_type, name = render(document(), fmt, "en")  # type: ignore[arg-type]
    assert name == f"trial-balance-2025-12-31.{fmt}"
    assert media_type == MEDIA_TYPES[fmt]


def test_file_name_without_a_date_in_the_period() -> None:
    no_date = Label("All time", "მთელი პერიოდი")
    assert file_name(document(period=no_date), "csv") == "trial-balance-2026-01-05.csv"
    plain = document(period=no_date, generated_at=None, name="Balance Sheet/../x")
    assert file_name(plain, "pdf") == "balance-sheet-x.pdf"


def test_an_unknown_format_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="docx"):
        render(document(), "docx", "en")  # type: ignore[arg-type]


def test_amount_text_for_people_and_machines() -> None:
    assert format_amount(Decimal("1180")) == "1,180.00"
    assert format_amount(Decimal("-1180.5")) == "-1,180.50"
    assert format_amount(BIG) == "999,999,999,999.99"
    assert format_amount(Decimal("-0.00")) == "0.00"
    assert format_amount(Decimal("0.125")) == "0.125"  # never rounded away
    assert format_amount(None) == ""
    assert format_amount(Decimal("71640"), lang="ka") == "71\xa0640,00"
    assert format_amount(Decimal("-0.5"), lang="ka") == "-0,50"
    assert format_amount(Decimal("0.125"), lang="ka") == "0,125"
    assert plain_amount(Decimal("1180")) == "1180.00"
    assert plain_amount(Decimal("-1180.5")) == "-1180.50"
    assert plain_amount(Decimal("1E+3")) == "1000.00"
    assert plain_amount(Decimal("5"), places=0) == "5"
    assert plain_amount(None) == ""


# ---------------------------------------------------------------- CSV


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    text = body.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_is_a_header_and_one_line_per_row_with_plain_amounts() -> None:
    body, _, _ = render(document(), "csv", "ka")
    lines = read_csv(body)
    assert lines[0] == ["კოდი", "ანგარიში", "გატარდა", "სტრიქონები", "დებეტი", "კრედიტი"]
    assert len(lines) == 1 + len(ROWS)  # no title rows, no notes
    assert lines[1] == ["1000", "მიმდინარე აქტივები", "", "", "", ""]
    assert lines[2] == ["1110", "ნაღდი ფული ეროვნულ ვალუტაში", "2025-12-31", "3", "1180.00", ""]
    assert lines[3][4] == "-1180.50"
    assert lines[4][4:] == ["999999999999.99", "1180.00"]
    assert lines[6][1] == "შემოსავალი\nრეალიზაციიდან"  # quoted, survives the round trip
    assert lines[7][4:] == ["0.00", "0.00"]
    assert lines[8] == ["", "სულ", "", "", "1180.00", "1180.00"]


def test_csv_labels_follow_the_language_and_quote_as_rfc_4180() -> None:
    body, _, _ = render(document(), "csv", "en")
    lines = read_csv(body)
    assert lines[0] == ["Code", "Account", "Posted", "Lines", "Debit", "Credit"]
    assert lines[6][1] == 'Sales, "net", GEL'
    assert b'"Sales, ""net"", GEL"' in body


def test_csv_defuses_text_that_a_spreadsheet_would_run_as_a_formula() -> None:
    evil = row("=1+1", "@SUM(A1)", "=HYPERLINK()", Decimal("-5.00"), None)
    lines = read_csv(render(document(rows=(evil,)), "csv", "ka")[0])
    assert lines[1][:2] == ["'=1+1", "'=HYPERLINK()"]
    assert lines[1][4] == "-5.00"  # an amount is never text, never prefixed


# ---------------------------------------------------------------- XLSX


def read_xlsx(body: bytes) -> Worksheet:
    ws = openpyxl.load_workbook(io.BytesIO(body)).active
    assert isinstance(ws, Worksheet)
    return ws


def test_xlsx_amounts_are_numbers_with_a_number_format() -> None:
    ws = read_xlsx(render(document(), "xlsx", "ka")[0])
    assert ws["A1"].value == "ბრუნვითი უწყისი"
    assert ws["A2"].value == f"{COMPANY} · საიდენტიფიკაციო კოდი: {TAX_ID}"
    assert "2025-01-01 – 2025-12-31" in ws["A3"].value
    header = [c.value for c in ws[5]]
    assert header == ["კოდი", "ანგარიში", "გატარდა", "სტრიქონები", "დებეტი", "კრედიტი"]
    assert all(c.font.bold for c in ws[5])
    assert ws.freeze_panes == "A6"

    expected = {
        ("E", 7): Decimal("1180.00"),
        ("E", 8): Decimal("-1180.50"),
        ("E", 9): BIG,
        ("F", 9): Decimal("1180"),
        ("F", 11): Decimal("1000.00"),
        ("E", 12): Decimal("0"),
        ("E", 13): Decimal("1180.00"),
    }
    for (col, line), amount in expected.items():
        cell = ws[f"{col}{line}"]
        assert cell.data_type == "n", (col, line)
        assert isinstance(cell.value, int | float)
        assert Decimal(repr(cell.value)) == amount
        assert cell.number_format == "#,##0.00"
    assert ws["F7"].value is None  # None stays blank, not 0
    assert ws["D7"].value == 3
    assert ws["D7"].data_type == "n"
    posted = ws["C7"].value
    assert isinstance(posted, datetime)
    assert posted.date() == date(2025, 12, 31)
    assert ws["C7"].number_format == "yyyy-mm-dd"


def test_xlsx_styles_levels_and_text_that_looks_like_a_formula() -> None:
    evil = row("=1+1", "=cmd", "=cmd", None, None)
    ws = read_xlsx(render(document(rows=(*ROWS, evil)), "xlsx", "en")[0])
    assert ws["B6"].value == "Current assets"
    assert ws["B6"].font.bold
    assert not ws["B7"].font.bold
    assert ws["A7"].alignment.indent == 1
    assert ws["B12"].font.bold
    assert ws["B13"].font.bold
    assert ws["E13"].border.top.style == "thin"
    assert ws["A14"].value == "=1+1"
    assert ws["A14"].data_type == "s"
    assert ws["A16"].value == "Zero rows are hidden."
    assert ws.column_dimensions["B"].width >= len("Output VAT payable")


def test_xlsx_keeps_amounts_a_double_cannot_hold_as_exact_text() -> None:
    huge = row(
        "9999", "Huge", "უზარმაზარი", Decimal("12345678901234.56"), Decimal("-9999999999999.99")
    )
    ws = read_xlsx(render(document(rows=(huge,)), "xlsx", "en")[0])
    assert ws["E6"].value == "12345678901234.56"
    assert ws["E6"].data_type == "s"
    assert ws["F6"].data_type == "n"
    assert Decimal(repr(ws["F6"].value)) == Decimal("-9999999999999.99")


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1))
def test_every_amount_below_ten_trillion_survives_the_xlsx_double(cents: int) -> None:
    """The claim in render.py's docstring: Decimal → float → openpyxl's "%.16g" → float."""
    amount = Decimal(cents).scaleb(-2)
    number = xlsx_number(amount)
    assert number is not None
    assert Decimal(repr(float(format(number, ".16g")))) == amount


def test_the_exactness_limit_is_fifteen_significant_digits() -> None:
    assert EXACT_DOUBLE_DIGITS == 15
    assert xlsx_number(Decimal("9999999999999.99")) == 9999999999999.99
    assert xlsx_number(Decimal("1180.000000")) == 1180.0  # trailing zeros carry nothing
    assert xlsx_number(Decimal("10000000000000.01")) is None  # 16 digits
    assert xlsx_number(Decimal("0.1234567890123456")) is None


# ---------------------------------------------------------------- PDF


def pdf_pages(body: bytes) -> list[str]:
    assert body.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(body)).pages]


def test_pdf_text_layer_has_the_georgian_title_company_and_totals() -> None:
    body, _, _ = render(document(), "pdf", "ka")
    reader = PdfReader(io.BytesIO(body))
    box = reader.pages[0].mediabox
    assert sorted((round(float(box.width)), round(float(box.height)))) == [595, 842]  # A4
    (text,) = pdf_pages(body)
    for expected in (
        "ბრუნვითი უწყისი",
        COMPANY,
        f"საიდენტიფიკაციო კოდი: {TAX_ID}",
        "2025-01-01 – 2025-12-31",
        "ნაღდი ფული ეროვნულ ვალუტაში",
        # The Georgian number format (CLDR ka, through Babel): a no-break space groups
        # the thousands (a space in the text layer), a comma marks the decimals (issue
        # 12: ``71 640,00``).
        "1 180,00",
        "-1 180,50",
        "999 999 999 999,99",
        "გვერდი 1 / 1",
        "ნულოვანი სტრიქონები დამალულია.",
    ):
        assert expected in text, expected


def test_pdf_in_english() -> None:
    (text,) = pdf_pages(render(document(), "pdf", "en")[0])
    assert "Turnover trial balance" in text
    assert f"Tax ID: {TAX_ID}" in text
    assert "Cash on hand, GEL" in text
    assert "ნაღდი" not in text
    assert "Page 1 of 1" in text


def test_a_long_pdf_numbers_its_pages_and_repeats_the_header() -> None:
    many = tuple(
        row(f"{1000 + i}", f"Account {i}", f"ანგარიში {i}", Decimal(i * 1180).scaleb(-2), None)
        for i in range(120)
    )
    total = row("", "Total", "სულ", Decimal("84252.00"), None, style="total")
    pages = pdf_pages(render(document(rows=(*many, total)), "pdf", "en")[0])
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "Debit" in text
        assert "Credit" in text
        assert COMPANY in text
    assert "Account 119" in pages[-1]
    assert "84,252.00" in pages[-1]


def test_amounts_beyond_the_decimal_context_still_render() -> None:
    assert plain_amount(Decimal("1E+30")) == "1" + "0" * 30 + ".00"
    assert Decimal(repr(xlsx_number(Decimal("1E+30")))) == Decimal("1E+30")  # one digit
