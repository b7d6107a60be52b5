"""Files a payroll run produces: the salary transfers for a bank's bulk upload (CSV) and
the payslips (PDF, Georgian or English).

The bulk-upload CSV follows the columns Georgian banks' "mass transfer" templates share
(beneficiary IBAN, name, personal number, amount, currency, purpose); the exact template
of each bank is UNCONFIRMED (no public specification in the reference), so the columns are
the common denominator, UTF-8 with a BOM (Excel and the banks' portals read Georgian
names correctly), CRLF line ends, amounts as plain decimals.

Payslip PDFs use DejaVu Sans Condensed (Latin and Georgian Mkhedruli), the font the
reporting context ships; fpdf2 embeds it with a ToUnicode map so the text can be copied.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from importlib.resources import files
from typing import Any

from fpdf import FPDF

from saldo.kernel.money import amount_text, display_amount

BANK_COLUMNS = ("Beneficiary IBAN", "Beneficiary name", "Beneficiary personal number",
                "Amount", "Currency", "Purpose")


def bank_csv(lines: Sequence[Mapping[str, Any]], period: str) -> bytes:
    """One transfer per employee with a net pay above zero."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BANK_COLUMNS)
    for line in lines:
        if Decimal(line["net"]) <= 0:
            continue
        writer.writerow([line["iban"] or "", line["full_name"], line["personal_number"],
                         amount_text(Decimal(line["net"])), "GEL", f"Salary {period}"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


LABELS: dict[str, dict[str, str]] = {
    "en": {"title": "Payslip", "period": "Period", "employee": "Employee",
           "personal_number": "Personal number", "payment_date": "Payment date",
           "salary": "Salary", "bonus": "Bonus", "other_earnings": "Other earnings",
           "gross": "Gross pay", "pension_employee": "Pension contribution (2%)",
           "income_tax": "Income tax (20%)", "net": "Net pay",
           "pension_employer": "Employer pension contribution (2%)", "company": "Employer",
           "tax_id": "Tax id", "not_enrolled": "Not enrolled in the funded pension scheme",
           "currency": "Amounts in GEL"},
    "ka": {"title": "ხელფასის ფურცელი", "period": "პერიოდი", "employee": "თანამშრომელი",
           "personal_number": "პირადი ნომერი", "payment_date": "გადახდის თარიღი",
           "salary": "ხელფასი", "bonus": "პრემია", "other_earnings": "სხვა ანაზღაურება",
           "gross": "დარიცხული ხელფასი", "pension_employee": "საპენსიო შენატანი (2%)",
           "income_tax": "საშემოსავლო გადასახადი (20%)", "net": "ხელზე ასაღები",
           "pension_employer": "დამსაქმებლის საპენსიო შენატანი (2%)",
           "company": "დამსაქმებელი", "tax_id": "საიდენტიფიკაციო კოდი",
           "not_enrolled": "არ მონაწილეობს დაგროვებით საპენსიო სქემაში",
           "currency": "თანხები ლარში"},
}


NBSP = "\u00a0"


def _money(value: Any, lang: str) -> str:
    # Georgian writes 1 234,56 (space thousands, decimal comma); English 1,234.56.
    return display_amount(Decimal(value), 2, lang)


def payslip_pdf(company: Mapping[str, Any], run: Mapping[str, Any],
                line: Mapping[str, Any], lang: str) -> bytes:
    labels = LABELS[lang]
    fonts = files("saldo.reporting") / "fonts"
    pdf = FPDF(format="A4")
    pdf.set_title(f"{labels['title']} {run['period']} {line['full_name']}")
    pdf.set_creator("Saldo")
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSansCondensed.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSansCondensed-Bold.ttf"))
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 10, f"{labels['title']} — {run['period']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    for key, value in (("company", company["name"]), ("tax_id", company["tax_id"]),
                       ("employee", line["full_name"]),
                       ("personal_number", line["personal_number"]),
                       ("period", run["period"]),
                       ("payment_date", str(run["paid_on"] or run["payment_date"]))):
        pdf.cell(60, 6, labels[key])
        pdf.cell(0, 6, str(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    rows = [("salary", False), ("bonus", False), ("other_earnings", False), ("gross", True),
            ("pension_employee", False), ("income_tax", False), ("net", True),
            ("pension_employer", False)]
    for key, bold in rows:
        if key in ("bonus", "other_earnings") and not Decimal(line[key]):
            continue
        pdf.set_font("DejaVu", "B" if bold else "", 11)
        pdf.cell(120, 8, labels[key], border="B")
        pdf.cell(50, 8, _money(line[key], lang), border="B", align="R",
                 new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.ln(3)
    if not line["pension_enrolled"]:
        pdf.cell(0, 6, labels["not_enrolled"], new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, labels["currency"], new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
