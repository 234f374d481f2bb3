"""OAuth2 client credentials for machine clients, in Keycloak's shape (RFC 6749 §4.4).

Errors here use OAuth's own body, ``{"error", "error_description"}``, not the API's.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from trackside.accounts import clients
from trackside.accounts.principals import client_grant
from trackside.api.deps import DbDep, IssuerDep, PlatformDep, client_address
from trackside.api.openapi import raises
from trackside.api.problems import RateLimited
from trackside.errors import Unauthenticated
from trackside.platform import Platform

router = APIRouter(tags=["oauth2"])

SCOPES = frozenset({"profile", "email", "openid"})
DEFAULT_SCOPE = "profile email"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
TOKEN_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "client_id": {"type": "string"},
                        "client_secret": {"type": "string"},
                        "scope": {
                            "type": "string",
                            "pattern": r"^\s*((profile|email|openid)(\s+|$))*$",
                        },
                    },
                }
            }
        },
    }
}


class OAuthError(BaseModel):
    """RFC 6749 §5.2: what the token endpoint answers a refusal with."""

    error: str
    error_description: str


OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": OAuthError, "description": "Bad grant, scope or client authentication."},
    401: {"model": OAuthError, "description": "Unknown client or wrong secret."},
}


NO_REALM: dict[int | str, dict[str, Any]] = {
    404: {"model": OAuthError, "description": "No such realm."}
}


def _error(status: int, error: str, description: str, basic: bool = False) -> JSONResponse:
    headers = dict(NO_STORE)
    if basic:
        headers["WWW-Authenticate"] = 'Basic realm="trackside"'
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")  # present but unreadable: fails authentication below
    client_id, _, secret = decoded.partition(":")
    return unquote(client_id), unquote(secret)


async def _token(request: Request, platform: Platform, db: DbDep, iss: str):
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return _error(400, "invalid_request", "send application/x-www-form-urlencoded")
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    grant_type = fields.get("grant_type")
    if not grant_type:
        return _error(400, "invalid_request", "Missing form parameter: grant_type")
    if grant_type != "client_credentials":
        return _error(400, "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}")
    basic = _basic(request.headers.get("authorization"))
    posted = (fields.get("client_id"), fields.get("client_secret"))
    if basic is not None and posted[1] is not None:
        return _error(400, "invalid_request", "use one client authentication method, not two")
    client_id, secret = basic if basic is not None else posted
    if not client_id or secret is None:
        return _error(401, "invalid_client", "Invalid client or Invalid client credentials", True)
    requested = fields.get("scope", "").split()
    if any(scope not in SCOPES for scope in requested):
        return _error(400, "invalid_scope", "Invalid scopes: " + " ".join(requested))
    retry = await platform.limiter.hit(
        f"token:{client_address(request)}:{client_id}",
        platform.settings.login_rate_limit,
        platform.settings.rate_limit_window_s,
    )
    if retry is not None:
        raise RateLimited(retry)
    try:
        client = await clients.authenticate(db, client_id, secret)
    except Unauthenticated as exc:
        return _error(401, "invalid_client", exc.message, True)
    scope = " ".join(requested) if requested else DEFAULT_SCOPE
    access = platform.tokens.for_client(
        client_id=client.client_id,
        grant=client_grant(client),
        scope=scope,
        client_address=client_address(request),
        iss=iss,
    )
    body = {
        "access_token": access,
        "expires_in": platform.settings.client_token_ttl_s,
        "refresh_expires_in": 0,
        "token_type": "Bearer",
        "not-before-policy": 0,
        "scope": scope,
    }
    return JSONResponse(body, headers=NO_STORE)


@router.post(
    "/realms/{realm}/protocol/openid-connect/token",
    openapi_extra=TOKEN_FORM,
    responses={**OAUTH_ERRORS, **NO_REALM},
)
@raises(429)
async def realm_token(
    realm: str, request: Request, platform: PlatformDep, db: DbDep, iss: IssuerDep
) -> JSONResponse:
    """Client credentials → ``{access_token, expires_in, token_type, scope}``."""
    if realm != platform.settings.realm:
        return _error(404, "not_found", "Realm does not exist")
    return await _token(request, platform, db, iss)


@router.post("/oauth/token", openapi_extra=TOKEN_FORM, responses=OAUTH_ERRORS)
@raises(429)
async def oauth_token(
    request: Request, platform: PlatformDep, db: DbDep, iss: IssuerDep
) -> JSONResponse:
    """The same token endpoint at a realm-free path."""
    return await _token(request, platform, db, iss)


@router.get("/realms/{realm}/.well-known/openid-configuration", responses=NO_REALM)
async def discovery(realm: str, platform: PlatformDep, iss: IssuerDep) -> JSONResponse:
    """Where the token endpoint and keys are, for clients that discover them.

    Only what is served: client credentials at the token endpoint (secret in Basic or in the
    form). No authorization endpoint, so no response types; no ID tokens; no JWT client auth.
    """
    if realm != platform.settings.realm:
        return _error(404, "not_found", "Realm does not exist")
    return JSONResponse(
        {
            "issuer": iss,
            "token_endpoint": f"{iss}/protocol/openid-connect/token",
            "jwks_uri": f"{iss}/protocol/openid-connect/certs",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": sorted(SCOPES),
            "response_types_supported": [],
            "subject_types_supported": ["public"],
        }
    )


@router.get("/realms/{realm}/protocol/openid-connect/certs", responses=NO_REALM)
async def jwks(realm: str, platform: PlatformDep) -> JSONResponse:
    """The public keys that verify every token this server signs."""
    if realm != platform.settings.realm:
        return _error(404, "not_found", "Realm does not exist")
    return JSONResponse(platform.keys.jwks())
