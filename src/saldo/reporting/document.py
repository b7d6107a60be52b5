"""A report as a document: what every format (CSV, XLSX, PDF) renders.

The report builders (``service.py``) produce a :class:`ReportDocument`; the renderers
(``render.py``) turn it into bytes. Neither knows the other's details: a new report needs
no renderer change, a new format no report change. Labels are bilingual (:class:`Label`);
the renderer picks the language the client asked for (``?lang=ka|en``). Amounts stay
``Decimal`` until the renderer writes them (XLSX as numbers with a number format, never
as text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from saldo.reporting.domain.chart import Name

Language = Literal["en", "ka"]
ColumnKind = Literal["text", "money", "int", "date"]
RowStyle = Literal["normal", "heading", "subtotal", "total"]


#: A text in English and Georgian: the reporting domain's bilingual name, so that the
#: names of accounts and statement lines go into a document as they are.
Label = Name


Cell = str | Label | Decimal | int | date | None


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: Label
    kind: ColumnKind = "text"


@dataclass(frozen=True, slots=True)
class Row:
    cells: dict[str, Cell]
    #: Indentation: 0 for top-level lines, 1 for their accounts, ...
    level: int = 0
    style: RowStyle = "normal"


@dataclass(frozen=True, slots=True)
class ReportDocument:
    #: Machine name, also the file name stem: ``trial-balance``, ``balance-sheet``, ...
    name: str
    title: Label
    company_name: str
    tax_id: str
    #: What the figures cover, e.g. "2025-01-01 – 2025-12-31" or "as of 2025-12-31".
    period: Label
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    currency: str = "GEL"
    generated_at: datetime | None = None
    notes: tuple[Label, ...] = field(default_factory=tuple)
    #: Who signs the statement (the director, the chief accountant): a line each in a PDF.
    signatures: tuple[Label, ...] = field(default_factory=tuple)
