"""Words and formats in Georgian and English.

Numbers and dates come from Babel's CLDR data (``ka_GE``: ``71 640,00`` with a
no-break space; ``en_GB``: ``71,640.00``), never formatted by hand. The pages' words
are the table below; an API problem's ``code`` becomes a sentence from it, and an
unknown code falls back to the problem's own detail (English)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_datetime, get_date_format
from babel.dates import parse_pattern as parse_date_pattern
from babel.numbers import parse_pattern

from saldo.kernel.money import display_amount
from saldo.web.domain import language

LOCALES = {"ka": "ka_GE", "en": "en_GB"}
_QUANTITY = "#,##0.####"

# Babel's own objects, parsed once: ``format_decimal``/``format_date`` parse the locale
# and the pattern again at every call, which was most of the time a report page with a
# few hundred amounts spent rendering (bench/web.py). The formatting is still Babel's.
_LOCALE = {lang: Locale.parse(name) for lang, name in LOCALES.items()}
_QUANTITY_PATTERN = parse_pattern(_QUANTITY)
_DATE_PATTERN = {lang: parse_date_pattern(str(get_date_format("medium", locale=locale)))
                 for lang, locale in _LOCALE.items()}


def money(value: Any, lang: str) -> str:
    """An amount in the language's format, two decimals (``71 640,00``)."""
    if value is None or value == "":
        return ""
    return display_amount(Decimal(str(value)), 2, language(lang))


def quantity(value: Any, lang: str) -> str:
    """A quantity in the language's format, as many decimals as it has (``2``, ``1,5``)."""
    if value is None or value == "":
        return ""
    return str(_QUANTITY_PATTERN.apply(Decimal(str(value)), _LOCALE[language(lang)]))


