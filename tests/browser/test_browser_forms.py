"""The document, payroll and reconciliation forms in a real browser (headless Chromium):
a purchase bill entered from the keyboard (Enter to the next field and, on the last
line, a new line; Ctrl+S saves) and posted; a credit note against a posted invoice; a
payroll run computed and posted; one bank line split over two invoices with the
remainder shown as it is typed. Every new screen passes axe-core with no serious or
critical violation and is no wider than the window at 1280×800 and 390×844, in Georgian
and in English."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from browser_support import Live
from test_browser import (
    axe,
    books,
    control,
    css,
    focused,
    keys,
    readable,
    screenshot,
    sign_in,
    wait,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def shown(driver: Any, element_id: str) -> str:
    """An element's text with Babel's no-break spaces as plain ones (``2 744,00``)."""
    from selenium.webdriver.common.by import By

    text: str = driver.find_element(By.ID, element_id).text
    return text.replace("\u00a0", " ")


def check_screen(driver: Any, name: str, problems: dict[str, Any]) -> None:
    """axe-core (serious and critical) and the two window sizes, in both languages; the
    page is left as it was found, at 1280×800, in Georgian."""
    from selenium.webdriver.common.by import By

    url = driver.current_url
    for lang in ("ka", "en"):
        driver.find_element(By.CSS_SELECTOR, f"button[value={lang}]").click()
        wait(driver, lambda d, lang=lang: d.find_element(By.TAG_NAME, "html")
             .get_attribute("lang") == lang)
        serious = axe(driver)
        if serious:
            problems[f"{lang} {name} axe"] = [(v["id"], v["help"],
                                               [n["target"] for n in v["nodes"][:3]])
                                              for v in serious]
        for width, height in ((1280, 800), (390, 844)):
            driver.set_window_size(width, height)
            driver.get(url)
            css(driver, "main h1")
            if not readable(driver):
                problems[f"{lang} {name} {width}"] = "wider than the window"
        driver.set_window_size(1280, 800)
        driver.get(url)
        css(driver, "main h1")
        screenshot(driver, f"{name}-{lang}")
    driver.find_element(By.CSS_SELECTOR, "button[value=ka]").click()
    wait(driver, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ka")


def test_a_bill_from_the_keyboard_and_a_credit_note(
        live: Live, browser: Any, superuser: dict[str, str]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    live.admin = superuser
    ids = books(live)
    first = ids["first"]
    clerk = live.token("clerk")
    supplier = live.post(f"/api/v1/companies/{first}/counterparties", clerk,
                         name="შპს ოფისი", tax_id="204777777")
    customer = live.post(f"/api/v1/companies/{first}/counterparties", clerk,
                         name="შპს ალფა ტრეიდი", tax_id="204999999")
    # 10 × 100.00 at vat18 = 1,180.00, posted: the credit note's invoice.
    invoice = live.post(f"/api/v1/companies/{first}/sales-invoices", clerk,
                        customer_id=customer["id"], date="2026-03-02", lines=[
                            {"description": "Consulting", "quantity": "10",
                             "unit_price": "100.00", "vat_code": "vat18"}])
    live.post(f"/api/v1/companies/{first}/sales-invoices/{invoice['id']}/post", clerk)
    problems: dict[str, Any] = {}
    sign_in(browser, live, "clerk")

    browser.get(f"{live.url}/c/{first}/documents?side=purchases")
    css(browser, "a[href$='/documents/new?side=purchases']").click()
    css(browser, "tbody[data-lines] tr")
    check_screen(browser, "bill-new", problems)
    # F1 lists the form's keys; Esc closes the list.
    css(browser, "#i-date").click()
    keys(browser, Keys.F1)
    wait(browser, lambda d: d.find_element(By.ID, "form-help").get_attribute("open"))
    assert "Ctrl+S" in css(browser, "#form-help").text
    keys(browser, Keys.ESCAPE)
    wait(browser, lambda d: not d.find_element(By.ID, "form-help").get_attribute("open"))
    # The supplier found by its tax id in the search field; the select follows.
    css(browser, "#i-find").send_keys("204777777")
    wait(browser, lambda d: Select(d.find_element(By.ID, "i-customer"))
         .first_selected_option.get_attribute("value") == supplier["id"])
    browser.execute_script("arguments[0].value = '2026-03-10'", css(browser, "#i-date"))
    css(browser, "#i-supplier-reference").click()
    keys(browser, "F-100", Keys.ENTER)
    assert focused(browser).get_attribute("id") == "i-reference"  # Enter: the next field
    css(browser, "#l0-description").click()
    # One line from the keyboard: description, account (by code), quantity, price, VAT.
    keys(browser, "Paper", Keys.ENTER, "7420", Keys.ENTER, "2", Keys.ENTER, "50,00",
         Keys.ENTER)
    assert focused(browser).get_attribute("id") == "l0-vat_code"
    keys(browser, Keys.ENTER)
    assert focused(browser).get_attribute("id") == "l1-description"
    # Enter on the last line's last field adds a line, with no round trip.
    css(browser, "#l2-vat_code").click()
    keys(browser, Keys.ESCAPE, Keys.ENTER)
    assert len(browser.find_elements(By.CSS_SELECTOR, "tbody[data-lines] tr")) == 4
    assert focused(browser).get_attribute("id") == "l3-description"
    assert focused(browser).get_attribute("name") == "lines-3-description"
    assert css(browser, "[data-line-count]").get_attribute("value") == "4"
    keys(browser, "Toner", Keys.ENTER, "7420", Keys.ENTER, "1", Keys.ENTER, "10", Keys.ENTER)
    control(browser, "s")
    # 2 × 50,00 + 1 × 10,00 at vat18: net 110,00, VAT 19,80, total 129,80.
    wait(browser, lambda d: d.find_element(By.ID, "doc-total").text == "129,80")
    assert css(browser, "#doc-vat").text == "19,80"
    check_screen(browser, "bill", problems)
    css(browser, "form[action$='/post'] button").click()
    wait(browser, lambda d: d.find_element(By.ID, "doc-status").text == "გატარებული")

    # A credit note against the invoice: its line offered, two of ten returned.
    browser.get(f"{live.url}/c/{first}/documents/{invoice['id']}")
    css(browser, "#credit-note").click()
    quantity = css(browser, "#l0-quantity")
    assert quantity.get_attribute("value") == "10"
    check_screen(browser, "credit-note-new", problems)
    quantity = css(browser, "#l0-quantity")
    quantity.clear()
    quantity.send_keys("2")
    control(browser, "s")
    # 2 × 100,00 at vat18 = 236,00; the invoice's amount due falls to 944,00.
    wait(browser, lambda d: d.find_element(By.ID, "doc-total").text == "236,00")
    css(browser, "#doc-corrects a").click()
    wait(browser, lambda d: d.find_element(By.ID, "doc-due").text == "944,00 GEL")

    # A person's design work, 1,500.00 out of VAT scope: 20 % withheld from its page.
    person = live.post(f"/api/v1/companies/{first}/counterparties", clerk,
                       name="Dato Maisuradze", tax_id="01001011299")
    bill = live.post(f"/api/v1/companies/{first}/purchase-bills", clerk,
                     supplier_id=person["id"], date="2026-03-12", lines=[
                         {"description": "Design", "quantity": "1", "unit_price": "1500.00",
                          "vat_code": "out_of_scope", "account_code": "7490"}])
    live.post(f"/api/v1/companies/{first}/purchase-bills/{bill['id']}/post", clerk)
    browser.get(f"{live.url}/c/{first}/documents/{bill['id']}")
    css(browser, "#withholding-form")
    check_screen(browser, "bill-withholding", problems)
    css(browser, "#withholding-form button").click()
    wait(browser, lambda d: d.find_element(By.ID, "doc-due").text == "1 200,00 GEL")
    assert "300,00" in css(browser, "#doc-withheld").text
    # The supplier's debit note on the same bill: its form, checked like the others.
    css(browser, "#debit-note").click()
    assert css(browser, "#l0-account_code").get_attribute("value") == "7490"
    check_screen(browser, "debit-note-new", problems)
    assert problems == {}


def test_a_payroll_run_is_computed_and_posted(
        live: Live, browser: Any, superuser: dict[str, str]) -> None:
    from selenium.webdriver.common.by import By

    live.admin = superuser
    ids = books(live)
    first = ids["first"]
    clerk = live.token("clerk")
    for number, name, gross in (("01001011111", "ნინო ბერიძე", "1000.00"),
                                ("01001022222", "Giorgi Kapanadze", "2500.00")):
        live.post(f"/api/v1/companies/{first}/employees", clerk, personal_number=number,
                  full_name=name, gross_salary=gross, start_date="2026-01-01")
    problems: dict[str, Any] = {}
    sign_in(browser, live, "clerk")
    browser.get(f"{live.url}/c/{first}/payroll")
    css(browser, "a[href$='/payroll/new']")
    browser.get(f"{live.url}/c/{first}/payroll/new?period=2026-03")
    assert css(browser, "#l1-gross").get_attribute("value") in ("1000.00", "2500.00")
    check_screen(browser, "payroll-new", problems)
    css(browser, "#l0-gross").click()
    control(browser, "s")
    # 1,000.00 and 2,500.00: pension 2% 70,00, income tax 20% of the rest 686,00,
    # net 2 744,00 (Georgian format, the default language).
    wait(browser, lambda d: shown(d, "run-net") == "2 744,00")
    assert css(browser, "#run-income-tax").text == "686,00"
    assert css(browser, "#run-pension").text == "70,00"
    check_screen(browser, "payroll-run", problems)
    css(browser, "form[action$='/post'] button").click()
    wait(browser, lambda d: d.find_element(By.ID, "run-status").text == "გატარებული")
    # Posted: the salaries are paid from the bank, the payslips offered.
    check_screen(browser, "payroll-posted", problems)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#payslips a")) == 2
    css(browser, "#pay-form button").click()
    wait(browser, lambda d: d.find_element(By.ID, "run-status").text == "გადახდილი")
    assert problems == {}


def test_a_bank_line_is_split_over_two_invoices(
        live: Live, browser: Any, superuser: dict[str, str]) -> None:
    from bank_files import Entry, camt053
    from selenium.webdriver.common.by import By

    live.admin = superuser
    ids = books(live)
    first = ids["first"]
    clerk = live.token("clerk")
    customer = live.post(f"/api/v1/companies/{first}/counterparties", clerk,
                         name="შპს ეფსილონი", tax_id="204555555")
    invoices = []
    # 5 × 100.00 + 18% = 590.00 and 10 × 100.00 + 18% = 1,180.00; 1,770.00 is paid.
    for day, quantity in (("2026-03-02", "5"), ("2026-03-03", "10")):
        invoice = live.post(f"/api/v1/companies/{first}/sales-invoices", clerk,
                            customer_id=customer["id"], date=day, lines=[
                                {"description": "Goods", "quantity": quantity,
                                 "unit_price": "100.00", "vat_code": "vat18"}])
        live.post(f"/api/v1/companies/{first}/sales-invoices/{invoice['id']}/post", clerk)
        invoices.append(invoice)
    statement = camt053([Entry("1770.00", date(2026, 3, 6), "March goods", "S-1",
                               name="შპს ეფსილონი", tax_id="204555555")])
    r = live.api.post(f"/api/v1/companies/{first}/bank-statements?account_code=1210",
                      content=statement, headers=clerk)
    assert r.status_code in (200, 201), r.text
    problems: dict[str, Any] = {}
    sign_in(browser, live, "clerk")
    browser.get(f"{live.url}/c/{first}/bank")
    css(browser, "a.split-link").click()
    css(browser, "form[data-split]")
    check_screen(browser, "bank-split", problems)
    one, two = (css(browser, f"#a-{x['id']}") for x in invoices)
    one.clear()
    two.clear()
    wait(browser, lambda d: shown(d, "split-remainder") == "1 770,00")
    one.send_keys("590,00")
    # The remainder follows the typing, in the browser.
    wait(browser, lambda d: shown(d, "split-remainder") == "1 180,00")
    two.send_keys("1 180,00")
    wait(browser, lambda d: d.find_element(By.ID, "split-remainder").text == "0,00")
    assert "balanced" in css(browser, "#split-remainder").get_attribute("class")
    css(browser, "form[data-split] button.primary").click()
    wait(browser, lambda d: "/bank" in d.current_url and "split" not in d.current_url)
    assert browser.find_elements(By.CSS_SELECTOR, "tr.reconcile") == []
    for invoice in invoices:
        got = live.api.get(f"/api/v1/companies/{first}/sales-invoices/{invoice['id']}",
                           headers=clerk).json()
        assert got["status"] == "paid"
    assert problems == {}
