"""Every refusal becomes a JSON body that says what is wrong and where; a 500 is a bug."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from trackside.api.openapi import served_routes
from trackside.api.problems import RateLimited, Unauthorized
from trackside.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError, Unauthenticated
from trackside.store import rows as records

log = logging.getLogger("trackside.api")

STATUS: dict[type[ServiceError], int] = {
    NotFound: 404,
    Conflict: 409,
    Unauthenticated: 401,
    Forbidden: 403,
    Invalid: 422,
}


def _field(loc: tuple[Any, ...] | list[Any]) -> tuple[str, str]:
    """``("body", "startDate")`` → ``("body", "startDate")``; the field path dotted."""
    location = str(loc[0]) if loc else "request"
    path = ".".join(str(part) for part in loc[1:]) or location
    return location, path


def _problem(status: int, detail: str, errors: list[dict[str, Any]] | None = None, **kw: Any):
    body: dict[str, Any] = {"detail": detail}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, **kw)


async def on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = []
    malformed = False
    for error in exc.errors():
        location, field = _field(error.get("loc", ()))
        malformed = malformed or error.get("type") == "json_invalid"
        errors.append(
            {
                "location": location,
                "field": field,
                "message": error.get("msg", "invalid"),
                "type": error.get("type", "invalid"),
            }
        )
    if malformed:
        first = errors[0]
        return _problem(400, f"malformed JSON body: {first['message']}", errors)
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return _problem(422, f"invalid request: {summary}", errors)


async def on_service_error(_: Request, exc: ServiceError) -> JSONResponse:
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    headers = {"WWW-Authenticate": 'Bearer realm="trackside"'} if status == 401 else None
    if isinstance(exc, Invalid):
        error = {"location": "body", "field": exc.field, "message": exc.message, "type": "value"}
        return _problem(status, f"invalid request: {exc.field}: {exc.message}", [error])
    if isinstance(exc, Conflict) and exc.field:
        error = {"location": "body", "field": exc.field, "message": exc.message, "type": "conflict"}
        return _problem(status, exc.message, [error])
    return _problem(status, exc.message, headers=headers)


async def on_unauthorized(_: Request, exc: Unauthorized) -> JSONResponse:
    return _problem(401, exc.detail, headers={"WWW-Authenticate": exc.challenge})


async def on_rate_limited(_: Request, exc: RateLimited) -> JSONResponse:
    return _problem(
        429,
        f"too many requests; retry in {exc.retry_after} s",
        headers={"Retry-After": str(exc.retry_after)},
    )


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in served_routes(request.app.router.routes):
        if getattr(route, "methods", None):
            match, _ = route.matches(request.scope)
            if match is not Match.NONE:
                methods |= route.methods
    return ", ".join(sorted(methods))


async def on_http(request: Request, exc: HTTPException) -> JSONResponse:
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": allowed_methods(request)}
    return _problem(exc.status_code, str(exc.detail), headers=headers)


async def on_integrity(request: Request, exc: IntegrityError) -> JSONResponse:
    """A constraint a service did not check first: still the client's clash, never a 500."""
    log.warning("constraint violated on %s %s", request.method, request.url.path)
    field = records.constraint_field(exc)
    message = "the change clashes with a stored record"
    if field is None:
        return _problem(409, message)
    error = {"location": "body", "field": field, "message": message, "type": "conflict"}
    return _problem(409, f"{message}: {field}", [error])


async def on_crash(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _problem(500, "internal server error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(ServiceError, on_service_error)  # type: ignore[arg-type]
    app.add_exception_handler(Unauthorized, on_unauthorized)  # type: ignore[arg-type]
    app.add_exception_handler(RateLimited, on_rate_limited)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, on_http)  # type: ignore[arg-type]
    app.add_exception_handler(IntegrityError, on_integrity)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, on_crash)
