"""Who is writing or reading telemetry, bodies read under a cap, and InfluxDB-shaped errors.

Credentials come the ways telemetry clients send them: ``Authorization: Bearer`` or ``Token``
(an access token of an account, or an API token), HTTP Basic (any user name, the token as
password) and InfluxDB 1.x's ``?u=&p=``.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from trackside.accounts import principals, roles
from trackside.accounts.roles import Principal
from trackside.accounts.tokens import InvalidToken
from trackside.api.deps import DbDep, PlatformDep
from trackside.api.problems import RateLimited, Unauthorized
from trackside.errors import Forbidden, Invalid, NotFound, Unauthenticated
from trackside.telemetry import tokens
from trackside.telemetry.store import StoreUnavailable


class TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body larger than {limit} bytes")
        self.limit = limit


class BadBody(Exception):
    """A body that cannot be read (bad gzip, unknown encoding)."""


def credential(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.strip().partition(" ")
        scheme = scheme.lower()
        value = value.strip()
        if scheme in ("bearer", "token"):
            return value or None
        if scheme == "basic":
            try:
                decoded = base64.b64decode(value, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
            return decoded.partition(":")[2] or None
        return None
    return request.query_params.get("p") or None


async def get_principal(request: Request, platform: PlatformDep, db: DbDep) -> Principal:
    token = credential(request)
    if token is None:
        raise Unauthorized(
            "send a token: Authorization: Bearer or Token <token>, HTTP Basic, or ?u=&p=",
            error=None,
        )
    if tokens.is_api_token(token):
        try:
            return await tokens.principal_for(db, token)
        except Unauthenticated as exc:
            raise Unauthorized(exc.message) from None
    try:
        subject = await platform.tokens.verify(token)
    except InvalidToken as exc:
        raise Unauthorized(str(exc)) from None
    return await principals.load_principal(db, subject)


Reader = Annotated[Principal, Depends(get_principal)]


async def get_writer(principal: Reader, platform: PlatformDep) -> Principal:
    """A level-5 account (or its API token), within its rate limit."""
    if not roles.can_write_telemetry(principal):
        raise Forbidden(
            f"writing telemetry needs level {roles.TELEMETRY_WRITE_LEVEL}; "
            f"this account has level {principal.telemetry_level}"
        )
    settings = platform.settings
    retry = await platform.limiter.hit(
        f"telemetry:{principal.kind}:{principal.id}",
        settings.telemetry_rate_limit,
        settings.rate_limit_window_s,
    )
    if retry is not None:
        raise RateLimited(retry)
    return principal


Writer = Annotated[Principal, Depends(get_writer)]


def user_only(principal: Principal) -> Principal:
    if not principal.is_user:
        raise Forbidden("API tokens belong to accounts, not machine clients")
    return principal


async def read_body(request: Request, limit: int) -> bytes:
    """The body, gunzipped if sent so; TooLarge past ``limit`` bytes (either side of gzip)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise BadBody(f"Content-Encoding {encoding!r} is not supported (use gzip)")
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflate.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadBody(f"body is not valid gzip: {exc}") from None
    if len(out) > limit or inflate.unconsumed_tail:
        raise TooLarge(limit)
    if not inflate.eof:
        raise BadBody("gzip body is truncated")
    return out


# --- errors in InfluxDB's shape ------------------------------------------------------------------


def influx_error(
    status: int,
    code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """v2's ``{code, message}``, v1's ``{error}``, and the ``detail`` every trackside error has."""
    body = {"code": code, "message": message, "error": message, "detail": message, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def as_influx_error(exc: Exception) -> JSONResponse | None:
    if isinstance(exc, Unauthorized):
        return influx_error(
            401, "unauthorized", exc.detail, headers={"WWW-Authenticate": exc.challenge}
        )
    if isinstance(exc, Unauthenticated):
        return influx_error(
            401, "unauthorized", exc.message, headers={"WWW-Authenticate": "Bearer"}
        )
    if isinstance(exc, Forbidden):
        return influx_error(403, "forbidden", exc.message)
    if isinstance(exc, RateLimited):
        return influx_error(
            429,
            "too many requests",
            f"too many requests; retry in {exc.retry_after} s",
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, TooLarge):
        return influx_error(413, "request too large", str(exc), maxLength=exc.limit)
    if isinstance(exc, BadBody):
        return influx_error(400, "invalid", str(exc))
    if isinstance(exc, Invalid):
        return influx_error(400, "invalid", f"{exc.field}: {exc.message}")
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return influx_error(400, "invalid", f"{where}: {first.get('msg', 'invalid')}")
    if isinstance(exc, NotFound):
        return influx_error(404, "not found", exc.message)
    if isinstance(exc, StoreUnavailable):
        return influx_error(503, "unavailable", str(exc), headers={"Retry-After": "5"})
    return None


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


# InfluxDB's error body: v2's code and message, v1's error, and trackside's detail (a body
# refused by the server's size limit before the route carries only ``detail``).
INFLUX_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "error": {"type": "string"},
        "detail": {"type": "string"},
    },
    "required": ["detail"],
}


class InfluxRoute(APIRoute):
    """A route whose every refusal is answered in InfluxDB's error shape (invalid input is
    400, never 422); ``trackside.api.openapi`` documents it so."""

    invalid_status = 400
    error_schema = INFLUX_ERROR_SCHEMA

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                response = as_influx_error(exc)
                if response is None:
                    raise
                return response

        return run


class TelemetryRoute(APIRoute):
    """trackside's own error shape, plus the store's and the body's refusals."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except TooLarge as exc:
                return JSONResponse({"detail": str(exc)}, status_code=413)
            except BadBody as exc:
                return JSONResponse({"detail": str(exc)}, status_code=400)
            except StoreUnavailable as exc:
                return JSONResponse(
                    {"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"}
                )

        return run


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No token, or an expired or unknown one"},
    403: {"description": "The account's level is below 5"},
    429: {"description": "Rate limited per account (see Retry-After)"},
    503: {"description": "The telemetry store is unavailable"},
}
