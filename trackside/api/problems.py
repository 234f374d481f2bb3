"""HTTP-level refusals raised by dependencies, and the JSON every error is answered with."""

from __future__ import annotations

import math


class Unauthorized(Exception):
    """401 with ``WWW-Authenticate: Bearer`` (``error="invalid_token"`` when one was sent)."""

    def __init__(self, detail: str, error: str | None = "invalid_token") -> None:
        super().__init__(detail)
        self.detail = detail
        self.error = error

    @property
    def challenge(self) -> str:
        if self.error is None:
            return 'Bearer realm="trackside"'
        return f'Bearer realm="trackside", error="{self.error}", error_description="{self.detail}"'


class RateLimited(Exception):
    """429 with ``Retry-After`` in whole seconds."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__("too many requests")
        self.retry_after = max(1, math.ceil(retry_after_s))
