"""The Revenue Service (rs.ge) screens (issue 15, "Screens"; decision 0064).

Three pages under ``/c/{company}/rs``, in the style of the other screens (server-rendered,
no inline script, every form with its CSRF token, every error a sentence on the page):

* ``/rs`` -- outgoing e-invoices by delivery state (queued, sent, confirmed, rejected,
  failed with its last error; a failed one has a Retry button) and the waybills;
* ``/rs/incoming`` -- suppliers' e-invoices from the last sync (a Sync button), each with
  its matched bill, and the actions: a draft bill, confirm, reject with a reason;
* ``/rs/credentials`` -- the service user; the password is typed, sent and never shown
  back (``RsgeService.credentials_status`` does not know it).

The pages call ``RsgeService`` (the same use cases as the API, under the same
permissions) and read its ``queries``. Their words are the ``rs_*`` block at the end of
:mod:`saldo.web.i18n`.
"""

from __future__ import annotations

from typing import Annotated, Any, cast
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from saldo.identity.service import CompanyContext, Permission
from saldo.kernel.errors import NotFound, RuleViolation, SaldoError
from saldo.kernel.events import Actor
from saldo.platform.http import STATUS_BY_ERROR, status_for
from saldo.rsge import queries as rs_queries
from saldo.rsge.service import ERROR_STATUSES, RsgeService
from saldo.web import i18n
from saldo.web.api import Form, SignedIn, WebRoute, _company_page, _lang, check_csrf, company
from saldo.web.domain import CSRF_FIELD
from saldo.web.service import Session

#: What a waybill's buttons do, by direction and state (RsgeService.waybill_action checks
#: again): outgoing saved → activate (send_waybill), active → close; incoming active or
#: closed → confirm or reject.
WAYBILL_ACTIONS = ("activate", "close", "confirm", "reject")
#: The delivery states the outgoing list filters by (rs_einvoices.status).
EINVOICE_STATES = ("queued", "sent", "confirmed", "rejected", "failed")


#: rs.ge's ids are bigint: a larger number is a 422 page, never a database error.
RsId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DocReader = Annotated[CompanyContext, Depends(company(Permission.DOCUMENTS_READ))]
DocWriter = Annotated[CompanyContext, Depends(company(Permission.DOCUMENTS_WRITE))]
DocApprover = Annotated[CompanyContext, Depends(company(Permission.DOCUMENTS_APPROVE))]


def _rs(request: Request) -> RsgeService:
    service = getattr(request.app.state, "rsge", None)
    if service is None:  # the context is not registered in this installation
        raise NotFound("The Revenue Service exchange is not available here.")
    return cast(RsgeService, service)


def _actor(ctx: CompanyContext) -> Actor:
    return Actor(ctx.user.id, ctx.user.username)


def _problem(request: Request, exc: SaldoError) -> tuple[str, int]:
    return (i18n.problem_text(exc.code, exc.detail, _lang(request), exc.data),
            status_for(exc, {**STATUS_BY_ERROR, **ERROR_STATUSES}))


def _back(ctx: CompanyContext, page: str, **notice: Any) -> RedirectResponse:
    query = f"?{urlencode(notice)}" if notice else ""
    return RedirectResponse(f"/c/{ctx.company_id}/rs{page}{query}", status_code=303)


# ---------------------------------------------------------------------- pages


async def _outgoing_page(request: Request, session: Session, ctx: CompanyContext,
                         state: str | None, notice: str | None = None,
                         error: str | None = None, status: int = 200) -> Response:
    rs = _rs(request)
    chosen = state if state in EINVOICE_STATES else None
    company_id = ctx.company_id
    rows = await rs.read(company_id, lambda conn: rs_queries.einvoices(conn, company_id,
                                                                        chosen))
    counts = await rs.read(company_id, lambda conn: rs_queries.einvoice_counts(conn,
                                                                               company_id))
    waybills = await rs.read(company_id, lambda conn: rs_queries.waybills(conn, company_id))
    return await _company_page(
        request, session, ctx, "rs_einvoices.html", status=status, rows=rows, counts=counts,
        states=EINVOICE_STATES, state=chosen or "all", waybills=waybills, notice=notice,
        error=error, may_retry=ctx.may(Permission.DOCUMENTS_WRITE), section="outgoing")


