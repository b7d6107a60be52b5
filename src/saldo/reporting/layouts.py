"""How each report is laid out as a :class:`~saldo.reporting.document.ReportDocument`: its
columns, rows, titles, notes and signatures in English and Georgian, for the renderers
(CSV, XLSX, PDF). Pure functions of a report built by the service; no I/O."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from saldo.ledger.service import CompanySettings
from saldo.reporting import domain as d
from saldo.reporting.document import Column, Label, ReportDocument, Row, RowStyle

#: The statements a director and a chief accountant sign (management approves them, IAS
#: 10.17; Georgian practice, docs/reporting.md §8a): a signature line each in a PDF.
SIGNED = ("balance-sheet", "profit-and-loss", "comprehensive-income", "cash-flow",
          "changes-in-equity", "financial-statements")
SIGNATURES = (Label("Director", "დირექტორი"), Label("Chief accountant", "მთავარი ბუღალტერი"))


def document(report: object, company: CompanySettings, now: datetime) -> ReportDocument:
    """The report as the renderers' document model."""
    builders: list[tuple[type[Any], Callable[[Any], tuple[str, Label, Label,
                                                         tuple[Column, ...],
                                                         list[Row]]]]] = [
        (d.TrialBalance, _trial_balance_document),
        (d.GeneralLedger, _general_ledger_document),
        (d.FinancialPosition, _position_document),
        (d.ProfitOrLoss, _profit_or_loss_document),
        (d.ComprehensiveIncome, _comprehensive_document),
        (d.CashFlows, lambda cf: _cash_flow_document(cf, cf.prior)),
        (d.ChangesInEquity, _equity_document),
    ]
    for kind, build in builders:
        if isinstance(report, kind):
            return _document(company, now, *build(report))
    if isinstance(report, d.AnnualSet):
        return _document(company, now, "financial-statements",
                              L("Financial statements", "ფინანსური ანგარიშგება"),
                              _range_label(report.date_from, report.date_to), (), [])
    raise TypeError(f"not a report: {type(report).__name__}")

def _document(company: CompanySettings, now: datetime, name: str, title: Label, period: Label,
              columns: tuple[Column, ...], rows: list[Row]) -> ReportDocument:
    return ReportDocument(name, title, company.name, company.tax_id, period, columns,
                          tuple(rows), company.base_currency, now,
                          NOTES.get(name, ()), SIGNATURES if name in SIGNED else ())

def set_documents(report: d.AnnualSet, company: CompanySettings,
                  now: datetime) -> list[ReportDocument]:
    """The annual set as one document per statement, in the order of IAS 1.10;
    signatures once, under the last."""
    flows = report.cash_flows
    built = [_position_document(report.financial_position),
             _profit_or_loss_document(report.profit_or_loss),
             _comprehensive_document(report.comprehensive_income),
             _cash_flow_document(flows[0], flows[1] if len(flows) > 1 else None),
             *(_equity_document(ce) for ce in reversed(report.changes_in_equity))]
    docs = [dataclasses.replace(_document(company, now, *b), signatures=())
            for b in built]
    docs[-1] = dataclasses.replace(docs[-1], signatures=SIGNATURES)
    return docs


# ---------------------------------------------------------------------- document layouts

L = Label
TOTAL = L("Total", "სულ")
_ACCOUNT = Column("code", L("Account", "ანგარიში"))
_LINE = Column("line", L("Line", "მუხლი"))
_NAME = Column("name", L("Name", "დასახელება"))
NOTES: dict[str, tuple[Label, ...]] = {
    "balance-sheet": (L("Assets are shown as debit − credit, equity and liabilities as "
                        "credit − debit. Profit not yet closed to retained earnings is "
                        "shown in equity.",
                        "აქტივები ნაჩვენებია როგორც დებეტი − კრედიტი, კაპიტალი და "
                        "ვალდებულებები როგორც კრედიტი − დებეტი. დაუხურავი მოგება "
                        "ნაჩვენებია საკუთარ კაპიტალში."),),
    "profit-and-loss": (L("Income is positive, expenses negative; year-end closing "
                          "entries are excluded.",
                          "შემოსავალი დადებითია, ხარჯი უარყოფითი; წლის დახურვის "
                          "გატარებები არ არის გათვალისწინებული."),),
    "cash-flow": (L("Cash and cash equivalents: the accounts whose cash-flow activity is "
                    "cash (1100 and 1200 in the standard chart). Each account's activity "
                    "decides where its cash flows are shown (IAS 7).",
                    "ფულადი სახსრები: ანგარიშები, რომელთა ფულადი ნაკადის საქმიანობაა "
                    "„ფული“ (სტანდარტულ გეგმაში 1100 და 1200)."),),
}


