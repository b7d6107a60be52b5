"""IBANs: the one normalisation and check every context uses (billing's counterparties,
banking's accounts and statements, payroll's employees).

ISO 13616 with the ISO 7064 MOD 97-10 check; a Georgian IBAN is ``GE``, 2 check digits, a
2-letter bank code and 16 digits (../shared/reference/georgia.md §6).
"""

from __future__ import annotations

import re

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
