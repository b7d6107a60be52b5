"""The web application's routes: HTML pages rendered on the server (Jinja2), a little
JavaScript of Saldo's own for the journal-entry grid, and no inline script anywhere
(the pages' content security policy forbids it).

Every page goes through :class:`WebRoute`: it turns a missing or ended session into a
redirect to the sign-in page, any Saldo error into a page in the reader's language,
sets the rotated session cookies, and adds the security headers. Pages use the other
contexts through their services and queries only (docs/web.md).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import replace
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, cast
from urllib.parse import parse_qsl, quote, urlencode
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import Response

from saldo.billing.service import DocumentInput, DocumentKind, LineInput
from saldo.identity.service import CompanyContext, Origin, Permission, Role
from saldo.kernel.errors import Conflict, Forbidden, NotFound, RuleViolation, SaldoError
from saldo.kernel.money import amount_text
from saldo.ledger import queries as ledger_queries
from saldo.ledger.service import ContentInput, LineDraft
from saldo.payroll.service import DEFAULT_BANK_ACCOUNT, WITHHOLDING_CODES
from saldo.payroll.service import LineInput as PayLineInput
from saldo.platform.http import STATUS_BY_ERROR, status_for
from saldo.reporting.service import Options
from saldo.web import i18n
from saldo.web.domain import (
    ACCESS_COOKIE,
    COMPANY_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    LANGUAGE_COOKIE,
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    csrf_ok,
    field_ref,
    language,
    new_secret,
    safe_next,
)
from saldo.web.service import Session, SignInRequired, WebService

#: No inline script, no inline style, nothing from elsewhere (issue 17, item 1).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
_STATIC = ("app.css", "app.js", "entry.js", "forms.js")
REPORT_NAMES = ("trial-balance", "balance-sheet", "profit-and-loss", "cash-flow",
                "changes-in-equity")
_DOWNLOADS = ("pdf", "xlsx", "csv")
#: The documents screen's two sides (billing's document kinds) and statuses.
DOCUMENT_KINDS = {"sales": ("sales_invoice", "credit_note"),
                  "purchases": ("purchase_bill", "supplier_credit_note", "supplier_debit_note")}
DOCUMENT_STATUSES = ("draft", "posted", "partly_paid", "paid", "credited")
ROLES = [r.value for r in Role]
#: The VAT codes a sales line may take (billing's contract, api/v1.md "VAT codes").
SALES_VAT_CODES = ("vat18", "export0", "exempt_credit", "exempt", "out_of_scope")
#: A purchase line may take every code: reverse charge and import VAT are purchases' own.
PURCHASE_VAT_CODES = ("vat18", "reverse_charge18", "import18", "exempt_credit", "exempt",
                      "export0", "out_of_scope")
#: What the document form makes on each side, and what its page may approve and post.
FORM_KINDS = {"sales": DocumentKind.SALES_INVOICE, "purchases": DocumentKind.PURCHASE_BILL}
#: Lines the new-document form shows at first; "Add line" adds one, up to the cap.
BLANK_LINES, MAX_FORM_LINES = 3, 200
_LINE_CELLS = ("description", "quantity", "unit_price", "vat_code", "account_code")

_env = Environment(loader=PackageLoader("saldo.web", "templates"),
                   autoescape=select_autoescape(default=True, default_for_string=True),
                   trim_blocks=True, lstrip_blocks=True)
_env.filters["money"] = i18n.money
_env.filters["day"] = i18n.day
_env.filters["quantity"] = i18n.quantity
_env.filters["moment"] = i18n.moment


def _static_dir() -> Path:
    return Path(str(resources.files("saldo.web").joinpath("static")))


# ---------------------------------------------------------------------- plumbing


def _web(request: Request) -> WebService:
    return cast(WebService, request.app.state.web)


def _origin(request: Request) -> Origin:
    return Origin(request.client.host if request.client else None,
                  request.scope.get("state", {}).get("request_id"))


def _lang(request: Request) -> str:
    return language(request.cookies.get(LANGUAGE_COOKIE))


def _cookie_jar(request: Request) -> list[tuple[str, str | None, int | None, bool]]:
    jar: list[tuple[str, str | None, int | None, bool]] = request.state.__dict__.setdefault(
        "web_cookies", [])
    return jar


def set_cookie(request: Request, name: str, value: str | None, *, max_age: int | None = None,
               http_only: bool = True) -> None:
    """Queue a cookie for the response (``None`` deletes it); :class:`WebRoute` sets it."""
    _cookie_jar(request).append((name, value, max_age, http_only))


def _session_cookies(request: Request, access: str | None, refresh: str | None,
                     max_age: int | None) -> None:
    set_cookie(request, SESSION_COOKIE, refresh, max_age=max_age)
    set_cookie(request, ACCESS_COOKIE, access, max_age=max_age)


class WebRoute(APIRoute):
    """Pages: errors as pages, the session's cookies, the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                response = await handle(request)
            except SignInRequired:
                response = _to_sign_in(request)
            except SaldoError as exc:
                response = error_page(request, exc)
            except RequestValidationError:
                response = error_page(request, None, status=422)
            _finish(request, response)
            return response

        return page


def _to_sign_in(request: Request) -> Response:
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = "/login?" + urlencode({"next": target})
    else:
        location = "/login"
    _session_cookies(request, None, None, None)
    if request.headers.get("accept", "").startswith("application/json"):
        return JSONResponse({"code": "session_expired",
                             "message": i18n.t("session_expired", _lang(request))},
                            status_code=401)
    return RedirectResponse(location, status_code=303)


def _finish(request: Request, response: Response) -> None:
    secure = _web(request).secure_cookies
    for name, value, max_age, http_only in _cookie_jar(request):
        if value is None:
            response.delete_cookie(name, path="/", secure=secure, httponly=http_only,
                                   samesite="lax")
        else:
            response.set_cookie(name, value, max_age=max_age, path="/", secure=secure,
                                httponly=http_only, samesite="lax")
    response.headers["content-security-policy"] = CSP
    response.headers.setdefault("cache-control", "no-store")
    response.headers["x-content-type-options"] = "nosniff"


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = values.pop("lang", None) or _lang(request)

    def t(key: str, **kw: Any) -> str:
        return i18n.t(key, lang, **kw)

    html = _env.get_template(template).render(
        lang=lang, t=t, request_path=request.url.path,
        current_url=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **values)
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, exc: SaldoError | None, status: int | None = None) -> Response:
    lang = _lang(request)
    if exc is not None:
        status = status_for(exc, STATUS_BY_ERROR)
        if exc.code == "not_authenticated":
            status = 401
        message = i18n.problem_text(exc.code, exc.detail, lang, exc.data)
    else:
        message = i18n.t("validation_failed", lang)
    status = status or 400
    if request.headers.get("accept", "").startswith("application/json"):
        data = exc.data if exc is not None else {}
        ref = field_ref(data.get("field"))
        return JSONResponse({"code": exc.code if exc else "validation_failed",
                             "message": message, "detail": exc.detail if exc else "",
                             "field": ref.name if ref else None,
                             "line": ref.line if ref else None,
                             "account": data.get("code")}, status_code=status)
    session = getattr(request.state, "web_session", None)
    return render(request, "error.html", status=status, message=message, session=session,
                  company=None, nav=None)


async def session_of(request: Request) -> Session:
    """The signed-in user (a dependency); rotated tokens go back as cookies."""
    web = _web(request)
    session = await web.session(request.cookies.get(ACCESS_COOKIE),
                                request.cookies.get(SESSION_COOKIE), _origin(request))
    if session.renewed is not None:
        _session_cookies(request, session.renewed.access, session.renewed.refresh,
                         session.renewed.max_age)
    request.state.web_session = session
    return session


SignedIn = Annotated[Session, Depends(session_of)]


async def form_of(request: Request) -> dict[str, str]:
    """A form body (``application/x-www-form-urlencoded``)."""
    raw = await request.body()
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


Form = Annotated[dict[str, str], Depends(form_of)]


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    title = "The form has expired"


def check_csrf(session: Session, given: str | None) -> None:
    if not csrf_ok(session.csrf, given):
        raise CsrfFailed("The form's CSRF token is missing or wrong.")




class company:  # noqa: N801 - used like a function: Depends(company(Permission.X))
    """The signed-in user's context in the path's company, if their role grants
    ``permission`` (404 for non-members, 403 for the rest, as the API)."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(self, company_id: UUID, request: Request,
                       session: SignedIn) -> CompanyContext:
        ctx = await _web(request).authorize(session, company_id, self.permission)
        request.state.web_ctx = ctx
        return ctx


async def _company_page(request: Request, session: Session, ctx: CompanyContext,
                        template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A company's page: the layout needs the company list (switcher) and the menu."""
    companies = await _web(request).companies(session.user)
    current = next((c for c in companies if c["id"] == ctx.company_id), None)
    if request.cookies.get(COMPANY_COOKIE) != str(ctx.company_id):
        set_cookie(request, COMPANY_COOKIE, str(ctx.company_id), max_age=365 * 86400)
    nav = _nav(ctx)
    return render(request, template, status=status, session=session, ctx=ctx,
                  companies=companies, company=current, nav=nav, **values)


