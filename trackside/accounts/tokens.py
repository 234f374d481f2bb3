"""Signed access tokens (RS256 JWTs in the Keycloak shape) for accounts and machine clients."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from trackside.accounts.keys import ALGORITHM, KeyRing
from trackside.accounts.roles import Grant
from trackside.config import Settings

USER_PREFIX = "user:"
CLIENT_PREFIX = "client:"


class InvalidToken(Exception):
    """The token is missing, malformed, expired, tampered with or not ours."""


@dataclass(frozen=True, slots=True)
class TokenSubject:
    """Who a verified token names; the caller re-reads that account's current roles."""

    kind: str  # "user" | "client"
    key: str  # user id or client_id
    claims: dict[str, Any]


def issuer(settings: Settings, base_url: str) -> str:
    base = (settings.public_url or base_url).rstrip("/")
    return f"{base}/realms/{settings.realm}"


def _grant_claims(grants: tuple[Grant, ...]) -> list[dict[str, Any]]:
    return [
        {"role": g.role.value, "organization_id": g.organization_id, "event_id": g.event_id}
        for g in grants
    ]


class TokenIssuer:
    def __init__(self, settings: Settings, keys: KeyRing) -> None:
        self._settings = settings
        self._keys = keys

    def _sign(self, claims: dict[str, Any], ttl_s: int, iss: str, now: datetime) -> str:
        body = {
            "iss": iss,
            "aud": self._settings.token_audience,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=ttl_s)).timestamp()),
            "jti": uuid.uuid4().hex,
            "typ": "Bearer",
            **claims,
        }
        key = self._keys.signing
        return jwt.encode(body, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})

    def for_user(
        self,
        *,
        user_id: int,
        username: str,
        email: str,
        grants: tuple[Grant, ...],
        telemetry_level: int,
        iss: str,
        now: datetime | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        roles = sorted({g.role.value for g in grants} | {"viewer"})
        claims = {
            "sub": f"{USER_PREFIX}{user_id}",
            "azp": self._settings.realm,
            "preferred_username": username,
            "email": email,
            "scope": "profile email",
            "realm_access": {"roles": roles},
            "grants": _grant_claims(grants),
            "level": telemetry_level,
            **(extra or {}),
        }
        return self._sign(claims, self._settings.access_token_ttl_s, iss, now or datetime.now(UTC))

    def for_client(
        self,
        *,
        client_id: str,
        grant: Grant,
        scope: str,
        client_address: str,
        iss: str,
        now: datetime | None = None,
    ) -> str:
        claims = {
            "sub": f"{CLIENT_PREFIX}{client_id}",
            "azp": client_id,
            "clientId": client_id,
            "clientHost": client_address,
            "clientAddress": client_address,
            "preferred_username": f"service-account-{client_id}",
            "scope": scope,
            "realm_access": {"roles": [grant.role.value]},
            "resource_access": {client_id: {"roles": [grant.role.value]}},
            "grants": _grant_claims((grant,)),
            "event_id": grant.event_id,
        }
        return self._sign(claims, self._settings.client_token_ttl_s, iss, now or datetime.now(UTC))

    async def verify(self, token: str) -> TokenSubject:
        """Check signature (RS256 only, never the header's choice), expiry, audience, issuer."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unsupported signing algorithm")
        kid = header.get("kid")
        key = await self._keys.find(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("unknown signing key")
        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[ALGORITHM],
                audience=self._settings.token_audience,
                leeway=self._settings.token_leeway_s,
                options={"require": ["exp", "iat", "iss", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("invalid token") from exc
        self._check_issuer(claims.get("iss"))
        if claims.get("typ") != "Bearer":
            raise InvalidToken("not an access token")
        sub = str(claims["sub"])
        if sub.startswith(USER_PREFIX):
            return TokenSubject("user", sub.removeprefix(USER_PREFIX), claims)
        if sub.startswith(CLIENT_PREFIX):
            return TokenSubject("client", sub.removeprefix(CLIENT_PREFIX), claims)
        raise InvalidToken("unknown subject")

    def _check_issuer(self, iss: object) -> None:
        realm_path = f"/realms/{self._settings.realm}"
        if self._settings.public_url:
            ok = iss == f"{self._settings.public_url.rstrip('/')}{realm_path}"
        else:  # issued under whatever host the client used; the signature proves it is ours
            ok = isinstance(iss, str) and iss.endswith(realm_path)
        if not ok:
            raise InvalidToken("wrong issuer")
