"""The service users' passwords, encrypted at rest (issue 15 item 7).

AES-256-GCM from ``cryptography`` (a maintained library; nothing hand-rolled): a random
96-bit nonce per encryption, and the company's id as associated data, so a ciphertext
copied into another company's row does not decrypt. Stored as ``nonce || ciphertext``.
"""

from __future__ import annotations

import os
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from saldo.kernel.errors import RuleViolation


class CredentialsUnreadable(RuleViolation):
    code = "rs_credentials_unreadable"
    title = "The stored rs.ge password cannot be decrypted"


class Cipher:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "Cipher(***)"

    def encrypt(self, company_id: UUID, secret: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, secret.encode(), company_id.bytes)

    def decrypt(self, company_id: UUID, blob: bytes) -> str:
        try:
            return self._aead.decrypt(blob[:12], blob[12:], company_id.bytes).decode()
        except (InvalidTag, ValueError):
            raise CredentialsUnreadable(
                "The stored rs.ge password cannot be decrypted with this SALDO_RS_"
                "CREDENTIALS_KEY; set the service user again (PUT rs-credentials).") from None