def _range_label(start: date, end: date) -> Label:
    text = f"{start.isoformat()} – {end.isoformat()}"
    return Label(text, text)


def _as_of(day: date) -> Label:
    return Label(f"as of {day.isoformat()}", f"{day.isoformat()}-ის მდგომარეობით")


def _money(key: str, label: Label) -> Column:
    return Column(key, label, "money")


Built = tuple[str, Label, Label, tuple[Column, ...], list[Row]]


def _trial_balance_document(tb: d.TrialBalance) -> Built:
    columns = (_ACCOUNT, _NAME,
               _money("opening_debit", L("Opening debit", "საწყისი ნაშთი დებეტი")),
               _money("opening_credit", L("Opening credit", "საწყისი ნაშთი კრედიტი")),
               _money("debit", L("Debit turnover", "ბრუნვა დებეტი")),
               _money("credit", L("Credit turnover", "ბრუნვა კრედიტი")),
               _money("closing_debit", L("Closing debit", "საბოლოო ნაშთი დებეტი")),
               _money("closing_credit", L("Closing credit", "საბოლოო ნაშთი კრედიტი")))
    rows = [Row({"code": r.account.code, "name": r.account.label,
                 **dict(zip(d.TB_COLUMNS, r.columns, strict=True))},
                level=r.depth if tb.level == "all" else 0,
                style="heading" if tb.level == "all" and not r.account.postable else "normal")
            for r in tb.rows]
    rows.append(Row({"code": None, "name": TOTAL, **dict(zip(d.TB_COLUMNS, tb.totals,
                                                              strict=True))}, style="total"))
    return ("trial-balance", L("Turnover trial balance", "ბრუნვითი უწყისი"),
            _range_label(tb.date_from, tb.date_to), columns, rows)


def _general_ledger_document(gl: d.GeneralLedger) -> Built:
    columns = (Column("date", L("Date", "თარიღი"), "date"),
               Column("number", L("No.", "ნომერი"), "int"),
               Column("description", L("Description", "შინაარსი")),
               Column("counter", L("Counter accounts", "კორესპონდენტი ანგარიშები")),
               _money("debit", L("Debit", "დებეტი")), _money("credit", L("Credit", "კრედიტი")),
               _money("balance", L("Balance", "ნაშთი")))
    rows: list[Row] = []
    for card in gl.cards:
        a = card.account
        rows.append(Row({"description": L(f"{a.code} {a.name}", f"{a.code} {a.name_ka}")},
                        style="heading"))
        rows.append(Row({"date": gl.date_from,
                         "description": L("Opening balance", "საწყისი ნაშთი"),
                         "balance": card.opening}, level=1))
        rows.extend(Row({"date": ln.day, "number": ln.number, "description": ln.description,
                         "counter": ", ".join(ln.counter_accounts), "debit": ln.debit,
                         "credit": ln.credit, "balance": ln.balance}, level=1)
                    for ln in card.lines)
        rows.append(Row({"date": gl.date_to, "description": L("Turnover and closing balance",
                                                              "ბრუნვა და საბოლოო ნაშთი"),
                         "debit": card.debit, "credit": card.credit, "balance": card.closing},
                        level=1, style="subtotal"))
    title = L("General ledger", "მთავარი წიგნი") if gl.account is None or len(gl.cards) != 1 \
        else L(f"Account card {gl.account}", f"ანგარიშის ბარათი {gl.account}")
    return ("general-ledger", title, _range_label(gl.date_from, gl.date_to), columns, rows)


