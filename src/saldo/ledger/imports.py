"""Reading a journal from CSV: parsing and format checks only, no database.

The file has one row per journal line and this header (any column order)::

    transaction,date,description,reference,currency,exchange_rate,account,debit,credit,line_description

Consecutive rows with the same ``transaction`` value form one transaction. Its
transaction-level fields (``date``, ``description``, ``reference``, ``currency``,
``exchange_rate``) come from its first row; later rows may leave them empty, and a
different value there is a finding. Example (a sale with 18% VAT)::

    transaction,date,description,reference,currency,exchange_rate,account,debit,credit,line_description
    S-1,2025-01-15,Sale of goods,INV-1,,,1410,1180.00,,მყიდველი
    S-1,,,,,,6110,,1000.00,Revenue
    S-1,,,,,,3330,,180.00,Output VAT 18%

The ``transaction`` values are the transactions' idempotency keys, scoped to the company:
importing a file again posts only what was not posted before and counts the rest as
skipped (a value posted before with other content is a finding).

Every problem becomes a :class:`Finding` naming the CSV line (the header is line 1),
never an exception, so a user fixes the whole file in one pass. The accounting rules
(balance, accounts, periods) are the ledger's: the service checks them when it posts.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

from saldo.ledger.domain import ContentInput, Finding, LineDraft

HEADER = ("transaction", "date", "description", "reference", "currency", "exchange_rate",
          "account", "debit", "credit", "line_description")
#: Fields of the transaction, taken from its first row.
TRANSACTION_FIELDS = ("date", "description", "reference", "currency", "exchange_rate")

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
#: A plain decimal: digits, optionally a point and more digits. No sign, exponent,
#: thousands separator or currency symbol -- "1,000.00" is ambiguous in Georgia, where
#: the decimal comma is common, so it is refused rather than guessed.
_AMOUNT = re.compile(r"^[0-9]+(\.[0-9]+)?$")
MAX_REFERENCE = 100
MAX_TEXT = 500


@dataclass(slots=True)
class _Open:
    """The transaction being read: its key, first line and collected lines."""

    key: str
    row: int
    fields: dict[str, str]
    lines: list[LineDraft]
    bad: bool = False
    #: The rest of a transaction met earlier: reported once, where it reappears.
    split: bool = False


def read_journal(path: str) -> tuple[list[tuple[int, ContentInput]], list[Finding]]:
    """:func:`parse_journal` of a file's bytes."""
    with open(path, "rb") as f:
        return parse_journal(f.read())


