"""The web application in a real browser (headless Chromium): sign in, switch company and
language, enter a transaction with the keyboard only, have another user approve it, post
it, see it in the trial balance, drill down to it, download the PDF; the accessibility
check (axe-core) on every screen; every screen readable at 1280×800 and at 390×844; the
time per keystroke with 500 lines."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from browser_support import AXE, PASSWORD, SCREENS, Live

pytestmark = [pytest.mark.integration, pytest.mark.browser]

WAIT = 15.0


def wait(driver: Any, condition: Any, timeout: float = WAIT) -> Any:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=(
        NoSuchElementException, StaleElementReferenceException)).until(condition)


def css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, selector))


def books(live: Live) -> dict[str, Any]:
    """Two companies; the clerk (accountant) belongs to both, the chief approves."""
    for name, full in (("chief", "Nino Beridze"), ("clerk", "Giorgi Kapanadze")):
        r = live.api.post("/api/v1/users", json={"username": name, "password": PASSWORD,
                                                 "full_name": full},
                          headers=live.admin)
        assert r.status_code == 201, r.text
    chief = live.token("chief")
    first = live.post("/api/v1/companies", chief, name="Tbilisi Trade LLC",
                      tax_id="204567891", vat_payer=True)
    second = live.post("/api/v1/companies", chief, name="Batumi Port LLC",
                       tax_id="405123987", vat_payer=False)
    for company in (first, second):
        live.post(f"/api/v1/companies/{company['id']}/members", chief, username="clerk",
                  role="accountant")
    return {"first": first["id"], "second": second["id"], "chief": chief}


def sign_in(driver: Any, live: Live, username: str) -> None:
    from selenium.webdriver.common.keys import Keys

    driver.get(live.url + "/login")
    field = css(driver, "#username")
    field.send_keys(username)
    css(driver, "#password").send_keys(PASSWORD + Keys.ENTER)
    wait(driver, lambda d: "/c/" in d.current_url)


def keys(driver: Any, *sequence: str) -> None:
    """Type into whatever has the focus, as a person at the keyboard does."""
    from selenium.webdriver.common.action_chains import ActionChains

    chain = ActionChains(driver)
    for item in sequence:
        chain.send_keys(item)
    chain.perform()


def control(driver: Any, key: str) -> None:
    """Ctrl+key."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).key_down(Keys.CONTROL).send_keys(key).key_up(Keys.CONTROL).perform()


def focused(driver: Any) -> Any:
    return driver.switch_to.active_element


def axe(driver: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the current page."""
    driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(function (r) {"
        " done(JSON.stringify(r.violations)); });")
    violations: list[dict[str, Any]] = json.loads(result)
    return [v for v in violations if v.get("impact") in ("serious", "critical")]


def readable(driver: Any) -> bool:
    """Nothing wider than the window but the tables' own scroll boxes."""
    width = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    return bool(width[0] <= width[1] + 1)


def screenshot(driver: Any, name: str) -> None:
    if SCREENS:
        Path(SCREENS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SCREENS) / f"{name}.png"))


