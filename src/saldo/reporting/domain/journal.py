"""The journal export's formats (issue 5, item 9): posted transactions as a plain-text journal that
other accounting tools read -- ``format=ledger`` for hledger and Ledger, ``format=
beancount`` for Beancount. ``GET /api/v1/companies/{cid}/export/journal``.

What the file holds, and what each format forbids:

* Every posted transaction dated in the range, in date and number order, closing
  transactions included (they are postings like any other; tagged ``kind: closing``).
  With ``opening=true`` and a ``date_from``, one "Opening balances" transaction on that day
  carries each account's balance from before it, so the tools' balances then equal the
  closing balances of Saldo's trial balance; without it they equal the turnover.
* Amounts in the base currency (GEL) with two decimals, as the read models keep them; a
  foreign-currency line says its own amount and rate in a comment (metadata in
  Beancount), never as a second commodity, so every tool's per-account total is in GEL.
* Account names: the top level by account type (``Assets``, ``Liabilities``, ``Equity``,
  ``Income``, ``Expenses`` -- the names hledger and Beancount recognise), then the code
  and the name in the chosen language. In Ledger's format a name ends at two spaces or a
  tab and ``:`` separates levels, so whitespace is collapsed and ``:`` becomes `` -``
  (``Expenses:7110 Cost of production - direct materials``). A Beancount component
  holds letters, digits and dashes and starts with a capital or a digit:
  ``Assets:1110-Cash-on-hand-GEL`` (Georgian letters are letters: ``lang=ka`` works in
  both formats).
* Free text (descriptions, references, line descriptions) stays as written, Georgian
  included (UTF-8), except what the formats would read as syntax: line breaks and
  control characters become spaces; ``;`` starts a comment in an hledger description
  (it becomes ``,``); in comments hledger reads ``word:`` as a tag, and a ``date:`` tag
  *changes the posting's date* (text such as "due date: Friday" would not even parse),
  while Ledger reads ``[...]`` as a date -- so in comments ``:`` becomes the fullwidth
  ``：`` and brackets become parentheses. Beancount strings escape ``\\`` and ``"``.
"""


from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from saldo.kernel.money import amount_text
from saldo.reporting.domain.parameters import UnsupportedFormat, check_choice

FORMATS = ("ledger", "beancount")

#: Where each account type lands at the top of the tools' account trees.
TOP_LEVEL = {"asset": "Assets", "liability": "Liabilities", "equity": "Equity",
             "revenue": "Income", "expense": "Expenses"}

#: The metadata a transaction may carry (declared: ``ledger --pedantic`` insists).
TAGS = ("saldo-id", "reference", "reverses", "kind")

#: Bytes gathered before a chunk of the file goes out.
CHUNK = 64 * 1024


# ---------------------------------------------------------------------- text rules

_SPACES = re.compile(r"\s+")


def one_line(text: str) -> str:
    """Control characters and line breaks as spaces, runs of whitespace as one space."""
    cleaned = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    return _SPACES.sub(" ", cleaned).strip()


def comment_text(text: str) -> str:
    """Free text safe inside a Ledger/hledger comment: no tags, no dates read from it."""
    return one_line(text).replace(":", "：").replace("[", "(").replace("]", ")")


def ledger_description(text: str) -> str:
    """A transaction description (hledger's ends at ``;``)."""
    return one_line(text).replace(";", ",")


