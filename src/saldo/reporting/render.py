"""Renderers: a :class:`ReportDocument` as CSV, XLSX or PDF bytes.

One entry point, :func:`render`, returns the body, its media type and a file name
(``trial-balance-2025-12-31.xlsx``). The three formats serve different readers:

* **CSV** is for machines: UTF-8 with a BOM (so Excel opens Georgian text correctly), one
  header row of column labels, then one line per row, no title rows; amounts as plain
  decimals (``1180.00``, ``-1180.00``), RFC 4180 quoting and CRLF line ends.
* **XLSX** is for accountants who keep working on the figures: title, company and period
  rows on top, a bold frozen header, amounts as *numbers* with a ``#,##0.00`` format,
  indentation by row level, bold headings and totals, A4 print setup.
* **PDF** is for reading and filing: A4, DejaVu Sans Condensed embedded (it covers Latin
  and Georgian Mkhedruli, and fpdf2 writes a ToUnicode map so the text layer can be
  searched and copied), company, tax id and period on the first page, a running header
  and "Page 1 of 3" / "გვერდი 1 / 3" on every page, the column header repeated on each
  page, amounts right-aligned with thousands separators.

Amounts and exactness. XLSX stores numbers as IEEE doubles, and openpyxl writes them as
``"%.16g" % value``. A decimal with at most 15 significant digits survives that path
exactly: ``Decimal(repr(float(str(d)))) == d``, and the ``%.16g`` text parses back to the
same double (IEEE 754 guarantees 15 digits, DBL_DIG; ``tests/unit/reporting`` checks the
boundary). With two decimals that is every amount below 10¹³ (ten trillion lari), so
amounts are written as ``float(str(d))``; a larger amount, or one with more significant
digits than a double keeps, is written as text holding its exact digits rather than as a
number that silently differs from the ledger.

Nothing here rounds: an amount with fewer decimals than the currency's minor unit is padded
with zeros (``1180`` → ``1180.00``), one with more is shown with all of its digits.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from fpdf import FPDF
from fpdf.enums import CellBordersLayout, TableBordersLayout, TableCellFillMode, WrapMode
from fpdf.fonts import FontFace
from fpdf.util import Padding
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from saldo.kernel.money import amount_text, display_amount, minor_units, padded
from saldo.reporting.document import Cell, Column, Label, Language, ReportDocument

Format = Literal["csv", "xlsx", "pdf"]

MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}

# Words the renderers add around a report's own labels.
_TAX_ID = Label("Tax ID", "საიდენტიფიკაციო კოდი")
_CURRENCY = Label("Currency", "ვალუტა")
_GENERATED = Label("Generated", "შედგენილია")
_PAGE = Label("Page {page} of {pages}", "გვერდი {page} / {pages}")
_SIGNATURE = Label("(signature)", "(ხელმოწერა)")

#: Significant digits that survive Decimal → double → the ``%.16g`` text openpyxl writes →
#: double → shortest repr unchanged (DBL_DIG).
EXACT_DOUBLE_DIGITS = 15


def render(doc: ReportDocument, fmt: Format, lang: Language) -> tuple[bytes, str, str]:
    """The document as ``(body, media type, file name)`` in ``fmt``, labels in ``lang``."""
    if fmt == "csv":
        body = render_csv(doc, lang)
    elif fmt == "xlsx":
        body = render_xlsx(doc, lang)
    elif fmt == "pdf":
        body = render_pdf(doc, lang)
    else:  # the HTTP and CLI edges validate the format; reaching here is a programming error
        raise ValueError(f"unknown report format {fmt!r}")
    return body, MEDIA_TYPES[fmt], file_name(doc, fmt)


def file_name(doc: ReportDocument, fmt: str) -> str:
    """``<name>-<last date of the period>.<fmt>``, safe for a Content-Disposition header.

    The date is the last ISO date in the period label ("2025-01-01 – 2025-12-31",
    "as of 2025-12-31"), else the day the document was generated, else none.
    """
    stem = re.sub(r"[^a-z0-9]+", "-", doc.name.lower()).strip("-") or "report"
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", doc.period.en) or re.findall(
        r"\d{4}-\d{2}-\d{2}", doc.period.ka
    )
    if dates:
        stem = f"{stem}-{dates[-1]}"
    elif doc.generated_at is not None:
        stem = f"{stem}-{doc.generated_at.date().isoformat()}"
    return f"{stem}.{fmt}"


# ---------------------------------------------------------------- amounts as text


def plain_amount(amount: Decimal | None, places: int = 2) -> str:
    """For machines: ``1180.00``, ``-1180.00``; no separators, no exponent; blank for None."""
    if amount is None:
        return ""
    return amount_text(amount, places)


#: The locale whose number format a PDF in each language uses (CLDR, through Babel).
_LOCALES: dict[str, str] = {"en": "en_US", "ka": "ka_GE"}


def format_amount(amount: Decimal | None, places: int = 2, lang: Language = "en") -> str:
    """For people, in the language's number format: ``1,180.00`` in English, ``1 180,00``
    in Georgian (the kernel's :func:`~saldo.kernel.money.display_amount`); blank for
    None."""
    return "" if amount is None else display_amount(amount, places, lang)


def _text(value: Cell, column: Column, lang: Language, places: int, *, human: bool) -> str:
    """A cell as the text a person (PDF) or a machine (CSV) reads."""
    if value is None:
        return ""
    if isinstance(value, Label):
        return value(lang)
    if isinstance(value, Decimal):
        if column.kind == "money":
            return format_amount(value, places, lang) if human else plain_amount(value, places)
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _meta(doc: ReportDocument, lang: Language) -> tuple[str, str, str]:
    """The lines under the title: company with tax id, period with currency, generation."""
    company = f"{doc.company_name} · {_TAX_ID(lang)}: {doc.tax_id}"
    period = f"{doc.period(lang)} · {_CURRENCY(lang)}: {doc.currency}"
    generated = ""
    if doc.generated_at is not None:
        stamp = doc.generated_at.strftime("%Y-%m-%d %H:%M")
        zone = doc.generated_at.tzname()
        generated = f"{_GENERATED(lang)}: {stamp}" + (f" {zone}" if zone else "")
    return company, period, generated


# ---------------------------------------------------------------- CSV

#: A text cell starting with one of these is a formula to a spreadsheet that opens the CSV
#: ("CSV injection", OWASP); such a cell gets a leading apostrophe. Amounts are never text,
#: so a negative amount is untouched.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render_csv(doc: ReportDocument, lang: Language) -> bytes:
    places = minor_units(doc.currency)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: CRLF, minimal quoting
    writer.writerow([_csv_safe(c.label(lang)) for c in doc.columns])
    for row in doc.rows:
        cells = []
        for column in doc.columns:
            value = row.cells.get(column.key)
            text = _text(value, column, lang, places, human=False)
            cells.append(_csv_safe(text) if isinstance(value, str | Label) else text)
        writer.writerow(cells)
    return out.getvalue().encode("utf-8-sig")


def _csv_safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


# ---------------------------------------------------------------- XLSX

_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", start_color="FFE7E9EE", end_color="FFE7E9EE")
_THIN = Side(style="thin", color="FF808080")
_HEADER_ROW = 5  # title, company, period, blank, header


def render_xlsx(doc: ReportDocument, lang: Language) -> bytes:
    places = minor_units(doc.currency)
    money_format = "#,##0" + ("." + "0" * places if places else "")
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook always has one sheet
    ws.title = re.sub(r"[\[\]:*?/\\]", "-", doc.name)[:31] or "report"
    wb.properties.title = doc.title(lang)
    wb.properties.creator = "Saldo"
    if doc.generated_at is not None:
        wb.properties.created = doc.generated_at.replace(tzinfo=None)
        wb.properties.modified = wb.properties.created

    company, period, generated = _meta(doc, lang)
    ws.cell(row=1, column=1, value=_xlsx_text(doc.title(lang))).font = Font(bold=True, size=14)
    ws.cell(row=2, column=1, value=_xlsx_text(company)).font = _BOLD
    ws.cell(row=3, column=1, value=_xlsx_text(period))
    if generated:
        ws.cell(row=3, column=max(len(doc.columns), 2), value=generated).alignment = Alignment(
            horizontal="right"
        )

    indent_key = _label_column(doc.columns)
    widths = [len(c.label(lang)) for c in doc.columns]
    for index, column in enumerate(doc.columns, start=1):
        head = ws.cell(row=_HEADER_ROW, column=index, value=_xlsx_text(column.label(lang)))
        head.font = _BOLD
        head.fill = _HEADER_FILL
        head.border = Border(bottom=_THIN)
        head.alignment = Alignment(
            horizontal="right" if column.kind in ("money", "int") else "left",
            vertical="center",
            wrap_text=True,
        )

    row_number = _HEADER_ROW
    for row in doc.rows:
        row_number += 1
        emphasised = row.style != "normal"
        for index, column in enumerate(doc.columns, start=1):
            value = row.cells.get(column.key)
            cell = ws.cell(row=row_number, column=index)
            assert isinstance(cell, XlCell)  # not a merged cell: nothing is merged
            _set_xlsx_value(cell, value, column, lang, places, money_format)
            indent = row.level if column.key == indent_key and row.level > 0 else 0
            if indent or column.kind in ("money", "int"):
                cell.alignment = Alignment(
                    horizontal="right" if column.kind in ("money", "int") else "left",
                    indent=min(indent, 15),
                )
            if emphasised:
                cell.font = _BOLD
            if row.style == "total":
                cell.border = Border(top=_THIN, bottom=Side(style="double", color="FF808080"))
            elif row.style == "subtotal":
                cell.border = Border(top=_THIN)
            shown = _text(value, column, lang, places, human=True)
            longest = max((len(part) for part in shown.split("\n")), default=0)
            widths[index - 1] = max(widths[index - 1], longest + 2 * indent)

    if doc.notes:
        row_number += 1
        for note in doc.notes:
            row_number += 1
            ws.cell(row=row_number, column=1, value=_xlsx_text(note(lang)))

    for index, (column, width) in enumerate(zip(doc.columns, widths, strict=True), start=1):
        cap = 60 if column.kind == "text" else 24
        ws.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), cap)

    ws.freeze_panes = f"A{_HEADER_ROW + 1}"
    ws.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if len(doc.columns) > 5 else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[union-attr]
    if ws.oddFooter is not None:
        ws.oddFooter.right.text = "&P / &N"

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _label_column(columns: Sequence[Column]) -> str | None:
    """The column a row's ``level`` indents: the first text column, else the first one."""
    for column in columns:
        if column.kind == "text":
            return column.key
    return columns[0].key if columns else None


def _xlsx_text(text: str) -> str:
    # Control characters are not allowed in XML 1.0; openpyxl refuses them.
    return ILLEGAL_CHARACTERS_RE.sub(" ", text)


def _set_xlsx_value(
    cell: XlCell, value: Cell, column: Column, lang: Language, places: int, money_format: str
) -> None:
    if value is None:
        return
    if isinstance(value, Decimal):
        number = xlsx_number(padded(value, places) if column.kind == "money" else value)
        if number is None:  # more digits than a double keeps: exact text instead
            cell.value = _text(value, column, lang, places, human=False)
            cell.data_type = "s"
            return
        cell.value = number
        if column.kind == "money":
            cell.number_format = money_format
        return
    if isinstance(value, bool):  # bool is an int; a report has none, but never write TRUE
        cell.value = str(value)
        cell.data_type = "s"
        return
    if isinstance(value, int):
        cell.value = value
        cell.number_format = "#,##0" if column.kind == "money" else "0"
        return
    if isinstance(value, datetime | date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
        return
    text = _xlsx_text(value(lang) if isinstance(value, Label) else value)
    cell.value = text
    cell.data_type = "s"  # openpyxl would take "=…" for a formula


def xlsx_number(amount: Decimal) -> float | None:
    """``amount`` as the double XLSX stores, or None when a double cannot hold it exactly.

    Exact means at most :data:`EXACT_DOUBLE_DIGITS` significant digits, trailing zeros
    after the point not counted: such a decimal goes to the double nearest it and comes
    back unchanged (see the module docstring).
    """
    if not amount.is_finite():
        return None
    # normalize() drops trailing zeros (1180.00 → 1.18E+3); past 28 digits it rounds, but
    # such a number is far beyond 15 digits either way.
    if len(amount.normalize().as_tuple().digits) > EXACT_DOUBLE_DIGITS:
        return None
    return float(str(amount))


# ---------------------------------------------------------------- PDF

_FONT = "DejaVu"
#: DejaVu Sans Condensed 2.37 (Latin, Georgian Mkhedruli, Cyrillic, ...); licence beside it.
_FONTS = Path(__file__).parent / "fonts"
_MARGIN = 12.0  # mm
_TABLE_SIZE = 8.0  # pt
_PAD = Padding(top=0.9, right=1.2, bottom=0.9, left=1.2)
_INDENT = 3.5  # mm per level
_GREY = (96, 96, 96)


@dataclass(frozen=True, slots=True)
class _Layout:
    orientation: Literal["portrait", "landscape"]
    widths: tuple[float, ...]
    size: float


class _ReportPdf(FPDF):
    """A4 pages with a running header from page 2 on and a page-number footer."""

    def __init__(self, doc: ReportDocument, lang: Language) -> None:
        super().__init__(unit="mm", format="A4")
        self.report = doc
        self.report_lang: Language = lang
        # fpdf2 embeds only the glyphs used (a subset) with a ToUnicode map.
        self.add_font(_FONT, "", _FONTS / "DejaVuSansCondensed.ttf")
        self.add_font(_FONT, "B", _FONTS / "DejaVuSansCondensed-Bold.ttf")
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_MARGIN + 4)
        self.alias_nb_pages("{nb}")
        #: The page where the current document's title block is (a set has several).
        self.first_page = 1

    def header(self) -> None:
        if self.page_no() == self.first_page:
            return  # the first page carries the full title block instead
        self.set_font(_FONT, "", 7)
        self.set_text_color(*_GREY)
        doc, lang = self.report, self.report_lang
        running = f"{doc.title(lang)} · {doc.company_name} · {doc.period(lang)}"
        self.cell(w=self.epw, h=4, text=running, new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(180, 180, 180)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(2)
        self.set_text_color(0, 0, 0)
        self.set_draw_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-_MARGIN)
        self.set_font(_FONT, "", 7)
        self.set_text_color(*_GREY)
        left = f"{self.report.company_name} · {_TAX_ID(self.report_lang)}: {self.report.tax_id}"
        self.cell(w=self.epw / 2, h=4, text=left, align="L")
        page = _PAGE(self.report_lang).format(page=self.page_no(), pages="{nb}")
        self.cell(w=self.epw / 2, h=4, text=page, align="R")
        self.set_text_color(0, 0, 0)


def render_pdf(doc: ReportDocument, lang: Language) -> bytes:
    return render_pdf_set(doc, (doc,), lang)


def render_pdf_set(cover: ReportDocument, docs: Sequence[ReportDocument],
                   lang: Language) -> bytes:
    """One PDF of several documents (the annual set of statements), each from a new page;
    ``cover`` gives the file's title and metadata."""
    pdf = _ReportPdf(cover, lang)
    pdf.set_title(cover.title(lang))
    pdf.set_author(cover.company_name)
    pdf.set_creator("Saldo")
    pdf.set_lang(lang)
    if cover.generated_at is not None:
        pdf.set_creation_date(cover.generated_at)
    for doc in docs:
        pdf.report = doc
        _pdf_document(pdf, doc, lang)
    return bytes(pdf.output())


def _pdf_document(pdf: _ReportPdf, doc: ReportDocument, lang: Language) -> None:
    places = minor_units(doc.currency)
    texts = [
        [_pdf_text(_text(row.cells.get(c.key), c, lang, places, human=True)) for c in doc.columns]
        for row in doc.rows
    ]
    headings = [_pdf_text(c.label(lang)) for c in doc.columns]
    layout = _layout(pdf, doc, texts, headings)
    pdf.first_page = pdf.page_no() + 1
    pdf.add_page(orientation=layout.orientation)  # later pages keep the orientation

    company, period, generated = _meta(doc, lang)
    pdf.set_font(_FONT, "B", 14)
    pdf.multi_cell(w=pdf.epw, h=7, text=_pdf_text(doc.title(lang)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, "B", 10)
    pdf.multi_cell(w=pdf.epw, h=5, text=_pdf_text(company), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, "", 9)
    pdf.multi_cell(w=pdf.epw, h=5, text=_pdf_text(period), new_x="LMARGIN", new_y="NEXT")
    if generated:
        pdf.set_font(_FONT, "", 7)
        pdf.set_text_color(*_GREY)
        pdf.cell(w=pdf.epw, h=4, text=generated, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(3)

    if doc.columns:
        _pdf_table(pdf, doc, texts, headings, layout)

    if doc.notes:
        pdf.ln(3)
        pdf.set_font(_FONT, "", 8)
        for note in doc.notes:
            pdf.multi_cell(
                w=pdf.epw, h=4, text=_pdf_text(note(lang)), new_x="LMARGIN", new_y="NEXT"
            )
    if doc.signatures:
        _pdf_signatures(pdf, doc.signatures, lang)


def _pdf_signatures(pdf: FPDF, signatures: Sequence[Label], lang: Language) -> None:
    """A line to sign on for each signatory (the director, the chief accountant), with
    the role under it, kept together on one page."""
    height = 14.0
    if pdf.get_y() + height * len(signatures) + 6 > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.ln(8)
    pdf.set_font(_FONT, "", 9)
    width = 70.0
    for role in signatures:
        pdf.ln(6)
        y = pdf.get_y()
        pdf.cell(w=50, h=5, text=_pdf_text(role(lang)) + ":")
        pdf.line(pdf.l_margin + 52, y + 4.5, pdf.l_margin + 52 + width, y + 4.5)
        pdf.cell(w=width + 2, h=5, text="")
        pdf.set_font(_FONT, "", 7)
        pdf.set_text_color(*_GREY)
        pdf.cell(w=30, h=5, text=_SIGNATURE(lang), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(_FONT, "", 9)


def _pdf_table(
    pdf: FPDF,
    doc: ReportDocument,
    texts: Sequence[Sequence[str]],
    headings: Sequence[str],
    layout: _Layout,
) -> None:
    aligns = tuple("RIGHT" if c.kind in ("money", "int") else "LEFT" for c in doc.columns)
    indent_key = _label_column(doc.columns)
    bold = FontFace(emphasis="BOLD")
    pdf.set_font(_FONT, "", layout.size)
    with pdf.table(
        width=sum(layout.widths),
        col_widths=layout.widths,
        align="LEFT",
        text_align=aligns,
        borders_layout=TableBordersLayout.SINGLE_TOP_LINE,
        cell_fill_mode=TableCellFillMode.EVEN_ROWS,
        cell_fill_color=(244, 245, 247),
        headings_style=FontFace(emphasis="BOLD", fill_color=(231, 233, 238)),
        padding=_PAD,
        line_height=pdf.font_size * 1.25,
        v_align="MIDDLE",
        wrapmode=WrapMode.WORD,
        repeat_headings=1,
    ) as table:
        table.row(headings)
        for row, cells in zip(doc.rows, texts, strict=True):
            style = bold if row.style != "normal" else None
            border = (
                CellBordersLayout.TOP
                if row.style in ("subtotal", "total")
                else CellBordersLayout.INHERIT
            )
            line = table.row(style=style)
            for column, text in zip(doc.columns, cells, strict=True):
                padding = _PAD
                if column.key == indent_key and row.level > 0:
                    padding = _PAD._replace(left=_PAD.left + _INDENT * row.level)
                line.cell(text, padding=padding, border=border)


def _pdf_text(text: str) -> str:
    # Tabs and other control characters have no glyph; a newline is kept (cells wrap).
    return re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", " ", text)


def _layout(
    measure: FPDF, doc: ReportDocument, texts: Sequence[Sequence[str]], headings: Sequence[str]
) -> _Layout:
    """Column widths from the content: portrait when they fit, else landscape, else the
    text columns wrap and, if the figures alone are still too wide, the type shrinks."""
    # Bold is a little wider than regular: measuring in bold keeps totals from wrapping.
    indent_key = _label_column(doc.columns)
    size = _TABLE_SIZE
    while True:
        measure.set_font(_FONT, "B", size)
        natural: list[float] = []
        minimum: list[float] = []
        for index, column in enumerate(doc.columns):
            words = [w for h in headings[index].split("\n") for w in h.split()]
            widest_word = max((measure.get_string_width(w) for w in words), default=0.0)
            widest = widest_word
            for row, cells in zip(doc.rows, texts, strict=True):
                extra = _INDENT * row.level if column.key == indent_key else 0.0
                for part in cells[index].split("\n"):
                    widest = max(widest, measure.get_string_width(part) + extra)
                    if column.kind == "text":
                        longest = max(
                            (measure.get_string_width(w) for w in part.split()), default=0
                        )
                        widest_word = max(widest_word, min(longest, 30.0) + extra)
            pad = _PAD.left + _PAD.right + 0.5
            if column.kind == "text":
                natural.append(min(widest, 90.0) + pad)
                minimum.append(max(widest_word, 12.0) + pad)
            else:
                natural.append(max(widest, widest_word) + pad)
                minimum.append(natural[-1])
        for orientation, page_width in (("portrait", 210.0), ("landscape", 297.0)):
            usable = page_width - 2 * _MARGIN
            if sum(natural) <= usable:
                return _Layout(orientation, _spread(doc.columns, natural, usable), size)  # type: ignore[arg-type]
        usable = 297.0 - 2 * _MARGIN
        if sum(minimum) <= usable or size <= 5.5:
            return _Layout("landscape", _fit(doc.columns, natural, minimum, usable), size)
        size -= 0.5


def _spread(columns: Sequence[Column], widths: Sequence[float], usable: float) -> tuple[float, ...]:
    """Give the spare width to the widest text column (a full-width table reads better)."""
    text = [i for i, c in enumerate(columns) if c.kind == "text"]
    if not text:
        return tuple(widths)
    widest = max(text, key=lambda i: widths[i])
    spare = usable - sum(widths)
    return tuple(w + spare if i == widest else w for i, w in enumerate(widths))


def _fit(
    columns: Sequence[Column], natural: Sequence[float], minimum: Sequence[float], usable: float
) -> tuple[float, ...]:
    """Shrink the text columns toward their minimum so the table fits ``usable``."""
    excess = sum(natural) - usable
    slack = [n - m for n, m in zip(natural, minimum, strict=True)]
    total_slack = sum(slack)
    if total_slack <= 0:
        return tuple(minimum)
    ratio = min(1.0, excess / total_slack)
    widths = [n - s * ratio for n, s in zip(natural, slack, strict=True)]
    if sum(widths) > usable:  # still too wide at the smallest type: scale everything
        scale = usable / sum(widths)
        widths = [w * scale for w in widths]
    return tuple(widths)
