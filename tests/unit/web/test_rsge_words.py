"""The rs.ge screens' words: every state, match, decision and direction a page can show
has both languages (the templates build these keys, so the literal-key test cannot see
them)."""

from __future__ import annotations

from saldo.rsge.domain import WAYBILL_STATUS, EInvoiceStatus
from saldo.web import i18n


def test_every_state_the_rs_pages_show_has_both_languages() -> None:
    keys = [f"rs_state_{s.value}" for s in EInvoiceStatus] + ["rs_state_all"]
    keys += [f"rs_wb_{s}" for s in (*WAYBILL_STATUS.values(), "unknown")]
    keys += [f"rs_match_{m}" for m in ("exact", "amount", "ambiguous", "unmatched", "draft")]
    keys += [f"rs_decision_{d}" for d in ("confirmed", "rejected")]
    keys += [f"rs_direction_{d}" for d in ("outgoing", "incoming")]
    keys += ["rs_kind_correction", "rs_outgoing", "rs_incoming", "rs_credentials", "rs_ge"]
    for key in keys:
        english, georgian = i18n.t(key, "en"), i18n.t(key, "ka")
        assert english != key, key
        assert georgian != key, key
        assert english != georgian, key


def test_the_exchange_problems_read_as_sentences() -> None:
    for code in ("rs_unavailable", "rs_refused", "rs_credentials_missing",
                 "rs_credentials_unreadable", "rs_unknown_status", "e_invoice_not_found",
                 "rs_invoice_not_found", "tax_id_unknown", "rs_fill_both", "rs_reason_needed"):
        text = i18n.problem_text(code, "detail", "ka")
        assert text not in ("detail", code)
        assert i18n.problem_text(code, "detail", "en").endswith(".")
    assert i18n.t("rs_retry", "en", number="INV-2026-00007") == "Retry INV-2026-00007"
