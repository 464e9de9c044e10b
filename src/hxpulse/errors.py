"""Errors that carry their HTTP status; the web handler and the CLI render them."""

from __future__ import annotations

from typing import Any


class HXError(Exception):
    """Base error: a message for people, a machine code and an HTTP status."""

    status_code = 400
    code = "error"

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"success": False, "code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


class Invalid(HXError):
    status_code = 400
    code = "invalid"


class NotEnoughData(Invalid):
    """Too little data to fit a model: `hxpulse fit` alone skips that kind and goes on."""

    code = "not_enough_data"


class Unauthorized(HXError):
    status_code = 401
    code = "unauthorized"


class Forbidden(HXError):
    status_code = 403
    code = "forbidden"


class NotFound(HXError):
    status_code = 404
    code = "not_found"


class Conflict(HXError):
    status_code = 409
    code = "conflict"


class TooLarge(HXError):
    status_code = 413
    code = "too_large"


class TooManyRequests(HXError):
    """Refused for now: the client may retry after `retry_after` seconds (`Retry-After`)."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)
