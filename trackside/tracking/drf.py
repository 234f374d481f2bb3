"""Answering like Django REST framework: a route class whose refusals of bad input are 400
``{"field": ["message"]}`` (``non_field_errors`` for the body as a whole), the shape the seed's
clients (dj-rest-auth, the location reports) parse."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from trackside.errors import Invalid

NON_FIELD = "non_field_errors"

# What the 400 body is: each bad field with its messages, or (a body that is not JSON)
# DRF's ``{"detail": "JSON parse error"}``. Invalid input is never 422 on these routes.
BAD_REQUEST_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "minProperties": 1,
        },
        {
            "type": "object",
            "properties": {"detail": {"type": "string"}},
            "required": ["detail"],
        },
    ]
}
BAD_REQUEST: dict[int | str, dict[str, Any]] = {
    400: {
        "description": 'Bad input: `{"field": ["message"]}`, or `{"detail": …}` for bad JSON',
        "content": {"application/json": {"schema": BAD_REQUEST_SCHEMA}},
    }
}


def field_errors(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        path = location[1:] if location and location[0] in ("body", "query", "path") else location
        # A union's branch names ("float", "function-after[…]") are not fields.
        path = [part for part in path if not part.isdigit() and "[" not in part]
        name = path[0] if path else NON_FIELD
        if error.get("type") == "missing":
            message = "This field is required."
        else:
            message = str(error.get("msg", "Invalid value."))
        found.setdefault(name, [])
        if message not in found[name]:
            found[name].append(message)
    return found


def bad_request(errors: dict[str, list[str]]) -> JSONResponse:
    return JSONResponse(errors, status_code=400)


class DrfRoute(APIRoute):
    """Refuses invalid input with 400 (never 422), in the body :data:`BAD_REQUEST_SCHEMA`;
    ``trackside.api.openapi`` documents it so."""

    invalid_status = 400
    error_schema = BAD_REQUEST_SCHEMA

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                errors = list(exc.errors())
                if any(e.get("type") == "json_invalid" for e in errors):
                    return JSONResponse({"detail": "JSON parse error"}, status_code=400)
                return bad_request(field_errors(errors))
            except Invalid as exc:
                return bad_request({exc.field: [exc.message]})

        return run
