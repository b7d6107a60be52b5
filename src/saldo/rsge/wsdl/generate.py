"""Writes the package's WSDL files from the operation tables below.

The Revenue Service cannot be reached from the build machines, so Saldo keeps WSDL files of
its own, written from the public descriptions of the two services
(/work/shared/reference/rs-ge-services.md, georgia.md §8; docs/decisions/0060). They are
generated rather than typed by hand so every operation follows the services' conventions
the same way: SOAP 1.1, document/literal, namespace ``http://tempuri.org/``, SOAPAction
``http://tempuri.org/<operation>``, the ``<operation>Result`` element plus the ``ref``
parameters .NET returns beside it. Run ``python -m saldo.rsge.wsdl.generate`` after editing
a table; the files are committed.
"""

from __future__ import annotations

from pathlib import Path

NS = "http://tempuri.org/"

#: ``any`` is an ADO.NET DataSet or a free XML fragment (``<s:any/>``): Saldo reads those
#: from the raw envelope (diffgrams) or as XML elements (waybills).
Param = tuple[str, str]

CRED: list[Param] = [("su", "string"), ("sp", "string")]

#: ntosservice (e-invoices). Inputs, then outputs (``<op>Result`` first).
NTOS: dict[str, tuple[list[Param], list[Param]]] = {
    "chek": ([*CRED, ("user_id", "int")], [("chekResult", "boolean"), ("user_id", "int")]),
    "get_un_id_from_tin": ([("user_id", "int"), ("tin", "string"), *CRED],
                           [("get_un_id_from_tinResult", "int"), ("name", "string")]),
    "save_invoice_n": ([("user_id", "int"), ("invois_id", "int"), ("operation_date", "dateTime"),
                        ("seller_un_id", "int"), ("buyer_un_id", "int"), ("overhead_no", "string"),
                        ("overhead_dt", "dateTime"), ("b_s_user_id", "int"), ("note", "string"),
                        *CRED],
                       [("save_invoice_nResult", "boolean"), ("invois_id", "int")]),
    "save_invoice_desc": ([("user_id", "int"), ("id", "int"), *CRED, ("invois_id", "int"),
                           ("goods", "string"), ("g_unit", "string"), ("g_number", "decimal"),
                           ("full_amount", "decimal"), ("drg_amount", "decimal"),
                           ("aqcizi_amount", "decimal"), ("akciz_id", "int")],
                          [("save_invoice_descResult", "boolean"), ("id", "int")]),
    "delete_invoice_desc": ([("user_id", "int"), ("id", "int"), ("inv_id", "int"), *CRED],
                            [("delete_invoice_descResult", "boolean")]),
    "change_invoice_status": ([("user_id", "int"), ("inv_id", "int"), ("status", "int"), *CRED],
                              [("change_invoice_statusResult", "boolean")]),
    "get_invoice": ([("user_id", "int"), ("invois_id", "int"), *CRED],
                    [("get_invoiceResult", "boolean"), ("f_series", "string"),
                     ("f_number", "int"), ("operation_dt", "dateTime"), ("reg_dt", "dateTime"),
                     ("seller_un_id", "int"), ("buyer_un_id", "int"), ("status", "int"),
                     ("k_id", "int"), ("k_type", "int"), ("note", "string")]),
    "k_invoice": ([("user_id", "int"), ("inv_id", "int"), ("k_type", "int"), *CRED],
                  [("k_invoiceResult", "boolean"), ("k_id", "int")]),
    "get_invoice_desc": ([("user_id", "int"), ("invois_id", "int"), *CRED],
                         [("get_invoice_descResult", "any")]),
    "acsept_invoice_status": ([("user_id", "int"), ("inv_id", "int"), ("status", "int"), *CRED],
                              [("acsept_invoice_statusResult", "boolean")]),
    "ref_invoice_status": ([("user_id", "int"), ("inv_id", "int"), ("ref_text", "string"), *CRED],
                           [("ref_invoice_statusResult", "boolean")]),
    "get_seller_invoices": ([("user_id", "int"), ("un_id", "int"), ("s_dt", "dateTime"),
                             ("e_dt", "dateTime"), *CRED],
                            [("get_seller_invoicesResult", "any")]),
    "get_buyer_invoices": ([("user_id", "int"), ("un_id", "int"), ("s_dt", "dateTime"),
                            ("e_dt", "dateTime"), *CRED],
                           [("get_buyer_invoicesResult", "any")]),
}

