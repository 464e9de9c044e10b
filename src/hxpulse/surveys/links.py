"""Signed, expiring, single-use survey links: `/s/{token}`.

The token signs only the invitation's id (itsdangerous, with the server's secret and a salt of
its own, so a session cookie can never pass for a survey link). Expiry is checked against the
signature's time; single use against the invitation's `answered_at`.
"""

from __future__ import annotations

from typing import Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "hxpulse.survey-invitation"
Problem = Literal["forged", "expired"]


class LinkError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.problem: Problem = problem


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def token_for(secret: str, invitation_id: int) -> str:
    return _serializer(secret).dumps(invitation_id)


def read(secret: str, token: str, *, max_age_seconds: int) -> int:
    """The invitation id `token` was signed for; raises LinkError("forged" | "expired")."""
    try:
        value = _serializer(secret).loads(token, max_age=max_age_seconds)
    except SignatureExpired:
        raise LinkError("expired") from None
    except BadSignature:
        raise LinkError("forged") from None
    if not isinstance(value, int) or isinstance(value, bool):
        raise LinkError("forged")
    return value


def url_for(public_url: str, secret: str, invitation_id: int) -> str:
    return f"{public_url.rstrip('/')}/s/{token_for(secret, invitation_id)}"
