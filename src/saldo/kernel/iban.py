"""IBANs: the one normalisation and check every context uses (billing's counterparties,
banking's accounts and statements, payroll's employees).

ISO 13616 with the ISO 7064 MOD 97-10 check; a Georgian IBAN is ``GE``, 2 check digits, a
2-letter bank code and 16 digits (../shared/reference/georgia.md §6).
"""

from __future__ import annotations

import re
from typing import NamedTuple

_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$", re.ASCII)
GEORGIAN = re.compile(r"^GE[0-9]{2}[A-Z]{2}[0-9]{16}$", re.ASCII)


def normalise(text: str) -> str:
    """Without blanks, upper case (``GE29 nb00 ...`` -> ``GE29NB00...``)."""
    return re.sub(r"\s+", "", text).upper()


def problem(iban: str) -> str | None:
    """Why the normalised ``iban`` is not a valid IBAN, or None when it is."""
    if not _SHAPE.fullmatch(iban):
        return "not an IBAN (a Georgian one is GE + 2 digits + a 2-letter bank code + 16 digits)"
    if iban.startswith("GE") and not GEORGIAN.fullmatch(iban):
        return ("not a Georgian IBAN: GE, 2 check digits, a 2-letter bank code and 16 digits"
                " (22 characters)")
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        return "its check digits are wrong (ISO 7064 MOD 97-10)"
    return None


class Bank(NamedTuple):
    code: str
    bic: str
    name: str


#: IBAN bank code -> (BIC, bank): georgia.md §6, "IBAN bank codes -> BIC" (NBG's list and a
#: second independent list that agrees). FG is Credo Bank's temporary code.
GEORGIAN_BANKS: dict[str, tuple[str, str]] = {
    "BG": ("BAGAGE22", "Bank of Georgia"), "TB": ("TBCBGE22", "TBC Bank"),
    "LB": ("LBRTGE22", "Liberty Bank"), "BS": ("CBASGE22", "Basisbank"),
    "CD": ("JSCRGE22", "Credo Bank"), "FG": ("FGEOGE22", "Credo Bank"),
    "PC": ("MIBGGE22", "ProCredit Bank"), "CR": ("CRTUGE22", "Cartu Bank"),
    "KS": ("TEBAGE22", "Terabank"), "HB": ("HABGGE22", "Halyk Bank Georgia"),
    "BT": ("DISNGE22", "Silk Road Bank"), "VT": ("UGEBGE22", "VTB Bank Georgia"),
    "ZB": ("TCZBGE22", "Ziraat Bank Georgia"), "PB": ("PAHAGE22", "PASHA Bank Georgia"),
    "IS": ("ISBKGE22", "Isbank Georgia"), "PS": ("PSRAGE22", "Paysera Bank Georgia"),
    "HS": ("HAJSGE22", "Hash Bank"), "PV": ("PAVEGE22", "Pave Bank Georgia"),
    "MB": ("MOMBGE22", "MBC"), "BC": ("BCRYGE22", "Crystal"),
    "TR": ("TRESGE22", "State Treasury"), "NB": ("BNLNGE22", "National Bank of Georgia"),
}


def bank_code(iban: str | None) -> str | None:
    """The 2-letter bank code of a normalised Georgian IBAN (known or not), else None."""
    if not iban or not GEORGIAN.fullmatch(iban):
        return None
    return iban[4:6]


def bank(iban: str | None) -> Bank | None:
    """The bank of a normalised Georgian IBAN, or None (foreign IBAN, unknown code)."""
    code = bank_code(iban)
    if code is None or code not in GEORGIAN_BANKS:
        return None
    bic, name = GEORGIAN_BANKS[code]
    return Bank(code, bic, name)
