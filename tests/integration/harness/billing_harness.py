"""Shortcuts for billing and tax tests: counterparties, documents and payments over HTTP."""

from __future__ import annotations

from typing import Any

from ledger_harness import Books


def line(quantity: str, price: str, code: str = "vat18", account: str | None = None,
         description: str = "Item") -> dict[str, Any]:
    body: dict[str, Any] = {"description": description, "quantity": quantity,
                            "unit_price": price, "vat_code": code}
    if account:
        body["account_code"] = account
    return body


class Billing:
    def __init__(self, books: Books, by: str = "clerk") -> None:
        self.books, self.by = books, by
        self.client = books.h.client

    @property
    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = getattr(self.books, self.by)
        return headers

    async def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        r = await self.client.request(method, self.books.url(path), headers=self.headers,
                                      **kwargs)
        assert r.status_code == expect, r.text
        return r.json() if r.headers.get("content-type", "").startswith("application/json") \
            else r

    async def counterparty(self, name: str, tax_id: str | None = None, **extra: Any) -> str:
        body = {"name": name, **({"tax_id": tax_id} if tax_id else {}), **extra}
        return str((await self.call("POST", "/counterparties", 201, json=body))["id"])

    async def invoice(self, customer: str, day: str, lines: list[dict[str, Any]],
                      post: bool = True, **extra: Any) -> dict[str, Any]:
        doc = await self.call("POST", "/sales-invoices", 201,
                              json={"customer_id": customer, "date": day, "lines": lines,
                                    **extra})
        if post:
            doc = await self.call("POST", f"/sales-invoices/{doc['id']}/post")
        return dict(doc)

    async def bill(self, supplier: str, day: str, lines: list[dict[str, Any]],
                   post: bool = True, **extra: Any) -> dict[str, Any]:
        doc = await self.call("POST", "/purchase-bills", 201,
                              json={"supplier_id": supplier, "date": day, "lines": lines,
                                    **extra})
        if post:
            doc = await self.call("POST", f"/purchase-bills/{doc['id']}/post")
        return dict(doc)

    async def pay(self, counterparty: str, day: str, direction: str, amount: str,
                  allocations: list[tuple[str, str]], expect: int = 201,
                  **extra: Any) -> Any:
        return await self.call("POST", "/payments", expect, json={
            "counterparty_id": counterparty, "date": day, "direction": direction,
            "amount": amount, **extra,
            "allocations": [{"document_id": i, "amount": a} for i, a in allocations]})

    async def invoice_doc(self, document_id: str) -> dict[str, Any]:
        return dict(await self.call("GET", f"/sales-invoices/{document_id}"))

    async def bill_doc(self, document_id: str) -> dict[str, Any]:
        return dict(await self.call("GET", f"/purchase-bills/{document_id}"))