def day(value: dt.date | str | None, lang: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return _day(value, language(lang))


@lru_cache(maxsize=4096)
def _day(value: dt.date, lang: str) -> str:
    # A page shows the same few dates many times (an account card's month).
    return str(_DATE_PATTERN[lang].apply(value, _LOCALE[lang]))


def moment(value: dt.datetime | None, lang: str) -> str:
    if value is None:
        return ""
    return format_datetime(value, format="medium", locale=LOCALES[language(lang)])


#: key -> (English, Georgian)
MESSAGES: dict[str, tuple[str, str]] = {
    "app": ("Saldo", "სალდო"),
    "sign_in": ("Sign in", "შესვლა"),
    "sign_out": ("Sign out", "გასვლა"),
    "sign_out_everywhere": ("Sign out everywhere", "გასვლა ყველა მოწყობილობიდან"),
    "username": ("Username", "მომხმარებლის სახელი"),
    "password": ("Password", "პაროლი"),
    "language": ("Language", "ენა"),
    "company": ("Company", "კომპანია"),
    "companies": ("Companies", "კომპანიები"),
    "switch_company": ("Switch company", "კომპანიის შეცვლა"),
    "no_companies": ("You are not a member of any company yet.",
                     "თქვენ ჯერ არცერთი კომპანიის წევრი არ ხართ."),
    "dashboard": ("Dashboard", "მთავარი"),
    "chart": ("Chart of accounts", "ანგარიშთა გეგმა"),
    "journal": ("Journal", "ჟურნალი"),
    "new_entry": ("New entry", "ახალი გატარება"),
    "approvals": ("Approvals", "დასამტკიცებელი"),
    "periods": ("Periods", "პერიოდები"),
    "reports": ("Reports", "ანგარიშგება"),
    "users": ("Users and roles", "მომხმარებლები და როლები"),
    "cash": ("Cash and bank", "ფული და ბანკი"),
    "receivables": ("Receivables", "მოთხოვნები"),
    "payables": ("Payables", "ვალდებულებები"),
    "vat_due": ("VAT due", "გადასახდელი დღგ"),
    "deadlines": ("Next tax deadlines", "უახლოესი საგადასახადო ვადები"),
    "drafts_waiting": ("Drafts waiting for approval", "დასამტკიცებელი პროექტები"),
    "to_post": ("Approved, waiting to be posted", "დამტკიცებული, გასატარებელი"),
    "code": ("Code", "კოდი"),
    "name": ("Name", "დასახელება"),
    "type": ("Type", "ტიპი"),
    "active": ("Active", "აქტიური"),
    "yes": ("yes", "დიახ"),
    "no": ("no", "არა"),
    "date": ("Date", "თარიღი"),
    "number": ("No.", "№"),
    "description": ("Description", "აღწერა"),
    "reference": ("Reference", "საფუძველი"),
    "status": ("Status", "სტატუსი"),
    "total": ("Total", "სულ"),
    "account": ("Account", "ანგარიში"),
    "debit": ("Debit", "დებეტი"),
    "credit": ("Credit", "კრედიტი"),
    "difference": ("Difference", "სხვაობა"),
    "balance": ("Balance", "ნაშთი"),
    "from": ("From", "დან"),
    "to": ("To", "მდე"),
    "as_of": ("As of", "თარიღისთვის"),
    "filter": ("Filter", "გაფილტვრა"),
    "all": ("All", "ყველა"),
    "more": ("More", "მეტი"),
    "open": ("Open", "გახსნა"),
    "draft": ("draft", "პროექტი"),
    "approved": ("approved", "დამტკიცებული"),
    "posted": ("posted", "გატარებული"),
    "discarded": ("discarded", "გაუქმებული"),
    "closed": ("closed", "დახურული"),
    "locked": ("locked", "დაბლოკილი"),
    "approve": ("Approve", "დამტკიცება"),
    "post": ("Post", "გატარება"),
    "discard": ("Discard", "გაუქმება"),
    "reverse": ("Reverse", "შებრუნება"),
    "reason": ("Reason", "მიზეზი"),
    "edit": ("Edit", "რედაქტირება"),
    "close": ("Close", "დახურვა"),
    "reopen": ("Reopen", "ხელახლა გახსნა"),
    "lock": ("Lock", "დაბლოკვა"),
    "year": ("Year", "წელი"),
    "period": ("Period", "პერიოდი"),
    "history": ("History", "ისტორია"),
    "lines": ("Lines", "სტრიქონები"),
    "created_by": ("Entered by", "შეიყვანა"),
    "approved_by": ("Approved by", "დაამტკიცა"),
    "posted_by": ("Posted by", "გაატარა"),
    "nothing": ("Nothing here.", "აქ არაფერია."),
    "save_draft": ("Save draft (Ctrl+S)", "პროექტის შენახვა (Ctrl+S)"),
    "add_line": ("Add line", "სტრიქონის დამატება"),
    "remove_line": ("Remove line", "სტრიქონის წაშლა"),
    "shortcuts": ("Keyboard shortcuts", "კლავიატურის მალსახმობები"),
    "shortcuts_hint": ("Press ? for keyboard shortcuts", "დააჭირეთ ? მალსახმობებისთვის"),
    "saved": ("Saved.", "შენახულია."),
    "account_card": ("Account card", "ანგარიშის ბარათი"),
    "opening": ("Opening balance", "საწყისი ნაშთი"),
    "closing": ("Closing balance", "საბოლოო ნაშთი"),
    "download": ("Download", "ჩამოტვირთვა"),
    "show": ("Show", "ჩვენება"),
    "trial-balance": ("Trial balance", "საცდელი ბალანსი"),
    "balance-sheet": ("Financial position", "ფინანსური მდგომარეობა"),
    "profit-and-loss": ("Profit or loss", "მოგება ან ზარალი"),
    "cash-flow": ("Cash flows", "ფულადი ნაკადები"),
    "changes-in-equity": ("Changes in equity", "კაპიტალის ცვლილებები"),
    "general-ledger": ("General ledger", "მთავარი წიგნი"),
    "member": ("Member", "წევრი"),
    "role": ("Role", "როლი"),
    "add_member": ("Add member", "წევრის დამატება"),
    "invited": ("invited", "მოწვეული"),
    "documents": ("Documents", "დოკუმენტები"),
    "sales": ("Sales", "გაყიდვები"),
    "purchases": ("Purchases", "შესყიდვები"),
    "counterparty": ("Counterparty", "კონტრაგენტი"),
    "due_date": ("Due", "გადახდის ვადა"),
    "vat_return": ("VAT return", "დღგ-ს დეკლარაცია"),
    "payroll": ("Payroll", "ხელფასი"),
    "payment_date": ("Payment date", "გადახდის თარიღი"),
    "partly_paid": ("partly paid", "ნაწილობრივ გადახდილი"),
    "paid": ("paid", "გადახდილი"),
    "credited": ("credited", "დაკრედიტებული"),
    "sales_invoice": ("invoice", "ანგარიშ-ფაქტურა"),
    "credit_note": ("credit note", "კრედიტ-ნოტა"),
    "purchase_bill": ("bill", "შესყიდვის ანგარიში"),
    "supplier_credit_note": ("supplier credit note", "მომწოდებლის კრედიტ-ნოტა"),
    "supplier_debit_note": ("supplier debit note", "მომწოდებლის დებეტ-ნოტა"),
    "taxable_supplies": ("Taxable supplies", "დასაბეგრი მიწოდება"),
    "output_vat": ("Output VAT", "გადასახდელი დღგ"),
    "export_supplies": ("Export supplies", "ექსპორტი"),
    "exempt_with_credit": ("Exempt with credit", "ჩათვლის უფლებით გათავისუფლებული"),
    "exempt_supplies": ("Exempt supplies", "გათავისუფლებული მიწოდება"),
    "reverse_charge_base": ("Reverse charge: base", "უკუდაბეგვრა: ბაზა"),
    "reverse_charge_vat": ("Reverse charge: VAT", "უკუდაბეგვრა: დღგ"),
    "import_vat": ("Import VAT", "იმპორტის დღგ"),
    "purchases_base": ("Purchases: base", "შესყიდვები: ბაზა"),
    "input_vat": ("Input VAT", "ჩასათვლელი დღგ"),
    "payable": ("Payable", "გადასახდელი"),
    "vat": ("VAT", "დღგ"),
    "income_tax": ("Income tax", "საშემოსავლო გადასახადი"),
    "profit_tax": ("Profit tax", "მოგების გადასახადი"),
    "property_tax": ("Property tax", "ქონების გადასახადი"),
    "filed": ("Filed", "წარდგენილია"),
    "bank": ("Bank", "ბანკი"),
    "bank_accounts": ("Bank accounts", "საბანკო ანგარიშები"),
    "statement_lines": ("Statement lines", "ამონაწერის სტრიქონები"),
    "unreconciled": ("unreconciled", "შეუდარებელი"),
    "reconciled": ("reconciled", "შედარებული"),
    "amount": ("Amount", "თანხა"),
    "currency": ("Currency", "ვალუტა"),
    "change_role": ("Change role", "როლის შეცვლა"),
    "remove": ("Remove", "წაშლა"),
    "accountant": ("Accountant", "ბუღალტერი"),
    "chief_accountant": ("Chief accountant", "მთავარი ბუღალტერი"),
    "tax_specialist": ("Tax specialist", "საგადასახადო სპეციალისტი"),
    "auditor": ("Auditor", "აუდიტორი"),
    "admin": ("Administrator", "ადმინისტრატორი"),
    "error": ("Something went wrong", "დაფიქსირდა შეცდომა"),
    "back": ("Back", "უკან"),
    "skip": ("Skip to content", "შიგთავსზე გადასვლა"),
    "menu": ("Main menu", "მთავარი მენიუ"),
    "not_available": ("Not available yet", "ჯერ მიუწვდომელია"),
    "monthly_declarations": ("Monthly returns (income tax, VAT): the 15th",
                             "ყოველთვიური დეკლარაციები (საშემოსავლო, დღგ): 15 რიცხვამდე"),
    "new_invoice": ("New invoice", "ახალი ანგარიშ-ფაქტურა"),
    "customer": ("Customer", "მყიდველი"),
    "quantity": ("Quantity", "რაოდენობა"),
    "unit_price": ("Unit price", "ერთეულის ფასი"),
    "vat_code": ("VAT code", "დღგ-ს კოდი"),
    "net": ("Net", "თანხა დღგ-ს გარეშე"),
    "save_invoice": ("Save draft", "პროექტის შენახვა"),
    "vat_vat18": ("VAT 18%", "დღგ 18%"),
    "vat_export0": ("Export 0%", "ექსპორტი 0%"),
    "vat_exempt_credit": ("Exempt with credit", "ჩათვლის უფლებით გათავისუფლებული"),
    "vat_exempt": ("Exempt", "გათავისუფლებული"),
    "vat_out_of_scope": ("Not a VAT transaction", "არ არის დღგ-ით დასაბეგრი"),
    "vat_reverse_charge18": ("Reverse charge 18%", "უკუდაბეგვრა 18%"),
    "vat_import18": ("Import VAT 18%", "იმპორტის დღგ 18%"),
    "suggestions": ("Suggestions", "შეთავაზებები"),
    "no_suggestions": ("No suggested documents.", "შეთავაზებული დოკუმენტი არ არის."),
    "amount_due": ("due", "გადასახდელი"),
    "allocate": ("allocate", "გასანაწილებელი"),
    "score": ("score", "ქულა"),
    "reconcile": ("Reconcile", "შედარება"),
    "match_number": ("number matches", "ნომერი ემთხვევა"),
    "match_counterparty": ("same counterparty", "იგივე კონტრაგენტი"),
    "match_amount": ("same amount", "იგივე თანხა"),
    "match_date": ("in time", "ვადაში"),
    "reconcile_to": ("Reconcile to {number}", "შედარება: {number}"),
    "reconcile_to_account": ("Or to account", "ან ანგარიშზე"),
    "new_bill": ("New purchase bill", "ახალი შესყიდვის ანგარიში"),
    "supplier": ("Supplier", "მომწოდებელი"),
    "supplier_reference": ("Supplier's number", "მომწოდებლის ნომერი"),
    "creditable": ("Can still be credited", "შესაძლო დასაკრედიტებელი"),
    "form_keys_hint": ("Enter: next field; on the last line, a new line. Ctrl+S: save. "
                       "F1: the shortcuts.",
                       "Enter: შემდეგი ველი; ბოლო სტრიქონზე — ახალი სტრიქონი. Ctrl+S: შენახვა. "
                       "F1: მალსახმობები."),
    "key_enter_form": ("Next field; from a line's last field, the next line; on the last "
                       "line, a new line", "შემდეგი ველი; სტრიქონის ბოლო ველიდან — შემდეგი "
                       "სტრიქონი; ბოლო სტრიქონზე — ახალი სტრიქონი"),
    "key_save_form": ("Save (the form's main button)", "შენახვა (ფორმის მთავარი ღილაკი)"),
    "key_help": ("This list (? outside a text field)", "ეს სია (? ტექსტური ველის გარეთ)"),
    "new_credit_note": ("Credit note", "კრედიტ-ნოტა"),
    "new_credit_note_of": ("Credit note against {number}", "კრედიტ-ნოტა {number}-ზე"),
    "post_credit_note": ("Post the credit note", "კრედიტ-ნოტის გატარება"),
    "new_debit_note": ("Debit note", "დებეტ-ნოტა"),
    "new_debit_note_of": ("Supplier's debit note on {number}",
                          "მომწოდებლის დებეტ-ნოტა {number}-ზე"),
    "post_debit_note": ("Post the debit note", "დებეტ-ნოტის გატარება"),
    "amount_due_long": ("Amount due", "გადასახდელი თანხა"),
    "corrects": ("Corrects", "ასწორებს"),
    "notes": ("Credit and debit notes", "კრედიტ- და დებეტ-ნოტები"),
    "reversed": ("reversed", "შებრუნებული"),
    "new_payroll_run": ("New payroll run", "ახალი სახელფასო უწყისი"),
    "payroll_hint": ("An employee is found by personal number or name.",
                     "თანამშრომელი მოიძებნება პირადი ნომრით ან სახელით."),
    "calculate_run": ("Calculate and save draft", "გამოთვლა და პროექტის შენახვა"),
    "employee": ("Employee", "თანამშრომელი"),
    "gross": ("Gross", "დარიცხული"),
    "net_pay": ("Net pay", "ხელზე ასაღები"),
    "pension_employee": ("Pension (employee 2%)", "საპენსიო (დასაქმებული 2%)"),
    "pension_employer": ("Pension (employer 2%)", "საპენსიო (დამსაქმებელი 2%)"),
    "payroll_run": ("payroll", "ხელფასი"),
    "payments": ("Payments", "გადახდები"),
    "find_counterparty": ("Find by name or tax id", "ძებნა სახელით ან საიდ. კოდით"),
    "brought_forward": ("Brought forward", "გადმოტანილი ნაშთი"),
    "carried_forward": ("Carried forward", "გადასატანი ნაშთი"),
    "earlier_lines": ("Earlier lines", "წინა სტრიქონები"),
    "later_lines": ("Later lines", "მომდევნო სტრიქონები"),
    "page_of": ("page {page} of {pages}", "გვერდი {page} / {pages}"),
    "direction": ("Direction", "მიმართულება"),
    "settles": ("Settles", "ფარავს"),
    "advance": ("Advance", "ავანსი"),
    "money_in": ("in", "შემოსავალი"),
    "money_out": ("out", "გასავალი"),
    "employees": ("Employees", "თანამშრომლები"),
    "personal_number": ("Personal number", "პირადი ნომერი"),
    "start_date": ("Start", "დაწყება"),
    "end_date": ("End", "დასრულება"),
    "salary": ("Salary", "ხელფასი"),
    "withhold_tax": ("Withhold tax", "გადასახადის დაკავება"),
    "tax_withheld": ("Tax withheld at source", "წყაროსთან დაკავებული გადასახადი"),
    "withhold_hint": ("For a person or a non-resident: the tax is withheld from the bill's "
                      "total and owed to the budget; the bill's amount due drops to the net.",
                      "ფიზიკური პირის ან არარეზიდენტის შემთხვევაში გადასახადი იკავება "
                      "ანგარიშის ჯამიდან და ერიცხება ბიუჯეტს; გადასახდელი თანხა მცირდება."),
    "income_kind": ("Kind of income", "შემოსავლის სახე"),
    "wht_services_individual": ("Services of an individual (20%)",
                                "ფიზიკური პირის მომსახურება (20%)"),
    "wht_nonresident_services": ("Services of a non-resident (10%)",
                                 "არარეზიდენტის მომსახურება (10%)"),
    "wht_rent_individual": ("Rent from an individual (5%)", "ფიზიკური პირისგან იჯარა (5%)"),
    "wht_interest": ("Interest (5%)", "პროცენტი (5%)"),
    "wht_royalties": ("Royalties (5%)", "როიალტი (5%)"),
    "pay_salaries": ("Pay the salaries", "ხელფასის გადახდა"),
    "paid_from": ("Paid from", "გადახდის ანგარიში"),
    "salary_file": ("Salary transfers (CSV for the bank)",
                    "ხელფასის გადარიცხვები (CSV ბანკისთვის)"),
    "payslips": ("Payslips", "ხელფასის ფურცლები"),
    "payslip": ("Payslip", "ხელფასის ფურცელი"),
    "reverse_run_hint": ("A posted run can be reversed until it is paid.",
                         "გატარებული უწყისის შებრუნება შესაძლებელია გადახდამდე."),
    "split_line": ("Split over several documents", "რამდენიმე დოკუმენტზე გადანაწილება"),
    "split_hint": ("Type the amount each document receives; what is left stays visible "
                   "and must be allocated or kept as the counterparty's advance.",
                   "ჩაწერეთ თითოეულ დოკუმენტზე გასანაწილებელი თანხა; ნაშთი ჩანს და "
                   "უნდა გადანაწილდეს ან დარჩეს კონტრაგენტის ავანსად."),
    "open_documents": ("Open documents", "ღია დოკუმენტები"),
    "no_open_documents": ("No open documents of this direction.",
                          "ამ მიმართულების ღია დოკუმენტი არ არის."),
    "suggested": ("suggested", "შეთავაზებული"),
    "line_amount": ("Line", "სტრიქონი"),
    "allocated": ("Allocated", "განაწილებული"),
    "remainder": ("Not allocated", "გაუნაწილებელი"),
    "keep_advance": ("Keep what is not allocated as the counterparty's advance",
                     "გაუნაწილებელი თანხა დარჩეს კონტრაგენტის ავანსად"),
    "recalculate": ("Recalculate", "გადათვლა"),
    # Problems: the API's codes as sentences.
    "not_authenticated": ("Wrong username or password.",
                          "მომხმარებლის სახელი ან პაროლი არასწორია."),
    "session_expired": ("Your session has ended; sign in again.",
                        "სესია დასრულდა; გთხოვთ, თავიდან შეხვიდეთ."),
    "too_many_attempts": ("Too many failed sign-ins; wait a little and try again.",
                          "ძალიან ბევრი წარუმატებელი მცდელობა; ცოტა ხანში სცადეთ."),
    "csrf_failed": ("The form had expired; it has been shown again, please submit it once more.",
                    "ფორმას ვადა გაუვიდა; გთხოვთ, კიდევ ერთხელ გააგზავნოთ."),
    "unbalanced_transaction": ("Debits do not equal credits.", "დებეტი არ უდრის კრედიტს."),
    "unknown_account": ("There is no account {code} in the chart.",
                        "ანგარიში {code} ანგარიშთა გეგმაში არ არის."),
    "inactive_account": ("Account {code} is inactive.", "ანგარიში {code} არააქტიურია."),
    "non_postable_account": ("Account {code} is a header; choose one of its sub-accounts.",
                             "ანგარიში {code} სათაურია; აირჩიეთ მისი ქვეანგარიში."),
    "invalid_amount": ("This is not an amount Saldo accepts.", "ეს თანხა არ მიიღება."),
    "invalid_entry": ("This line or field is not valid.", "ეს სტრიქონი ან ველი არასწორია."),
    "too_few_entries": ("A transaction needs at least two lines.",
                        "გატარებას სჭირდება მინიმუმ ორი სტრიქონი."),
    "period_closed": ("The period of this date is closed.", "ამ თარიღის პერიოდი დახურულია."),
    "period_locked": ("The period is locked.", "პერიოდი დაბლოკილია."),
    "fiscal_year_unavailable": ("The date's fiscal year cannot take entries.",
                                "ამ თარიღის საფინანსო წელი გატარებებს არ იღებს."),
    "segregation_of_duties": ("Another person must approve what you entered.",
                              "თქვენ მიერ შეყვანილი გატარება სხვა პირმა უნდა დაამტკიცოს."),
    "invalid_state": ("This cannot be done in the transaction's current state.",
                      "გატარების ამჟამინდელ მდგომარეობაში ეს შეუძლებელია."),
    "permission_denied": ("Your role does not allow this.", "თქვენი როლი ამის უფლებას არ იძლევა."),
    "company_not_found": ("No such company.", "ასეთი კომპანია არ არსებობს."),
    "transaction_not_found": ("No such transaction.", "ასეთი გატარება არ არსებობს."),
    "account_not_found": ("No such account.", "ასეთი ანგარიში არ არსებობს."),
    "user_not_found": ("No such user.", "ასეთი მომხმარებელი არ არსებობს."),
    "already_member": ("That user is a member already.", "ეს მომხმარებელი უკვე წევრია."),
    "last_administrator": ("The company would be left without an administrator.",
                           "კომპანია ადმინისტრატორის გარეშე დარჩებოდა."),
    "own_role_unchangeable": ("You cannot change your own role.",
                              "საკუთარი როლის შეცვლა არ შეგიძლიათ."),
    "invalid_date": ("Not a date: write 2026-03-15, 15, +1 or -3.",
                     "არასწორი თარიღი: ჩაწერეთ 2026-03-15, 15, +1 ან -3."),
    "invalid_date_range": ("The start must not be after the end.",
                           "დასაწყისი დასასრულის შემდეგ ვერ იქნება."),
    "choose_customer": ("Choose a customer.", "აირჩიეთ მყიდველი."),
    "choose_account": ("Choose a suggested document or write an account code.",
                       "აირჩიეთ შეთავაზებული დოკუმენტი ან ჩაწერეთ ანგარიშის კოდი."),
    "invalid_number": ("Write a positive number, such as 2 or 50,00.",
                       "ჩაწერეთ დადებითი რიცხვი, მაგალითად 2 ან 50,00."),
    "invalid_vat_code": ("Choose a VAT code for sales.", "აირჩიეთ გაყიდვის დღგ-ს კოდი."),
    "vat_code_direction": ("This VAT code is for purchases only.",
                           "დღგ-ს ეს კოდი მხოლოდ შესყიდვებისთვისაა."),
    "invalid_line": ("This line is not valid: its amount must be above zero.",
                     "სტრიქონი არასწორია: თანხა ნულზე მეტი უნდა იყოს."),
    "due_before_date": ("The due date cannot be before the invoice's date.",
                        "გადახდის ვადა ანგარიშ-ფაქტურის თარიღამდე ვერ იქნება."),
    "no_lines": ("An invoice needs at least one line.",
                 "ანგარიშ-ფაქტურას სჭირდება მინიმუმ ერთი სტრიქონი."),
    "invalid_document": ("This field is not valid.", "ეს ველი არასწორია."),
    "counterparty_not_found": ("No such customer.", "ასეთი მყიდველი არ არსებობს."),
    "document_not_found": ("No such document.", "ასეთი დოკუმენტი არ არსებობს."),
    "not_approved": ("Another person must approve this document before it is posted.",
                     "გატარებამდე ეს დოკუმენტი სხვა პირმა უნდა დაამტკიცოს."),
    "rate_not_found": ("There is no official exchange rate for this date.",
                       "ამ თარიღისთვის ოფიციალური გაცვლითი კურსი არ არის."),
    "already_reconciled": ("The line is reconciled already.", "სტრიქონი უკვე შედარებულია."),
    "invalid_reconciliation": ("This reconciliation is not possible.",
                               "ასეთი შედარება შეუძლებელია."),
    "over_allocation": ("More than the amount due or the line's amount.",
                        "თანხა აღემატება გადასახდელს ან სტრიქონის თანხას."),
    "allocation_mismatch": ("The amounts do not add up to the line's amount.",
                            "თანხები არ ემთხვევა სტრიქონის თანხას."),
    "bank_line_not_found": ("No such statement line.", "ასეთი ამონაწერის სტრიქონი არ არსებობს."),
    "documents_unavailable": ("There are no documents to reconcile to; choose an account.",
                              "შესადარებელი დოკუმენტები არ არის; აირჩიეთ ანგარიში."),
    "choose_supplier": ("Choose a supplier.", "აირჩიეთ მომწოდებელი."),
    "choose_line_account": ("Write the account this line is booked to (code or name).",
                            "ჩაწერეთ ანგარიში, რომელზეც სტრიქონი გატარდება (კოდი ან სახელი)."),
    "credit_before_invoice": ("A credit note cannot be dated before its document.",
                              "კრედიტ-ნოტა დოკუმენტზე ადრე ვერ დათარიღდება."),
    "credit_exceeds_invoice": ("The credit note's {total} is more than the {remaining} that "
                               "remains of the document.",
                               "კრედიტ-ნოტის თანხა {total} აღემატება დოკუმენტის დარჩენილ "
                               "{remaining}-ს."),
    "duplicate_supplier_reference": ("This supplier's bill {supplier_reference} is entered "
                                     "already.",
                                     "მომწოდებლის ანგარიში {supplier_reference} უკვე "
                                     "შეყვანილია."),
    "choose_employee": ("Choose an employee: a personal number or a name only one has.",
                        "აირჩიეთ თანამშრომელი: პირადი ნომერი ან უნიკალური სახელი."),
    "employee_twice": ("This employee is in the run already.",
                       "ეს თანამშრომელი უწყისში უკვე არის."),
    "no_employees": ("A payroll run needs at least one employee.",
                     "სახელფასო უწყისს სჭირდება მინიმუმ ერთი თანამშრომელი."),
    "invalid_period": ("Not a month: write it as 2026-03.", "არასწორი თვე: ჩაწერეთ 2026-03."),
    "payroll_run_exists": ("This month has a payroll run already; discard or reverse it first.",
                           "ამ თვეს სახელფასო უწყისი უკვე აქვს; ჯერ გააუქმეთ ან შეაბრუნეთ."),
    "negative_gross": ("The gross cannot be negative.", "დარიცხული თანხა უარყოფითი ვერ იქნება."),
    "invalid_payroll_run": ("This payroll run is not valid.", "სახელფასო უწყისი არასწორია."),
    "already_paid": ("This payroll run is paid already.", "ეს უწყისი უკვე გადახდილია."),
    "payroll_run_not_found": ("No such payroll run.", "ასეთი სახელფასო უწყისი არ არსებობს."),
    "remainder_unallocated": ("{amount} of the line is not allocated: allocate it, or keep it "
                              "as the counterparty's advance.",
                              "სტრიქონის {amount} არ არის განაწილებული: გაანაწილეთ ან "
                              "დატოვეთ კონტრაგენტის ავანსად."),
    "no_allocations": ("Allocate the line to at least one document.",
                       "გაანაწილეთ სტრიქონი მინიმუმ ერთ დოკუმენტზე."),
    "validation_failed": ("Some fields are not valid.", "ზოგიერთი ველი არასწორია."),
}


def t(key: str, lang: str, **values: Any) -> str:
    """The message ``key`` in ``lang`` (the key itself when there is none)."""
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    text = pair[1] if language(lang) == "ka" else pair[0]
    return text.format(**values) if values else text


def problem_text(code: str | None, detail: str, lang: str,
                 data: dict[str, Any] | None = None) -> str:
    """An API problem as a sentence in ``lang``: its code's message, else its detail."""
    if code and code in MESSAGES:
        try:
            return t(code, lang, **{k: v for k, v in (data or {}).items()
                                    if isinstance(v, str)})
        except (KeyError, IndexError):
            return t(code, lang, code="") if "{code}" in MESSAGES[code][0] else detail
    return detail


def client_messages(lang: str) -> dict[str, str]:
    """The words the entry grid's script shows, in ``lang`` (sent as a JSON data block)."""
    keys = ("debit", "credit", "difference", "account", "description", "remove_line",
            "saved", "shortcuts", "validation_failed", "invalid_date", "total",
            *(k for k in MESSAGES if k.endswith(("_account", "_transaction", "_entries")))
            , "invalid_amount", "invalid_entry", "period_closed", "fiscal_year_unavailable",
            "csrf_failed", "session_expired", "permission_denied")
    return {k: MESSAGES[k][1 if language(lang) == "ka" else 0] for k in dict.fromkeys(keys)}


# The Revenue Service (rs.ge) screens' words (saldo.web.rsge_pages, decision 0064), and
# the exchange's problem codes as sentences; a block of their own at the end of the file.
MESSAGES.update({
    "rs_ge": ("Revenue Service", "შემოსავლების სამსახური"),
    "rs_outgoing": ("Outgoing e-invoices", "გაცემული ელ. ანგარიშ-ფაქტურები"),
    "rs_incoming": ("Incoming e-invoices", "მიღებული ელ. ანგარიშ-ფაქტურები"),
    "rs_credentials": ("Service user", "სერვისის მომხმარებელი"),
    "rs_sections": ("Revenue Service sections", "შემოსავლების სამსახურის განყოფილებები"),
    "rs_waybills": ("Waybills", "ზედნადებები"),
    "rs_state_all": ("All", "ყველა"),
    "rs_state_queued": ("Queued", "რიგშია"),
    "rs_state_sent": ("Sent", "გაგზავნილია"),
    "rs_state_confirmed": ("Confirmed", "დადასტურებულია"),
    "rs_state_rejected": ("Rejected", "უარყოფილია"),
    "rs_state_failed": ("Failed", "ვერ გაიგზავნა"),
    "rs_invoice": ("Invoice", "ანგარიშ-ფაქტურა"),
    "rs_kind_invoice": ("Invoice", "ანგარიშ-ფაქტურა"),
    "rs_kind_correction": ("Correction", "კორექტირება"),
    "rs_number_on_rs": ("Series and number on rs.ge", "სერია და ნომერი rs.ge-ზე"),
    "rs_attempts": ("Attempts", "მცდელობები"),
    "rs_last_error": ("Last error", "ბოლო შეცდომა"),
    "rs_next_attempt": ("Next attempt", "შემდეგი მცდელობა"),
    "rs_updated": ("Updated", "განახლდა"),
    "rs_retry": ("Retry {number}", "ხელახლა გაგზავნა: {number}"),
    "rs_retried": ("The e-invoice is queued again.", "ელ. ანგარიშ-ფაქტურა ისევ რიგშია."),
    "rs_none": ("Nothing here.", "აქ არაფერია."),
    "rs_direction": ("Direction", "მიმართულება"),
    "rs_direction_outgoing": ("Outgoing", "გაცემული"),
    "rs_direction_incoming": ("Incoming", "მიღებული"),
    "rs_waybill_number": ("Waybill number", "ზედნადების ნომერი"),
    "rs_buyer": ("Buyer", "მყიდველი"),
    "rs_route": ("From → to", "საიდან → სად"),
    "rs_wb_saved": ("Saved", "შენახული"),
    "rs_wb_active": ("Active", "აქტიური"),
    "rs_wb_closed": ("Closed", "დასრულებული"),
    "rs_wb_deleted": ("Deleted", "წაშლილი"),
    "rs_wb_cancelled": ("Cancelled", "გაუქმებული"),
    "rs_wb_sent_to_transporter": ("With the carrier", "გადაეცა გადამზიდავს"),
    "rs_wb_unknown": ("Unknown", "უცნობი"),
    "rs_wb_activate": ("Activate", "გააქტიურება"),
    "rs_wb_close": ("Close", "დასრულება"),
    "rs_wb_confirm": ("Confirm", "დადასტურება"),
    "rs_wb_reject": ("Reject", "უარყოფა"),
    "rs_waybill_done": ("The waybill is updated on rs.ge.", "ზედნადები განახლდა rs.ge-ზე."),
    "rs_sync": ("Fetch from rs.ge", "rs.ge-დან წამოღება"),
    "rs_last_sync": ("Last fetched", "ბოლოს წამოღებულია"),
    "rs_never": ("never", "არასდროს"),
    "rs_synced": ("{invoices} e-invoices fetched, {matched} matched to bills, {waybills} "
                  "waybills.",
                  "წამოღებულია {invoices} ელ. ანგარიშ-ფაქტურა, შესყიდვის ანგარიშთან "
                  "შედარებულია {matched}, ზედნადები: {waybills}."),
    "rs_findings": ("Rows rs.ge sent that could not be read", "rs.ge-ს წაუკითხავი სტრიქონები"),
    "rs_supplier": ("Supplier", "მომწოდებელი"),
    "rs_vat_held": ("VAT awaiting confirmation", "დღგ დადასტურების მოლოდინში"),
    "rs_match": ("Bill", "შესყიდვის ანგარიში"),
    "rs_match_exact": ("matched", "შედარებულია"),
    "rs_match_amount": ("matched by amount", "შედარებულია თანხით"),
    "rs_match_ambiguous": ("several bills fit", "რამდენიმე ანგარიში ემთხვევა"),
    "rs_match_unmatched": ("no bill", "ანგარიში არ არის"),
    "rs_match_draft": ("draft bill", "ანგარიშის პროექტი"),
    "rs_decision": ("Your decision", "თქვენი გადაწყვეტილება"),
    "rs_decision_confirmed": ("confirmed", "დადასტურებული"),
    "rs_decision_rejected": ("rejected", "უარყოფილი"),
    "rs_draft_bill": ("Make a draft bill", "შესყიდვის ანგარიშის პროექტის შექმნა"),
    "rs_drafted": ("A draft bill was made; finish it under Documents.",
                   "შეიქმნა შესყიდვის ანგარიშის პროექტი; დაასრულეთ დოკუმენტებში."),
    "rs_confirm": ("Confirm on rs.ge", "დადასტურება rs.ge-ზე"),
    "rs_reject": ("Reject on rs.ge", "უარყოფა rs.ge-ზე"),
    "rs_reason": ("Reason", "მიზეზი"),
    "rs_confirmed_msg": ("Confirmed on rs.ge.", "დადასტურებულია rs.ge-ზე."),
    "rs_rejected_msg": ("Rejected on rs.ge.", "უარყოფილია rs.ge-ზე."),
    "rs_service_user": ("Service user name", "სერვისის მომხმარებლის სახელი"),
    "rs_service_password": ("Service user password", "სერვისის მომხმარებლის პაროლი"),
    "rs_password_hint": ("Stored encrypted; never shown again. Type it anew to change it.",
                         "ინახება დაშიფრული; აღარასდროს გამოჩნდება. შესაცვლელად ხელახლა "
                         "აკრიფეთ."),
    "rs_configured": ("A service user is set: {user}.", "სერვისის მომხმარებელი: {user}."),
    "rs_not_configured": ("No service user is set: nothing is sent to rs.ge.",
                          "სერვისის მომხმარებელი არ არის: rs.ge-ზე არაფერი იგზავნება."),
    "rs_save_credentials": ("Save the service user", "სერვისის მომხმარებლის შენახვა"),
    "rs_saved": ("The service user is saved.", "სერვისის მომხმარებელი შენახულია."),
    "rs_setup_hint": ("Create the service user on rs.ge for Saldo's IP address, then enter it "
                      "here (docs/rs-ge.md).",
                      "შექმენით სერვისის მომხმარებელი rs.ge-ზე Saldo-ს IP მისამართისთვის და "
                      "შეიყვანეთ აქ (docs/rs-ge.md)."),
    "rs_fill_both": ("Enter both the user name and the password.",
                     "შეიყვანეთ მომხმარებლის სახელიც და პაროლიც."),
    "rs_reason_needed": ("A rejection needs a reason.", "უარყოფას სჭირდება მიზეზი."),
    # Problem codes of the rs.ge context, as sentences (problem_text).
    "rs_credentials_missing": ("The company has no rs.ge service user: set it first.",
                               "კომპანიას არ აქვს rs.ge-ის სერვისის მომხმარებელი: ჯერ ის "
                               "დააყენეთ."),
    "rs_credentials_unreadable": ("The stored rs.ge password cannot be read: set the service "
                                  "user again.",
                                  "შენახული rs.ge-ის პაროლი ვერ იკითხება: სერვისის "
                                  "მომხმარებელი თავიდან დააყენეთ."),
    "rs_unavailable": ("rs.ge did not answer; nothing was lost, try again later.",
                       "rs.ge-მ არ უპასუხა; არაფერი დაკარგულა, სცადეთ მოგვიანებით."),
    "rs_refused": ("rs.ge refused the request.", "rs.ge-მ მოთხოვნა უარყო."),
    "rs_unknown_status": ("rs.ge answered with a status Saldo does not know.",
                          "rs.ge-მ უცნობი სტატუსით უპასუხა."),
    "e_invoice_not_found": ("This invoice was never sent to rs.ge.",
                            "ეს ანგარიშ-ფაქტურა rs.ge-ზე არ გაგზავნილა."),
    "tax_id_unknown": ("The Revenue Service knows no company with this tax id: check the "
                       "number.",
                       "შემოსავლების სამსახურში ამ საიდენტიფიკაციო კოდით კომპანია არ "
                       "არის: შეამოწმეთ ნომერი."),
    "waybill_not_found": ("No such waybill.", "ასეთი ზედნადები არ არის."),
    "rs_invoice_not_found": ("No such incoming e-invoice; fetch from rs.ge first.",
                             "ასეთი მიღებული ელ. ანგარიშ-ფაქტურა არ არის; ჯერ წამოიღეთ "
                             "rs.ge-დან."),
})
