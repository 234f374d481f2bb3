"""The OpenAPI document tells the truth: one error body, and on every operation the statuses
its dependencies and handler can answer with.

A dependency (or a handler) names what it may refuse with ``@raises(401, 403, …)``; the
document walks each route's dependency tree and declares the union, so a new route that uses
``CurrentPrincipal``, ``ReadableEvent``, ``Writer`` … is documented with no extra work.
Statuses that follow from the route's shape are added too: 422 for any parameter or body, 400
and 413 for a body, 404 for an id in the path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field
from starlette.routing import BaseRoute

F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "__trackside_raises__"
ANONYMOUS = "__trackside_anonymous__"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

REASONS = {
    400: "Malformed request (e.g. a body that is not JSON).",
    401: "No bearer token, or one that is expired or invalid.",
    403: "The caller's roles do not allow this.",
    404: "A resource named in the request does not exist.",
    409: "The change conflicts with what is stored.",
    413: "The request body is larger than the server accepts.",
    422: "A parameter or the body is invalid; `errors` says which and why.",
    429: "Too many requests; retry after `Retry-After` seconds.",
}
HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer challenge", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}},
}


class FieldError(BaseModel):
    """One thing wrong with a request: where, which field, what."""

    location: str = Field(description="body, query, path, header, or request.")
    field: str = Field(description="The field's path, dotted.")
    message: str
    type: str = Field(description="A machine-readable kind (pydantic's error type).")


class Problem(BaseModel):
    """Every error the API answers with (a 500 is a bug, and has this shape too)."""

    detail: str
    errors: list[FieldError] | None = Field(
        default=None, description="For invalid input: each field that is wrong."
    )


def raises(*statuses: int) -> Callable[[F], F]:
    """Declare the refusals a dependency or handler may answer with (beyond its shape's)."""

    def mark(function: F) -> F:
        setattr(function, ATTRIBUTE, frozenset(statuses) | getattr(function, ATTRIBUTE, set()))
        return function

    return mark


def served_routes(routes: list[BaseRoute]) -> list[Any]:
    """Every route as served, through included routers (FastAPI ≥ 0.16x nests them)."""
    iterate = getattr(routing, "iter_route_contexts", None)
    return list(iterate(routes)) if iterate is not None else list(routes)


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for child in dependant.dependencies:
        yield from _dependants(child)


def route_statuses(route: Any) -> set[int]:
    """The error statuses ``route`` can answer with, from its dependencies and its shape."""
    found: set[int] = set()
    has_body = route.dependant.body_params != []
    for dependant in _dependants(route.dependant):
        found |= getattr(dependant.call, ATTRIBUTE, set())
        if dependant.path_params:
            found.add(404)
        if dependant.path_params or dependant.query_params or dependant.header_params:
            found.add(422)
        if dependant.cookie_params or dependant.body_params:
            found.add(422)
        has_body = has_body or dependant.body_params != []
    if has_body or (route.openapi_extra or {}).get("requestBody"):
        found |= {400, 413, 422}
    return found


def _route_class_attribute(route: Any, name: str, default: Any) -> Any:
    """``name`` of the route's class (through FastAPI's route contexts, which wrap it)."""
    for candidate in (route, getattr(route, "original_route", None), getattr(route, "route", None)):
        if candidate is not None and hasattr(candidate, name):
            return getattr(candidate, name)
    return default


def _route_class_statuses(route: Any, statuses: set[int]) -> set[int]:
    """A route class that refuses invalid input with another status (``invalid_status``:
    Django REST framework's and InfluxDB's 400) never answers the shape's 422."""
    invalid = _route_class_attribute(route, "invalid_status", 422)
    if invalid != 422 and 422 in statuses:
        statuses = (statuses - {422}) | {invalid}
    return statuses


def _anonymous_allowed(route: Any) -> bool:
    """Routes on ``OptionalPrincipal`` serve anonymous callers (public events' live data)."""
    calls = {dependant.call for dependant in _dependants(route.dependant)}
    return any(getattr(call, ANONYMOUS, False) for call in calls)


def anonymous(function: F) -> F:
    """Mark a dependency that lets a caller without a token through (documented so)."""
    setattr(function, ANONYMOUS, True)
    return function


def _error_response(status: int, schema: dict[str, Any] = PROBLEM_REF) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": REASONS.get(status, "Refused."),
        "content": {"application/json": {"schema": schema}},
    }
    if status in HEADERS:
        response["headers"] = HEADERS[status]
    return response


def _drop_fastapi_errors(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(Problem.model_json_schema(ref_template="#/components/schemas/{model}")["$defs"])
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    problem.pop("$defs", None)
    schemas["Problem"] = problem


def document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with every refusal declared as a :class:`Problem`."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    _drop_fastapi_errors(doc)
    for route in served_routes(app.routes):
        if getattr(route, "dependant", None) is None or not getattr(route, "include_in_schema", 0):
            continue
        operations = doc["paths"].get(route.path_format, {})
        declared = {int(status) for status in getattr(route, "responses", None) or {}}
        statuses = _route_class_statuses(route, route_statuses(route)) - declared
        schema = _route_class_attribute(route, "error_schema", PROBLEM_REF)
        open_to_all = _anonymous_allowed(route)
        for method in route.methods:
            operation = operations.get(method.lower())
            if operation is None:
                continue
            if open_to_all and operation.get("security"):
                operation["security"] = [*operation["security"], {}]
            responses = operation.setdefault("responses", {})
            if 422 not in statuses | declared:
                responses.pop("422", None)  # FastAPI's own, for a route that never answers it
            for status in sorted(statuses):
                responses[str(status)] = _error_response(status, schema)
            for status, response in responses.items():
                # A refusal declared with only a description has the route's error body.
                if status.isdigit() and int(status) >= 400 and "content" not in response:
                    response["content"] = {"application/json": {"schema": schema}}
    app.openapi_schema = doc
    return doc


def install(app: FastAPI) -> None:
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