async def _incoming_page(request: Request, session: Session, ctx: CompanyContext,
                         notice: str | None = None, error: str | None = None,
                         errors: dict[str, str] | None = None,
                         findings: list[str] | None = None, status: int = 200) -> Response:
    rs = _rs(request)
    company_id = ctx.company_id
    rows = await rs.read(company_id, lambda conn: rs_queries.incoming_list(conn, company_id))
    creds = await rs.read(company_id, lambda conn: rs_queries.credentials_row(conn,
                                                                              company_id))
    return await _company_page(
        request, session, ctx, "rs_incoming.html", status=status, rows=rows,
        last_sync=creds["last_sync_at"] if creds else None, configured=creds is not None,
        notice=notice, error=error, errors=errors or {}, findings=findings or [],
        may_write=ctx.may(Permission.DOCUMENTS_WRITE),
        may_decide=ctx.may(Permission.DOCUMENTS_APPROVE), section="incoming")


async def _credentials_page(request: Request, session: Session, ctx: CompanyContext,
                            notice: str | None = None, error: str | None = None,
                            typed_user: str | None = None, status: int = 200) -> Response:
    state = await _rs(request).credentials_status(ctx.company_id)
    return await _company_page(
        request, session, ctx, "rs_credentials.html", status=status, creds=state,
        notice=notice, error=error,
        typed_user=typed_user if typed_user is not None else (state["service_user"] or ""),
        may_set=ctx.may(Permission.DOCUMENTS_APPROVE), section="credentials")


def _notice(request: Request, key: str | None, **values: Any) -> str | None:
    if key is None or key not in i18n.MESSAGES:
        return None
    try:
        return i18n.t(key, _lang(request), **values)
    except (KeyError, IndexError):
        return None


# ---------------------------------------------------------------------- routes