_MENU: tuple[tuple[str, str, Permission], ...] = (
    ("dashboard", "", Permission.COMPANY_READ),
    ("chart", "accounts", Permission.ACCOUNTS_READ),
    ("journal", "journal", Permission.TRANSACTIONS_READ),
    ("new_entry", "journal/new", Permission.TRANSACTIONS_WRITE),
    ("approvals", "approvals", Permission.TRANSACTIONS_READ),
    ("periods", "periods", Permission.ACCOUNTS_READ),
    ("reports", "reports", Permission.REPORTS_FINANCIAL),
    ("documents", "documents", Permission.DOCUMENTS_READ),
    ("payments", "payments", Permission.DOCUMENTS_READ),
    ("vat_return", "vat", Permission.REPORTS_TAX),
    ("payroll", "payroll", Permission.PAYROLL_READ),
    ("bank", "bank", Permission.BANK_READ),
    ("rs_ge", "rs", Permission.DOCUMENTS_READ),  # saldo.web.rsge_pages
    ("users", "users", Permission.COMPANY_READ),
)


def _nav(ctx: CompanyContext) -> list[tuple[str, str]]:
    base = f"/c/{ctx.company_id}/"
    return [(key, base + path) for key, path, permission in _MENU if ctx.may(permission)]


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidDateText(f"{value!r} is not a date.", field="date") from None


class InvalidDateText(RuleViolation):
    code = "invalid_date"
    title = "Not a date"




Reader = Annotated[CompanyContext, Depends(company(Permission.COMPANY_READ))]
Accounts = Annotated[CompanyContext, Depends(company(Permission.ACCOUNTS_READ))]
Journal = Annotated[CompanyContext, Depends(company(Permission.TRANSACTIONS_READ))]
Writer = Annotated[CompanyContext, Depends(company(Permission.TRANSACTIONS_WRITE))]
Reports = Annotated[CompanyContext, Depends(company(Permission.REPORTS_FINANCIAL))]
Admin = Annotated[CompanyContext, Depends(company(Permission.ADMIN_USERS))]
Closer = Annotated[CompanyContext, Depends(company(Permission.PERIODS_CLOSE))]
Documents = Annotated[CompanyContext, Depends(company(Permission.DOCUMENTS_READ))]
TaxReader = Annotated[CompanyContext, Depends(company(Permission.REPORTS_TAX))]
PayrollReader = Annotated[CompanyContext, Depends(company(Permission.PAYROLL_READ))]
BankReader = Annotated[CompanyContext, Depends(company(Permission.BANK_READ))]
DocApprover = Annotated[CompanyContext, Depends(company(Permission.DOCUMENTS_APPROVE))]
DocWriter = Annotated[CompanyContext, Depends(company(Permission.DOCUMENTS_WRITE))]
BankWriter = Annotated[CompanyContext, Depends(company(Permission.BANK_WRITE))]
PayrollWriter = Annotated[CompanyContext, Depends(company(Permission.PAYROLL_WRITE))]

# ---------------------------------------------------------------------- routes