def _amount_columns(first: Label, second: Label | None) -> tuple[Column, ...]:
    columns = [_LINE, _ACCOUNT, _money("amount", first)]
    if second is not None:
        columns.append(_money("comparative", second))
    return tuple(columns)


def _amounts(amounts: tuple[Decimal, ...]) -> dict[str, Decimal]:
    return dict(zip(("amount", "comparative"), amounts, strict=False))


def _line_rows(line: d.Line, level: int) -> list[Row]:
    style = {"subtotal": "subtotal", "total": "total"}.get(line.kind, "normal")
    rows = [Row({"line": line.name, "code": line.code, **_amounts(line.amounts)},
                level=level, style=style)]  # type: ignore[arg-type]
    for child in line.children:
        rows.extend(_line_rows(child, level + 1))
    return rows


def _position_document(fp: d.FinancialPosition) -> Built:
    columns = _amount_columns(_as_of(fp.as_of), _as_of(fp.compare_to) if fp.compare_to
                              else None)
    rows: list[Row] = []
    sides = {"assets": L("Assets", "აქტივები"),
             "equity_and_liabilities": L("Equity and liabilities",
                                         "საკუთარი კაპიტალი და ვალდებულებები")}
    for side, heading in sides.items():
        rows.append(Row({"line": heading}, style="heading"))
        for section in fp.sections:
            if section.side != side:
                continue
            rows.append(Row({"line": section.name}, level=1, style="heading"))
            for line in section.lines:
                rows.extend(_line_rows(line, 2))
            rows.append(Row({"line": L(f"Total {section.name.en.lower()}",
                                       f"სულ: {section.name.ka}"), **_amounts(section.total)},
                            level=1, style="subtotal"))
        if side == "assets":
            rows.append(Row({"line": d.TOTAL_ASSETS, **_amounts(fp.total_assets)},
                            style="total"))
    rows.append(Row({"line": d.TOTAL_EQUITY, **_amounts(fp.total_equity)},
                    style="subtotal"))
    rows.append(Row({"line": d.TOTAL_LIABILITIES, **_amounts(fp.total_liabilities)},
                    style="subtotal"))
    rows.append(Row({"line": d.TOTAL_EQUITY_AND_LIABILITIES,
                     **_amounts(fp.total_equity_and_liabilities)}, style="total"))
    return ("balance-sheet", L("Statement of financial position",
                               "ფინანსური მდგომარეობის ანგარიშგება"),
            _as_of(fp.as_of), columns, rows)


def _profit_or_loss_document(pl: d.ProfitOrLoss) -> Built:
    columns = _amount_columns(_range_label(pl.date_from, pl.date_to),
                              _range_label(*pl.compare) if pl.compare else None)
    rows = [row for line in pl.lines for row in _line_rows(line, 0)]
    if pl.disclosures:
        rows.append(Row({"line": L("Expenses by nature included above (IAS 1.104)",
                                   "ზემოთ ასახული ხარჯები ბუნების მიხედვით")},
                        style="heading"))
        rows += [row for line in pl.disclosures for row in _line_rows(line, 1)]
    layout = L("by nature", "ხარჯები ბუნების მიხედვით") if pl.layout == "nature" \
        else L("by function", "ხარჯები ფუნქციის მიხედვით")
    return ("profit-and-loss", L(f"Statement of profit or loss ({layout.en})",
                                 f"მოგებისა და ზარალის ანგარიშგება ({layout.ka})"),
            _range_label(pl.date_from, pl.date_to), columns, rows)


def _comprehensive_document(ci: d.ComprehensiveIncome) -> Built:
    columns = _amount_columns(_range_label(ci.date_from, ci.date_to),
                              _range_label(*ci.compare) if ci.compare else None)
    rows = [row for line in ci.lines for row in _line_rows(line, 0)]
    return ("comprehensive-income", L("Statement of comprehensive income",
                                      "სრული შემოსავლის ანგარიშგება"),
            _range_label(ci.date_from, ci.date_to), columns, rows)


