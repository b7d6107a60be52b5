"""The web's rules, without I/O: CSRF tokens bound to a session, the languages, and
where an API problem's ``field`` points in the journal-entry form."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from uuid import UUID

#: The languages the pages speak; the first is the default (Georgian accountants).
LANGUAGES = ("ka", "en")
DEFAULT_LANGUAGE = "ka"

SESSION_COOKIE = "saldo_session"  # the refresh token: the session itself
ACCESS_COOKIE = "saldo_access"  # the short-lived access token of the same family
PRE_SESSION_COOKIE = "saldo_pre"  # the sign-in form's CSRF secret, before any session
LANGUAGE_COOKIE = "saldo_lang"
COMPANY_COOKIE = "saldo_company"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def language(value: str | None) -> str:
    """A supported language, else the default."""
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def csrf_token(key: str, family_id: UUID) -> str:
    """The CSRF token of a session: an HMAC of its refresh-token family under the
    server's key. A new sign-in is a new family, so a token never outlives its session
    and one planted before sign-in is worthless (synchroniser token, bound to the session;
    OWASP CSRF Prevention Cheat Sheet)."""
    return hmac.new(key.encode(), b"csrf:" + family_id.bytes, hashlib.sha256).hexdigest()


def csrf_ok(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected, given)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class FieldRef:
    """Where a problem's ``field`` points: a header field, or a line's cell."""

    name: str
    line: int | None = None


_LINE_FIELD = re.compile(r"entries\[(\d+)\](?:\.(\w+))?")


def field_ref(field: str | None) -> FieldRef | None:
    """``entries[2].debit`` → line 2's debit; ``date`` → the date field."""
    if not field:
        return None
    found = _LINE_FIELD.fullmatch(field)
    if found:
        return FieldRef(found.group(2) or "line", int(found.group(1)))
    return FieldRef(field)


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a local path only (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
