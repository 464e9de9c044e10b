"""CSRF protection for HTML forms and the pages' JSON calls: a per-session token, checked on
every form post (`csrf_token` field) and every signed-in JSON write (`X-CSRF-Token`).

Signed in, the token is derived from the session's own token (an HMAC with the server secret),
so the cookie carries nothing but the session token and a new session has a new CSRF token.
Before sign-in (the sign-in form), it is a random value kept in the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

from hxpulse.errors import Forbidden

EXPIRED = "the form has expired or was not sent from HX Pulse: reload and retry"


def _derived(request: Request, session_token: str) -> str:
    secret: str = request.app.state.secret
    mac = hmac.new(secret.encode(), f"csrf:{session_token}".encode(), hashlib.sha256)
    return mac.hexdigest()[:40]


def _expected(request: Request) -> str | None:
    session_token = request.session.get("sid")
    if isinstance(session_token, str):
        return _derived(request, session_token)
    value = request.session.get("csrf")
    return value if isinstance(value, str) else None


def token(request: Request) -> str:
    """Return the session's CSRF token, creating one for a visitor not signed in."""
    expected = _expected(request)
    if expected is None:
        expected = secrets.token_urlsafe(24)
        request.session["csrf"] = expected
    return expected


def check(request: Request, submitted: str | None) -> None:
    """Refuse a form whose token does not match the session's."""
    expected = _expected(request)
    if expected is None or not submitted:
        raise Forbidden(EXPIRED)
    if not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise Forbidden(EXPIRED)
