"""The WSDL files of the Revenue Service's SOAP services, kept in the package."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
NTOS = HERE / "ntosservice.wsdl"
WAYBILL = HERE / "WayBillService.wsdl"
