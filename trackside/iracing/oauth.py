"""iRacing's OAuth server: authorization code with PKCE (S256), refresh, the member's profile.

The client secret is sent masked in the form body, never as HTTP Basic:
``base64(SHA-256(secret + lower(trim(client_id))))``. Refresh tokens are single-use; the caller
persists the new pair before it uses the access token (``iracing.connections``).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

SCOPE = "iracing.auth iracing.profile"
VERIFIER_BYTES = 48  # 64 characters of base64url: inside RFC 7636's 43-128


def mask(secret: str, identity: str) -> str:
    """The masked form iRacing expects of a client secret (or a password)."""
    digest = hashlib.sha256((secret + identity.strip().lower()).encode("utf-8")).digest()
    return base64.b64encode(digest).decode("ascii")


def new_verifier() -> str:
    return secrets.token_urlsafe(VERIFIER_BYTES)


def challenge(verifier: str) -> str:
    """S256: base64url, no padding, of SHA-256(verifier)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    oauth_url: str, client_id: str, redirect_uri: str, state: str, verifier: str
) -> str:
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "code_challenge": challenge(verifier),
            "code_challenge_method": "S256",
            "state": state,
            "scope": SCOPE,
        }
    )
    return f"{oauth_url.rstrip('/')}/authorize?{query}"


class OAuthError(Exception):
    """The OAuth server refused (``code`` is RFC 6749's, e.g. ``invalid_grant``) or failed."""

    def __init__(self, code: str, description: str = "") -> None:
        super().__init__(f"{code}: {description}" if description else code)
        self.code = code
        self.description = description


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    expires_at: datetime
    refresh_token: str | None
    refresh_expires_at: datetime | None
    scope: str | None


def _tokens(body: dict[str, Any], now: datetime) -> Tokens:
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise OAuthError("invalid_response", "no access_token in the token response")
    expires_in = body.get("expires_in")
    lifetime = expires_in if isinstance(expires_in, int | float) and expires_in > 0 else 600
    refresh = body.get("refresh_token") if isinstance(body.get("refresh_token"), str) else None
    refresh_in = body.get("refresh_token_expires_in")
    return Tokens(
        access_token=access,
        expires_at=now + timedelta(seconds=lifetime),
        refresh_token=refresh or None,
        refresh_expires_at=(
            now + timedelta(seconds=refresh_in)
            if refresh and isinstance(refresh_in, int | float) and refresh_in > 0
            else None
        ),
        scope=body.get("scope") if isinstance(body.get("scope"), str) else None,
    )


class OAuthClient:
    """The token endpoint and the profile, over one shared ``httpx.AsyncClient``."""

    def __init__(
        self, http: httpx.AsyncClient, oauth_url: str, client_id: str, client_secret: str | None
    ) -> None:
        self._http = http
        self._url = oauth_url.rstrip("/")
        self._client_id = client_id
        self._secret = client_secret

    def _client_fields(self) -> dict[str, str]:
        fields = {"client_id": self._client_id}
        if self._secret:
            fields["client_secret"] = mask(self._secret, self._client_id)
        return fields

    async def _token(self, form: dict[str, str]) -> Tokens:
        now = datetime.now(UTC)
        try:
            response = await self._http.post(f"{self._url}/token", data=form)
        except httpx.HTTPError as exc:
            raise OAuthError("unreachable", f"iRacing's OAuth server: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200:
            code = body.get("error") if isinstance(body, dict) else None
            desc = body.get("error_description") if isinstance(body, dict) else None
            raise OAuthError(str(code or f"http_{response.status_code}"), str(desc or ""))
        if not isinstance(body, dict):
            raise OAuthError("invalid_response", "the token response is not a JSON object")
        return _tokens(body, now)

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> Tokens:
        return await self._token(
            {
                "grant_type": "authorization_code",
                **self._client_fields(),
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            }
        )

    async def refresh(self, refresh_token: str) -> Tokens:
        return await self._token(
            {"grant_type": "refresh_token", **self._client_fields(), "refresh_token": refresh_token}
        )

    async def profile(self, access_token: str) -> tuple[int, str | None]:
        """The member's customer id and name (scope ``iracing.profile``)."""
        try:
            response = await self._http.get(
                f"{self._url}/iracing/profile",
                headers={"Authorization": f"Bearer {access_token}"},
            )
        except httpx.HTTPError as exc:
            raise OAuthError("unreachable", f"iRacing's profile: {exc}") from exc
        if response.status_code != 200:
            raise OAuthError(f"http_{response.status_code}", "iRacing refused the profile")
        try:
            body = response.json()
            cust_id = int(body["iracing_cust_id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise OAuthError("invalid_response", "the profile has no iracing_cust_id") from exc
        name = body.get("iracing_name")
        return cust_id, str(name) if name else None
