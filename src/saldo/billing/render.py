"""The printable invoice (PDF, Georgian or English) with the seller's and buyer's tax ids.

fpdf2 with the DejaVu fonts the reporting context ships (they carry the Georgian script);
amounts in the Georgian format (space thousands, comma decimals) for KA, 1,234.56 for EN.
"""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from typing import Any

from fpdf import FPDF

from saldo.kernel.money import display_amount

_FONT = "DejaVu"
LABELS = {
    "en": {"sales_invoice": "Invoice", "credit_note": "Credit note", "seller": "Seller",
           "buyer": "Buyer", "tax_id": "Tax id", "date": "Date", "due": "Due date",
           "description": "Description", "qty": "Qty", "price": "Unit price", "vat_code":
           "VAT", "net": "Net", "vat": "VAT", "total": "Total", "net_total": "Net total",
           "vat_total": "VAT total", "iban": "IBAN", "currency": "Currency",
           "corrects": "Corrects invoice"},
    "ka": {"sales_invoice": "ანგარიშ-ფაქტურა", "credit_note": "კრედიტ-ნოტა",
           "seller": "გამყიდველი", "buyer": "მყიდველი", "tax_id": "საიდენტიფიკაციო კოდი",
           "date": "თარიღი", "due": "გადახდის ვადა", "description": "დასახელება",
           "qty": "რაოდ.", "price": "ფასი", "vat_code": "დღგ", "net": "თანხა დღგ-ს გარეშე",
           "vat": "დღგ", "total": "სულ", "net_total": "სულ დღგ-ს გარეშე",
           "vat_total": "დღგ სულ", "iban": "IBAN", "currency": "ვალუტა",
           "corrects": "კორექტირებული ანგარიში"},
}


def money(amount: Decimal, lang: str) -> str:
    return display_amount(amount, 2, lang)


def invoice_pdf(data: dict[str, Any], lang: str) -> bytes:
    labels = LABELS[lang]
    pdf = FPDF(format="A4")
    fonts = resources.files("saldo.reporting") / "fonts"
    with resources.as_file(fonts) as folder:
        pdf.add_font(_FONT, "", str(folder / "DejaVuSansCondensed.ttf"))
        pdf.add_font(_FONT, "B", str(folder / "DejaVuSansCondensed-Bold.ttf"))
    pdf.add_page()
    pdf.set_font(_FONT, "B", 16)
    pdf.cell(0, 10, f"{labels[data['kind']]} {data['number']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, "", 9)
    pdf.cell(0, 5, f"{labels['date']}: {data['date']}    {labels['due']}: {data['due_date']}"
             f"    {labels['currency']}: {data['currency']}", new_x="LMARGIN", new_y="NEXT")
    if data.get("corrects_number"):
        pdf.cell(0, 5, f"{labels['corrects']}: {data['corrects_number']}",
                 new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for role, party in (("seller", data["seller"]), ("buyer", data["buyer"])):
        pdf.set_font(_FONT, "B", 10)
        pdf.cell(0, 6, f"{labels[role]}: {party['name']}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_FONT, "", 9)
        pdf.cell(0, 5, f"{labels['tax_id']}: {party.get('tax_id') or '-'}",
                 new_x="LMARGIN", new_y="NEXT")
        if party.get("iban"):
            pdf.cell(0, 5, f"{labels['iban']}: {party['iban']}", new_x="LMARGIN",
                     new_y="NEXT")
    pdf.ln(4)
    widths = (70, 18, 26, 20, 28, 28)
    heads = ("description", "qty", "price", "vat_code", "net", "vat")
    pdf.set_font(_FONT, "B", 8)
    for w, h in zip(widths, heads, strict=True):
        pdf.cell(w, 6, labels[h], border=1)
    pdf.ln()
    pdf.set_font(_FONT, "", 8)
    for line in data["lines"]:
        cells = (line["description"][:60], str(line["quantity"]),
                 money(Decimal(line["unit_price"]), lang), line["vat_code"],
                 money(Decimal(line["net"]), lang), money(Decimal(line["vat"]), lang))
        for i, (w, text) in enumerate(zip(widths, cells, strict=True)):
            pdf.cell(w, 6, text, border=1, align="L" if i == 0 else "R")
        pdf.ln()
    pdf.ln(3)
    pdf.set_font(_FONT, "B", 9)
    for key in ("net_total", "vat_total", "total"):
        pdf.cell(162, 6, labels[key], align="R")
        pdf.cell(28, 6, money(Decimal(data[key]), lang), align="R", new_x="LMARGIN",
                 new_y="NEXT")
    return bytes(pdf.output())
