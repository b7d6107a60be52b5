"""A stand-in Revenue Service: ``saldo rs sandbox --port PORT``.

It serves the operations of ``ntosservice`` and ``WayBillService`` that Saldo uses, over
HTTP, as SOAP 1.1 envelopes shaped like the real services' (``<op>Response`` with the
``<op>Result`` and the ``ref`` parameters; lists as ADO.NET diffgrams), so Saldo's real
client code -- zeep plus the raw-envelope reader -- is what the tests and the demo drive.
State is in memory. It accepts, numbers and (when told) confirms or rejects invoices,
keeps waybills, and answers tax-id look-ups for the fixed list :data:`TAXPAYERS`.

A small JSON control API under ``/_sandbox`` (not part of rs.ge) lets tests and the demo
add service users, play the buyer or a supplier, and inject faults: every call (or those
named) fails with a SOAP fault, answers an HTML error page, a truncated envelope, slowly,
or *does the work and loses the answer* (the timeout after the header was accepted).
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

NS = "http://tempuri.org/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"

#: The taxpayers the stand-in knows: tin -> (un_id, name, VAT payer).
TAXPAYERS: dict[str, tuple[int, str, bool]] = {
    "204567891": (731001, "შპს სალდო დემო", True),
    "205123456": (731002, "შპს ბათუმის ვაჭრობა", True),
    "404987654": (731003, "შპს თბილისის მომწოდებელი", True),
    "206111222": (731004, "შპს ქუთაისის ლოჯისტიკა", True),
    "01024012345": (731005, "გიორგი ბერიძე", False),
    "445566778": (731006, "შპს მცირე საწარმო", False),
}
#: The demo's service user (docs/rs-ge.md): its taxpayer is the demo company.
DEMO_USER = ("saldo-demo", "demo-password", "204567891")


@dataclass
class Fault:
    mode: str  # fault | html | truncated | slow | lose_answer | refuse
    operations: frozenset[str] = frozenset()
    remaining: int | None = None  # None: every matching call
    delay: float = 0.0

    def applies(self, operation: str) -> bool:
        return (not self.operations or operation in self.operations) and \
            (self.remaining is None or self.remaining > 0)


@dataclass
class State:
    users: dict[str, tuple[str, str]] = field(default_factory=dict)  # su -> (sp, tin)
    invoices: dict[int, dict[str, Any]] = field(default_factory=dict)
    waybills: dict[int, dict[str, Any]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9_000_001))
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_001))

    def __post_init__(self) -> None:
        su, sp, tin = DEMO_USER
        self.users[su] = (sp, tin)

    def reset(self) -> None:
        self.users.clear()
        self.invoices.clear()
        self.waybills.clear()
        self.faults.clear()
        self.calls.clear()
        self.__post_init__()


class _Refused(Exception):
    pass


def _text(node: etree._Element, name: str) -> str:
    found = node.find(f"{{{NS}}}{name}")
    return (found.text or "") if found is not None else ""


def _int(node: etree._Element, name: str) -> int:
    value = _text(node, name)
    return int(value) if value.strip() else 0


def _dec(node: etree._Element, name: str) -> Decimal:
    try:
        return Decimal(_text(node, name) or "0")
    except InvalidOperation:
        return Decimal(0)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return escape(str(value))


def _envelope(operation: str, values: dict[str, Any], raw: str = "") -> bytes:
    inner = "".join(f"<{k}>{_value(v)}</{k}>" for k, v in values.items() if v is not None)
    return (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>'
            f'<{operation}Response xmlns="{NS}">{inner}{raw}</{operation}Response>'
            "</soap:Body></soap:Envelope>").encode()


def _diffgram(operation: str, table: str, rows: list[dict[str, Any]]) -> str:
    """An ADO.NET DataSet as .NET serialises it: an inline schema, then the diffgram."""
    body = "".join(
        f'<{table} diffgr:id="{table}{n}" msdata:rowOrder="{n - 1}">'
        + "".join(f"<{k}>{_value(v)}</{k}>" for k, v in row.items() if v is not None)
        + f"</{table}>" for n, row in enumerate(rows, 1))
    return (f"<{operation}Result>"
            '<xs:schema id="NewDataSet" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            'xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">'
            f'<xs:element name="NewDataSet" msdata:IsDataSet="true"/></xs:schema>'
            '<diffgr:diffgram xmlns:msdata="urn:schemas-microsoft-com:xml-msdata" '
            'xmlns:diffgr="urn:schemas-microsoft-com:xml-diffgram-v1">'
            f'<DocumentElement xmlns="">{body}</DocumentElement></diffgr:diffgram>'
            f"</{operation}Result>")


def _soap_fault(message: str) -> Response:
    body = (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}">'
            "<soap:Body><soap:Fault><faultcode>soap:Server</faultcode>"
            f"<faultstring>{escape(message)}</faultstring></soap:Fault></soap:Body>"
            "</soap:Envelope>")
    return Response(body, status_code=500, media_type="text/xml; charset=utf-8")


class Sandbox:
    """The stand-in's handlers over one :class:`State`."""

    def __init__(self, state: State | None = None) -> None:
        self.state = state or State()

    # ------------------------------------------------------------------ helpers

    def _user(self, body: etree._Element) -> tuple[str, int] | None:
        su, sp = _text(body, "su"), _text(body, "sp")
        known = self.state.users.get(su)
        if known is None or known[0] != sp:
            return None
        tin = known[1]
        return tin, TAXPAYERS.get(tin, (0, "", False))[0]

    def _series_number(self, invoice: dict[str, Any]) -> None:
        if not invoice.get("f_number"):
            invoice["f_series"], invoice["f_number"] = "ეა-05", next(self.state.numbers)

    @staticmethod
    def _totals(invoice: dict[str, Any]) -> tuple[Decimal, Decimal]:
        full = sum((line["full_amount"] for line in invoice["lines"]), Decimal(0))
        vat = sum((line["drg_amount"] for line in invoice["lines"]), Decimal(0))
        return full, vat

    def _row(self, inv: dict[str, Any]) -> dict[str, Any]:
        full, vat = self._totals(inv)
        seller = next((t for t, v in TAXPAYERS.items() if v[0] == inv["seller_un_id"]), "")
        buyer = next((t for t, v in TAXPAYERS.items() if v[0] == inv["buyer_un_id"]), "")
        return {"ID": inv["id"], "F_SERIES": inv.get("f_series", ""),
                "F_NUMBER": inv.get("f_number", ""), "OPERATION_DT": inv["operation_dt"],
                "REG_DT": inv.get("reg_dt"), "SA_IDENT_NO": seller,
                "ORG_NAME": TAXPAYERS.get(seller, (0, "", False))[1], "BUYER_TIN": buyer,
                "STATUS": inv["status"], "FULL_AMOUNT": full, "DRG_AMOUNT": vat,
                "NOTE": inv.get("note", ""), "K_ID": inv.get("k_id") or ""}

    # ------------------------------------------------------------------ ntosservice

    def ntos(self, op: str, b: etree._Element) -> bytes:
        state = self.state
        user = self._user(b)
        if op == "chek":
            return _envelope(op, {"chekResult": user is not None,
                                  "user_id": 5001 if user else 0})
        if user is None:
            return _envelope(op, {f"{op}Result": False})
        _, un_id = user
        if op == "get_un_id_from_tin":
            found = TAXPAYERS.get(_text(b, "tin"))
            return _envelope(op, {f"{op}Result": found[0] if found else -1,
                                  "name": found[1] if found else ""})
        if op == "save_invoice_n":
            if _int(b, "seller_un_id") != un_id:
                return _envelope(op, {f"{op}Result": False, "invois_id": 0})
            inv_id = next(state.ids)
            state.invoices[inv_id] = {
                "id": inv_id, "seller_un_id": un_id, "buyer_un_id": _int(b, "buyer_un_id"),
                "operation_dt": datetime.fromisoformat(_text(b, "operation_date")),
                "note": _text(b, "note"), "status": 0, "lines": [], "k_id": None,
                "k_type": None, "corrects": None}
            return _envelope(op, {f"{op}Result": True, "invois_id": inv_id})
        inv = state.invoices.get(_int(b, "invois_id") or _int(b, "inv_id"))
        if op in ("get_seller_invoices", "get_buyer_invoices"):
            key = "seller_un_id" if op == "get_seller_invoices" else "buyer_un_id"
            start = datetime.fromisoformat(_text(b, "s_dt"))
            end = datetime.fromisoformat(_text(b, "e_dt"))
            rows = [self._row(i) for i in state.invoices.values()
                    if i[key] == un_id and start <= i["operation_dt"] <= end
                    and (key == "seller_un_id" or i["status"] not in (0, -1))]
            return _envelope(op, {}, _diffgram(op, "invoices", rows))
        if inv is None or un_id not in (inv["seller_un_id"], inv["buyer_un_id"]):
            return _envelope(op, {f"{op}Result": False})
        seller = inv["seller_un_id"] == un_id
        if op == "save_invoice_desc" and seller and inv["status"] in (0, 4):
            line_id = next(state.ids)
            inv["lines"].append({"id": line_id, "goods": _text(b, "goods"),
                                 "g_unit": _text(b, "g_unit"), "g_number": _dec(b, "g_number"),
                                 "full_amount": _dec(b, "full_amount"),
                                 "drg_amount": _dec(b, "drg_amount"),
                                 "aqcizi_amount": _dec(b, "aqcizi_amount")})
            return _envelope(op, {f"{op}Result": True, "id": line_id})
        if op == "get_invoice_desc":
            rows = [{"ID": ln["id"], "INV_ID": inv["id"], "GOODS": ln["goods"],
                     "G_UNIT": ln["g_unit"], "G_NUMBER": ln["g_number"],
                     "FULL_AMOUNT": ln["full_amount"], "DRG_AMOUNT": ln["drg_amount"],
                     "AQCIZI_AMOUNT": ln["aqcizi_amount"]} for ln in inv["lines"]]
            return _envelope(op, {}, _diffgram(op, "invoices_descs", rows))
        if op == "change_invoice_status" and seller:
            status = _int(b, "status")
            if status == 1 and inv["status"] in (0, 1) and inv["lines"]:
                inv["status"] = 1
            elif status == 5 and inv["status"] in (4, 5) and inv["lines"]:
                inv["status"] = 5
            else:
                return _envelope(op, {f"{op}Result": False})
            inv.setdefault("reg_dt", datetime.now().replace(microsecond=0))  # noqa: DTZ005
            self._series_number(inv)
            return _envelope(op, {f"{op}Result": True})
        if op == "get_invoice":
            return _envelope(op, {
                f"{op}Result": True, "f_series": inv.get("f_series", ""),
                "f_number": inv.get("f_number", 0), "operation_dt": inv["operation_dt"],
                "reg_dt": inv.get("reg_dt"), "seller_un_id": inv["seller_un_id"],
                "buyer_un_id": inv["buyer_un_id"], "status": inv["status"],
                "k_id": inv.get("k_id") or 0, "k_type": inv.get("k_type") or 0,
                "note": inv.get("note", "")})
        if op == "k_invoice" and seller and inv["status"] in (1, 2, 0):
            k_id = next(state.ids)
            state.invoices[k_id] = {
                "id": k_id, "seller_un_id": un_id, "buyer_un_id": inv["buyer_un_id"],
                "operation_dt": inv["operation_dt"], "note": inv.get("note", ""),
                "status": 4, "lines": [], "k_id": None, "k_type": _int(b, "k_type"),
                "corrects": inv["id"]}
            inv["k_id"], inv["k_type"] = k_id, _int(b, "k_type")
            if inv["status"] in (1, 2):
                inv["status"] = 3
            return _envelope(op, {f"{op}Result": True, "k_id": k_id})
        if op == "acsept_invoice_status" and not seller and inv["status"] in (1, 5):
            inv["status"] = 2 if inv["status"] == 1 else 8
            return _envelope(op, {f"{op}Result": True})
        if op == "ref_invoice_status" and not seller and inv["status"] in (1, 5):
            inv["status"], inv["ref_text"] = 0, _text(b, "ref_text")
            return _envelope(op, {f"{op}Result": True})
        return _envelope(op, {f"{op}Result": False})

    # ------------------------------------------------------------------ WayBillService

    def waybill(self, op: str, b: etree._Element) -> bytes:
        state = self.state
        user = self._user(b)
        if op == "chek_service_user":
            return _envelope(op, {f"{op}Result": user is not None,
                                  "un_id": user[1] if user else 0,
                                  "s_user_id": 7001 if user else 0})
        if user is None:
            return _envelope(op, {f"{op}Result": "" if op == "get_name_from_tin" else -100})
        tin, un_id = user
        if op == "get_name_from_tin":
            return _envelope(op, {f"{op}Result": TAXPAYERS.get(_text(b, "tin"),
                                                                 (0, "", False))[1]})
        if op == "is_vat_payer_tin":
            return _envelope(op, {f"{op}Result": TAXPAYERS.get(_text(b, "tin"),
                                                                 (0, "", False))[2]})
        if op == "save_waybill":
            node = b.find(f".//{{{NS}}}waybill/WAYBILL")
            if node is None:
                node = b.find(".//WAYBILL")
            if node is None:
                return _envelope(op, {}, "<save_waybillResult><RESULT><STATUS>-1</STATUS>"
                                         "</RESULT></save_waybillResult>")
            data = {c.tag: (c.text or "") for c in node if c.tag != "GOODS_LIST"}
            goods = [{g.tag: (g.text or "") for g in line}
                     for line in node.findall("GOODS_LIST/GOODS")]
            if not goods or (data.get("CHEK_BUYER_TIN") == "1"
                             and data.get("BUYER_TIN") not in TAXPAYERS):
                return _envelope(op, {}, "<save_waybillResult><RESULT><STATUS>-1002</STATUS>"
                                         "</RESULT></save_waybillResult>")
            wb_id = int(data.get("ID") or 0) or next(state.ids)
            data.update(ID=str(wb_id), STATUS="0", SELER_UN_ID=str(un_id), SELLER_TIN=tin)
            state.waybills[wb_id] = {"data": data, "goods": goods, "status": 0, "number": ""}
            lines = "".join(f"<GOODS><ID>{next(state.ids)}</ID></GOODS>" for _ in goods)
            return _envelope(op, {}, f"<save_waybillResult><RESULT><STATUS>0</STATUS>"
                                     f"<ID>{wb_id}</ID><GOODS_LIST>{lines}</GOODS_LIST>"
                                     "</RESULT></save_waybillResult>")
        if op == "get_buyer_waybills":
            items = "".join(self._waybill_xml(w) for w in state.waybills.values()
                            if w["data"].get("BUYER_TIN") == tin and w["status"] in (1, 2))
            return _envelope(op, {}, f"<{op}Result><WAYBILL_LIST>{items}</WAYBILL_LIST>"
                                     f"</{op}Result>")
        wb = state.waybills.get(_int(b, "waybill_id"))
        seller = wb is not None and wb["data"].get("SELLER_TIN") == tin
        buyer = wb is not None and wb["data"].get("BUYER_TIN") == tin
        if wb is None or not (seller or buyer):
            return _envelope(op, {f"{op}Result": -1})
        if op == "get_waybill":
            return _envelope(op, {}, f"<{op}Result>{self._waybill_xml(wb)}</{op}Result>")
        transitions = {"send_waybill": (seller, (0,), 1), "close_waybill": (seller, (1,), 2),
                       "del_waybill": (seller, (0,), -1), "ref_waybill": (seller, (1, 2), -2),
                       "confirm_waybill": (buyer, (1, 2), None),
                       "reject_waybill": (buyer, (1, 2), None)}
        allowed, sources, target = transitions.get(op, (False, (), None))
        if not allowed or wb["status"] not in sources:
            return _envelope(op, {f"{op}Result": -1 if op != "confirm_waybill" else False})
        if target is not None:
            wb["status"] = target
        if op == "send_waybill":
            wb["number"] = f"{next(state.numbers):010d}"
            return _envelope(op, {f"{op}Result": wb["number"]})
        if op in ("confirm_waybill", "reject_waybill"):
            wb["buyer_decision"] = "confirmed" if op == "confirm_waybill" else "rejected"
            return _envelope(op, {f"{op}Result": True})
        return _envelope(op, {f"{op}Result": 1})

    @staticmethod
    def _waybill_xml(wb: dict[str, Any]) -> str:
        head = "".join(f"<{k}>{_value(v)}</{k}>" for k, v in wb["data"].items()
                       if k not in ("STATUS",))
        goods = "".join("<GOODS>" + "".join(f"<{k}>{_value(v)}</{k}>" for k, v in g.items())
                        + "</GOODS>" for g in wb["goods"])
        return (f"<WAYBILL>{head}<STATUS>{wb['status']}</STATUS>"
                f"<WAYBILL_NUMBER>{wb['number']}</WAYBILL_NUMBER>"
                f"<BUYER_DECISION>{wb.get('buyer_decision', '')}</BUYER_DECISION>"
                f"<GOODS_LIST>{goods}</GOODS_LIST></WAYBILL>")

    # ------------------------------------------------------------------ HTTP

    async def soap(self, request: Request) -> Response:
        service = request.url.path.strip("/").split("/")[0].lower()
        handler = self.ntos if service == "ntosservice" else self.waybill
        raw = await request.body()
        try:
            root = etree.fromstring(raw, parser=etree.XMLParser(resolve_entities=False,
                                                                no_network=True))
            body = root.find(f"{{{SOAP_ENV}}}Body")
            operation_node = body[0] if body is not None and len(body) else None
        except etree.XMLSyntaxError:
            operation_node = None
        if operation_node is None:
            return _soap_fault("Server was unable to read request.")
        operation = etree.QName(operation_node).localname
        self.state.calls[operation] = self.state.calls.get(operation, 0) + 1
        fault = next((f for f in self.state.faults if f.applies(operation)), None)
        if fault is not None and fault.remaining is not None:
            fault.remaining -= 1
        if fault is not None and fault.mode == "slow":
            await asyncio.sleep(fault.delay)
        elif fault is not None and fault.mode == "fault":
            return _soap_fault("Server was unable to process request. ---> Object reference "
                               "not set to an instance of an object.")
        elif fault is not None and fault.mode == "html":
            return Response("<html><body><h1>503 Service Unavailable</h1></body></html>",
                            status_code=503, media_type="text/html")
        answer = handler(operation, operation_node)
        if fault is not None and fault.mode == "truncated":
            return Response(answer[: len(answer) // 2], media_type="text/xml; charset=utf-8")
        if fault is not None and fault.mode == "lose_answer":
            # The work is done, the answer never arrives (a timeout after acceptance).
            return Response("<html><body>502 Bad Gateway</body></html>", status_code=502,
                            media_type="text/html")
        return Response(answer, media_type="text/xml; charset=utf-8")

    # ------------------------------------------------------------------ control API

    async def control(self, request: Request) -> Response:
        action = request.path_params["action"]
        payload: dict[str, Any] = await request.json() if request.method == "POST" else {}
        state = self.state
        if action == "reset":
            state.reset()
        elif action == "users":
            state.users[str(payload["su"])] = (str(payload["sp"]), str(payload["tin"]))
        elif action == "faults":
            if payload.get("mode") in (None, "none"):
                state.faults.clear()
            else:
                state.faults.append(Fault(str(payload["mode"]),
                                          frozenset(payload.get("operations") or ()),
                                          payload.get("count"), float(payload.get("delay", 0))))
        elif action == "decide":
            inv = state.invoices[int(payload["rs_id"])]
            if inv["status"] not in (1, 5):
                return JSONResponse({"error": f"status {inv['status']}"}, status_code=409)
            if payload["decision"] == "confirm":
                inv["status"] = 2 if inv["status"] == 1 else 8
            else:
                inv["status"] = 0
        elif action == "incoming":
            # A supplier issues and sends an invoice to a buyer.
            seller, buyer = TAXPAYERS[payload["seller_tin"]], TAXPAYERS[payload["buyer_tin"]]
            inv_id = next(state.ids)
            inv = {"id": inv_id, "seller_un_id": seller[0], "buyer_un_id": buyer[0],
                   "operation_dt": datetime.fromisoformat(payload["date"]), "note": "",
                   "status": 1, "k_id": None, "k_type": None, "corrects": None,
                   "reg_dt": datetime.fromisoformat(payload["date"]),
                   "lines": [{"id": next(state.ids), "goods": ln["goods"], "g_unit": "ცალი",
                              "g_number": Decimal(ln.get("quantity", "1")),
                              "full_amount": Decimal(ln["full_amount"]),
                              "drg_amount": Decimal(ln["vat"]),
                              "aqcizi_amount": Decimal(0)} for ln in payload["lines"]]}
            state.invoices[inv_id] = inv
            self._series_number(inv)
            if payload.get("number"):
                inv["f_series"], inv["f_number"] = payload.get("series", "ეა-07"), \
                    int(payload["number"])
            return JSONResponse({"rs_id": inv_id, "series": inv["f_series"],
                                 "number": inv["f_number"]})
        elif action == "incoming-waybill":
            seller = payload["seller_tin"]
            wb_id = next(state.ids)
            state.waybills[wb_id] = {
                "data": {"ID": str(wb_id), "TYPE": "2", "BUYER_TIN": payload["buyer_tin"],
                         "SELLER_TIN": seller, "BUYER_NAME": TAXPAYERS[payload["buyer_tin"]][1],
                         "SELLER_NAME": TAXPAYERS[seller][1],
                         "START_ADDRESS": payload.get("start_address", "თბილისი"),
                         "END_ADDRESS": payload.get("end_address", "ბათუმი"),
                         "FULL_AMOUNT": payload.get("amount", "0"),
                         "BEGIN_DATE": payload.get("date", "2026-12-01T09:00:00")},
                "goods": [], "status": 1, "number": f"{next(state.numbers):010d}"}
            return JSONResponse({"id": wb_id})
        return JSONResponse(self.snapshot())

    def snapshot(self) -> dict[str, Any]:
        return {
            "calls": dict(self.state.calls),
            "invoices": {str(k): {**{f: _value(v) for f, v in i.items() if f != "lines"},
                                  "lines": len(i["lines"])}
                         for k, i in self.state.invoices.items()},
            "waybills": {str(k): {"status": w["status"], "number": w["number"],
                                  "buyer_decision": w.get("buyer_decision")}
                         for k, w in self.state.waybills.items()},
        }

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/_sandbox/{action}", self.control, methods=["GET", "POST"]),
            Route("/ntosservice/ntosservice.asmx", self.soap, methods=["POST"]),
            Route("/WayBillService/WayBillService.asmx", self.soap, methods=["POST"]),
        ])


def create_app(state: State | None = None) -> Starlette:
    return Sandbox(state).app()
