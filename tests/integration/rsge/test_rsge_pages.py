"""The rs.ge screens of the web application over real HTTP, against the stand-in: the
service user form (the password never shown back, CSRF required), a failed e-invoice
with its last error retried from the list and then sent, and an incoming e-invoice
fetched, offered as a draft bill and confirmed -- in Georgian and English, no inline
script."""

from __future__ import annotations

import re

import httpx
import pytest
from identity_harness import PASSWORD
from rsge_harness import COMPANY_TIN, SUPPLIER_TIN, Rs

from saldo.rsge.sandbox import DEMO_USER

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html[:500]
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, username: str) -> None:
    page = await client.get("/login")
    r = await client.post("/login", data={"username": username, "password": PASSWORD,
                                          "csrf_token": csrf_of(page.text), "next": "/"})
    assert r.status_code == 303, r.text


def language(client: httpx.AsyncClient, lang: str) -> None:
    client.cookies.set("saldo_lang", lang, domain="saldo.test", path="/")


def web_client(rs: Rs) -> httpx.AsyncClient:
    """A browser of its own (cookie jar) on the same app."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=rs.h.app),
                             base_url="http://saldo.test")


async def test_service_user_form_never_shows_the_password(rs: Rs) -> None:
    base = f"/c/{rs.company_id}/rs"
    async with web_client(rs) as chief:
        await sign_in(chief, "chief")
        language(chief, "en")
        page = await chief.get(f"{base}/credentials")
        assert page.status_code == 200
        assert "No service user is set" in page.text
        assert not INLINE_SCRIPT.search(page.text)
        form = {"service_user": DEMO_USER[0], "service_password": DEMO_USER[1]}
        # Without the form's token nothing is stored.
        r = await chief.post(f"{base}/credentials", data=form)
        assert r.status_code == 403
        assert (await rs.service.credentials_status(rs.company_id))["configured"] is False
        # A missing password: the sentence at the form, the user name typed kept.
        r = await chief.post(f"{base}/credentials", data={
            "csrf_token": csrf_of(page.text), "service_user": "typed-user",
            "service_password": ""})
        assert r.status_code == 422
        assert "Enter both the user name and the password." in r.text
        assert 'value="typed-user"' in r.text
        r = await chief.post(f"{base}/credentials", data={"csrf_token": csrf_of(page.text),
                                                           **form})
        assert r.status_code == 303
        page = await chief.get(r.headers["location"])
        assert "The service user is saved." in page.text
        assert f"A service user is set: {DEMO_USER[0]}." in page.text
        assert DEMO_USER[1] not in page.text
        assert re.search(r'name="service_password" type="password"[^>]*value=""', page.text)
        language(chief, "ka")
        page = await chief.get(f"{base}/credentials")
        assert f"სერვისის მომხმარებელი: {DEMO_USER[0]}." in page.text
        assert DEMO_USER[1] not in page.text
    # The accountant sees the state but has no form (documents:approve sets it).
    async with web_client(rs) as clerk:
        await sign_in(clerk, "clerk")
        page = await clerk.get(f"{base}/credentials")
        assert page.status_code == 200
        assert 'name="service_password"' not in page.text
        r = await clerk.post(f"{base}/credentials", data={"csrf_token": csrf_of(page.text),
                                                           **form})
        assert r.status_code == 403


async def test_failed_e_invoice_is_retried_from_the_list_then_sent(rs: Rs) -> None:
    base = f"/c/{rs.company_id}/rs"
    await rs.set_credentials(password="wrong-password")
    doc = rs.billing.invoice(("Oak planks", "118.00", "18.00"), number="INV-2026-00007")
    await rs.queue(doc)
    assert await rs.service.deliver_due() == 1  # refused service user: failed at once
    async with web_client(rs) as clerk:
        await sign_in(clerk, "clerk")
        language(clerk, "en")
        # The menu leads here.
        home = await clerk.get(f"/c/{rs.company_id}/")
        assert f'href="{base}"' in home.text
        page = await clerk.get(f"{base}?state=failed")
        assert page.status_code == 200
        assert not INLINE_SCRIPT.search(page.text)
        row = re.search(r'<tr data-status="failed">.*?</tr>', page.text, re.S)
        assert row, page.text
        assert "INV-2026-00007" in row.group(0)
        assert "refused the service user" in row.group(0)  # the last error
        assert "Retry INV-2026-00007" in row.group(0)
        # Retrying before the password is fixed queues it; fixed, the worker sends it.
        await rs.set_credentials()
        r = await clerk.post(f"{base}/e-invoices/{doc}/retry",
                             data={"csrf_token": csrf_of(page.text)})
        assert r.status_code == 303
        page = await clerk.get(r.headers["location"])
        assert "The e-invoice is queued again." in page.text
        assert '<tr data-status="queued">' in page.text
        # A second retry of a queued one is refused, on the page, not a 500.
        r = await clerk.post(f"{base}/e-invoices/{doc}/retry",
                             data={"csrf_token": csrf_of(page.text)})
        assert r.status_code == 409
        assert 'class="error"' in r.text
        assert await rs.service.deliver_due() == 1
        language(clerk, "ka")
        page = await clerk.get(base)
        state = await rs.state(doc)
        assert state["status"] == "sent"
        assert f"{state['series']} {state['number']}" in page.text
        assert "გაგზავნილია" in page.text


async def test_incoming_invoice_fetched_drafted_and_confirmed(rs: Rs) -> None:
    base = f"/c/{rs.company_id}/rs"
    await rs.set_credentials()
    rs.sandbox.control("incoming", seller_tin=SUPPLIER_TIN, buyer_tin=COMPANY_TIN,
                       date="2026-12-02T00:00:00", number=7001, series="ეა-07",
                       lines=[{"goods": "Timber", "full_amount": "590.00", "vat": "90.00"}])
    async with web_client(rs) as clerk:
        await sign_in(clerk, "clerk")
        language(clerk, "en")
        page = await clerk.get(f"{base}/incoming")
        assert "never" in page.text
        # rs.ge down: the sentence on the page, nothing fetched, not a 500.
        rs.sandbox.fault("html", "get_buyer_invoices")
        r = await clerk.post(f"{base}/sync", data={"csrf_token": csrf_of(page.text)})
        assert r.status_code == 502
        assert "rs.ge did not answer" in r.text
        rs.sandbox.clear_faults()
        r = await clerk.post(f"{base}/sync", data={"csrf_token": csrf_of(page.text)})
        assert r.status_code == 303
        page = await clerk.get(r.headers["location"])
        assert "1 e-invoices fetched, 0 matched to bills" in page.text
        assert "ეა-07 7001" in page.text
        assert "590.00" in page.text
        assert "no bill" in page.text
        rs_id = re.search(r'id="in-(\d+)"', page.text)
        assert rs_id
        # The accountant may draft a bill, not confirm (documents:approve).
        assert f"{base}/incoming/{rs_id.group(1)}/draft-bill" in page.text
        assert f"{base}/incoming/{rs_id.group(1)}/confirm" not in page.text
        r = await clerk.post(f"{base}/incoming/{rs_id.group(1)}/draft-bill",
                             data={"csrf_token": csrf_of(page.text)})
        assert r.status_code == 303
        page = await clerk.get(r.headers["location"])
        assert "A draft bill was made" in page.text
        assert "draft bill" in page.text
        assert len(rs.billing.drafted) == 1
    async with web_client(rs) as chief:
        await sign_in(chief, "chief")
        language(chief, "ka")
        page = await chief.get(f"{base}/incoming")
        assert not INLINE_SCRIPT.search(page.text)
        target = f"{base}/incoming/{rs_id.group(1)}"
        # A rejection without a reason: the sentence at the invoice's row.
        r = await chief.post(f"{target}/reject", data={"csrf_token": csrf_of(page.text),
                                                       "reason": " "})
        assert r.status_code == 422
        assert re.search(r'id="err-\d+">უარყოფას სჭირდება მიზეზი.', r.text)
        r = await chief.post(f"{target}/confirm", data={"csrf_token": csrf_of(page.text)})
        assert r.status_code == 303
        page = await chief.get(r.headers["location"])
        assert "დადასტურებულია rs.ge-ზე." in page.text
        assert "(chief)" in page.text
        held = rs.sandbox.state.invoices[int(rs_id.group(1))]
        assert held["status"] == 2  # confirmed on the stand-in


async def test_waybills_activated_closed_and_confirmed_from_the_list(rs: Rs) -> None:
    base = f"/c/{rs.company_id}/rs"
    await rs.set_credentials()
    r = await rs.h.client.post(rs.url("/rs/waybills"), headers=rs.books.clerk, json={
        "type": 2, "buyer_tax_id": "205123456", "buyer_name": "შპს ბათუმის ვაჭრობა",
        "start_address": "თბილისი", "end_address": "ბათუმი", "driver_tax_id": "01024012345",
        "driver_name": "გიორგი ბერიძე", "car_number": "AA-123-BB",
        "lines": [{"name": "Timber", "quantity": "10", "price": "50.00", "bar_code": "T-1"}]})
    assert r.status_code == 201, r.text
    outgoing = r.json()
    rs.sandbox.control("incoming-waybill", seller_tin=SUPPLIER_TIN, buyer_tin=COMPANY_TIN,
                       amount="590.00")
    r = await rs.h.client.post(rs.url("/rs/sync"), headers=rs.books.clerk)
    assert r.json()["waybills"] == 1
    async with web_client(rs) as clerk:
        await sign_in(clerk, "clerk")
        language(clerk, "en")
        page = await clerk.get(base)
        csrf = csrf_of(page.text)
        action = f"{base}/waybills/{outgoing['id']}"
        assert f'action="{action}/activate"' in page.text
        assert f'action="{action}/close"' not in page.text
        for step, shown in (("activate", "Active"), ("close", "Closed")):
            r = await clerk.post(f"{action}/{step}", data={"csrf_token": csrf})
            assert r.status_code == 303, r.text
            page = await clerk.get(r.headers["location"])
            assert "The waybill is updated on rs.ge." in page.text
            assert shown in page.text
        # Closed: no button is left; closing again is refused on the page.
        assert f'action="{action}/' not in page.text
        r = await clerk.post(f"{action}/close", data={"csrf_token": csrf})
        assert r.status_code == 409
        assert 'id="rs-error"' in r.text
        incoming = (await rs.h.client.get(rs.url("/rs/waybills"), headers=rs.books.clerk,
                                          params={"direction": "incoming"})).json()[0]
        r = await clerk.post(f"{base}/waybills/{incoming['id']}/confirm",
                             data={"csrf_token": csrf})
        assert r.status_code == 303
        page = await clerk.get(r.headers["location"])
        assert "confirmed" in page.text
        assert rs.sandbox.state.waybills[incoming["rs_id"]]["buyer_decision"] == "confirmed"
        r = await clerk.post(f"{base}/waybills/{incoming['id']}/explode",
                             data={"csrf_token": csrf})
        assert r.status_code == 404
