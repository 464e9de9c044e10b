"""Signed, expiring links that carry one row id (`/s/{token}`, `/p/{token}`).

itsdangerous signs the id with the server's secret and a salt of the link's own, so a session
cookie, a survey link and a preference-centre link can never pass for one another. Expiry is
checked against the signature's time.
"""

from __future__ import annotations

from typing import Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

Problem = Literal["forged", "expired"]
MAX_TOKEN = 200  # longer than any token we sign: refused before any work


class LinkError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.problem: Problem = problem


def token_for(secret: str, salt: str, row_id: int) -> str:
    """The token for `row_id` under `salt`."""
    return URLSafeTimedSerializer(secret, salt=salt).dumps(row_id)


def read(secret: str, salt: str, token: str, *, max_age_seconds: int) -> int:
    """The id `token` was signed for under `salt`; raises LinkError("forged" | "expired")."""
    if len(token) > MAX_TOKEN:
        raise LinkError("forged")
    try:
        value = URLSafeTimedSerializer(secret, salt=salt).loads(token, max_age=max_age_seconds)
    except SignatureExpired:
        raise LinkError("expired") from None
    except BadSignature:
        raise LinkError("forged") from None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise LinkError("forged")
    return value
