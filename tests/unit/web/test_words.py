"""Every word a page asks for is in both languages, and amounts and quantities follow the
language's CLDR format."""

from __future__ import annotations

import re
from decimal import Decimal
from importlib import resources

from saldo.web import i18n
from saldo.web.api import SALES_VAT_CODES

_KEY = re.compile(r"""\bt\('([a-z_\-0-9]+)'\s*[,)]""")


def test_every_literal_key_of_the_templates_has_both_languages():
    templates = resources.files("saldo.web").joinpath("templates")
    used: set[str] = set()
    for entry in templates.iterdir():
        if entry.name.endswith(".html"):
            used |= set(_KEY.findall(entry.read_text("utf-8")))
    assert {"new_invoice", "reconcile_to", "unit_price"} <= used
    assert used - set(i18n.MESSAGES) == set()
    for en, ka in i18n.MESSAGES.values():
        assert en
        assert ka


def test_the_sales_vat_codes_and_match_reasons_have_labels():
    for reason in ("number", "counterparty", "amount", "date"):
        assert i18n.t(f"match_{reason}", "ka") != f"match_{reason}"
    for code in SALES_VAT_CODES:
        assert i18n.t(f"vat_{code}", "ka") != f"vat_{code}"
        assert i18n.t(f"vat_{code}", "en") != f"vat_{code}"


def test_quantities_and_amounts_in_both_formats():
    # 2 × 50.00 = 100.00; 18% of it 18.00; total 118.00; 1,180.00 with a grouping.
    assert i18n.money(Decimal("118.00"), "ka") == "118,00"
    assert i18n.money(Decimal("1180.00"), "en") == "1,180.00"
    assert i18n.money(Decimal("1180.00"), "ka") == "1\u00a0180,00"
    assert i18n.quantity(Decimal("2.0000"), "en") == "2"
    assert i18n.quantity(Decimal("1.5000"), "ka") == "1,5"
