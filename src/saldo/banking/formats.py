"""Reading bank statement files: the format detected from the bytes, then parsed into a
:class:`~saldo.banking.domain.ParsedStatement` with findings at their rows.

Formats (``../shared/reference/bank-formats.md``, docs/banking.md):

* ISO 20022 camt.053 (``BkToCstmrStmt``), versions .001.02 to .001.08, read with
  defusedxml: a DTD, an entity or an external reference is refused, never expanded
  (XXE, billion laughs);
* SWIFT MT940, with or without the ``{1:}{2:}{4:`` envelope (our own reader: it reports
  the file's line number of every bad field; decision 0045);
* TBC Bank's CSV and XLSX exports (a Georgian and an English header row, DD/MM/YYYY);
* Bank of Georgia's business XLSX export ("Statement of Account", Excel serial dates,
  debit in G, credit in H, currency in D, "Entry Comment" in L) and personal CSV
  (``თარიღი, დანიშნულება, GEL, USD, EUR, GBP`` with signed amounts).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml

from saldo.banking.domain import (
    Finding,
    NotAStatement,
    ParsedStatement,
    StatementLine,
    UnsafeXml,
    check_balances,
    normalise_iban,
)

CAMT053 = "camt.053"
MT940 = "mt940"
TBC_CSV, TBC_XLSX = "tbc.csv", "tbc.xlsx"
BOG_XLSX, BOG_CSV = "bog.xlsx", "bog.csv"
FORMATS = (CAMT053, MT940, TBC_CSV, TBC_XLSX, BOG_XLSX, BOG_CSV)

_CAMT_NS = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(0[2-8])$")
_IBAN_IN_TEXT = re.compile(r"\bGE[0-9]{2}[A-Z]{2}[0-9]{16}")


def read_statement(content: bytes, *, currency_hint: str | None = None) -> ParsedStatement:
    """Detect the format and read it. Not a statement at all, or unsafe XML: an error;
    bad lines: findings in the result (the caller refuses the file)."""
    if content.startswith(b"PK\x03\x04"):
        return _read_xlsx(content, currency_hint)
    text = _decode(content)
    stripped = text.lstrip()
    if stripped.startswith("<"):
        return read_camt053(content)
    if stripped.startswith("{1:") or (re.search(r"^:20:", text, re.M) and re.search(
            r"^:(60F|60M|61):", text, re.M)):
        return read_mt940(text)
    if "\n" in stripped or "," in stripped or ";" in stripped:
        parsed = _read_csv(text, currency_hint)
        if parsed is not None:
            return parsed
    raise NotAStatement("The file is not a bank statement this version reads: camt.053 "
                        "XML, MT940, or a TBC or Bank of Georgia CSV/XLSX export.")


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-16" and not content.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        return text
    # Old exports in a Windows code page: cp1251 is never wrong byte-wise, and a text
    # that is not a statement is refused by the detection anyway.
    return content.decode("cp1251", errors="replace")


# ---------------------------------------------------------------------- values


def _amount(text: str) -> Decimal:
    """An amount as banks write it: ``1180.00``, ``1 180,00``, ``1,180.00``, ``-5.10``."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if not cleaned:
        raise ValueError("empty amount")
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(",", "")  # 1,180.00
    elif "," in cleaned:
        cleaned = cleaned.replace(",", ".")  # 1180,00 (MT940, European exports)
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", cleaned):
        raise ValueError(f"{text!r} is not an amount")
    try:
        return Decimal(cleaned)
    except InvalidOperation as exc:  # pragma: no cover - the pattern forbids it
        raise ValueError(f"{text!r} is not an amount") from exc


def _ddmmyyyy(text: str) -> date:
    text = text.strip()
    for pattern in ("%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (DD/MM/YYYY)")


_EXCEL_EPOCH = date(1899, 12, 30)


