"""CSRF protection for HTML forms: a per-session token, checked on every form post."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from hxpulse.errors import Forbidden


def token(request: Request) -> str:
    """Return the session's CSRF token, creating it on first use."""
    value = request.session.get("csrf")
    if not isinstance(value, str):
        value = secrets.token_urlsafe(24)
        request.session["csrf"] = value
    return value


def check(request: Request, submitted: str | None) -> None:
    """Refuse a form whose token does not match the session's."""
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not submitted:
        raise Forbidden("the form has expired or was not sent from HX Pulse: reload and retry")
    if not hmac.compare_digest(expected, submitted):
        raise Forbidden("the form has expired or was not sent from HX Pulse: reload and retry")