def beancount_string(text: str) -> str:
    return '"' + one_line(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def amount(value: Decimal) -> str:
    """Two decimals, as the read models store base amounts: formatting only."""
    return amount_text(value)


# ---------------------------------------------------------------------- accounts


@dataclass(frozen=True, slots=True)
class JournalAccount:
    code: str
    name: str  # in the export's language
    type: str  # asset | liability | equity | revenue | expense

    @property
    def top(self) -> str:
        return TOP_LEVEL.get(self.type, "Equity")


def ledger_account(account: JournalAccount) -> str:
    """``Assets:1110 Cash on hand, GEL``: one level under the type, valid in hledger and
    Ledger (no ``:``, ``;``, tab or double space inside)."""
    name = one_line(f"{account.code} {account.name}".replace(":", " -").replace(";", ","))
    return f"{account.top}:{name}"


def _beancount_words(text: str) -> list[str]:
    """Runs of letters and decimal digits (any script), the characters Beancount allows
    in a component besides the dash."""
    words, word = [], []
    for c in text:
        if unicodedata.category(c)[0] == "L" or unicodedata.category(c) == "Nd":
            word.append(c)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return words


def beancount_account(account: JournalAccount) -> str:
    """``Assets:1110-Cash-on-hand-GEL``: the component starts with a capital or a digit
    (codes do), then letters, digits and dashes (``1910.01`` becomes ``1910-01``)."""
    component = "-".join(_beancount_words(f"{account.code} {account.name}"))
    first = component[:1]
    if not (first.isdigit() or unicodedata.category(first) == "Lu"):
        component = "A" + component
    return f"{account.top}:{component}"


# ---------------------------------------------------------------------- writers


@dataclass(frozen=True, slots=True)
class ExportInfo:
    company: str
    tax_id: str
    currency: str
    date_from: dt.date | None
    date_to: dt.date | None
    lang: str

    def period(self) -> str:
        return (f"{self.date_from.isoformat() if self.date_from else 'the first posting'}"
                f" .. {self.date_to.isoformat() if self.date_to else 'the last posting'}")


class JournalWriter(Protocol):
    media_extension: str
    currency: str

    def preamble(self, info: ExportInfo, accounts: Iterable[tuple[JournalAccount, dt.date]]
                 ) -> str: ...

    def declare(self, account: JournalAccount, day: dt.date) -> str: ...

    def opening(self, day: dt.date, balances: Mapping[str, Decimal]) -> str: ...

    def transaction(self, tx: Mapping[str, Any]) -> str: ...


def _number(tx: Mapping[str, Any]) -> str:
    """The gap-free number is per fiscal year: ``2025-17``."""
    return f"{tx['fiscal_year']}-{tx['number']}"


def _foreign(tx: Mapping[str, Any], line: Mapping[str, Any], base: str) -> str | None:
    """A foreign-currency line's own amount and rate (None in the base currency, and for
    rounding lines, which have a base amount only)."""
    currency = str(tx["currency"]).strip()
    value = Decimal(line["debit"]) - Decimal(line["credit"])
    if currency == base or not value:
        return None
    cents = value.quantize(Decimal("0.01"))
    shown = amount(cents) if cents == value else f"{value.normalize():f}"
    return f"{currency} {shown} @ {tx['exchange_rate']}"


class LedgerWriter:
    """Ledger's journal format, which hledger reads as well."""

    media_extension = "ledger"

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.names: dict[str, str] = {}
        self.width = 40

    def _posting(self, code: str, value: Decimal, note: str = "") -> str:
        name = self.names[code]
        line = f"    {name:<{self.width}}  {amount(value):>16} {self.currency}"
        return f"{line}  ; {note}" if note else line

    def preamble(self, info: ExportInfo, accounts: Iterable[tuple[JournalAccount, dt.date]]
                 ) -> str:
        accounts = list(accounts)
        for account, _ in accounts:
            self.names[account.code] = ledger_account(account)
        self.width = max([40, *(len(n) for n in self.names.values())])
        lines = [
            f"; Saldo journal export: {one_line(info.company)} (tax id {one_line(info.tax_id)})",
            f"; Posted transactions {info.period()}; amounts in {self.currency}, "
            "the base currency.",
            "; Read it with: hledger -f FILE balance   or   ledger -f FILE balance",
            "",
            f"commodity {self.currency}",
            f"    format 1000.00 {self.currency}",
            "",
            *(f"tag {t}" for t in TAGS),
            "",
            *(f"account {self.names[a.code]}" for a, _ in accounts),
            "",
        ]
        return "\n".join(lines) + "\n"

    def declare(self, account: JournalAccount, day: dt.date) -> str:
        self.names[account.code] = ledger_account(account)
        return f"account {self.names[account.code]}\n\n"

    def opening(self, day: dt.date, balances: Mapping[str, Decimal]) -> str:
        lines = [f"{day.isoformat()} * Opening balances",
                 f"    ; balances posted before {day.isoformat()}"]
        lines += [self._posting(code, balances[code]) for code in sorted(balances)]
        return "\n".join(lines) + "\n\n"

    def transaction(self, tx: Mapping[str, Any]) -> str:
        head = f"{tx['date'].isoformat()} * ({_number(tx)})"
        description = ledger_description(tx["description"])
        lines = [f"{head} {description}" if description else head,
                 f"    ; saldo-id: {tx['transaction_id']}"]
        if tx.get("reference"):
            lines.append(f"    ; reference: {comment_text(tx['reference'])}")
        if tx.get("reverses"):
            lines.append(f"    ; reverses: {tx['reverses']}")
        if tx.get("kind") and tx["kind"] != "regular":
            lines.append(f"    ; kind: {tx['kind']}")
        for line in tx["lines"]:
            notes = [comment_text(line["line_description"] or "")]
            foreign = _foreign(tx, line, self.currency)
            if foreign:
                notes.append(foreign)
            lines.append(self._posting(line["account_code"],
                                       Decimal(line["debit_base"])
                                       - Decimal(line["credit_base"]),
                                       " | ".join(n for n in notes if n)))
        return "\n".join(lines) + "\n\n"


class BeancountWriter:
    """Beancount's syntax (v2 and v3): ``open`` directives, an operating currency."""

    media_extension = "beancount"

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.names: dict[str, str] = {}
        self.width = 40

    def _posting(self, code: str, value: Decimal) -> str:
        return f"  {self.names[code]:<{self.width}}  {amount(value):>16} {self.currency}"

    def preamble(self, info: ExportInfo, accounts: Iterable[tuple[JournalAccount, dt.date]]
                 ) -> str:
        accounts = list(accounts)
        for account, _ in accounts:
            self.names[account.code] = beancount_account(account)
        self.width = max([40, *(len(n) for n in self.names.values())])
        lines = [
            f"; Saldo journal export: {one_line(info.company)} (tax id {one_line(info.tax_id)})",
            f"; Posted transactions {info.period()}; amounts in {self.currency}, "
            "the base currency.",
            "; Check it with: bean-check FILE",
            "",
            f"option \"title\" {beancount_string(info.company)}",
            f"option \"operating_currency\" \"{self.currency}\"",
            "",
            *(f"{day.isoformat()} open {self.names[a.code]} {self.currency}"
              for a, day in accounts),
            "",
        ]
        return "\n".join(lines) + "\n"

    def declare(self, account: JournalAccount, day: dt.date) -> str:
        self.names[account.code] = beancount_account(account)
        return f"{day.isoformat()} open {self.names[account.code]} {self.currency}\n\n"

    def opening(self, day: dt.date, balances: Mapping[str, Decimal]) -> str:
        lines = [f"{day.isoformat()} * \"Opening balances\"",
                 f"  note: \"balances posted before {day.isoformat()}\""]
        lines += [self._posting(code, balances[code]) for code in sorted(balances)]
        return "\n".join(lines) + "\n\n"

    def transaction(self, tx: Mapping[str, Any]) -> str:
        lines = [f"{tx['date'].isoformat()} * {beancount_string(tx['description'])}",
                 f"  saldo-id: \"{tx['transaction_id']}\"",
                 f"  number: \"{_number(tx)}\""]
        if tx.get("reference"):
            lines.append(f"  reference: {beancount_string(tx['reference'])}")
        if tx.get("reverses"):
            lines.append(f"  reverses: \"{tx['reverses']}\"")
        if tx.get("kind") and tx["kind"] != "regular":
            lines.append(f"  kind: \"{tx['kind']}\"")
        for line in tx["lines"]:
            lines.append(self._posting(line["account_code"],
                                       Decimal(line["debit_base"])
                                       - Decimal(line["credit_base"])))
            if line["line_description"]:
                lines.append(f"    description: {beancount_string(line['line_description'])}")
            foreign = _foreign(tx, line, self.currency)
            if foreign:
                lines.append(f"    original: \"{foreign}\"")
        return "\n".join(lines) + "\n\n"


def writer_for(fmt: str, currency: str) -> JournalWriter:
    check_choice(fmt, FORMATS, UnsupportedFormat, "format")
    return LedgerWriter(currency) if fmt == "ledger" else BeancountWriter(currency)


def journal_account(row: Mapping[str, Any] | None, code: str, lang: str) -> JournalAccount:
    if row is None:  # cannot happen: an account with postings is never deleted
        return JournalAccount(code, code, "equity")
    name = row["name_ka"] if lang == "ka" and row["name_ka"] else row["name"]
    return JournalAccount(code, name, row["type"])



def filename(tax_id: str, fmt_extension: str, date_from: dt.date | None,
             date_to: dt.date | None) -> str:
    who = re.sub(r"[^A-Za-z0-9]+", "", tax_id) or "company"
    span = "-".join(d.isoformat() for d in (date_from, date_to) if d) or "all"
    return f"journal-{who}-{span}.{fmt_extension}"


