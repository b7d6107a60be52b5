"""Statement files written by the tests, in every format banking reads (from the format
descriptions in ``../shared/reference/bank-formats.md``; no bank's sample is copied).

An entry is a :class:`Entry`: a signed amount (positive money in), its date, and what the
bank says about it."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import openpyxl


def make_iban(bank: str, digits: str) -> str:
    """A Georgian IBAN with correct check digits (ISO 7064 mod 97-10)."""
    assert len(digits) == 16
    body = bank + digits + "GE00"
    number = int("".join(str(int(ch, 36)) for ch in body))
    return f"GE{98 - number % 97:02d}{bank}{digits}"


OUR_IBAN = make_iban("TB", "0000000123456789")
OTHER_IBAN = make_iban("BG", "0000000987654321")
CUSTOMER_IBAN = make_iban("BG", "0000000555000111")


@dataclass(frozen=True)
class Entry:
    amount: str
    day: date
    text: str = ""
    bank_id: str = ""
    reference: str = ""
    name: str = ""
    iban: str = ""
    tax_id: str = ""


def _d(text: str) -> Decimal:
    return Decimal(text)


# ---------------------------------------------------------------------- camt.053


def camt053(entries: list[Entry], *, version: str = "08", iban: str = OUR_IBAN,
            currency: str = "GEL", opening: str = "1000.00", closing: str | None = None,
            statement_id: str = "STMT-1") -> bytes:
    closing_amount = _d(opening) + sum((_d(e.amount) for e in entries), Decimal(0)) \
        if closing is None else _d(closing)
    first = entries[0].day if entries else date(2026, 3, 1)
    last = entries[-1].day if entries else date(2026, 3, 31)
    v08 = version == "08"

    def party(role: str, e: Entry) -> str:
        name = f"<Nm>{e.name}</Nm>" if e.name else ""
        ident = (f"<Id><OrgId><Othr><Id>{e.tax_id}</Id></Othr></OrgId></Id>"
                 if e.tax_id else "")
        inner = f"<Pty>{name}{ident}</Pty>" if v08 else f"{name}{ident}"
        acct = f"<{role}Acct><Id><IBAN>{e.iban}</IBAN></Id></{role}Acct>" if e.iban else ""
        return f"<{role}>{inner}</{role}>{acct}"

    def status() -> str:
        return "<Sts><Cd>BOOK</Cd></Sts>" if v08 else "<Sts>BOOK</Sts>"

    def balance(code: str, amount: Decimal, day: date) -> str:
        side = "CRDT" if amount >= 0 else "DBIT"
        return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
                f'<Amt Ccy="{currency}">{abs(amount):.2f}</Amt><CdtDbtInd>{side}</CdtDbtInd>'
                f"<Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>")

    rows = []
    for e in entries:
        amount = _d(e.amount)
        side = "CRDT" if amount > 0 else "DBIT"
        role = "Dbtr" if amount > 0 else "Cdtr"
        refs = f"<Refs><EndToEndId>{e.reference or 'NOTPROVIDED'}</EndToEndId></Refs>"
        rows.append(
            f'<Ntry><Amt Ccy="{currency}">{abs(amount):.2f}</Amt><CdtDbtInd>{side}</CdtDbtInd>'
            f"{status()}<BookgDt><Dt>{e.day.isoformat()}</Dt></BookgDt>"
            f"<ValDt><Dt>{e.day.isoformat()}</Dt></ValDt>"
            + (f"<AcctSvcrRef>{e.bank_id}</AcctSvcrRef>" if e.bank_id else "")
            + f"<NtryDtls><TxDtls>{refs}<RltdPties>{party(role, e)}</RltdPties>"
            f"<RmtInf><Ustrd>{e.text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">'
        f"<BkToCstmrStmt><GrpHdr><MsgId>MSG-1</MsgId>"
        f"<CreDtTm>{last.isoformat()}T18:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{statement_id}</Id><Acct><Id><IBAN>{iban}</IBAN></Id>"
        f"<Ccy>{currency}</Ccy></Acct>"
        + balance("OPBD", _d(opening), first) + balance("CLBD", closing_amount, last)
        + "".join(rows) + "</Stmt></BkToCstmrStmt></Document>").encode()


# ---------------------------------------------------------------------- MT940


def _mt_amount(amount: Decimal) -> str:
    return f"{abs(amount):.2f}".replace(".", ",")


def mt940(entries: list[Entry], *, iban: str = OUR_IBAN, currency: str = "GEL",
          opening: str = "1000.00", envelope: bool = True) -> bytes:
    first = entries[0].day if entries else date(2026, 3, 1)
    last = entries[-1].day if entries else date(2026, 3, 31)
    balance = _d(opening)

    def bal(tag: str, amount: Decimal, day: date) -> str:
        return (f":{tag}:{'C' if amount >= 0 else 'D'}{day:%y%m%d}{currency}"
                f"{_mt_amount(amount)}")

    lines = [":20:STMT-2026-03", f":25:{iban}", ":28C:00042/001", bal("60F", balance, first)]
    for e in entries:
        amount = _d(e.amount)
        balance += amount
        mark = "C" if amount > 0 else "D"
        lines.append(f":61:{e.day:%y%m%d%m%d}{mark}{_mt_amount(amount)}NTRF"
                     f"{e.reference or 'NONREF'}" + (f"//{e.bank_id}" if e.bank_id else ""))
        info = e.text + (f" /NAME/{e.name}/" if e.name else "") + (
            f" /IBAN/{e.iban}/" if e.iban else "")
        lines.append(f":86:{info.strip()}")
    lines.append(bal("62F", balance, last))
    body = "\r\n".join(lines)
    if envelope:
        body = ("{1:F01TBCBGE22AXXX0000000000}{2:I940TBCBGE22XXXXN}{4:\r\n" + body
                + "\r\n-}")
    return body.encode()


# ---------------------------------------------------------------------- TBC Bank

TBC_HEADER_KA = ["თარიღი", "დანიშნულება", "დამატებითი ინფორმაცია", "გასული", "შემოსული",
                 "ნაშთი", "საბუთის თარიღი", "საბუთის ნომერი", "პარტნიორის ანგარიში",
                 "პარტნიორის დასახელება", "პარტნიორის საგადასახადო კოდი",
                 "პარტნიორის ბანკის კოდი", "შუამავალი ბანკის კოდი", "ხარჯის დეტალები",
                 "გადასახადის გადამხდელის კოდი", "გადასახადის გადამხდელის დასახელება",
                 "სახაზინო კოდი", "ოპ. კოდი", "დამატებითი აღწერა", "ტრანზაქციის ID"]
TBC_HEADER_EN = ["Date", "Description", "Additional Information", "Paid Out", "Paid In",
                 "Balance", "Document Date", "Document Number", "Partner's Account",
                 "Partner's Name", "Partner's Tax Code", "Partner's Bank Code",
                 "Intermediary Bank Code", "Charge Details", "Taxpayer Code",
                 "Taxpayer Name", "Treasury Code", "Op. Code", "Additional Description",
                 "Transaction ID"]


def _tbc_rows(entries: list[Entry], opening: str, *, excel: bool) -> list[list[object]]:
    balance = _d(opening)
    rows: list[list[object]] = []
    for e in entries:
        amount = _d(e.amount)
        balance += amount
        out = f"{-amount:.2f}" if amount < 0 else ""
        paid_in = f"{amount:.2f}" if amount > 0 else ""
        day: object = e.day if excel else e.day.strftime("%d/%m/%Y")
        rows.append([day, e.text, "", out, paid_in, f"{balance:.2f}", day, e.reference,
                     e.iban, e.name, e.tax_id, "", "", "", "", "", "", "GIB", "",
                     e.bank_id])
    return rows


def tbc_csv(entries: list[Entry], *, opening: str = "1000.00") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(TBC_HEADER_KA)
    writer.writerow(TBC_HEADER_EN)
    writer.writerows(_tbc_rows(entries, opening, excel=False))
    return buffer.getvalue().encode("utf-8")


def _xlsx(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def tbc_xlsx(entries: list[Entry], *, opening: str = "1000.00") -> bytes:
    """Data on the second sheet, the English header on row 2."""
    book = openpyxl.Workbook()
    assert book.active is not None
    book.active.title = "Info"
    book.active.append(["TBC Bank statement"])
    sheet = book.create_sheet("Statement")
    sheet.append(TBC_HEADER_KA)
    sheet.append(TBC_HEADER_EN)
    for row in _tbc_rows(entries, opening, excel=True):
        sheet.append(row)
    return _xlsx(book)


# ---------------------------------------------------------------------- Bank of Georgia

BOG_HEADER = ["Entry Date", "Document Date", "Account", "Currency", "Document Number",
              "Nomination", "Debit", "Credit", "Sender Name", "Sender Inn",
              "Sender Account Number", "Entry Comment", "Beneficiary Name",
              "Beneficiary Inn", "Beneficiary Account Number"]


def _excel_serial(day: date) -> int:
    return (day - date(1899, 12, 30)).days


def bog_xlsx(entries: list[Entry], *, iban: str = OUR_IBAN, currency: str = "GEL") -> bytes:
    """"Statement of Account" and "Summary"; debit G, credit H, currency D, comment L,
    Excel serial dates; the IBAN with its currency suffix above the header."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Statement of Account"
    sheet.append(["Account:", f"{iban}{currency}"])
    sheet.append(BOG_HEADER)
    for e in entries:
        amount = _d(e.amount)
        debit = float(-amount) if amount < 0 else None
        credit = float(amount) if amount > 0 else None
        sender = [e.name, e.tax_id, e.iban] if amount > 0 else ["Our company", "", iban]
        beneficiary = ["Our company", "", iban] if amount > 0 else [e.name, e.tax_id, e.iban]
        sheet.append([_excel_serial(e.day), _excel_serial(e.day), iban, currency,
                      e.bank_id or e.reference, e.text, debit, credit, *sender, e.text,
                      *beneficiary])
    summary = book.create_sheet("Summary")
    summary.append(["Opening balance", 0])
    return _xlsx(book)


def bog_csv(entries: list[Entry], *, currency: str = "GEL") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = ["GEL", "USD", "EUR", "GBP"]
    writer.writerow(["თარიღი", "დანიშნულება", *columns])
    for e in entries:
        row = [e.day.strftime("%d/%m/%Y"), e.text] + [
            e.amount if c == currency else "" for c in columns]
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")
