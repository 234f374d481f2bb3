"""What a use case can refuse, independent of HTTP; the API maps each to a status."""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    """404: no such record."""


class Conflict(ServiceError):
    """409: the change clashes with what is stored (a taken name, a record in use).

    ``field`` names the request field that clashes, when one does, so a client can point at it.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Unauthenticated(ServiceError):
    """401: bad credentials or token."""


class Forbidden(ServiceError):
    """403: authenticated, but not allowed."""


class Invalid(ServiceError):
    """422: a well-formed request whose values do not fit (``field`` names which one)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