def router() -> APIRouter:
    web = APIRouter(route_class=WebRoute, include_in_schema=False)

    # ----------------------------------------------------------------- assets

    @web.get("/static/{name}")
    async def static(name: str) -> Response:
        if name not in _STATIC:
            return Response("Not found", status_code=404, media_type="text/plain")
        return FileResponse(_static_dir() / name,
                            headers={"Cache-Control": "public, max-age=300"})

    # ----------------------------------------------------------------- sign-in

    @web.get("/login")
    async def login_form(request: Request, next: str | None = None) -> Response:
        pre = request.cookies.get(PRE_SESSION_COOKIE) or new_secret()
        set_cookie(request, PRE_SESSION_COOKIE, pre)
        return render(request, "login.html", csrf=pre, next=safe_next(next), username="",
                      error=None, session=None, company=None, nav=None)

    @web.post("/login")
    async def login(request: Request, form: Form) -> Response:
        lang = _lang(request)
        pre = request.cookies.get(PRE_SESSION_COOKIE)
        target = safe_next(form.get("next"))
        username = form.get("username", "")[:256]
        fresh = new_secret()
        set_cookie(request, PRE_SESSION_COOKIE, fresh)

        def again(key: str, status: int) -> Response:
            return render(request, "login.html", status=status, csrf=fresh, next=target,
                          username=username, error=i18n.t(key, lang), session=None,
                          company=None, nav=None)

        if pre is None or not csrf_ok(pre, form.get(CSRF_FIELD)):
            return again("csrf_failed", 403)
        try:
            tokens = await _web(request).sign_in(username, form.get("password", "")[:1024],
                                                 _origin(request))
        except SaldoError as exc:
            if exc.code == "too_many_attempts":
                response = again("too_many_attempts", 429)
                response.headers["retry-after"] = str(max(1, round(
                    float(exc.data.get("retry_after", 1)))))
                return response
            return again("not_authenticated", 401)
        # A new session id (a new family) at every sign-in: a session fixed before
        # sign-in is never the one the user gets (OWASP session fixation).
        set_cookie(request, PRE_SESSION_COOKIE, None)
        _session_cookies(request, tokens.access, tokens.refresh, tokens.max_age)
        return RedirectResponse(target, status_code=303)

    @web.post("/logout")
    async def logout(request: Request, session: SignedIn, form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        await _web(request).sign_out(request.cookies.get(SESSION_COOKIE)
                                     or (session.renewed.refresh if session.renewed else None),
                                     _origin(request))
        _session_cookies(request, None, None, None)
        return RedirectResponse("/login", status_code=303)

    @web.post("/logout-everywhere")
    async def logout_everywhere(request: Request, session: SignedIn, form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        await _web(request).sign_out_everywhere(session, _origin(request))
        _session_cookies(request, None, None, None)
        return RedirectResponse("/login", status_code=303)

    @web.post("/language")
    async def set_language(request: Request, form: Form) -> Response:
        # Signed in: the session's token; before sign-in: the sign-in form's secret.
        pre = request.cookies.get(PRE_SESSION_COOKIE)
        given = form.get(CSRF_FIELD)
        if not (pre and csrf_ok(pre, given)):
            check_csrf(await session_of(request), given)
        set_cookie(request, LANGUAGE_COOKIE, language(form.get("lang")),
                   max_age=365 * 86400, http_only=False)
        return RedirectResponse(safe_next(form.get("next")), status_code=303)

    # ----------------------------------------------------------------- companies

    @web.get("/")
    async def home(request: Request, session: SignedIn) -> Response:
        companies = await _web(request).companies(session.user)
        remembered = request.cookies.get(COMPANY_COOKIE)
        chosen = next((c for c in companies if str(c["id"]) == remembered), None)
        chosen = chosen or (companies[0] if companies else None)
        if chosen is None:
            return render(request, "companies.html", session=session, companies=companies,
                          company=None, nav=None)
        return RedirectResponse(f"/c/{chosen['id']}/", status_code=303)

    @web.get("/companies")
    async def companies_page(request: Request, session: SignedIn) -> Response:
        companies = await _web(request).companies(session.user)
        return render(request, "companies.html", session=session, companies=companies,
                      company=None, nav=None)

    @web.get("/c/{company_id}/")
    async def dashboard(request: Request, session: SignedIn, ctx: Reader) -> Response:
        data = (await _web(request).dashboard(ctx)
                if ctx.may(Permission.ACCOUNTS_READ) else None)
        return await _company_page(request, session, ctx, "dashboard.html", data=data)

    @web.get("/c/{company_id}/accounts")
    async def chart(request: Request, session: SignedIn, ctx: Accounts) -> Response:
        rows = await _web(request).accounts(ctx)
        return await _company_page(request, session, ctx, "chart.html", accounts=rows)

    # ----------------------------------------------------------------- journal

    @web.get("/c/{company_id}/journal")
    async def journal(request: Request, session: SignedIn, ctx: Journal,
                      status: str | None = None, date_from: str | None = None,
                      date_to: str | None = None, account: str | None = None,
                      cursor: str | None = None) -> Response:
        status = status if status in ("draft", "approved", "posted", "discarded") else None
        f = ledger_queries.TransactionFilter(status, _date(date_from), _date(date_to),
                                             (account or "").strip()[:40] or None, 50,
                                             cursor or None)
        rows, next_cursor = await _web(request).transactions(ctx, f)
        query = {k: v for k, v in (("status", status), ("date_from", date_from),
                                   ("date_to", date_to), ("account", account)) if v}
        more = (f"?{urlencode({**query, 'cursor': next_cursor})}" if next_cursor else None)
        return await _company_page(request, session, ctx, "journal.html", rows=rows,
                                   filters=query, more=more)

    @web.get("/c/{company_id}/journal/new")
    async def entry(request: Request, session: SignedIn, ctx: Writer) -> Response:
        return await _entry_page(request, session, ctx, None)

    @web.get("/c/{company_id}/journal/{transaction_id}/edit")
    async def edit(request: Request, session: SignedIn, ctx: Writer,
                   transaction_id: UUID) -> Response:
        row = await _web(request).transaction(ctx, transaction_id)
        if row is None:
            raise _not_found(transaction_id)
        return await _entry_page(request, session, ctx, row)

    @web.post("/c/{company_id}/journal/drafts")
    async def save_draft(request: Request, session: SignedIn, ctx: Writer) -> Response:
        check_csrf(session, request.headers.get(CSRF_HEADER))
        body = _draft_body(await request.body())
        content = _content(body)
        ledger = _web(request).ledger
        rid = request.scope.get("state", {}).get("request_id")
        existing = body.get("id")
        if existing:
            tx = await ledger.amend(ctx, UUID(str(existing)), content, rid)
        else:
            tx, _ = await ledger.draft(ctx, content, None, rid)
        return JSONResponse({"id": str(tx.id),
                             "url": f"/c/{ctx.company_id}/journal/{tx.id}",
                             "message": i18n.t("saved", _lang(request))}, status_code=201)

    @web.get("/c/{company_id}/journal/{transaction_id}")
    async def detail(request: Request, session: SignedIn, ctx: Journal,
                     transaction_id: UUID) -> Response:
        return await _detail(request, session, ctx, transaction_id)

    @web.post("/c/{company_id}/journal/{transaction_id}/{action}")
    async def act(request: Request, session: SignedIn, ctx: Journal, transaction_id: UUID,
                  action: str, form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        web_service = _web(request)
        ledger = web_service.ledger
        rid = request.scope.get("state", {}).get("request_id")
        needs = {"approve": Permission.TRANSACTIONS_APPROVE, "post": Permission.TRANSACTIONS_WRITE,
                 "discard": Permission.TRANSACTIONS_WRITE,
                 "reverse": Permission.TRANSACTIONS_APPROVE}
        if action not in needs:
            return error_page(request, None, status=404)
        try:
            acting = await web_service.authorize(session, ctx.company_id, needs[action])
            if action == "approve":
                await ledger.approve(acting, transaction_id, rid)
            elif action == "post":
                await ledger.post(acting, transaction_id, rid)
            elif action == "discard":
                await ledger.discard(acting, transaction_id, rid)
            else:
                await ledger.reverse(acting, transaction_id, form.get("reason", "")[:500].strip()
                                     or "-", None, rid)
        except SaldoError as exc:
            if exc.code in ("transaction_not_found",):
                raise
            message = i18n.problem_text(exc.code, exc.detail, _lang(request), exc.data)
            return await _detail(request, session, ctx, transaction_id, error=message,
                                 status=status_for(exc, STATUS_BY_ERROR))
        target = safe_next(form.get("next")) if form.get("next") else \
            f"/c/{ctx.company_id}/journal/{transaction_id}"
        return RedirectResponse(target, status_code=303)

    @web.get("/c/{company_id}/approvals")
    async def approvals(request: Request, session: SignedIn, ctx: Journal) -> Response:
        service = _web(request)
        drafts, _ = await service.transactions(
            ctx, ledger_queries.TransactionFilter(status="draft", limit=200))
        approved, _ = await service.transactions(
            ctx, ledger_queries.TransactionFilter(status="approved", limit=200))
        return await _company_page(request, session, ctx, "approvals.html", drafts=drafts,
                                   approved=approved)

    # ----------------------------------------------------------------- periods

    @web.get("/c/{company_id}/periods")
    async def periods(request: Request, session: SignedIn, ctx: Accounts,
                      year: int | None = None) -> Response:
        if year is not None and not 1900 <= year <= 2999:
            year = None
        year, rows = await _web(request).periods(ctx, year)
        return await _company_page(request, session, ctx, "periods.html", year=year,
                                   periods=rows)

    @web.post("/c/{company_id}/periods/{period}/{action}")
    async def period_action(request: Request, session: SignedIn, ctx: Closer, period: str,
                            action: str, form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        if action not in ("close", "reopen", "lock"):
            return error_page(request, None, status=404)
        rid = request.scope.get("state", {}).get("request_id")
        await _web(request).ledger.change_period(ctx, period[:7], action, rid)
        return RedirectResponse(f"/c/{ctx.company_id}/periods?year={period[:4]}",
                                status_code=303)

    # ----------------------------------------------------------------- reports

    @web.get("/c/{company_id}/reports")
    async def reports(request: Request, session: SignedIn, ctx: Reports) -> Response:
        return await _company_page(request, session, ctx, "reports.html",
                                   reports=REPORT_NAMES)

    @web.get("/c/{company_id}/reports/{name}")
    async def report(request: Request, session: SignedIn, ctx: Reports, name: str,
                     date_from: str | None = None, date_to: str | None = None,
                     level: str | None = None) -> Response:
        if name not in REPORT_NAMES:
            return error_page(request, None, status=404)
        service = _web(request)
        options = _options(name, date_from, date_to, "json")
        if name == "trial-balance" and level == "all":  # the whole chart, headers rolled up
            options = replace(options, level="all", include_zero=True)
        built, settings = await service.reporting.build(ctx, name, options)
        doc = service.reporting.document(built, settings)
        query = {k: v for k, v in (("date_from", date_from), ("date_to", date_to)) if v}
        downloads = [(fmt, f"/c/{ctx.company_id}/reports/{name}/download?"
                      + urlencode({**query, "format": fmt})) for fmt in _DOWNLOADS]
        return await _company_page(request, session, ctx, "report.html", name=name, doc=doc,
                                   filters=query, downloads=downloads,
                                   cell=_cell, drill=name == "trial-balance")

    @web.get("/c/{company_id}/reports/{name}/download")
    async def download(request: Request, session: SignedIn, ctx: Reports, name: str,
                       format: str = "pdf", date_from: str | None = None,
                       date_to: str | None = None) -> Response:
        if name not in REPORT_NAMES or format not in _DOWNLOADS:
            return error_page(request, None, status=404)
        service = _web(request)
        built, settings = await service.reporting.build(
            ctx, name, _options(name, date_from, date_to, format))
        body, media_type, file_name = await service.reporting.render(
            built, settings, format, _lang(request))
        return Response(body, media_type=media_type, headers={
            "content-disposition": f"attachment; filename=\"{quote(file_name)}\""})

    @web.get("/c/{company_id}/accounts/{code}")
    async def account_card(request: Request, session: SignedIn, ctx: Reports, code: str,
                           date_from: str | None = None, date_to: str | None = None,
                           page: int = 1) -> Response:
        # Reporting reads and hands over one page of each card (decision 0069).
        cards = await _web(request).reporting.account_card_page(
            ctx, code[:40], _date(date_from), _date(date_to), page, CARD_LINES)
        data = cards.as_json(_lang(request))
        query = {k: v for k, v in (("date_from", date_from), ("date_to", date_to)) if v}
        links = {name: f"?{urlencode({**query, 'page': number})}"
                 for name, number in (("earlier", cards.page - 1), ("later", cards.page + 1))
                 if 1 <= number <= cards.pages}
        return await _company_page(request, session, ctx, "account.html", code=code,
                                   data=data, cards=data["accounts"], filters=query,
                                   page=cards.page, pages=cards.pages, links=links)

    # ----------------------------------------------------------------- other contexts

    @web.get("/c/{company_id}/documents")
    async def documents(request: Request, session: SignedIn, ctx: Documents,
                        side: str = "sales", status: str | None = None) -> Response:
        side = side if side in DOCUMENT_KINDS else "sales"
        status = status if status in DOCUMENT_STATUSES else None
        rows = await _web(request).documents(ctx, DOCUMENT_KINDS[side], status)
        return await _company_page(request, session, ctx, "documents.html", rows=rows,
                                   side=side, doc_status=status, statuses=DOCUMENT_STATUSES,
                                   may_write=ctx.may(Permission.DOCUMENTS_WRITE))

    @web.get("/c/{company_id}/payments")
    async def payments(request: Request, session: SignedIn, ctx: Documents) -> Response:
        rows = await _web(request).payments(ctx)
        return await _company_page(request, session, ctx, "payments.html", rows=rows)

    @web.get("/c/{company_id}/documents/new")
    async def new_invoice(request: Request, session: SignedIn, ctx: DocWriter,
                          side: str = "sales") -> Response:
        today = _web(request).ledger.today().isoformat()
        typed = {"side": _side(side), "counterparty_id": "", "date": today, "due_date": "",
                 "reference": "", "supplier_reference": "",
                 "lines": [_blank_line() for _ in range(BLANK_LINES)]}
        return await _invoice_form(request, session, ctx, typed)

    @web.post("/c/{company_id}/documents/new")
    async def create_invoice(request: Request, session: SignedIn, ctx: DocWriter,
                             form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        typed = _typed_invoice(form)
        purchases = typed["side"] == "purchases"
        if form.get("action") == "add_line":
            if len(typed["lines"]) < MAX_FORM_LINES:
                typed["lines"].append(_blank_line(typed["lines"][-1]["vat_code"]))
            return await _invoice_form(request, session, ctx, typed)
        rows: list[int] = []
        try:
            data, rows = _invoice_input(typed, await _chart(request, ctx)
                                        if purchases else None)
            document_id = await _web(request).draft_document(
                ctx, FORM_KINDS[typed["side"]], data)
        except SaldoError as exc:
            # Every typed value goes back into the form, the error at its field.
            return await _invoice_form(
                request, session, ctx, typed,
                errors=_invoice_errors(exc, rows, _lang(request), purchases),
                status=status_for(exc, STATUS_BY_ERROR))
        return RedirectResponse(f"/c/{ctx.company_id}/documents/{document_id}",
                                status_code=303)

    @web.get("/c/{company_id}/documents/{document_id}")
    async def document(request: Request, session: SignedIn, ctx: Documents,
                             document_id: UUID) -> Response:
        return await _document_page(request, session, ctx, document_id)

    @web.get("/c/{company_id}/documents/{document_id}/pdf")
    async def document_pdf(request: Request, session: SignedIn, ctx: Documents,
                           document_id: UUID) -> Response:
        body, number = await _web(request).billing.invoice_pdf(ctx.company_id, document_id,
                                                               _lang(request))
        return Response(body, media_type="application/pdf", headers={
            "content-disposition": f"attachment; filename=\"{quote(number)}.pdf\""})

    @web.post("/c/{company_id}/documents/{document_id}/approve")
    async def approve_invoice(request: Request, session: SignedIn, ctx: DocApprover,
                              document_id: UUID, form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        return await _document_action(request, session, ctx, document_id,
                                      _web(request).approve_document)

    @web.post("/c/{company_id}/documents/{document_id}/post")
    async def post_invoice(request: Request, session: SignedIn, ctx: DocWriter,
                           document_id: UUID, form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        return await _document_action(request, session, ctx, document_id,
                                      _web(request).post_document)

    @web.post("/c/{company_id}/documents/{document_id}/withholding")
    async def withhold_on_bill(request: Request, session: SignedIn, ctx: DocWriter,
                               document_id: UUID, form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))

        async def withhold(ctx: CompanyContext, bill_id: UUID) -> None:
            await _web(request).withhold_on_bill(ctx, bill_id, form.get("code", ""),
                                                 _date(form.get("date")))

        return await _document_action(request, session, ctx, document_id, withhold)

    @web.get("/c/{company_id}/documents/{document_id}/{note}")
    async def new_note(request: Request, session: SignedIn, ctx: DocWriter,
                       document_id: UUID, note: str) -> Response:
        if note not in NOTES:
            return error_page(request, None, status=404)
        doc = await _correctable(request, ctx, document_id, note)
        typed = _note_typed(doc, _web(request).ledger.today(), note)
        return await _note_form(request, session, ctx, doc, typed, note)

    @web.post("/c/{company_id}/documents/{document_id}/{note}")
    async def create_note(request: Request, session: SignedIn, ctx: DocWriter,
                          document_id: UUID, note: str, form: Form) -> Response:
        if note not in NOTES:
            return error_page(request, None, status=404)
        check_csrf(session, form.get(CSRF_FIELD))
        doc = await _correctable(request, ctx, document_id, note)
        purchases = not doc["sales"]
        typed = {**_typed_invoice(form), "side": "purchases" if purchases else "sales"}
        if form.get("action") == "add_line":
            if len(typed["lines"]) < MAX_FORM_LINES:
                typed["lines"].append(_blank_line(typed["lines"][-1]["vat_code"]))
            return await _note_form(request, session, ctx, doc, typed, note)
        rows: list[int] = []
        service = _web(request)
        make = service.credit_note if note == CREDIT_NOTE else service.debit_note
        try:
            day = _day(typed["date"], "date")
            lines, rows = _form_lines(typed["lines"], purchases,
                                      await _chart(request, ctx) if purchases else None)
            note_id = await make(ctx, document_id, day, lines,
                                 typed["reference"].strip() or None)
        except SaldoError as exc:
            if exc.code == "document_not_found":
                raise
            return await _note_form(
                request, session, ctx, doc, typed, note,
                errors=_invoice_errors(exc, rows, _lang(request), purchases),
                status=status_for(exc, STATUS_BY_ERROR))
        return RedirectResponse(f"/c/{ctx.company_id}/documents/{note_id}", status_code=303)

    @web.get("/c/{company_id}/vat")
    async def vat(request: Request, session: SignedIn, ctx: TaxReader,
                  period: str | None = None) -> Response:
        service = _web(request)
        if not (period and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period)):
            today = service.ledger.today()
            last = today.replace(day=1) - dt.timedelta(days=1)  # the month before this one
            period = f"{last.year:04d}-{last.month:02d}"
        data = await service.vat_return(ctx, period)
        return await _company_page(request, session, ctx, "vat.html", period=period, **data)

    @web.get("/c/{company_id}/bank")
    async def bank(request: Request, session: SignedIn, ctx: BankReader,
                   status: str = "unreconciled") -> Response:
        return await _bank_page(request, session, ctx, status)

    @web.post("/c/{company_id}/bank/{line_id}/reconcile")
    async def reconcile(request: Request, session: SignedIn, ctx: BankWriter, line_id: UUID,
                        form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        account_code = form.get("account_code", "").strip()[:40]
        try:
            if form.get("document_id"):
                document = _suggested(form.get("document_id", ""), form.get("amount", ""))
                await _web(request).reconcile(ctx, line_id, document=document)
            else:
                if not account_code:
                    raise ChooseAccount("Choose a document or an account.",
                                        field="account_code")
                await _web(request).reconcile(ctx, line_id, account_code=account_code)
        except SaldoError as exc:
            if exc.code == "bank_line_not_found":
                raise
            message = i18n.problem_text(exc.code, exc.detail, _lang(request), exc.data)
            # The refusal stands next to the line's form; what was typed stays.
            return await _bank_page(request, session, ctx, "unreconciled",
                                    errors={str(line_id): message},
                                    typed={str(line_id): account_code},
                                    http_status=status_for(exc, STATUS_BY_ERROR))
        return RedirectResponse(f"/c/{ctx.company_id}/bank?status=unreconciled",
                                status_code=303)

    @web.get("/c/{company_id}/bank/{line_id}/split")
    async def split_form(request: Request, session: SignedIn, ctx: BankWriter,
                         line_id: UUID) -> Response:
        return await _split_page(request, session, ctx, line_id, None)

    @web.post("/c/{company_id}/bank/{line_id}/split")
    async def split(request: Request, session: SignedIn, ctx: BankWriter, line_id: UUID,
                    form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        typed = {k[len("allocate-"):]: _text(v, 40) for k, v in form.items()
                 if k.startswith("allocate-")}
        typed["advance"] = "yes" if form.get("advance") == "yes" else ""
        line, documents = await _web(request).bank_line(ctx, line_id)
        if line is None:
            raise BankLineMissing("No such statement line.", line_id=str(line_id))
        if form.get("action") == "recalculate":
            return await _split_page(request, session, ctx, line_id, typed)
        try:
            allocations = _split_input(line, documents, typed)
            await _web(request).reconcile_split(ctx, line_id, allocations)
        except SaldoError as exc:
            if exc.code == "bank_line_not_found":
                raise
            field = str(exc.data.get("document_id") or exc.data.get("field") or "form")
            lang = _lang(request)
            data = {**exc.data, **({"amount": i18n.money(exc.data["amount"], lang)}
                                   if "amount" in exc.data else {})}
            message = i18n.problem_text(exc.code, exc.detail, lang, data)
            return await _split_page(request, session, ctx, line_id, typed,
                                     errors={field: message},
                                     status=status_for(exc, STATUS_BY_ERROR))
        return RedirectResponse(f"/c/{ctx.company_id}/bank?status=unreconciled",
                                status_code=303)

    @web.get("/c/{company_id}/payroll")
    async def payroll(request: Request, session: SignedIn, ctx: PayrollReader) -> Response:
        service = _web(request)
        runs = await service.payroll_runs(ctx)
        staff = await service.employees(ctx, service.ledger.today())
        return await _company_page(request, session, ctx, "payroll.html", runs=runs,
                                   staff=staff, may_write=ctx.may(Permission.PAYROLL_WRITE))

    @web.get("/c/{company_id}/payroll/new")
    async def new_run(request: Request, session: SignedIn, ctx: PayrollWriter,
                      period: str | None = None) -> Response:
        service = _web(request)
        first = _period_start(period) or service.ledger.today().replace(day=1)
        last = _month_end(first)
        staff = await service.employees(ctx, last)
        lines = [{"employee": e["personal_number"], "gross": _plain(e["gross_salary"])}
                 for e in staff if e["gross_salary"] is not None
                 and e["start_date"] <= last and (e["end_date"] is None
                                                  or e["end_date"] >= first)]
        typed = {"period": f"{first.year:04d}-{first.month:02d}",
                 "payment_date": last.isoformat(),
                 "lines": lines or [_blank_pay_line() for _ in range(BLANK_LINES)]}
        return await _run_form(request, session, ctx, typed, staff=staff)

    @web.post("/c/{company_id}/payroll/new")
    async def create_run(request: Request, session: SignedIn, ctx: PayrollWriter,
                         form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        typed = _typed_run(form)
        service = _web(request)
        if form.get("action") == "add_line":
            if len(typed["lines"]) < MAX_FORM_LINES:
                typed["lines"].append(_blank_pay_line())
            return await _run_form(request, session, ctx, typed)
        staff = await service.employees(ctx, service.ledger.today())
        rows: dict[str, int] = {}
        try:
            period, payment_date, lines, rows = _run_input(typed, staff)
            run_id = await service.create_run(ctx, period, payment_date, lines)
        except SaldoError as exc:
            return await _run_form(request, session, ctx, typed,
                                   errors=_run_errors(exc, rows, _lang(request)),
                                   status=status_for(exc, STATUS_BY_ERROR), staff=staff)
        return RedirectResponse(f"/c/{ctx.company_id}/payroll/{run_id}", status_code=303)

    @web.get("/c/{company_id}/payroll/{run_id}")
    async def payroll_run(request: Request, session: SignedIn, ctx: PayrollReader,
                          run_id: UUID) -> Response:
        return await _run_page(request, session, ctx, run_id)

    @web.get("/c/{company_id}/payroll/{run_id}/salaries.csv")
    async def salary_file(request: Request, session: SignedIn, ctx: PayrollReader,
                          run_id: UUID) -> Response:
        body, name = await _web(request).salary_file(ctx, run_id)
        return Response(body, media_type="text/csv; charset=utf-8", headers={
            "content-disposition": f"attachment; filename=\"{quote(name)}\""})

    @web.get("/c/{company_id}/payroll/{run_id}/payslips/{employee_id}")
    async def payslip(request: Request, session: SignedIn, ctx: PayrollReader,
                      run_id: UUID, employee_id: UUID) -> Response:
        body, name = await _web(request).payslip(ctx, run_id, employee_id, _lang(request))
        return Response(body, media_type="application/pdf", headers={
            "content-disposition": f"attachment; filename=\"{quote(name)}\""})

    @web.post("/c/{company_id}/payroll/{run_id}/{action}")
    async def run_action(request: Request, session: SignedIn, ctx: PayrollWriter,
                         run_id: UUID, action: str, form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        service = _web(request)
        if action not in ("post", "discard", "pay", "reverse"):
            return error_page(request, None, status=404)
        try:
            if action == "pay":
                await service.pay_run(ctx, run_id, _date(form.get("date")),
                                      form.get("bank_account_code") or DEFAULT_BANK_ACCOUNT)
            elif action == "reverse":
                await service.reverse_run(ctx, run_id, form.get("reason", "").strip())
            else:
                await (service.post_run if action == "post" else service.discard_run)(
                    ctx, run_id)
        except SaldoError as exc:
            if exc.code == "payroll_run_not_found":
                raise
            message = i18n.problem_text(exc.code, exc.detail, _lang(request), exc.data)
            return await _run_page(request, session, ctx, run_id, error=message,
                                   status=status_for(exc, STATUS_BY_ERROR))
        if action == "discard":
            return RedirectResponse(f"/c/{ctx.company_id}/payroll", status_code=303)
        return RedirectResponse(f"/c/{ctx.company_id}/payroll/{run_id}", status_code=303)

    # ----------------------------------------------------------------- users

    @web.get("/c/{company_id}/users")
    async def users(request: Request, session: SignedIn, ctx: Reader) -> Response:
        return await _users_page(request, session, ctx)

    @web.post("/c/{company_id}/users")
    async def add_member(request: Request, session: SignedIn, ctx: Admin,
                         form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        return await _member_change(request, session, ctx, "add", form.get("username", ""),
                                    form.get("role", ""))

    @web.post("/c/{company_id}/users/{username}/{action}")
    async def change_member(request: Request, session: SignedIn, ctx: Admin, username: str,
                            action: str, form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        if action not in ("role", "remove"):
            return error_page(request, None, status=404)
        return await _member_change(request, session, ctx, action, username,
                                    form.get("role", ""))

    return web


# ---------------------------------------------------------------------- page helpers


class TransactionMissing(NotFound):
    code = "transaction_not_found"
    title = "No such transaction"


def _not_found(transaction_id: UUID) -> SaldoError:
    return TransactionMissing("No such transaction.", transaction_id=str(transaction_id))


async def _detail(request: Request, session: Session, ctx: CompanyContext,
                  transaction_id: UUID, error: str | None = None,
                  status: int = 200) -> Response:
    service = _web(request)
    row = await service.transaction(ctx, transaction_id)
    if row is None:
        raise _not_found(transaction_id)
    history = await service.ledger.history(ctx.company_id, transaction_id)
    return await _company_page(request, session, ctx, "transaction.html", status=status,
                               tx=row, history=history, error=error,
                               may_approve=ctx.may(Permission.TRANSACTIONS_APPROVE),
                               may_write=ctx.may(Permission.TRANSACTIONS_WRITE))


async def _entry_page(request: Request, session: Session, ctx: CompanyContext,
                      row: Mapping[str, Any] | None) -> Response:
    lang = _lang(request)
    accounts = [[a["code"], a["name"], a["name_ka"]]
                for a in await _web(request).accounts(ctx) if a["postable"] and a["active"]]
    draft = None
    if row is not None:
        draft = {"id": str(row["id"]), "date": row["date"].isoformat(),
                 "description": row["description"], "reference": row["reference"] or "",
                 "entries": [{"account_code": e["account_code"],
                              "debit": _plain(e["debit"]), "credit": _plain(e["credit"]),
                              "description": e.get("description") or ""}
                             for e in row["entries"]]}
    data = {"accounts": accounts, "messages": i18n.client_messages(lang),
            "today": _web(request).ledger.today().isoformat(), "draft": draft,
            "save_url": f"/c/{ctx.company_id}/journal/drafts", "lang": lang}
    return await _company_page(request, session, ctx, "entry.html",
                               entry_data=_json_block(data), draft=draft)


def _json_block(data: Any) -> str:
    """JSON for a ``<script type="application/json">`` block: ``<``, ``>`` and ``&``
    escaped, so no text typed into a draft can close the block (XSS)."""
    return (orjson.dumps(data).decode().replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def _plain(value: Any) -> str:
    amount = Decimal(str(value))
    return "" if amount == 0 else amount_text(amount)


class InvalidDraft(RuleViolation):
    code = "invalid_entry"
    title = "Invalid journal entry"




def _draft_body(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidDraft("The entry is not JSON.") from None
    if not isinstance(body, dict) or not isinstance(body.get("entries"), list):
        raise InvalidDraft("The entry has no lines.", field="entries")
    return body


def _text(value: Any, limit: int = 500) -> str:
    text = value if isinstance(value, str) else ""
    return text.replace("\x00", "")[:limit]


def _content(body: dict[str, Any]) -> ContentInput:
    day = body.get("date")
    try:
        when = dt.date.fromisoformat(day) if isinstance(day, str) else None
    except ValueError:
        when = None
    if when is None:
        raise InvalidDateText("Not a date.", field="date")
    entries = []
    for line in body["entries"][:10000]:
        if not isinstance(line, dict):
            continue
        entries.append(LineDraft(_text(line.get("account_code"), 40).strip(),
                                 _amount(line.get("debit")), _amount(line.get("credit")),
                                 description=_text(line.get("description"))))
    return ContentInput(when, _text(body.get("description")), entries,
                        _text(body.get("reference"), 100).strip() or None)


def _amount(value: Any) -> str | None:
    """What the grid sends, as the ledger parses it: ``1 180,50`` → ``1180.50``."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.replace("\u00a0", "").replace(" ", "")
    return text.replace(",", ".") if "," in text and "." not in text else text.replace(",", "")


#: Lines of each account card a page shows: about three screens, what a person scrolls
#: through before narrowing the range; reporting reads just these (decision 0069).
CARD_LINES = 100


def _options(name: str, date_from: str | None, date_to: str | None, fmt: str) -> Options:
    start, end = _date(date_from), _date(date_to)
    if name == "balance-sheet":
        return Options(as_of=end, format=fmt)
    return Options(date_from=start, date_to=end, format=fmt)


def _cell(value: Any, kind: str, lang: str) -> str:
    """A report cell as text in the reader's language."""
    if value is None:
        return ""
    if callable(value) and hasattr(value, "en"):
        return str(value(lang))
    if kind == "money" or isinstance(value, Decimal):
        return i18n.money(value, lang)
    if isinstance(value, dt.date):
        return i18n.day(value, lang)
    return str(value)


# ---------------------------------------------------------------------- documents


class ChooseCustomer(RuleViolation):
    code = "choose_customer"
    title = "Choose a customer"


class ChooseAccount(RuleViolation):
    code = "choose_account"
    title = "Choose a document or an account"


def _blank_line(vat_code: str = "vat18") -> dict[str, str]:
    return {"description": "", "quantity": "", "unit_price": "", "vat_code": vat_code,
            "account_code": ""}


def _side(value: str | None) -> str:
    return value if value in FORM_KINDS else "sales"


def _typed_lines(form: Mapping[str, str]) -> list[dict[str, str]]:
    try:
        count = int(form.get("line_count", str(BLANK_LINES)))
    except ValueError:
        count = BLANK_LINES
    count = max(1, min(count, MAX_FORM_LINES))
    return [{cell: _text(form.get(f"lines-{i}-{cell}", ""), 500 if cell == "description"
                         else 40) for cell in _LINE_CELLS} for i in range(count)]


def _typed_invoice(form: Mapping[str, str]) -> dict[str, Any]:
    """The new-document form as typed (strings only, trimmed to sane lengths)."""
    return {"side": _side(form.get("side")),
            "counterparty_id": _text(form.get("counterparty_id"), 40),
            "date": _text(form.get("date"), 40).strip(),
            "due_date": _text(form.get("due_date"), 40).strip(),
            "reference": _text(form.get("reference"), 100),
            "supplier_reference": _text(form.get("supplier_reference"), 100),
            "lines": _typed_lines(form)}


def _day(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidDateText(f"{value!r} is not a date.", field=field) from None


class UnknownLineAccount(RuleViolation):
    code = "unknown_account"
    title = "No such account"


class NonPostableLineAccount(RuleViolation):
    code = "non_postable_account"
    title = "A header account"


def _form_lines(typed_lines: list[dict[str, str]], purchases: bool,
                chart: Mapping[str, Mapping[str, Any]] | None = None
                ) -> tuple[list[LineInput], list[int]]:
    """Billing's lines from the form's rows, and which row each came from (blank rows
    are skipped, so billing's ``lines[1]`` may be the form's third row). A purchase
    line's account is checked against the chart here, so the refusal stands at its row
    before anything is drafted (billing would find it only when the bill is posted)."""
    rows: list[int] = []
    lines: list[LineInput] = []
    for i, line in enumerate(typed_lines):
        if not any(line[c].strip() for c in ("description", "quantity", "unit_price",
                                             "account_code")):
            continue
        rows.append(i)
        account = line["account_code"].strip() if purchases else ""
        if account and chart is not None:
            found = chart.get(account)
            if found is None or not found["active"]:
                raise UnknownLineAccount(f"There is no account {account}.", code=account,
                                         field=f"lines[{len(lines)}].account_code",
                                         form_row=i)
            if not found["postable"]:
                raise NonPostableLineAccount(f"{account} is a header.", code=account,
                                             field=f"lines[{len(lines)}].account_code",
                                             form_row=i)
        lines.append(LineInput(line["description"], _amount(line["quantity"]) or "",
                               _amount(line["unit_price"]) or "", line["vat_code"],
                               account or None))
    return lines, rows


def _invoice_input(typed: Mapping[str, Any],
                   chart: Mapping[str, Mapping[str, Any]] | None = None
                   ) -> tuple[DocumentInput, list[int]]:
    """Billing's input from the form, and which form row each of its lines came from."""
    purchases = typed["side"] == "purchases"
    try:
        party = UUID(typed["counterparty_id"])
    except ValueError:
        raise ChooseCustomer("Choose a counterparty.", field="counterparty_id") from None
    day = _day(typed["date"], "date")
    due = _day(typed["due_date"], "due_date") if typed["due_date"] else None
    lines, rows = _form_lines(typed["lines"], purchases, chart)
    return DocumentInput(party, day, lines, due_date=due,
                         reference=typed["reference"].strip() or None,
                         supplier_reference=(typed["supplier_reference"].strip() or None)
                         if purchases else None), rows


_BILLING_FIELD = re.compile(r"lines\[(\d+)\](?:\.(\w+))?")


def _invoice_errors(exc: SaldoError, rows: list[int], lang: str,
                    purchases: bool = False) -> dict[str, str]:
    """The error as a sentence keyed by the form field it concerns (``form`` when it
    concerns the whole document): ``lines[1].quantity`` → ``lines-2-quantity``."""
    field = str(exc.data.get("field") or "")
    party_key = "choose_supplier" if purchases else "choose_customer"
    key = {"counterparty_not_found": party_key, "choose_customer": party_key,
           "period_closed": exc.code}.get(exc.code, exc.code)
    target = {"counterparty_not_found": "counterparty_id",
              "period_closed": "date",
              "duplicate_supplier_reference": "supplier_reference"}.get(exc.code,
                                                                        field or "form")
    found = _BILLING_FIELD.fullmatch(field)
    if found:
        index = int(found.group(1))
        row = rows[index] if index < len(rows) else index
        if isinstance(exc.data.get("form_row"), int):  # found by the web before billing
            row = exc.data["form_row"]
        cell = found.group(2)
        target = f"lines-{row}-{cell}" if cell else f"lines-{row}"
        if cell in ("quantity", "unit_price"):
            key = "invalid_number"
        elif cell == "vat_code":
            key = "vat_code_direction" if exc.code == "vat_code_direction" \
                else "invalid_vat_code"
        elif cell == "account_code":
            key = exc.code if exc.code in ("unknown_account", "non_postable_account") \
                else "choose_line_account"
        elif cell is None:
            key = "invalid_line"
    elif field == "lines":
        key = "no_lines" if not rows else key
    elif field == "due_date" and exc.code == "invalid_document":
        key = "due_before_date"
    elif field == "date" and exc.code == "invalid_document":
        key = "credit_before_invoice"
    return {target: i18n.problem_text(key, exc.detail, lang, exc.data)}


async def _chart(request: Request, ctx: CompanyContext) -> dict[str, dict[str, Any]]:
    return {a["code"]: a for a in await _web(request).accounts(ctx)}


async def _invoice_form(request: Request, session: Session, ctx: CompanyContext,
                        typed: Mapping[str, Any], errors: Mapping[str, str] | None = None,
                        status: int = 200) -> Response:
    purchases = typed["side"] == "purchases"
    counterparties = await _web(request).customers(ctx)
    accounts = ([a for a in (await _chart(request, ctx)).values()
                 if a["postable"] and a["active"]] if purchases else [])
    return await _company_page(request, session, ctx, "invoice_new.html", status=status,
                               typed=typed, errors=errors or {}, customers=counterparties,
                               vat_codes=PURCHASE_VAT_CODES if purchases else SALES_VAT_CODES,
                               purchases=purchases, ledger_accounts=accounts, note_of=None,
                               action=f"/c/{ctx.company_id}/documents/new")


async def _document_action(
        request: Request, session: Session, ctx: CompanyContext, document_id: UUID,
        action: Callable[[CompanyContext, UUID], Coroutine[Any, Any, None]]) -> Response:
    """Approve or post: back to the document, or the refusal shown on its page."""
    try:
        await action(ctx, document_id)
    except SaldoError as exc:
        if exc.code == "document_not_found":
            raise
        message = i18n.problem_text(exc.code, exc.detail, _lang(request), exc.data)
        return await _document_page(request, session, ctx, document_id, error=message,
                                    status=status_for(exc, STATUS_BY_ERROR))
    return RedirectResponse(f"/c/{ctx.company_id}/documents/{document_id}", status_code=303)


#: The kinds a page may approve and post (the others are posted when they are made).
_POSTABLE = (DocumentKind.SALES_INVOICE.value, DocumentKind.PURCHASE_BILL.value)
#: The kinds a credit note may be made against.
_CREDITABLE = _POSTABLE


async def _document_page(request: Request, session: Session, ctx: CompanyContext,
                         document_id: UUID, error: str | None = None,
                         status: int = 200) -> Response:
    doc = await _web(request).document(ctx, document_id)
    if doc is None:
        raise DocumentMissing("No such document.", document_id=str(document_id))
    draft = doc["status"] == "draft" and doc["kind"] in _POSTABLE
    return await _company_page(request, session, ctx, "document.html", status=status,
                               doc=doc, error=error,
                               may_post=ctx.may(Permission.DOCUMENTS_WRITE) and draft,
                               may_approve=ctx.may(Permission.DOCUMENTS_APPROVE) and draft
                               and not doc["approved_by"]
                               and doc["created_by"] != session.user.username,
                               may_credit=ctx.may(Permission.DOCUMENTS_WRITE)
                               and doc["posted"] and doc["kind"] in _CREDITABLE
                               and doc["creditable"] > 0,
                               may_debit=ctx.may(Permission.DOCUMENTS_WRITE)
                               and doc["posted"]
                               and doc["kind"] == DocumentKind.PURCHASE_BILL.value,
                               may_withhold=ctx.may(Permission.DOCUMENTS_WRITE)
                               and doc["posted"] and doc["withholding_payee"]
                               and doc["kind"] == DocumentKind.PURCHASE_BILL.value
                               and doc["withheld"] is None and doc["amount_due"] > 0,
                               withholding_codes=WITHHOLDING_CODES)


def _note_typed(doc: Mapping[str, Any], today: dt.date, note: str) -> dict[str, Any]:
    """A note's form at first: dated today (not before the document); a credit note offers
    each of the document's lines as it was, to be reduced to what is credited, a debit
    note one blank line (what is added is new) with the bill's first account and VAT code."""
    if note == DEBIT_NOTE:
        first = doc["lines"][0] if doc["lines"] else {"vat_code": "vat18", "account_code": ""}
        lines = [{**_blank_line(first["vat_code"]), "account_code": first["account_code"]}]
    else:
        lines = [{"description": x["description"], "quantity": _plain_number(x["quantity"]),
                  "unit_price": _plain_number(x["unit_price"]), "vat_code": x["vat_code"],
                  "account_code": x["account_code"] if not doc["sales"] else ""}
                 for x in doc["lines"]]
    return {"side": "sales" if doc["sales"] else "purchases", "counterparty_id": "",
            "date": max(today, doc["date"]).isoformat(), "due_date": "",
            "reference": "", "supplier_reference": "", "lines": lines}


def _plain_number(value: Any) -> str:
    return format(Decimal(str(value)).normalize(), "f")


async def _note_form(request: Request, session: Session, ctx: CompanyContext,
                     doc: Mapping[str, Any], typed: Mapping[str, Any], note: str,
                     errors: Mapping[str, str] | None = None, status: int = 200) -> Response:
    purchases = not doc["sales"]
    accounts = ([a for a in (await _chart(request, ctx)).values()
                 if a["postable"] and a["active"]] if purchases else [])
    return await _company_page(request, session, ctx, "invoice_new.html", status=status,
                               typed=typed, errors=errors or {}, customers=[],
                               vat_codes=PURCHASE_VAT_CODES if purchases else SALES_VAT_CODES,
                               purchases=purchases, ledger_accounts=accounts, note_of=doc,
                               debit_note=note == DEBIT_NOTE,
                               action=f"/c/{ctx.company_id}/documents/{doc['id']}/{note}")


class DocumentMissing(NotFound):
    code = "document_not_found"
    title = "No such document"


#: The notes a posted document's page makes: a credit note against an invoice or a bill
#: (the supplier's), a debit note (more to pay) against a bill only.
CREDIT_NOTE, DEBIT_NOTE = "credit-note", "debit-note"
NOTES = (CREDIT_NOTE, DEBIT_NOTE)


async def _correctable(request: Request, ctx: CompanyContext, document_id: UUID,
                       note: str) -> dict[str, Any]:
    """A posted invoice or bill the ``note`` may be made against (else 404 or 409)."""
    doc = await _web(request).document(ctx, document_id)
    kinds = _CREDITABLE if note == CREDIT_NOTE else (DocumentKind.PURCHASE_BILL.value,)
    if doc is None or doc["kind"] not in kinds:
        raise DocumentMissing("No such invoice or bill." if note == CREDIT_NOTE
                              else "No such bill.", document_id=str(document_id))
    if not doc["posted"]:
        raise NotCreditable("Only a posted document can be corrected by a note.",
                            document_id=str(document_id))
    return doc


class NotCreditable(Conflict):
    code = "invalid_state"
    title = "Not posted"


# ---------------------------------------------------------------------- bank


def _suggested(document_id: str, amount: str) -> tuple[UUID, Decimal]:
    try:
        return UUID(document_id), Decimal(amount)
    except (ValueError, ArithmeticError):
        raise ChooseAccount("Choose one of the suggested documents.",
                            field="document_id") from None


async def _bank_page(request: Request, session: Session, ctx: CompanyContext, status: str,
                     errors: Mapping[str, str] | None = None,
                     typed: Mapping[str, str] | None = None,
                     http_status: int | None = None) -> Response:
    chosen = status if status in ("unreconciled", "reconciled") else None
    service = _web(request)
    accounts, lines = await service.bank(ctx, chosen)
    may_reconcile = ctx.may(Permission.BANK_WRITE)
    shown = {str(line["id"]) for line in lines if line["status"] == "unreconciled"}
    # A refusal about a line no longer listed (reconciled meanwhile) heads the page.
    error = next((m for k, m in (errors or {}).items() if k not in shown), None)
    ledger_accounts = ([a for a in await service.accounts(ctx) if a["postable"] and a["active"]]
                       if may_reconcile else [])
    return await _company_page(request, session, ctx, "bank.html", status=http_status or 200,
                               accounts=accounts, lines=lines, line_status=chosen or "all",
                               may_reconcile=may_reconcile, ledger_accounts=ledger_accounts,
                               errors=errors or {}, typed=typed or {}, error=error)


class BankLineMissing(NotFound):
    code = "bank_line_not_found"
    title = "No such statement line"


class RemainderUnallocated(RuleViolation):
    code = "remainder_unallocated"
    title = "Part of the line is not allocated"


class AllocationsMissing(RuleViolation):
    code = "no_allocations"
    title = "Nothing allocated"


def _cents_total(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal("0.00"))


def _split_amounts(documents: list[dict[str, Any]], typed: Mapping[str, str]
                   ) -> list[tuple[UUID, Decimal]]:
    """The amounts typed against the offered documents (blank ones skipped); a text that
    is not an amount is refused at its field."""
    chosen = []
    for doc in documents:
        key = str(doc["document_id"])
        text = _amount(typed.get(key, ""))
        if text is None:
            continue
        try:
            value = Decimal(text)
        except ArithmeticError:
            raise InvalidSplitAmount("Not an amount.", document_id=key) from None
        if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
            raise InvalidSplitAmount("Not an amount.", document_id=key)
        chosen.append((doc["document_id"], value))
    return chosen


class InvalidSplitAmount(RuleViolation):
    code = "invalid_number"
    title = "Not an amount"


def _split_figures(line: Mapping[str, Any], documents: list[dict[str, Any]],
                   typed: Mapping[str, str]) -> dict[str, Decimal]:
    """The line's size, what the typed amounts allocate and what remains (negative:
    more allocated than the line); unreadable amounts count as nothing here."""
    allocated = Decimal("0.00")
    for doc in documents:
        text = _amount(typed.get(str(doc["document_id"]), ""))
        try:
            value = Decimal(text) if text else Decimal(0)
        except ArithmeticError:
            value = Decimal(0)
        if value.is_finite() and value > 0:
            allocated += value
    size = abs(Decimal(line["amount"]))
    return {"size": size, "allocated": allocated, "remainder": size - allocated}


def _split_input(line: Mapping[str, Any], documents: list[dict[str, Any]],
                 typed: Mapping[str, str]) -> list[tuple[UUID, Decimal]]:
    """The allocations to send to banking. What is left of the line after them is never
    dropped silently: it is refused unless the user chose to keep it as the
    counterparty's advance (banking books it so, on the same payment)."""
    chosen = _split_amounts(documents, typed)
    if not chosen:
        raise AllocationsMissing("Allocate the line to at least one document.",
                                 field="form")
    size = abs(Decimal(line["amount"]))
    remainder = size - _cents_total([v for _, v in chosen])
    if remainder < 0:
        raise OverLine("More is allocated than the line.", field="remainder",
                       amount=str(-remainder))
    if remainder > 0 and typed.get("advance") != "yes":
        raise RemainderUnallocated(f"{remainder} of the line is not allocated.",
                                   field="remainder", amount=str(remainder))
    return chosen


class OverLine(RuleViolation):
    code = "over_allocation"
    title = "More allocated than the line"


async def _split_page(request: Request, session: Session, ctx: CompanyContext,
                      line_id: UUID, typed: Mapping[str, str] | None,
                      errors: Mapping[str, str] | None = None,
                      status: int = 200) -> Response:
    line, documents = await _web(request).bank_line(ctx, line_id)
    if line is None:
        raise BankLineMissing("No such statement line.", line_id=str(line_id))
    if typed is None:  # at first: what the suggestions allocate, the best group's
        typed = {str(s["document_id"]): _plain(s["allocate"])
                 for s in _first_group(line.get("suggestions") or [], line)}
    figures = _split_figures(line, documents, typed)
    offered = {str(d["document_id"]) for d in documents}
    error = next((m for k, m in (errors or {}).items()
                  if k not in offered and k != "remainder"), None)
    return await _company_page(request, session, ctx, "bank_split.html", status=status,
                               line=line, documents=documents, typed=typed,
                               errors=errors or {}, error=error, figures=figures,
                               reconciled=line["status"] != "unreconciled")


def _first_group(suggestions: list[dict[str, Any]],
                 line: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The best-ranked suggestion, as a starting point (its ``allocate`` amount)."""
    return suggestions[:1]


# ---------------------------------------------------------------------- payroll


def _period_start(text: str | None) -> dt.date | None:
    if text and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        return dt.date(int(text[:4]), int(text[5:7]), 1)
    return None


def _month_end(first: dt.date) -> dt.date:
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def _blank_pay_line() -> dict[str, str]:
    return {"employee": "", "gross": ""}


def _typed_run(form: Mapping[str, str]) -> dict[str, Any]:
    try:
        count = int(form.get("line_count", str(BLANK_LINES)))
    except ValueError:
        count = BLANK_LINES
    count = max(1, min(count, MAX_FORM_LINES))
    return {"period": _text(form.get("period"), 20).strip(),
            "payment_date": _text(form.get("payment_date"), 40).strip(),
            "lines": [{"employee": _text(form.get(f"lines-{i}-employee"), 200).strip(),
                       "gross": _text(form.get(f"lines-{i}-gross"), 40)}
                      for i in range(count)]}


class ChooseEmployee(RuleViolation):
    code = "choose_employee"
    title = "Choose an employee"


class NoEmployees(RuleViolation):
    code = "no_employees"
    title = "No employees in the run"


def _employee_of(text: str, staff: list[dict[str, Any]]) -> dict[str, Any] | None:
    """An employee by personal number, or by a name (either alphabet) that only one has:
    the whole name, else the start of a word of it."""
    wanted = text.casefold()
    for e in staff:
        if e["personal_number"] == text:
            return e
    def whole(name: str) -> bool:
        return name == wanted

    def word(name: str) -> bool:
        return name.startswith(wanted) or any(w.startswith(wanted) for w in name.split())

    for test in (whole, word):
        found = [e for e in staff if test(e["full_name"].casefold())]
        if len(found) == 1:
            return found[0]
        if found:
            return None
    return None


def _run_input(typed: Mapping[str, Any], staff: list[dict[str, Any]]
               ) -> tuple[str, dt.date, list[PayLineInput], dict[str, int]]:
    """Payroll's input from the form: the period, the payment date, each row's employee
    and gross (blank rows skipped); and the row of each employee, to place payroll's
    refusals."""
    period = typed["period"]
    payment_date = _day(typed["payment_date"], "payment_date")
    lines: list[PayLineInput] = []
    rows: dict[str, int] = {}
    for i, row in enumerate(typed["lines"]):
        if not (row["employee"] or row["gross"].strip()):
            continue
        employee = _employee_of(row["employee"], staff)
        if employee is None:
            raise ChooseEmployee("Choose an employee.", field=f"lines-{i}-employee")
        if str(employee["id"]) in rows:
            raise ChooseEmployee("The employee is in the run already.",
                                 field=f"lines-{i}-employee", twice="yes")
        text = _amount(row["gross"])
        try:
            gross = Decimal(text) if text else None
        except ArithmeticError:
            gross = None
        if gross is None or not gross.is_finite() or gross < 0 \
                or gross != gross.quantize(Decimal("0.01")):
            raise InvalidSplitAmount("Not an amount.", field=f"lines-{i}-gross")
        rows[str(employee["id"])] = i
        lines.append(PayLineInput(employee["id"], gross))
    if not lines:
        raise NoEmployees("Add at least one employee.", field="lines")
    return period, payment_date, lines, rows


def _run_errors(exc: SaldoError, rows: Mapping[str, int], lang: str) -> dict[str, str]:
    field = str(exc.data.get("field") or "")
    key = exc.code
    if exc.code == "choose_employee" and exc.data.get("twice"):
        key = "employee_twice"
    if exc.code in ("invalid_period", "payroll_run_exists"):
        field = "period"
    elif exc.code == "period_closed":
        field = "payment_date"
    elif exc.code == "invalid_date":
        field = field or "payment_date"
    elif exc.data.get("employee_id") in rows:
        row = rows[str(exc.data["employee_id"])]
        field = f"lines-{row}-gross" if exc.code == "negative_gross" \
            else f"lines-{row}-employee"
    if exc.code == "invalid_number":
        key = "invalid_number"
    return {field or "form": i18n.problem_text(key, exc.detail, lang, exc.data)}


async def _run_form(request: Request, session: Session, ctx: CompanyContext,
                    typed: Mapping[str, Any], errors: Mapping[str, str] | None = None,
                    status: int = 200,
                    staff: list[dict[str, Any]] | None = None) -> Response:
    service = _web(request)
    if staff is None:
        staff = await service.employees(ctx, service.ledger.today())
    names = {e["personal_number"]: e["full_name"] for e in staff}
    return await _company_page(request, session, ctx, "payroll_new.html", status=status,
                               typed=typed, errors=errors or {}, staff=staff, names=names)


async def _run_page(request: Request, session: Session, ctx: CompanyContext, run_id: UUID,
                    error: str | None = None, status: int = 200) -> Response:
    run, lines = await _web(request).payroll_run(ctx, run_id)
    totals = {k: Decimal(str(v)) for k, v in (run["totals"] or {}).items()}
    writer = ctx.may(Permission.PAYROLL_WRITE)
    # The accounts salaries are paid from: the chart's postable cash and bank accounts
    # (classes 11 and 12 of the Georgian chart).
    pay_accounts = ([a for a in (await _chart(request, ctx)).values()
                     if a["postable"] and a["active"] and a["code"][:2] in ("11", "12")]
                    if writer and run["status"] == "posted" else [])
    return await _company_page(request, session, ctx, "payroll_run.html", status=status,
                               run=run, lines=lines, totals=totals, error=error,
                               may_write=writer and run["status"] == "draft",
                               may_pay=writer and run["status"] == "posted",
                               pay_accounts=pay_accounts, pay_default=DEFAULT_BANK_ACCOUNT,
                               files=run["status"] in ("posted", "paid"))


async def _users_page(request: Request, session: Session, ctx: CompanyContext,
                      error: str | None = None, status: int = 200,
                      typed: Mapping[str, str] | None = None) -> Response:
    members = await _web(request).members(ctx)
    return await _company_page(request, session, ctx, "users.html", status=status,
                               members=members, roles=ROLES, error=error,
                               may_admin=ctx.may(Permission.ADMIN_USERS), typed=typed or {})


async def _member_change(request: Request, session: Session, ctx: CompanyContext, action: str,
                         username: str, role: str) -> Response:
    identity = _web(request).identity
    origin = _origin(request)
    try:
        if action == "remove":
            await identity.remove_member(ctx, username, origin)
        else:
            if role not in ROLES:
                raise InvalidDraft("Choose a role.", field="role")
            if action == "add":
                await identity.add_member(ctx, username.strip(), Role(role), origin)
            else:
                await identity.change_role(ctx, username, Role(role), origin)
    except SaldoError as exc:
        message = i18n.problem_text(exc.code, exc.detail, _lang(request), exc.data)
        # What was typed stays in the form (issue 17, item 5).
        return await _users_page(request, session, ctx, error=message,
                                 status=status_for(exc, STATUS_BY_ERROR),
                                 typed={"username": username, "role": role}
                                 if action == "add" else None)
    return RedirectResponse(f"/c/{ctx.company_id}/users", status_code=303)
