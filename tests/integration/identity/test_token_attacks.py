"""Attacks on tokens, each refused with 401 (and a problem body, never a hint of why)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from identity_harness import SECRET, Harness

from saldo.identity.security import TokenSigner

pytestmark = pytest.mark.integration


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def _claims(h: Harness, username: str = "giorgi") -> tuple[str, dict[str, object]]:
    await h.user(username)
    token = await h.token(username)
    return token, jwt.decode(token, SECRET, algorithms=["HS256"], issuer="saldo")


async def _me(h: Harness, token: str) -> int:
    response = await h.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 401:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
    return response.status_code


async def test_a_genuine_token_works(h: Harness) -> None:
    token, claims = await _claims(h)
    assert await _me(h, token) == 200
    assert claims["type"] == "access"
    assert {"sub", "jti", "iat", "exp", "type"} <= claims.keys()
    assert claims["exp"] - claims["iat"] == 15 * 60  # type: ignore[operator]


async def test_no_token_and_a_garbage_token(h: Harness) -> None:
    assert (await h.client.get("/api/v1/me")).status_code == 401
    assert await _me(h, "not-a-jwt") == 401
    response = await h.client.get("/api/v1/me", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert response.status_code == 401


async def test_alg_none_is_refused(h: Harness) -> None:
    _, claims = await _claims(h)
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    assert await _me(h, unsigned) == 401


async def test_a_token_signed_with_another_key_is_refused(h: Harness) -> None:
    _, claims = await _claims(h)
    forged = jwt.encode(claims, "some-other-key-of-a-decent-length-0123456789", algorithm="HS256")
    assert await _me(h, forged) == 401


async def test_another_algorithm_is_refused_even_with_the_right_key(h: Harness) -> None:
    _, claims = await _claims(h)
    assert await _me(h, jwt.encode(claims, SECRET, algorithm="HS512")) == 401


async def test_an_expired_token_is_refused(h: Harness) -> None:
    token, claims = await _claims(h)
    signer = TokenSigner(SECRET, 60)
    old = signer.issue_access(h.container.identity.signer.verify_access(token).user_id,
                              h.container.identity.signer.verify_access(token).family_id,
                              now=datetime.now(UTC) - timedelta(minutes=2))
    assert await _me(h, old) == 401
    response = await h.client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"})
    assert response.json()["code"] == "not_authenticated"
    # The same user and family, only the expiry differs: the fresh token still works.
    assert await _me(h, token) == 200
    assert jwt.decode(old, SECRET, algorithms=["HS256"],
                      options={"verify_exp": False})["fid"] == claims["fid"]


async def test_a_refresh_token_is_not_an_access_token(h: Harness) -> None:
    await h.user("giorgi")
    pair = await h.login("giorgi")
    assert await _me(h, pair["refresh_token"]) == 401
    # Nor is a correctly signed JWT whose type is not "access".
    _, claims = await _claims(h, "tamar")
    assert await _me(h, jwt.encode({**claims, "type": "refresh"}, SECRET, algorithm="HS256")) == 401


@pytest.mark.parametrize("field", ["exp", "jti"])
async def test_a_tampered_payload_is_refused(h: Harness, field: str) -> None:
    """Only the signature protects ``exp`` and ``jti``: ``sub`` and ``fid`` stay those of a
    live session, so nothing but the signature check can refuse the token."""
    token, claims = await _claims(h)
    header, _, signature = token.split(".")
    changed = ({"exp": int(claims["exp"]) + 24 * 3600} if field == "exp"  # type: ignore[call-overload]
               else {"jti": "01a1ff60-0000-7000-8000-000000000000"})
    tampered = f"{header}.{_b64({**claims, **changed})}.{signature}"
    assert tampered != token
    assert await _me(h, token) == 200  # the genuine token of that session works
    assert await _me(h, tampered) == 401


async def test_a_token_of_a_deactivated_user_is_refused(h: Harness) -> None:
    token, _ = await _claims(h)
    async with h.container.db.transaction() as conn:
        await conn.execute("UPDATE users SET is_active = false WHERE username = 'giorgi'")
    assert await _me(h, token) == 401


async def test_refresh_rotates_and_the_old_token_dies(h: Harness) -> None:
    await h.user("giorgi")
    first = await h.login("giorgi")
    second = (await h.client.post("/api/v1/auth/refresh",
                                  json={"refresh_token": first["refresh_token"]})).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert await _me(h, second["access_token"]) == 200
    third = await h.client.post("/api/v1/auth/refresh",
                                json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(h: Harness) -> None:
    await h.user("giorgi")
    stolen = await h.login("giorgi")
    newest = (await h.client.post("/api/v1/auth/refresh",
                                  json={"refresh_token": stolen["refresh_token"]})).json()
    # The thief replays the token the owner already rotated.
    replay = await h.client.post("/api/v1/auth/refresh",
                                 json={"refresh_token": stolen["refresh_token"]})
    assert replay.status_code == 401
    # Now nothing of that family works: not the newest refresh token, nor its access token.
    after = await h.client.post("/api/v1/auth/refresh",
                                json={"refresh_token": newest["refresh_token"]})
    assert after.status_code == 401
    assert await _me(h, newest["access_token"]) == 401
    # Another login (another family) is unaffected.
    assert await _me(h, await h.token("giorgi")) == 200


async def test_logout_kills_the_refresh_token_and_its_access_tokens(h: Harness) -> None:
    await h.user("giorgi")
    pair = await h.login("giorgi")
    response = await h.client.post("/api/v1/auth/logout",
                                   json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 204
    again = await h.client.post("/api/v1/auth/refresh",
                                json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401
    assert await _me(h, pair["access_token"]) == 401
    # Logging out with an unknown token says nothing either way.
    unknown = await h.client.post("/api/v1/auth/logout", json={"refresh_token": "nope"})
    assert unknown.status_code == 204


async def test_two_concurrent_refreshes_cannot_both_win(h: Harness) -> None:
    import asyncio

    await h.user("giorgi")
    pair = await h.login("giorgi")
    results = await asyncio.gather(*[
        h.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        for _ in range(2)])
    assert sorted(r.status_code for r in results) == [200, 401]
    # Strict: the loser looked like a replay, so the family is revoked -- the winner's
    # new tokens die with it.
    winner = next(r for r in results if r.status_code == 200).json()
    again = await h.client.post("/api/v1/auth/refresh",
                                json={"refresh_token": winner["refresh_token"]})
    assert again.status_code == 401
    assert await _me(h, winner["access_token"]) == 401


async def test_an_unknown_or_expired_refresh_token_is_refused(h: Harness) -> None:
    await h.user("giorgi")
    pair = await h.login("giorgi")
    async with h.container.db.transaction() as conn:
        await conn.execute("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
    for token in (pair["refresh_token"], "x" * 43):
        response = await h.client.post("/api/v1/auth/refresh", json={"refresh_token": token})
        assert response.status_code == 401