def _cell_date(value: object) -> date:
    """A spreadsheet date: a datetime (openpyxl read a date format), an Excel serial day
    number (1900 system: day 1 is 1900-01-01, with Lotus's phantom 29 Feb), or text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        serial = int(value)
        if not 1 <= serial <= 2958465:
            raise ValueError(f"{value!r} is not an Excel date")
        return _EXCEL_EPOCH + timedelta(days=serial)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[0-9]{5}(\.[0-9]+)?", text):
            return _cell_date(float(text))
        return _ddmmyyyy(text[:10])
    raise ValueError(f"{value!r} is not a date")


def _cell_amount(value: object) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an amount")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # Spreadsheet numbers are binary doubles: the shortest text that reads back
        # as the same double is what the bank wrote (1180.1, not 1180.0999...).
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    return _amount(str(value))


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# ---------------------------------------------------------------------- camt.053


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


_NAMESPACES: dict[str, str] = {}


def _ns(element: Element) -> str:
    """``{urn:...}`` of the element's tag: a camt document keeps one namespace, so a
    child's qualified name is its parent's namespace and its local name, and ``find``
    runs in C (ElementTree's accelerator) instead of a Python loop over children."""
    tag = element.tag
    found = _NAMESPACES.get(tag)
    if found is None:
        if len(_NAMESPACES) > 5000:  # a hostile file's made-up tags must not pile up
            _NAMESPACES.clear()
        found = _NAMESPACES[tag] = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
    return found


def _child(element: Element | None, *path: str) -> Element | None:
    """The first descendant along ``path`` of local names."""
    for name in path:
        if element is None:
            return None
        element = element.find(_ns(element) + name)
    return element


def _children(element: Element | None, name: str) -> list[Element]:
    return [] if element is None else element.findall(_ns(element) + name)


def _value(element: Element | None, *path: str) -> str:
    found = _child(element, *path)
    return (found.text or "").strip() if found is not None else ""


def _camt_date(element: Element | None) -> str:
    """``<Dt>2026-03-05</Dt>`` or ``<DtTm>2026-03-05T10:00:00</DtTm>`` -> the date part."""
    return (_value(element, "Dt") or _value(element, "DtTm"))[:10]


def _party(tx: Element | None, role: str) -> tuple[str, str, str]:
    """(name, IBAN, tax id) of the debtor or creditor in ``RltdPties``: .02-.07 put the
    name at ``Dbtr/Nm``, .08 at ``Dbtr/Pty/Nm``; the id under ``Id/OrgId/Othr/Id`` or
    ``Id/PrvtId/Othr/Id``."""
    parties = _child(tx, "RltdPties")
    who = _child(parties, role)
    party = _child(who, "Pty") or who
    name = _value(party, "Nm")
    tax_id = (_value(party, "Id", "OrgId", "Othr", "Id")
              or _value(party, "Id", "PrvtId", "Othr", "Id"))
    iban = _value(parties, role + "Acct", "Id", "IBAN")
    return name, iban, tax_id


def read_camt053(content: bytes) -> ParsedStatement:
    try:
        root = parse_xml(content, forbid_dtd=True, forbid_entities=True,
                         forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXml("The XML declares a DTD, an entity or an external reference; it "
                        "is refused without being expanded.", reason=type(exc).__name__
                        ) from None
    except ParseError as exc:
        row = exc.position[0] if getattr(exc, "position", None) else 0
        parsed = ParsedStatement(CAMT053)
        parsed.findings.append(Finding(row, "malformed_xml", f"the XML is not well formed: {exc}"))
        return parsed
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    version = _CAMT_NS.match(namespace)
    stmt_parent = _child(root, "BkToCstmrStmt")
    if version is None or stmt_parent is None:
        raise NotAStatement("The XML is not an ISO 20022 camt.053 statement (versions "
                            ".001.02 to .001.08).", namespace=namespace)
    parsed = ParsedStatement(f"{CAMT053}.001.{version.group(1)}")
    row = 0
    for stmt in _children(stmt_parent, "Stmt"):
        parsed.statement_id = parsed.statement_id or _value(stmt, "Id")
        iban = _value(stmt, "Acct", "Id", "IBAN")
        if iban:
            if parsed.iban and normalise_iban(iban) != parsed.iban:
                parsed.findings.append(Finding(0, "several_accounts",
                                               "the file holds statements of several accounts"))
            parsed.iban = normalise_iban(iban)
        parsed.currency = parsed.currency or _value(stmt, "Acct", "Ccy") or None
        for bal in _children(stmt, "Bal"):
            code = _value(bal, "Tp", "CdOrPrtry", "Cd")
            try:
                amount = _amount(_value(bal, "Amt"))
            except ValueError:
                parsed.findings.append(Finding(0, "malformed_amount",
                                               f"balance {code}: not an amount"))
                continue
            if _value(bal, "CdtDbtInd") == "DBIT":
                amount = -amount
            if code in ("OPBD", "PRCD") and parsed.opening_balance is None:
                parsed.opening_balance = amount
            elif code == "CLBD":
                parsed.closing_balance = amount
        for entry in _children(stmt, "Ntry"):
            row += 1
            line = _camt_entry(entry, row, parsed)
            if line is not None:
                parsed.lines.append(line)
    if parsed.currency is None and parsed.lines:
        parsed.currency = parsed.lines[0].currency or None
    if not parsed.refused:
        check_balances(parsed)
    return parsed


def _camt_entry(entry: Element, row: int, parsed: ParsedStatement) -> StatementLine | None:
    status = _value(entry, "Sts") or _value(entry, "Sts", "Cd")
    if status and status not in ("BOOK",):
        return None  # pending and information-only entries are not booked movements
    amt = _child(entry, "Amt")
    errors = []
    try:
        amount = _amount(amt.text or "" if amt is not None else "")
    except ValueError:
        errors.append(Finding(row, "malformed_amount", f"entry {row}: Amt is not an amount"))
        amount = Decimal(0)
    indicator = _value(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        errors.append(Finding(row, "malformed_entry",
                              f"entry {row}: CdtDbtInd must be CRDT or DBIT"))
    booked = _camt_date(_child(entry, "BookgDt"))
    try:
        booking_date = date.fromisoformat(booked)
    except ValueError:
        errors.append(Finding(row, "malformed_date",
                              f"entry {row}: BookgDt {booked!r} is not a date"))
        booking_date = date.min
    valued = _camt_date(_child(entry, "ValDt"))
    try:
        value_date = date.fromisoformat(valued) if valued else None
    except ValueError:
        errors.append(Finding(row, "malformed_date",
                              f"entry {row}: ValDt {valued!r} is not a date"))
        value_date = None
    if errors:
        parsed.findings.extend(errors)
        return None
    tx = _child(entry, "NtryDtls", "TxDtls")
    role = "Dbtr" if indicator == "CRDT" else "Cdtr"
    name, iban, tax_id = _party(tx, role)
    refs = _child(tx, "Refs")
    end_to_end = _value(refs, "EndToEndId")
    reference = end_to_end if end_to_end and end_to_end != "NOTPROVIDED" else ""
    reference = reference or _value(tx, "RmtInf", "Strd", "CdtrRefInf", "Ref")
    remittance = " ".join((u.text or "").strip()
                          for u in _children(_child(tx, "RmtInf"), "Ustrd"))
    description = remittance or _value(entry, "AddtlNtryInf") or _value(tx, "AddtlTxInf")
    bank_id = (_value(entry, "AcctSvcrRef") or _value(refs, "AcctSvcrRef")
               or _value(entry, "NtryRef") or _value(refs, "TxId"))
    currency = amt.get("Ccy", "") if amt is not None else ""
    return StatementLine(row, booking_date, amount if indicator == "CRDT" else -amount,
                         value_date, bank_id, reference, description, name, iban, tax_id,
                         currency)


# ---------------------------------------------------------------------- MT940

_ENVELOPE = re.compile(r"\{4:\s*(.*?)\n?-\}", re.S)
_TAG = re.compile(r"^:([0-9]{2}[A-Z]?):(.*)$")
_BALANCE = re.compile(r"^([CD])([0-9]{6})([A-Z]{3})([0-9]+,[0-9]*)$")
_LINE61 = re.compile(
    r"^(?P<value>[0-9]{6})(?P<entry>[0-9]{4})?(?P<mark>R?[CD])(?P<fund>[A-Z])?"
    r"(?P<amount>[0-9]+,[0-9]*)(?P<type>[NSF][A-Z0-9]{3})(?P<ref>.*?)"
    r"(?://(?P<bankref>.*))?$")


def _yymmdd(text: str) -> date:
    # SWIFT's two-digit years: 80-99 are 1980-1999, 00-79 are 2000-2079.
    year = int(text[:2])
    return date(1900 + year if year >= 80 else 2000 + year, int(text[2:4]), int(text[4:6]))


def read_mt940(text: str) -> ParsedStatement:
    """MT940, one or several messages. The envelope (``{1:..}{2:..}{4:`` ... ``-}``) is
    optional; tags start lines (``:61:``); ``:86:`` continues over following lines."""
    parsed = ParsedStatement(MT940)
    raw_lines = text.splitlines()
    # (file line number, tag, value) with continuation lines folded into their tag.
    fields: list[tuple[int, str, str]] = []
    for number, raw in enumerate(raw_lines, start=1):
        line = raw.rstrip("\r")
        if "{4:" in line:
            line = line.split("{4:", 1)[1]
        if line.strip() in ("-}", "-", "") or line.startswith("{"):
            continue
        match = _TAG.match(line)
        if match:
            fields.append((number, match.group(1), match.group(2).strip()))
        elif fields:
            row, tag, value = fields[-1]
            fields[-1] = (row, tag, value + ("\n" if tag == "86" else "") + line.strip())
    if not any(tag == "61" for _, tag, _ in fields) and not any(
            tag.startswith("60") for _, tag, _ in fields):
        raise NotAStatement("The text is not an MT940 statement (no :60F: or :61: field).")
    current: dict[str, Any] | None = None
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal current
        if current is not None:
            pending.append(current)
            current = None

    for row, tag, value in fields:
        if tag == "25":
            account = normalise_iban(value.split("/")[-1])
            found = _IBAN_IN_TEXT.search(account)
            iban = found.group(0) if found else account
            if parsed.iban and parsed.iban != iban:
                parsed.findings.append(Finding(row, "several_accounts",
                                               "the file holds statements of several accounts"))
            parsed.iban = iban
        elif tag == "20":
            parsed.statement_id = parsed.statement_id or value
        elif tag in ("60F", "60M", "62F", "62M"):
            balance = _BALANCE.match(value.replace(" ", ""))
            if balance is None:
                parsed.findings.append(Finding(row, "malformed_balance",
                                               f"line {row}: :{tag}: {value!r} is not a balance"))
                continue
            amount = _amount(balance.group(4))
            amount = -amount if balance.group(1) == "D" else amount
            parsed.currency = parsed.currency or balance.group(3)
            if tag == "60F" and parsed.opening_balance is None:
                parsed.opening_balance = amount
            if tag == "62F":
                parsed.closing_balance = amount
        elif tag == "61":
            flush()
            current = {"row": row, "value": value, "info": ""}
        elif tag == "86" and current is not None:
            current["info"] = value
            flush()
    flush()
    for item in pending:
        entry = _mt940_line(item["row"], item["value"], item["info"], parsed)
        if entry is not None:
            parsed.lines.append(entry)
    if not parsed.refused:
        check_balances(parsed)
    return parsed


def _info_fields(info: str) -> dict[str, str]:
    """Structured ``:86:`` (``?20`` ... ``?32`` subfields, German and Polish banks), or
    ``/NAME/.../`` keyword pairs; else nothing but the free text."""
    found: dict[str, str] = {}
    flat = info.replace("\n", "")
    if flat.startswith(("?", "0", "1")) and "?" in flat:
        for code, part in re.findall(r"\?([0-9]{2})([^?]*)", flat):
            found[code] = found.get(code, "") + part
    for key, value in re.findall(r"/([A-Z]{3,4})/([^/]*)", flat):
        found.setdefault(key, value.strip())
    return found


def _mt940_line(row: int, value: str, info: str,
                parsed: ParsedStatement) -> StatementLine | None:
    match = _LINE61.match(value.split("\n")[0])
    if match is None:
        parsed.findings.append(Finding(row, "malformed_line",
                                       f"line {row}: :61: {value!r} is not a statement line"))
        return None
    try:
        value_date = _yymmdd(match.group("value"))
    except ValueError:
        parsed.findings.append(Finding(row, "malformed_date",
                                       f"line {row}: value date {match.group('value')!r}"))
        return None
    booking_date = value_date
    if match.group("entry"):
        try:
            booking_date = date(value_date.year, int(match.group("entry")[:2]),
                                int(match.group("entry")[2:]))
        except ValueError:
            parsed.findings.append(Finding(row, "malformed_date",
                                           f"line {row}: entry date {match.group('entry')!r}"))
            return None
        # An entry date in January for a value date in December (or the reverse).
        if (booking_date - value_date).days > 180:
            booking_date = booking_date.replace(year=booking_date.year - 1)
        elif (value_date - booking_date).days > 180:
            booking_date = booking_date.replace(year=booking_date.year + 1)
    amount = _amount(match.group("amount"))
    mark = match.group("mark")
    # C credit, D debit; RC and RD are reversals of a credit (money out) or a debit (in).
    sign = 1 if mark in ("C", "RD") else -1
    reference = match.group("ref").strip()
    reference = "" if reference == "NONREF" else reference
    keyed = _info_fields(info)
    if keyed and any(k.isdigit() for k in keyed):
        description = "".join(keyed.get(str(n), "") for n in range(20, 30)).strip()
        name = (keyed.get("32", "") + keyed.get("33", "")).strip()
        iban = keyed.get("31", "").strip()
    else:
        description = keyed.get("REMI", "") or info.replace("\n", " ").strip()
        name = keyed.get("NAME", "")
        iban = keyed.get("IBAN", "")
    found = _IBAN_IN_TEXT.search(info.replace(" ", ""))
    if not iban and found:
        iban = found.group(0)
    return StatementLine(row, booking_date, sign * amount, value_date,
                         (match.group("bankref") or "").strip(), reference, description,
                         name, normalise_iban(iban) if iban else "", "", parsed.currency or "")


# ---------------------------------------------------------------------- TBC Bank

#: The English header of TBC's export (bank-formats.md, "TBC Bank"), matched without
#: regard to case, blanks and punctuation.
_TBC_COLUMNS = {
    "date": "date", "description": "description", "additionalinformation": "info",
    "paidout": "out", "paidin": "in", "balance": "balance", "documentnumber": "doc",
    "partnersaccount": "iban", "partnersname": "name", "partnerstaxcode": "tax_id",
    "transactionid": "id", "additionaldescription": "info2",
}


def _key(text: object) -> str:
    return re.sub(r"[^a-z]", "", _text(text).lower())


def _tbc_header(row: Sequence[object]) -> dict[str, int] | None:
    names = {_TBC_COLUMNS[k]: n for n, cell in enumerate(row) if (k := _key(cell)) in _TBC_COLUMNS}
    return names if {"date", "out", "in"} <= names.keys() else None


def _read_tbc(rows: Sequence[Sequence[object]], header_at: int, columns: dict[str, int],
              fmt: str, currency: str | None) -> ParsedStatement:
    parsed = ParsedStatement(fmt, currency=currency)

    def cell(row: Sequence[object], name: str) -> object:
        n = columns.get(name)
        return row[n] if n is not None and n < len(row) else None

    first_balance: tuple[Decimal, Decimal] | None = None
    last_balance: Decimal | None = None
    for index in range(header_at + 1, len(rows)):
        row, number = rows[index], index + 1
        if not any(_text(c) for c in row):
            continue
        errors = []
        try:
            day = _cell_date(cell(row, "date"))
        except ValueError as exc:
            errors.append(Finding(number, "malformed_date", f"row {number}: {exc}"))
        try:
            amount = _cell_amount(cell(row, "in")) - _cell_amount(cell(row, "out"))
        except ValueError as exc:
            errors.append(Finding(number, "malformed_amount", f"row {number}: {exc}"))
        balance = None
        if _text(cell(row, "balance")):
            try:
                balance = _cell_amount(cell(row, "balance"))
            except ValueError as exc:
                errors.append(Finding(number, "malformed_amount", f"row {number}: {exc}"))
        if errors:
            parsed.findings.extend(errors)
            continue
        if amount == 0:
            continue
        if balance is not None:
            if first_balance is None:
                first_balance = (balance, amount)
            last_balance = balance
        description = " ".join(p for p in (_text(cell(row, "description")),
                                           _text(cell(row, "info")),
                                           _text(cell(row, "info2"))) if p)
        iban = normalise_iban(_text(cell(row, "iban")))
        parsed.lines.append(StatementLine(
            number, day, amount, None, _text(cell(row, "id")), _text(cell(row, "doc")),
            description, _text(cell(row, "name")), iban, _text(cell(row, "tax_id")),
            currency or ""))
    if first_balance is not None and last_balance is not None:
        parsed.opening_balance = first_balance[0] - first_balance[1]
        parsed.closing_balance = last_balance
    return parsed


# ---------------------------------------------------------------------- Bank of Georgia

_BOG_CURRENCIES = ("GEL", "USD", "EUR", "GBP")


def _bog_business(rows: Sequence[Sequence[object]], currency: str | None) -> ParsedStatement:
    """"Statement of Account": a header row, then one row per entry -- the date in A (an
    Excel serial), the currency in D, debit in G, credit in H, "Entry Comment" in L;
    the counterparty's name, tax id (Inn) and account where a header names them."""
    parsed = ParsedStatement(BOG_XLSX)
    header_at = -1
    for index, row in enumerate(rows[:15]):
        keys = [_key(c) for c in row]
        if "entrycomment" in keys or ("debit" in " ".join(keys) and "credit" in " ".join(keys)):
            header_at = index
            break
    for row in rows[: max(header_at, 0) + 1]:
        for c in row:
            found = _IBAN_IN_TEXT.search(normalise_iban(_text(c)))
            if found and parsed.iban is None:
                parsed.iban = found.group(0)
                tail = normalise_iban(_text(c))[found.end():found.end() + 3]
                parsed.currency = tail if tail in _BOG_CURRENCIES else parsed.currency
    header = [_key(c) for c in rows[header_at]] if header_at >= 0 else []

    def col(*words: str) -> int | None:
        for n, name in enumerate(header):
            if all(w in name for w in words):
                return n
        return None

    name_col = col("beneficiary", "name") if col("beneficiary", "name") is not None else None
    sender_name = col("sender", "name")
    inn_cols = [c for c in (col("beneficiary", "inn"), col("sender", "inn")) if c is not None]
    acc_cols = [c for c in (col("beneficiary", "account"), col("sender", "account"))
                if c is not None]
    doc_col = col("document", "number")
    for index in range(header_at + 1, len(rows)):
        row, number = list(rows[index]), index + 1
        row += [None] * (12 - len(row))
        if not any(_text(c) for c in row):
            continue
        errors = []
        try:
            day = _cell_date(row[0])
        except ValueError as exc:
            errors.append(Finding(number, "malformed_date", f"row {number}: {exc}"))
        try:
            amount = _cell_amount(row[7]) - _cell_amount(row[6])
        except ValueError as exc:
            errors.append(Finding(number, "malformed_amount", f"row {number}: {exc}"))
        if errors:
            parsed.findings.extend(errors)
            continue
        if amount == 0:
            continue
        row_currency = _text(row[3]).upper()
        if row_currency:
            parsed.currency = parsed.currency or row_currency
            if parsed.currency != row_currency:
                parsed.findings.append(Finding(number, "currency_mismatch",
                                               f"row {number}: {row_currency} in a "
                                               f"{parsed.currency} statement"))
                continue

        def pick(cols: Sequence[int | None], row: list[object] = row) -> str:
            for c in cols:
                if c is not None and c < len(row) and _text(row[c]):
                    return _text(row[c])
            return ""

        # Money in: the sender is the other party; money out: the beneficiary.
        names = [sender_name, name_col] if amount > 0 else [name_col, sender_name]
        inns = inn_cols[::-1] if amount > 0 else inn_cols
        accs = acc_cols[::-1] if amount > 0 else acc_cols
        iban = normalise_iban(pick(accs))
        found = _IBAN_IN_TEXT.search(iban)
        parsed.lines.append(StatementLine(
            number, day, amount, None, pick([doc_col]), pick([doc_col]), _text(row[11]),
            pick(names), found.group(0) if found else iban, pick(inns),
            row_currency or currency or ""))
    parsed.currency = parsed.currency or currency
    return parsed


def _bog_personal(rows: Sequence[Sequence[str]], currency: str | None) -> ParsedStatement:
    """``თარიღი, დანიშნულება, GEL, USD, EUR, GBP``: a signed amount in the account's
    currency column."""
    parsed = ParsedStatement(BOG_CSV, currency=currency)
    header = [_text(c).upper() for c in rows[0]]
    wanted = currency or next((c for c in _BOG_CURRENCIES if c in header), "GEL")
    parsed.currency = wanted
    column = header.index(wanted) if wanted in header else None
    if column is None:
        parsed.findings.append(Finding(1, "currency_mismatch",
                                       f"the file has no {wanted} column"))
        return parsed
    for index in range(1, len(rows)):
        row, number = rows[index], index + 1
        if not any(c.strip() for c in row):
            continue
        value = row[column] if column < len(row) else ""
        if not value.strip():
            continue
        try:
            day = _ddmmyyyy(row[0])
            amount = _amount(value)
        except ValueError as exc:
            parsed.findings.append(Finding(number, "malformed_line", f"row {number}: {exc}"))
            continue
        if amount:
            parsed.lines.append(StatementLine(number, day, amount, None, "", "",
                                              row[1].strip() if len(row) > 1 else "", "", "",
                                              "", wanted))
    return parsed


# ---------------------------------------------------------------------- CSV and XLSX


def _read_csv(text: str, currency: str | None) -> ParsedStatement | None:
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        # newline="": the csv module reads line ends itself (a lone CR inside a field is
        # data, not a broken line); what it still cannot read is not a statement.
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error:
        return None
    for index, row in enumerate(rows[:5]):
        columns = _tbc_header(row)
        if columns is not None:
            return _read_tbc(rows, index, columns, TBC_CSV, currency)
    if rows and rows[0] and rows[0][0].strip().lstrip("\ufeff") == "თარიღი":
        return _bog_personal(rows, currency)
    return None


def _read_xlsx(content: bytes, currency: str | None) -> ParsedStatement:
    import openpyxl  # a heavy import, only for spreadsheets

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise NotAStatement(f"The file is not a readable XLSX workbook: {exc}") from None
    try:
        sheets: list[tuple[str, list[tuple[object, ...]]]] = [
            (ws.title, [tuple(r) for r in ws.iter_rows(values_only=True)])
            for ws in book.worksheets]
    finally:
        book.close()
    readers: list[Callable[[], ParsedStatement | None]] = []
    for title, rows in sheets:
        for index, row in enumerate(rows[:10]):
            columns = _tbc_header(row)
            if columns is not None:
                return _read_tbc(rows, index, columns, TBC_XLSX, currency)
        if title.strip().lower() == "statement of account":
            readers.append(lambda rows=rows: _bog_business(rows, currency))  # type: ignore[misc]
    for read in readers:
        parsed = read()
        if parsed is not None:
            return parsed
    raise NotAStatement("The workbook is neither a TBC export (a 'Paid Out'/'Paid In' header) "
                        "nor a Bank of Georgia one (a 'Statement of Account' sheet).")


__all__ = ["FORMATS", "read_statement"]
