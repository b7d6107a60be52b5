"""The SOAP client of the Revenue Service's ``ntosservice`` (e-invoices) and
``WayBillService`` (waybills).

zeep builds every request from the WSDL files kept in the package (``saldo.rsge.wsdl``)
and reads the answers it can. Two kinds of answer it cannot, and those are read from the
raw envelope with lxml (as Odoo's ``l10n_ge_edi`` client does, georgia.md §8):

* ADO.NET DataSet *diffgrams* (``get_invoice_desc``, the invoice lists): the rows are the
  children of ``diffgr:diffgram/DocumentElement``;
* free XML fragments (``save_waybill``'s ``RESULT``, ``get_waybill``'s ``WAYBILL``).

Every failure becomes one of four exceptions carrying a human message, never a stack
trace in a response: :class:`RsUnavailable` (no answer: connection refused, timeout, an
HTML error page), :class:`RsBadResponse` (an answer that is not a readable envelope:
truncated, malformed, an unknown status code), :class:`RsFault` (a SOAP fault) and
:class:`RsRefused` (the service said no: ``false``, a negative status, wrong credentials).
The password is passed in the body only; no log line of this module carries arguments.

Times are naive local time in Asia/Tbilisi (UTC+4, no daylight saving): the services
read and write ``yyyy-MM-ddTHH:mm:ss`` without an offset (rs-ge-services.md, Odoo).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import structlog
import zeep
import zeep.exceptions
from lxml import etree
from zeep.proxy import AsyncServiceProxy
from zeep.transports import AsyncTransport

from saldo.rsge.domain import Credentials
from saldo.rsge.wsdl import NTOS, WAYBILL

log = structlog.get_logger("saldo.rsge.soap")
# zeep logs every envelope it posts at DEBUG, and every envelope carries the service
# user's password (``sp``): that logger never speaks below WARNING, whatever the level.
logging.getLogger("zeep.transports").setLevel(logging.WARNING)

TBILISI = ZoneInfo("Asia/Tbilisi")
NS = "http://tempuri.org/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
DIFFGRAM = "urn:schemas-microsoft-com:xml-diffgram-v1"

#: The real endpoints (rs-ge-services.md). ``SALDO_RS_URL`` replaces the scheme and host
#: (the stand-in serves both paths).
NTOS_PATH = "/ntosservice/ntosservice.asmx"
WAYBILL_PATH = "/WayBillService/WayBillService.asmx"
NTOS_HOST = "https://www.revenue.mof.ge"
WAYBILL_HOST = "https://services.rs.ge"


class RsCallFailed(Exception):
    """A call to rs.ge did not do what was asked. ``retryable``: trying later may help."""

    retryable = True

    def __init__(self, operation: str, message: str) -> None:
        super().__init__(f"{operation}: {message}")
        self.operation, self.message = operation, message


class RsUnavailable(RsCallFailed):
    """No usable answer: refused, timed out, or an HTML error page instead of SOAP."""


class RsBadResponse(RsCallFailed):
    """An answer that is not a readable envelope (truncated, malformed, unknown code)."""


class RsFault(RsCallFailed):
    """The service answered with a SOAP fault."""


class RsRefused(RsCallFailed):
    """The service answered and refused (``false``, a negative status)."""


class RsAuthFailed(RsRefused):
    """The service user or its password is wrong: retrying cannot help until they change."""

    retryable = False


def tbilisi_now() -> datetime:
    """Now as the services want it: naive, Asia/Tbilisi wall-clock time."""
    return datetime.now(TBILISI).replace(tzinfo=None, microsecond=0)


def tbilisi_midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def _safe_parser() -> etree.XMLParser:
    # No entities, no network, no giant trees: the envelope is untrusted input.
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                           remove_blank_text=True)


def diffgram_rows(result: etree._Element) -> list[dict[str, str]]:
    """The rows of an ADO.NET DataSet diffgram, each as ``{column: text}``.

    ``<diffgr:diffgram><DocumentElement><invoices_descs>…</invoices_descs>…`` -- the
    schema before it is ignored; a NULL column is simply absent (ADO.NET omits it).
    """
    gram = result.find(f".//{{{DIFFGRAM}}}diffgram")
    if gram is None:
        return []
    rows: list[dict[str, str]] = []
    for table in gram:  # DocumentElement (or the DataSet's name)
        for row in table:
            rows.append({etree.QName(c).localname: (c.text or "") for c in row})
    return rows


def element_dict(element: etree._Element) -> dict[str, Any]:
    """A free XML fragment (``RESULT``, ``WAYBILL``) as nested dicts; repeated children
    (``GOODS_LIST/GOODS``) as lists."""
    out: dict[str, Any] = {}
    for child in element:
        name = etree.QName(child).localname
        value: Any = element_dict(child) if len(child) else (child.text or "")
        if name in out:
            if not isinstance(out[name], list):
                out[name] = [out[name]]
            out[name].append(value)
        else:
            out[name] = value
    return out


class _NotSoap(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _CheckedTransport(AsyncTransport):
    """zeep's async transport, refusing an answer that is not XML (an HTML error page from
    a proxy or IIS) before zeep reads it as an "Unknown fault"."""

    async def post(self, address: str, message: bytes, headers: dict[str, str]) -> Any:
        response = await super().post(address, message, headers)  # type: ignore[no-untyped-call]
        if "xml" not in response.headers.get("content-type", ""):
            raise _NotSoap(response.status_code)
        return response


@dataclass(frozen=True, slots=True)
class InvoiceState:
    """What ``get_invoice`` says about one e-invoice."""

    rs_id: int
    series: str
    number: int | None
    status: int
    registered_at: datetime | None
    correction_id: int | None
    note: str


class RsClient:
    """One company's calls, with its service user. Async; one HTTP connection pool.

    Built on zeep's :class:`~zeep.AsyncClient` with the WSDLs kept in the package, the
    address pointed at ``base_url`` (rs.ge, or the stand-in ``saldo rs sandbox``).
    """

    def __init__(self, base_url: str | None, *, timeout: float = 20.0,
                 http: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self.ntos_url = (self.base_url or NTOS_HOST) + NTOS_PATH
        self.waybill_url = (self.base_url or WAYBILL_HOST) + WAYBILL_PATH
        self.http = http or httpx.AsyncClient(timeout=timeout)
        self._own_http = http is None
        transport = _CheckedTransport(client=self.http, wsdl_client=httpx.Client())  # type: ignore[no-untyped-call]
        settings = zeep.Settings(strict=False, xml_huge_tree=False, forbid_entities=True)
        self._ntos_client = zeep.AsyncClient(str(NTOS), transport=transport, settings=settings)  # type: ignore[no-untyped-call]
        self._waybill_client = zeep.AsyncClient(str(WAYBILL), transport=transport,  # type: ignore[no-untyped-call]
                                                settings=settings)
        # Not ``create_service``: zeep 4.3's AsyncClient inherits it and returns the *sync*
        # proxy, whose calls then never await the transport.
        self.ntos = AsyncServiceProxy(  # type: ignore[no-untyped-call]
            self._ntos_client, self._ntos_client.wsdl.bindings[f"{{{NS}}}ntosserviceSoap"],
            address=self.ntos_url)
        self.waybills = AsyncServiceProxy(  # type: ignore[no-untyped-call]
            self._waybill_client,
            self._waybill_client.wsdl.bindings[f"{{{NS}}}WayBillServiceSoap"],
            address=self.waybill_url)

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    # ------------------------------------------------------------------ plumbing

    async def _call(self, service: Any, operation: str, **kwargs: Any) -> Any:
        try:
            return await getattr(service, operation)(**kwargs)
        except _NotSoap as exc:
            raise RsUnavailable(operation, f"HTTP {exc.status}: not a SOAP answer") from None
        except zeep.exceptions.Fault as exc:
            raise RsFault(operation, str(exc.message or "SOAP fault")[:500]) from None
        except zeep.exceptions.TransportError as exc:
            raise RsUnavailable(operation, f"HTTP {exc.status_code}: not a SOAP answer") from None
        except httpx.TimeoutException:
            raise RsUnavailable(operation, "no answer in time (timeout)") from None
        except httpx.TransportError as exc:
            raise RsUnavailable(operation, f"unreachable ({type(exc).__name__})") from None
        except (zeep.exceptions.XMLSyntaxError, zeep.exceptions.XMLParseError,
                etree.XMLSyntaxError, zeep.exceptions.ValidationError, ValueError,
                # zeep reads a truncated envelope into an empty body and then trips over it
                TypeError, AttributeError, IndexError, KeyError) as exc:
            raise RsBadResponse(operation, f"unreadable envelope ({type(exc).__name__})") \
                from None

    async def _raw(self, client: zeep.AsyncClient, service: Any, url: str, operation: str,
                   **kwargs: Any) -> etree._Element:
        """Call ``operation`` and return its ``<operation>Result`` element from the raw
        envelope (zeep builds the request; lxml reads the answer)."""
        try:
            envelope = client.create_message(service, operation, **kwargs)  # type: ignore[no-untyped-call]
        except (TypeError, ValueError) as exc:  # pragma: no cover - a programming error
            raise RsBadResponse(operation, f"cannot build the request: {exc}") from None
        body = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        headers = {"Content-Type": "text/xml; charset=utf-8",
                   "SOAPAction": f'"{NS}{operation}"'}
        try:
            response = await self.http.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise RsUnavailable(operation, "no answer in time (timeout)") from None
        except httpx.TransportError as exc:
            raise RsUnavailable(operation, f"unreachable ({type(exc).__name__})") from None
        kind = response.headers.get("content-type", "")
        if "xml" not in kind:
            raise RsUnavailable(operation, f"HTTP {response.status_code}: not a SOAP answer")
        try:
            root = etree.fromstring(response.content, parser=_safe_parser())
        except etree.XMLSyntaxError:
            raise RsBadResponse(operation, "unreadable envelope (truncated or malformed)") \
                from None
        fault = root.find(f".//{{{SOAP_ENV}}}Fault")
        if fault is not None:
            text = fault.findtext("faultstring") or "SOAP fault"
            raise RsFault(operation, text[:500])
        result = root.find(f".//{{{NS}}}{operation}Result")
        if result is None:
            raise RsBadResponse(operation, f"no {operation}Result in the envelope")
        return result

    @staticmethod
    def _cred(c: Credentials) -> dict[str, str]:
        return {"su": c.service_user, "sp": c.service_password}

    # ------------------------------------------------------------------ ntosservice

    async def check_user(self, c: Credentials) -> int:
        """``chek``: the service user's ``user_id`` (RS ignores the one passed in)."""
        answer = await self._call(self.ntos, "chek", user_id=0, **self._cred(c))
        if not answer.chekResult:
            raise RsAuthFailed("chek", "rs.ge refused the service user or its password")
        return int(answer.user_id)

    async def un_id(self, c: Credentials, user_id: int, tin: str) -> tuple[int, str]:
        """``get_un_id_from_tin``: the taxpayer's internal id and name."""
        answer = await self._call(self.ntos, "get_un_id_from_tin", user_id=user_id, tin=tin,
                                  **self._cred(c))
        un_id = int(answer.get_un_id_from_tinResult)
        if un_id <= 0:
            raise RsRefused("get_un_id_from_tin", f"rs.ge knows no taxpayer {tin}")
        return un_id, str(answer.name or "")

    async def save_invoice(self, c: Credentials, user_id: int, *, operation_date: datetime,
                           seller_un_id: int, buyer_un_id: int, note: str) -> int:
        """``save_invoice_n``: a new header (``invois_id`` 0); returns its rs.ge id.
        ``overhead_no`` is deprecated and sent empty, ``overhead_dt`` is still required."""
        answer = await self._call(
            self.ntos, "save_invoice_n", user_id=user_id, invois_id=0,
            operation_date=operation_date, seller_un_id=seller_un_id, buyer_un_id=buyer_un_id,
            overhead_no="", overhead_dt=operation_date, b_s_user_id=0, note=note,
            **self._cred(c))
        if not answer.save_invoice_nResult or not answer.invois_id:
            raise RsRefused("save_invoice_n", "rs.ge did not save the invoice header")
        return int(answer.invois_id)

    async def save_line(self, c: Credentials, user_id: int, rs_id: int, *, goods: str,
                        unit: str, quantity: Decimal, full_amount: Decimal, vat: Decimal,
                        excise: Decimal = Decimal(0), excise_id: int = 0) -> int:
        """``save_invoice_desc``: one line (``id`` 0: new); ``full_amount`` includes VAT."""
        answer = await self._call(
            self.ntos, "save_invoice_desc", user_id=user_id, id=0, invois_id=rs_id,
            goods=goods, g_unit=unit, g_number=quantity, full_amount=full_amount,
            drg_amount=vat, aqcizi_amount=excise, akciz_id=excise_id, **self._cred(c))
        if not answer.save_invoice_descResult:
            raise RsRefused("save_invoice_desc", "rs.ge did not save the invoice line")
        return int(answer.id or 0)

    async def lines(self, c: Credentials, user_id: int, rs_id: int) -> list[dict[str, str]]:
        """``get_invoice_desc``: the lines rs.ge holds, read from the diffgram."""
        result = await self._raw(self._ntos_client, self.ntos, self.ntos_url, "get_invoice_desc",
                                 user_id=user_id, invois_id=rs_id, **self._cred(c))
        return diffgram_rows(result)

    async def change_status(self, c: Credentials, user_id: int, rs_id: int, status: int) -> None:
        """``change_invoice_status``: 1 send, 5 send a correction, 6 ask cancellation."""
        answer = await self._call(self.ntos, "change_invoice_status", user_id=user_id,
                                  inv_id=rs_id, status=status, **self._cred(c))
        if not answer:
            raise RsRefused("change_invoice_status", f"rs.ge refused status {status}")

    async def invoice(self, c: Credentials, user_id: int, rs_id: int) -> InvoiceState:
        """``get_invoice``: series, number, status and the correction chained to it."""
        a = await self._call(self.ntos, "get_invoice", user_id=user_id, invois_id=rs_id,
                             **self._cred(c))
        if not a.get_invoiceResult:
            raise RsRefused("get_invoice", f"rs.ge has no invoice {rs_id}")
        return InvoiceState(rs_id, str(a.f_series or ""), int(a.f_number) if a.f_number else None,
                            int(a.status), a.reg_dt, int(a.k_id) if a.k_id else None,
                            str(a.note or ""))

    async def correct(self, c: Credentials, user_id: int, rs_id: int, k_type: int) -> int:
        """``k_invoice``: a corrective invoice chained to ``rs_id``; returns its id."""
        a = await self._call(self.ntos, "k_invoice", user_id=user_id, inv_id=rs_id,
                             k_type=k_type, **self._cred(c))
        if not a.k_invoiceResult or not a.k_id:
            raise RsRefused("k_invoice", "rs.ge did not create the correction")
        return int(a.k_id)

    async def seller_invoices(self, c: Credentials, user_id: int, un_id: int, start: datetime,
                              end: datetime) -> list[dict[str, str]]:
        result = await self._raw(self._ntos_client, self.ntos, self.ntos_url, "get_seller_invoices",
                                 user_id=user_id, un_id=un_id, s_dt=start, e_dt=end,
                                 **self._cred(c))
        return diffgram_rows(result)

    async def buyer_invoices(self, c: Credentials, user_id: int, un_id: int, start: datetime,
                             end: datetime) -> list[dict[str, str]]:
        result = await self._raw(self._ntos_client, self.ntos, self.ntos_url, "get_buyer_invoices",
                                 user_id=user_id, un_id=un_id, s_dt=start, e_dt=end,
                                 **self._cred(c))
        return diffgram_rows(result)

    async def accept(self, c: Credentials, user_id: int, rs_id: int) -> None:
        """``acsept_invoice_status`` (sic): the buyer confirms."""
        ok = await self._call(self.ntos, "acsept_invoice_status", user_id=user_id,
                              inv_id=rs_id, status=2, **self._cred(c))
        if not ok:
            raise RsRefused("acsept_invoice_status", "rs.ge refused the confirmation")

    async def reject(self, c: Credentials, user_id: int, rs_id: int, reason: str) -> None:
        """``ref_invoice_status``: the buyer rejects, with a reason."""
        ok = await self._call(self.ntos, "ref_invoice_status", user_id=user_id, inv_id=rs_id,
                              ref_text=reason, **self._cred(c))
        if not ok:
            raise RsRefused("ref_invoice_status", "rs.ge refused the rejection")

    # ------------------------------------------------------------------ WayBillService

    async def check_service_user(self, c: Credentials) -> int:
        """``chek_service_user``: the taxpayer's ``un_id``."""
        a = await self._call(self.waybills, "chek_service_user", **self._cred(c))
        if not a.chek_service_userResult:
            raise RsAuthFailed("chek_service_user",
                               "rs.ge refused the service user or its password")
        return int(a.un_id)

    async def name_from_tin(self, c: Credentials, tin: str) -> str:
        name = await self._call(self.waybills, "get_name_from_tin", tin=tin, **self._cred(c))
        return str(name or "")

    async def is_vat_payer(self, c: Credentials, tin: str) -> bool:
        return bool(await self._call(self.waybills, "is_vat_payer_tin", tin=tin,
                                     **self._cred(c)))

    async def save_waybill(self, c: Credentials, waybill: Mapping[str, Any]) -> dict[str, Any]:
        """``save_waybill``: ``RESULT{STATUS, ID, GOODS_LIST}``; STATUS < 0 is an error."""
        element = build_element("WAYBILL", waybill)
        result = await self._raw(self._waybill_client, self.waybills, self.waybill_url,
                                 "save_waybill", waybill={"_value_1": [element]},
                                 **self._cred(c))
        answer = result.find("{*}RESULT")
        data = element_dict(answer if answer is not None else result)
        status = _int(data.get("STATUS"), "save_waybill")
        if status < 0:
            raise RsRefused("save_waybill", f"rs.ge refused the waybill (error {status})")
        return data

    async def waybill_action(self, c: Credentials, operation: str, waybill_id: int) -> str:
        """``send_waybill``, ``close_waybill``, ``confirm_waybill``, ``reject_waybill``,
        ``del_waybill``, ``ref_waybill``: a number (or ``true``) on success."""
        answer = await self._call(self.waybills, operation, waybill_id=waybill_id,
                                  **self._cred(c))
        text = str(answer).strip() if answer is not None else ""
        if text.lower() in ("false", "") or (text.lstrip("-").isdigit() and int(text) < 0):
            raise RsRefused(operation, f"rs.ge refused ({text or 'no answer'})")
        return text

    async def waybill(self, c: Credentials, waybill_id: int) -> dict[str, Any]:
        result = await self._raw(self._waybill_client, self.waybills, self.waybill_url,
                                 "get_waybill", waybill_id=waybill_id, **self._cred(c))
        found = result.find("{*}WAYBILL")
        return element_dict(found) if found is not None else {}

    async def buyer_waybills(self, c: Credentials, start: datetime,
                             end: datetime) -> list[dict[str, Any]]:
        result = await self._raw(self._waybill_client, self.waybills, self.waybill_url,
                                 "get_buyer_waybills", create_date_s=start, create_date_e=end,
                                 **self._cred(c))
        found = result.find("{*}WAYBILL_LIST")
        scope = found if found is not None else result
        return [element_dict(w) for w in scope.findall("{*}WAYBILL")]


def _int(value: Any, operation: str) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        raise RsBadResponse(operation, f"not a number: {str(value)[:40]!r}") from None


def build_element(name: str, data: Mapping[str, Any]) -> etree._Element:
    """A free XML fragment from a dict (lists repeat the element)."""
    element = etree.Element(name)
    _fill(element, data)
    return element


def _fill(element: etree._Element, data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            child = etree.SubElement(element, key)
            if isinstance(item, Mapping):
                _fill(child, item)
            elif isinstance(item, datetime):
                child.text = item.strftime("%Y-%m-%dT%H:%M:%S")
            elif item is not None:
                child.text = str(item)