def parse_journal(data: bytes | str) -> tuple[list[tuple[int, ContentInput]], list[Finding]]:
    """The transactions of a journal CSV (UTF-8, with or without a byte-order mark), each
    with the line of its first row, and the findings. Transactions with a finding are
    left out; a caller that must be all-or-nothing posts nothing when there are any."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            return [], [Finding(line, "invalid_encoding",
                                f"Byte {exc.start + 1} is not UTF-8; save the file as "
                                "UTF-8 (CSV UTF-8 in spreadsheet programs).")]
    else:
        text = data.removeprefix("\ufeff")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            return [], [Finding(text.count("\n", 0, exc.start) + 1, "invalid_encoding",
                                "The text holds a lone surrogate, which is not Unicode.")]
    if "\0" in text:  # PostgreSQL text cannot hold NUL: bad input, not a driver error
        return [], [Finding(text.count("\n", 0, text.index("\0")) + 1, "invalid_csv",
                            "The file contains a NUL character; it is not a text file.")]
    if not text.strip():
        return [], [Finding(1, "empty_file", "The file is empty; it needs the header line "
                                             f"{','.join(HEADER)} and one row per journal line.")]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    findings: list[Finding] = []
    transactions: list[tuple[int, ContentInput]] = []
    try:
        header = next(reader)
        columns = _columns(header, findings)
        if columns is None:
            return [], findings
        current: _Open | None = None
        seen: dict[str, int] = {}  # transaction key -> its first line
        while True:
            line = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            if not any(cell.strip() for cell in record):
                continue  # a blank line
            if len(record) != len(columns):
                what = "missing_columns" if len(record) < len(columns) else "extra_columns"
                findings.append(Finding(line, what, f"The row has {len(record)} columns; the "
                                                    f"header has {len(columns)}."))
                if current is not None:
                    current.bad = True
                continue
            row = {name: cell.strip() for name, cell in zip(columns, record, strict=True)}
            key = row["transaction"]
            if not key:
                findings.append(Finding(line, "missing_transaction",
                                        "The transaction column is empty; rows of one "
                                        "transaction share a value such as T-1."))
                continue
            if current is None or key != current.key:
                if current is not None:
                    _close(current, transactions, findings)
                if key in seen:
                    # The part read earlier is not a transaction of its own either.
                    transactions = [t for t in transactions if t[0] != seen[key]]
                    findings.append(Finding(
                        line, "split_transaction",
                        f"Transaction {key!r} started at line {seen[key]} and continues "
                        "here after other rows; keep its rows together."))
                    current = _Open(key, line, {f: row[f] for f in TRANSACTION_FIELDS}, [],
                                    bad=True, split=True)
                    continue
                seen[key] = line
                current = _Open(key, line, {f: row[f] for f in TRANSACTION_FIELDS}, [])
            else:
                for name in TRANSACTION_FIELDS:
                    if row[name] and row[name] != current.fields[name]:
                        current.bad = True
                        findings.append(Finding(
                            line, "conflicting_value",
                            f"{name} {row[name]!r} differs from {current.fields[name]!r} on "
                            f"line {current.row}, the transaction's first row; leave it "
                            "empty on later rows."))
            entry = _entry(row, line, findings)
            if entry is None:
                current.bad = True
            else:
                current.lines.append(entry)
        if current is not None:
            _close(current, transactions, findings)
    except csv.Error as exc:
        findings.append(Finding(reader.line_num or 1, "invalid_csv",
                                f"The file is not valid CSV here: {exc}."))
        return [], findings
    if not transactions and not findings:
        findings.append(Finding(2, "no_transactions", "The file has a header but no rows."))
    return transactions, sorted(findings, key=lambda f: f.row)


def _columns(header: list[str], findings: list[Finding]) -> list[str] | None:
    names = [h.strip().lower() for h in header]
    missing = [h for h in HEADER if h not in names]
    unknown = [h for h in names if h not in HEADER]
    doubled = sorted({h for h in names if names.count(h) > 1})
    if not (missing or unknown or doubled):
        return names
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if unknown:
        parts.append(f"unknown {', '.join(repr(u) for u in unknown)}")
    if doubled:
        parts.append(f"repeated {', '.join(doubled)}")
    hint = " Columns are separated by commas, not semicolons." if len(names) == 1 and \
        ";" in names[0] else ""
    findings.append(Finding(1, "invalid_header",
                            f"The header must name the columns {','.join(HEADER)} "
                            f"({'; '.join(parts)}).{hint}"))
    return None


def _entry(row: dict[str, str], line: int, findings: list[Finding]) -> LineDraft | None:
    ok = True
    if not row["account"]:
        findings.append(Finding(line, "missing_account", "The account column is empty."))
        ok = False
    for side in ("debit", "credit"):
        value = row[side]
        if value and not _AMOUNT.fullmatch(value):
            sign = " Amounts are positive; put a credit in the credit column." \
                if value.startswith("-") else ""
            findings.append(Finding(line, "invalid_amount",
                                    f"{side} {value!r} is not a plain decimal such as "
                                    f"1180.00.{sign}"))
            ok = False
    if ok and bool(row["debit"]) == bool(row["credit"]):
        findings.append(Finding(line, "invalid_entry",
                                "A line has an amount in exactly one of debit and credit."))
        ok = False
    if len(row["line_description"]) > MAX_TEXT:
        findings.append(Finding(line, "invalid_entry",
                                f"line_description is longer than {MAX_TEXT} characters."))
        ok = False
    if not ok:
        return None
    return LineDraft(row["account"], row["debit"] or None, row["credit"] or None,
                     description=row["line_description"])


def _close(tx: _Open, out: list[tuple[int, ContentInput]], findings: list[Finding]) -> None:
    if tx.split:
        return
    f = tx.fields
    day: date | None = None
    if not f["date"]:
        findings.append(Finding(tx.row, "missing_date",
                                "The transaction's first row has no date (YYYY-MM-DD)."))
    else:
        try:
            if not _DATE.fullmatch(f["date"]):
                raise ValueError(f["date"])
            day = date.fromisoformat(f["date"])
        except ValueError:
            findings.append(Finding(tx.row, "invalid_date",
                                    f"date {f['date']!r} is not a date such as 2025-01-31."))
    if f["exchange_rate"] and not _AMOUNT.fullmatch(f["exchange_rate"]):
        findings.append(Finding(tx.row, "invalid_amount",
                                f"exchange_rate {f['exchange_rate']!r} is not a plain "
                                "decimal such as 2.7000 (GEL per one unit)."))
        tx.bad = True
    if len(f["reference"]) > MAX_REFERENCE:
        findings.append(Finding(tx.row, "invalid_entry",
                                f"reference is longer than {MAX_REFERENCE} characters."))
        tx.bad = True
    if len(f["description"]) > MAX_TEXT:
        findings.append(Finding(tx.row, "invalid_entry",
                                f"description is longer than {MAX_TEXT} characters."))
        tx.bad = True
    if tx.bad or day is None:
        return
    # The file's transaction value is the idempotency key: importing the file again (after
    # a crash, or by mistake) posts only the transactions not posted before.
    out.append((tx.row, ContentInput(day, f["description"], tx.lines,
                                     f["reference"] or None, f["currency"] or None,
                                     f["exchange_rate"] or None, key=tx.key)))