def _cash_flow_document(cf: d.CashFlows, prior: d.CashFlows | None = None) -> Built:
    """One column, or two with the year before (lines of either year, in this year's
    order, then the year before's others)."""
    method = L("indirect method", "არაპირდაპირი მეთოდი") if cf.method == "indirect" \
        else L("direct method", "პირდაპირი მეთოდი")
    columns = _amount_columns(_range_label(cf.date_from, cf.date_to),
                              _range_label(prior.date_from, prior.date_to) if prior
                              else None)

    def pair(now: Decimal, then: Decimal) -> dict[str, Decimal]:
        return {"amount": now, **({"comparative": then} if prior else {})}

    rows: list[Row] = []
    for section in cf.sections:
        before = prior.section(section.key) if prior else None
        rows.append(Row({"line": section.name}, style="heading"))
        previous = {x.key: x for x in before.lines} if before else {}
        keys = [x.key for x in section.lines] + [k for k in previous
                                                 if k not in {x.key for x in section.lines}]
        current = {x.key: x for x in section.lines}
        for key in keys:
            line = current.get(key) or previous[key]
            style: RowStyle = "subtotal" if line.kind == "subtotal" else "normal"
            rows.append(Row({"line": line.name, "code": line.code,
                             **pair(current[key].amounts[0] if key in current else d.ZERO,
                                    previous[key].amounts[0] if key in previous
                                    else d.ZERO)}, level=1, style=style))
        rows.append(Row({"line": section.total_name,
                         **pair(section.total, before.total if before else d.ZERO)},
                        style="subtotal"))
    rows.append(Row({"line": d.NET_CHANGE, **pair(cf.net_change, prior.net_change
                                                   if prior else d.ZERO)}, style="total"))
    rows.append(Row({"line": d.OPENING_CASH, **pair(cf.opening_cash, prior.opening_cash
                                                     if prior else d.ZERO)}))
    if cf.fx_effect or (prior and prior.fx_effect):
        rows.append(Row({"line": d.FX_EFFECT, **pair(cf.fx_effect, prior.fx_effect
                                                      if prior else d.ZERO)}))
    rows.append(Row({"line": d.CLOSING_CASH, **pair(cf.closing_cash, prior.closing_cash
                                                     if prior else d.ZERO)}, style="total"))
    disclosed = [*cf.non_cash_transactions, *(prior.non_cash_transactions if prior else ())]
    if disclosed:
        rows.append(Row({"line": d.NON_CASH}, style="heading"))
        for t in disclosed:
            text = f"{t.date.isoformat() if t.date else ''} No. {t.number} {t.description}"
            rows.append(Row({"line": L(text, text.replace("No.", "№")),
                             "code": ", ".join(t.accounts),
                             **pair(t.amount if t in cf.non_cash_transactions else d.ZERO,
                                    d.ZERO if t in cf.non_cash_transactions else t.amount)},
                            level=1))
    title = L(f"Statement of cash flows ({method.en})",
              f"ფულადი სახსრების მოძრაობის ანგარიშგება ({method.ka})")
    return ("cash-flow", title, _range_label(cf.date_from, cf.date_to), columns, rows)


def _equity_document(ce: d.ChangesInEquity) -> Built:
    columns = (Column("row", L("", "")), *(_money(k, n)
                                          for k, _, n in d.EQUITY_COLUMNS))
    rows = [Row({"row": name, **values},
                style="subtotal" if key in ("opening", "closing",
                                            "total_comprehensive_income") else "normal")
            for key, name, values in ce.rows]
    for e in ce.exceptions:  # each movement no row explains, with its transaction
        text = f"{e.date.isoformat() if e.date else ''} No. {e.number}"
        rows.append(Row({"row": L(f"Exception: {text}", f"გამონაკლისი: {text}"),
                         **e.amounts}, level=1))
    return ("changes-in-equity", L("Statement of changes in equity",
                                   "საკუთარ კაპიტალში ცვლილებების ანგარიშგება"),
            _range_label(ce.date_from, ce.date_to), columns, rows)