#: WayBillService.
WAYBILL: dict[str, tuple[list[Param], list[Param]]] = {
    "chek_service_user": ([("su", "string"), ("sp", "string")],
                          [("chek_service_userResult", "boolean"), ("un_id", "int"),
                           ("s_user_id", "int")]),
    "get_name_from_tin": ([*CRED, ("tin", "string")], [("get_name_from_tinResult", "string")]),
    "is_vat_payer_tin": ([*CRED, ("tin", "string")], [("is_vat_payer_tinResult", "boolean")]),
    "save_waybill": ([*CRED, ("waybill", "any")], [("save_waybillResult", "any")]),
    "send_waybill": ([*CRED, ("waybill_id", "int")], [("send_waybillResult", "string")]),
    "close_waybill": ([*CRED, ("waybill_id", "int")], [("close_waybillResult", "int")]),
    "del_waybill": ([*CRED, ("waybill_id", "int")], [("del_waybillResult", "int")]),
    "ref_waybill": ([*CRED, ("waybill_id", "int")], [("ref_waybillResult", "int")]),
    "confirm_waybill": ([*CRED, ("waybill_id", "int")], [("confirm_waybillResult", "boolean")]),
    "reject_waybill": ([*CRED, ("waybill_id", "int")], [("reject_waybillResult", "boolean")]),
    "get_waybill": ([*CRED, ("waybill_id", "int")], [("get_waybillResult", "any")]),
    "get_buyer_waybills": ([*CRED, ("create_date_s", "dateTime"), ("create_date_e", "dateTime")],
                           [("get_buyer_waybillsResult", "any")]),
}


def _element(name: str, kind: str) -> str:
    if kind == "any":
        return (f'<s:element minOccurs="0" maxOccurs="1" name="{name}"><s:complexType mixed="true">'
                '<s:sequence><s:any processContents="lax" minOccurs="0" maxOccurs="unbounded"/>'
                "</s:sequence></s:complexType></s:element>")
    nillable = ' minOccurs="0"' if kind == "string" else ' minOccurs="1"'
    return f'<s:element{nillable} maxOccurs="1" name="{name}" type="s:{kind}"/>'


def wsdl(service: str, operations: dict[str, tuple[list[Param], list[Param]]]) -> str:
    types, messages, port, binding = [], [], [], []
    for op, (inputs, outputs) in operations.items():
        for suffix, params in (("", inputs), ("Response", outputs)):
            inner = "".join(_element(n, k) for n, k in params)
            types.append(f'<s:element name="{op}{suffix}"><s:complexType><s:sequence>{inner}'
                         "</s:sequence></s:complexType></s:element>")
        messages.append(f'<wsdl:message name="{op}SoapIn"><wsdl:part name="parameters" '
                        f'element="tns:{op}"/></wsdl:message>'
                        f'<wsdl:message name="{op}SoapOut"><wsdl:part name="parameters" '
                        f'element="tns:{op}Response"/></wsdl:message>')
        port.append(f'<wsdl:operation name="{op}"><wsdl:input message="tns:{op}SoapIn"/>'
                    f'<wsdl:output message="tns:{op}SoapOut"/></wsdl:operation>')
        binding.append(f'<wsdl:operation name="{op}"><soap:operation soapAction="{NS}{op}" '
                       'style="document"/><wsdl:input><soap:body use="literal"/></wsdl:input>'
                       '<wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>')
    nl = "\n    "
    return f"""<?xml version="1.0" encoding="utf-8"?>
<!-- {service}: written by saldo.rsge.wsdl.generate from the public descriptions of the
     Revenue Service's web service (docs/decisions/0060). Do not edit by hand. -->
<wsdl:definitions xmlns:s="http://www.w3.org/2001/XMLSchema"
  xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:tns="{NS}"
  xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" targetNamespace="{NS}">
  <wsdl:types>
   <s:schema elementFormDefault="qualified" targetNamespace="{NS}">
    {nl.join(types)}
   </s:schema>
  </wsdl:types>
  {nl.join(messages)}
  <wsdl:portType name="{service}Soap">
    {nl.join(port)}
  </wsdl:portType>
  <wsdl:binding name="{service}Soap" type="tns:{service}Soap">
    <soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>
    {nl.join(binding)}
  </wsdl:binding>
  <wsdl:service name="{service}">
    <wsdl:port name="{service}Soap" binding="tns:{service}Soap">
      <soap:address location="https://services.rs.ge/{service}/{service}.asmx"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"""


def main() -> None:
    here = Path(__file__).parent
    (here / "ntosservice.wsdl").write_text(wsdl("ntosservice", NTOS), encoding="utf-8")
    (here / "WayBillService.wsdl").write_text(wsdl("WayBillService", WAYBILL), encoding="utf-8")


if __name__ == "__main__":
    main()
