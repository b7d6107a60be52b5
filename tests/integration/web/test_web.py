"""The web application over real HTTP (httpx against the app, the real database): sign-in
with the session cookie, CSRF, fixation, logout and logout everywhere, every page in both
languages, the journal entry's save endpoint and its errors, the XSS probe, downloads."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import httpx
import pytest
from identity_harness import PASSWORD
from ledger_harness import Books, Harness

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html[:500]
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, username: str,
                  password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/login")
    assert page.status_code == 200
    return await client.post("/login", data={"username": username, "password": password,
                                             "csrf_token": csrf_of(page.text), "next": "/"})


def invalid(html: str, field_id: str) -> bool:
    """Whether the field ``field_id`` is marked invalid (``aria-invalid``)."""
    return re.search(rf'id="{re.escape(field_id)}"[^>]*aria-invalid="true"', html) is not None


def error_at(html: str, name: str) -> str:
    """The sentence shown at the field ``name`` (its ``err-`` element)."""
    found = re.search(rf'id="err-{re.escape(name)}"[^>]*>([^<]*)<', html)
    assert found, f"no error at {name}"
    return found.group(1)


def plant(client: httpx.AsyncClient, name: str, value: str) -> None:
    """A cookie as the server would have set it (same domain and path: it replaces)."""
    client.cookies.set(name, value, domain="saldo.test", path="/")


def browser(h: Harness) -> httpx.AsyncClient:
    """A second browser: its own cookie jar, the same app."""
    transport = httpx.ASGITransport(app=h.app, client=("203.0.113.9", 50001))
    return httpx.AsyncClient(transport=transport, base_url="http://saldo.test")


async def test_sign_in_sets_http_only_session_cookies_and_lands_on_the_company(h: Harness):
    books = await h.books()
    r = await sign_in(h.client, "clerk")
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("saldo_session="))
    access = next(c for c in cookies if c.startswith("saldo_access="))
    for cookie in (session, access):
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/" in cookie
        assert "Secure" not in cookie  # development; production sets Secure (settings.env)
    home = await h.client.get("/")
    assert home.status_code == 303
    assert home.headers["location"] == f"/c/{books.company_id}/"
    dashboard = await h.client.get(home.headers["location"])
    assert dashboard.status_code == 200
    csp = dashboard.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert dashboard.headers.get_list("content-security-policy") == [csp]
    assert not INLINE_SCRIPT.search(dashboard.text)


async def test_wrong_password_and_missing_csrf_are_refused_without_a_session(h: Harness):
    await h.books()
    r = await sign_in(h.client, "clerk", "wrong password!")
    assert r.status_code == 401
    assert "Wrong username or password" in r.text or "არასწორია" in r.text
    assert 'value="clerk"' in r.text  # what was typed stays
    r = await h.client.post("/login", data={"username": "clerk",
                                            "password": "correct horse battery staple"})
    assert r.status_code == 403
    assert not any(c.startswith("saldo_session=") and "Max-Age=0" not in c
                   for c in r.headers.get_list("set-cookie"))


async def test_not_signed_in_goes_to_the_sign_in_page_and_comes_back(h: Harness):
    books = await h.books()
    r = await h.client.get(f"/c/{books.company_id}/journal?status=draft")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")
    page = await h.client.get(r.headers["location"])
    r = await h.client.post("/login", data={
        "username": "clerk", "password": "correct horse battery staple",
        "csrf_token": csrf_of(page.text),
        "next": f"/c/{books.company_id}/journal?status=draft"})
    assert r.headers["location"] == f"/c/{books.company_id}/journal?status=draft"
    # Never an open redirect.
    page = await h.client.get("/login?next=//evil.example/")
    assert 'name="next" value="/"' in page.text


async def test_forms_without_the_csrf_token_change_nothing(h: Harness):
    books = await h.books()
    tx = await books.draft([("1110", "100.00", ""), ("5110", "", "100.00")])
    await sign_in(h.client, "chief")
    r = await h.client.post(f"/c/{books.company_id}/journal/{tx['id']}/approve", data={})
    assert r.status_code == 403
    r = await h.client.post(f"/c/{books.company_id}/journal/{tx['id']}/approve",
                            data={"csrf_token": "0" * 64})
    assert r.status_code == 403
    assert (await books.get(tx["id"]))["status"] == "draft"
    r = await h.client.post("/logout", data={})
    assert r.status_code == 403
    assert (await h.client.get(f"/c/{books.company_id}/")).status_code == 200
    # The JSON save needs the header.
    r = await h.client.post(f"/c/{books.company_id}/journal/drafts", json={"entries": []},
                            headers={"accept": "application/json"})
    assert r.status_code == 403
    assert r.json()["code"] == "csrf_failed"


async def test_a_session_fixed_before_sign_in_is_never_the_one_granted(h: Harness):
    books = await h.books()
    # The attacker signs in and plants their own session cookie in the victim's browser.
    attacker = browser(h)
    await sign_in(attacker, "chief")
    planted = attacker.cookies["saldo_session"]
    plant(h.client, "saldo_session", planted)
    plant(h.client, "saldo_access", "forged")
    r = await sign_in(h.client, "clerk")
    assert r.status_code == 303
    granted = h.client.cookies["saldo_session"]
    assert granted != planted
    # The victim is the clerk, not the attacker, and the attacker's cookie stays theirs.
    page = await h.client.get(f"/c/{books.company_id}/")
    assert "Clerk" in page.text
    await attacker.aclose()


async def test_logout_revokes_the_session_and_logout_everywhere_every_session(h: Harness):
    books = await h.books()
    await sign_in(h.client, "clerk")
    old = dict(h.client.cookies)
    page = await h.client.get(f"/c/{books.company_id}/")
    r = await h.client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    # The cookies of the ended session are worthless, even replayed.
    replay = browser(h)
    for name, value in old.items():
        replay.cookies.set(name, value)
    assert (await replay.get(f"/c/{books.company_id}/")).status_code == 303
    await replay.aclose()

    phone, laptop = browser(h), browser(h)
    await sign_in(phone, "clerk")
    await sign_in(laptop, "clerk")
    api_token = await h.token("clerk")
    assert (await laptop.get(f"/c/{books.company_id}/")).status_code == 200
    page = await phone.get(f"/c/{books.company_id}/")
    r = await phone.post("/logout-everywhere", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    assert (await laptop.get(f"/c/{books.company_id}/")).status_code == 303
    assert (await phone.get(f"/c/{books.company_id}/")).status_code == 303
    r = await h.client.get("/api/v1/me", headers={"Authorization": f"Bearer {api_token}"})
    assert r.status_code == 401
    await phone.aclose()
    await laptop.aclose()


async def test_an_expired_access_token_is_renewed_from_the_refresh_token(h: Harness):
    books = await h.books()
    await sign_in(h.client, "clerk")
    first = h.client.cookies["saldo_session"]
    h.client.cookies.delete("saldo_access")
    r = await h.client.get(f"/c/{books.company_id}/")
    assert r.status_code == 200
    assert h.client.cookies["saldo_session"] != first  # rotated
    # A second tab that still had the old refresh token gets the same rotation, not a
    # replay alarm that would revoke the session.
    tab = browser(h)
    plant(tab, "saldo_session", first)
    assert (await tab.get(f"/c/{books.company_id}/")).status_code == 200
    await tab.aclose()
    assert (await h.client.get(f"/c/{books.company_id}/journal")).status_code == 200


async def _save(h: Harness, books: Books, body: dict[str, Any], lang: str = "en"
                ) -> httpx.Response:
    page = await h.client.get(f"/c/{books.company_id}/journal/new")
    assert page.status_code == 200
    token = re.search(r'data-csrf="([^"]+)"', page.text)
    assert token
    plant(h.client, "saldo_lang", lang)
    return await h.client.post(f"/c/{books.company_id}/journal/drafts", json=body, headers={
        "x-csrf-token": token.group(1), "accept": "application/json"})


async def test_the_entry_screen_saves_a_draft_with_georgian_amounts(h: Harness):
    books = await h.books()
    await sign_in(h.client, "clerk")
    r = await _save(h, books, {"date": "2026-03-15", "description": "Office rent",
                               "entries": [
                                   {"account_code": "7410", "debit": "1 180,50"},
                                   {"account_code": "1210", "credit": "1180.50"}]})
    assert r.status_code == 201, r.text
    tx = await books.get(r.json()["id"])
    # 1 180,50 (Georgian: no-break-space groups, decimal comma) is 1180.50.
    assert tx["status"] == "draft"
    assert tx["total"] == "1180.50"
    assert [e["debit"] for e in tx["entries"]] == ["1180.50", "0.00"]


async def test_entry_errors_are_sentences_in_the_chosen_language_at_their_field(h: Harness):
    books = await h.books()
    await sign_in(h.client, "clerk")
    r = await _save(h, books, {"date": "2026-03-15", "description": "x", "entries": [
        {"account_code": "7410", "debit": "100"}, {"account_code": "1210", "credit": "90"}]},
        lang="ka")
    assert r.status_code == 422
    assert r.json()["code"] == "unbalanced_transaction"
    assert r.json()["message"] == "დებეტი არ უდრის კრედიტს."
    r = await _save(h, books, {"date": "2026-03-15", "description": "x", "entries": [
        {"account_code": "9999", "debit": "100"}, {"account_code": "1210", "credit": "100"}]})
    assert r.status_code == 422
    assert r.json()["message"] == "There is no account 9999 in the chart."
    assert r.json()["account"] == "9999"
    r = await _save(h, books, {"date": "2026-03-15", "description": "x", "entries": [
        {"account_code": "7410", "debit": "1.005"}, {"account_code": "1210", "credit": "1"}]})
    assert r.status_code == 422
    assert (r.json()["field"], r.json()["line"]) == ("debit", 0)
    r = await _save(h, books, {"date": "15th", "entries": []})
    assert r.status_code == 422
    assert r.json()["field"] == "date"


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


async def test_free_text_is_rendered_as_text(h: Harness):
    books = await h.books()
    await sign_in(h.client, "clerk")
    r = await _save(h, books, {"date": "2026-03-15", "description": XSS, "reference": XSS,
                               "entries": [
                                   {"account_code": "7410", "debit": "10", "description": XSS},
                                   {"account_code": "1210", "credit": "10"}]})
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    for path in (f"/journal/{tid}", "/journal", "/approvals", "/", f"/journal/{tid}/edit"):
        page = await h.client.get(f"/c/{books.company_id}{path}")
        assert page.status_code == 200, path
        assert "<script>alert" not in page.text, path
        assert "<img src=x" not in page.text, path
        assert not INLINE_SCRIPT.search(page.text), path
    detail = await h.client.get(f"/c/{books.company_id}/journal/{tid}")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in detail.text
    # An account's names and a company's name are free text too.
    r = await h.client.post(f"/api/v1/companies/{books.company_id}/accounts", headers=books.chief,
                            json={"code": "7420.01", "name": XSS, "name_ka": XSS})
    assert r.status_code == 201, r.text
    other = await h.company(books.chief, XSS, "205123987")
    await h.member(books.chief, other, "clerk", "accountant")
    for path in ("/accounts", "/journal/new", "/"):
        page = await h.client.get(f"/c/{books.company_id}{path}")
        assert page.status_code == 200, path
        assert "<script>alert" not in page.text, path
        assert "<img src=x" not in page.text, path
    entry = await h.client.get(f"/c/{books.company_id}/journal/new")
    assert "\\u003cscript\\u003e" in entry.text  # inside the JSON data block
    # A member's name is free text too.
    await h.user("mallory", full_name=XSS)
    await books.h.member(books.chief, books.company_id, "mallory", "auditor")
    users = await h.client.get(f"/c/{books.company_id}/users")
    assert "<script>alert" not in users.text
    assert "&lt;script&gt;" in users.text


async def test_approve_post_trial_balance_drill_down_and_downloads(h: Harness):
    books = await h.books()
    tx = await books.draft([("1210", "71640.00", ""), ("5150", "", "71640.00")],
                           day="2026-03-15", description="Capital paid in")
    await sign_in(h.client, "chief")
    base = f"/c/{books.company_id}"
    page = await h.client.get(f"{base}/approvals")
    assert "Capital paid in" in page.text
    r = await h.client.post(f"{base}/journal/{tx['id']}/approve",
                            data={"csrf_token": csrf_of(page.text), "next": f"{base}/approvals"})
    assert r.status_code == 303
    assert r.headers["location"] == f"{base}/approvals"
    r = await h.client.post(f"{base}/journal/{tx['id']}/post",
                            data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    assert (await books.get(tx["id"]))["status"] == "posted"
    plant(h.client, "saldo_lang", "ka")
    tb = await h.client.get(f"{base}/reports/trial-balance",
                            params={"date_from": "2026-01-01", "date_to": "2026-12-31"})
    assert tb.status_code == 200
    assert "71\u00a0640,00" in tb.text  # Babel's ka_GE: no-break space, decimal comma
    link = f'{base}/accounts/1210?date_from=2026-01-01&amp;date_to=2026-12-31'
    assert link in tb.text
    card = await h.client.get(link.replace("&amp;", "&"))
    assert card.status_code == 200
    assert f"{base}/journal/{tx['id']}" in card.text
    pdf = await h.client.get(f"{base}/reports/trial-balance/download",
                             params={"format": "pdf", "date_from": "2026-01-01",
                                     "date_to": "2026-12-31"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    xlsx = await h.client.get(f"{base}/reports/trial-balance/download",
                              params={"format": "xlsx"})
    assert xlsx.status_code == 200
    assert xlsx.content.startswith(b"PK")


@pytest.mark.parametrize("lang", ["ka", "en"])
async def test_every_screen_answers_in_both_languages(h: Harness, lang: str):
    books = await h.books()
    tx = await books.post([("1210", "500.00", ""), ("5150", "", "500.00")])
    await sign_in(h.client, "chief")
    plant(h.client, "saldo_lang", lang)
    base = f"/c/{books.company_id}"
    paths = ["/", "/accounts", "/journal", "/journal?status=posted&account=1210",
             f"/journal/{tx['id']}", "/journal/new", "/approvals", "/periods",
             "/periods?year=2025", "/reports", "/accounts/1210", "/users",
             "/documents", "/documents/new", "/bank",
             *(f"/reports/{n}" for n in ("trial-balance", "balance-sheet", "profit-and-loss",
                                         "cash-flow", "changes-in-equity"))]
    for path in paths:
        page = await h.client.get(base + path)
        assert page.status_code == 200, (path, page.text[:1000])
        assert f'<html lang="{lang}">' in page.text
        assert not INLINE_SCRIPT.search(page.text), path
    assert (await h.client.get("/companies")).status_code == 200


async def test_company_switcher_lists_the_users_companies_and_remembers_the_choice(h: Harness):
    books = await h.books()
    other = await h.other_books("b")
    await h.member(other.chief, other.company_id, "clerk", "accountant")
    await sign_in(h.client, "clerk")
    page = await h.client.get(f"/c/{books.company_id}/")
    assert f"/c/{other.company_id}/" in page.text
    assert "Batumi Port LLC" in page.text
    assert (await h.client.get(f"/c/{other.company_id}/")).status_code == 200
    r = await h.client.get("/")
    assert r.headers["location"] == f"/c/{other.company_id}/"
    # Not a member: not found, as the API.
    stranger = await h.other_books("c", "Kutaisi LLC", "406123987")
    assert (await h.client.get(f"/c/{stranger.company_id}/")).status_code == 404


async def test_language_choice_is_remembered_and_needs_the_csrf_token(h: Harness):
    books = await h.books()
    await sign_in(h.client, "clerk")
    page = await h.client.get(f"/c/{books.company_id}/")
    r = await h.client.post("/language", data={"lang": "en", "next": "/"})
    assert r.status_code == 403
    r = await h.client.post("/language", data={"lang": "en", "next": f"/c/{books.company_id}/",
                                               "csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    assert h.client.cookies["saldo_lang"] == "en"
    page = await h.client.get(f"/c/{books.company_id}/")
    assert "Dashboard" in page.text


async def test_permissions_follow_the_role(h: Harness):
    books = await h.books()
    tx = await books.draft([("1110", "100.00", ""), ("5110", "", "100.00")])
    await sign_in(h.client, "clerk")
    base = f"/c/{books.company_id}"
    page = await h.client.get(f"{base}/journal/{tx['id']}")
    assert 'id="approve"' not in page.text  # the clerk may not approve
    r = await h.client.post(f"{base}/journal/{tx['id']}/approve",
                            data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 403
    assert (await h.client.post(f"{base}/periods/2026-03/close",
                                data={"csrf_token": csrf_of(page.text)})).status_code == 403
    assert UUID(tx["id"])


async def test_periods_close_reopen_and_lock_from_the_page(h: Harness):
    books = await h.books()
    await books.post([("1210", "10.00", ""), ("5150", "", "10.00")], day="2026-03-15")
    await sign_in(h.client, "chief")
    base = f"/c/{books.company_id}"
    page = await h.client.get(f"{base}/periods?year=2026")
    token = csrf_of(page.text)
    for action, status in (("close", "closed"), ("reopen", "open"), ("close", "closed"),
                           ("lock", "locked")):
        r = await h.client.post(f"{base}/periods/2026-03/{action}", data={"csrf_token": token})
        assert r.status_code == 303, r.text
        assert r.headers["location"] == f"{base}/periods?year=2026"
        r = await h.client.get(f"/api/v1/companies/{books.company_id}/fiscal-periods",
                               params={"year": 2026}, headers=books.chief)
        assert next(p for p in r.json() if p["period"] == "2026-03")["status"] == status
    # A locked period cannot be reopened: the page says so in the reader's language.
    r = await h.client.post(f"{base}/periods/2026-03/reopen", data={"csrf_token": token})
    assert r.status_code == 409
    assert "role=\"alert\"" in r.text


async def test_a_draft_is_amended_from_the_edit_screen_and_discarded(h: Harness):
    books = await h.books()
    tx = await books.draft([("7420", "100.00", ""), ("1210", "", "100.00")],
                           description="Rent")
    await sign_in(h.client, "clerk")
    base = f"/c/{books.company_id}"
    edit = await h.client.get(f"{base}/journal/{tx['id']}/edit")
    assert edit.status_code == 200
    assert '"account_code":"7420"' in edit.text
    assert '"debit":"100.00"' in edit.text
    r = await _save(h, books, {"id": tx["id"], "date": "2026-03-16", "description": "Rent, March",
                               "entries": [{"account_code": "7420", "debit": "120"},
                                           {"account_code": "1210", "credit": "120"}]})
    assert r.status_code == 201, r.text
    assert r.json()["id"] == tx["id"]
    amended = await books.get(tx["id"])
    assert (amended["description"], amended["total"]) == ("Rent, March", "120.00")
    page = await h.client.get(f"{base}/journal/{tx['id']}")
    r = await h.client.post(f"{base}/journal/{tx['id']}/discard",
                            data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    assert (await books.get(tx["id"]))["status"] == "discarded"


async def test_a_posted_transaction_is_reversed_with_a_reason(h: Harness):
    books = await h.books()
    tx = await books.post([("1210", "50.00", ""), ("5150", "", "50.00")])
    await sign_in(h.client, "chief")
    base = f"/c/{books.company_id}"
    page = await h.client.get(f"{base}/journal/{tx['id']}")
    assert 'id="reverse"' in page.text
    r = await h.client.post(f"{base}/journal/{tx['id']}/reverse",
                            data={"csrf_token": csrf_of(page.text), "reason": "Typed twice"})
    assert r.status_code == 303
    reversed_tx = await books.get(tx["id"])
    assert reversed_tx["reversed_by"] is not None
    reversal = await books.get(reversed_tx["reversed_by"])
    assert reversal["reverses"] == tx["id"]
    assert "Typed twice" in (reversed_tx["reversal_reason"], reversal["reversal_reason"],
                             reversal["description"])


async def test_a_refused_member_change_keeps_what_was_typed(h: Harness):
    books = await h.books()
    await sign_in(h.client, "chief")
    base = f"/c/{books.company_id}"
    page = await h.client.get(f"{base}/users")
    r = await h.client.post(f"{base}/users", data={"csrf_token": csrf_of(page.text),
                                                   "username": "clerk", "role": "auditor"})
    assert r.status_code == 409
    assert "ეს მომხმარებელი უკვე წევრია." in r.text  # already a member, in Georgian
    assert 'value="clerk"' in r.text
    assert '<option value="auditor" selected>' in r.text
    await h.user("tamar")
    r = await h.client.post(f"{base}/users", data={"csrf_token": csrf_of(page.text),
                                                   "username": "tamar", "role": "auditor"})
    assert r.status_code == 303
    members = await h.client.get(f"/api/v1/companies/{books.company_id}/members",
                                 headers=books.chief)
    assert ("tamar", "auditor") in {(m["username"], m["role"]) for m in members.json()}


async def test_documents_vat_return_and_payroll_screens(h: Harness):
    from billing_harness import Billing, line

    books = await h.books()
    billing = Billing(books)
    customer = await billing.counterparty("შპს ალფა <b>ტრეიდი</b>", "204999999")
    # 10 × 1000.00 at 18% VAT: net 10,000.00, VAT 1,800.00, total 11,800.00.
    invoice = await billing.invoice(customer, "2026-03-15", [line("10", "1000.00")])
    await sign_in(h.client, "chief")
    plant(h.client, "saldo_lang", "ka")
    base = f"/c/{books.company_id}"
    page = await h.client.get(f"{base}/documents")
    assert page.status_code == 200
    assert invoice["number"] in page.text
    assert "11\u00a0800,00" in page.text
    assert "&lt;b&gt;ტრეიდი&lt;/b&gt;" in page.text  # a counterparty's name is text
    assert (await h.client.get(f"{base}/documents?side=purchases&status=paid")).status_code \
        == 200
    vat = await h.client.get(f"{base}/vat?period=2026-03")
    assert vat.status_code == 200
    # Output VAT 1,800.00 and nothing to deduct: 1,800.00 payable.
    assert 'id="vat-payable">1\u00a0800,00<' in vat.text
    assert (await h.client.get(f"{base}/vat?period=bad")).status_code == 200
    payroll = await h.client.get(f"{base}/payroll")
    assert payroll.status_code == 200
    dashboard = await h.client.get(f"{base}/")
    assert "დღგ" in dashboard.text


async def test_the_login_throttle_applies_to_the_sign_in_form(h: Harness):
    await h.books()
    # Five failures lock the username (settings.login_max_failures = 5): the sixth try is
    # refused with 429 even with the right password, and the form says why.
    for _ in range(5):
        assert (await sign_in(h.client, "clerk", "wrong password!")).status_code == 401
    r = await sign_in(h.client, "clerk")
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
    assert "Too many failed sign-ins" in r.text or "ძალიან ბევრი" in r.text
    assert "saldo_session" not in h.client.cookies


async def test_bank_screen_lists_statement_lines_and_their_reconciliation(h: Harness):
    from datetime import date

    from bank_files import Entry, camt053

    from saldo.identity.service import Permission

    books = await h.books()
    ctx = await h.container.identity.member_context(books.company_id, "clerk",
                                                    Permission.BANK_WRITE)
    banking = h.container.services["banking"]
    statement = camt053([Entry("-2.50", date(2026, 3, 5), "Commission <i>fee</i>", "C-1"),
                         Entry("1180.00", date(2026, 3, 6), "Payment", "C-2",
                               name="შპს ალფა")])
    await banking.import_statement(ctx, statement, account_code="1210")
    await sign_in(h.client, "clerk")
    plant(h.client, "saldo_lang", "en")
    base = f"/c/{books.company_id}"
    page = await h.client.get(f"{base}/bank")
    assert page.status_code == 200
    assert "-2.50 GEL" in page.text
    assert "1,180.00 GEL" in page.text
    assert "<i>fee</i>" not in page.text  # text from a bank's file is text
    assert (await h.client.get(f"{base}/bank?status=reconciled")).status_code == 200
    assert (await h.client.get(f"{base}/bank?status=all")).status_code == 200
