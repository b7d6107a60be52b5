"""The rs.ge screens in a real browser (headless Chromium) against the stand-in Revenue
Service, with the exchange's worker running in the served process: a posted invoice
fails on a wrong service password, the chief sets the service user from the form (the
password never shown back), the accountant retries it with the keyboard and sees it sent;
a supplier's e-invoice is fetched and confirmed. axe-core on each rs.ge screen in both
languages, and each readable at 1280×800 and 390×844."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from browser_support import AXE, CHROMEDRIVER, CHROMIUM, Live, serve_live
from sandbox_server import Served, serve_sandbox
from test_browser import axe, books, css, readable, screenshot, sign_in, wait

from saldo.platform.db import Database
from saldo.rsge.sandbox import DEMO_USER
from saldo.rsge.soap import tbilisi_now

pytestmark = [pytest.mark.integration, pytest.mark.browser]

#: The stand-in's taxpayers: the books' company (the demo service user's) and a buyer.
BUYER_TIN, SUPPLIER_TIN = "205123456", "404987654"
WAIT = 30.0


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists() and AXE.exists()):
        pytest.skip("the browser tools are missing (the browser fixture says which; "
                    "it fails under CI=true)")
    with serve_sandbox() as served:
        monkeypatch.setenv("SALDO_RS_URL", served.url)
        monkeypatch.setenv("SALDO_RS_SYNC_MINUTES", "0")
        monkeypatch.setenv("SALDO_RS_TIMEOUT", "5")
        yield served


@pytest.fixture
def rs_live(stand_in: Served, db: Database) -> Iterator[Live]:
    """Saldo served with its projections and the rs.ge worker in process (as ``saldo
    serve`` on the embedded server), pointed at the stand-in."""
    with serve_live(db.url, projections_in_process=True) as served:
        yield served


def _status(live: Live, company: str, document_id: str, headers: dict[str, str]) -> str:
    r = live.api.get(f"/api/v1/companies/{company}/sales-invoices/{document_id}/e-invoice",
                     headers=headers)
    return str(r.json().get("status")) if r.status_code == 200 else f"http {r.status_code}"


def _tab_to(driver: Any, selector: str, limit: int = 80) -> Any:
    """Press Tab until ``selector`` has the focus: reachable by keyboard alone."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    target = driver.find_element(By.CSS_SELECTOR, selector)
    driver.find_element(By.TAG_NAME, "body").click()
    for _ in range(limit):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if driver.switch_to.active_element == target:
            return target
    pytest.fail(f"{selector} is not reachable with Tab")


