"""Bearer tokens: only intact RS256 tokens of ours, for accounts and clients that still exist."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.api.world import ISS, World
from trackside.accounts import clients


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict, dict]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


async def _me(world: World, token: str):
    return await world.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})


async def test_a_valid_token_works(world: World) -> None:
    response = await _me(world, world.tokens["viewer"])
    assert response.status_code == 200
    assert response.json()["username"] == "viewer"


async def test_tampered_payload_is_refused(world: World) -> None:
    _, claims = _parts(world.tokens["viewer"])
    claims["sub"] = f"user:{world.users['admin'].id}"
    head, _, signature = world.tokens["viewer"].split(".")
    forged = f"{head}.{_b64(claims)}.{signature}"
    response = await world.client.get("/users", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_alg_none_is_refused(world: World) -> None:
    header, claims = _parts(world.tokens["admin"])
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': header['kid']})}.{_b64(claims)}."
    assert (await _me(world, unsigned)).status_code == 401
    lowercase = f"{_b64({'alg': 'None', 'kid': header['kid']})}.{_b64(claims)}."
    assert (await _me(world, lowercase)).status_code == 401


async def test_hs256_signed_with_the_public_key_is_refused(world: World) -> None:
    header, claims = _parts(world.tokens["admin"])
    public_pem = world.platform.keys.signing.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Signed by hand: PyJWT itself refuses to use a PEM key as an HMAC secret.
    signing_input = f"{_b64({'alg': 'HS256', 'kid': header['kid']})}.{_b64(claims)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    confused = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    assert (await _me(world, confused)).status_code == 401


async def test_a_foreign_key_is_refused(world: World) -> None:
    header, claims = _parts(world.tokens["admin"])
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    same_kid = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": header["kid"]})
    assert (await _me(world, same_kid)).status_code == 401
    other_kid = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "elsewhere"})
    assert (await _me(world, other_kid)).status_code == 401


async def test_wrong_audience_issuer_or_type_is_refused(world: World) -> None:
    key = world.platform.keys.signing
    _, claims = _parts(world.tokens["viewer"])
    for change in ({"aud": "someone-else"}, {"iss": "http://evil/realms/other"}, {"typ": "ID"}):
        token = jwt.encode(
            {**claims, **change}, key.private_key, algorithm="RS256", headers={"kid": key.kid}
        )
        assert (await _me(world, token)).status_code == 401, change


async def test_garbage_and_wrong_scheme_are_refused(world: World) -> None:
    for header in ("Bearer nonsense", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "Bearer "):
        response = await world.client.get("/auth/me", headers={"Authorization": header})
        assert response.status_code == 401, header


async def test_token_not_yet_valid_is_refused(world: World) -> None:
    user = world.users["viewer"]
    future = world.platform.tokens.for_user(
        user_id=user.id,
        username=user.username,
        email=user.email,
        grants=(),
        telemetry_level=1,
        iss=ISS,
        now=datetime.now(UTC) + timedelta(hours=1),
    )
    assert (await _me(world, future)).status_code == 401


async def test_a_revoked_client_is_refused_at_once(world: World) -> None:
    headers = world.auth("client_partner")
    assert (await world.client.get("/events", headers=headers)).status_code == 200
    async with world.platform.db_factory() as db:
        await clients.revoke(db, world.secrets["partner"][0])
    assert (await world.client.get("/events", headers=headers)).status_code == 401


async def test_a_new_role_takes_effect_at_once(world: World) -> None:
    headers = world.auth("viewer")
    assert (await world.client.get("/users", headers=headers)).status_code == 403
    granted = await world.client.post(
        f"/users/{world.users['viewer'].id}/roles",
        json={"role": "admin"},
        headers=world.auth("admin"),
    )
    assert granted.status_code == 200
    assert granted.json()["roles"] == ["admin", "viewer"]
    assert (await world.client.get("/users", headers=headers)).status_code == 200


async def test_user_token_claims(world: World) -> None:
    header, claims = _parts(world.tokens["organizer"])
    assert header["alg"] == "RS256"
    assert header["kid"] == world.platform.keys.signing.kid
    assert claims["iss"] == ISS
    assert claims["sub"] == f"user:{world.users['organizer'].id}"
    assert claims["realm_access"]["roles"] == ["organizer", "viewer"]
    assert claims["grants"] == [
        {"role": "organizer", "organization_id": world.ids["org_a"], "event_id": None}
    ]
    assert claims["level"] == 1
    assert claims["exp"] - claims["iat"] == world.platform.settings.access_token_ttl_s
