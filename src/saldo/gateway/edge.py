"""The access-token check at the edge: an invalid token never reaches an upstream.

The identity context issues access tokens (HS256, ``SALDO_SECRET_KEY``; decision 0010);
the gateway checks the same things its services check before anything else: the
algorithm pinned, the signature, ``iss`` = saldo, ``type`` = access, and that ``exp``,
``iat``, ``sub`` and ``jti`` are present and ``exp`` is in the future. The services still
check the token themselves (and what only they know: a revoked session, membership).
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt

ALGORITHM, ISSUER, ACCESS = "HS256", "saldo", "access"


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: str


class Rejected(Exception):
    pass


class TokenCheck:
    def __init__(self, key: str) -> None:
        self._key = key

    def caller(self, authorization: str | None) -> Caller:
        if not authorization:
            raise Rejected("An access token is required (Authorization: Bearer …).")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Rejected("An access token is required (Authorization: Bearer …).")
        try:
            claims = jwt.decode(token.strip(), self._key, algorithms=[ALGORITHM],
                                issuer=ISSUER, options={"require": ["exp", "iat", "sub",
                                                                    "jti", "type", "iss"]})
        except jwt.ExpiredSignatureError:
            raise Rejected("The access token has expired.") from None
        except jwt.PyJWTError:
            raise Rejected("The access token is not valid.") from None
        if claims.get("type") != ACCESS:
            raise Rejected("The token is not an access token.")
        return Caller(str(claims["sub"]))