def router() -> APIRouter:
    web = APIRouter(route_class=WebRoute, include_in_schema=False)

    @web.get("/c/{company_id}/rs")
    async def outgoing(request: Request, session: SignedIn, ctx: DocReader,
                       state: str | None = None, done: str | None = None) -> Response:
        notice = {"retried": "rs_retried", "waybill": "rs_waybill_done"}.get(done or "")
        return await _outgoing_page(request, session, ctx, state,
                                    notice=_notice(request, notice))

    @web.post("/c/{company_id}/rs/e-invoices/{document_id}/retry")
    async def retry(request: Request, session: SignedIn, ctx: DocWriter, document_id: UUID,
                    form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        try:
            await _rs(request).retry(ctx.company_id, _actor(ctx), document_id)
        except SaldoError as exc:
            message, status = _problem(request, exc)
            return await _outgoing_page(request, session, ctx, "failed", error=message,
                                        status=status)
        return _back(ctx, "", state="queued", done="retried")

    @web.post("/c/{company_id}/rs/waybills/{waybill_id}/{action}")
    async def waybill_action(request: Request, session: SignedIn, ctx: DocWriter,
                             waybill_id: UUID, action: str, form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        if action not in WAYBILL_ACTIONS:
            raise NotFound(f"No waybill action {action}.")
        try:
            await _rs(request).waybill_action(ctx.company_id, _actor(ctx), waybill_id, action)
        except SaldoError as exc:
            if exc.code == "waybill_not_found":
                raise
            message, status = _problem(request, exc)
            return await _outgoing_page(request, session, ctx, None, error=message,
                                        status=status)
        return _back(ctx, "", done="waybill")

    @web.get("/c/{company_id}/rs/incoming")
    async def incoming(request: Request, session: SignedIn, ctx: DocReader,
                       done: str | None = None, invoices: int = 0, matched: int = 0,
                       waybills: int = 0) -> Response:  # the counts only fill a sentence
        notice = {"synced": lambda: _notice(request, "rs_synced", invoices=invoices,
                                            matched=matched, waybills=waybills),
                  "drafted": lambda: _notice(request, "rs_drafted"),
                  "confirmed": lambda: _notice(request, "rs_confirmed_msg"),
                  "rejected": lambda: _notice(request, "rs_rejected_msg")}.get(done or "")
        return await _incoming_page(request, session, ctx, notice=notice() if notice else None)

    @web.post("/c/{company_id}/rs/sync")
    async def sync(request: Request, session: SignedIn, ctx: DocWriter,
                   form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        try:
            found = await _rs(request).sync(ctx.company_id, _actor(ctx))
        except SaldoError as exc:
            message, status = _problem(request, exc)
            return await _incoming_page(request, session, ctx, error=message, status=status)
        if found["findings"]:  # shown at once: they are not kept anywhere else
            notice = _notice(request, "rs_synced", invoices=found["invoices"],
                             matched=found["matched"], waybills=found["waybills"])
            return await _incoming_page(request, session, ctx, notice=notice,
                                        findings=list(found["findings"]))
        return _back(ctx, "/incoming", done="synced", invoices=found["invoices"],
                     matched=found["matched"], waybills=found["waybills"])

    async def decide(request: Request, session: Session, ctx: CompanyContext, rs_id: int,
                     form: dict[str, str], action: str) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        rs = _rs(request)
        try:
            if action == "draft-bill":
                await rs.draft_bill(ctx, rs_id)
                done = "drafted"
            elif action == "confirm":
                await rs.decide_incoming(ctx.company_id, _actor(ctx), rs_id, confirm=True)
                done = "confirmed"
            else:
                reason = form.get("reason", "").strip()[:500]
                if not reason:
                    raise RsReasonNeeded("A rejection needs a reason.", field="reason")
                await rs.decide_incoming(ctx.company_id, _actor(ctx), rs_id, confirm=False,
                                         reason=reason)
                done = "rejected"
        except SaldoError as exc:
            if exc.code == "rs_invoice_not_found":
                raise
            message, status = _problem(request, exc)
            # The refusal stands at the invoice's row.
            return await _incoming_page(request, session, ctx, errors={str(rs_id): message},
                                        status=status)
        return _back(ctx, "/incoming", done=done)

    @web.post("/c/{company_id}/rs/incoming/{rs_id}/draft-bill")
    async def draft_bill(request: Request, session: SignedIn, ctx: DocWriter, rs_id: RsId,
                         form: Form) -> Response:
        return await decide(request, session, ctx, rs_id, form, "draft-bill")

    @web.post("/c/{company_id}/rs/incoming/{rs_id}/confirm")
    async def confirm(request: Request, session: SignedIn, ctx: DocApprover, rs_id: RsId,
                      form: Form) -> Response:
        return await decide(request, session, ctx, rs_id, form, "confirm")

    @web.post("/c/{company_id}/rs/incoming/{rs_id}/reject")
    async def reject(request: Request, session: SignedIn, ctx: DocApprover, rs_id: RsId,
                     form: Form) -> Response:
        return await decide(request, session, ctx, rs_id, form, "reject")

    @web.get("/c/{company_id}/rs/credentials")
    async def credentials(request: Request, session: SignedIn, ctx: DocReader,
                          done: str | None = None) -> Response:
        return await _credentials_page(request, session, ctx,
                                       notice=_notice(request, "rs_saved")
                                       if done == "saved" else None)

    @web.post("/c/{company_id}/rs/credentials")
    async def set_credentials(request: Request, session: SignedIn, ctx: DocApprover,
                              form: Form) -> Response:
        check_csrf(session, form.get(CSRF_FIELD))
        user = form.get("service_user", "").strip()[:100]
        password = form.get("service_password", "")[:200]
        try:
            if not user or not password:
                raise RsCredentialsIncomplete("Enter both the user name and the password.",
                                              field="service_password" if user else
                                              "service_user")
            await _rs(request).set_credentials(ctx.company_id, _actor(ctx), user, password)
        except SaldoError as exc:
            message, status = _problem(request, exc)
            # The user name typed stays; the password is never sent back.
            return await _credentials_page(request, session, ctx, error=message,
                                           typed_user=user, status=status)
        return _back(ctx, "/credentials", done="saved")

    return web


class RsReasonNeeded(RuleViolation):
    code = "rs_reason_needed"
    title = "A rejection needs a reason"


class RsCredentialsIncomplete(RuleViolation):
    code = "rs_fill_both"
    title = "Both the user name and the password are needed"