def test_rs_screens_retry_credentials_and_incoming(
        rs_live: Live, stand_in: Served, browser: Any, superuser: dict[str, str]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    live = rs_live
    live.admin = superuser
    ids = books(live)
    first, chief = ids["first"], ids["chief"]
    clerk = live.token("clerk")
    api = f"/api/v1/companies/{first}"
    # A wrong password: the worker's first attempt is refused, the invoice is failed.
    r = live.api.put(f"{api}/rs-credentials", headers=chief,
                     json={"service_user": DEMO_USER[0], "service_password": "wrong"})
    assert r.status_code == 204, r.text
    customer = live.post(f"{api}/counterparties", clerk, name="Batumi trade",
                         tax_id=BUYER_TIN)
    invoice = live.post(f"{api}/sales-invoices", clerk, customer_id=customer["id"],
                        date="2026-03-10", lines=[{"description": "Oak planks",
                                                   "quantity": "10", "unit_price": "25.00",
                                                   "vat_code": "vat18"}])
    number = live.post(f"{api}/sales-invoices/{invoice['id']}/post", clerk)["number"]
    wait(browser, lambda d: _status(live, first, invoice["id"], clerk) == "failed", WAIT)

    # The chief sets the right password from the form; it is never shown back.
    sign_in(browser, live, "chief")
    browser.get(f"{live.url}/c/{first}/rs/credentials")
    assert css(browser, "#rs-password").get_attribute("type") == "password"
    assert axe(browser) == []
    css(browser, "#rs-password").send_keys(DEMO_USER[1] + Keys.ENTER)
    wait(browser, lambda d: d.find_elements(By.ID, "rs-notice"))
    assert DEMO_USER[1] not in browser.page_source
    assert css(browser, "#rs-password").get_attribute("value") == ""
    screenshot(browser, "rs-credentials-ka")

    # The accountant finds it failed with its last error and retries it by keyboard.
    browser.delete_all_cookies()
    sign_in(browser, live, "clerk")
    browser.get(f"{live.url}/c/{first}/")
    css(browser, "nav.menu a[href$='/rs']").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-status=failed]"))
    row = css(browser, "tr[data-status=failed]")
    assert number in row.text
    assert row.find_element(By.CSS_SELECTOR, "td.rs-error").text.strip()
    assert axe(browser) == []
    screenshot(browser, "rs-einvoices-ka")
    button = _tab_to(browser, "tr[data-status=failed] form button")
    button.send_keys(Keys.ENTER)
    wait(browser, lambda d: d.find_elements(By.ID, "rs-notice"))
    wait(browser, lambda d: _status(live, first, invoice["id"], clerk) == "sent", WAIT)
    browser.get(f"{live.url}/c/{first}/rs?state=sent")
    sent = css(browser, "tr[data-status=sent]")
    assert number in sent.text
    assert "ეა-05" in sent.text  # the stand-in's series

    # A supplier's e-invoice of two days ago (the sync reads the last 90 days): fetched by
    # the accountant, confirmed by the chief.
    stand_in.control("incoming", seller_tin=SUPPLIER_TIN, buyer_tin="204567891",
                     date=f"{tbilisi_now().date() - timedelta(days=2)}T00:00:00", number=7001,
                     series="ეა-07",
                     lines=[{"goods": "Timber", "full_amount": "590.00", "vat": "90.00"}])
    browser.get(f"{live.url}/c/{first}/rs/incoming")
    css(browser, "form[action$='/rs/sync'] button").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#rs-incoming tr[id^=in-]"))
    assert "ეა-07 7001" in css(browser, "#rs-incoming").text
    assert axe(browser) == []
    browser.delete_all_cookies()
    sign_in(browser, live, "chief")
    browser.get(f"{live.url}/c/{first}/rs/incoming")
    css(browser, "form[action$='/confirm'] button").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "td.rs-decision")
         and "chief" in d.find_element(By.CSS_SELECTOR, "td.rs-decision").text)
    screenshot(browser, "rs-incoming-ka")

    # Every rs.ge screen: axe in both languages, readable on a desk and a phone.
    problems: dict[str, Any] = {}
    for lang in ("ka", "en"):
        browser.get(f"{live.url}/c/{first}/rs")
        browser.find_element(By.CSS_SELECTOR, f"button[value={lang}]").click()
        wait(browser, lambda d, lang=lang: d.find_element(By.TAG_NAME, "html")
             .get_attribute("lang") == lang)
        for name, path in (("outgoing", "/rs"), ("incoming", "/rs/incoming"),
                           ("credentials", "/rs/credentials")):
            browser.set_window_size(1280, 800)
            browser.get(f"{live.url}/c/{first}{path}")
            css(browser, "main h1")
            serious = axe(browser)
            if serious:
                problems[f"{lang} {name} axe"] = [(v["id"], v["help"]) for v in serious]
            if not readable(browser):
                problems[f"{lang} {name} 1280"] = "wider than the window"
            browser.set_window_size(390, 844)
            browser.get(f"{live.url}/c/{first}{path}")
            css(browser, "main h1")
            if not readable(browser):
                problems[f"{lang} {name} 390"] = "wider than the window"
    browser.set_window_size(1280, 800)
    assert problems == {}
