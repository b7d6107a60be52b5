"""Password hashing and tokens: the cryptography, kept in one small module.

* Passwords: Argon2id (argon2-cffi's defaults, RFC 9106's second recommended setting).
* Access tokens: JWT, HS256 with ``settings.secret_key``. Decoding pins the algorithm
  list, so ``alg: none`` and algorithm-confusion tokens are refused; ``type`` must be
  ``access``; ``exp``, ``iat``, ``sub``, ``jti`` are required.
* Refresh tokens: 256 random bits, opaque. Only their SHA-256 is stored: a token with
  that much entropy needs no slow hash, and a stolen table yields no usable token.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from uuid import UUID

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from saldo.identity.domain import NotAuthenticated
from saldo.kernel.ids import new_id

ALGORITHM = "HS256"
ISSUER = "saldo"
ACCESS = "access"

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so both cases take the same time.

    Made on first use, not at import: an Argon2 hash takes ~64 MiB and ~0.1 s, which every
    process importing this module (worker, CLI, benchmarks) would otherwise pay.
    """
    return _hasher.hash(secrets.token_urlsafe(16))


async def hash_password(password: str) -> str:
    # Argon2 is deliberately slow (tens of milliseconds): off the event loop.
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            matches = _hasher.verify(stored_hash or _dummy_hash(), password)
            return matches and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: UUID
    family_id: UUID | None
    jti: UUID
    expires_at: datetime


class TokenSigner:
    def __init__(self, secret_key: str, access_seconds: int) -> None:
        self._key = secret_key
        self.access_seconds = access_seconds

    def issue_access(
        self, user_id: UUID, family_id: UUID | None, now: datetime | None = None
    ) -> str:
        now = now or datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": str(user_id),
            "jti": str(new_id()),
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self.access_seconds)).timestamp()),
            "type": ACCESS,
        }
        if family_id is not None:
            claims["fid"] = str(family_id)
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify_access(self, token: str) -> AccessClaims:
        """The claims of a valid access token; anything else is :class:`NotAuthenticated`."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "jti", "type", "iss"]},
            )
            if claims["type"] != ACCESS:
                raise NotAuthenticated("The token is not an access token.")
            return AccessClaims(
                user_id=UUID(claims["sub"]),
                family_id=UUID(claims["fid"]) if claims.get("fid") else None,
                jti=UUID(claims["jti"]),
                expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("The access token has expired.") from None
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            raise NotAuthenticated("The access token is not valid.") from None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
