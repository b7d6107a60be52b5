"""The VAT return as PDF and XLSX, laid out on the declaration's boxes (box numbers after
Odoo's Annex A, UNCONFIRMED: the file says so)."""

from __future__ import annotations

import io
from decimal import Decimal
from importlib import resources
from typing import Any

from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.styles import Font

_FONT = "DejaVu"
TITLE = {"en": "VAT return", "ka": "დღგ-ს დეკლარაცია"}
NOTE = {"en": "Box numbers follow Odoo's Annex A structure: UNCONFIRMED.",
        "ka": "უჯრების ნომრები Odoo-ს დანართი A-ს მიხედვით: დაუდასტურებელი."}
HEADS = {"en": ("Box", "Line", "Base", "VAT"), "ka": ("უჯრა", "სტრიქონი", "ბაზა", "დღგ")}
SUMMARY = (("output_vat", "Output VAT", "გადასახდელი დღგ"),
           ("reverse_charge_vat", "Reverse-charge VAT", "უკუდაბეგვრის დღგ"),
           ("input_vat", "Input VAT", "ჩასათვლელი დღგ"),
           ("payable", "Payable (negative: excess credit)", "გადასახდელი (უარყოფითი: ზედმეტობა)"))


def vat_return_pdf(data: dict[str, Any], lang: str) -> bytes:
    pdf = FPDF(format="A4")
    with resources.as_file(resources.files("saldo.reporting") / "fonts") as folder:
        pdf.add_font(_FONT, "", str(folder / "DejaVuSansCondensed.ttf"))
        pdf.add_font(_FONT, "B", str(folder / "DejaVuSansCondensed-Bold.ttf"))
    pdf.add_page()
    pdf.set_font(_FONT, "B", 14)
    pdf.cell(0, 10, f"{TITLE[lang]} {data['period']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, "", 8)
    pdf.cell(0, 5, f"Due / ვადა: {data['due_date']}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, NOTE[lang], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    widths = (14, 116, 30, 30)
    pdf.set_font(_FONT, "B", 8)
    for w, h in zip(widths, HEADS[lang], strict=True):
        pdf.cell(w, 6, h, border=1)
    pdf.ln()
    pdf.set_font(_FONT, "", 8)
    for line in data["lines"]:
        label = line["label_ka"] if lang == "ka" else line["label"]
        for i, (w, text) in enumerate(zip(widths, (line["box"], label[:80], line["base"],
                                                   line["vat"]), strict=True)):
            pdf.cell(w, 6, text, border=1, align="R" if i >= 2 else "L")
        pdf.ln()
    pdf.ln(3)
    pdf.set_font(_FONT, "B", 9)
    for key, en, ka in SUMMARY:
        pdf.cell(160, 6, ka if lang == "ka" else en, align="R")
        pdf.cell(30, 6, data[key], align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def vat_return_xlsx(data: dict[str, Any], lang: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = data["period"]
    ws.append([f"{TITLE[lang]} {data['period']}"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["Due", data["due_date"].isoformat() if hasattr(data["due_date"], "isoformat")
               else str(data["due_date"])])
    ws.append([NOTE[lang]])
    ws.append(list(HEADS[lang]))
    for line in data["lines"]:
        ws.append([line["box"], line["label_ka"] if lang == "ka" else line["label"],
                   Decimal(line["base"]), Decimal(line["vat"])])
    ws.append([])
    for key, en, ka in SUMMARY:
        ws.append(["", ka if lang == "ka" else en, None, Decimal(data[key])])
    for row in ws.iter_rows(min_row=5, min_col=3, max_col=4):
        for cell in row:
            cell.number_format = "#,##0.00"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
