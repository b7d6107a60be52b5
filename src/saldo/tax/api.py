"""Tax's HTTP edge (../shared/api/v1.md "VAT codes" and "VAT"): the VAT return (JSON, PDF,
XLSX), its filing, the VAT registers, the registration monitor and the tax calendar (JSON
and an iCalendar feed)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from saldo.billing.service import VAT_CODE_TABLE
from saldo.identity.api import CompanyContext, Permission, require
from saldo.kernel.money import amount_text
from saldo.platform.http import Date, StrictRoute, problem_responses
from saldo.tax import domain as d
from saldo.tax.service import TaxService


async def tax_service(request: Request) -> TaxService:
    return cast(TaxService, request.app.state.tax)


Tax = Annotated[TaxService, Depends(tax_service)]
TaxReader = Annotated[CompanyContext, Depends(require(Permission.REPORTS_TAX))]
DocsReader = Annotated[CompanyContext, Depends(require(Permission.DOCUMENTS_READ))]
#: Filing a return records it as filed (a write): the chief accountant's, not a reader's
#: (auditors and tax specialists read tax reports and change nothing).
TaxFiler = Annotated[CompanyContext, Depends(require(Permission.DOCUMENTS_APPROVE))]
_ERRORS = (400, 401, 403, 404, 422)
Period = Annotated[str, Path(min_length=7, max_length=7, examples=["2026-03"])]


def _money(value: Decimal) -> str:
    return amount_text(value)


class VatLineOut(BaseModel):
    box: str
    label: str
    label_ka: str
    base: str
    vat: str


class FindingOut(BaseModel):
    code: str
    message: str
    document_id: Any = None
    number: str | None = None
    kind: str | None = None
    date: dt.date | None = None


class FilingOut(BaseModel):
    filed_at: dt.datetime
    filed_by: str
    payable: str


class VatReturnOut(BaseModel):
    period: str
    due_date: dt.date
    taxable_supplies: str
    output_vat: str
    export_supplies: str
    exempt_with_credit: str
    exempt_supplies: str
    reverse_charge_base: str
    reverse_charge_vat: str
    import_vat: str
    purchases_base: str
    input_vat: str
    payable: str
    lines: list[VatLineOut]
    box_numbers_confirmed: bool = False
    filed: bool = False
    filings: list[FilingOut] = []
    findings: list[FindingOut] = []


class RegistrationOut(BaseModel):
    as_of: dt.date
    window_start: dt.date
    window_end: dt.date
    taxable_turnover: str
    threshold: str
    exceeded: bool
    exceeded_on: dt.date | None
    register_by: dt.date | None
    vat_payer: bool
    alerts: list[dict[str, Any]]


class TaxDueOut(BaseModel):
    tax: str
    period: str
    due_date: dt.date


class VatCodeOut(BaseModel):
    code: str
    meaning: str
    meaning_ka: str
    rate: str
    sales: bool
    purchases: bool
    output_account: str | None
    input_account: str | None
    box: str | None


class RegisterRow(BaseModel):
    day: dt.date
    document_id: Any
    document_kind: str
    number: str
    counterparty_id: Any
    counterparty_name: str
    tax_id: str | None
    vat_code: str
    base: str
    vat: str


def return_out(result: d.VatReturn, filings: list[dict[str, Any]],
               findings: list[dict[str, Any]]) -> VatReturnOut:
    return VatReturnOut(
        period=result.period, due_date=result.due_date,
        **{k: _money(getattr(result, k)) for k in (
            "taxable_supplies", "output_vat", "export_supplies", "exempt_with_credit",
            "exempt_supplies", "reverse_charge_base", "reverse_charge_vat", "import_vat",
            "purchases_base", "input_vat", "payable")},
        lines=[VatLineOut(box=x["box"], label=x["label"], label_ka=x["label_ka"],
                          base=_money(x["base"]), vat=_money(x["vat"])) for x in result.lines],
        filed=bool(filings),
        filings=[FilingOut(filed_at=f["filed_at"], filed_by=f["filed_by"],
                           payable=_money(f["payable"])) for f in filings],
        findings=[FindingOut(**f) for f in findings])


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1/companies/{company_id}", tags=["tax"],
                    route_class=StrictRoute)

    @api.get("/vat-codes", summary="The VAT codes, their accounts and return boxes",
             response_model=list[VatCodeOut], responses=problem_responses(*_ERRORS))
    async def vat_codes(ctx: DocsReader) -> list[VatCodeOut]:
        return [VatCodeOut(**row) for row in VAT_CODE_TABLE]

    @api.get("/tax/vat-returns/{period}", summary="The monthly VAT return from posted "
             "documents (format=json|pdf|xlsx)", response_model=VatReturnOut,
             responses={**problem_responses(*_ERRORS), 200: {"content": {
                 "application/json": {}, "application/pdf": {},
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
    async def vat_return(period: Period, ctx: TaxReader, tax: Tax,
                         format: Annotated[str, Query(pattern="^(json|pdf|xlsx)$")] = "json",
                         lang: Annotated[str, Query(pattern="^(ka|en)$")] = "en") -> Any:
        result, filings, findings = await tax.vat_return(ctx.company_id, period)
        out = return_out(result, filings, findings)
        if format == "json":
            return out
        from saldo.tax.render import vat_return_pdf, vat_return_xlsx

        if format == "pdf":
            return Response(vat_return_pdf(out.model_dump(), lang), media_type="application/pdf",
                            headers={"Content-Disposition":
                                     f'attachment; filename="vat-{period}.pdf"'})
        return Response(vat_return_xlsx(out.model_dump(), lang), media_type=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            headers={"Content-Disposition": f'attachment; filename="vat-{period}.xlsx"'})

    @api.post("/tax/vat-returns/{period}/file",
              summary="Record that the return was filed (later postings in the month become "
                      "findings)", response_model=VatReturnOut,
              responses=problem_responses(*_ERRORS))
    async def file_return(period: Period, ctx: TaxFiler, tax: Tax) -> VatReturnOut:
        await tax.file_vat_return(ctx, period)
        result, filings, findings = await tax.vat_return(ctx.company_id, period)
        return return_out(result, filings, findings)

    @api.get("/tax/vat-registers/{period}",
             summary="The month's sales or purchase VAT register (GEL)",
             response_model=list[RegisterRow], responses=problem_responses(*_ERRORS))
    async def vat_register(period: Period, ctx: TaxReader, tax: Tax,
                           direction: Annotated[str, Query(pattern="^(sales|purchases)$")]
                           = "sales") -> list[RegisterRow]:
        rows = await tax.vat_register(ctx.company_id, period, direction)
        return [RegisterRow(**{**r, "base": _money(r["base"]), "vat": _money(r["vat"])})
                for r in rows]

    @api.get("/tax/vat-registration", summary="The VAT registration monitor (Art. 157)",
             response_model=RegistrationOut, responses=problem_responses(*_ERRORS))
    async def registration(ctx: TaxReader, tax: Tax,
                           as_of: Date | None = None) -> RegistrationOut:
        r = await tax.registration(ctx.company_id, as_of or tax.today())
        return RegistrationOut(
            as_of=r.as_of, window_start=r.window_start, window_end=r.window_end,
            taxable_turnover=_money(r.taxable_turnover), threshold=_money(r.threshold),
            exceeded=r.exceeded, exceeded_on=r.exceeded_on, register_by=r.register_by,
            vat_payer=r.vat_payer,
            alerts=[{**a, "taxable_turnover": _money(a["taxable_turnover"])}
                    for a in r.alerts])

    @api.get("/tax/calendar", summary="Every return the company files in a year, with its "
             "due date (moved off weekends and Georgian public holidays)",
             response_model=list[TaxDueOut], responses=problem_responses(*_ERRORS))
    async def tax_calendar(ctx: DocsReader, tax: Tax,
                           year: Annotated[int, Query(ge=2000, le=2100)]) -> list[TaxDueOut]:
        return [TaxDueOut(tax=t.tax, period=t.period, due_date=t.due_date)
                for t in await tax.calendar(ctx.company_id, year)]

    @api.get("/tax/calendar.ics", summary="The tax calendar as an iCalendar feed",
             response_class=Response, responses={**problem_responses(*_ERRORS), 200: {
                 "content": {"text/calendar": {}}}})
    async def tax_calendar_ics(ctx: DocsReader, tax: Tax,
                               year: Annotated[int | None, Query(ge=2000, le=2100)] = None
                               ) -> Response:
        from icalendar import Calendar, Event

        years = [year] if year else [tax.today().year - 1, tax.today().year]
        cal = Calendar()
        cal.add("prodid", "-//Saldo//Tax calendar//EN")
        cal.add("version", "2.0")
        cal.add("x-wr-calname", "Saldo tax calendar")
        for y in years:
            for t in await tax.calendar(ctx.company_id, y):
                event = Event()
                event.add("uid", f"{ctx.company_id}-{t.tax}-{t.period}@saldo")
                event.add("summary", f"{t.tax.replace('_', ' ').upper()} return {t.period}")
                event.add("dtstart", t.due_date)
                event.add("dtend", t.due_date + dt.timedelta(days=1))
                event.add("dtstamp", dt.datetime(t.due_date.year, 1, 1, tzinfo=dt.UTC))
                cal.add_component(event)
        buffer = io.BytesIO(cal.to_ical())
        return Response(buffer.getvalue(), media_type="text/calendar; charset=utf-8")

    return api
