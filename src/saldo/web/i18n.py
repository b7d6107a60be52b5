"""Words and formats in Georgian and English.

Numbers and dates come from Babel's CLDR data (``ka_GE``: ``71 640,00`` with a
no-break space; ``en_GB``: ``71,640.00``), never formatted by hand. The pages' words
are the table below; an API problem's ``code`` becomes a sentence from it, and an
unknown code falls back to the problem's own detail (English)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from saldo.web.domain import language

LOCALES = {"ka": "ka_GE", "en": "en_GB"}
_AMOUNT = "#,##0.00"


def money(value: Any, lang: str) -> str:
    """An amount in the language's format, two decimals (``71 640,00``)."""
    if value is None or value == "":
        return ""
    return format_decimal(Decimal(str(value)), format=_AMOUNT, locale=LOCALES[language(lang)])


def day(value: dt.date | str | None, lang: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return format_date(value, format="medium", locale=LOCALES[language(lang)])


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