def test_keyboard_entry_approval_trial_balance_drill_down_and_pdf(
        live: Live, browser: Any, second_browser: Any, superuser: dict[str, str]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    live.admin = superuser
    ids = books(live)
    first, _second = ids["first"], ids["second"]

    # Sign in, switch company and language.
    sign_in(browser, live, "clerk")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ka"
    browser.find_element(By.CSS_SELECTOR, "button[value=en]").click()
    wait(browser, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    css(browser, ".switcher summary").click()
    other = "Batumi Port LLC" if f"/c/{first}/" in browser.current_url else "Tbilisi Trade LLC"
    browser.find_element(By.LINK_TEXT, other).click()
    wait(browser, lambda d: other in d.find_element(By.CSS_SELECTOR, ".switcher summary").text)
    browser.get(f"{live.url}/c/{first}/")
    assert "Dashboard" in css(browser, "h1").text

    # The journal entry, keyboard only: n opens it; the date has the focus.
    keys(browser, "n")
    wait(browser, lambda d: d.current_url.endswith("/journal/new"))
    css(browser, "#lines tr")
    assert focused(browser).get_attribute("id") == "e-date"
    control(browser, "a")
    keys(browser, "15.03.2026", Keys.ENTER)  # 15 March 2026
    assert css(browser, "#e-date").get_attribute("value") == "2026-03-15"
    keys(browser, "Office rent, March", Keys.ENTER, "INV-7", Keys.ENTER)
    # Line 1: the account found by its name ("rent"), the amount, Enter: the next line.
    assert focused(browser).get_attribute("data-field") == "account"
    keys(browser, "rent")
    wait(browser, lambda d: not d.find_element(By.ID, "account-options").get_attribute("hidden")
         is not None or d.find_element(By.ID, "account-options").is_displayed())
    keys(browser, Keys.ENTER, Keys.ENTER, "1 180,50", Keys.ENTER)
    line1 = browser.find_elements(By.CSS_SELECTOR, "#lines tr")[0]
    assert line1.find_element(By.CSS_SELECTOR, "[data-field=account]").get_attribute(
        "value") == "7420"
    # Line 2: the account by its code; "=" fills the running difference.
    assert focused(browser).get_attribute("data-field") == "account"
    keys(browser, "1210", Keys.ENTER, "Bank of Georgia", Keys.ENTER, Keys.ENTER)
    assert focused(browser).get_attribute("data-field") == "credit"
    assert css(browser, "#difference").text == "1,180.50"
    keys(browser, "=")
    assert css(browser, "#difference").text == "0.00"
    assert focused(browser).get_attribute("value") == "1180.50"
    # Enter on the last line adds a line; ? lists the shortcuts; Ctrl+S saves.
    keys(browser, Keys.ENTER)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#lines tr")) == 3
    keys(browser, "?")
    assert css(browser, "#help").get_attribute("open") is not None
    keys(browser, Keys.ESCAPE)
    screenshot(browser, "entry-en")
    control(browser, "s")
    try:
        wait(browser, lambda d: "/journal/" in d.current_url and "new" not in d.current_url)
    except Exception:
        raise AssertionError(css(browser, "#entry-status").text) from None
    assert css(browser, "#tx-status").text == "draft"
    transaction = browser.current_url.rsplit("/", 1)[1]

    # Another user approves it.
    sign_in(second_browser, live, "chief")
    second_browser.get(f"{live.url}/c/{first}/approvals")
    assert "Office rent, March" in css(second_browser, "main").text
    second_browser.find_element(
        By.CSS_SELECTOR, f"form[action$='/journal/{transaction}/approve'] button").click()
    wait(second_browser, lambda d: d.current_url.endswith("/approvals"))

    # The clerk posts it, sees it in the trial balance and drills down to it.
    browser.get(f"{live.url}/c/{first}/journal/{transaction}")
    css(browser, "#post").click()
    wait(browser, lambda d: d.find_element(By.ID, "tx-status").text == "posted")
    browser.get(f"{live.url}/c/{first}/reports/trial-balance?date_from=2026-01-01"
                "&date_to=2026-12-31")
    table = css(browser, "table.report").text
    assert "1,180.50" in table
    browser.find_element(By.LINK_TEXT, "7420").click()
    wait(browser, lambda d: "/accounts/7420" in d.current_url)
    browser.find_element(By.CSS_SELECTOR, f"a[href$='/journal/{transaction}']").click()
    wait(browser, lambda d: d.current_url.endswith(transaction))
    assert "Office rent, March" in css(browser, "#tx-description").text

    # The trial balance of the whole chart (every account, headers rolled up) is
    # interactive in under a second (issue 17's benchmark).
    browser.get(f"{live.url}/c/{first}/reports/trial-balance?level=all")
    css(browser, "table.report")
    rows = len(browser.find_elements(By.CSS_SELECTOR, "table.report tbody tr"))
    interactive = browser.execute_script(
        "return performance.getEntriesByType('navigation')[0].domInteractive")
    print(f"trial balance of the whole chart ({rows} rows): interactive in {interactive:.0f} ms")
    assert rows > 200  # the standard chart: every account, headers included, and a total
    # Speed is measured by bench/web.py, not asserted here (a loaded CI machine is no
    # stopwatch); this bound only catches a page that hangs.
    assert interactive < 15000

    # The PDF downloads (fetched by the page itself, with its session cookie).
    browser.get(f"{live.url}/c/{first}/reports/trial-balance")
    href = css(browser, "#download-pdf").get_attribute("href")
    answer = browser.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(function (r) { return r.arrayBuffer().then(function (b) {"
        " done([r.status, r.headers.get('content-type'),"
        " String.fromCharCode.apply(null, new Uint8Array(b.slice(0, 4)))]); }); });", href)
    assert answer == [200, "application/pdf", "%PDF"]


def test_every_screen_is_accessible_and_readable_on_a_desk_and_a_phone(
        live: Live, browser: Any, superuser: dict[str, str]) -> None:
    from selenium.webdriver.common.by import By

    live.admin = superuser
    ids = books(live)
    first = ids["first"]
    clerk = live.token("clerk")
    company = f"/api/v1/companies/{first}/transactions"
    tx = live.post(company, clerk, date="2026-03-15", description="Capital paid in", entries=[
        {"account_code": "1210", "debit": "71640.00"},
        {"account_code": "5150", "credit": "71640.00"}])
    live.post(f"{company}/{tx['id']}/approve", ids["chief"])
    live.post(f"{company}/{tx['id']}/post", clerk)
    live.post(company, clerk, date="2026-03-20", description="Office rent, March", entries=[
        {"account_code": "7420", "debit": "1180.50"},
        {"account_code": "1210", "credit": "1180.50"}])
    # A sales invoice: 10 × 1000.00 + 18% VAT = 11,800.00 (the documents and VAT screens).
    customer = live.post(f"/api/v1/companies/{first}/counterparties", clerk,
                         name="შპს ალფა ტრეიდი", tax_id="204999999")
    invoice = live.post(f"/api/v1/companies/{first}/sales-invoices", clerk,
                        customer_id=customer["id"], date="2026-03-10", lines=[
                            {"description": "Consulting", "quantity": "10",
                             "unit_price": "1000.00", "vat_code": "vat18"}])
    live.post(f"/api/v1/companies/{first}/sales-invoices/{invoice['id']}/post", clerk)
    sign_in(browser, live, "chief")
    screens = {"dashboard": "/", "chart": "/accounts", "journal": "/journal",
               "transaction": f"/journal/{tx['id']}", "entry": "/journal/new",
               "approvals": "/approvals", "periods": "/periods", "reports": "/reports",
               "trial-balance": "/reports/trial-balance", "balance-sheet":
               "/reports/balance-sheet", "profit-and-loss": "/reports/profit-and-loss",
               "cash-flow": "/reports/cash-flow", "changes-in-equity":
               "/reports/changes-in-equity", "account": "/accounts/1210", "users": "/users",
               "documents": "/documents", "invoice-new": "/documents/new",
               "invoice": f"/documents/{invoice['id']}", "vat": "/vat?period=2026-03",
               "payroll": "/payroll", "bank": "/bank", "payments": "/payments",
               "purchases": "/documents?side=purchases"}
    problems: dict[str, Any] = {}
    for lang in ("ka", "en"):
        browser.get(f"{live.url}/c/{first}/")
        browser.find_element(By.CSS_SELECTOR, f"button[value={lang}]").click()
        wait(browser, lambda d, lang=lang: d.find_element(By.TAG_NAME, "html")
             .get_attribute("lang") == lang)
        for name, path in screens.items():
            browser.set_window_size(1280, 800)
            browser.get(f"{live.url}/c/{first}{path}")
            css(browser, "main h1")
            if lang == "ka" or name in ("dashboard", "entry", "trial-balance"):
                serious = axe(browser)
                if serious:
                    problems[f"{lang} {name} axe"] = [(v["id"], v["help"],
                                                       [n["target"] for n in v["nodes"][:3]])
                                                      for v in serious]
            if not readable(browser):
                problems[f"{lang} {name} 1280"] = "wider than the window"
            screenshot(browser, f"{name}-{lang}")
            browser.set_window_size(390, 844)
            browser.get(f"{live.url}/c/{first}{path}")
            css(browser, "main h1")
            if not readable(browser):
                problems[f"{lang} {name} 390"] = "wider than the window"
    browser.set_window_size(1280, 800)
    browser.get(f"{live.url}/login")
    assert problems == {}


def test_a_500_line_entry_stays_instant(live: Live, browser: Any,
                                        superuser: dict[str, str]) -> None:
    """Time per keystroke with 500 lines (issue 17: < 16 ms): no server round trip, the
    totals updated by the line's change only."""
    live.admin = superuser
    ids = books(live)
    sign_in(browser, live, "clerk")
    browser.get(f"{live.url}/c/{ids['first']}/journal/new")
    css(browser, "#lines tr")
    measure = """
        var rows = document.querySelectorAll('#lines tr');
        var input = rows[rows.length - 1].querySelector('[data-field=debit]');
        input.focus();
        var times = [], script = [];
        for (var k = 0; k < 200; k++) {
          var start = performance.now();
          input.value = String(k + 1);
          input.dispatchEvent(new Event('input', {bubbles: true}));
          script.push(performance.now() - start);
          document.getElementById('difference').getBoundingClientRect();  // style, layout
          times.push(performance.now() - start);
        }
        function at(list, q) {
          list.sort(function (a, b) { return a - b; });
          return list[Math.floor(list.length * q)];
        }
        return {median: at(times, 0.5), p95: at(times, 0.95), script: at(script, 0.5),
                lines: rows.length,
                total: document.getElementById('total-debit').textContent};
    """
    two = browser.execute_script(measure)
    browser.execute_script(
        "for (var i = 0; i < 498; i++) {"
        " window.saldoEntry.addLine({account_code: '7420', debit: '1.00'}); }")
    many = browser.execute_script(measure)
    assert (two["lines"], many["lines"]) == (2, 500)
    # One empty line, 497 lines of 1.00, the second line left at 200 by the first
    # measurement and the last line typed up to 200: 497 + 200 + 200 = 897.00, shown in
    # Georgian (the default language).
    assert many["total"] == "897,00"
    print(f"500-line entry: time per keystroke median {many['median']:.2f} ms, p95 "
          f"{many['p95']:.2f} ms (the script alone {many['script']:.2f} ms); with 2 lines "
          f"median {two['median']:.2f} ms")
    # The budget is 16 ms (one frame at 60 Hz); the figures are measured and reported
    # (docs/web.md: 0.1 ms median with 500 lines, as with 2), not asserted: a loaded
    # 2-core CI machine is no stopwatch. This bound only catches work that grows with the
    # lines per keystroke.
    assert many["median"] < 500


def test_an_error_is_shown_at_its_field_and_nothing_typed_is_lost(
        live: Live, browser: Any, superuser: dict[str, str]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    live.admin = superuser
    ids = books(live)
    sign_in(browser, live, "clerk")
    browser.get(f"{live.url}/c/{ids['first']}/journal/new")
    css(browser, "#lines tr")
    keys(browser, Keys.ENTER, "Unbalanced", Keys.ENTER, Keys.ENTER,
         "7420", Keys.ENTER, Keys.ENTER, "100", Keys.ENTER,
         "1210", Keys.ENTER, Keys.ENTER, Keys.ENTER, "90")
    control(browser, "s")
    # Georgian (the default language): "Debits do not equal credits."
    wait(browser, lambda d: d.find_element(By.ID, "entry-status").text
         == "დებეტი არ უდრის კრედიტს.")
    assert "/journal/new" in browser.current_url
    values = [i.get_attribute("value") for i in
              browser.find_elements(By.CSS_SELECTOR, "#lines input")]
    assert values[:8] == ["7420", "", "100", "", "1210", "", "", "90"]
    assert css(browser, "#e-description").get_attribute("value") == "Unbalanced"
    invalid = browser.find_elements(By.CSS_SELECTOR, "#lines [aria-invalid=true]")
    assert invalid
    described = invalid[0].get_attribute("aria-describedby")
    assert css(browser, f"#{described}").text == "დებეტი არ უდრის კრედიტს."


def test_an_invoice_is_entered_and_posted_and_bank_lines_reconciled(
        live: Live, browser: Any, superuser: dict[str, str]) -> None:
    from bank_files import Entry, camt053
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    live.admin = superuser
    ids = books(live)
    first = ids["first"]
    clerk = live.token("clerk")
    customer = live.post(f"/api/v1/companies/{first}/counterparties", clerk,
                         name="შპს ალფა ტრეიდი", tax_id="204999999")
    sign_in(browser, live, "clerk")
    browser.get(f"{live.url}/c/{first}/documents")
    css(browser, "a[href$='/documents/new']").click()
    Select(css(browser, "#i-customer")).select_by_value(customer["id"])
    browser.execute_script("arguments[0].value = '2026-03-10'", css(browser, "#i-date"))
    css(browser, "#l0-description").send_keys("Consulting")
    css(browser, "#l0-quantity").send_keys("2")
    css(browser, "#l0-unit_price").send_keys("50,00")
    css(browser, "button[value=save]").click()
    # 2 × 50,00 at vat18: 100,00 + 18,00 = 118,00 (Georgian, the default language).
    wait(browser, lambda d: d.find_element(By.ID, "doc-total").text == "118,00")
    assert css(browser, "#doc-net").text == "100,00"
    assert css(browser, "#doc-vat").text == "18,00"
    assert axe(browser) == []
    document_id = browser.current_url.rsplit("/", 1)[1]
    css(browser, "form[action$='/post'] button").click()
    wait(browser, lambda d: d.find_element(By.ID, "doc-status").text == "გატარებული")
    number = live.api.get(f"/api/v1/companies/{first}/sales-invoices/{document_id}",
                          headers=clerk).json()["number"]

    statement = camt053([Entry("-1.20", date(2026, 3, 11), "Commission", "C-1"),
                         Entry("118.00", date(2026, 3, 12), number, "C-2",
                               name="შპს ალფა ტრეიდი", tax_id="204999999")])
    r = live.api.post(f"/api/v1/companies/{first}/bank-statements?account_code=1210",
                      content=statement, headers=clerk)
    assert r.status_code in (200, 201), r.text
    browser.get(f"{live.url}/c/{first}/bank")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr.reconcile")) == 2)
    assert axe(browser) == []
    screenshot(browser, "bank-reconcile-ka")
    # The fee to bank charges: the code typed, Enter.
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.reconcile")
    fee_row = next(r for r in rows if number not in r.text)
    fee = fee_row.find_element(By.CSS_SELECTOR, "input[name=account_code]")
    fee.send_keys("7492" + Keys.ENTER)
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr.reconcile")) == 1)
    # The receipt to its suggested invoice: one click.
    css(browser, "tr.reconcile form button").click()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr.reconcile")) == 0)
    paid = live.api.get(f"/api/v1/companies/{first}/sales-invoices/{document_id}",
                        headers=clerk).json()
    assert paid["status"] == "paid"
